//! The one mapping from a testimony to changes.

use std::collections::{BTreeMap, HashMap};

use girok_model::{
    Act, Change, Degree, Information, Involvement, Knowledge, Person, Record, RecordId, RecordKind,
    Sex, Source, SourceKind, VocabKind, Vocabularies, Wording,
};

use crate::{Field, Problem, Refusal, Stem, parse};

/// Which records exist already; the door asks its store (and what it made
/// earlier in the same batch).
pub trait Known {
    fn exists(&self, id: &RecordId) -> bool;
}

/// What an id the testimony gives stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewIds {
    /// The testimony names its records: an id not known yet is a new record
    /// (a file's rows, which name their sources and victims).
    Given,
    /// An id given names a record that must exist; every new record is named
    /// from the stem (forms, which pick existing records).
    Minted,
}

/// A testimony as a door received it: text by field, and how to name what it makes.
#[derive(Debug, Clone)]
pub struct Testimony<'a> {
    values: HashMap<Field, &'a str>,
    stem: Stem,
    new_ids: NewIds,
    received_by: Option<String>,
    provenance: String,
}

/// One change a testimony makes: the new record's kind, and the field that
/// brought it (where a refusal of the record as a whole is shown).
#[derive(Debug, Clone, PartialEq)]
pub struct Made {
    pub field: Field,
    pub kind: RecordKind,
    pub change: Change,
}

