//! Pseudonymised exports for partners and the public.
//!
//! What leaves the organisation is decided by consent and by what the
//! audience may learn, never by what a caller remembers to remove:
//! - only acts and events attested by a source whose consent allows the
//!   audience, and only the records they need (victims and perpetrators
//!   of those acts, the sources and information behind them); witnesses,
//!   evidence files and everything else stay home;
//! - every id becomes a pseudonym, stable for one audience (the same person
//!   has the same pseudonym in every partners export, a different one in
//!   public exports) and unlinkable without the organisation's key;
//! - names, birth, descriptions, notes, provenance, clarifications,
//!   interview and event titles and sealed data are dropped; dates become
//!   years and places provinces;
//! - acts whose (province, year, act type) group is smaller than the
//!   threshold are generalised (no place, the decade); if still too rare,
//!   they are withheld.
//!
//! Consent is read when the export runs, so narrowing it takes effect in
//! the next export.

use std::collections::{HashMap, HashSet};

use chrono::Datelike;

use girok_model::{
    Act, ConsentScope, Event, FuzzyDate, Information, Involvement, Person, Record, RecordId,
    RecordKind, Relation, Source, SourceKind, VocabKind, Vocabularies,
};
use girok_store::{Database, Store, StoreError};
use girok_tabulate::Audience;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The place classes a place is coarsened to.
const COARSE_PLACES: [&str; 2] = ["province", "country"];

#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    #[error("an internal export is not pseudonymised: it is written without the sharing rules")]
    Internal,
    #[error("the pseudonym key must have at least 32 bytes")]
    ShortKey,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an export held back, for the person who hands it over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub records: u64,
    /// Acts attested by no source whose consent allows the audience.
    pub without_consent: u64,
    /// Acts whose place and date were generalised to reach the threshold.
    pub generalised: u64,
    /// Acts withheld because even generalised they were too rare.
    pub withheld: u64,
}

/// Stable per-audience pseudonyms: a keyed hash of the audience and the id.
struct Pseudonyms<'a> {
    key: &'a [u8],
    audience: Audience,
}

impl Pseudonyms<'_> {
    fn of(&self, kind: RecordKind, id: &RecordId) -> RecordId {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key).expect("any key length");
        mac.update(self.audience.name().as_bytes());
        mac.update(b"/");
        mac.update(id.as_str().as_bytes());
        let digest = mac.finalize().into_bytes();
        let prefix = &kind.as_str()[..1];
        RecordId::new(format!("{prefix}-{}", hex::encode(&digest[..8])))
    }
}

/// How far an act's place and date are coarsened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// Province and year.
    Coarse,
    /// No place, the decade.
    Generalised,
}

/// What the first pass learns: which records go out, and at what level.
#[derive(Default)]
struct Plan {
    allowed_sources: HashSet<RecordId>,
    attested_acts: HashSet<RecordId>,
    attested_events: HashSet<RecordId>,
    acts: HashMap<RecordId, Level>,
    persons: HashSet<RecordId>,
    events: HashSet<RecordId>,
    sources: HashSet<RecordId>,
}

fn allows(source: &Source, audience: Audience) -> bool {
    let Some(required) = audience.required_consent() else {
        return true;
    };
    // Published sources (no consent scope, not an interview) are public.
    let consent = match (source.consent, source.kind) {
        (Some(consent), _) => consent,
        (None, SourceKind::Interview) => return false,
        (None, _) => ConsentScope::Public,
    };
    consent >= required
}

fn province(vocabularies: &Vocabularies, place: Option<&str>) -> Option<String> {
    let places = vocabularies.get(VocabKind::Place);
    place.and_then(|place| {
        places.ancestry(place).into_iter().find(|key| {
            places
                .get(key)
                .and_then(|term| term.class.as_deref())
                .is_some_and(|class| COARSE_PLACES.contains(&class))
        })
    })
}

fn year(date: &FuzzyDate) -> FuzzyDate {
    date.single_year()
        .and_then(|year| FuzzyDate::parse(&year.to_string()).ok())
        .unwrap_or_else(|| decade(date))
}

fn decade(date: &FuzzyDate) -> FuzzyDate {
    match date.bounds() {
        Some((start, end)) if start.year() / 10 == end.year() / 10 => {
            FuzzyDate::parse(&format!("{}s", start.year() / 10 * 10)).unwrap_or(FuzzyDate::UNKNOWN)
        }
        _ => FuzzyDate::UNKNOWN,
    }
}

