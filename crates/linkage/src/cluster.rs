//! Clusters from scored links, without chaining.
//!
//! Reviewers' confirmations are merged first. Then links are taken strongest
//! first; two clusters (single records too) merge only if no pair across them
//! is a cannot-link (rejected by a reviewer, or named in one testimony) and
//! the pairs across them are alike on average. Single-link clustering would
//! join A and C because both resemble B a little; average linkage scores A
//! against C. Clustering runs twice: the first round's cluster sizes say how
//! much likelier a record is to belong to a person already recorded often,
//! which the second round weighs in.

use std::collections::{HashMap, HashSet};

use crate::fellegi_sunter::{Model, probability};
use crate::{Problem, RecordIndex, ScoredPair};

/// A pair this unlikely to match keeps its clusters apart whatever the mean.
const CLEARLY_DIFFERENT: f64 = 0.01;

/// The pairs across two large clusters that are scored, at most.
const MAX_SCORED_ACROSS: usize = 256;

/// Cluster membership of every record.
#[derive(Debug, Clone)]
pub struct Clusters {
    parent: Vec<RecordIndex>,
    /// Links that were not followed because a constraint forbade the merge.
    pub refused_by_constraint: u64,
    /// Links that were not followed because the clusters were not alike on average.
    pub refused_as_chaining: u64,
}

impl Clusters {
    pub fn build(
        problem: &Problem,
        model: &Model,
        links: &[ScoredPair],
        cluster_probability: f64,
    ) -> Clusters {
        let first = Self::pass(problem, model, links, cluster_probability, &[]);
        let sizes = size_bits(&first);
        Self::pass(problem, model, links, cluster_probability, &sizes)
    }

    /// One round of merges; `size_bits[k]` is added to the weights of pairs
    /// joining a cluster of k records.
    fn pass(
        problem: &Problem,
        model: &Model,
        links: &[ScoredPair],
        cluster_probability: f64,
        size_bits: &[f64],
    ) -> Clusters {
        let n = problem.records;
        let mut parent: Vec<RecordIndex> = (0..n as RecordIndex).collect();
        let mut members: Vec<Vec<RecordIndex>> = (0..n as RecordIndex).map(|i| vec![i]).collect();
        let cannot: HashSet<(RecordIndex, RecordIndex)> = problem
            .cannot_link
            .iter()
            .map(|&(a, b)| (a.min(b), a.max(b)))
            .collect();
        let mut clusters = Clusters {
            parent: Vec::new(),
            refused_by_constraint: 0,
            refused_as_chaining: 0,
        };
        for &(a, b) in problem.must_link {
            union(&mut parent, &mut members, a, b);
        }
        let mut ordered: Vec<&ScoredPair> = links.iter().collect();
        ordered.sort_by(|x, y| {
            y.weight
                .total_cmp(&x.weight)
                .then((x.a, x.b).cmp(&(y.a, y.b)))
        });
        // Merges refused (and whether a constraint forbade them), by root and
        // size of both clusters: clusters only grow, so these name their
        // records, and other links across them would be refused again.
        let mut refused: HashMap<(RecordIndex, usize, RecordIndex, usize), bool> = HashMap::new();
        for link in ordered {
            let (ra, rb) = (find(&mut parent, link.a), find(&mut parent, link.b));
            if ra == rb {
                continue;
            }
            let (left, right) = (&members[ra as usize], &members[rb as usize]);
            let (l, r) = ((ra, left.len()), (rb, right.len()));
            let tried = if l < r {
                (l.0, l.1, r.0, r.1)
            } else {
                (r.0, r.1, l.0, l.1)
            };
            if let Some(&constraint) = refused.get(&tried) {
                if constraint {
                    clusters.refused_by_constraint += 1;
                } else {
                    clusters.refused_as_chaining += 1;
                }
                continue;
            }
            let forbidden = left.iter().any(|&x| {
                right
                    .iter()
                    .any(|&y| cannot.contains(&(x.min(y), x.max(y))) || problem.groups.share(x, y))
            });
            if forbidden {
                clusters.refused_by_constraint += 1;
                refused.insert(tried, true);
                continue;
            }
            if !alike(problem, model, left, right, cluster_probability, size_bits) {
                clusters.refused_as_chaining += 1;
                refused.insert(tried, false);
                continue;
            }
            union(&mut parent, &mut members, ra, rb);
        }
        for i in 0..n as RecordIndex {
            find(&mut parent, i);
        }
        clusters.parent = parent;
        clusters
    }

    /// The cluster of a record, named by one of its records.
    pub fn of(&self, record: RecordIndex) -> RecordIndex {
        self.parent[record as usize]
    }

    /// Cluster ids of all records.
    pub fn assignments(&self) -> &[RecordIndex] {
        &self.parent
    }

