//! What roles below documenter may not see. Analysts work with coded
//! fields: no person's names, birth or origin (a witness can also appear,
//! not yet linked, under another spelling in another source, so "not a
//! witness" cannot be known), and no free-text field of any record (a
//! description or note can name anyone), including reasons in the journal.

use girok_model::{FuzzyDate, Name, Record, Romanization};

use crate::access::Role;

/// Shown in place of withheld data.
pub const WITHHELD: &str = "[withheld]";

/// The record as `role` may see it.
pub fn record(record: Record, role: Role) -> Record {
    if role.sees_witnesses() {
        return record;
    }
    let text = |value: &mut String| {
        if !value.is_empty() {
            *value = WITHHELD.to_string();
        }
    };
    match record {
        Record::Person(mut person) => {
            // The sealed envelope's blind indexes link records by name equality.
            person.sealed = None;
            person.names = vec![Name::detect(WITHHELD, Romanization::Unknown)];
            person.birth = FuzzyDate::UNKNOWN;
            person.origin = None;
            text(&mut person.description);
            text(&mut person.notes);
            person.clarifications.clear();
            Record::Person(person)
        }
        Record::Source(mut source) => {
            source.sealed = None;
            // Any title can name a witness ("report on the testimony of ..."), not only an interview's.
            text(&mut source.title);
            text(&mut source.provenance);
            text(&mut source.notes);
            source.clarifications.clear();
            Record::Source(source)
        }
        Record::Event(mut event) => {
            // Titles are written by documenters and name people ("executions
            // of three friends of ...").
            event.sealed = None;
            text(&mut event.title);
            text(&mut event.description);
            event.clarifications.clear();
            Record::Event(event)
        }
        Record::Act(mut act) => {
            act.sealed = None;
            text(&mut act.description);
            act.clarifications.clear();
            Record::Act(act)
        }
        Record::Involvement(mut involvement) => {
            involvement.clarifications.clear();
            Record::Involvement(involvement)
        }
        Record::Information(mut information) => {
            information.clarifications.clear();
            Record::Information(information)
        }
        Record::Relation(mut relation) => {
            relation.clarifications.clear();
            Record::Relation(relation)
        }
        Record::Evidence(mut evidence) => {
            evidence.sealed = None;
            // A file's own hash lets whoever holds a candidate file confirm it is here.
            evidence.content = None;
            evidence.file_name = WITHHELD.to_string();
            evidence.collector = None;
            Record::Evidence(evidence)
        }
    }
}

/// A journal entry's description as `role` may see it: for analysts only
/// what kind of change it was and its subject (reasons are free text).
pub fn summary(change: &girok_model::Change, role: Role) -> String {
    if role.sees_witnesses() {
        return change.summary();
    }
    let kind = change
        .summary()
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    match change.subject() {
        Some(subject) => format!("{kind} {subject}"),
        None => kind,
    }
}
