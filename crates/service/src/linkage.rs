//! Linkage over a database: which person records are one person, proposed
//! for reviewers. One composition for every door: `girok link` prints what
//! it returns, the web application runs it as a background job.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use girok_linkage::blind::BlindPair;
use girok_linkage::fellegi_sunter::probability;
use girok_linkage::person::{self, PersonFeatures, PersonRecord, PersonRecordsBuilder};
use girok_linkage::proposals::{self, ExplainedPair};
use girok_linkage::{Groups, ModelOrigin, Problem, RecordIndex, ScoredPair, Settings, Training};
use girok_model::{Record, RecordId, RecordKind};
use girok_store::{Database, LinkRun, ProposedRecord, Store, StoredProposal};

use crate::ServiceError;
use crate::jobs::{Phase, Progress};

/// What one run found and kept.
pub struct Linked {
    /// Person records compared (sealed ones are not).
    pub persons: usize,
    pub candidate_pairs: u64,
    pub rules: usize,
    pub links: usize,
    /// The proposals kept, least certain first, each with the names of its
    /// persons as this run read them (and the audit log recorded).
    pub proposals: Vec<(StoredProposal, Vec<String>)>,
    /// Person records that stay sealed (the database is locked, or they
    /// were forgotten) and the pairs of them sharing a blind name index.
    pub sealed: usize,
    pub blind_pairs: Vec<BlindPair>,
    pub origin: ModelOrigin,
    pub timings: Vec<(&'static str, Duration)>,
}

/// Runs linkage over every person record of `store` and replaces the
/// proposals of the previous run by this run's; reviewers' decisions are
/// kept as they are and respected: confirmed pairs must link, rejected ones
/// cannot, and a cluster confirmed whole is not proposed again.
pub fn link(
    store: &Database,
    link_probability: f64,
    progress: &Progress,
) -> Result<Linked, ServiceError> {
    // The journal as this run starts reading it: a decision recorded after
    // this is not in its proposals, and the queue says the journal changed.
    let journal_size = store.head()?.0;
    let total: u64 = RecordKind::ALL
        .iter()
        .map(|&kind| store.count(kind))
        .sum::<Result<u64, _>>()?;
    progress.enter(Phase::ReadingRecords, total);
    let mut builder = PersonRecordsBuilder::default();
    let mut sealed = Vec::new();
    store.for_each_record(&mut |record| {
        match &record {
            Record::Person(person) if person.sealed.is_some() => {
                let indexes = person
                    .sealed
                    .as_ref()
                    .map(|s| s.blind.clone())
                    .unwrap_or_default();
                sealed.push((person.id.clone(), indexes));
            }
            _ => builder.add(&record),
        }
        progress.advance(1);
        Ok(())
    })?;
    let blind_pairs = girok_linkage::blind::candidates(&sealed);
    let persons = builder.finish();
    let mut linked = Linked {
        persons: persons.len(),
        candidate_pairs: 0,
        rules: 0,
        links: 0,
        proposals: Vec::new(),
        sealed: sealed.len(),
        blind_pairs,
        origin: ModelOrigin::Given {
            reason: "no person record to link".into(),
        },
        timings: Vec::new(),
    };
    if persons.is_empty() {
        return Ok(linked);
    }
    let index: HashMap<&str, RecordIndex> = persons
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i as RecordIndex))
        .collect();
    let decisions = store.link_decisions()?;
    let pairs = |decided: &[(RecordId, RecordId)]| -> Vec<(RecordIndex, RecordIndex)> {
        decided
            .iter()
            .filter_map(|(a, b)| Some((*index.get(a.as_str())?, *index.get(b.as_str())?)))
            .collect()
    };
    let (must_link, cannot_link) = (pairs(&decisions.same), pairs(&decisions.different));
    let features = Arc::new(PersonFeatures::new(&persons));
    let comparisons = person::comparisons(&features);
    let rules = person::blocking_rules(&features);
    let groups: Groups = features.groups.clone();
    let problem = Problem {
        records: persons.len(),
        comparisons: &comparisons,
        blocking: &rules,
        groups: &groups,
        must_link: &must_link,
        cannot_link: &cannot_link,
    };
    let settings = Settings {
        link_probability,
        ..Settings::default()
    };
    let shipped = person::shipped_model(persons.len());
    let training = if persons.len() < person::MIN_TRAINING_RECORDS {
        Training::Given {
            model: shipped.clone(),
            reason: format!(
                "fewer than {} person records are too few to train on",
                person::MIN_TRAINING_RECORDS
            ),
        }
    } else {
        Training::Trained {
            reference: Some(&shipped),
        }
    };
    let linkage = girok_linkage::link_watched(&problem, &settings, training, progress)?;
    let resolved = decisions.resolved();
    // The links inside each cluster (links across clusters were refused merges).
    let mut links_of: HashMap<RecordIndex, Vec<&ScoredPair>> = HashMap::new();
    for link in &linkage.links {
        let cluster = linkage.clusters.of(link.a);
        if cluster == linkage.clusters.of(link.b) {
            links_of.entry(cluster).or_default().push(link);
        }
    }
    let mut proposed = Vec::new();
    for members in linkage.clusters.groups() {
        // A cluster a reviewer already confirmed whole needs no review.
        let roots: Vec<Option<&RecordId>> = members
            .iter()
            .map(|&m| resolved.get(&RecordId::new(&persons[m as usize].id)))
            .collect();
        if roots.iter().all(|r| r.is_some() && *r == roots[0]) {
            continue;
        }
        let links: Vec<ExplainedPair> = links_of
            .get(&linkage.clusters.of(members[0]))
            .into_iter()
            .flatten()
            .map(|l| ExplainedPair {
                a: persons[l.a as usize].id.clone(),
                b: persons[l.b as usize].id.clone(),
                explanation: linkage.model.explain(&comparisons, l.a, l.b),
            })
            .collect();
        let mut sum = 0.0;
        let mut count = 0;
        for (i, &a) in members.iter().enumerate() {
            for &b in &members[i + 1..] {
                sum += probability(linkage.model.weight(&comparisons, a, b));
                count += 1;
            }
        }
        let mut persons_of: Vec<&PersonRecord> =
            members.iter().map(|&m| &persons[m as usize]).collect();
        persons_of.sort_by(|x, y| x.id.cmp(&y.id));
        proposed.push((
            StoredProposal {
                number: 0,
                persons: persons_of
                    .iter()
                    .map(|p| ProposedRecord {
                        id: RecordId::new(&p.id),
                        sources: p.sources.clone(),
                    })
                    .collect(),
                probability: sum / f64::from(count.max(1)),
                links: proposals::encode_links(&links),
                decided: None,
            },
            persons_of.iter().map(|p| p.names.clone()).collect(),
        ));
    }
    // Least certain first: that is where a reviewer's eye is worth most.
    proposed.sort_by(|x: &(StoredProposal, Vec<String>), y| {
        x.0.probability.total_cmp(&y.0.probability)
    });
    for (i, (proposal, _)) in proposed.iter_mut().enumerate() {
        proposal.number = i as u64 + 1;
    }
    progress.enter(Phase::StoringProposals, proposed.len() as u64);
    let rows: Vec<StoredProposal> = proposed.iter().map(|(p, _)| p.clone()).collect();
    store.replace_link_proposals(
        &LinkRun {
            journal_size,
            time: girok_journal::format_time(chrono::Utc::now()),
            training: Some(proposals::encode_training(&linkage.origin)),
        },
        &rows,
    )?;
    progress.advance(rows.len() as u64);
    linked.candidate_pairs = linkage.blocking.candidate_pairs;
    linked.rules = linkage.blocking.rules.len();
    linked.links = linkage.links.len();
    linked.proposals = proposed;
    linked.origin = linkage.origin;
    linked.timings = linkage.timings;
    Ok(linked)
}

