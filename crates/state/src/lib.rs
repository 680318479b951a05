//! The state rules of the write path, written once, without SQL or I/O.
//!
//! Given a read view of the current state ([`StateView`]) and a validated
//! change, [`plan`] decides what the change does to the state — one typed
//! [`StateOp`] — or why it is refused ([`Refusal`]): ids are never reused,
//! references resolve, revisions match, consent never widens silently,
//! merges never join records a reviewer kept apart, nothing referenced is
//! deleted, forgotten stays forgotten. A backend answers the view's questions
//! and carries the operation out; it holds no rule of its own.
//!
//! [`MemoryState`] is the reference backend: every other backend is held to
//! it by property tests, and [`StateRows`] is the typed form in which any
//! backend's state can be compared with it.

mod memory;
mod rows;
mod rules;
pub mod tables;

use girok_model::{
    ConsentScope, CustodyAction, Invalid, Record, RecordId, RecordKind, Term, VocabKind, Wording,
};

pub use memory::MemoryState;
pub use rows::{AddedTerm, CustodyRow, Difference, ImportRow, MAX_REPORTED, StateRows};
pub use rules::{plan, referring_records};

/// Who wrote a journal entry, and when: what the state keeps of an entry.
#[derive(Debug, Clone, Copy)]
pub struct EntryMeta<'a> {
    pub seq: u64,
    pub time: &'a str,
    pub actor: &'a str,
}

/// The registry row of a record: every id ever used has one, deleted or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMeta {
    pub kind: RecordKind,
    pub revision: u32,
    pub created_seq: u64,
    pub created_by: String,
    pub updated_seq: u64,
    pub updated_by: String,
    /// The journal entry that holds the record's current content.
    pub content_seq: u64,
    pub deleted: bool,
}

/// A record that refers to another: its kind, the referring field, its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    pub kind: &'static str,
    pub field: &'static str,
    pub id: RecordId,
}

impl std::fmt::Display for Referrer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({})", self.kind, self.id, self.field)
    }
}

/// A reviewer's linkage decision about a pair of person records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Decision {
    /// The records are one person.
    Same,
    /// The records are different people.
    Different,
}

impl Decision {
    pub const ALL: [Decision; 2] = [Decision::Same, Decision::Different];

    /// The name refusals and state dumps use.
    pub fn name(self) -> &'static str {
        tables::decision_table(self).name
    }
}

/// The file an earlier import recorded under the same content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorImport {
    pub file_name: String,
    pub seq: u64,
    pub time: String,
}

/// What the rules need to know about the current state. Every method only
/// reads; "live" means created and not deleted. Lists come in id order so
/// that every backend words a refusal the same way.
pub trait StateView {
    /// A failure of the backend (I/O, a damaged database): never a refusal.
    type Error;

    fn record(&self, id: &RecordId) -> Result<Option<RecordMeta>, Self::Error>;
    /// Whether any record, live or deleted, ever had this id (a cheaper
    /// question than [`Self::record`], asked of every new record).
    fn is_taken(&self, id: &RecordId) -> Result<bool, Self::Error> {
        Ok(self.record(id)?.is_some())
    }
    /// The kind of a live record (a cheaper question than [`Self::record`]).
    fn live_kind(&self, id: &RecordId) -> Result<Option<RecordKind>, Self::Error> {
        Ok(self.record(id)?.filter(|m| !m.deleted).map(|m| m.kind))
    }
    /// A live source's current consent (set-consent changes it in place).
    fn consent(&self, source: &RecordId) -> Result<Option<ConsentScope>, Self::Error>;
    /// Live records of `kind` whose `field` (one of
    /// [`girok_model::REFERENCE_FIELDS`]) refers to `target`: at most `limit`.
    fn referring(
        &self,
        kind: RecordKind,
        field: &'static str,
        target: &RecordId,
        limit: u32,
    ) -> Result<Vec<RecordId>, Self::Error>;
    /// The persons `decision` pairs with `person`: at most `limit`, if given.
    fn decided_with(
        &self,
        decision: Decision,
        person: &RecordId,
        limit: Option<u32>,
    ) -> Result<Vec<RecordId>, Self::Error>;
    /// Whether `decision` was made about the pair (`a < b`).
    fn is_decided(
        &self,
        decision: Decision,
        a: &RecordId,
        b: &RecordId,
    ) -> Result<bool, Self::Error>;
    fn is_forgotten(&self, subject: &RecordId) -> Result<bool, Self::Error>;
    /// The content hash of a live evidence record's file.
    fn evidence_sha256(&self, evidence: &RecordId) -> Result<Option<String>, Self::Error>;
    fn prior_import(&self, sha256: &str) -> Result<Option<PriorImport>, Self::Error>;
}

/// What one change does to the state. `revision` is the record's new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateOp<'c> {
    Create {
        record: &'c Record,
    },
    Replace {
        record: &'c Record,
        revision: u32,
    },
    Delete {
        kind: RecordKind,
        id: &'c RecordId,
        revision: u32,
    },
    SetConsent {
        source: &'c RecordId,
        scope: ConsentScope,
        revision: u32,
    },
    Forget {
        subject: &'c RecordId,
        revision: u32,
    },
    Custody {
        evidence: &'c RecordId,
        sha256: &'c str,
        action: CustodyAction,
        recipient: Option<&'c str>,
        note: &'c str,
    },
    AddTerm {
        vocabulary: VocabKind,
        term: &'c Term,
    },
    Import {
        sha256: &'c str,
        file_name: &'c str,
        records: u64,
    },
    /// Records `decision` for every pair (`a < b`); pairs already decided keep
    /// the entry that first decided them.
    Decide {
        decision: Decision,
        pairs: Vec<(&'c RecordId, &'c RecordId)>,
    },
    /// Withdraws every decision naming `person` (unmerge).
    Withdraw {
        person: &'c RecordId,
    },
}

/// A change the rules refuse: the user's to mend, never the machine's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A field is wrong: a reference that does not resolve, a widening of consent.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The change contradicts the state: a taken id, a stale revision, a merge
    /// of records kept apart.
    #[error("{message}")]
    Conflict { id: RecordId, message: Wording },
    #[error(transparent)]
    DuplicateImport(#[from] DuplicateImport),
}

impl Refusal {
    /// The same refusal in Korean.
    pub fn korean(&self) -> String {
        match self {
            Refusal::Invalid(invalid) => invalid.korean(),
            Refusal::Conflict { message, .. } => message.korean().to_string(),
            Refusal::DuplicateImport(duplicate) => duplicate.korean(),
        }
    }
}

/// A file imported before, under its content hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{file_name} was already imported (as {first_name}, at journal entry {seq}, {time}); nothing was written"
)]
pub struct DuplicateImport {
    pub file_name: String,
    pub first_name: String,
    pub seq: u64,
    pub time: String,
}

impl DuplicateImport {
    /// The same refusal in Korean.
    pub fn korean(&self) -> String {
        format!(
            "{}은(는) 이미 가져온 파일입니다 ({}(이)라는 이름으로, 기록 항목 {}, {}); 아무것도 쓰지 않았습니다",
            self.file_name, self.first_name, self.seq, self.time
        )
    }
}

/// Why [`plan`] produced no operation: a refusal, or the view failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleError<E> {
    Refused(Refusal),
    View(E),
}

impl<E> From<Refusal> for RuleError<E> {
    fn from(refusal: Refusal) -> Self {
        RuleError::Refused(refusal)
    }
}

impl<E> From<Invalid> for RuleError<E> {
    fn from(invalid: Invalid) -> Self {
        RuleError::Refused(Refusal::Invalid(invalid))
    }
}
