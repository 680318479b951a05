//! Training a Fellegi-Sunter model that cannot fail silently.
//!
//! m is estimated by EM once per training rule (a session), from several
//! starts, with two safeguards in the M-step: every agreement level keeps
//! m ≥ u (a level that is evidence against a match is no agreement), and
//! m is drawn towards a reference model (a Dirichlet prior with the
//! reference's m as its mean) where one is given. Each start is checked
//! (convergence, enough expected matches, a plausible prior, levels in
//! order of weight); the best start passing its checks is kept. A
//! comparison no session could estimate takes the reference's parameters,
//! and the report says so. Everything is in the [`TrainingReport`].

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::blocking::Candidates;
use crate::fellegi_sunter::{ComparisonParameters, FLOOR, Model, estimate_u, pattern};
use crate::{Problem, Settings};

/// EM has converged when no parameter moves more than this in an iteration.
/// On a million records EM creeps by less than 1e-4 an iteration long after
/// its estimates are settled (every start ends at the same prior to five
/// digits), and a tighter bound failed every session there.
const CONVERGED: f64 = 1e-4;
/// The reference model's m counts as this many matched pairs: enough to
/// steady a level few matches reach, far too few to outweigh the thousands
/// of matches of a data set that can support its own estimate.
const PRIOR_PAIRS: f64 = 50.0;
/// A session expecting fewer matches than this among its pairs has too
/// little to estimate m from.
const MIN_EXPECTED_MATCHES: f64 = 30.0;
/// The most other records of the same person a record can have on average.
/// Testimonies name a disappeared person a few times; a prior implying more
/// has taken a common coincidence (a shared surname, a shared birth year)
/// for a match.
const MAX_MATCHES_PER_RECORD: f64 = 5.0;
/// A weaker level may carry this many bits more weight than a stronger one
/// (noise on rare levels) before the levels count as out of order.
const ORDER_TOLERANCE_BITS: f64 = 1.0;
/// The prior EM starts from in a session: matches are rare among a rule's
/// pairs, and starting high lets EM take a common coincidence for them.
const INITIAL_LAMBDA: f64 = 1e-3;

/// Where EM started from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Start {
    /// The reference model's m.
    Reference,
    /// Agreement likely for matches, falling off tenfold per level.
    AgreementLikely,
    /// The agreement-likely start with every m scaled by a random factor.
    Perturbed,
}

impl std::fmt::Display for Start {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Start::Reference => "from the reference",
            Start::AgreementLikely => "from agreement likely",
            Start::Perturbed => "from a perturbed start",
        })
    }
}

/// A check a trained solution failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum Failure {
    /// EM was still moving when its iteration budget ran out.
    NotConverged { iterations: usize },
    /// Too few expected matches among the session's pairs to estimate m.
    TooFewMatches { expected: f64 },
    /// The prior implies more records of one person than is plausible.
    ImplausibleLambda {
        lambda: f64,
        matches_per_record: f64,
    },
    /// A weaker level of agreement carries more weight than a stronger one.
    LevelsOutOfOrder {
        comparison: String,
        level: String,
        stronger: String,
    },
}

/// One EM run of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartReport {
    pub start: Start,
    pub iterations: usize,
    pub converged: bool,
    pub lambda: f64,
    /// Log-likelihood of the session's pairs plus the log prior of m.
    pub objective: f64,
    /// Agreement levels whose m was held up at u (comparison, level).
    pub held_at_u: Vec<(String, String)>,
    pub failed: Vec<Failure>,
}

/// The EM session of one training rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionReport {
    pub rule: String,
    /// Candidate pairs of the rule, and how many of them EM saw.
    pub pairs: u64,
    pub sampled_pairs: u64,
    /// The comparisons the rule leaves free, which it trains.
    pub comparisons: Vec<String>,
    pub starts: Vec<StartReport>,
    /// The start whose estimates were used, if any passed its checks.
    pub chosen: Option<Start>,
}

