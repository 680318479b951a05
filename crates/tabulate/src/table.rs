//! One- and two-way tables of distinct victims (or acts, or cases).

use std::collections::{BTreeSet, HashMap};

use girok_model::{ConsentScope, Vocabularies};

use crate::ages::{AgeBands, OUTSIDE_BANDS, SPANS_BANDS};
use crate::dimension::{Dimension, OTHER_PERIOD, SPANS_YEARS, UNKNOWN};
use crate::disclosure;
use crate::facts::Facts;
use crate::filter::Filter;

/// What a cell counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Distinct victims (after linkage decisions): a victim of three arrests
    /// counts once in the arrest row.
    Victims,
    /// Act records.
    Acts,
    /// Cases: the events acts belong to (several victims of one arrest
    /// make one case); an act recorded without an event is a case of its
    /// own.
    Cases,
}

/// A table with margins. One-way tables have a single column and no
/// column dimension. Cells under a multi-valued dimension overlap, so cells
/// may add up to more than their total.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub rows: Dimension,
    pub columns: Option<Dimension>,
    pub unit: Unit,
    pub row_keys: Vec<String>,
    pub column_keys: Vec<String>,
    /// `cells[r][c]`: row `r`, column `c`.
    pub cells: Vec<Vec<Entry>>,
    pub row_totals: Vec<Entry>,
    pub column_totals: Vec<Entry>,
    pub total: Entry,
}

/// A count that disclosure control may have withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub count: u64,
    pub suppressed: bool,
}

impl Entry {
    fn new(count: u64) -> Entry {
        Entry {
            count,
            suppressed: false,
        }
    }

    /// The count as it may be shown.
    pub fn shown(&self) -> Option<u64> {
        (!self.suppressed).then_some(self.count)
    }
}

impl Table {
    /// Counts the facts that pass `filter` by one dimension, or by two
    /// (rows, columns), ages in `age_bands`.
    pub fn count(
        facts: &Facts,
        rows: Dimension,
        columns: Option<Dimension>,
        unit: Unit,
        filter: &Filter,
        vocabularies: &Vocabularies,
        age_bands: &AgeBands,
    ) -> Table {
        type Members<'a> = BTreeSet<&'a str>;
        let mut cells: HashMap<(String, String), Members> = HashMap::new();
        let mut by_row: HashMap<String, Members> = HashMap::new();
        let mut by_column: HashMap<String, Members> = HashMap::new();
        let mut all: Members = BTreeSet::new();
        for fact in facts
            .acts
            .iter()
            .filter(|f| filter.matches(f, vocabularies, age_bands))
        {
            let id = match unit {
                Unit::Victims => fact.victim.as_str(),
                Unit::Acts => fact.act.as_str(),
                // Ids are unique across kinds: an act's id is no event's.
                Unit::Cases => fact.event.as_ref().unwrap_or(&fact.act).as_str(),
            };
            all.insert(id);
            let row_values = rows.values(fact, vocabularies, age_bands);
            let column_values = match columns {
                Some(dimension) => dimension.values(fact, vocabularies, age_bands),
                None => vec![String::new()],
            };
            for row in &row_values {
                by_row.entry(row.clone()).or_default().insert(id);
                for column in &column_values {
                    cells
                        .entry((row.clone(), column.clone()))
                        .or_default()
                        .insert(id);
                }
            }
            for column in &column_values {
                by_column.entry(column.clone()).or_default().insert(id);
            }
        }
        let counts = |map: &HashMap<String, Members>| -> HashMap<String, u64> {
            map.iter()
                .map(|(k, v)| (k.clone(), v.len() as u64))
                .collect()
        };
        let (row_counts, column_counts) = (counts(&by_row), counts(&by_column));
        let row_keys = ordered(rows, &row_counts);
        let column_keys = match columns {
            Some(dimension) => ordered(dimension, &column_counts),
            None => vec![String::new()],
        };
        let cell = |r: &String, c: &String| {
            Entry::new(
                cells
                    .get(&(r.clone(), c.clone()))
                    .map_or(0, |m| m.len() as u64),
            )
        };
        Table {
            rows,
            columns,
            unit,
            cells: row_keys
                .iter()
                .map(|r| column_keys.iter().map(|c| cell(r, c)).collect())
                .collect(),
            row_totals: row_keys.iter().map(|r| Entry::new(row_counts[r])).collect(),
            column_totals: column_keys
                .iter()
                // A one-way table over no facts still has its one column.
                .map(|c| Entry::new(column_counts.get(c).copied().unwrap_or(0)))
                .collect(),
            total: Entry::new(all.len() as u64),
            row_keys,
            column_keys,
        }
    }

