//! Typed changes: the only way anything is written (MODEL.md, "the write path").
//!
//! A change is validated here for everything that needs no database: shapes,
//! vocabulary terms, dates. Whether referenced records exist, and revisions,
//! are checked by the store inside the transaction that applies the change.

use serde::{Deserialize, Serialize};

use crate::record::{
    ConsentScope, CustodyAction, Record, RecordId, RecordKind, Script, SourceKind, UnitKind,
};
use crate::vocab::{Term, TermError, VocabKind, Vocabularies};

/// The longest name, title or label Girok accepts; longer text is almost
/// certainly a pasted document in the wrong field.
pub const MAX_SHORT_TEXT: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Change {
    Create {
        record: Record,
    },
    /// Replaces a record's fields. `base_revision` is the revision the editor
    /// saw; if the record changed since, the update is refused, so no
    /// concurrent edit is silently lost.
    Update {
        record: Record,
        base_revision: u32,
    },
    Delete {
        kind: RecordKind,
        id: RecordId,
        base_revision: u32,
        reason: String,
    },
    /// Narrows (or, with `widen` and a reason, widens) a source's consent.
    SetConsent {
        source: RecordId,
        scope: ConsentScope,
        #[serde(default)]
        widen: bool,
        reason: String,
    },
    AddTerm {
        vocabulary: VocabKind,
        term: Term,
    },
    /// One event in the chain of custody of an evidence file. The actor and
    /// time are the journal entry's.
    Custody {
        evidence: RecordId,
        sha256: String,
        action: CustodyAction,
        /// Who received it, for copies, exports and transfers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recipient: Option<String>,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        note: String,
    },
    /// A reviewer's decision that person records are one person (`same`)
    /// or pairwise different people. Later linkage runs respect it.
    LinkDecision {
        same: bool,
        persons: Vec<RecordId>,
        reason: String,
    },
    /// Withdraws every linkage decision about a person (unmerge): the
    /// person stands alone again and later runs decide afresh.
    Unlink {
        person: RecordId,
        reason: String,
    },
    /// Crypto-shredding: the data key of a person, source, event or evidence
    /// file is destroyed, so its sealed identifying data and free text (a
    /// person's also the descriptions of acts against them) can never be
    /// read again. The record and its de-identified facts stay; the journal
    /// still verifies.
    Forget {
        subject: RecordId,
        reason: String,
    },
    /// Marks the start of an import, so the same file is never imported twice.
    Import {
        file_name: String,
        sha256: String,
        records: u64,
    },
}

impl Change {
    /// The record this change is about, for `history`.
    pub fn subject(&self) -> Option<&RecordId> {
        match self {
            Change::Create { record } | Change::Update { record, .. } => Some(record.id()),
            Change::Delete { id, .. } => Some(id),
            Change::SetConsent { source, .. } => Some(source),
            Change::Custody { evidence, .. } => Some(evidence),
            Change::LinkDecision { persons, .. } => persons.first(),
            Change::Unlink { person, .. } => Some(person),
            Change::Forget { subject, .. } => Some(subject),
            Change::AddTerm { .. } | Change::Import { .. } => None,
        }
    }

    /// A short description for listings.
    pub fn summary(&self) -> String {
        match self {
            Change::Create { record } => format!("create {} {}", record.kind(), record.id()),
            Change::Update {
                record,
                base_revision,
            } => format!(
                "update {} {} (from revision {base_revision})",
                record.kind(),
                record.id()
            ),
            Change::Delete {
                kind, id, reason, ..
            } => format!("delete {kind} {id}: {reason}"),
            Change::SetConsent {
                source,
                scope,
                widen,
                reason,
            } => format!(
                "{} consent of {source} to {scope}: {reason}",
                if *widen { "widen" } else { "set" }
            ),
            Change::AddTerm { vocabulary, term } => {
                format!("add term {} to {vocabulary}", term.key)
            }
            Change::Import {
                file_name, records, ..
            } => {
                format!("import {records} records from {file_name}")
            }
            Change::LinkDecision {
                same,
                persons,
                reason,
            } => {
                let persons: Vec<&str> = persons.iter().map(RecordId::as_str).collect();
                let verdict = if *same {
                    "same person"
                } else {
                    "different persons"
                };
                format!("{verdict}: {}: {reason}", persons.join(", "))
            }
            Change::Unlink { person, reason } => format!("unmerge {person}: {reason}"),
            Change::Forget { subject, reason } => {
                format!("forget {subject} (data key destroyed): {reason}")
            }
            Change::Custody {
                evidence,
                sha256,
                action,
                recipient,
                note,
            } => {
                let to = recipient
                    .as_ref()
                    .map(|r| format!(" to {r}"))
                    .unwrap_or_default();
                let note = if note.is_empty() {
                    String::new()
                } else {
                    format!(": {note}")
                };
                format!("{action} of evidence {evidence} ({sha256}){to}{note}")
            }
        }
    }

