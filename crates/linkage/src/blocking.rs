//! Candidate pairs from a union of blocking rules, streamed in parallel.
//!
//! Each rule gives every record zero or more keys; records that share a key
//! under some rule are a candidate pair. A pair is produced once: by the
//! first rule under which the two records share a key, and within that rule
//! by the smallest shared key. Pairs within one group are never produced.

use rayon::prelude::*;
use serde::Serialize;

use crate::{Problem, RecordIndex};

/// A blocking rule: a name for reports and the keys of a record.
pub struct BlockingRule {
    pub name: String,
    /// Comparisons that agree by construction on this rule's pairs. When the
    /// rule is used for training, their m is not estimated from its pairs.
    pub fixes: Vec<usize>,
    /// Whether m-probabilities are estimated from this rule's pairs.
    pub trains: bool,
    /// A rule for training only, too coarse to produce candidates.
    pub training_only: bool,
    /// Blocks larger than this are skipped (and reported), when smaller than
    /// the run's setting: for rules that only help where keys are rare.
    pub max_block: Option<usize>,
    #[allow(clippy::type_complexity)]
    pub keys: Box<dyn Fn(RecordIndex, &mut Vec<u64>) + Sync + Send>,
}

impl BlockingRule {
    pub fn new(
        name: impl Into<String>,
        keys: impl Fn(RecordIndex, &mut Vec<u64>) + Sync + Send + 'static,
    ) -> BlockingRule {
        BlockingRule {
            name: name.into(),
            fixes: Vec::new(),
            trains: false,
            training_only: false,
            max_block: None,
            keys: Box::new(keys),
        }
    }

    /// Marks the rule for training, naming the comparisons its keys fix.
    pub fn training(mut self, fixes: &[usize]) -> BlockingRule {
        self.fixes = fixes.to_vec();
        self.trains = true;
        self
    }

    /// Skips this rule's blocks larger than `records`.
    pub fn with_max_block(mut self, records: usize) -> BlockingRule {
        self.max_block = Some(records);
        self
    }

    /// Marks the rule for training only: it produces no candidates.
    pub fn training_only(self, fixes: &[usize]) -> BlockingRule {
        BlockingRule {
            training_only: true,
            ..self.training(fixes)
        }
    }
}

/// Small sets of numbers per record, stored flat (groups, keys).
#[derive(Debug, Clone, Default)]
pub struct Groups {
    offsets: Vec<u32>,
    members: Vec<u32>,
}

impl Groups {
    /// One sorted set per record.
    pub fn from_sets(sets: impl IntoIterator<Item = Vec<u32>>) -> Groups {
        let mut groups = Groups {
            offsets: vec![0],
            members: Vec::new(),
        };
        for mut set in sets {
            set.sort_unstable();
            set.dedup();
            groups.members.extend(set);
            groups.offsets.push(groups.members.len() as u32);
        }
        groups
    }

    /// No groups for `records` records.
    pub fn none(records: usize) -> Groups {
        Groups::from_sets((0..records).map(|_| Vec::new()))
    }

    pub fn of(&self, record: RecordIndex) -> &[u32] {
        let i = record as usize;
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&start), Some(&end)) => &self.members[start as usize..end as usize],
            _ => &[],
        }
    }

    /// Whether two records share a group.
    pub fn share(&self, a: RecordIndex, b: RecordIndex) -> bool {
        sorted_intersect(self.of(a), self.of(b))
    }
}