impl<'a> Testimony<'a> {
    pub fn new(stem: Stem, new_ids: NewIds) -> Testimony<'a> {
        Testimony {
            values: HashMap::new(),
            stem,
            new_ids,
            received_by: None,
            provenance: String::new(),
        }
    }

    /// Sets a field; empty text leaves it unset.
    pub fn set(&mut self, field: Field, text: &'a str) {
        if let Some(text) = parse::given(text) {
            self.values.insert(field, text);
        }
    }

    /// Who received the records made (the signed-in user of a form).
    pub fn received_by(&mut self, who: Option<String>) {
        self.received_by = who;
    }

    /// Where a new source came from, when the door knows ("imported from ...").
    pub fn provenance(&mut self, provenance: String) {
        self.provenance = provenance;
    }

    /// The text of a field, trimmed, if set.
    pub fn get(&self, field: Field) -> Option<&'a str> {
        self.values.get(&field).copied()
    }

    /// The changes this testimony makes, in the order they apply, or every
    /// field that cannot be read (in field order); nothing is made then.
    pub fn changes(
        &self,
        vocabularies: &Vocabularies,
        known: &dyn Known,
    ) -> Result<Vec<Made>, Vec<Refusal>> {
        let mut r = Reader {
            testimony: self,
            vocabularies,
            refusals: Vec::new(),
        };
        let given_is_new = |id: &RecordId| self.new_ids == NewIds::Given && !known.exists(id);
        let mut made = Vec::new();
        let mut add = |field: Field, record: Record| {
            made.push(Made {
                field,
                kind: record.kind(),
                change: Change::Create { record },
            })
        };
        let source_id = r.id(Field::SourceId);
        let victim_id = r.id(Field::VictimId);
        let witness_id = r.id(Field::WitnessId);
        // (id, whether this testimony makes it)
        let source = match source_id {
            Some(id) => Some((given_is_new(&id), id)),
            // Fields of a source without its id describe a new one.
            None => [
                Field::SourceKind,
                Field::SourceTitle,
                Field::Consent,
                Field::SourceDate,
                Field::Organisation,
                Field::Language,
                Field::SourceNotes,
            ]
            .iter()
            .any(|f| self.get(*f).is_some())
            .then(|| (true, self.stem.id(RecordKind::Source, None))),
        };
        let new_source = matches!(source, Some((true, _)));
        let witness = match witness_id {
            Some(id) => Some((given_is_new(&id), id)),
            // A witness named without an id is the one who gave a new source.
            None if new_source && self.get(Field::WitnessName).is_some() => {
                Some((true, self.stem.id(RecordKind::Person, None)))
            }
            None => None,
        };
        if let Some((true, id)) = &witness {
            let names = r.read(Field::WitnessName, parse::names);
            let mut person = Person::new(id.clone(), names.unwrap_or_default());
            person.sex = r
                .read(Field::WitnessSex, parse::sex)
                .unwrap_or(Sex::Unknown);
            // Witnesses are who the state punishes.
            person.protected = true;
            person.received_by = self.received_by.clone();
            add(Field::WitnessName, Record::Person(person));
        }
        if let Some((true, id)) = &source {
            let source = Source {
                id: id.clone(),
                kind: r
                    .read(Field::SourceKind, parse::source_kind)
                    .unwrap_or(SourceKind::Interview),
                title: r
                    .required(Field::SourceTitle, " for a new source")
                    .unwrap_or_default()
                    .to_string(),
                obtained: r.date(Field::SourceDate),
                language: r.text(Field::Language),
                // A term's spelling is kept as its key; other text as typed,
                // its own list until an admin merges it into a term.
                organisation: r.text(Field::Organisation).map(|text| {
                    vocabularies
                        .organisation(&text)
                        .map_or(text, |term| term.key.clone())
                }),
                provenance: self.provenance.clone(),
                consent: r.read(Field::Consent, parse::consent),
                witness: witness.as_ref().map(|(_, id)| id.clone()),
                received_by: self.received_by.clone(),
                notes: r.text(Field::SourceNotes).unwrap_or_default(),
                clarifications: BTreeMap::new(),
                sealed: None,
            };
            add(Field::SourceTitle, Record::Source(source));
        }
        if let Some(id) = victim_id.as_ref().filter(|id| given_is_new(id)) {
            let names = r.read(Field::VictimNames, parse::names);
            let mut person = Person::new(id.clone(), names.unwrap_or_default());
            person.sex = r.read(Field::Sex, parse::sex).unwrap_or(Sex::Unknown);
            person.birth = r.date(Field::Birth);
            person.origin = r.term(Field::Origin, VocabKind::Place);
            person.received_by = self.received_by.clone();
            add(Field::VictimNames, Record::Person(person));
        }
        let describes_act = [Field::VictimId, Field::ActId, Field::ActType]
            .iter()
            .any(|f| self.get(*f).is_some());
        if describes_act {
            let given_act = r.id(Field::ActId);
            let makes_act = given_act.as_ref().is_none_or(&given_is_new);
            let act_id = given_act.unwrap_or_else(|| self.stem.id(RecordKind::Act, None));
            if makes_act {
                let victim = victim_id.or_else(|| {
                    r.missing(Field::VictimId, " for a new act");
                    None
                });
                let act_type = r
                    .required(Field::ActType, "")
                    .and_then(|_| r.term(Field::ActType, VocabKind::ActType));
                let act = Act {
                    id: act_id.clone(),
                    act_type: act_type.unwrap_or_default(),
                    victim: victim.unwrap_or_else(|| RecordId::new("")),
                    event: r.id(Field::EventId),
                    date: r.date(Field::ActDate),
                    place: r.term(Field::ActPlace, VocabKind::Place),
                    victim_age: r.read(Field::VictimAge, parse::age),
                    status: r.term(Field::Status, VocabKind::ActStatus),
                    facility: r.term(Field::Facility, VocabKind::FacilityType),
                    description: r.text(Field::Description).unwrap_or_default(),
                    received_by: self.received_by.clone(),
                    clarifications: BTreeMap::new(),
                    sealed: None,
                };
                add(Field::ActType, Record::Act(act));
                let agencies = r
                    .read(Field::Agency, |text| {
                        parse::terms(vocabularies, VocabKind::Agency, text)
                    })
                    .unwrap_or_default();
                for (n, agency) in agencies.into_iter().enumerate() {
                    let involvement = Involvement {
                        id: self.stem.id(RecordKind::Involvement, Some(n + 1)),
                        act: act_id.clone(),
                        perpetrator: None,
                        agency: Some(agency),
                        degree: Degree::Unknown,
                        clarifications: BTreeMap::new(),
                    };
                    add(Field::Agency, Record::Involvement(involvement));
                }
            }
            if let Some((_, source)) = source {
                let information = Information {
                    id: self.stem.id(RecordKind::Information, None),
                    source,
                    act: Some(act_id),
                    event: None,
                    reliability: r.read(Field::Reliability, parse::reliability),
                    credibility: r.read(Field::Credibility, parse::credibility),
                    relation: r.term(Field::Relation, VocabKind::Relation),
                    knowledge: r
                        .read(Field::Knowledge, parse::knowledge)
                        .unwrap_or(Knowledge::Unknown),
                    clarifications: BTreeMap::new(),
                };
                add(Field::Relation, Record::Information(information));
            }
        }
        if r.refusals.is_empty() {
            Ok(made)
        } else {
            let mut refusals = r.refusals;
            refusals.sort_by_key(|refusal| refusal.field);
            Err(refusals)
        }
    }
}

