//! The capture-pattern table: counts of individuals by the set of lists
//! that recorded them.

/// Counts per capture pattern over `lists` lists. Pattern bit `j` (from the
/// left in text, "1010") is list `j`. The all-zero pattern is never observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureTable {
    pub lists: usize,
    /// (pattern, count), patterns non-zero and distinct.
    pub cells: Vec<(u32, u64)>,
    /// A name per list, leftmost first.
    pub names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("an estimate needs at least 3 lists; this table has {0}")]
    TooFewLists(usize),
    #[error("the table has no observed individuals")]
    Empty,
    #[error(
        "no individual is on more than one list: the lists say nothing about whom they all missed"
    )]
    NoOverlap,
    #[error("list '{0}' records no one: it cannot say anything about who was missed; leave it out")]
    EmptyList(String),
    #[error(
        "list '{0}' records every observed individual: the other lists never saw anyone it missed, \
         so nothing can be said about who all of them missed (if it is a census, its count is the answer)"
    )]
    CompleteList(String),
}

impl CaptureError {
    /// The same in Korean, for the pages that show it.
    pub fn korean(&self) -> String {
        match self {
            CaptureError::Line { line, message } => format!("{line}행: {message}"),
            CaptureError::TooFewLists(lists) => {
                format!("추정에는 목록이 3개 이상 필요합니다; 이 표에는 {lists}개가 있습니다")
            }
            CaptureError::Empty => "표에 관측된 사람이 없습니다".to_string(),
            CaptureError::NoOverlap => "두 목록 이상에 함께 있는 사람이 없습니다: \
                 목록들은 모두가 놓친 사람에 대해 아무것도 말해 주지 않습니다"
                .to_string(),
            CaptureError::EmptyList(name) => format!(
                "목록 '{name}'에 기록된 사람이 없습니다: 누가 빠졌는지 말해 줄 수 없으니 빼십시오"
            ),
            CaptureError::CompleteList(name) => format!(
                "목록 '{name}'에 관측된 모든 사람이 있습니다: 다른 목록들이 이 목록이 놓친 사람을 본 적이 없으므로 \
                 모두가 놓친 사람에 대해 말할 수 없습니다 (전수 조사라면 그 수가 답입니다)"
            ),
        }
    }
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
        let lists = lists.unwrap_or(0);
        let table = CaptureTable {
            lists,
            cells,
            names: (1..=lists).map(|j| format!("list {j}")).collect(),
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
        for j in 0..self.lists {
            let on: u64 = self
                .cells
                .iter()
                .filter(|(pattern, _)| self.on_list(*pattern, j))
                .map(|(_, count)| count)
                .sum();
            if on == 0 {
                return Err(CaptureError::EmptyList(self.names[j].clone()));
            }
            if on == self.observed() {
                return Err(CaptureError::CompleteList(self.names[j].clone()));
            }
        }
        if self
            .cells
            .iter()
            .all(|(pattern, count)| *count == 0 || pattern.count_ones() < 2)
        {
            return Err(CaptureError::NoOverlap);
        }
        Ok(())
    }

    /// The table of individuals given as the lists each is on (indices into
    /// `names`); individuals on no list are not observed and drop out.
    pub fn from_individuals<I>(names: Vec<String>, individuals: I) -> CaptureTable
    where
        I: IntoIterator,
        I::Item: IntoIterator<Item = usize>,
    {
        let lists = names.len();
        let mut counts: std::collections::BTreeMap<u32, u64> = Default::default();
        for on in individuals {
            let pattern = on
                .into_iter()
                .filter(|&j| j < lists)
                .fold(0u32, |bits, j| bits | 1 << (lists - 1 - j));
            if pattern != 0 {
                *counts.entry(pattern).or_default() += 1;
            }
        }
        CaptureTable {
            lists,
            cells: counts.into_iter().collect(),
            names,
        }
    }

    /// A simulated capture table: `size` individuals in latent classes
    /// (weight, then the probability of being on each list), captured
    /// independently given their class. For checking estimators on
    /// populations of known size.
    pub fn simulate(seed: u64, size: u64, classes: &[(f64, Vec<f64>)]) -> CaptureTable {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        let lists = classes.first().map_or(0, |(_, p)| p.len());
        let names = (1..=lists).map(|j| format!("list {j}")).collect();
        let individuals: Vec<Vec<usize>> = (0..size)
            .map(|_| {
                let mut pick: f64 = rng.random();
                let capture = classes
                    .iter()
                    .find(|(weight, _)| {
                        pick -= weight;
                        pick < 0.0
                    })
                    .or(classes.last())
                    .map(|(_, p)| p.as_slice())
                    .unwrap_or_default();
                (0..lists)
                    .filter(|&j| rng.random::<f64>() < capture[j])
                    .collect()
            })
            .collect();
        CaptureTable::from_individuals(names, individuals)
    }

    /// The table restricted to some lists (in the given order): individuals
    /// on none of them drop out.
    pub fn select(&self, lists: &[usize]) -> CaptureTable {
        let mut cells: Vec<(u32, u64)> = Vec::new();
        for &(pattern, count) in &self.cells {
            let projected = lists.iter().fold(0u32, |bits, &j| {
                bits << 1 | u32::from(self.on_list(pattern, j))
            });
            if projected == 0 {
                continue;
            }
            match cells.iter_mut().find(|(p, _)| *p == projected) {
                Some((_, c)) => *c += count,
                None => cells.push((projected, count)),
            }
        }
        CaptureTable {
            lists: lists.len(),
            cells,
            names: lists.iter().map(|&j| self.names[j].clone()).collect(),
        }
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
    fn individuals_make_a_table() {
        let names = vec!["A".to_string(), "B".to_string(), "C".to_string()];
        let table = CaptureTable::from_individuals(
            names,
            [vec![0], vec![0, 2], vec![2, 0], vec![1], vec![]],
        );
        assert_eq!(table.cells, [(0b010, 1), (0b100, 1), (0b101, 2)]);
        assert_eq!(table.observed(), 4);
        assert_eq!(table.select(&[0, 2]).cells, [(0b10, 1), (0b11, 2)]);
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
        assert_eq!(
            CaptureTable::parse("110\t3\n010\t4\n011\t2\n"),
            Err(CaptureError::CompleteList("list 2".into()))
        );
        assert_eq!(
            CaptureTable::parse("100\t3\n010\t4\n110\t2\n"),
            Err(CaptureError::EmptyList("list 3".into()))
        );
        assert_eq!(
            CaptureTable::parse("100\t3\n010\t4\n001\t2\n"),
            Err(CaptureError::NoOverlap)
        );
    }
}
