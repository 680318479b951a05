//! The Fellegi-Sunter model: u from random pairs, m by expectation-
//! maximisation over candidate pairs, and match weights with term-frequency
//! adjustment.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::blocking::{BlockingReport, Candidates};
use crate::{Comparison, Problem, RecordIndex, ScoredPair, Settings};

/// Probabilities are kept away from 0 and 1 so no weight is infinite.
const FLOOR: f64 = 1e-6;

const INITIAL_LAMBDA: f64 = 1e-3;

/// A trained model: the prior and, per comparison and level, m and u.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    /// Prior probability that a candidate pair is a match.
    pub lambda: f64,
    /// Prior probability that two records drawn at random match: the prior
    /// that goes with u-probabilities measured on random pairs.
    pub random_match_probability: f64,
    pub comparisons: Vec<ComparisonParameters>,
    pub em_iterations_run: usize,
    /// Records in the data set, for the floor of term frequencies.
    pub records: usize,
    /// Whether weights of shared values are adjusted for how common they are
    /// (off where the data set is too small to know).
    #[serde(default = "yes")]
    pub term_frequencies: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ComparisonParameters {
    pub name: String,
    pub levels: Vec<String>,
    pub m: Vec<f64>,
    pub u: Vec<f64>,
}

/// Why a pair scored what it did: the weight of every comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Explanation {
    pub prior_weight: f64,
    pub parts: Vec<Part>,
    pub weight: f64,
    pub probability: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Part {
    pub comparison: String,
    pub level: String,
    pub weight: f64,
    /// Set when the weight was adjusted for how common the shared value is.
    pub term_frequency: Option<f64>,
}

/// Levels of one pair, four bits a comparison.
fn pattern(comparisons: &[Box<dyn Comparison>], a: RecordIndex, b: RecordIndex) -> u64 {
    comparisons.iter().enumerate().fold(0, |code, (i, c)| {
        code | (u64::from(c.level(a, b)) << (4 * i))
    })
}

fn level_in(code: u64, comparison: usize) -> usize {
    ((code >> (4 * comparison)) & 0xF) as usize
}

