//! One row per act with everything a table can break it down by.

use std::collections::{BTreeSet, HashMap};

use chrono::Datelike;
use girok_model::{Act, ConsentScope, FuzzyDate, Record, RecordId, Sex, SourceKind};

use crate::ages::AgeRange;

/// An act and the facts about it that tabulations use.
#[derive(Debug, Clone, PartialEq)]
pub struct ActFact {
    pub act: RecordId,
    /// The victim after reviewers' linkage decisions: records merged into
    /// one person share this id.
    pub victim: RecordId,
    /// The event (case) the act belongs to, if one is recorded.
    pub event: Option<RecordId>,
    pub act_type: String,
    pub date: FuzzyDate,
    pub place: Option<String>,
    /// Perpetrating agencies (vocabulary keys); `individual` for a
    /// perpetrator named without an agency. Empty when no one is recorded.
    pub agencies: Vec<String>,
    pub sex: Sex,
    /// Age at the act: as recorded, or from the birth date and the act's
    /// date (an interval when either is known only roughly).
    pub age: Option<AgeRange>,
    /// The witnesses' relations to the victim, one per attesting source.
    pub relations: Vec<String>,
    /// Independent attesting sources: sources given by the same witness count once.
    pub corroboration: usize,
    /// Documenting organisations of the attesting sources.
    pub organisations: Vec<String>,
    /// The widest consent among the attesting sources (published sources
    /// count as public): the widest audience some source allows this fact
    /// to reach. `None` for an act no source attests.
    pub consent: Option<ConsentScope>,
    /// Each attesting source, from which the four fields above are drawn:
    /// an audience sees them drawn from the sources that allow it only.
    pub attested_by: Vec<Attestation>,
}

/// What one source says about an act, as far as tables count it.
#[derive(Debug, Clone, PartialEq)]
pub struct Attestation {
    /// The witness (after linkage decisions), or the source itself when it
    /// names none: sources given by one witness are not independent.
    pub witness: RecordId,
    pub relation: String,
    pub organisation: Option<String>,
    pub consent: Option<ConsentScope>,
}

impl ActFact {
    /// Draws relations, corroboration, organisations and consent from `attested_by`.
    fn summarise(&mut self) {
        let mut witnesses = BTreeSet::new();
        let mut organisations = BTreeSet::new();
        self.relations.clear();
        self.consent = None;
        for attestation in &self.attested_by {
            witnesses.insert(&attestation.witness);
            organisations.extend(attestation.organisation.iter().cloned());
            self.relations.push(attestation.relation.clone());
            self.consent = self.consent.max(attestation.consent);
        }
        self.corroboration = witnesses.len();
        self.organisations = organisations.into_iter().collect();
    }
}

/// The acts of a database as facts, built from its records in any order.
#[derive(Debug, Default)]
pub struct Facts {
    pub acts: Vec<ActFact>,
}

/// Collects records, then joins them into [`Facts`].
#[derive(Default)]
pub struct FactsBuilder {
    resolved: HashMap<RecordId, RecordId>,
    persons: HashMap<RecordId, (Sex, FuzzyDate)>,
    sources: HashMap<RecordId, SourceFacts>,
    acts: Vec<Act>,
    agencies: HashMap<RecordId, BTreeSet<String>>,
    /// Act or event id → (source, witness relation).
    attestations: HashMap<RecordId, Vec<(RecordId, Option<String>)>>,
}

struct SourceFacts {
    witness: Option<RecordId>,
    organisation: Option<String>,
    consent: Option<ConsentScope>,
}

impl Facts {
    /// `resolved` maps person records a reviewer merged to the person they
    /// resolve to (records missing from it stand for themselves).
    pub fn builder(resolved: HashMap<RecordId, RecordId>) -> FactsBuilder {
        FactsBuilder {
            resolved,
            ..FactsBuilder::default()
        }
    }

    /// Distinct victims among the facts.
    pub fn victims(&self) -> usize {
        self.acts
            .iter()
            .map(|fact| &fact.victim)
            .collect::<BTreeSet<_>>()
            .len()
    }
}

impl Facts {
    /// Every act of a database as facts, victims resolved through
    /// `resolved` (person record → the person it resolves to).
    pub fn load(
        store: &impl girok_store::Store,
        resolved: HashMap<RecordId, RecordId>,
    ) -> Result<Facts, girok_store::StoreError> {
        let mut builder = Facts::builder(resolved);
        let vocabularies = store.shared_vocabularies();
        store.for_each_record(&mut |mut record| {
            // One organisation is one list however its sources spell it.
            if let Record::Source(source) = &mut record {
                source.organisation = source
                    .organisation
                    .as_deref()
                    .map(|text| vocabularies.organisation_list(text));
            }
            builder.add(record);
            Ok(())
        })?;
        Ok(builder.finish())
    }

    /// Keeps what an audience may see: the acts some source allows it to
    /// know, each counted from those sources only (a second testimony that
    /// did not consent is neither a corroboration nor a relation nor a list).
    /// Returns how many acts were left out.
    pub fn restrict_to(&mut self, audience: Audience) -> usize {
        let Some(required) = audience.required_consent() else {
            return 0;
        };
        let before = self.acts.len();
        for fact in &mut self.acts {
            fact.attested_by
                .retain(|a| a.consent.is_some_and(|scope| scope >= required));
            fact.summarise();
        }
        self.acts.retain(|fact| !fact.attested_by.is_empty());
        before - self.acts.len()
    }
}