    /// Checks everything that does not need the database.
    pub fn validate(&self, vocabularies: &Vocabularies) -> Result<(), Invalid> {
        match self {
            Change::Create { record } | Change::Update { record, .. } => {
                validate_record(record, vocabularies)
            }
            Change::Delete { id, reason, .. } => {
                check_id(None, "id", id)?;
                require_text(Some(id), "reason", reason)
            }
            Change::Forget { subject, reason } => {
                check_id(None, "subject", subject)?;
                require_text(Some(subject), "reason", reason)
            }
            Change::SetConsent {
                source,
                widen,
                reason,
                ..
            } => {
                check_id(None, "source", source)?;
                if *widen {
                    require_text(Some(source), "reason", reason)?;
                }
                Ok(())
            }
            Change::AddTerm { term, .. } => {
                if !crate::vocab::is_term_key(&term.key) {
                    return Err(Invalid::field(
                        None,
                        "key",
                        format!(
                            "'{}' must be lower-case letters, digits and hyphens",
                            term.key
                        ),
                    ));
                }
                require_text(None, "en", &term.en)?;
                require_text(None, "ko", &term.ko)
            }
            Change::Custody {
                evidence,
                sha256,
                action,
                recipient,
                ..
            } => {
                check_id(None, "evidence", evidence)?;
                check_sha256(Some(evidence), sha256)?;
                if matches!(
                    action,
                    CustodyAction::Copy | CustodyAction::Export | CustodyAction::Transfer
                ) {
                    require_text(
                        Some(evidence),
                        "recipient",
                        recipient.as_deref().unwrap_or_default(),
                    )?;
                }
                Ok(())
            }
            Change::Import {
                sha256, file_name, ..
            } => {
                require_text(None, "file_name", file_name)?;
                check_sha256(None, sha256)
            }
            Change::LinkDecision {
                persons, reason, ..
            } => {
                let mut distinct: Vec<&RecordId> = persons.iter().collect();
                distinct.sort();
                distinct.dedup();
                if distinct.len() < 2 || distinct.len() != persons.len() {
                    return Err(Invalid::field(
                        persons.first(),
                        "persons",
                        "a decision names at least two different person records",
                    ));
                }
                for person in persons {
                    check_id(None, "persons", person)?;
                }
                require_text(persons.first(), "reason", reason)
            }
            Change::Unlink { person, reason } => {
                check_id(None, "person", person)?;
                require_text(Some(person), "reason", reason)
            }
        }
    }
}

/// A change that cannot be applied, naming the record and field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}field `{field}`: {message}", record_prefix(.record))]
pub struct Invalid {
    pub record: Option<RecordId>,
    pub field: String,
    pub message: String,
}

fn record_prefix(record: &Option<RecordId>) -> String {
    record
        .as_ref()
        .map(|id| format!("record {id}, "))
        .unwrap_or_default()
}

impl Invalid {
    pub fn field(record: Option<&RecordId>, field: &str, message: impl Into<String>) -> Invalid {
        Invalid {
            record: record.cloned(),
            field: field.to_string(),
            message: message.into(),
        }
    }
}

fn require_text(record: Option<&RecordId>, field: &str, text: &str) -> Result<(), Invalid> {
    if text.trim().is_empty() {
        return Err(Invalid::field(record, field, "must not be empty"));
    }
    if text.chars().count() > MAX_SHORT_TEXT {
        return Err(Invalid::field(
            record,
            field,
            format!("is longer than {MAX_SHORT_TEXT} characters"),
        ));
    }
    Ok(())
}

