//! The capture-pattern table: counts of individuals by the set of lists
//! that recorded them.

/// Counts per capture pattern over `lists` lists. Pattern bit `j` (from the
/// left in text, "1010") is list `j`. The all-zero pattern is never observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureTable {
    pub lists: usize,
    /// (pattern, count), patterns non-zero and distinct.
    pub cells: Vec<(u32, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("an estimate needs at least 3 lists; this table has {0}")]
    TooFewLists(usize),
    #[error("the table has no observed individuals")]
    Empty,
}

impl CaptureTable {
    /// Reads `pattern<TAB>count` lines (a header line and `#` comments allowed).
    pub fn parse(text: &str) -> Result<CaptureTable, CaptureError> {
        let mut lists = None;
        let mut cells: Vec<(u32, u64)> = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line_number = index + 1;
            let fail = |message: String| CaptureError::Line {
                line: line_number,
                message,
            };
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("pattern") {
                continue;
            }
            let (pattern, count) = trimmed
                .split_once('\t')
                .ok_or_else(|| fail("expected pattern<TAB>count".into()))?;
            if pattern.is_empty()
                || pattern.len() > 20
                || !pattern.chars().all(|c| c == '0' || c == '1')
            {
                return Err(fail(format!(
                    "pattern '{pattern}' must be 1 to 20 digits 0 or 1"
                )));
            }
            match lists {
                None => lists = Some(pattern.len()),
                Some(n) if n != pattern.len() => {
                    return Err(fail(format!(
                        "pattern '{pattern}' has {} lists, earlier ones {n}",
                        pattern.len()
                    )));
                }
                Some(_) => {}
            }
            let bits = u32::from_str_radix(pattern, 2).map_err(|e| fail(e.to_string()))?;
            if bits == 0 {
                return Err(fail(
                    "the all-zero pattern is what is estimated; it cannot be observed".into(),
                ));
            }
            let count: u64 = count
                .trim()
                .parse()
                .map_err(|_| fail(format!("count '{}' is not a whole number", count.trim())))?;
            if cells.iter().any(|(p, _)| *p == bits) {
                return Err(fail(format!("pattern '{pattern}' appears twice")));
            }
            cells.push((bits, count));
        }
        let table = CaptureTable {
            lists: lists.unwrap_or(0),
            cells,
        };
        table.validate()?;
        Ok(table)
    }

    pub fn validate(&self) -> Result<(), CaptureError> {
        if self.lists < 3 {
            return Err(CaptureError::TooFewLists(self.lists));
        }
        if self.observed() == 0 {
            return Err(CaptureError::Empty);
        }
        Ok(())
    }

    /// Individuals on at least one list.
    pub fn observed(&self) -> u64 {
        self.cells.iter().map(|(_, c)| c).sum()
    }

    /// Whether list `j` (0 = leftmost) is in `pattern`.
    pub fn on_list(&self, pattern: u32, j: usize) -> bool {
        pattern >> (self.lists - 1 - j) & 1 == 1
    }
}

#[cfg(test)]
pub(crate) fn kosovo() -> CaptureTable {
    CaptureTable::parse(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/kosovo-1999.tsv"
    )))
    .expect("kosovo table")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kosovo_table_reads() {
        let table = kosovo();
        assert_eq!(table.lists, 4);
        assert_eq!(table.cells.len(), 15);
        assert_eq!(table.observed(), 4_400);
        assert!(table.on_list(0b1000, 0) && !table.on_list(0b1000, 3));
    }

    #[test]
    fn bad_tables_are_refused_with_the_line() {
        assert_eq!(
            CaptureTable::parse("01\t3\n10\t4\n"),
            Err(CaptureError::TooFewLists(2))
        );
        let error = CaptureTable::parse("011\t3\n0110\t4\n")
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("line 2"), "{error}");
        assert!(CaptureTable::parse("000\t3\n").is_err());
        assert!(CaptureTable::parse("011\tmany\n").is_err());
        assert_eq!(
            CaptureTable::parse("# nothing\n"),
            Err(CaptureError::TooFewLists(0))
        );
    }
}
