//! Record linkage: which records describe the same person.
//!
//! The pipeline is the classical one, with Korean-aware parts where it
//! matters:
//!
//! 1. **Blocking** ([`blocking`]): a union of rules, each a key per record;
//!    records sharing a key become candidate pairs. Pairs are streamed, never
//!    stored, and each pair is produced by exactly one rule.
//! 2. **Comparison** ([`Comparison`]): each pair gets a level per comparison
//!    (exact, close, different, or missing).
//! 3. **Fellegi-Sunter** ([`fellegi_sunter`]): u-probabilities from random
//!    pairs, m-probabilities by expectation-maximisation over the candidate
//!    pairs, term-frequency adjustment for common values (Kim, Lee and Park).
//! 4. **Clustering** ([`cluster`]): pairs above a threshold are merged,
//!    strongest first, unless the two clusters contain a cannot-link pair or
//!    are on average not alike (so one weak link never chains strangers).
//!
//! Sealed records (an encrypted database, locked) are matched on their
//! keyed name indexes alone by [`blind`].
//!
//! The engine knows nothing of persons; [`person`] builds the comparisons
//! and blocking rules for Girok's person records, [`generic`] those for
//! tabular data such as FEBRL.

pub mod blind;
pub mod blocking;
pub mod cluster;
pub mod fellegi_sunter;
pub mod generic;
pub mod metrics;
pub mod partitions;
pub mod person;
pub mod proposals;
pub mod similarity;
pub mod training;

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use blocking::{BlockingReport, BlockingRule, Candidates, Groups};
pub use cluster::Clusters;
pub use fellegi_sunter::{Explanation, Model};
pub use training::{TrainingError, TrainingReport};

/// A record's position in the data set being linked.
pub type RecordIndex = u32;

/// One way of comparing two records, with ordered levels of agreement.
///
/// Level 0 is "missing": a value is absent on one side, which is evidence
/// neither way (weight 0). Levels 1.. run from the strongest agreement to
/// disagreement, and the last level is "different".
pub trait Comparison: Sync + Send {
    fn name(&self) -> &str;
    /// Labels of the levels, level 0 ("missing") first.
    fn levels(&self) -> Vec<String>;
    fn level(&self, a: RecordIndex, b: RecordIndex) -> u8;
    /// For a level that means "the same value", how common the value the
    /// pair `a`, `b` shares is (share of records): agreeing on "Kim" says
    /// less than agreeing on "Namgung". `known` records are already taken to
    /// be one of the two persons and hold the value: a value is common in
    /// part because one person is recorded under it again and again, and
    /// only the other persons' records count against a match. `None` for
    /// levels without adjustment.
    fn term_frequency(
        &self,
        _a: RecordIndex,
        _b: RecordIndex,
        _level: u8,
        _known: usize,
    ) -> Option<f64> {
        None
    }
}

/// Settings of one linkage run.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Random pairs drawn to estimate u-probabilities.
    pub u_sample: usize,
    /// EM iterations each start of a training session may take to converge.
    pub em_iterations: usize,
    /// Training samples blocks of a rule down to about this many pairs.
    pub max_training_pairs: u64,
    /// Pairs at or above this match probability are links: candidates for a
    /// merge, which clustering makes only where the clusters (or records)
    /// are alike at `cluster_probability`. The probability is the posterior
    /// at the prior estimated for the data set (two random records
    /// matching), so it asks for more evidence in a larger population, where
    /// more strangers share a name. The default is below even odds: a weak
    /// link may still join a person recorded many times, whose records a
    /// name alone points to more often than to a stranger's.
    pub link_probability: f64,
    /// Two clusters (or records) merge only if their pairs' mean match
    /// probability reaches this (by default, even odds).
    pub cluster_probability: f64,
    /// Blocks with more records are skipped (and reported): a key that common
    /// does not block anything.
    pub max_block: usize,
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            u_sample: 1_000_000,
            em_iterations: 200,
            max_training_pairs: 1_000_000,
            link_probability: 0.2,
            cluster_probability: 0.5,
            max_block: 5_000,
            seed: 1,
        }
    }
}