fn check_id(record: Option<&RecordId>, field: &str, id: &RecordId) -> Result<(), Invalid> {
    if id.is_well_formed() {
        Ok(())
    } else {
        Err(Invalid::field(
            record,
            field,
            format!("'{id}' is not a valid id: use 1 to 64 letters, digits or - _ . :"),
        ))
    }
}

fn check_sha256(record: Option<&RecordId>, sha256: &str) -> Result<(), Invalid> {
    if sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(Invalid::field(
            record,
            "sha256",
            format!("'{sha256}' is not 64 lower-case hex digits"),
        ))
    }
}

fn check_term(
    vocabularies: &Vocabularies,
    record: &RecordId,
    field: &str,
    kind: VocabKind,
    key: Option<&String>,
) -> Result<(), Invalid> {
    match key {
        Some(key) => vocabularies
            .check(kind, key)
            .map_err(|e: TermError| Invalid::field(Some(record), field, e.to_string())),
        None => Ok(()),
    }
}

fn validate_record(record: &Record, vocabularies: &Vocabularies) -> Result<(), Invalid> {
    let id = record.id();
    check_id(Some(id), "id", id)?;
    for (field, target, _) in record.references() {
        check_id(Some(id), field, target)?;
    }
    let term = |field: &str, kind: VocabKind, key: Option<&String>| {
        check_term(vocabularies, id, field, kind, key)
    };
    match record {
        Record::Source(source) => {
            // A sealed source's title is in its envelope.
            if source.sealed.is_none() {
                require_text(Some(id), "title", &source.title)?;
            }
            if source.kind == SourceKind::Interview && source.consent.is_none() {
                return Err(Invalid::field(
                    Some(id),
                    "consent",
                    format!(
                        "an interview needs a consent scope: one of {}",
                        ConsentScope::expected()
                    ),
                ));
            }
            if let Some(language) = &source.language {
                let well_formed = language.split('-').enumerate().all(|(i, part)| {
                    (if i == 0 { 2..=3 } else { 2..=8 }).contains(&part.len())
                        && part.bytes().all(|b| b.is_ascii_alphanumeric())
                });
                if !well_formed {
                    return Err(Invalid::field(
                        Some(id),
                        "language",
                        format!("'{language}' is not a language tag such as ko, en or ko-KP"),
                    ));
                }
            }
        }
        Record::Person(person) => {
            for (index, name) in person.names.iter().enumerate() {
                let field = format!("names[{index}].text");
                require_text(Some(id), &field, &name.text)?;
                let detected = Script::detect(&name.text);
                if detected != name.script {
                    return Err(Invalid::field(
                        Some(id),
                        &format!("names[{index}].script"),
                        format!(
                            "'{}' is written in {detected} script, not {}",
                            name.text, name.script
                        ),
                    ));
                }
            }
            term("origin", VocabKind::Place, person.origin.as_ref())?;
            match (person.unit.kind, person.unit.size) {
                (UnitKind::Individual, Some(_)) => {
                    return Err(Invalid::field(
                        Some(id),
                        "unit.size",
                        "an individual has no size; use kind family or group",
                    ));
                }
                (_, Some(0)) => {
                    return Err(Invalid::field(Some(id), "unit.size", "must be at least 1"));
                }
                _ => {}
            }
        }
        Record::Event(event) => {
            if event.sealed.is_none() {
                require_text(Some(id), "title", &event.title)?;
            }
            term("place", VocabKind::Place, event.place.as_ref())?;
            for violation in &event.violations {
                term("violations", VocabKind::ViolationCategory, Some(violation))?;
            }
        }
        Record::Act(act) => {
            term("act_type", VocabKind::ActType, Some(&act.act_type))?;
            term("place", VocabKind::Place, act.place.as_ref())?;
            term("status", VocabKind::ActStatus, act.status.as_ref())?;
            term("facility", VocabKind::FacilityType, act.facility.as_ref())?;
            if act.victim_age.is_some_and(|age| age > 130) {
                return Err(Invalid::field(
                    Some(id),
                    "victim_age",
                    "must be 0 to 130 years",
                ));
            }
        }
        Record::Involvement(involvement) => {
            if involvement.perpetrator.is_none() && involvement.agency.is_none() {
                return Err(Invalid::field(
                    Some(id),
                    "agency",
                    "name a perpetrator, an agency or both (the agency may be `unknown`)",
                ));
            }
            term("agency", VocabKind::Agency, involvement.agency.as_ref())?;
        }
        Record::Information(information) => {
            if information.act.is_none() && information.event.is_none() {
                return Err(Invalid::field(
                    Some(id),
                    "act",
                    "information must attest an act or an event",
                ));
            }
            if information
                .credibility
                .is_some_and(|c| !(1..=6).contains(&c))
            {
                return Err(Invalid::field(Some(id), "credibility", "must be 1 to 6"));
            }
            term(
                "relation",
                VocabKind::Relation,
                information.relation.as_ref(),
            )?;
        }
        Record::Relation(relation) => {
            term("relation", VocabKind::Relation, Some(&relation.relation))?;
            if relation.person == relation.other {
                return Err(Invalid::field(
                    Some(id),
                    "other",
                    "a person cannot be related to themselves",
                ));
            }
        }
        Record::Evidence(evidence) => {
            check_sha256(Some(id), &evidence.sha256)?;
            if evidence.sealed.is_none() {
                require_text(Some(id), "file_name", &evidence.file_name)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::*;

    fn act(act_type: &str) -> Record {
        Record::Act(Act {
            id: RecordId::new("a1"),
            act_type: act_type.into(),
            victim: RecordId::new("p1"),
            event: None,
            date: crate::FuzzyDate::UNKNOWN,
            place: Some("hoeryong".into()),
            victim_age: Some(19),
            status: None,
            facility: None,
            description: String::new(),
            received_by: None,
            clarifications: Default::default(),
            sealed: None,
        })
    }

    #[test]
    fn a_valid_act_passes() {
        let change = Change::Create {
            record: act("public-execution"),
        };
        assert_eq!(change.validate(&Vocabularies::default()), Ok(()));
    }

    #[test]
    fn an_unknown_term_names_the_field_and_close_terms() {
        let change = Change::Create {
            record: act("publc-execution"),
        };
        let error = change.validate(&Vocabularies::default()).expect_err("typo");
        assert_eq!(error.field, "act_type");
        assert_eq!(error.record, Some(RecordId::new("a1")));
        assert!(
            error.message.contains("did you mean public-execution"),
            "{error}"
        );
    }

    #[test]
    fn an_interview_without_consent_is_refused() {
        let source = Record::Source(Source {
            id: RecordId::new("s1"),
            kind: SourceKind::Interview,
            title: "Interview".into(),
            obtained: crate::FuzzyDate::UNKNOWN,
            language: Some("ko".into()),
            organisation: None,
            provenance: String::new(),
            consent: None,
            witness: None,
            received_by: None,
            notes: String::new(),
            clarifications: Default::default(),
            sealed: None,
        });
        let error = Change::Create { record: source }
            .validate(&Vocabularies::default())
            .expect_err("no consent");
        assert_eq!(error.field, "consent");
    }

    #[test]
    fn a_name_in_the_wrong_script_is_refused() {
        let name = Name {
            text: "김은주".into(),
            script: Script::Latin,
            system: Romanization::Unknown,
            kind: NameKind::Legal,
        };
        let person = Record::Person(Person::new(RecordId::new("p1"), vec![name]));
        let error = Change::Create { record: person }
            .validate(&Vocabularies::default())
            .expect_err("wrong script");
        assert_eq!(error.field, "names[0].script");
    }

    #[test]
    fn changes_encode_to_the_same_bytes_every_time() {
        let change = Change::Create {
            record: act("torture"),
        };
        let first = serde_json::to_vec(&change).expect("encode");
        let decoded: Change = serde_json::from_slice(&first).expect("decode");
        assert_eq!(decoded, change);
        assert_eq!(serde_json::to_vec(&decoded).expect("encode"), first);
    }
}