/// The testimony's field that a store's refusal of a [`Made`] change (its
/// `field` and `kind`) at the record's field `record_field` (as the model
/// names it) is about: the field that brought the change when no field of
/// the testimony holds that value.
pub fn field_at_fault(field: Field, kind: RecordKind, record_field: &str) -> Field {
    let base = record_field
        .split(['[', '.'])
        .next()
        .unwrap_or(record_field);
    let witness = field == Field::WitnessName;
    match (kind, base) {
        (RecordKind::Source, "id") => Field::SourceId,
        (RecordKind::Source, "title") => Field::SourceTitle,
        (RecordKind::Source, "kind") => Field::SourceKind,
        (RecordKind::Source, "obtained") => Field::SourceDate,
        (RecordKind::Source, "language") => Field::Language,
        (RecordKind::Source, "organisation") => Field::Organisation,
        (RecordKind::Source, "consent") => Field::Consent,
        (RecordKind::Source, "witness") => Field::WitnessId,
        (RecordKind::Source, "notes") => Field::SourceNotes,
        (RecordKind::Person, "id") if witness => Field::WitnessId,
        (RecordKind::Person, "names") if witness => Field::WitnessName,
        (RecordKind::Person, "sex") if witness => Field::WitnessSex,
        (RecordKind::Person, "id") => Field::VictimId,
        (RecordKind::Person, "names") => Field::VictimNames,
        (RecordKind::Person, "sex") => Field::Sex,
        (RecordKind::Person, "birth") => Field::Birth,
        (RecordKind::Person, "origin") => Field::Origin,
        (RecordKind::Act, "id") => Field::ActId,
        (RecordKind::Act, "act_type") => Field::ActType,
        (RecordKind::Act, "victim") => Field::VictimId,
        (RecordKind::Act, "event") => Field::EventId,
        (RecordKind::Act, "date") => Field::ActDate,
        (RecordKind::Act, "place") => Field::ActPlace,
        (RecordKind::Act, "victim_age") => Field::VictimAge,
        (RecordKind::Act, "status") => Field::Status,
        (RecordKind::Act, "facility") => Field::Facility,
        (RecordKind::Act, "description") => Field::Description,
        (RecordKind::Involvement, "act") => Field::ActId,
        (RecordKind::Involvement, "agency") => Field::Agency,
        (RecordKind::Information, "source") => Field::SourceId,
        (RecordKind::Information, "act") => Field::ActId,
        (RecordKind::Information, "relation") => Field::Relation,
        (RecordKind::Information, "reliability") => Field::Reliability,
        (RecordKind::Information, "credibility") => Field::Credibility,
        (RecordKind::Information, "knowledge") => Field::Knowledge,
        _ => field,
    }
}

/// Reads fields, collecting every refusal instead of stopping at the first.
struct Reader<'t, 'a> {
    testimony: &'t Testimony<'a>,
    vocabularies: &'t Vocabularies,
    refusals: Vec<Refusal>,
}

impl Reader<'_, '_> {
    fn text(&self, field: Field) -> Option<String> {
        self.testimony.get(field).map(str::to_string)
    }

    fn read<T>(
        &mut self,
        field: Field,
        parse: impl FnOnce(&str) -> Result<T, Wording>,
    ) -> Option<T> {
        let text = self.testimony.get(field)?;
        parse(text)
            .map_err(|message| self.refusals.push(Refusal::unreadable(field, message)))
            .ok()
    }

    fn missing(&mut self, field: Field, why: &'static str) {
        self.refusals.push(Refusal {
            field,
            problem: Problem::Missing(why),
        });
    }

    fn required(&mut self, field: Field, why: &'static str) -> Option<String> {
        let text = self.text(field);
        if text.is_none() {
            self.missing(field, why);
        }
        text
    }

    fn id(&mut self, field: Field) -> Option<RecordId> {
        self.read(field, parse::id)
    }