    /// Clusters of more than one record, each sorted, ordered by first member.
    pub fn groups(&self) -> Vec<Vec<RecordIndex>> {
        let mut by_root: std::collections::BTreeMap<RecordIndex, Vec<RecordIndex>> =
            Default::default();
        for (i, &root) in self.parent.iter().enumerate() {
            by_root.entry(root).or_default().push(i as RecordIndex);
        }
        let mut groups: Vec<Vec<RecordIndex>> =
            by_root.into_values().filter(|g| g.len() > 1).collect();
        groups.sort();
        groups
    }
}

/// Whether two clusters are alike: their pairs' mean match probability
/// reaches `threshold` and no pair is clearly two different people. Each
/// pair is weighed as one more record of the person of the larger cluster.
fn alike(
    problem: &Problem,
    model: &Model,
    left: &[RecordIndex],
    right: &[RecordIndex],
    threshold: f64,
    size_bits: &[f64],
) -> bool {
    let known = left.len().max(right.len());
    let bonus = size_bits.get(known).copied().unwrap_or(0.0);
    let pairs = left.len() * right.len();
    // Large clusters: an evenly spread, deterministic sample of the pairs.
    let step = pairs.div_ceil(MAX_SCORED_ACROSS).max(1);
    let samples = pairs.div_ceil(step);
    let (mut sum, mut count) = (0.0, 0usize);
    for k in (0..pairs).step_by(step) {
        // Stop once even certain matches in the rest could not lift the mean.
        if sum + ((samples - count) as f64) < threshold * samples as f64 {
            return false;
        }
        let (x, y) = (left[k / right.len()], right[k % right.len()]);
        let p = probability(model.weight_beside(problem.comparisons, x, y, known) + bonus);
        if p < CLEARLY_DIFFERENT {
            return false;
        }
        sum += p;
        count += 1;
    }
    sum / count.max(1) as f64 >= threshold
}

/// Per cluster size k, log2 of how much likelier a record is to be one more
/// record of a person already recorded k times than of a random record's
/// person: some persons are recorded far more often than others, and those
/// already found many times have more records left to find. Estimated from
/// the clusters of a first round as if they were the persons (record-weighted
/// mean of s - k over clusters of s >= k records, against that of s - 1).
fn size_bits(clusters: &Clusters) -> Vec<f64> {
    let mut size = vec![0usize; clusters.parent.len()];
    for &root in &clusters.parent {
        size[root as usize] += 1;
    }
    let largest = size.iter().copied().max().unwrap_or(0);
    // Per size s and above: records, and records times s.
    let (mut records, mut squares) = (vec![0.0; largest + 2], vec![0.0; largest + 2]);
    for &s in size.iter().filter(|&&s| s > 0) {
        records[s] += s as f64;
        squares[s] += (s * s) as f64;
    }
    for s in (0..=largest).rev() {
        records[s] += records[s + 1];
        squares[s] += squares[s + 1];
    }
    // Record-weighted mean of s - k over clusters of s >= k records.
    let remaining = |k: usize| {
        if records[k] > 0.0 {
            (squares[k] - k as f64 * records[k]) / records[k]
        } else {
            0.0
        }
    };
    let base = remaining(1);
    if base <= 0.0 {
        return Vec::new();
    }
    // Never below a single record's: a cluster as large as the largest of
    // the first round is not thereby complete.
    (0..=largest)
        .map(|k| (remaining(k.max(1)).max(base) / base).log2())
        .collect()
}

fn find(parent: &mut [RecordIndex], mut i: RecordIndex) -> RecordIndex {
    while parent[i as usize] != i {
        let grand = parent[parent[i as usize] as usize];
        parent[i as usize] = grand;
        i = grand;
    }
    i
}

fn union(
    parent: &mut [RecordIndex],
    members: &mut [Vec<RecordIndex>],
    a: RecordIndex,
    b: RecordIndex,
) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra == rb {
        return;
    }
    let (keep, gone) = if members[ra as usize].len() >= members[rb as usize].len() {
        (ra, rb)
    } else {
        (rb, ra)
    };
    parent[gone as usize] = keep;
    let moved = std::mem::take(&mut members[gone as usize]);
    members[keep as usize].extend(moved);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_found_often_has_more_records_left_to_find() {
        // Ten single records, five pairs and one cluster of ten.
        let mut parent: Vec<RecordIndex> = (0..10).collect();
        parent.extend((0..10).map(|i| 10 + i / 2 * 2));
        parent.extend([20; 10]);
        let clusters = Clusters {
            parent,
            refused_by_constraint: 0,
            refused_as_chaining: 0,
        };
        let bits = size_bits(&clusters);
        // Per record, 3 1/3 others of its person; beside a pair's, 4.
        assert_eq!(bits[1], 0.0);
        assert!(
            (bits[2] - (4.0f64 / (10.0 / 3.0)).log2()).abs() < 1e-9,
            "{bits:?}"
        );
        assert_eq!(bits[10], 0.0, "never below a single record's");
    }
}
