//! Tabulations of victims and acts, and disclosure control for the tables
//! that leave the organisation.
//!
//! [`facts`] turns records into one row per act (its resolved victim, type,
//! place, date, perpetrators and the sources that attest it); [`dimension`]
//! names what a table can be broken down by and [`filter`] what it can be
//! restricted to; [`ages`] reads ages into bands a user may choose;
//! [`table`] counts distinct victims (or acts, or cases) per cell with
//! "unknown" always a row of its own; [`disclosure`] suppresses small cells
//! and the cells that would let a reader recover them from totals;
//! [`published`] is the fixed set of tables readers outside the
//! organisation (and viewers) may have, since suppression cannot protect
//! tables they make up.
//!
//! Depends on `girok-model`, and on `girok-store` only to read the records
//! (`Facts::load`); callers decide who is the same person.

pub mod ages;
pub mod dimension;
pub mod disclosure;
pub mod facts;
pub mod filter;
pub mod published;
pub mod table;

pub use ages::{AgeBands, AgeBandsError, AgeRange};
pub use dimension::Dimension;
pub use facts::{ActFact, Attestation, Audience, Facts};
pub use filter::{Filter, FilterError};
pub use published::NotPublished;
pub use table::{Entry, Table, Unit};