/// Where a comparison's m came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum Source {
    /// Estimated from this data (averaged over the sessions that passed).
    Trained,
    /// The data could not support its own estimate; the reference's m and u.
    Reference { reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonReport {
    pub name: String,
    pub source: Source,
    /// Sessions that trained it, and those whose estimate was used.
    pub sessions: usize,
    pub sessions_used: usize,
    /// EM iterations of the chosen starts of the sessions used.
    pub iterations: usize,
    pub converged: bool,
    /// Levels whose m was held up at u in a session used.
    pub held_at_u: Vec<String>,
    /// Checks this comparison failed, in any session.
    pub failed: Vec<Failure>,
}

/// The prior, estimated with m and u fixed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorReport {
    /// Share of candidate pairs that match.
    pub lambda: f64,
    /// Other records of the same person a record has on average, as the
    /// prior implies.
    pub matches_per_record: f64,
    pub iterations: usize,
    pub converged: bool,
    /// Checks the estimate failed; if any, a prior of each person recorded
    /// about twice was used instead.
    pub failed: Vec<Failure>,
}

/// What training did: each session and start, where each comparison's
/// parameters came from, and the prior.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingReport {
    pub sessions: Vec<SessionReport>,
    pub comparisons: Vec<ComparisonReport>,
    pub prior: PriorReport,
}

impl TrainingReport {
    /// The comparisons that took the reference's parameters.
    pub fn fallbacks(&self) -> impl Iterator<Item = &ComparisonReport> {
        self.comparisons
            .iter()
            .filter(|c| matches!(c.source, Source::Reference { .. }))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TrainingError {
    #[error(
        "training failed its checks for {} and there is no reference model to fall back on",
        .comparisons.join(", ")
    )]
    Unsupported {
        comparisons: Vec<String>,
        report: Box<TrainingReport>,
    },
}

/// Sampled level patterns with their counts.
type Patterns = Vec<(u64, f64)>;