impl Model {
    /// Estimates u from random pairs, then m by one EM session per training
    /// rule (over that rule's pairs, for the comparisons the rule does not
    /// fix, averaged over sessions, as Splink does), then the prior over all
    /// candidates with m and u fixed.
    pub fn train(problem: &Problem, candidates: &Candidates, settings: &Settings) -> Model {
        assert!(
            problem.comparisons.len() <= 16,
            "patterns hold 16 comparisons"
        );
        let u = estimate_u(problem, settings);
        let mut model = Model {
            lambda: INITIAL_LAMBDA,
            random_match_probability: INITIAL_LAMBDA,
            comparisons: problem
                .comparisons
                .iter()
                .zip(u)
                .map(|(c, u)| {
                    let levels = c.levels();
                    // Start with agreement likely for matches, falling off per level.
                    let m = (0..levels.len())
                        .map(|l| if l == 0 { 1.0 } else { 0.1f64.powi(l as i32) })
                        .collect();
                    ComparisonParameters {
                        name: c.name().to_string(),
                        levels,
                        m,
                        u,
                    }
                })
                .collect(),
            em_iterations_run: 0,
            records: problem.records,
            term_frequencies: true,
        };
        model.normalise_m();
        // Sampling keeps training cheap on large data; the prior is scaled back up.
        let all_rules_sample = candidates.block_pairs() / settings.max_training_pairs.max(1) + 1;
        let count = |rule: Option<usize>| -> Vec<(u64, f64)> {
            let init = HashMap::<u64, u64>::new;
            let visit = |counts: &mut HashMap<u64, u64>, _, a, b| {
                *counts
                    .entry(pattern(problem.comparisons, a, b))
                    .or_default() += 1
            };
            let merge = |mut x: HashMap<u64, u64>, y: HashMap<u64, u64>| {
                for (code, count) in y {
                    *x.entry(code).or_default() += count;
                }
                x
            };
            let counts = match rule {
                Some(r) => {
                    let sample = candidates.rule_pairs(r) / settings.max_training_pairs.max(1) + 1;
                    candidates.fold_rule(r, sample as usize, problem.groups, init, visit, merge)
                }
                None => candidates.fold_sampled(
                    all_rules_sample as usize,
                    problem.groups,
                    init,
                    visit,
                    merge,
                ),
            };
            counts.into_iter().map(|(k, v)| (k, v as f64)).collect()
        };
        let comparisons = model.comparisons.len();
        let mut sums: Vec<Vec<f64>> = model
            .comparisons
            .iter()
            .map(|c| vec![0.0; c.m.len()])
            .collect();
        let mut sessions = vec![0usize; comparisons];
        for (r, rule) in problem
            .blocking
            .iter()
            .enumerate()
            .filter(|(_, r)| r.trains)
        {
            let patterns = count(Some(r));
            let active: Vec<bool> = (0..comparisons).map(|c| !rule.fixes.contains(&c)).collect();
            // Matches are rare among a rule's pairs; starting the prior high
            // lets EM take a common coincidence (a shared surname) for them.
            let mut session = Model {
                lambda: INITIAL_LAMBDA,
                ..model.clone()
            };
            for _ in 0..settings.em_iterations {
                model.em_iterations_run += 1;
                if session.em_step(&patterns, &active, true) < 1e-7 {
                    break;
                }
            }
            for c in (0..comparisons).filter(|&c| active[c]) {
                sums[c]
                    .iter_mut()
                    .zip(&session.comparisons[c].m)
                    .for_each(|(s, m)| *s += m);
                sessions[c] += 1;
            }
        }
        for ((c, sum), n) in model.comparisons.iter_mut().zip(sums).zip(sessions) {
            if n > 0 {
                c.m = sum.into_iter().map(|s| s / n as f64).collect();
            }
        }
        let everything = vec![true; comparisons];
        let patterns = count(None);
        for _ in 0..settings.em_iterations {
            if model.em_step(&patterns, &everything, false) < 1e-9 {
                break;
            }
        }
        let candidate_pairs: f64 =
            patterns.iter().map(|(_, count)| count).sum::<f64>() * all_rules_sample as f64;
        let n = problem.records as f64;
        let all_pairs = (n * (n - 1.0) / 2.0).max(1.0);
        model.random_match_probability =
            (model.lambda * candidate_pairs / all_pairs).clamp(FLOOR * FLOOR, 1.0 - FLOOR);
        model
    }

    /// A model trained elsewhere, for a data set of `records` records too
    /// small to train on: its own prior (each person recorded about twice)
    /// and no term-frequency adjustment.
    pub fn for_small_data(mut self, records: usize) -> Model {
        self.records = records;
        self.random_match_probability = (1.0 / records.max(2) as f64).min(0.5);
        self.term_frequencies = false;
        self
    }

    fn normalise_m(&mut self) {
        for c in &mut self.comparisons {
            let total: f64 = c.m[1..].iter().sum();
            for m in &mut c.m[1..] {
                *m = (*m / total).clamp(FLOOR, 1.0 - FLOOR);
            }
        }
    }

    /// One round of EM with u held fixed, over the `active` comparisons;
    /// updates the prior and (with `update_m`) m. Returns the largest change.
    fn em_step(&mut self, patterns: &[(u64, f64)], active: &[bool], update_m: bool) -> f64 {
        let mut expected_matches = 0.0;
        let mut total = 0.0;
        let mut m_counts: Vec<Vec<f64>> = self
            .comparisons
            .iter()
            .map(|c| vec![0.0; c.levels.len()])
            .collect();
        for &(code, count) in patterns {
            let (mut pm, mut pu) = (self.lambda, 1.0 - self.lambda);
            for (i, c) in self.comparisons.iter().enumerate() {
                let level = level_in(code, i);
                if level > 0 && active[i] {
                    pm *= c.m[level];
                    pu *= c.u[level];
                }
            }
            let posterior = pm / (pm + pu);
            expected_matches += posterior * count;
            total += count;
            for (i, counts) in m_counts.iter_mut().enumerate() {
                counts[level_in(code, i)] += posterior * count;
            }
        }
        let lambda = (expected_matches / total.max(1.0)).clamp(FLOOR, 1.0 - FLOOR);
        let mut change = (lambda - self.lambda).abs();
        self.lambda = lambda;
        if !update_m {
            return change;
        }
        for ((c, counts), _) in self
            .comparisons
            .iter_mut()
            .zip(m_counts)
            .zip(active)
            .filter(|(_, active)| **active)
        {
            let observed: f64 = counts[1..].iter().sum();
            if observed <= 0.0 {
                continue;
            }
            for (m, count) in c.m[1..].iter_mut().zip(&counts[1..]) {
                let updated = (count / observed).clamp(FLOOR, 1.0 - FLOOR);
                change = change.max((updated - *m).abs());
                *m = updated;
            }
        }
        change
    }

