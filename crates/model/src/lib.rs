//! The Girok data model: records, fuzzy dates, vocabularies and typed changes.
//!
//! This crate is the root of the dependency graph: every other Girok crate
//! depends on it, and it depends on no other Girok crate. It does no I/O.

pub mod change;
pub mod date;
pub mod printable;
pub mod record;
pub mod sealed;
pub mod vocab;
pub mod wording;

pub use change::{Change, Invalid};
pub use date::{DateError, FuzzyDate, Precision};
pub use record::*;
pub use sealed::{Sealed, Secrets};
pub use vocab::{MERGED_SPELLING, Term, TermError, VocabKind, Vocabularies, Vocabulary};
pub use wording::Wording;