/// Who an output is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Internal,
    Partners,
    Public,
}

impl Audience {
    pub fn name(self) -> &'static str {
        match self {
            Audience::Internal => "internal",
            Audience::Partners => "partners",
            Audience::Public => "public",
        }
    }

    pub fn ko(self) -> &'static str {
        match self {
            Audience::Internal => "내부",
            Audience::Partners => "협력기관",
            Audience::Public => "공개",
        }
    }

    /// The narrowest consent a fact's sources must allow for this audience.
    pub fn required_consent(self) -> Option<ConsentScope> {
        match self {
            Audience::Internal => None,
            Audience::Partners => Some(ConsentScope::Partners),
            Audience::Public => Some(ConsentScope::PublicAnonymised),
        }
    }

    /// Smallest count shown: everything inside the organisation, 5 outside.
    pub fn default_threshold(self) -> Option<u64> {
        match self {
            Audience::Internal => None,
            Audience::Partners | Audience::Public => Some(crate::published::THRESHOLD),
        }
    }
}

impl FactsBuilder {
    pub fn add(&mut self, record: Record) {
        match record {
            Record::Person(person) => {
                self.persons.insert(person.id, (person.sex, person.birth));
            }
            Record::Source(source) => {
                self.sources.insert(
                    source.id,
                    SourceFacts {
                        witness: source.witness,
                        organisation: source.organisation,
                        // Published material (reports, media, documents)
                        // records no consent: it is already public.
                        consent: source
                            .consent
                            .or((source.kind != SourceKind::Interview)
                                .then_some(ConsentScope::Public)),
                    },
                );
            }
            Record::Act(act) => self.acts.push(act),
            Record::Involvement(involvement) => {
                let agency = match (involvement.agency, involvement.perpetrator) {
                    (Some(agency), _) => agency,
                    (None, Some(_)) => "individual".to_string(),
                    (None, None) => "unknown".to_string(),
                };
                self.agencies
                    .entry(involvement.act)
                    .or_default()
                    .insert(agency);
            }
            Record::Information(information) => {
                for about in [information.act, information.event].into_iter().flatten() {
                    self.attestations
                        .entry(about)
                        .or_default()
                        .push((information.source.clone(), information.relation.clone()));
                }
            }
            Record::Event(_) | Record::Relation(_) | Record::Evidence(_) => {}
        }
    }

    pub fn finish(self) -> Facts {
        let no_attestations = Vec::new();
        let acts = self
            .acts
            .iter()
            .map(|act| {
                // An act is attested by what is said about it and about its event.
                let attestations: Vec<&(RecordId, Option<String>)> = self
                    .attestations
                    .get(&act.id)
                    .unwrap_or(&no_attestations)
                    .iter()
                    .chain(
                        act.event
                            .as_ref()
                            .and_then(|event| self.attestations.get(event))
                            .unwrap_or(&no_attestations),
                    )
                    .collect();
                let mut attested_by = Vec::new();
                let mut seen_sources = BTreeSet::new();
                for (source_id, relation) in attestations {
                    if !seen_sources.insert(source_id) {
                        continue;
                    }
                    let relation = relation.clone().unwrap_or_else(|| "unknown".into());
                    attested_by.push(match self.sources.get(source_id) {
                        Some(source) => {
                            let witness = source.witness.as_ref().unwrap_or(source_id);
                            Attestation {
                                witness: self.resolved.get(witness).unwrap_or(witness).clone(),
                                relation,
                                organisation: source.organisation.clone(),
                                consent: source.consent,
                            }
                        }
                        None => Attestation {
                            witness: source_id.clone(),
                            relation,
                            organisation: None,
                            consent: None,
                        },
                    });
                }
                let (sex, birth) = self
                    .persons
                    .get(&act.victim)
                    .cloned()
                    .unwrap_or((Sex::Unknown, FuzzyDate::UNKNOWN));
                let age = match act.victim_age {
                    Some(years) => Some(AgeRange {
                        youngest: years,
                        oldest: years,
                    }),
                    None => age_between(&birth, &act.date),
                };
                let mut fact = ActFact {
                    act: act.id.clone(),
                    victim: self
                        .resolved
                        .get(&act.victim)
                        .unwrap_or(&act.victim)
                        .clone(),
                    event: act.event.clone(),
                    act_type: act.act_type.clone(),
                    date: act.date.clone(),
                    place: act.place.clone(),
                    agencies: self
                        .agencies
                        .get(&act.id)
                        .map(|set| set.iter().cloned().collect())
                        .unwrap_or_default(),
                    sex,
                    age,
                    relations: Vec::new(),
                    corroboration: 0,
                    organisations: Vec::new(),
                    consent: None,
                    attested_by,
                };
                fact.summarise();
                fact
            })
            .collect();
        Facts { acts }
    }
}

/// The age at an act from the birth date, as whole years between the
/// years (the convention of a birth year and an act year): from the
/// latest birth to the earliest act, up to the earliest birth to the latest
/// act. `None` when either date is unknown or the act precedes the birth.
fn age_between(birth: &FuzzyDate, act: &FuzzyDate) -> Option<AgeRange> {
    let (born_first, born_last) = birth.bounds()?;
    let (act_first, act_last) = act.bounds()?;
    let oldest = u16::try_from(act_last.year() - born_first.year()).ok()?;
    let youngest = u16::try_from(act_first.year() - born_last.year()).unwrap_or(0);
    Some(AgeRange { youngest, oldest })
}