fn sorted_intersect<T: Ord>(a: &[T], b: &[T]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// The keys of one rule: sorted (key, record) entries and each record's keys.
struct RuleIndex {
    entries: Vec<(u32, RecordIndex)>,
    keys: Groups,
    /// Blocks as entry ranges, the oversized ones left out.
    blocks: Vec<(u32, u32)>,
    training_only: bool,
    skipped_blocks: u64,
    skipped_pairs: u64,
}

/// Candidate pairs of a problem, ready to be streamed.
pub struct Candidates {
    rules: Vec<RuleIndex>,
    names: Vec<String>,
    records: usize,
}

/// Per-rule counts of one pass over the candidates.
#[derive(Debug, Clone, Serialize)]
pub struct BlockingReport {
    pub rules: Vec<RuleReport>,
    pub candidate_pairs: u64,
    /// Share of all possible pairs that blocking avoided comparing.
    pub reduction_ratio: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleReport {
    pub rule: String,
    /// Pairs this rule produced that no earlier rule did.
    pub new_pairs: u64,
    pub skipped_blocks: u64,
    pub skipped_pairs: u64,
}

/// Keys are folded to 32 bits: a collision only merges two blocks.
fn fold_key(key: u64) -> u32 {
    (key ^ (key >> 32)) as u32
}

impl Candidates {
    pub fn build(problem: &Problem, max_block: usize) -> Candidates {
        let rules = problem
            .blocking
            .iter()
            .map(|rule| index_rule(rule, problem.records, max_block))
            .collect();
        Candidates {
            rules,
            names: problem.blocking.iter().map(|r| r.name.clone()).collect(),
            records: problem.records,
        }
    }

    /// Visits every candidate pair once, in parallel: `visit` folds pairs into
    /// a per-thread accumulator made by `init`, and `merge` joins them.
    pub fn fold<T: Send>(
        &self,
        groups: &Groups,
        init: impl Fn() -> T + Sync + Send,
        visit: impl Fn(&mut T, usize, RecordIndex, RecordIndex) + Sync + Send,
        merge: impl Fn(T, T) -> T + Sync + Send,
    ) -> T {
        self.fold_sampled(1, groups, init, visit, merge)
    }

    /// `fold`, telling `progress` the pairs of each block once it is visited
    /// (the units of [`crate::Stage::Scoring`], whose total is [`Self::block_pairs`]).
    pub fn fold_watched<T: Send>(
        &self,
        groups: &Groups,
        progress: &dyn crate::Progress,
        init: impl Fn() -> T + Sync + Send,
        visit: impl Fn(&mut T, usize, RecordIndex, RecordIndex) + Sync + Send,
        merge: impl Fn(T, T) -> T + Sync + Send,
    ) -> T {
        let work = self.candidate_blocks(1);
        self.fold_blocks(&work, groups, true, progress, init, visit, merge)
    }

    /// `fold` over every `sample`-th block of each rule: about 1/`sample` of
    /// the candidate pairs, for estimates on large data.
    pub fn fold_sampled<T: Send>(
        &self,
        sample: usize,
        groups: &Groups,
        init: impl Fn() -> T + Sync + Send,
        visit: impl Fn(&mut T, usize, RecordIndex, RecordIndex) + Sync + Send,
        merge: impl Fn(T, T) -> T + Sync + Send,
    ) -> T {
        let work = self.candidate_blocks(sample);
        self.fold_blocks(&work, groups, true, &crate::Unwatched, init, visit, merge)
    }

    /// Every `sample`-th block of each candidate rule, as (rule, start, end).
    fn candidate_blocks(&self, sample: usize) -> Vec<(usize, u32, u32)> {
        self.rules
            .iter()
            .enumerate()
            .filter(|(_, rule)| !rule.training_only)
            .flat_map(|(r, rule)| {
                rule.blocks
                    .iter()
                    .step_by(sample.max(1))
                    .map(move |&(s, e)| (r, s, e))
            })
            .collect()
    }

    /// Pairs in the blocks of all candidate rules, before removing pairs
    /// that several rules produce: an upper bound on the candidates.
    pub fn block_pairs(&self) -> u64 {
        (0..self.rules.len())
            .filter(|&r| !self.rules[r].training_only)
            .map(|r| self.rule_pairs(r))
            .sum()
    }

    /// Visits the pairs of one rule, whether or not earlier rules produced
    /// them, in every `sample`-th block (for training on large data).
    pub fn fold_rule<T: Send>(
        &self,
        rule: usize,
        sample: usize,
        groups: &Groups,
        init: impl Fn() -> T + Sync + Send,
        visit: impl Fn(&mut T, usize, RecordIndex, RecordIndex) + Sync + Send,
        merge: impl Fn(T, T) -> T + Sync + Send,
    ) -> T {
        let work: Vec<(usize, u32, u32)> = self.rules[rule]
            .blocks
            .iter()
            .step_by(sample.max(1))
            .map(|&(s, e)| (rule, s, e))
            .collect();
        self.fold_blocks(&work, groups, false, &crate::Unwatched, init, visit, merge)
    }

    /// Pairs in one rule's blocks, in total.
    pub fn rule_pairs(&self, rule: usize) -> u64 {
        self.rules[rule]
            .blocks
            .iter()
            .map(|&(s, e)| u64::from(e - s) * u64::from(e - s - 1) / 2)
            .sum()
    }

    // The fold's three closures are what rayon's fold takes, kept as they are.
    #[allow(clippy::too_many_arguments)]
    fn fold_blocks<T: Send>(
        &self,
        work: &[(usize, u32, u32)],
        groups: &Groups,
        across_rules: bool,
        progress: &dyn crate::Progress,
        init: impl Fn() -> T + Sync + Send,
        visit: impl Fn(&mut T, usize, RecordIndex, RecordIndex) + Sync + Send,
        merge: impl Fn(T, T) -> T + Sync + Send,
    ) -> T {
        work.par_iter()
            .with_min_len(64)
            .fold(&init, |mut acc, &(r, start, end)| {
                let rule = &self.rules[r];
                let block = &rule.entries[start as usize..end as usize];
                let key = block[0].0;
                for (i, &(_, a)) in block.iter().enumerate() {
                    for &(_, b) in &block[i + 1..] {
                        if self.produced_here(r, key, a, b, across_rules) && !groups.share(a, b) {
                            visit(&mut acc, r, a.min(b), a.max(b));
                        }
                    }
                }
                progress.advance(u64::from(end - start) * u64::from(end - start - 1) / 2);
                acc
            })
            .reduce(&init, merge)
    }

    /// Whether rule `r`'s block `key` is where pair (a, b) is produced:
    /// its smallest shared key under `r`, and (`across_rules`) no earlier
    /// rule shares a key.
    fn produced_here(
        &self,
        r: usize,
        key: u32,
        a: RecordIndex,
        b: RecordIndex,
        across_rules: bool,
    ) -> bool {
        let (ka, kb) = (self.rules[r].keys.of(a), self.rules[r].keys.of(b));
        let smallest_shared = ka.iter().find(|k| kb.binary_search(k).is_ok());
        if smallest_shared != Some(&key) {
            return false;
        }
        !across_rules
            || !self.rules[..r]
                .iter()
                .any(|earlier| !earlier.training_only && earlier.keys.share(a, b))
    }

    /// Counts pairs per rule and reports the reduction.
    pub fn report(&self, pairs_per_rule: &[u64]) -> BlockingReport {
        let candidate_pairs: u64 = pairs_per_rule.iter().sum();
        let n = self.records as f64;
        let all_pairs = (n * (n - 1.0) / 2.0).max(1.0);
        BlockingReport {
            rules: self
                .rules
                .iter()
                .zip(&self.names)
                .zip(pairs_per_rule)
                .filter(|((rule, _), _)| !rule.training_only)
                .map(|((rule, name), &new_pairs)| RuleReport {
                    rule: name.clone(),
                    new_pairs,
                    skipped_blocks: rule.skipped_blocks,
                    skipped_pairs: rule.skipped_pairs,
                })
                .collect(),
            candidate_pairs,
            reduction_ratio: 1.0 - candidate_pairs as f64 / all_pairs,
        }
    }

    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }
}

fn index_rule(rule: &BlockingRule, records: usize, max_block: usize) -> RuleIndex {
    let max_block = rule.max_block.map_or(max_block, |own| own.min(max_block));
    let keys: Vec<Vec<u32>> = (0..records as RecordIndex)
        .into_par_iter()
        .map_init(Vec::new, |scratch, record| {
            scratch.clear();
            (rule.keys)(record, scratch);
            let mut folded: Vec<u32> = scratch.iter().map(|&k| fold_key(k)).collect();
            folded.sort_unstable();
            folded.dedup();
            folded
        })
        .collect();
    let keys = Groups::from_sets(keys);
    let mut entries: Vec<(u32, RecordIndex)> = (0..records as RecordIndex)
        .flat_map(|record| keys.of(record).iter().map(move |&k| (k, record)))
        .collect();
    entries.par_sort_unstable();
    let mut blocks = Vec::new();
    let (mut skipped_blocks, mut skipped_pairs) = (0, 0);
    let mut start = 0;
    while start < entries.len() {
        let key = entries[start].0;
        let end = start + entries[start..].partition_point(|e| e.0 == key);
        let size = (end - start) as u64;
        if end - start > max_block {
            skipped_blocks += 1;
            skipped_pairs += size * (size - 1) / 2;
        } else if size > 1 {
            blocks.push((start as u32, end as u32));
        }
        start = end;
    }
    // Big blocks first, so the parallel pass ends evenly.
    blocks.sort_unstable_by_key(|&(s, e)| std::cmp::Reverse(e - s));
    RuleIndex {
        entries,
        keys,
        blocks,
        training_only: rule.training_only,
        skipped_blocks,
        skipped_pairs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Settings;

    #[test]
    fn each_pair_is_produced_once_and_groups_are_respected() {
        // Records 0..6; rule A keys by i % 2, rule B keys by i < 3.
        let rules = vec![
            BlockingRule::new("parity", |i, keys| keys.push(u64::from(i % 2))),
            BlockingRule::new("low", |i, keys| keys.push(u64::from(i < 3))),
        ];
        let groups =
            Groups::from_sets((0..6).map(|i| if i == 0 || i == 2 { vec![7] } else { vec![] }));
        let problem = Problem {
            records: 6,
            comparisons: &[],
            blocking: &rules,
            groups: &groups,
            must_link: &[],
            cannot_link: &[],
        };
        let candidates = Candidates::build(&problem, Settings::default().max_block);
        let mut pairs = candidates.fold(
            &groups,
            Vec::new,
            |acc: &mut Vec<(usize, u32, u32)>, r, a, b| acc.push((r, a, b)),
            |mut x, y| {
                x.extend(y);
                x
            },
        );
        pairs.sort();
        // parity: {0,2,4} minus (0,2) in one group, {1,3,5}; low: {0,1,2}
        // adds (0,1), (1,2), and {3,4,5} adds (3,4), (4,5) but not (3,5).
        assert_eq!(
            pairs,
            vec![
                (0, 0, 4),
                (0, 1, 3),
                (0, 1, 5),
                (0, 2, 4),
                (0, 3, 5),
                (1, 0, 1),
                (1, 1, 2),
                (1, 3, 4),
                (1, 4, 5)
            ]
        );
    }
}
