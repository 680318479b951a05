//! The rules: what a change does to the state, or why it is refused.

use girok_model::{
    Change, ConsentScope, Invalid, REFERENCE_FIELDS, Record, RecordId, RecordKind, Vocabularies,
    Wording,
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
                        Wording::new(
                            format!(
                                "id {id} belonged to a {} that was deleted; ids are never reused",
                                existing.kind
                            ),
                            format!(
                                "ID {id}은(는) 삭제된 {}의 것이었습니다; ID는 다시 쓰지 않습니다",
                                existing.kind.ko()
                            ),
                        )
                    } else {
                        Wording::new(
                            format!(
                                "a {} with id {id} already exists (created at entry {})",
                                existing.kind, existing.created_seq
                            ),
                            format!(
                                "ID가 {id}인 {}이(가) 이미 있습니다 (기록 항목 {}에서 만듦)",
                                existing.kind.ko(),
                                existing.created_seq
                            ),
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
                    message: {
                        let referrers = referrers
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ");
                        Wording::new(
                            format!(
                                "{kind} {id} cannot be deleted while other records refer to it: {referrers}"
                            ),
                            format!(
                                "다른 기록이 가리키고 있어 {} {id}을(를) 삭제할 수 없습니다: {referrers}",
                                kind.ko()
                            ),
                        )
                    },
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
                    Invalid::field(
                        Some(source),
                        "source",
                        Wording::new(
                            format!("no source {source}"),
                            format!("출처 {source}이(가) 없습니다"),
                        ),
                    )
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
                        Wording::new(
                            format!("no person, source, event or evidence file {subject}"),
                            format!("인물, 출처, 사건 또는 증거 파일 {subject}이(가) 없습니다"),
                        ),
                    )
                })?;
            if view.is_forgotten(subject).map_err(RuleError::View)? {
                return Err(Refusal::Conflict {
                    id: subject.clone(),
                    message: Wording::new(
                        format!("{subject} was already forgotten"),
                        format!("{subject}은(는) 이미 잊혔습니다"),
                    ),
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
                Wording::new(
                    format!("no evidence record {evidence}"),
                    format!("증거 기록 {evidence}이(가) 없습니다"),
                ),
            )
            .into()),
            Some(stored) if stored != *sha256 => Err(Invalid::field(
                Some(evidence),
                "sha256",
                Wording::new(
                    format!("evidence {evidence} is the file {stored}, not {sha256}"),
                    format!("증거 {evidence}은(는) {sha256}이 아니라 파일 {stored}입니다"),
                ),
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
                        Wording::new(
                            format!(
                                "{a} and {b} were decided to be different persons; unmerge one of them first"
                            ),
                            format!(
                                "두 기록({a}, {b})은 다른 사람으로 결정되었습니다; 먼저 둘 중 하나의 병합을 푸세요"
                            ),
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
                            Wording::new(
                                format!(
                                    "{person} and {other} are merged as one person; unmerge one of them first"
                                ),
                                format!(
                                    "두 기록({person}, {other})은 한 사람으로 병합되어 있습니다; 먼저 둘 중 하나의 병합을 푸세요"
                                ),
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
                    Wording::new(
                        format!("no linkage decision names {person}"),
                        format!("{person}에 대한 연결 결정이 없습니다"),
                    ),
                ));
            }
            Ok(StateOp::Withdraw { person })
        }
    }
}

fn conflict<E>(persons: &[RecordId], message: Wording) -> RuleError<E> {
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
        _ => Err(Invalid::field(
            Some(id),
            field,
            Wording::new(
                format!("no person {id}"),
                format!("인물 {id}이(가) 없습니다"),
            ),
        )
        .into()),
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
        .ok_or_else(|| {
            Invalid::field(
                Some(id),
                "id",
                Wording::new(
                    format!("no {kind} {id}"),
                    format!("{} {id}이(가) 없습니다", kind.ko()),
                ),
            )
        })?;
    if existing.kind != kind {
        return Err(Invalid::field(
            Some(id),
            "id",
            Wording::new(
                format!("{id} is a {}, not a {kind}", existing.kind),
                format!(
                    "{id}은(는) {}이(가) 아니라 {}입니다",
                    kind.ko(),
                    existing.kind.ko()
                ),
            ),
        )
        .into());
    }
    if existing.revision != base_revision {
        return Err(Refusal::Conflict {
            id: id.clone(),
            message: Wording::new(
                format!(
                    "{kind} {id} is at revision {} (changed by {} at entry {}), not {base_revision}; \
                     reload it and apply the edit again",
                    existing.revision, existing.updated_by, existing.updated_seq
                ),
                format!(
                    "{} {id}은(는) 판 {base_revision}이 아니라 판 {}입니다 ({}이(가) 기록 항목 {}에서 바꿈); \
                     다시 불러와 수정을 다시 하세요",
                    kind.ko(),
                    existing.revision,
                    existing.updated_by,
                    existing.updated_seq
                ),
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
            Wording::new(
                format!(
                    "consent may only narrow silently ({} to {}); widening needs a set-consent change that says widen, with a reason",
                    before.map_or("none", |c| c.as_str()),
                    after.map_or("none", |c| c.as_str())
                ),
                format!(
                    "동의는 말없이 좁힐 수만 있습니다 ({}에서 {}로); 넓히려면 넓힌다고 밝히고 이유를 적은 동의 변경이 필요합니다",
                    before.map_or("없음", |c| c.ko()),
                    after.map_or("없음", |c| c.ko())
                ),
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
                    Wording::new(
                        format!("{target} is a {found}, but {field} must be a {kind}"),
                        format!(
                            "{target}은(는) {}입니다; {field}은(는) {}이어야 합니다",
                            found.ko(),
                            kind.ko()
                        ),
                    ),
                )
                .into());
            }
            None => {
                return Err(Invalid::field(
                    Some(record.id()),
                    field,
                    Wording::new(
                        format!("refers to {kind} {target}, which does not exist"),
                        format!("없는 {} {target}을(를) 가리킵니다", kind.ko()),
                    ),
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
