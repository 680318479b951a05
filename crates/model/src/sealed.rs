//! Identifying data sealed before it reaches the journal.
//!
//! A person's names, birth, origin, description and notes, a source's
//! title, provenance and notes, an event's title and description, an act's
//! description, and an evidence file's name and collector are its
//! *secrets* (with the clarification notes of each). In an
//! encrypted database they are moved out of the record into a [`Sealed`]
//! envelope — ciphertext under the record's own data key, plus keyed blind
//! indexes for linkage — and the record keeps only de-identified facts.
//! The model only carries the envelope; cryptography is `girok-vault`'s.

use serde::{Deserialize, Serialize};

use crate::{Clarifications, FuzzyDate, Name, Record, RecordId, SealedContent};

/// The identifying fields of one record, sealed together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Secrets {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<Name>,
    #[serde(default, skip_serializing_if = "FuzzyDate::is_unknown")]
    pub birth: FuzzyDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provenance: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    #[serde(default, skip_serializing_if = "Clarifications::is_empty")]
    pub clarifications: Clarifications,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub file_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<SealedContent>,
}

/// Secrets as stored: authenticated ciphertext and blind indexes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sealed {
    /// Which version of the sealing scheme wrote it.
    pub scheme: u8,
    /// Base64 of the nonce.
    pub nonce: String,
    /// Base64 of the ciphertext with its authentication tag.
    pub ciphertext: String,
    /// Keyed hashes (hex) of the blocking keys of the names, so linkage can
    /// find candidates without reading a name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blind: Vec<String>,
    /// The record whose data key sealed it, when not the record itself: an
    /// act's text is sealed under its victim's key, so that forgetting the
    /// victim shreds what was written about them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub under: Option<RecordId>,
}

impl Record {
    /// Whether this kind of record has secrets.
    pub fn has_secrets(&self) -> bool {
        matches!(
            self,
            Record::Person(_)
                | Record::Source(_)
                | Record::Evidence(_)
                | Record::Event(_)
                | Record::Act(_)
        )
    }

    /// Moves the secrets out of the record, leaving those fields empty.
    /// `None` for kinds without secrets.
    pub fn take_secrets(&mut self) -> Option<Secrets> {
        let take = std::mem::take::<String>;
        match self {
            Record::Person(p) => Some(Secrets {
                names: std::mem::take(&mut p.names),
                birth: std::mem::replace(&mut p.birth, FuzzyDate::UNKNOWN),
                origin: p.origin.take(),
                description: take(&mut p.description),
                notes: take(&mut p.notes),
                clarifications: std::mem::take(&mut p.clarifications),
                ..Secrets::default()
            }),
            // Any title can name a witness ("report on the testimony of ..."), not only an interview's.
            Record::Source(s) => Some(Secrets {
                title: take(&mut s.title),
                provenance: take(&mut s.provenance),
                notes: take(&mut s.notes),
                clarifications: std::mem::take(&mut s.clarifications),
                ..Secrets::default()
            }),
            Record::Event(e) => Some(Secrets {
                title: take(&mut e.title),
                description: take(&mut e.description),
                clarifications: std::mem::take(&mut e.clarifications),
                ..Secrets::default()
            }),
            Record::Act(a) => Some(Secrets {
                description: take(&mut a.description),
                clarifications: std::mem::take(&mut a.clarifications),
                ..Secrets::default()
            }),
            Record::Evidence(e) => Some(Secrets {
                file_name: take(&mut e.file_name),
                collector: e.collector.take(),
                content: e.content.take(),
                ..Secrets::default()
            }),
            _ => None,
        }
    }

    /// Puts opened secrets back into the record.
    pub fn restore_secrets(&mut self, secrets: Secrets) {
        match self {
            Record::Person(p) => {
                p.names = secrets.names;
                p.birth = secrets.birth;
                p.origin = secrets.origin;
                p.description = secrets.description;
                p.notes = secrets.notes;
                p.clarifications = secrets.clarifications;
            }
            Record::Source(s) => {
                // Earlier versions sealed only an interview's title and left
                // other titles in the record.
                if !secrets.title.is_empty() {
                    s.title = secrets.title;
                }
                s.provenance = secrets.provenance;
                s.notes = secrets.notes;
                s.clarifications = secrets.clarifications;
            }
            Record::Event(e) => {
                e.title = secrets.title;
                e.description = secrets.description;
                e.clarifications = secrets.clarifications;
            }
            Record::Act(a) => {
                a.description = secrets.description;
                a.clarifications = secrets.clarifications;
            }
            Record::Evidence(e) => {
                e.file_name = secrets.file_name;
                e.collector = secrets.collector;
                e.content = secrets.content;
            }
            _ => {}
        }
    }

    /// The record whose data key seals this record's secrets: an act's
    /// victim, every other record itself.
    pub fn key_subject(&self) -> &RecordId {
        match self {
            Record::Act(a) => &a.victim,
            other => other.id(),
        }
    }

    /// The sealed envelope, if the record's secrets are sealed.
    pub fn sealed(&self) -> Option<&Sealed> {
        match self {
            Record::Person(p) => p.sealed.as_ref(),
            Record::Source(s) => s.sealed.as_ref(),
            Record::Evidence(e) => e.sealed.as_ref(),
            Record::Event(e) => e.sealed.as_ref(),
            Record::Act(a) => a.sealed.as_ref(),
            _ => None,
        }
    }

    /// Replaces the envelope (kinds without secrets have none).
    pub fn set_sealed(&mut self, sealed: Option<Sealed>) {
        match self {
            Record::Person(p) => p.sealed = sealed,
            Record::Source(s) => s.sealed = sealed,
            Record::Evidence(e) => e.sealed = sealed,
            Record::Event(e) => e.sealed = sealed,
            Record::Act(a) => a.sealed = sealed,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Person, RecordId, Romanization};

    #[test]
    fn secrets_move_out_and_back_unchanged() {
        let mut person = Person::new(
            RecordId::new("p1"),
            vec![Name::detect("김은주", Romanization::Unknown)],
        );
        person.notes = "lives in Seoul".into();
        person.birth = FuzzyDate::parse("1985").expect("date");
        let original = Record::Person(person);
        let mut record = original.clone();
        let secrets = record.take_secrets().expect("a person has secrets");
        let Record::Person(bare) = &record else {
            unreachable!()
        };
        assert!(bare.names.is_empty() && bare.notes.is_empty() && bare.birth.is_unknown());
        record.restore_secrets(secrets);
        assert_eq!(record, original);
    }
}