impl Model {
    /// Estimates u from random pairs, then m by EM sessions per training rule
    /// (over that rule's pairs, for the comparisons the rule does not fix,
    /// averaged over the sessions that pass their checks, as Splink averages
    /// them), then the prior over all candidates with m and u fixed.
    /// `reference` (same comparisons and levels) regularises m and stands in
    /// for what the data cannot estimate.
    pub fn train(
        problem: &Problem,
        candidates: &Candidates,
        settings: &Settings,
        reference: Option<&Model>,
    ) -> Result<(Model, TrainingReport), TrainingError> {
        assert!(
            problem.comparisons.len() <= 16,
            "patterns hold 16 comparisons"
        );
        let u = estimate_u(problem, settings);
        let model = Model {
            lambda: INITIAL_LAMBDA,
            random_match_probability: INITIAL_LAMBDA,
            comparisons: problem
                .comparisons
                .iter()
                .zip(u)
                .map(|(c, u)| {
                    let levels = c.levels();
                    let m = agreement_likely(levels.len());
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
        // The reference's parameters per comparison, where its levels match.
        let references: Vec<Option<&ComparisonParameters>> = model
            .comparisons
            .iter()
            .map(|c| {
                reference?
                    .comparisons
                    .iter()
                    .find(|r| r.name == c.name && r.levels == c.levels)
            })
            .collect();
        let mut trainer = Trainer {
            problem,
            candidates,
            settings,
            references,
            model,
        };
        let sessions: Vec<(SessionReport, SessionOutcome)> = (0..problem.blocking.len())
            .filter(|&r| problem.blocking[r].trains)
            .map(|r| trainer.session(r))
            .collect();
        trainer.finish(sessions)
    }
}

/// m for matches: agreement likely, falling off tenfold per level.
fn agreement_likely(levels: usize) -> Vec<f64> {
    let mut m: Vec<f64> = (0..levels).map(|l| 0.1f64.powi(l as i32)).collect();
    normalise(&mut m);
    m
}

/// Scales levels 1.. to sum to one (level 0, missing, stays 1).
fn normalise(m: &mut [f64]) {
    m[0] = 1.0;
    let total: f64 = m[1..].iter().sum();
    for m in &mut m[1..] {
        *m = (*m / total).clamp(FLOOR, 1.0 - FLOOR);
    }
}

/// The m over levels 1.. that best fits `weights` (expected matches plus
/// prior pseudo-counts) with m ≥ u on every agreement level (all but the
/// last): the levels held at u are set there and the rest share what is
/// left in proportion to their weights, until none is below its u. Returns
/// m and whether each level is held at u.
pub(crate) fn constrained_m(weights: &[f64], u: &[f64]) -> (Vec<f64>, Vec<bool>) {
    let levels = weights.len();
    let mut held = vec![false; levels];
    loop {
        let held_mass: f64 = (0..levels).filter(|&l| held[l]).map(|l| u[l]).sum();
        let free_weight: f64 = (0..levels).filter(|&l| !held[l]).map(|l| weights[l]).sum();
        let scale = (1.0 - held_mass).max(0.0) / free_weight.max(FLOOR);
        let m: Vec<f64> = (0..levels)
            .map(|l| if held[l] { u[l] } else { weights[l] * scale })
            .collect();
        let below: Vec<usize> = (0..levels - 1)
            .filter(|&l| !held[l] && m[l] < u[l])
            .collect();
        if below.is_empty() {
            let m = m.into_iter().map(|m| m.clamp(FLOOR, 1.0 - FLOOR)).collect();
            return (m, held);
        }
        below.into_iter().for_each(|l| held[l] = true);
    }
}

struct Trainer<'a> {
    problem: &'a Problem<'a>,
    candidates: &'a Candidates,
    settings: &'a Settings,
    references: Vec<Option<&'a ComparisonParameters>>,
    model: Model,
}

/// The outcome of one EM run.
struct Run {
    model: Model,
    report: StartReport,
    /// Per comparison: levels held at u at the end.
    held: Vec<Vec<bool>>,
}

impl Trainer<'_> {
    /// Level patterns of a rule's pairs (or of all candidates), sampled down
    /// to about `max_training_pairs`; the count of sampled pairs and the
    /// sampling step.
    fn patterns(&self, rule: Option<usize>) -> (Patterns, u64) {
        let limit = self.settings.max_training_pairs.max(1);
        let comparisons = self.problem.comparisons;
        let init = HashMap::<u64, u64>::new;
        let visit = |counts: &mut HashMap<u64, u64>, _, a, b| {
            *counts.entry(pattern(comparisons, a, b)).or_default() += 1
        };
        let merge = |mut x: HashMap<u64, u64>, y: HashMap<u64, u64>| {
            for (code, count) in y {
                *x.entry(code).or_default() += count;
            }
            x
        };
        let groups = self.problem.groups;
        let (counts, step) = match rule {
            Some(r) => {
                let step = self.candidates.rule_pairs(r) / limit + 1;
                let counts =
                    self.candidates
                        .fold_rule(r, step as usize, groups, init, visit, merge);
                (counts, step)
            }
            None => {
                let step = self.candidates.block_pairs() / limit + 1;
                let counts =
                    self.candidates
                        .fold_sampled(step as usize, groups, init, visit, merge);
                (counts, step)
            }
        };
        let patterns = counts.into_iter().map(|(k, v)| (k, v as f64)).collect();
        (patterns, step)
    }

    /// Prior pseudo-counts per comparison (levels 1..), from the reference.
    fn prior_counts(&self) -> Vec<Option<Vec<f64>>> {
        self.references
            .iter()
            .map(|r| r.map(|r| r.m[1..].iter().map(|m| m * PRIOR_PAIRS).collect()))
            .collect()
    }

    fn starts(&self, rule: usize) -> Vec<(Start, Model)> {
        let mut starts = Vec::new();
        if self.references.iter().any(Option::is_some) {
            let mut model = self.model.clone();
            for (c, r) in model.comparisons.iter_mut().zip(&self.references) {
                if let Some(r) = r {
                    c.m = r.m.clone();
                }
            }
            starts.push((Start::Reference, model));
        }
        starts.push((Start::AgreementLikely, self.model.clone()));
        let mut rng = ChaCha8Rng::seed_from_u64(self.settings.seed ^ ((rule as u64 + 1) << 48));
        let mut perturbed = self.model.clone();
        for c in &mut perturbed.comparisons {
            for m in &mut c.m[1..] {
                *m *= 10f64.powf(rng.random_range(-1.0..1.0));
            }
            normalise(&mut c.m);
        }
        starts.push((Start::Perturbed, perturbed));
        starts
    }

    fn session(&mut self, rule: usize) -> (SessionReport, SessionOutcome) {
        let blocking = &self.problem.blocking[rule];
        let (patterns, step) = self.patterns(Some(rule));
        let sampled: f64 = patterns.iter().map(|(_, n)| n).sum();
        let pairs = self.candidates.rule_pairs(rule);
        let active: Vec<bool> = (0..self.model.comparisons.len())
            .map(|c| !blocking.fixes.contains(&c))
            .collect();
        let prior = self.prior_counts();
        let runs: Vec<Run> = self
            .starts(rule)
            .into_iter()
            .map(|(start, model)| {
                let mut run = self.run(start, model, &patterns, &active, &prior);
                let expected = run.model.lambda * sampled;
                if expected < MIN_EXPECTED_MATCHES {
                    run.report.failed.push(Failure::TooFewMatches { expected });
                }
                let matches_per_record = 2.0 * run.model.lambda * (sampled * step as f64)
                    / self.problem.records.max(1) as f64;
                if matches_per_record > MAX_MATCHES_PER_RECORD {
                    run.report.failed.push(Failure::ImplausibleLambda {
                        lambda: run.model.lambda,
                        matches_per_record,
                    });
                }
                run
            })
            .collect();
        self.model.em_iterations_run += runs.iter().map(|r| r.report.iterations).sum::<usize>();
        // The best start that failed nothing; failing that, the best whose
        // failures are all about particular comparisons (the others are used).
        let session_wide = |f: &Failure| !matches!(f, Failure::LevelsOutOfOrder { .. });
        let best = |admissible: &dyn Fn(&Run) -> bool| {
            runs.iter()
                .enumerate()
                .filter(|(_, r)| admissible(r))
                .max_by(|(_, x), (_, y)| x.report.objective.total_cmp(&y.report.objective))
                .map(|(i, _)| i)
        };
        let chosen = best(&|r| r.report.failed.is_empty())
            .or_else(|| best(&|r| !r.report.failed.iter().any(session_wide)));
        let comparisons = (0..active.len())
            .filter(|&c| active[c])
            .map(|c| self.model.comparisons[c].name.clone())
            .collect();
        // What the session says about each comparison: the chosen start, or
        // failing one, the best start's failures.
        let telling = chosen
            .or_else(|| best(&|_| true))
            .expect("a session has starts");
        let report = SessionReport {
            rule: blocking.name.clone(),
            pairs,
            sampled_pairs: sampled as u64,
            comparisons,
            starts: runs.iter().map(|r| r.report.clone()).collect(),
            chosen: chosen.map(|i| runs[i].report.start),
        };
        let outcome = SessionOutcome {
            active,
            used: chosen.is_some(),
            run: runs
                .into_iter()
                .nth(telling)
                .expect("the index is of a run"),
        };
        (report, outcome)
    }

    /// EM from one start until it converges or the budget runs out.
    fn run(
        &self,
        start: Start,
        mut model: Model,
        patterns: &Patterns,
        active: &[bool],
        prior: &[Option<Vec<f64>>],
    ) -> Run {
        model.lambda = INITIAL_LAMBDA;
        let mut held = Vec::new();
        let mut iterations = 0;
        let mut converged = false;
        while iterations < self.settings.em_iterations {
            iterations += 1;
            let (change, now_held) = model.em_step(patterns, active, prior);
            held = now_held;
            if change < CONVERGED {
                converged = true;
                break;
            }
        }
        let mut failed = Vec::new();
        if !converged {
            failed.push(Failure::NotConverged { iterations });
        }
        for c in (0..active.len()).filter(|&c| active[c]) {
            failed.extend(out_of_order(&model.comparisons[c]));
        }
        let held_at_u = model
            .comparisons
            .iter()
            .zip(&held)
            .flat_map(|(c, held)| {
                held.iter()
                    .enumerate()
                    .filter(|(_, h)| **h)
                    .map(|(l, _)| (c.name.clone(), c.levels[l + 1].clone()))
            })
            .collect();
        let objective = model.objective(patterns, active, prior);
        Run {
            report: StartReport {
                start,
                iterations,
                converged,
                lambda: model.lambda,
                objective,
                held_at_u,
                failed,
            },
            model,
            held,
        }
    }

    /// Averages m over the sessions each comparison passed in, falls back on
    /// the reference where none did, and estimates the prior.
    fn finish(
        mut self,
        sessions: Vec<(SessionReport, SessionOutcome)>,
    ) -> Result<(Model, TrainingReport), TrainingError> {
        let mut comparisons = Vec::new();
        let mut unsupported = Vec::new();
        for c in 0..self.model.comparisons.len() {
            let name = self.model.comparisons[c].name.clone();
            let mut report = ComparisonReport {
                name: name.clone(),
                source: Source::Trained,
                sessions: 0,
                sessions_used: 0,
                iterations: 0,
                converged: true,
                held_at_u: Vec::new(),
                failed: Vec::new(),
            };
            let mut sum = vec![0.0; self.model.comparisons[c].m.len()];
            for (_, outcome) in sessions.iter().filter(|(_, o)| o.active[c]) {
                report.sessions += 1;
                let run = &outcome.run;
                let failed: Vec<Failure> = run
                    .report
                    .failed
                    .iter()
                    .filter(|f| match f {
                        Failure::LevelsOutOfOrder { comparison, .. } => *comparison == name,
                        _ => true,
                    })
                    .cloned()
                    .collect();
                let passed = !failed
                    .iter()
                    .any(|f| matches!(f, Failure::LevelsOutOfOrder { .. }));
                report.failed.extend(failed);
                if !(outcome.used && passed) {
                    continue;
                }
                report.sessions_used += 1;
                report.iterations += run.report.iterations;
                report.converged &= run.report.converged;
                let parameters = &run.model.comparisons[c];
                for (level, held) in run.held[c].iter().enumerate() {
                    if *held && !report.held_at_u.contains(&parameters.levels[level + 1]) {
                        report.held_at_u.push(parameters.levels[level + 1].clone());
                    }
                }
                sum.iter_mut().zip(&parameters.m).for_each(|(s, m)| *s += m);
            }
            let parameters = &mut self.model.comparisons[c];
            if report.sessions_used > 0 {
                parameters.m = sum
                    .into_iter()
                    .map(|s| s / report.sessions_used as f64)
                    .collect();
            } else {
                let reason = if report.sessions == 0 {
                    "every training rule fixes it".to_string()
                } else {
                    format!("no session passed its checks ({} tried)", report.sessions)
                };
                match self.references[c] {
                    Some(reference) => {
                        parameters.m = reference.m.clone();
                        parameters.u = reference.u.clone();
                        report.source = Source::Reference { reason };
                    }
                    None => unsupported.push(name),
                }
            }
            comparisons.push(report);
        }
        let prior = self.estimate_prior();
        let report = TrainingReport {
            sessions: sessions.into_iter().map(|(s, _)| s).collect(),
            comparisons,
            prior,
        };
        if !unsupported.is_empty() {
            return Err(TrainingError::Unsupported {
                comparisons: unsupported,
                report: Box::new(report),
            });
        }
        Ok((self.model, report))
    }

    /// The prior of two random records matching, with m and u fixed: the
    /// expected matches among candidate pairs, each pair's posterior taken
    /// with that same prior (as scoring takes it), over all pairs of
    /// records, until it stops moving. u is measured on random pairs, so
    /// the posterior of a candidate pair needs the prior of a random pair;
    /// taking the candidates' own share as the prior would count every
    /// candidate the blocking made alike as evidence of a match.
    fn estimate_prior(&mut self) -> PriorReport {
        let (patterns, step) = self.patterns(None);
        let everything = vec![true; self.model.comparisons.len()];
        let sampled: f64 = patterns.iter().map(|(_, n)| n).sum();
        let candidate_pairs = sampled * step as f64;
        let records = self.problem.records as f64;
        let all_pairs = (records * (records - 1.0) / 2.0).max(1.0);
        // Start from each person recorded about twice.
        let twice = (1.0 / records.max(2.0)).min(0.5);
        let mut prior = twice;
        let mut expected = 0.0;
        let mut iterations = 0;
        let mut converged = false;
        while iterations < self.settings.em_iterations {
            iterations += 1;
            self.model.lambda = prior;
            expected = patterns
                .iter()
                .map(|&(code, count)| {
                    let (pm, pu) = self.model.pattern_likelihoods(code, &everything);
                    count * pm / (pm + pu)
                })
                .sum::<f64>()
                * step as f64;
            let updated = (expected / all_pairs).clamp(FLOOR * FLOOR, 1.0 - FLOOR);
            let change = (updated / prior).ln().abs();
            prior = updated;
            if change < CONVERGED {
                converged = true;
                break;
            }
        }
        self.model.em_iterations_run += iterations;
        let lambda = (expected / candidate_pairs.max(1.0)).clamp(FLOOR, 1.0 - FLOOR);
        let matches_per_record = 2.0 * expected / records.max(1.0);
        let mut failed = Vec::new();
        if !converged {
            failed.push(Failure::NotConverged { iterations });
        }
        if matches_per_record > MAX_MATCHES_PER_RECORD {
            failed.push(Failure::ImplausibleLambda {
                lambda,
                matches_per_record,
            });
        }
        if failed.is_empty() {
            self.model.lambda = lambda;
            self.model.random_match_probability = prior;
        } else {
            // Each person recorded about twice: one match per record.
            self.model.random_match_probability = twice;
            self.model.lambda =
                (twice * all_pairs / candidate_pairs.max(1.0)).clamp(FLOOR, 1.0 - FLOOR);
        }
        PriorReport {
            lambda,
            matches_per_record,
            iterations,
            converged,
            failed,
        }
    }
}

/// What a session leaves for the end of training: the comparisons it
/// trained, whether a start passed, and that start (or the best one).
struct SessionOutcome {
    active: Vec<bool>,
    used: bool,
    run: Run,
}

/// Levels of one comparison whose weight exceeds a stronger level's by more
/// than the tolerance. Levels no pair reached (m and u at their floors) are
/// skipped.
fn out_of_order(c: &ComparisonParameters) -> Vec<Failure> {
    let seen = |l: usize| c.m[l] > 2.0 * FLOOR || c.u[l] > 2.0 * FLOOR;
    let weight = |l: usize| (c.m[l] / c.u[l]).log2();
    let mut failures = Vec::new();
    // The stronger level with the least weight: no weaker level may exceed it.
    let mut least: Option<usize> = None;
    for level in (1..c.levels.len()).filter(|&l| seen(l)) {
        match least {
            Some(stronger) if weight(level) > weight(stronger) + ORDER_TOLERANCE_BITS => {
                failures.push(Failure::LevelsOutOfOrder {
                    comparison: c.name.clone(),
                    level: c.levels[level].clone(),
                    stronger: c.levels[stronger].clone(),
                });
            }
            Some(stronger) if weight(level) >= weight(stronger) => {}
            _ => least = Some(level),
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocking::{BlockingRule, Groups};
    use crate::{Comparison, RecordIndex};

    /// A comparison on a column of numbers: the same or different.
    struct Same(&'static str, Vec<u32>);

    impl Comparison for Same {
        fn name(&self) -> &str {
            self.0
        }
        fn levels(&self) -> Vec<String> {
            ["missing", "same", "different"].map(String::from).to_vec()
        }
        fn level(&self, a: RecordIndex, b: RecordIndex) -> u8 {
            if self.1[a as usize] == self.1[b as usize] {
                1
            } else {
                2
            }
        }
    }

    /// Families of six persons, each person recorded twice: persons differ
    /// in name, a family shares its surname and its origin. Training blocks
    /// on the surname, so every pair of a block agrees on origin, and plain
    /// EM takes the family for the person.
    fn families(families: u32) -> Vec<Box<dyn Comparison>> {
        let records = families * 12;
        let person: Vec<u32> = (0..records).map(|r| r / 2).collect();
        let family: Vec<u32> = (0..records).map(|r| r / 12).collect();
        let origin: Vec<u32> = family.iter().map(|f| f * 7 % families).collect();
        vec![
            Box::new(Same("name", person)),
            Box::new(Same("surname", family)),
            Box::new(Same("origin", origin)),
        ]
    }

    fn surname_rule() -> Vec<BlockingRule> {
        vec![BlockingRule::new("surname", |r, keys| keys.push(u64::from(r / 12))).training(&[1])]
    }

    /// What the shipped model would be for these comparisons: names and
    /// origins agree for matches, surnames nearly always.
    fn reference(comparisons: &[Box<dyn Comparison>]) -> Model {
        Model {
            lambda: 0.1,
            random_match_probability: 1e-3,
            comparisons: comparisons
                .iter()
                .map(|c| ComparisonParameters {
                    name: c.name().to_string(),
                    levels: c.levels(),
                    m: vec![1.0, 0.95, 0.05],
                    u: vec![1.0, 0.01, 0.99],
                })
                .collect(),
            em_iterations_run: 0,
            records: 0,
            term_frequencies: false,
        }
    }

    fn train(
        records: usize,
        comparisons: &[Box<dyn Comparison>],
        rules: &[BlockingRule],
        settings: &Settings,
        reference: Option<&Model>,
    ) -> Result<(Model, TrainingReport), TrainingError> {
        let groups = Groups::none(records);
        let problem = Problem {
            records,
            comparisons,
            blocking: rules,
            groups: &groups,
            must_link: &[],
            cannot_link: &[],
        };
        let candidates = Candidates::build(&problem, settings.max_block);
        Model::train(&problem, &candidates, settings, reference)
    }

    #[test]
    fn a_family_taken_for_a_person_is_refused_and_the_reference_used() {
        let comparisons = families(200);
        let reference = reference(&comparisons);
        let settings = Settings::default();
        let (model, report) = train(
            2400,
            &comparisons,
            &surname_rule(),
            &settings,
            Some(&reference),
        )
        .expect("the reference stands in");
        let session = &report.sessions[0];
        // Plain EM does degenerate here, from every start.
        assert!(
            session.starts.iter().all(|s| s.lambda > 0.5),
            "{session:#?}"
        );
        assert!(
            session.starts.iter().all(|s| s
                .failed
                .iter()
                .any(|f| matches!(f, Failure::ImplausibleLambda { .. }))),
            "{session:#?}"
        );
        assert_eq!(session.chosen, None);
        for c in &report.comparisons {
            assert!(matches!(c.source, Source::Reference { .. }), "{c:?}");
        }
        assert_eq!(model.comparisons[0].m, reference.comparisons[0].m);
        // The names that tell persons apart still do.
        assert!(model.weight(&comparisons, 0, 2) < model.weight(&comparisons, 0, 1));
    }

    #[test]
    fn without_a_reference_a_failed_training_is_an_error_that_names_what_failed() {
        let comparisons = families(200);
        let error = train(
            2400,
            &comparisons,
            &surname_rule(),
            &Settings::default(),
            None,
        )
        .expect_err("nothing to fall back on");
        let TrainingError::Unsupported {
            comparisons: failed,
            report,
        } = &error;
        assert_eq!(failed, &["name", "surname", "origin"]);
        assert_eq!(report.sessions[0].chosen, None);
        assert!(
            error.to_string().contains("name, surname, origin"),
            "{error}"
        );
    }

    /// Persons recorded twice, names and origins agreeing for matches, in
    /// blocks of strangers sharing a surname.
    fn strangers(persons: u32) -> Vec<Box<dyn Comparison>> {
        let records = persons * 2;
        let person: Vec<u32> = (0..records).map(|r| r / 2).collect();
        let surname: Vec<u32> = (0..records).map(|r| r / 12).collect();
        let origin: Vec<u32> = (0..records).map(|r| r / 2 * 7 % 100).collect();
        vec![
            Box::new(Same("name", person)),
            Box::new(Same("surname", surname)),
            Box::new(Same("origin", origin)),
        ]
    }

    #[test]
    fn healthy_data_trains_its_own_model_and_says_so() {
        let comparisons = strangers(1200);
        let reference = reference(&comparisons);
        let (model, report) = train(
            2400,
            &comparisons,
            &surname_rule(),
            &Settings::default(),
            Some(&reference),
        )
        .expect("healthy data trains");
        let session = &report.sessions[0];
        assert!(session.chosen.is_some(), "{session:#?}");
        let name = &report.comparisons[0];
        assert_eq!(name.source, Source::Trained);
        assert!(name.converged && name.iterations > 0, "{name:?}");
        assert!(name.failed.is_empty(), "{name:?}");
        // Only the surname, which the only training rule fixes, falls back.
        let fallbacks: Vec<&str> = report.fallbacks().map(|c| c.name.as_str()).collect();
        assert_eq!(fallbacks, ["surname"]);
        // Names agree for every match: m moves from the reference's 0.95
        // towards 1 (the prior's 50 pairs against 1,200 matches).
        assert!(
            model.comparisons[0].m[1] > 0.99,
            "{:?}",
            model.comparisons[0]
        );
        // Six persons in each of 200 blocks of 66 pairs.
        for start in &session.starts {
            assert!((start.lambda - 6.0 / 66.0).abs() < 0.005, "{start:?}");
        }
        assert!(report.prior.failed.is_empty(), "{:?}", report.prior);
        // 1,200 matches among 13,200 candidate pairs.
        assert!(
            (report.prior.lambda - 1.0 / 11.0).abs() < 0.01,
            "{:?}",
            report.prior
        );
    }

    #[test]
    fn a_run_out_of_iterations_is_refused() {
        let comparisons = strangers(1200);
        let reference = reference(&comparisons);
        let settings = Settings {
            em_iterations: 2,
            ..Settings::default()
        };
        let (_, report) = train(
            2400,
            &comparisons,
            &surname_rule(),
            &settings,
            Some(&reference),
        )
        .expect("the reference stands in");
        let starts = &report.sessions[0].starts;
        assert_eq!(starts.len(), 3, "reference, agreement likely, perturbed");
        assert!(
            starts.iter().all(
                |s| !s.converged && s.failed.contains(&Failure::NotConverged { iterations: 2 })
            )
        );
        assert!(report.fallbacks().count() == 3);
    }

    #[test]
    fn agreement_levels_are_held_at_u_and_the_rest_share_what_is_left() {
        // The data would put m('close') at 0.01, below its u of 0.1.
        let (m, held) = constrained_m(&[89.0, 1.0, 10.0], &[0.05, 0.1, 0.85]);
        assert_eq!(held, [false, true, false]);
        assert!((m[1] - 0.1).abs() < 1e-12);
        assert!((m.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!((m[0] / m[2] - 8.9).abs() < 1e-9, "{m:?}");
        // The last level ("different") may fall below u: that is its meaning.
        let (m, held) = constrained_m(&[99.0, 1.0], &[0.1, 0.9]);
        assert_eq!(held, [false, false]);
        assert!(m[1] < 0.9);
    }

    #[test]
    fn a_weaker_level_with_more_weight_is_out_of_order() {
        let ordered = ComparisonParameters {
            name: "given name".into(),
            levels: ["missing", "same", "close", "different"]
                .map(String::from)
                .to_vec(),
            m: vec![1.0, 0.9, 0.08, 0.02],
            u: vec![1.0, 0.001, 0.01, 0.989],
        };
        assert!(out_of_order(&ordered).is_empty());
        let reversed = ComparisonParameters {
            m: vec![1.0, 0.02, 0.9, 0.08],
            ..ordered
        };
        assert_eq!(
            out_of_order(&reversed),
            [Failure::LevelsOutOfOrder {
                comparison: "given name".into(),
                level: "close".into(),
                stronger: "same".into(),
            }]
        );
    }
}