    fn prior_weight(&self) -> f64 {
        let p = self.random_match_probability;
        (p / (1.0 - p)).log2()
    }

    /// The weight of one comparison at one level, adjusted for term frequency.
    fn part_weight(&self, index: usize, level: usize, term_frequency: Option<f64>) -> f64 {
        if level == 0 {
            return 0.0;
        }
        let c = &self.comparisons[index];
        let u = match term_frequency.filter(|_| self.term_frequencies) {
            Some(tf) => tf.max(1.0 / self.records.max(1) as f64),
            None => c.u[level],
        };
        (c.m[level] / u).log2()
    }

    /// The match weight of a pair (log2 odds).
    pub fn weight(
        &self,
        comparisons: &[Box<dyn Comparison>],
        a: RecordIndex,
        b: RecordIndex,
    ) -> f64 {
        let mut weight = self.prior_weight();
        for (i, c) in comparisons.iter().enumerate() {
            let level = c.level(a, b);
            weight += self.part_weight(i, level as usize, c.term_frequency(a, level));
        }
        weight
    }

    pub fn explain(
        &self,
        comparisons: &[Box<dyn Comparison>],
        a: RecordIndex,
        b: RecordIndex,
    ) -> Explanation {
        let parts: Vec<Part> = comparisons
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let level = c.level(a, b);
                let term_frequency = c.term_frequency(a, level);
                let term_frequency = term_frequency.filter(|_| self.term_frequencies);
                Part {
                    comparison: c.name().to_string(),
                    level: self.comparisons[i].levels[level as usize].clone(),
                    weight: self.part_weight(i, level as usize, term_frequency),
                    term_frequency,
                }
            })
            .collect();
        let weight = self.prior_weight() + parts.iter().map(|p| p.weight).sum::<f64>();
        Explanation {
            prior_weight: self.prior_weight(),
            parts,
            weight,
            probability: probability(weight),
        }
    }

    /// Scores every candidate pair and keeps those at or above `threshold`.
    pub fn score_candidates(
        &self,
        problem: &Problem,
        candidates: &Candidates,
        threshold: f64,
    ) -> (Vec<ScoredPair>, BlockingReport) {
        let rules = candidates.rule_count();
        let (mut links, per_rule) = candidates.fold(
            problem.groups,
            || (Vec::new(), vec![0u64; rules]),
            |(links, per_rule), rule, a, b| {
                per_rule[rule] += 1;
                let weight = self.weight(problem.comparisons, a, b);
                let probability = probability(weight);
                if probability >= threshold {
                    links.push(ScoredPair {
                        a,
                        b,
                        weight,
                        probability,
                    });
                }
            },
            |(mut links, mut per_rule), (more, counts)| {
                links.extend(more);
                per_rule.iter_mut().zip(counts).for_each(|(x, y)| *x += y);
                (links, per_rule)
            },
        );
        links.sort_by_key(|link| (link.a, link.b));
        (links, candidates.report(&per_rule))
    }
}

pub fn probability(weight: f64) -> f64 {
    let odds = weight.exp2();
    if odds.is_infinite() {
        1.0
    } else {
        odds / (1.0 + odds)
    }
}

