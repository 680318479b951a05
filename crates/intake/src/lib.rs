//! Intake: a testimony as its doors receive it — text by field, from a CSV
//! row, a web form or an API payload — turned into typed changes.
//!
//! Every door reads values with the same parsers ([`parse`]), so a value is
//! accepted in the same spellings everywhere ("f", "여", "female", "여성") and
//! a value that does not parse is refused naming the field and what was
//! expected, never read as unknown. Every new record made at intake is named
//! by one scheme ([`Stem`]). The crate knows records, vocabularies and text;
//! it knows nothing of SQL, HTTP, files or the command line and does no I/O:
//! the door says which ids exist ([`Known`]) and writes the changes.

pub mod parse;
mod stem;
mod testimony;

use girok_model::Wording;
use std::fmt;

pub use stem::Stem;
pub use testimony::{Known, Made, NewIds, Testimony, field_at_fault};

/// The fields of a testimony. A door names them its own way (a CSV header,
/// a form field); [`Field::name`] is the name the CSV layout's English
/// headers and the API use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    SourceId,
    SourceKind,
    SourceTitle,
    Consent,
    SourceDate,
    Organisation,
    Language,
    SourceNotes,
    WitnessId,
    WitnessName,
    WitnessSex,
    VictimId,
    VictimNames,
    Sex,
    Birth,
    Origin,
    ActId,
    ActType,
    ActDate,
    ActPlace,
    VictimAge,
    Status,
    Facility,
    Agency,
    Relation,
    Knowledge,
    Reliability,
    Credibility,
    Description,
    EventId,
}

impl Field {
    pub const ALL: &'static [Field] = &[
        Field::SourceId,
        Field::SourceKind,
        Field::SourceTitle,
        Field::Consent,
        Field::SourceDate,
        Field::Organisation,
        Field::Language,
        Field::SourceNotes,
        Field::WitnessId,
        Field::WitnessName,
        Field::WitnessSex,
        Field::VictimId,
        Field::VictimNames,
        Field::Sex,
        Field::Birth,
        Field::Origin,
        Field::ActId,
        Field::ActType,
        Field::ActDate,
        Field::ActPlace,
        Field::VictimAge,
        Field::Status,
        Field::Facility,
        Field::Agency,
        Field::Relation,
        Field::Knowledge,
        Field::Reliability,
        Field::Credibility,
        Field::Description,
        Field::EventId,
    ];

    /// The field's name and what it is called in an English and a Korean sentence.
    fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Field::SourceId => ("source_id", "source", "출처"),
            Field::SourceKind => ("source_kind", "kind of source", "출처 유형"),
            Field::SourceTitle => ("source_title", "title", "제목"),
            Field::Consent => ("consent", "consent scope", "동의 범위"),
            Field::SourceDate => ("source_date", "date obtained", "입수일"),
            Field::Organisation => ("organisation", "organisation", "기록 단체"),
            Field::Language => ("language", "language", "언어"),
            Field::SourceNotes => ("source_notes", "note", "메모"),
            Field::WitnessId => ("witness_id", "witness", "증언자"),
            Field::WitnessName => ("witness_name", "witness's name", "증언자 이름"),
            Field::WitnessSex => ("witness_sex", "witness's sex", "증언자 성별"),
            Field::VictimId => ("victim_id", "victim", "피해자"),
            Field::VictimNames => ("victim_names", "victim's name", "피해자 이름"),
            Field::Sex => ("sex", "sex", "성별"),
            Field::Birth => ("birth", "birth date", "출생"),
            Field::Origin => ("origin", "place of origin", "출신지"),
            Field::ActId => ("act_id", "act", "행위"),
            Field::ActType => ("act_type", "act type", "행위 유형"),
            Field::ActDate => ("act_date", "date", "행위 일시"),
            Field::ActPlace => ("act_place", "place", "행위 장소"),
            Field::VictimAge => ("victim_age", "age", "당시 나이"),
            Field::Status => ("status", "status", "상태"),
            Field::Facility => ("facility", "facility", "구금 시설"),
            Field::Agency => ("agency", "agency", "가해 기관"),
            Field::Relation => ("relation", "relation", "관계"),
            Field::Knowledge => ("knowledge", "way of knowing", "인지 경로"),
            Field::Reliability => ("reliability", "reliability", "신뢰도"),
            Field::Credibility => ("credibility", "credibility", "신빙성"),
            Field::Description => ("description", "description", "내용"),
            Field::EventId => ("event_id", "event", "사건"),
        }
    }

    /// The name the CSV layout's English headers and the API use.
    pub fn name(self) -> &'static str {
        self.names().0
    }

    /// The field in an English sentence: "title", "act type".
    pub fn noun(self) -> &'static str {
        self.names().1
    }

    /// The field in a Korean sentence: "제목", "행위 유형".
    pub fn noun_ko(self) -> &'static str {
        self.names().2
    }

    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.iter().copied().find(|f| f.name() == name)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What is wrong with a field's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Empty, though needed; says when it is needed (" for a new source").
    Missing(&'static str),
    /// Given, but not a value of the field: what was given and what was expected.
    Unreadable(Wording),
}

/// A testimony refused at one field. Nothing of a refused testimony is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", match &.problem {
    Problem::Missing(why) => format!("must not be empty{why}"),
    Problem::Unreadable(message) => message.to_string(),
})]
pub struct Refusal {
    pub field: Field,
    pub problem: Problem,
}

impl Refusal {
    pub fn unreadable(field: Field, message: Wording) -> Refusal {
        Refusal {
            field,
            problem: Problem::Unreadable(message),
        }
    }
}
