//! Typed changes: the only way anything is written (MODEL.md, "the write path").
//!
//! A change is validated here for everything that needs no database: shapes,
//! vocabulary terms, dates. Whether referenced records exist, and revisions,
//! are checked by the store inside the transaction that applies the change.

use serde::{Deserialize, Serialize};

use crate::Wording;
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
                        Wording::new(
                            format!(
                                "'{}' must be lower-case letters, digits and hyphens",
                                term.key
                            ),
                            format!("'{}': 소문자, 숫자, 하이픈만 쓸 수 있습니다", term.key),
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
                        Wording::new(
                            "a decision names at least two different person records",
                            "결정에는 서로 다른 인물 기록이 둘 이상 있어야 합니다",
                        ),
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
    pub message: Wording,
}

fn record_prefix(record: &Option<RecordId>) -> String {
    record
        .as_ref()
        .map(|id| format!("record {id}, "))
        .unwrap_or_default()
}

impl Invalid {
    pub fn field(record: Option<&RecordId>, field: &str, message: Wording) -> Invalid {
        Invalid {
            record: record.cloned(),
            field: field.to_string(),
            message,
        }
    }

    /// The same refusal in Korean.
    pub fn korean(&self) -> String {
        let record = self
            .record
            .as_ref()
            .map(|id| format!("기록 {id}, "))
            .unwrap_or_default();
        format!("{record}`{}` 항목: {}", self.field, self.message.korean())
    }

    /// The refusal in both languages.
    pub fn wording(&self) -> Wording {
        Wording::new(self.to_string(), self.korean())
    }
}

/// "must not be empty", in both languages.
pub fn must_not_be_empty() -> Wording {
    Wording::new("must not be empty", "비워 둘 수 없습니다")
}

/// An id that is not one, in both languages.
pub fn not_an_id(text: &str) -> Wording {
    Wording::new(
        format!("'{text}' is not a valid id: use 1 to 64 letters, digits or - _ . :"),
        format!("'{text}'은(는) 올바른 ID가 아닙니다: 글자, 숫자 또는 - _ . : 1~64자를 쓰세요"),
    )
}

fn require_text(record: Option<&RecordId>, field: &str, text: &str) -> Result<(), Invalid> {
    if text.trim().is_empty() {
        return Err(Invalid::field(record, field, must_not_be_empty()));
    }
    if text.chars().count() > MAX_SHORT_TEXT {
        return Err(Invalid::field(
            record,
            field,
            Wording::new(
                format!("is longer than {MAX_SHORT_TEXT} characters"),
                format!("{MAX_SHORT_TEXT}자보다 깁니다"),
            ),
        ));
    }
    Ok(())
}

fn check_id(record: Option<&RecordId>, field: &str, id: &RecordId) -> Result<(), Invalid> {
    if id.is_well_formed() {
        Ok(())
    } else {
        Err(Invalid::field(record, field, not_an_id(id.as_str())))
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
            Wording::new(
                format!("'{sha256}' is not 64 lower-case hex digits"),
                format!("'{sha256}'은(는) 소문자 16진수 64자리가 아닙니다"),
            ),
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
            .map_err(|e: TermError| Invalid::field(Some(record), field, e.wording())),
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
                    Wording::new(
                        format!(
                            "an interview needs a consent scope: one of {}",
                            ConsentScope::expected()
                        ),
                        format!(
                            "면담에는 동의 범위가 필요합니다: {} 중 하나",
                            ConsentScope::expected()
                        ),
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
                        Wording::new(
                            format!("'{language}' is not a language tag such as ko, en or ko-KP"),
                            format!("'{language}'은(는) ko, en, ko-KP 같은 언어 태그가 아닙니다"),
                        ),
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
                        Wording::new(
                            format!(
                                "'{}' is written in {detected} script, not {}",
                                name.text, name.script
                            ),
                            format!(
                                "'{}'은(는) {} 문자가 아니라 {detected} 문자로 적혀 있습니다",
                                name.text, name.script
                            ),
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
                        Wording::new(
                            "an individual has no size; use kind family or group",
                            "개인에게는 규모가 없습니다; 가족(family)이나 집단(group)을 쓰세요",
                        ),
                    ));
                }
                (_, Some(0)) => {
                    return Err(Invalid::field(
                        Some(id),
                        "unit.size",
                        Wording::new("must be at least 1", "1 이상이어야 합니다"),
                    ));
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
                    Wording::new("must be 0 to 130 years", "0세에서 130세 사이여야 합니다"),
                ));
            }
        }
        Record::Involvement(involvement) => {
            if involvement.perpetrator.is_none() && involvement.agency.is_none() {
                return Err(Invalid::field(
                    Some(id),
                    "agency",
                    Wording::new(
                        "name a perpetrator, an agency or both (the agency may be `unknown`)",
                        "가해자나 기관, 또는 둘 다 적으세요 (기관은 `unknown`(미상)일 수 있습니다)",
                    ),
                ));
            }
            term("agency", VocabKind::Agency, involvement.agency.as_ref())?;
        }
        Record::Information(information) => {
            if information.act.is_none() && information.event.is_none() {
                return Err(Invalid::field(
                    Some(id),
                    "act",
                    Wording::new(
                        "information must attest an act or an event",
                        "진술은 행위나 사건을 증언해야 합니다",
                    ),
                ));
            }
            if information
                .credibility
                .is_some_and(|c| !(1..=6).contains(&c))
            {
                return Err(Invalid::field(
                    Some(id),
                    "credibility",
                    Wording::new("must be 1 to 6", "1에서 6 사이여야 합니다"),
                ));
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
                    Wording::new(
                        "a person cannot be related to themselves",
                        "자기 자신과 관계를 맺을 수는 없습니다",
                    ),
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
            error
                .message
                .english()
                .contains("did you mean public-execution"),
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
