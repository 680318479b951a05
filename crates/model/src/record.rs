//! The records of MODEL.md, one type per concept.
//!
//! Field order matters: records are serialized into the journal in declaration
//! order, and that encoding must never change for existing fields. New fields
//! go at the end, optional, skipped when empty.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Sealed;
use crate::date::FuzzyDate;

/// A record identifier, unique across all record kinds in one database.
///
/// Letters, digits and `-_.:`, at most 64 bytes, so ids survive CSV, URLs and
/// file names unchanged.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordId(pub String);

impl RecordId {
    pub fn new(text: impl Into<String>) -> RecordId {
        RecordId(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_well_formed(&self) -> bool {
        !self.0.is_empty()
            && self.0.len() <= 64
            && self
                .0
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Generates the `as_str` / `ko` / `parse` / `ALL` boilerplate for closed keyword enums,
/// each variant with its keyword and its Korean label.
macro_rules! keywords {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal / $korean:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The Korean label.
            pub fn ko(self) -> &'static str {
                match self { $($name::$variant => $korean),+ }
            }

            /// Parses the keyword or its Korean label, ignoring case and surrounding space.
            pub fn parse(text: &str) -> Option<$name> {
                let text = text.trim().to_lowercase();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == text || v.ko().to_lowercase() == text)
            }

            /// The accepted keywords, for error messages.
            pub fn expected() -> String {
                $name::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

keywords!(
    /// The kinds of record, as named in ids, tables and messages.
    RecordKind {
        Source = "source" / "출처",
        Person = "person" / "인물",
        Event = "event" / "사건",
        Act = "act" / "행위",
        Involvement = "involvement" / "가해 관여",
        Information = "information" / "정보",
        Relation = "relation" / "관계",
        Evidence = "evidence" / "증거",
    }
);

/// Every field by which a record refers to another: the referring kind, the
/// field (also its column in the state tables) and the kind it must refer to.
/// Grouped by the kind referred to, in the order refusals list referrers.
pub const REFERENCE_FIELDS: &[(RecordKind, &str, RecordKind)] = &[
    (RecordKind::Act, "victim", RecordKind::Person),
    (RecordKind::Involvement, "perpetrator", RecordKind::Person),
    (RecordKind::Relation, "person", RecordKind::Person),
    (RecordKind::Relation, "other", RecordKind::Person),
    (RecordKind::Source, "witness", RecordKind::Person),
    (RecordKind::Information, "source", RecordKind::Source),
    (RecordKind::Evidence, "source", RecordKind::Source),
    (RecordKind::Act, "event", RecordKind::Event),
    (RecordKind::Information, "event", RecordKind::Event),
    (RecordKind::Involvement, "act", RecordKind::Act),
    (RecordKind::Information, "act", RecordKind::Act),
];

keywords!(
    SourceKind {
        Interview = "interview" / "면담",
        Document = "document" / "문서",
        Report = "report" / "보고서",
        Media = "media" / "언론",
        Other = "other" / "기타",
    }
);

keywords!(
    /// Who may see what a source says, narrowest first. Ordered: a later
    /// variant is wider than an earlier one.
    ConsentScope {
        Internal = "internal" / "내부",
        Partners = "partners" / "협력기관",
        PublicAnonymised = "public-anonymised" / "익명 공개",
        Public = "public" / "공개",
    }
);

keywords!(
    Script {
        Hangul = "hangul" / "한글",
        Latin = "latin" / "로마자",
        Other = "other" / "기타 문자",
    }
);

keywords!(
    /// How a Latin-script name was romanized, where known.
    Romanization {
        RevisedRomanization = "rr" / "국어의 로마자 표기법",
        McCuneReischauer = "mr" / "매큔-라이샤워",
        Dprk = "dprk" / "북한식",
        Passport = "passport" / "여권",
        Unknown = "unknown" / "미상",
    }
);

keywords!(
    NameKind {
        Legal = "legal" / "본명",
        Alias = "alias" / "가명",
        Nickname = "nickname" / "별명",
    }
);

keywords!(
    Sex {
        Female = "female" / "여성",
        Male = "male" / "남성",
        Other = "other" / "기타",
        Unknown = "unknown" / "미상",
    }
);

keywords!(
    /// Whether a person record stands for one human, a family or a group.
    UnitKind {
        Individual = "individual" / "개인",
        Family = "family" / "가족",
        Group = "group" / "집단",
    }
);

keywords!(
    /// The perpetrator's part in an act.
    Degree {
        Ordered = "ordered" / "지시",
        CarriedOut = "carried-out" / "실행",
        Complicit = "complicit" / "공모",
        Unknown = "unknown" / "미상",
    }
);

keywords!(
    /// Reliability of a source (Admiralty scale A-F).
    Reliability {
        A = "a" / "A",
        B = "b" / "B",
        C = "c" / "C",
        D = "d" / "D",
        E = "e" / "E",
        F = "f" / "F",
    }
);

keywords!(
    /// How the witness knows what they attest.
    Knowledge {
        Saw = "saw" / "목격",
        HeardFromVictim = "heard-from-victim" / "피해자에게 들음",
        HeardFromOthers = "heard-from-others" / "타인에게 들음",
        Document = "document" / "문서로 앎",
        Unknown = "unknown" / "미상",
    }
);

keywords!(
    /// What happened to an evidence file: its chain of custody.
    CustodyAction {
        Intake = "intake" / "접수",
        Access = "access" / "열람",
        Copy = "copy" / "복사",
        Export = "export" / "반출",
        Transfer = "transfer" / "이관",
    }
);

impl Script {
    /// The script a text is written in: Hangul if it has any Hangul, Latin if
    /// all its letters are Latin.
    pub fn detect(text: &str) -> Script {
        if text.chars().any(is_hangul) {
            Script::Hangul
        } else if text
            .chars()
            .filter(|c| c.is_alphabetic())
            .all(|c| c.is_ascii_alphabetic() || ('\u{00C0}'..='\u{024F}').contains(&c))
        {
            Script::Latin
        } else {
            Script::Other
        }
    }
}

/// Hangul syllables and jamo.
pub fn is_hangul(c: char) -> bool {
    matches!(c, '\u{AC00}'..='\u{D7A3}' | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}')
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// Per-field clarification notes: field name to note ("the witness was unsure of the year").
pub type Clarifications = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub id: RecordId,
    pub kind: SourceKind,
    pub title: String,
    #[serde(default)]
    pub obtained: FuzzyDate,
    /// BCP 47 language tag of the source itself ("ko", "en").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The documenting organisation; statistics group sources into lists by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// Who supplied it and how.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provenance: String,
    /// Required for interviews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentScope>,
    /// The person who gave the testimony.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness: Option<RecordId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_by: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub clarifications: Clarifications,
    /// The secrets, when sealed (then title, provenance and notes are empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Sealed>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Name {
    pub text: String,
    pub script: Script,
    #[serde(default = "unknown_romanization")]
    pub system: Romanization,
    #[serde(default = "legal_name")]
    pub kind: NameKind,
}

fn unknown_romanization() -> Romanization {
    Romanization::Unknown
}

fn legal_name() -> NameKind {
    NameKind::Legal
}

impl Name {
    /// A legal name whose script is detected from the text.
    pub fn detect(text: &str, system: Romanization) -> Name {
        let script = Script::detect(text);
        Name {
            text: text.trim().to_string(),
            script,
            system: if script == Script::Hangul {
                Romanization::Unknown
            } else {
                system
            },
            kind: NameKind::Legal,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountingUnit {
    pub kind: UnitKind,
    /// How many people a family or group counts, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u32>,
}

impl Default for CountingUnit {
    fn default() -> Self {
        CountingUnit {
            kind: UnitKind::Individual,
            size: None,
        }
    }
}

impl CountingUnit {
    fn is_individual(&self) -> bool {
        *self == CountingUnit::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub id: RecordId,
    #[serde(default)]
    pub names: Vec<Name>,
    #[serde(default = "unknown_sex")]
    pub sex: Sex,
    #[serde(default)]
    pub birth: FuzzyDate,
    /// Place of origin, a key of the `places` vocabulary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Identifying data needs extra protection (witnesses, relatives at risk).
    #[serde(default, skip_serializing_if = "is_false")]
    pub protected: bool,
    /// An organisation or group acting as one, rather than a human.
    #[serde(default, skip_serializing_if = "is_false")]
    pub organisation: bool,
    #[serde(default, skip_serializing_if = "CountingUnit::is_individual")]
    pub unit: CountingUnit,
    /// How the person is described when no name is known ("her 19-year-old friend").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_by: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub clarifications: Clarifications,
    /// The secrets, when sealed (then names, birth, origin, description and notes are empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Sealed>,
}

fn unknown_sex() -> Sex {
    Sex::Unknown
}

impl Person {
    /// A person with these names and nothing else known.
    pub fn new(id: RecordId, names: Vec<Name>) -> Person {
        Person {
            id,
            names,
            sex: Sex::Unknown,
            birth: FuzzyDate::UNKNOWN,
            origin: None,
            protected: false,
            organisation: false,
            unit: CountingUnit::default(),
            description: String::new(),
            received_by: None,
            notes: String::new(),
            clarifications: BTreeMap::new(),
            sealed: None,
        }
    }

    /// The name to show first: the first legal name, else any name, else the description.
    pub fn display_name(&self) -> String {
        self.names
            .iter()
            .find(|n| n.kind == NameKind::Legal)
            .or(self.names.first())
            .map(|n| n.text.clone())
            .unwrap_or_else(|| {
                if self.sealed.is_some() {
                    "(sealed)".to_string()
                } else if self.description.is_empty() {
                    "(unnamed)".to_string()
                } else {
                    format!("({})", self.description)
                }
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub id: RecordId,
    pub title: String,
    #[serde(default)]
    pub date: FuzzyDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Keys of the `violation-categories` vocabulary.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_by: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub clarifications: Clarifications,
    /// In an encrypted database: the title, description and clarifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Sealed>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Act {
    pub id: RecordId,
    /// A key of the `act-types` vocabulary.
    pub act_type: String,
    pub victim: RecordId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<RecordId>,
    #[serde(default)]
    pub date: FuzzyDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// The victim's age at the act, in years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub victim_age: Option<u16>,
    /// A key of the `act-statuses` vocabulary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// A key of the `facility-types` vocabulary, for detention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_by: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub clarifications: Clarifications,
    /// In an encrypted database: the description and clarifications, sealed
    /// under the victim's data key (forgetting the victim shreds them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Sealed>,
}

/// A perpetrator in an act: a person, an agency, or both (a named officer of an agency).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Involvement {
    pub id: RecordId,
    pub act: RecordId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perpetrator: Option<RecordId>,
    /// A key of the `agencies` vocabulary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    #[serde(default = "unknown_degree")]
    pub degree: Degree,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub clarifications: Clarifications,
}

fn unknown_degree() -> Degree {
    Degree::Unknown
}

/// The information grades of the Admiralty scale: grade, English, Korean.
pub const CREDIBILITY: [(u8, &str, &str); 6] = [
    (1, "confirmed", "확인됨"),
    (2, "probably true", "사실일 가능성 높음"),
    (3, "possibly true", "사실일 수 있음"),
    (4, "doubtful", "의심스러움"),
    (5, "improbable", "사실일 가능성 낮음"),
    (6, "cannot be judged", "판단할 수 없음"),
];

/// A source attests an act or an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Information {
    pub id: RecordId,
    pub source: RecordId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<RecordId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<RecordId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reliability: Option<Reliability>,
    /// Credibility of the information, 1 (confirmed) to 6 (cannot be judged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credibility: Option<u8>,
    /// The witness's relation to the victim, a key of the `relations` vocabulary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    #[serde(default = "unknown_knowledge")]
    pub knowledge: Knowledge,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub clarifications: Clarifications,
}

fn unknown_knowledge() -> Knowledge {
    Knowledge::Unknown
}

/// Two persons related: `person` is the `relation` of `other` ("A is the sibling of B").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relation {
    pub id: RecordId,
    pub person: RecordId,
    pub other: RecordId,
    /// A key of the `relations` vocabulary.
    pub relation: String,
    #[serde(default)]
    pub date: FuzzyDate,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub clarifications: Clarifications,
}

/// Metadata of an evidence file; the bytes live in content-addressed storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub id: RecordId,
    pub source: RecordId,
    /// SHA-256 of the bytes at intake, lower-case hex. For a sensitive file
    /// sealed in an encrypted database, SHA-256 of a secret salt followed by
    /// the bytes: a commitment that no one holding a candidate file can test
    /// (the bytes' own hash and size are in `content`, sealed).
    pub sha256: String,
    pub file_name: String,
    /// The size in bytes (0 for a sealed sensitive file: see `content`).
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default)]
    pub captured: FuzzyDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collector: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub sensitive: bool,
    /// The file name and collector (and `content`), when sealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Sealed>,
    /// What identifies a sealed sensitive file's bytes; in the envelope
    /// while sealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<SealedContent>,
    /// Whether `sha256` is a salted commitment rather than the bytes' hash.
    #[serde(default, skip_serializing_if = "is_false")]
    pub salted: bool,
}

/// The hash and size of a sensitive file's bytes, and the salt of the
/// commitment journaled in their place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedContent {
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
    pub size: u64,
    /// Hex of the random salt: SHA-256(salt ‖ bytes) is the record's `sha256`.
    pub salt: String,
}

impl Evidence {
    /// The SHA-256 of the file's bytes, when it can be known here: the
    /// journaled one, or for a sealed file the one opened from its envelope.
    pub fn content_sha256(&self) -> Option<&str> {
        if self.salted {
            self.content.as_ref().map(|c| c.sha256.as_str())
        } else {
            Some(&self.sha256)
        }
    }

    /// The file's size in bytes, when it can be known here.
    pub fn content_size(&self) -> Option<u64> {
        if self.salted {
            self.content.as_ref().map(|c| c.size)
        } else {
            Some(self.size)
        }
    }
}

/// Any record, tagged with its kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Record {
    Source(Source),
    Person(Person),
    Event(Event),
    Act(Act),
    Involvement(Involvement),
    Information(Information),
    Relation(Relation),
    Evidence(Evidence),
}

impl Record {
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Source(_) => RecordKind::Source,
            Record::Person(_) => RecordKind::Person,
            Record::Event(_) => RecordKind::Event,
            Record::Act(_) => RecordKind::Act,
            Record::Involvement(_) => RecordKind::Involvement,
            Record::Information(_) => RecordKind::Information,
            Record::Relation(_) => RecordKind::Relation,
            Record::Evidence(_) => RecordKind::Evidence,
        }
    }

    pub fn id(&self) -> &RecordId {
        match self {
            Record::Source(r) => &r.id,
            Record::Person(r) => &r.id,
            Record::Event(r) => &r.id,
            Record::Act(r) => &r.id,
            Record::Involvement(r) => &r.id,
            Record::Information(r) => &r.id,
            Record::Relation(r) => &r.id,
            Record::Evidence(r) => &r.id,
        }
    }

    /// The records this one refers to, with the field and the kind each must be
    /// (always one of [`REFERENCE_FIELDS`]).
    pub fn references(&self) -> Vec<(&'static str, &RecordId, RecordKind)> {
        let optional: Vec<(&'static str, Option<&RecordId>, RecordKind)> = match self {
            Record::Source(r) => vec![("witness", r.witness.as_ref(), RecordKind::Person)],
            Record::Person(_) | Record::Event(_) => vec![],
            Record::Act(r) => vec![
                ("victim", Some(&r.victim), RecordKind::Person),
                ("event", r.event.as_ref(), RecordKind::Event),
            ],
            Record::Involvement(r) => vec![
                ("act", Some(&r.act), RecordKind::Act),
                ("perpetrator", r.perpetrator.as_ref(), RecordKind::Person),
            ],
            Record::Information(r) => vec![
                ("source", Some(&r.source), RecordKind::Source),
                ("act", r.act.as_ref(), RecordKind::Act),
                ("event", r.event.as_ref(), RecordKind::Event),
            ],
            Record::Relation(r) => vec![
                ("person", Some(&r.person), RecordKind::Person),
                ("other", Some(&r.other), RecordKind::Person),
            ],
            Record::Evidence(r) => vec![("source", Some(&r.source), RecordKind::Source)],
        };
        optional
            .into_iter()
            .filter_map(|(field, id, kind)| id.map(|id| (field, id, kind)))
            .collect()
    }

    /// A one-line human label: title or name.
    pub fn label(&self) -> String {
        match self {
            Record::Source(r) => r.title.clone(),
            Record::Person(r) => r.display_name(),
            Record::Event(r) => r.title.clone(),
            Record::Act(r) => format!("{} of {} ({})", r.act_type, r.victim, r.date),
            Record::Involvement(r) => format!(
                "{} in {}",
                r.agency
                    .clone()
                    .or(r.perpetrator.as_ref().map(|p| p.to_string()))
                    .unwrap_or_else(|| "unknown".into()),
                r.act
            ),
            Record::Information(r) => format!(
                "{} attests {}",
                r.source,
                r.act
                    .as_ref()
                    .or(r.event.as_ref())
                    .map_or("-", |id| id.as_str())
            ),
            Record::Relation(r) => format!("{} is {} of {}", r.person, r.relation, r.other),
            Record::Evidence(r) => format!("{} ({})", r.file_name, r.sha256),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_scopes_are_ordered_narrow_to_wide() {
        assert!(ConsentScope::Internal < ConsentScope::Partners);
        assert!(ConsentScope::Partners < ConsentScope::PublicAnonymised);
        assert!(ConsentScope::PublicAnonymised < ConsentScope::Public);
    }

    #[test]
    fn scripts_are_detected() {
        assert_eq!(Script::detect("김은주"), Script::Hangul);
        assert_eq!(Script::detect("Kim Ŭnju"), Script::Latin);
        assert_eq!(Script::detect("Kim Eun-joo"), Script::Latin);
        assert_eq!(Script::detect("金恩珠"), Script::Other);
    }

    #[test]
    fn ids_are_restricted_to_safe_characters() {
        assert!(RecordId::new("per-001").is_well_formed());
        assert!(RecordId::new("UN:2025.05.20_a").is_well_formed());
        for bad in ["", "a b", "a/b", "김", &"x".repeat(65)] {
            assert!(!RecordId::new(bad).is_well_formed(), "{bad}");
        }
    }

    #[test]
    fn references_are_exactly_the_reference_fields() {
        // One record of each kind with every reference filled in.
        let records = [
            r#"{"type":"source","id":"s","kind":"interview","title":"t","consent":"internal","witness":"p"}"#,
            r#"{"type":"act","id":"a","act_type":"arrest","victim":"p","event":"e"}"#,
            r#"{"type":"involvement","id":"i","act":"a","perpetrator":"p"}"#,
            r#"{"type":"information","id":"f","source":"s","act":"a","event":"e"}"#,
            r#"{"type":"relation","id":"r","person":"p","other":"q","relation":"sibling"}"#,
            r#"{"type":"evidence","id":"v","source":"s","sha256":"00","file_name":"f","size":1}"#,
        ];
        let mut found: Vec<(RecordKind, &str, RecordKind)> = Vec::new();
        let parsed: Vec<Record> = records
            .iter()
            .map(|json| serde_json::from_str(json).expect(json))
            .collect();
        for record in &parsed {
            for (field, _, target) in record.references() {
                found.push((record.kind(), field, target));
            }
        }
        let mut expected = REFERENCE_FIELDS.to_vec();
        found.sort();
        expected.sort();
        assert_eq!(found, expected);
    }

    #[test]
    fn records_reject_unknown_fields() {
        let json = r#"{"type":"person","id":"p1","nmaes":[]}"#;
        let error = serde_json::from_str::<Record>(json).expect_err("typo in field");
        assert!(error.to_string().contains("nmaes"), "{error}");
    }

    #[test]
    fn keyword_parsing_ignores_case_and_space() {
        assert_eq!(
            ConsentScope::parse(" Public-Anonymised "),
            Some(ConsentScope::PublicAnonymised)
        );
        assert_eq!(Reliability::parse("B"), Some(Reliability::B));
        assert_eq!(Sex::parse("x"), None);
        assert_eq!(Sex::parse("여성"), Some(Sex::Female));
        assert_eq!(
            ConsentScope::parse("익명 공개"),
            Some(ConsentScope::PublicAnonymised)
        );
    }
}
