//! Quality of a linkage against ground truth: pairs completeness of the
//! blocking, pairwise and B-cubed precision, recall and F1 of the clusters.

use std::collections::HashMap;

use serde::Serialize;

use crate::RecordIndex;
use crate::blocking::{Candidates, Groups};

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Scores {
    fn new(precision: f64, recall: f64) -> Scores {
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Scores {
            precision,
            recall,
            f1,
        }
    }
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// The number of record pairs that truth says are the same entity.
pub fn true_pairs(truth: &[u32]) -> u64 {
    let mut sizes: HashMap<u32, u64> = HashMap::new();
    truth
        .iter()
        .for_each(|&t| *sizes.entry(t).or_default() += 1);
    sizes.values().map(|&s| pairs(s)).sum()
}

/// Share of true pairs that blocking made candidates.
pub fn pairs_completeness(candidates: &Candidates, groups: &Groups, truth: &[u32]) -> f64 {
    let found = candidates.fold(
        groups,
        || 0u64,
        |found, _, a, b| *found += u64::from(truth[a as usize] == truth[b as usize]),
        |x, y| x + y,
    );
    let all = true_pairs(truth);
    if all == 0 {
        1.0
    } else {
        found as f64 / all as f64
    }
}

/// Pairwise scores: the pairs inside predicted clusters against the pairs
/// inside true clusters.
pub fn pairwise(predicted: &[RecordIndex], truth: &[u32]) -> Scores {
    let mut cells: HashMap<(RecordIndex, u32), u64> = HashMap::new();
    let mut predicted_sizes: HashMap<RecordIndex, u64> = HashMap::new();
    for (&p, &t) in predicted.iter().zip(truth) {
        *cells.entry((p, t)).or_default() += 1;
        *predicted_sizes.entry(p).or_default() += 1;
    }
    let both: u64 = cells.values().map(|&c| pairs(c)).sum();
    let predicted_pairs: u64 = predicted_sizes.values().map(|&c| pairs(c)).sum();
    let true_pairs = true_pairs(truth);
    Scores::new(ratio(both, predicted_pairs), ratio(both, true_pairs))
}

/// B-cubed scores: per record, the share of its predicted cluster that is
/// truly its entity (precision) and of its entity that it was clustered with
/// (recall), averaged over records.
pub fn b_cubed(predicted: &[RecordIndex], truth: &[u32]) -> Scores {
    let mut cells: HashMap<(RecordIndex, u32), u64> = HashMap::new();
    let mut predicted_sizes: HashMap<RecordIndex, u64> = HashMap::new();
    let mut true_sizes: HashMap<u32, u64> = HashMap::new();
    for (&p, &t) in predicted.iter().zip(truth) {
        *cells.entry((p, t)).or_default() += 1;
        *predicted_sizes.entry(p).or_default() += 1;
        *true_sizes.entry(t).or_default() += 1;
    }
    let (mut precision, mut recall) = (0.0, 0.0);
    for (&(p, t), &shared) in &cells {
        let shared = shared as f64;
        // Each of the `shared` records contributes shared / size.
        precision += shared * shared / predicted_sizes[&p] as f64;
        recall += shared * shared / true_sizes[&t] as f64;
    }
    let n = predicted.len().max(1) as f64;
    Scores::new(precision / n, recall / n)
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_match_hand_computed_values() {
        // Truth: {0,1,2} {3,4}; predicted: {0,1} {2,3,4}.
        let truth = [0, 0, 0, 1, 1];
        let predicted = [0, 0, 2, 2, 2];
        let p = pairwise(&predicted, &truth);
        // Predicted pairs: 1 + 3 = 4, true pairs: 3 + 1 = 4, shared: (0,1), (3,4) = 2.
        assert_eq!((p.precision, p.recall), (0.5, 0.5));
        let b = b_cubed(&predicted, &truth);
        // Precision: 0,1 → 1; 2 → 1/3; 3,4 → 2/3 each: (2 + 1/3 + 4/3) / 5.
        assert!((b.precision - (2.0 + 1.0 / 3.0 + 4.0 / 3.0) / 5.0).abs() < 1e-12);
        // Recall: 0,1 → 2/3; 2 → 1/3; 3,4 → 1: (4/3 + 1/3 + 2) / 5.
        assert!((b.recall - (4.0 / 3.0 + 1.0 / 3.0 + 2.0) / 5.0).abs() < 1e-12);
        let perfect = b_cubed(&truth.map(|t| t as RecordIndex), &truth);
        assert_eq!(perfect.f1, 1.0);
    }
}