/// A linkage job's parameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LinkageParameters {
    /// Match probability at which a pair is proposed.
    pub link_probability: f64,
}

impl Default for LinkageParameters {
    fn default() -> LinkageParameters {
        LinkageParameters {
            link_probability: Settings::default().link_probability,
        }
    }
}

/// What a linkage job found, as its page shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LinkageSummary {
    pub persons: usize,
    pub candidate_pairs: u64,
    pub links: usize,
    /// Proposals kept for review (all undecided: this run's).
    pub proposals: usize,
    /// Person records that stayed sealed (forgotten) and were not compared.
    pub sealed: usize,
    /// Whether the model was trained on this database (or the shipped one used).
    pub trained: bool,
}

/// Why linkage is refused on a locked database, for people.
pub const LOCKED: &str = "the database is encrypted and locked: linkage compares names, so an \
                          administrator must unlock it first (Encryption page)";

/// Runs a linkage job on `store` (opened for the job, unlocked and audited
/// as its starter): the proposals it keeps, or why it failed.
pub fn run_job(store: &Database, parameters: &str, progress: &Progress) -> Result<String, String> {
    if store.lock_state() == girok_store::LockState::Locked {
        return Err(LOCKED.to_string());
    }
    let parameters: LinkageParameters = serde_json::from_str(parameters)
        .map_err(|e| format!("the job's parameters cannot be read: {e}"))?;
    let linked = link(store, parameters.link_probability, progress).map_err(|e| e.to_string())?;
    let summary = LinkageSummary {
        persons: linked.persons,
        candidate_pairs: linked.candidate_pairs,
        links: linked.links,
        proposals: linked.proposals.len(),
        sealed: linked.sealed,
        trained: matches!(linked.origin, ModelOrigin::Trained(_)),
    };
    serde_json::to_string(&summary).map_err(|e| e.to_string())
}