/// What to link: the comparisons, the blocking rules and the constraints.
pub struct Problem<'a> {
    pub records: usize,
    pub comparisons: &'a [Box<dyn Comparison>],
    pub blocking: &'a [BlockingRule],
    /// Records sharing a group are never the same (two persons named in one
    /// testimony; two records of one file in a file-to-file link).
    pub groups: &'a Groups,
    /// Pairs a reviewer confirmed as the same person.
    pub must_link: &'a [(RecordIndex, RecordIndex)],
    /// Pairs a reviewer rejected.
    pub cannot_link: &'a [(RecordIndex, RecordIndex)],
}

/// A candidate pair at or above the link threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScoredPair {
    pub a: RecordIndex,
    pub b: RecordIndex,
    /// log2 of the odds of a match.
    pub weight: f64,
    pub probability: f64,
}

/// Where the model of a run comes from.
pub enum Training<'a> {
    /// This model, as it is, for the reason given (a data set too small to
    /// train on).
    Given { model: Model, reason: String },
    /// Trained on the data, regularised towards and falling back on
    /// `reference` where one is given.
    Trained { reference: Option<&'a Model> },
}

/// What a run's model is: given, or trained with what training did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum ModelOrigin {
    Given { reason: String },
    Trained(TrainingReport),
}

/// The outcome of a run.
pub struct Linkage {
    pub model: Model,
    pub origin: ModelOrigin,
    pub blocking: BlockingReport,
    pub links: Vec<ScoredPair>,
    pub clusters: Clusters,
    pub timings: Vec<(&'static str, Duration)>,
}

/// The stages of a run, in order, for a caller that shows how far it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Blocking,
    Training,
    /// Comparing the candidate pairs: its units are the pairs in the blocks.
    Scoring,
    Clustering,
}

/// Where a run says how far it is. Called from the run's worker threads.
pub trait Progress: Sync {
    /// The run enters `stage`, which has `total` units of work (0 when
    /// they are not counted).
    fn stage(&self, stage: Stage, total: u64);
    /// `units` more units of the current stage are done.
    fn advance(&self, units: u64);
}

/// Progress nobody watches.
pub struct Unwatched;

impl Progress for Unwatched {
    fn stage(&self, _: Stage, _: u64) {}
    fn advance(&self, _: u64) {}
}

/// Runs blocking, training (unless the model is given), scoring and
/// clustering. Fails only when training fails its checks with no reference
/// to fall back on.
pub fn link(
    problem: &Problem,
    settings: &Settings,
    training: Training,
) -> Result<Linkage, TrainingError> {
    link_watched(problem, settings, training, &Unwatched)
}

/// [`link`], saying how far it is to `progress`.
pub fn link_watched(
    problem: &Problem,
    settings: &Settings,
    training: Training,
    progress: &dyn Progress,
) -> Result<Linkage, TrainingError> {
    let mut timings = Vec::new();
    let mut stage = Instant::now();
    let mut lap = |name: &'static str, timings: &mut Vec<(&'static str, Duration)>| {
        timings.push((name, stage.elapsed()));
        stage = Instant::now();
    };
    progress.stage(Stage::Blocking, problem.records as u64);
    let candidates = Candidates::build(problem, settings.max_block);
    lap("blocking", &mut timings);
    progress.stage(Stage::Training, 0);
    let (model, origin) = match training {
        Training::Given { model, reason } => (model, ModelOrigin::Given { reason }),
        Training::Trained { reference } => {
            let (model, report) = Model::train(problem, &candidates, settings, reference)?;
            (model, ModelOrigin::Trained(report))
        }
    };
    lap("training", &mut timings);
    progress.stage(Stage::Scoring, candidates.block_pairs());
    let (links, blocking) =
        model.score_candidates(problem, &candidates, settings.link_probability, progress);
    lap("scoring", &mut timings);
    progress.stage(Stage::Clustering, links.len() as u64);
    let clusters = Clusters::build(problem, &model, &links, settings.cluster_probability);
    lap("clustering", &mut timings);
    Ok(Linkage {
        model,
        origin,
        blocking,
        links,
        clusters,
        timings,
    })
}
