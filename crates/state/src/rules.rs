//! The rules: what a change does to the state, or why it is refused.

use girok_model::{
    Change, ConsentScope, Invalid, REFERENCE_FIELDS, Record, RecordId, RecordKind, Vocabularies,
};

use crate::{
    Decision, DuplicateImport, RecordMeta, Referrer, Refusal, RuleError, StateOp, StateView,
};

/// How many referrers a refused delete names per referring field.
const REFERRERS_NAMED: u32 = 5;

/// Decides what `change` (already validated on its own) does to the state
/// that `view` shows, or why it is refused. Reads only; the caller carries
/// the operation out in the same transaction as the journal entry.
pub fn plan<'c, V: StateView + ?Sized>(
    view: &V,
    vocabularies: &Vocabularies,
    change: &'c Change,
) -> Result<StateOp<'c>, RuleError<V::Error>> {
    match change {
        Change::Create { record } => {
            let id = record.id();
            check_references(view, record)?;
            let taken = match view.is_taken(id).map_err(RuleError::View)? {
                true => view.record(id).map_err(RuleError::View)?,
                false => None,
            };
            if let Some(existing) = taken {
                return Err(Refusal::Conflict {
                    id: id.clone(),
                    message: if existing.deleted {
                        format!(
                            "id {id} belonged to a {} that was deleted; ids are never reused",
                            existing.kind
                        )
                    } else {
                        format!(
                            "a {} with id {id} already exists (created at entry {})",
                            existing.kind, existing.created_seq
                        )
                    },
                }
                .into());
            }
            Ok(StateOp::Create { record })
        }
        Change::Update {
            record,
            base_revision,
        } => {
            let id = record.id();
            let existing = current(view, record.kind(), id, *base_revision)?;
            check_references(view, record)?;
            if let Record::Source(source) = record {
                let before = view.consent(id).map_err(RuleError::View)?;
                check_consent_change(id, before, source.consent, false)?;
            }
            Ok(StateOp::Replace {
                record,
                revision: existing.revision + 1,
            })
        }
        Change::Delete {
            kind,
            id,
            base_revision,
            ..
        } => {
            let existing = current(view, *kind, id, *base_revision)?;
            let referrers = referrers(view, *kind, id)?;
            if !referrers.is_empty() {
                return Err(Refusal::Conflict {
                    id: id.clone(),
                    message: format!(
                        "{kind} {id} cannot be deleted while other records refer to it: {}",
                        referrers
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
                .into());
            }
            Ok(StateOp::Delete {
                kind: *kind,
                id,
                revision: existing.revision + 1,
            })
        }
        Change::SetConsent {
            source,
            scope,
            widen,
            ..
        } => {
            let existing = view
                .record(source)
                .map_err(RuleError::View)?
                .filter(|m| m.kind == RecordKind::Source && !m.deleted)
                .ok_or_else(|| {
                    Invalid::field(Some(source), "source", format!("no source {source}"))
                })?;
            let before = view.consent(source).map_err(RuleError::View)?;
            check_consent_change(source, before, Some(*scope), *widen)?;
            Ok(StateOp::SetConsent {
                source,
                scope: *scope,
                revision: existing.revision + 1,
            })
        }
        Change::Forget { subject, .. } => {
            let existing = view
                .record(subject)
                .map_err(RuleError::View)?
                .filter(|m| {
                    matches!(
                        m.kind,
                        RecordKind::Person
                            | RecordKind::Source
                            | RecordKind::Event
                            | RecordKind::Evidence
                    ) && !m.deleted
                })
                .ok_or_else(|| {
                    Invalid::field(
                        Some(subject),
                        "subject",
                        format!("no person, source, event or evidence file {subject}"),
                    )
                })?;
            if view.is_forgotten(subject).map_err(RuleError::View)? {
                return Err(Refusal::Conflict {
                    id: subject.clone(),
                    message: format!("{subject} was already forgotten"),
                }
                .into());
            }
            Ok(StateOp::Forget {
                subject,
                revision: existing.revision + 1,
            })
        }
        Change::Custody {
            evidence,
            sha256,
            action,
            recipient,
            note,
        } => match view.evidence_sha256(evidence).map_err(RuleError::View)? {
            None => Err(Invalid::field(
                Some(evidence),
                "evidence",
                format!("no evidence record {evidence}"),
            )
            .into()),
            Some(stored) if stored != *sha256 => Err(Invalid::field(
                Some(evidence),
                "sha256",
                format!("evidence {evidence} is the file {stored}, not {sha256}"),
            )
            .into()),
            Some(_) => Ok(StateOp::Custody {
                evidence,
                sha256,
                action: *action,
                recipient: recipient.as_deref(),
                note,
            }),
        },
        Change::AddTerm { vocabulary, term } => {
            vocabularies
                .get(*vocabulary)
                .check_new(term)
                .map_err(|message| Invalid::field(None, "key", message))?;
            Ok(StateOp::AddTerm {
                vocabulary: *vocabulary,
                term,
            })
        }
        Change::Import {
            file_name,
            sha256,
            records,
        } => {
            if let Some(prior) = view.prior_import(sha256).map_err(RuleError::View)? {
                return Err(Refusal::from(DuplicateImport {
                    file_name: file_name.clone(),
                    first_name: prior.file_name,
                    seq: prior.seq,
                    time: prior.time,
                })
                .into());
            }
            Ok(StateOp::Import {
                sha256,
                file_name,
                records: *records,
            })
        }
        Change::LinkDecision { same, persons, .. } => {
            for person in persons {
                require_person(view, person, "persons")?;
            }
            if *same {
                // Merging must not join two records a reviewer kept apart.
                let together = merged_with(view, persons)?;
                if let Some((a, b)) = decided_pair(view, Decision::Different, &together)? {
                    return Err(conflict(
                        persons,
                        format!(
                            "{a} and {b} were decided to be different persons; unmerge one of them first"
                        ),
                    ));
                }
            } else {
                // No two of them may already be merged as one person.
                for (i, person) in persons.iter().enumerate() {
                    let merged = merged_with(view, std::slice::from_ref(person))?;
                    if let Some(other) = persons[i + 1..].iter().find(|o| merged.contains(*o)) {
                        return Err(conflict(
                            persons,
                            format!(
                                "{person} and {other} are merged as one person; unmerge one of them first"
                            ),
                        ));
                    }
                }
            }
            let mut pairs = Vec::new();
            for (i, x) in persons.iter().enumerate() {
                for y in &persons[i + 1..] {
                    pairs.push(if x < y { (x, y) } else { (y, x) });
                }
            }
            Ok(StateOp::Decide {
                decision: if *same {
                    Decision::Same
                } else {
                    Decision::Different
                },
                pairs,
            })
        }
        Change::Unlink { person, .. } => {
            require_person(view, person, "person")?;
            let mut decided = false;
            for decision in Decision::ALL {
                decided |= !view
                    .decided_with(decision, person, Some(1))
                    .map_err(RuleError::View)?
                    .is_empty();
            }
            if !decided {
                return Err(conflict(
                    std::slice::from_ref(person),
                    format!("no linkage decision names {person}"),
                ));
            }
            Ok(StateOp::Withdraw { person })
        }
    }
}

fn conflict<E>(persons: &[RecordId], message: String) -> RuleError<E> {
    RuleError::Refused(Refusal::Conflict {
        id: persons
            .first()
            .cloned()
            .unwrap_or_else(|| RecordId::new("")),
        message,
    })
}

fn require_person<V: StateView + ?Sized>(
    view: &V,
    id: &RecordId,
    field: &str,
) -> Result<(), RuleError<V::Error>> {
    match view.live_kind(id).map_err(RuleError::View)? {
        Some(RecordKind::Person) => Ok(()),
        _ => Err(Invalid::field(Some(id), field, format!("no person {id}")).into()),
    }
}

/// The persons merged with any of `persons` (themselves included), in the
/// order a breadth-first walk of same-person decisions finds them.
fn merged_with<V: StateView + ?Sized>(
    view: &V,
    persons: &[RecordId],
) -> Result<Vec<RecordId>, RuleError<V::Error>> {
    let mut found: Vec<RecordId> = persons.to_vec();
    let mut next = 0;
    while next < found.len() {
        let others = view
            .decided_with(Decision::Same, &found[next], None)
            .map_err(RuleError::View)?;
        for other in others {
            if !found.contains(&other) {
                found.push(other);
            }
        }
        next += 1;
    }
    Ok(found)
}

/// A pair of `persons` about which `decision` was made, if any.
fn decided_pair<V: StateView + ?Sized>(
    view: &V,
    decision: Decision,
    persons: &[RecordId],
) -> Result<Option<(RecordId, RecordId)>, RuleError<V::Error>> {
    for (i, x) in persons.iter().enumerate() {
        for y in &persons[i + 1..] {
            let (a, b) = if x < y { (x, y) } else { (y, x) };
            if view.is_decided(decision, a, b).map_err(RuleError::View)? {
                return Ok(Some((a.clone(), b.clone())));
            }
        }
    }
    Ok(None)
}

/// The registry row of a live record of `kind`, at `base_revision`.
fn current<V: StateView + ?Sized>(
    view: &V,
    kind: RecordKind,
    id: &RecordId,
    base_revision: u32,
) -> Result<RecordMeta, RuleError<V::Error>> {
    let existing = view
        .record(id)
        .map_err(RuleError::View)?
        .filter(|m| !m.deleted)
        .ok_or_else(|| Invalid::field(Some(id), "id", format!("no {kind} {id}")))?;
    if existing.kind != kind {
        return Err(Invalid::field(
            Some(id),
            "id",
            format!("{id} is a {}, not a {kind}", existing.kind),
        )
        .into());
    }
    if existing.revision != base_revision {
        return Err(Refusal::Conflict {
            id: id.clone(),
            message: format!(
                "{kind} {id} is at revision {} (changed by {} at entry {}), not {base_revision}; \
                 reload it and apply the edit again",
                existing.revision, existing.updated_by, existing.updated_seq
            ),
        }
        .into());
    }
    Ok(existing)
}

fn check_consent_change<E>(
    id: &RecordId,
    before: Option<ConsentScope>,
    after: Option<ConsentScope>,
    widen: bool,
) -> Result<(), RuleError<E>> {
    let wider = match (before, after) {
        (Some(before), Some(after)) => after > before,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if wider && !widen {
        return Err(Invalid::field(
            Some(id),
            "consent",
            format!(
                "consent may only narrow silently ({} to {}); widening needs a set-consent change that says widen, with a reason",
                before.map_or("none", |c| c.as_str()),
                after.map_or("none", |c| c.as_str())
            ),
        )
        .into());
    }
    Ok(())
}

fn check_references<V: StateView + ?Sized>(
    view: &V,
    record: &Record,
) -> Result<(), RuleError<V::Error>> {
    for (field, target, kind) in record.references() {
        match view.live_kind(target).map_err(RuleError::View)? {
            Some(found) if found == kind => {}
            Some(found) => {
                return Err(Invalid::field(
                    Some(record.id()),
                    field,
                    format!("{target} is a {found}, but {field} must be a {kind}"),
                )
                .into());
            }
            None => {
                return Err(Invalid::field(
                    Some(record.id()),
                    field,
                    format!("refers to {kind} {target}, which does not exist"),
                )
                .into());
            }
        }
    }
    Ok(())
}

/// What keeps a record from being deleted: live records that refer to it
/// and, for a person, linkage decisions that name it.
fn referrers<V: StateView + ?Sized>(
    view: &V,
    kind: RecordKind,
    id: &RecordId,
) -> Result<Vec<Referrer>, RuleError<V::Error>> {
    let mut found = referring_records(view, kind, id, REFERRERS_NAMED).map_err(RuleError::View)?;
    if kind == RecordKind::Person {
        for decision in Decision::ALL {
            for other in view
                .decided_with(decision, id, Some(REFERRERS_NAMED))
                .map_err(RuleError::View)?
            {
                found.push(Referrer {
                    kind: decision.name(),
                    field: "linkage decision (unmerge first)",
                    id: other,
                });
            }
        }
    }
    Ok(found)
}

/// Live records that refer to `id` (a record of `kind`): at most `limit`
/// per referring field, fields in the order of [`REFERENCE_FIELDS`].
pub fn referring_records<V: StateView + ?Sized>(
    view: &V,
    kind: RecordKind,
    id: &RecordId,
    limit: u32,
) -> Result<Vec<Referrer>, V::Error> {
    let mut found = Vec::new();
    for (referring, field, target) in REFERENCE_FIELDS {
        if *target != kind {
            continue;
        }
        for referrer in view.referring(*referring, field, id, limit)? {
            found.push(Referrer {
                kind: referring.as_str(),
                field,
                id: referrer,
            });
        }
    }
    Ok(found)
}