    /// Withholds counts below `threshold` and every count that would let a
    /// reader recover one from the others and the totals.
    pub fn suppress(&mut self, threshold: u64) {
        if self.columns.is_none() {
            let values: Vec<u64> = self.row_totals.iter().map(|e| e.count).collect();
            let (cells, total) = disclosure::suppress_line(&values, self.total.count, threshold);
            for (r, hidden) in cells.into_iter().enumerate() {
                self.cells[r][0].suppressed = hidden;
                self.row_totals[r].suppressed = hidden;
            }
            self.total.suppressed = total;
            self.column_totals[0].suppressed = total;
            return;
        }
        // The table with its margins: the last row holds the column totals,
        // the last column the row totals.
        let mut extended: Vec<Vec<u64>> = self
            .cells
            .iter()
            .zip(&self.row_totals)
            .map(|(row, total)| row.iter().map(|e| e.count).chain([total.count]).collect())
            .collect();
        extended.push(
            self.column_totals
                .iter()
                .map(|e| e.count)
                .chain([self.total.count])
                .collect(),
        );
        let hidden = disclosure::suppress_grid(&extended, threshold);
        let last_row = self.row_keys.len();
        let last_column = self.column_keys.len();
        for (r, row) in hidden.iter().enumerate() {
            for (c, &h) in row.iter().enumerate() {
                let entry = match (r == last_row, c == last_column) {
                    (false, false) => &mut self.cells[r][c],
                    (false, true) => &mut self.row_totals[r],
                    (true, false) => &mut self.column_totals[c],
                    (true, true) => &mut self.total,
                };
                entry.suppressed = h;
            }
        }
    }

    /// Puts the withheld rows of a one-way table ordered by count after the
    /// shown ones, in the order of their keys: a withheld count's place
    /// among counts largest first would bound it by its neighbours.
    pub fn order_withheld_rows_by_key(&mut self) {
        if self.rows.is_ordinal() || self.columns.is_some() {
            return;
        }
        let mut order: Vec<usize> = (0..self.row_keys.len()).collect();
        // Stable: shown rows keep their order, largest first.
        order.sort_by_key(|&r| {
            let withheld = self.row_totals[r].suppressed;
            let key = if withheld {
                self.row_keys[r].as_str()
            } else {
                ""
            };
            (rank(&self.row_keys[r]), withheld, key)
        });
        self.row_totals = order.iter().map(|&r| self.row_totals[r]).collect();
        self.cells = order.iter().map(|&r| self.cells[r].clone()).collect();
        self.row_keys = order.iter().map(|&r| self.row_keys[r].clone()).collect();
    }

    /// The table with disclosure control applied when a threshold is given.
    pub fn suppressed(mut self, threshold: Option<u64>) -> Table {
        if let Some(k) = threshold {
            self.suppress(k);
        }
        self
    }

    /// Percent of the table's total, unless the count is withheld.
    pub fn percent(&self, entry: &Entry) -> Option<f64> {
        let shown = entry.shown()?;
        Some(100.0 * shown as f64 / self.total.count.max(1) as f64)
    }
}

/// Keys in display order: ordinal dimensions by key, others largest first;
/// "spans years" (outside the named periods, ages across or outside the
/// bands) and "unknown" last.
fn ordered(dimension: Dimension, counts: &HashMap<String, u64>) -> Vec<String> {
    let mut keys: Vec<String> = counts.keys().cloned().collect();
    keys.sort_by(|a, b| {
        rank(a).cmp(&rank(b)).then_with(|| {
            if dimension == Dimension::Consent {
                let scope = |key: &str| ConsentScope::parse(key).map(|s| s as u8);
                scope(a).cmp(&scope(b))
            } else if dimension.is_ordinal() {
                natural(a).cmp(&natural(b))
            } else {
                counts[b].cmp(&counts[a]).then_with(|| a.cmp(b))
            }
        })
    });
    keys
}

/// Rows that are not a value come last: "spans years" and the like, then "unknown".
fn rank(key: &str) -> u8 {
    match key {
        UNKNOWN => 2,
        SPANS_YEARS | OTHER_PERIOD | SPANS_BANDS | OUTSIDE_BANDS => 1,
        _ => 0,
    }
}

/// Orders "9" before "10" and "60+" after "45-59".
fn natural(key: &str) -> (u64, String) {
    let digits: String = key.chars().take_while(char::is_ascii_digit).collect();
    (digits.parse().unwrap_or(u64::MAX), key.to_string())
}