/// The group an act is counted in at a level, for small-cell control.
fn group(act: &Act, level: Level, vocabularies: &Vocabularies) -> (Option<String>, String, String) {
    match level {
        Level::Coarse => (
            province(vocabularies, act.place.as_deref()),
            year(&act.date).to_string(),
            act.act_type.clone(),
        ),
        Level::Generalised => (None, decade(&act.date).to_string(), act.act_type.clone()),
    }
}

fn plan(
    store: &Database,
    audience: Audience,
    threshold: u64,
    summary: &mut Summary,
) -> Result<Plan, StoreError> {
    let vocabularies = store.vocabularies();
    let mut plan = Plan::default();
    let mut acts: Vec<Act> = Vec::new();
    let mut involvements: Vec<Involvement> = Vec::new();
    let mut information: Vec<Information> = Vec::new();
    store.for_each_record(&mut |record| {
        match record {
            Record::Source(source) if allows(&source, audience) => {
                plan.allowed_sources.insert(source.id);
            }
            Record::Act(act) => acts.push(act),
            Record::Involvement(involvement) => involvements.push(involvement),
            Record::Information(info) => information.push(info),
            _ => {}
        }
        Ok(())
    })?;
    for info in information
        .iter()
        .filter(|i| plan.allowed_sources.contains(&i.source))
    {
        plan.attested_acts.extend(info.act.clone());
        plan.attested_events.extend(info.event.clone());
    }
    let (attested, unattested): (Vec<Act>, Vec<Act>) = acts
        .into_iter()
        .partition(|act| plan.attested_acts.contains(&act.id));
    summary.without_consent = unattested.len() as u64;

    // Small-cell control: whole groups below the threshold are generalised,
    // and generalised groups still below it are withheld.
    let count = |level: Level, acts: &[&Act]| {
        let mut counts: HashMap<_, u64> = HashMap::new();
        for act in acts {
            *counts.entry(group(act, level, vocabularies)).or_default() += 1;
        }
        counts
    };
    let all: Vec<&Act> = attested.iter().collect();
    let coarse = count(Level::Coarse, &all);
    let rare: Vec<&Act> = all
        .iter()
        .copied()
        .filter(|act| coarse[&group(act, Level::Coarse, vocabularies)] < threshold)
        .collect();
    let generalised = count(Level::Generalised, &rare);
    for act in &attested {
        let level = if coarse[&group(act, Level::Coarse, vocabularies)] >= threshold {
            Level::Coarse
        } else if generalised[&group(act, Level::Generalised, vocabularies)] >= threshold {
            summary.generalised += 1;
            Level::Generalised
        } else {
            summary.withheld += 1;
            continue;
        };
        plan.acts.insert(act.id.clone(), level);
        plan.persons.insert(act.victim.clone());
        // An attested act attests its event.
        plan.events.extend(act.event.clone());
    }
    for involvement in &involvements {
        if plan.acts.contains_key(&involvement.act) {
            plan.persons.extend(involvement.perpetrator.clone());
        }
    }
    plan.events.extend(plan.attested_events.iter().cloned());
    for info in &information {
        if plan.allowed_sources.contains(&info.source)
            && (info.act.as_ref().is_some_and(|a| plan.acts.contains_key(a))
                || info.event.as_ref().is_some_and(|e| plan.events.contains(e)))
        {
            plan.sources.insert(info.source.clone());
        }
    }
    Ok(plan)
}

