//! Clusters from scored links, without chaining.
//!
//! Reviewers' confirmations are merged first. Then links are taken strongest
//! first; two clusters merge only if no pair across them is a cannot-link
//! (rejected by a reviewer, or named in one testimony) and the pairs across
//! them are alike on average. Single-link clustering would join A and C
//! because both resemble B a little; average linkage scores A against C.

use std::collections::HashSet;

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
        for link in ordered {
            let (ra, rb) = (find(&mut parent, link.a), find(&mut parent, link.b));
            if ra == rb {
                continue;
            }
            let (left, right) = (&members[ra as usize], &members[rb as usize]);
            let forbidden = left.iter().any(|&x| {
                right
                    .iter()
                    .any(|&y| cannot.contains(&(x.min(y), x.max(y))) || problem.groups.share(x, y))
            });
            if forbidden {
                clusters.refused_by_constraint += 1;
                continue;
            }
            if left.len() * right.len() > 1
                && !alike(problem, model, left, right, cluster_probability)
            {
                clusters.refused_as_chaining += 1;
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
/// reaches `threshold` and no pair is clearly two different people.
fn alike(
    problem: &Problem,
    model: &Model,
    left: &[RecordIndex],
    right: &[RecordIndex],
    threshold: f64,
) -> bool {
    let pairs = left.len() * right.len();
    // Large clusters: an evenly spread, deterministic sample of the pairs.
    let step = pairs.div_ceil(MAX_SCORED_ACROSS);
    let (mut sum, mut count) = (0.0, 0usize);
    for k in (0..pairs).step_by(step.max(1)) {
        let (x, y) = (left[k / right.len()], right[k % right.len()]);
        let p = probability(model.weight(problem.comparisons, x, y));
        if p < CLEARLY_DIFFERENT {
            return false;
        }
        sum += p;
        count += 1;
    }
    sum / count.max(1) as f64 >= threshold
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