/// u-probabilities: level frequencies among random pairs, which are almost
/// all non-matches. Add-one smoothing keeps unseen levels possible.
fn estimate_u(problem: &Problem, settings: &Settings) -> Vec<Vec<f64>> {
    let n = problem.records as u64;
    let mut u: Vec<Vec<f64>> = problem
        .comparisons
        .iter()
        .map(|c| vec![0.0; c.levels().len()])
        .collect();
    if n < 2 {
        return u
            .into_iter()
            .map(|l| l.iter().map(|_| 0.5).collect())
            .collect();
    }
    let samples = (settings.u_sample as u64).min(n * (n - 1) / 2).max(1);
    let chunks = 64u64;
    let counts = (0..chunks)
        .into_par_iter()
        .map(|chunk| {
            let mut rng = ChaCha8Rng::seed_from_u64(settings.seed ^ (chunk << 32));
            let mut counts: Vec<Vec<u64>> = u.iter().map(|l| vec![0; l.len()]).collect();
            for _ in 0..samples.div_ceil(chunks) {
                let a = rng.random_range(0..n) as RecordIndex;
                let b = rng.random_range(0..n) as RecordIndex;
                if a == b {
                    continue;
                }
                for (c, comparison) in problem.comparisons.iter().enumerate() {
                    counts[c][comparison.level(a, b) as usize] += 1;
                }
            }
            counts
        })
        .reduce(
            || u.iter().map(|l| vec![0; l.len()]).collect(),
            |mut x, y| {
                for (xs, ys) in x.iter_mut().zip(y) {
                    xs.iter_mut().zip(ys).for_each(|(a, b)| *a += b);
                }
                x
            },
        );
    for (levels, counts) in u.iter_mut().zip(counts) {
        let observed: u64 = counts[1..].iter().sum();
        let slots = (levels.len() - 1) as f64;
        levels[0] = 1.0;
        for (l, count) in levels[1..].iter_mut().zip(&counts[1..]) {
            *l = ((*count as f64 + 1.0) / (observed as f64 + slots)).clamp(FLOOR, 1.0 - FLOOR);
        }
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocking::{BlockingRule, Groups};

    /// A comparison on a column of small numbers: equal, off by one, different.
    struct Near(Vec<i32>);

    impl Comparison for Near {
        fn name(&self) -> &str {
            "near"
        }
        fn levels(&self) -> Vec<String> {
            ["missing", "equal", "off by one", "different"]
                .map(String::from)
                .to_vec()
        }
        fn level(&self, a: RecordIndex, b: RecordIndex) -> u8 {
            match (self.0[a as usize] - self.0[b as usize]).abs() {
                0 => 1,
                1 => 2,
                _ => 3,
            }
        }
    }

    #[test]
    fn em_learns_that_agreement_means_a_match() {
        // 400 entities, each twice; two fields that agree for true pairs.
        let entity: Vec<i32> = (0..800).map(|i| i / 2).collect();
        let noisy: Vec<i32> = (0..800)
            .map(|i| (i / 2) * 7 % 1000 + (i % 2) * (i % 5 / 4))
            .collect();
        let comparisons: Vec<Box<dyn Comparison>> =
            vec![Box::new(Near(entity.clone())), Box::new(Near(noisy))];
        let rules = vec![
            BlockingRule::new("tens", move |i, keys| keys.push(u64::from(i / 20))).training(&[]),
        ];
        let groups = Groups::none(800);
        let problem = Problem {
            records: 800,
            comparisons: &comparisons,
            blocking: &rules,
            groups: &groups,
            must_link: &[],
            cannot_link: &[],
        };
        let settings = Settings::default();
        let candidates = Candidates::build(&problem, settings.max_block);
        let model = Model::train(&problem, &candidates, &settings);
        let near = &model.comparisons[0];
        assert!(near.m[1] > 0.9, "m for equal: {:?}", near.m);
        assert!(near.u[1] < 0.01, "u for equal: {:?}", near.u);
        // 400 matches among 19 * 10 * 40 = 7,600 candidate pairs.
        assert!(
            (model.lambda - 400.0 / 7600.0).abs() < 0.01,
            "{}",
            model.lambda
        );
        assert!(model.weight(&comparisons, 0, 1) > 5.0);
        assert!(model.weight(&comparisons, 0, 2) < -5.0);
        let explanation = model.explain(&comparisons, 0, 1);
        assert_eq!(explanation.parts[0].level, "equal");
        let sum: f64 =
            explanation.prior_weight + explanation.parts.iter().map(|p| p.weight).sum::<f64>();
        assert!((sum - explanation.weight).abs() < 1e-9);
    }
}