/// Writes the pseudonymised records for `audience` through `emit`, in an
/// order in which references come first.
pub fn export(
    store: &Database,
    audience: Audience,
    key: &[u8],
    threshold: u64,
    emit: &mut dyn FnMut(Record) -> Result<(), StoreError>,
) -> Result<Summary, ShareError> {
    if audience == Audience::Internal {
        return Err(ShareError::Internal);
    }
    if key.len() < 32 {
        return Err(ShareError::ShortKey);
    }
    let mut summary = Summary::default();
    let plan = plan(store, audience, threshold, &mut summary)?;
    let names = Pseudonyms { key, audience };
    let vocabularies = store.vocabularies();
    let pseudonym = |kind, id: &RecordId| names.of(kind, id);
    let mut written = 0;
    store.for_each_record(&mut |record| {
        let shared = match record {
            Record::Person(person) if plan.persons.contains(&person.id) => {
                Some(Record::Person(Person {
                    id: pseudonym(RecordKind::Person, &person.id),
                    sex: person.sex,
                    birth: match audience {
                        Audience::Partners => decade(&person.birth),
                        _ => FuzzyDate::UNKNOWN,
                    },
                    origin: province(vocabularies, person.origin.as_deref()),
                    organisation: person.organisation,
                    unit: person.unit,
                    ..Person::new(RecordId::new("-"), Vec::new())
                }))
            }
            Record::Source(source) if plan.sources.contains(&source.id) => {
                Some(Record::Source(Source {
                    id: pseudonym(RecordKind::Source, &source.id),
                    // Any title can name a witness ("report on the testimony of ..."): the kind stands in.
                    title: source.kind.to_string(),
                    kind: source.kind,
                    obtained: year(&source.obtained),
                    language: source.language,
                    organisation: source.organisation,
                    provenance: String::new(),
                    consent: source.consent,
                    witness: None,
                    received_by: None,
                    notes: String::new(),
                    clarifications: Default::default(),
                    sealed: None,
                }))
            }
            Record::Event(event) if plan.events.contains(&event.id) => Some(Record::Event(Event {
                id: pseudonym(RecordKind::Event, &event.id),
                // Titles are written by documenters and may name people.
                title: "event".to_string(),
                date: year(&event.date),
                place: province(vocabularies, event.place.as_deref()),
                description: String::new(),
                violations: event.violations,
                received_by: None,
                clarifications: Default::default(),
                sealed: None,
            })),
            Record::Act(act) => plan.acts.get(&act.id).map(|level| {
                let (place, date) = match level {
                    Level::Coarse => (
                        province(vocabularies, act.place.as_deref()),
                        year(&act.date),
                    ),
                    Level::Generalised => (None, decade(&act.date)),
                };
                Record::Act(Act {
                    id: pseudonym(RecordKind::Act, &act.id),
                    victim: pseudonym(RecordKind::Person, &act.victim),
                    event: act
                        .event
                        .as_ref()
                        .filter(|e| plan.events.contains(*e))
                        .map(|e| pseudonym(RecordKind::Event, e)),
                    date,
                    place,
                    // Exact ages single people out: partners see five-year bands, the public none.
                    victim_age: match audience {
                        Audience::Partners => act.victim_age.map(|age| age / 5 * 5),
                        _ => None,
                    },
                    act_type: act.act_type,
                    status: act.status,
                    facility: act.facility,
                    description: String::new(),
                    received_by: None,
                    clarifications: Default::default(),
                    sealed: None,
                })
            }),
            Record::Involvement(involvement) if plan.acts.contains_key(&involvement.act) => {
                Some(Record::Involvement(Involvement {
                    id: pseudonym(RecordKind::Involvement, &involvement.id),
                    act: pseudonym(RecordKind::Act, &involvement.act),
                    perpetrator: involvement
                        .perpetrator
                        .as_ref()
                        .map(|p| pseudonym(RecordKind::Person, p)),
                    agency: involvement.agency,
                    degree: involvement.degree,
                    clarifications: Default::default(),
                }))
            }
            Record::Information(info) if plan.sources.contains(&info.source) => {
                let act = info.act.as_ref().filter(|a| plan.acts.contains_key(*a));
                let event = info.event.as_ref().filter(|e| plan.events.contains(*e));
                (act.is_some() || event.is_some()).then(|| {
                    Record::Information(Information {
                        id: pseudonym(RecordKind::Information, &info.id),
                        source: pseudonym(RecordKind::Source, &info.source),
                        act: act.map(|a| pseudonym(RecordKind::Act, a)),
                        event: event.map(|e| pseudonym(RecordKind::Event, e)),
                        reliability: info.reliability,
                        credibility: info.credibility,
                        relation: info.relation.clone(),
                        knowledge: info.knowledge,
                        clarifications: Default::default(),
                    })
                })
            }
            Record::Relation(relation)
                if plan.persons.contains(&relation.person)
                    && plan.persons.contains(&relation.other) =>
            {
                Some(Record::Relation(Relation {
                    id: pseudonym(RecordKind::Relation, &relation.id),
                    person: pseudonym(RecordKind::Person, &relation.person),
                    other: pseudonym(RecordKind::Person, &relation.other),
                    relation: relation.relation,
                    date: year(&relation.date),
                    clarifications: Default::default(),
                }))
            }
            _ => None,
        };
        if let Some(record) = shared {
            written += 1;
            emit(record)?;
        }
        Ok(())
    })?;
    summary.records = written;
    Ok(summary)
}
