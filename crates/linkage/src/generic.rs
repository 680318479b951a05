//! Comparisons and blocking keys for plain text columns (FEBRL and other
//! tabular data): exact agreement with term frequencies, Jaro-Winkler
//! similarity levels, or edit-distance levels.

use std::collections::HashMap;

use crate::{Comparison, RecordIndex};

/// One column of text values, absent values as `None`.
pub struct Column {
    values: Vec<Option<Box<str>>>,
    frequency: HashMap<Box<str>, f64>,
}

impl Column {
    pub fn new(values: Vec<Option<String>>) -> Column {
        let values: Vec<Option<Box<str>>> = values
            .into_iter()
            .map(|v| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()))
            .map(|v| v.map(String::into_boxed_str))
            .collect();
        let mut counts: HashMap<Box<str>, f64> = HashMap::new();
        for value in values.iter().flatten() {
            *counts.entry(value.clone()).or_default() += 1.0;
        }
        let total = values.len().max(1) as f64;
        counts.values_mut().for_each(|c| *c /= total);
        Column {
            values,
            frequency: counts,
        }
    }

    pub fn get(&self, record: RecordIndex) -> Option<&str> {
        self.values.get(record as usize)?.as_deref()
    }

    /// A stable hash of the value, for blocking; `None` when absent.
    pub fn key(&self, record: RecordIndex) -> Option<u64> {
        self.get(record).map(stable_hash)
    }

    fn frequency(&self, record: RecordIndex) -> Option<f64> {
        self.get(record)
            .and_then(|v| self.frequency.get(v).copied())
    }
}

/// FNV-1a over bytes: the same on every machine and run.
pub fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// How close two different values are.
#[derive(Debug, Clone)]
pub enum Similarity {
    /// Levels at Jaro-Winkler similarity at or above each threshold.
    JaroWinkler(Vec<f64>),
    /// Levels at Damerau-Levenshtein distance at or below each bound.
    Edits(Vec<usize>),
}

/// Exact agreement (term-frequency adjusted), then similarity levels, then
/// "different".
pub struct TextComparison {
    name: String,
    column: Column,
    similarity: Similarity,
    term_frequencies: bool,
}

impl TextComparison {
    pub fn new(
        name: impl Into<String>,
        column: Column,
        similarity: Similarity,
        term_frequencies: bool,
    ) -> TextComparison {
        TextComparison {
            name: name.into(),
            column,
            similarity,
            term_frequencies,
        }
    }
}

impl Comparison for TextComparison {
    fn name(&self) -> &str {
        &self.name
    }

    fn levels(&self) -> Vec<String> {
        let mut levels = vec!["missing".to_string(), "exact".to_string()];
        match &self.similarity {
            Similarity::JaroWinkler(thresholds) => {
                levels.extend(thresholds.iter().map(|t| format!("jaro-winkler >= {t}")))
            }
            Similarity::Edits(bounds) => {
                levels.extend(bounds.iter().map(|b| format!("<= {b} edits")))
            }
        }
        levels.push("different".to_string());
        levels
    }

    fn level(&self, a: RecordIndex, b: RecordIndex) -> u8 {
        let (Some(x), Some(y)) = (self.column.get(a), self.column.get(b)) else {
            return 0;
        };
        if x == y {
            return 1;
        }
        let close = match &self.similarity {
            Similarity::JaroWinkler(thresholds) => {
                let similarity = strsim::jaro_winkler(x, y);
                thresholds.iter().position(|&t| similarity >= t)
            }
            Similarity::Edits(bounds) => {
                let distance = strsim::damerau_levenshtein(x, y);
                bounds.iter().position(|&b| distance <= b)
            }
        };
        let different = match &self.similarity {
            Similarity::JaroWinkler(t) => t.len(),
            Similarity::Edits(b) => b.len(),
        };
        2 + close.unwrap_or(different) as u8
    }

    // At level 1 both records hold the same value.
    fn term_frequency(
        &self,
        a: RecordIndex,
        _b: RecordIndex,
        level: u8,
        known: usize,
    ) -> Option<f64> {
        let own = known as f64 / self.column.values.len().max(1) as f64;
        (self.term_frequencies && level == 1)
            .then(|| self.column.frequency(a))
            .flatten()
            .map(|tf| tf - own)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_similarity() {
        let column = Column::new(
            ["smith", "smith", "smyth", "jones", ""]
                .map(|s| Some(s.to_string()))
                .to_vec(),
        );
        let names =
            TextComparison::new("surname", column, Similarity::JaroWinkler(vec![0.85]), true);
        assert_eq!(names.levels().len(), 4);
        assert_eq!(names.level(0, 1), 1);
        assert_eq!(names.level(0, 2), 2);
        assert_eq!(names.level(0, 3), 3);
        assert_eq!(names.level(0, 4), 0, "an empty value is missing");
        assert_eq!(names.term_frequency(0, 1, 1, 0), Some(0.4));
        assert_eq!(names.term_frequency(0, 2, 2, 0), None);
    }
}
