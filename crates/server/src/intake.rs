//! Testimonies from the web forms and the API: read by `girok-intake` inside
//! the batch that writes them, so the vocabularies and the ids it sees are
//! the transaction's own.

use girok_intake::{Field, Made, Problem, Refusal, Stem, Testimony, field_at_fault};
use girok_model::wording::object_particle;
use girok_model::{RecordId, RecordKind, Wording};
use girok_store::{ChangeSink, Committed, Store, StoreError};

use crate::App;

/// Why a testimony was not written. Nothing of it was.
#[derive(Debug)]
pub enum NotWritten {
    /// Fields that cannot be read, in field order.
    Fields(Vec<Refusal>),
    /// The store refused a change made from the testimony, at this field.
    Refused { field: Field, error: StoreError },
    /// The store failed.
    Failed(StoreError),
}

impl From<StoreError> for NotWritten {
    fn from(error: StoreError) -> NotWritten {
        NotWritten::Failed(error)
    }
}

impl NotWritten {
    /// Each field at fault with what to say about it (the door's own words
    /// in Korean when `korean`), or the store's failure.
    pub fn by_field(&self, korean: bool) -> Result<Vec<(Field, String)>, &StoreError> {
        match self {
            NotWritten::Fields(refusals) => Ok(refusals
                .iter()
                .map(|refusal| (refusal.field, shown(refusal, korean)))
                .collect()),
            NotWritten::Refused { field, error } => Ok(vec![(*field, error.shown(korean))]),
            NotWritten::Failed(error) => Err(error),
        }
    }
}

/// A refusal as a sentence to a person filling in a form (or a file).
pub(crate) fn shown(refusal: &Refusal, korean: bool) -> String {
    match (&refusal.problem, korean) {
        (Problem::Missing(_), false) => {
            let noun = refusal.field.noun();
            let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "An"
            } else {
                "A"
            };
            format!("{article} {noun} is required.")
        }
        (Problem::Missing(_), true) => {
            let noun = refusal.field.noun_ko();
            format!("{noun}{} 입력하세요.", object_particle(noun))
        }
        (Problem::Unreadable(message), korean) => message.in_language(korean).to_string(),
    }
}

/// The stem of a testimony typed in: 48 random bits.
pub fn drawn_stem() -> Stem {
    let mut random = [0u8; 6];
    getrandom::fill(&mut random).expect("the operating system's random source");
    Stem::drawn(random)
}

struct InBatch<'a>(&'a dyn ChangeSink);

impl girok_intake::Known for InBatch<'_> {
    fn exists(&self, id: &RecordId) -> bool {
        matches!(self.0.kind_of(id), Ok(Some(_)))
    }
}

/// Writes a testimony as `actor` in one batch; returns the records made.
pub fn write(
    app: &App,
    actor: &str,
    testimony: &Testimony,
) -> Result<(Vec<(RecordKind, RecordId)>, Committed), NotWritten> {
    app.write(|store| {
        store.write(actor, |sink| {
            let made = testimony
                .changes(sink.vocabularies(), &InBatch(&*sink))
                .map_err(NotWritten::Fields)?;
            apply_made(&mut *sink, made)
        })
    })
}

/// Applies a testimony's changes in a batch; returns the records made.
fn apply_made(
    sink: &mut dyn ChangeSink,
    made: Vec<Made>,
) -> Result<Vec<(RecordKind, RecordId)>, NotWritten> {
    let mut ids = Vec::with_capacity(made.len());
    for Made {
        field,
        kind,
        change,
    } in made
    {
        if let Some(id) = change.subject() {
            ids.push((kind, id.clone()));
        }
        sink.apply(change).map_err(|error| match &error {
            StoreError::Invalid(invalid) => NotWritten::Refused {
                field: field_at_fault(field, kind, &invalid.field),
                error,
            },
            StoreError::Conflict { .. } => NotWritten::Refused { field, error },
            _ => NotWritten::Failed(error),
        })?;
    }
    Ok(ids)
}

/// A person a testimony's witness names, with their relation to the witness.
pub struct Named {
    pub names: Vec<girok_model::Name>,
    /// As typed or chosen; empty for a relation the witness did not say.
    pub relation: String,
    /// The form field of the relation, where its error is shown.
    pub field: &'static str,
}

/// Why a testimony naming persons was not written. Nothing of it was.
pub enum NamingRefused {
    Testimony(NotWritten),
    /// A named person's row cannot be written: its form field, and why.
    At(&'static str, Wording),
}

impl From<StoreError> for NamingRefused {
    fn from(error: StoreError) -> NamingRefused {
        NamingRefused::Testimony(NotWritten::Failed(error))
    }
}

/// Writes a testimony and, in the same batch, each person its witness
/// names as a person of their own with a relation to the witness.
pub fn write_naming(
    app: &App,
    actor: &str,
    testimony: &Testimony,
    named: &[Named],
) -> Result<(Vec<(RecordKind, RecordId)>, Committed), NamingRefused> {
    use girok_model::{Change, Person, Record, Relation, VocabKind};
    app.write(|store| {
        store.write(actor, |sink| {
            let made = testimony
                .changes(sink.vocabularies(), &InBatch(&*sink))
                .map_err(|refusals| NamingRefused::Testimony(NotWritten::Fields(refusals)))?;
            let witness = made.iter().find_map(|made| match &made.change {
                Change::Create {
                    record: Record::Source(source),
                } => source.witness.clone(),
                _ => None,
            });
            let ids = apply_made(&mut *sink, made).map_err(NamingRefused::Testimony)?;
            if named.is_empty() {
                return Ok(ids);
            }
            let Some(witness) = witness else {
                return Err(NamingRefused::At(
                    "named1",
                    Wording::new(
                        "The persons a witness names are recorded with their relation to the witness: give the witness's name, or choose a witness already recorded.",
                        "증언자가 말한 사람들은 증언자와의 관계와 함께 기록됩니다: 증언자의 이름을 적거나 이미 기록된 증언자를 고르세요.",
                    ),
                ));
            };
            for person in named {
                let relation = match person.relation.trim() {
                    "" => "unknown".to_string(),
                    typed => girok_intake::parse::term(sink.vocabularies(), VocabKind::Relation, typed)
                        .map_err(|message| NamingRefused::At(person.field, message))?,
                };
                let id = drawn_stem().id(RecordKind::Person, None);
                let mut record = Person::new(id.clone(), person.names.clone());
                record.received_by = Some(actor.to_string());
                sink.apply(Change::Create {
                    record: Record::Person(record),
                })?;
                sink.apply(Change::Create {
                    record: Record::Relation(Relation {
                        id: drawn_stem().id(RecordKind::Relation, None),
                        // The named person is the witness's mother, brother, friend.
                        person: id,
                        other: witness.clone(),
                        relation,
                        date: Default::default(),
                        clarifications: Default::default(),
                    }),
                })?;
            }
            Ok(ids)
        })
    })
}
