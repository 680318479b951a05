//! The Fellegi-Sunter model: u from random pairs, m by expectation-
//! maximisation over candidate pairs, and match weights with term-frequency
//! adjustment.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::blocking::{BlockingReport, Candidates};
use crate::{Comparison, Problem, RecordIndex, ScoredPair, Settings};

/// Probabilities are kept away from 0 and 1 so no weight is infinite.
pub(crate) const FLOOR: f64 = 1e-6;

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
pub(crate) fn pattern(comparisons: &[Box<dyn Comparison>], a: RecordIndex, b: RecordIndex) -> u64 {
    comparisons.iter().enumerate().fold(0, |code, (i, c)| {
        code | (u64::from(c.level(a, b)) << (4 * i))
    })
}

fn level_in(code: u64, comparison: usize) -> usize {
    ((code >> (4 * comparison)) & 0xF) as usize
}

impl Model {
    /// A model trained elsewhere, for a data set of `records` records too
    /// small to train on: its own prior (each person recorded about twice)
    /// and no term-frequency adjustment.
    pub fn for_small_data(mut self, records: usize) -> Model {
        self.records = records;
        self.random_match_probability = (1.0 / records.max(2) as f64).min(0.5);
        self.term_frequencies = false;
        self
    }

    /// One round of EM with u held fixed, over the `active` comparisons:
    /// updates the prior and m (drawn towards `prior`, per comparison
    /// pseudo-counts of matches at levels 1.. or none), keeping m ≥ u on
    /// agreement levels. Returns the largest change and, per comparison,
    /// the levels 1.. held at u.
    pub(crate) fn em_step(
        &mut self,
        patterns: &[(u64, f64)],
        active: &[bool],
        prior: &[Option<Vec<f64>>],
    ) -> (f64, Vec<Vec<bool>>) {
        let mut expected_matches = 0.0;
        let mut total = 0.0;
        let mut m_counts: Vec<Vec<f64>> = self
            .comparisons
            .iter()
            .map(|c| vec![0.0; c.levels.len()])
            .collect();
        for &(code, count) in patterns {
            let (pm, pu) = self.pattern_likelihoods(code, active);
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
        let mut held: Vec<Vec<bool>> = self
            .comparisons
            .iter()
            .map(|c| vec![false; c.levels.len() - 1])
            .collect();
        for (i, c) in self.comparisons.iter_mut().enumerate() {
            let counts = &m_counts[i];
            if !active[i] || counts[1..].iter().sum::<f64>() <= 0.0 {
                continue;
            }
            let weights: Vec<f64> = match &prior[i] {
                Some(pseudo) => counts[1..].iter().zip(pseudo).map(|(n, a)| n + a).collect(),
                None => counts[1..].to_vec(),
            };
            let (m, held_at_u) = crate::training::constrained_m(&weights, &c.u[1..]);
            for (old, new) in c.m[1..].iter_mut().zip(m) {
                change = change.max((new - *old).abs());
                *old = new;
            }
            held[i] = held_at_u;
        }
        (change, held)
    }

    /// The likelihood of a level pattern for a match and for a non-match,
    /// each times its prior, over the `active` comparisons.
    pub(crate) fn pattern_likelihoods(&self, code: u64, active: &[bool]) -> (f64, f64) {
        let (mut pm, mut pu) = (self.lambda, 1.0 - self.lambda);
        for (i, c) in self.comparisons.iter().enumerate() {
            let level = level_in(code, i);
            if level > 0 && active[i] {
                pm *= c.m[level];
                pu *= c.u[level];
            }
        }
        (pm, pu)
    }

    /// Log-likelihood of the patterns plus the log density of m under the
    /// prior (pseudo-counts per comparison): what EM climbs.
    pub(crate) fn objective(
        &self,
        patterns: &[(u64, f64)],
        active: &[bool],
        prior: &[Option<Vec<f64>>],
    ) -> f64 {
        let likelihood: f64 = patterns
            .iter()
            .map(|&(code, count)| {
                let (pm, pu) = self.pattern_likelihoods(code, active);
                count * (pm + pu).ln()
            })
            .sum();
        let density: f64 = self
            .comparisons
            .iter()
            .zip(prior)
            .zip(active)
            .filter(|(_, active)| **active)
            .filter_map(|((c, pseudo), _)| pseudo.as_ref().map(|p| (c, p)))
            .map(|(c, pseudo)| {
                c.m[1..]
                    .iter()
                    .zip(pseudo)
                    .map(|(m, a)| a * m.ln())
                    .sum::<f64>()
            })
            .sum();
        likelihood + density
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
        self.weight_beside(comparisons, a, b, 0)
    }

    /// The match weight of a pair when `known` records are already taken to
    /// be one of the two persons (see [`Comparison::term_frequency`]).
    pub fn weight_beside(
        &self,
        comparisons: &[Box<dyn Comparison>],
        a: RecordIndex,
        b: RecordIndex,
        known: usize,
    ) -> f64 {
        let mut weight = self.prior_weight();
        for (i, c) in comparisons.iter().enumerate() {
            let level = c.level(a, b);
            let tf = c.term_frequency(a, b, level, known);
            weight += self.part_weight(i, level as usize, tf);
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
                let term_frequency = c.term_frequency(a, b, level, 0);
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
        progress: &dyn crate::Progress,
    ) -> (Vec<ScoredPair>, BlockingReport) {
        let rules = candidates.rule_count();
        let (mut links, per_rule) = candidates.fold_watched(
            problem.groups,
            progress,
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
pub(crate) fn estimate_u(problem: &Problem, settings: &Settings) -> Vec<Vec<f64>> {
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
        let (model, report) = Model::train(&problem, &candidates, &settings, None)
            .expect("healthy data trains without a reference");
        assert!(report.fallbacks().next().is_none(), "{report:#?}");
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