    fn date(&mut self, field: Field) -> girok_model::FuzzyDate {
        self.read(field, parse::date).unwrap_or_default()
    }

    fn term(&mut self, field: Field, kind: VocabKind) -> Option<String> {
        let vocabularies = self.vocabularies;
        self.read(field, |text| parse::term(vocabularies, kind, text))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    struct Existing(HashSet<&'static str>);

    impl Known for Existing {
        fn exists(&self, id: &RecordId) -> bool {
            self.0.contains(id.as_str())
        }
    }

    fn stem() -> Stem {
        Stem::drawn([1, 2, 3, 4, 5, 6])
    }

    fn created(made: &[Made]) -> Vec<Record> {
        made.iter()
            .map(|m| match &m.change {
                Change::Create { record } => record.clone(),
                other => panic!("not a create: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_full_row_makes_witness_source_victim_act_involvements_and_information() {
        let mut t = Testimony::new(stem(), NewIds::Given);
        for (field, text) in [
            (Field::SourceId, "s1"),
            (Field::SourceTitle, "Interview with a mother"),
            (Field::Consent, "내부"),
            (Field::WitnessId, "w1"),
            (Field::WitnessName, "김은주"),
            (Field::WitnessSex, "여"),
            (Field::VictimId, "p1"),
            (Field::VictimNames, "김철수; Kim Chol-su"),
            (Field::Sex, "m"),
            (Field::ActType, "arrest"),
            (Field::ActDate, "2020년 5월"),
            (Field::ActPlace, "Hoeryŏng"),
            (Field::VictimAge, "19"),
            (Field::Agency, "MSS;border guards"),
            (Field::Relation, "child"),
            (Field::Reliability, "B"),
        ] {
            t.set(field, text);
        }
        let made = t
            .changes(&Vocabularies::default(), &Existing(HashSet::new()))
            .expect("made");
        let kinds: Vec<(Field, RecordKind)> = made.iter().map(|m| (m.field, m.kind)).collect();
        assert_eq!(
            kinds,
            [
                (Field::WitnessName, RecordKind::Person),
                (Field::SourceTitle, RecordKind::Source),
                (Field::VictimNames, RecordKind::Person),
                (Field::ActType, RecordKind::Act),
                (Field::Agency, RecordKind::Involvement),
                (Field::Agency, RecordKind::Involvement),
                (Field::Relation, RecordKind::Information),
            ]
        );
        let records = created(&made);
        let ids: Vec<&str> = records.iter().map(|r| r.id().as_str()).collect();
        assert_eq!(
            ids,
            [
                "w1",
                "s1",
                "p1",
                "a-010203040506",
                "i-010203040506-1",
                "i-010203040506-2",
                "f-010203040506"
            ]
        );
        let Record::Person(witness) = &records[0] else {
            panic!()
        };
        assert!(witness.protected && witness.sex == Sex::Female);
        let Record::Source(source) = &records[1] else {
            panic!()
        };
        assert_eq!(source.consent, Some(girok_model::ConsentScope::Internal));
        assert_eq!(source.witness, Some(RecordId::new("w1")));
        let Record::Person(victim) = &records[2] else {
            panic!()
        };
        assert_eq!(
            (victim.sex, victim.names.len(), victim.protected),
            (Sex::Male, 2, false)
        );
        let Record::Act(act) = &records[3] else {
            panic!()
        };
        assert_eq!(
            (act.place.as_deref(), act.victim_age, act.victim.as_str()),
            (Some("hoeryong"), Some(19), "p1")
        );
        let Record::Information(information) = &records[6] else {
            panic!()
        };
        assert_eq!(information.relation.as_deref(), Some("child"));
        assert_eq!(information.reliability, Some(girok_model::Reliability::B));
    }

    #[test]
    fn known_records_are_referred_to_and_a_known_act_is_only_attested() {
        let known = Existing(HashSet::from(["s1", "p1", "a1"]));
        let mut t = Testimony::new(stem(), NewIds::Given);
        for (field, text) in [
            (Field::SourceId, "s1"),
            (Field::VictimId, "p1"),
            (Field::Sex, "여"),
            (Field::ActId, "a1"),
        ] {
            t.set(field, text);
        }
        let made = t.changes(&Vocabularies::default(), &known).expect("made");
        assert_eq!(made.len(), 1);
        let Record::Information(information) = &created(&made)[0] else {
            panic!()
        };
        assert_eq!(information.act, Some(RecordId::new("a1")));
    }

    #[test]
    fn a_form_refers_to_what_it_names_and_mints_the_rest() {
        let mut t = Testimony::new(stem(), NewIds::Minted);
        for (field, text) in [
            (Field::SourceId, "s-unknown"),
            (Field::VictimId, "p-unknown"),
            (Field::ActType, "공개처형"),
        ] {
            t.set(field, text);
        }
        t.received_by(Some("documenter".into()));
        let made = t
            .changes(&Vocabularies::default(), &Existing(HashSet::new()))
            .expect("made");
        // Unknown ids a form names are the store's to refuse, never made here.
        let records = created(&made);
        let ids: Vec<&str> = records.iter().map(|r| r.id().as_str()).collect();
        assert_eq!(ids, ["a-010203040506", "f-010203040506"]);
        let Record::Act(act) = &records[0] else {
            panic!()
        };
        assert_eq!(act.act_type, "public-execution");
        assert_eq!(act.received_by.as_deref(), Some("documenter"));
        // A new source with its witness, named from the stem.
        let mut t = Testimony::new(stem(), NewIds::Minted);
        t.set(Field::SourceTitle, "Testimony");
        t.set(Field::Consent, "partners");
        t.set(Field::WitnessName, "이영수");
        let records = created(
            &t.changes(&Vocabularies::default(), &Existing(HashSet::new()))
                .expect("made"),
        );
        let ids: Vec<&str> = records.iter().map(|r| r.id().as_str()).collect();
        assert_eq!(ids, ["p-010203040506", "s-010203040506"]);
    }

    #[test]
    fn every_unreadable_field_is_refused_by_name_and_nothing_is_made() {
        let mut t = Testimony::new(stem(), NewIds::Given);
        for (field, text) in [
            (Field::SourceId, "s1"),
            (Field::SourceTitle, "T"),
            (Field::Consent, "internal"),
            (Field::VictimId, "p1"),
            (Field::Sex, "x"),
            (Field::ActType, "arrest"),
            (Field::ActDate, "sometime in 2020"),
            (Field::VictimAge, "200"),
        ] {
            t.set(field, text);
        }
        let refused = t
            .changes(&Vocabularies::default(), &Existing(HashSet::new()))
            .expect_err("refused");
        let fields: Vec<Field> = refused.iter().map(|r| r.field).collect();
        assert_eq!(fields, [Field::Sex, Field::ActDate, Field::VictimAge]);
        assert!(
            refused[0]
                .to_string()
                .starts_with("'x' is not one of female, male")
        );
        let mut t = Testimony::new(stem(), NewIds::Given);
        t.set(Field::SourceId, "s1");
        t.set(Field::VictimId, "p1");
        let refused = t
            .changes(&Vocabularies::default(), &Existing(HashSet::new()))
            .expect_err("refused");
        assert_eq!(
            refused
                .iter()
                .map(|r| (r.field, r.to_string()))
                .collect::<Vec<_>>(),
            [
                (
                    Field::SourceTitle,
                    "must not be empty for a new source".to_string()
                ),
                (Field::ActType, "must not be empty".to_string()),
            ]
        );
    }

    #[test]
    fn a_store_refusal_is_shown_at_the_field_that_holds_the_value() {
        for (field, kind, record_field, at) in [
            (Field::ActType, RecordKind::Act, "victim", Field::VictimId),
            (Field::ActType, RecordKind::Act, "place", Field::ActPlace),
            (
                Field::ActType,
                RecordKind::Act,
                "clarifications",
                Field::ActType,
            ),
            (
                Field::Relation,
                RecordKind::Information,
                "source",
                Field::SourceId,
            ),
            (
                Field::WitnessName,
                RecordKind::Person,
                "names[0].text",
                Field::WitnessName,
            ),
            (
                Field::VictimNames,
                RecordKind::Person,
                "names[1].script",
                Field::VictimNames,
            ),
            (
                Field::WitnessName,
                RecordKind::Person,
                "id",
                Field::WitnessId,
            ),
            (
                Field::SourceTitle,
                RecordKind::Source,
                "consent",
                Field::Consent,
            ),
        ] {
            assert_eq!(
                field_at_fault(field, kind, record_field),
                at,
                "{record_field}"
            );
        }
    }
}
