//! Applying one change to the state tables. Used by the write path and by the
//! replay in `check`, so state is the same function of the journal in both.

use girok_journal::Entry;
use girok_model::{
    Change, ConsentScope, FuzzyDate, Invalid, Record, RecordId, RecordKind, Vocabularies,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreError;

/// Who and when, from the journal entry being applied.
pub(crate) struct Meta<'a> {
    pub seq: u64,
    pub time: &'a str,
    pub actor: &'a str,
}

/// The registry row of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMeta {
    pub kind: RecordKind,
    pub revision: u32,
    pub created_seq: u64,
    pub created_by: String,
    pub updated_seq: u64,
    pub updated_by: String,
    pub deleted: bool,
}

/// Tables and columns that refer to a record of the given kind.
const REFERRERS: &[(RecordKind, &str, &str)] = &[
    (RecordKind::Person, "act", "victim"),
    (RecordKind::Person, "involvement", "perpetrator"),
    (RecordKind::Person, "relation", "person"),
    (RecordKind::Person, "relation", "other"),
    (RecordKind::Person, "source", "witness"),
    (RecordKind::Source, "information", "source"),
    (RecordKind::Source, "evidence", "source"),
    (RecordKind::Event, "act", "event"),
    (RecordKind::Event, "information", "event"),
    (RecordKind::Act, "involvement", "act"),
    (RecordKind::Act, "information", "act"),
];

pub(crate) fn record_meta(conn: &Connection, id: &str) -> Result<Option<RecordMeta>, StoreError> {
    conn.prepare_cached(
        "SELECT kind, revision, created_seq, created_by, updated_seq, updated_by, deleted \
         FROM record WHERE id = ?1",
    )?
    .query_row([id], |row| {
        let kind: String = row.get(0)?;
        Ok(RecordMeta {
            kind: RecordKind::parse(&kind).unwrap_or(RecordKind::Source),
            revision: row.get(1)?,
            created_seq: row.get(2)?,
            created_by: row.get(3)?,
            updated_seq: row.get(4)?,
            updated_by: row.get(5)?,
            deleted: row.get(6)?,
        })
    })
    .optional()
    .map_err(StoreError::from)
}

/// Applies a validated change. Checks what needs the database: that ids are
/// new, references resolve, revisions match and consent is not silently widened.
pub(crate) fn apply(
    conn: &Connection,
    vocabularies: &mut Vocabularies,
    meta: &Meta,
    change: &Change,
) -> Result<(), StoreError> {
    match change {
        Change::Create { record } => {
            let id = record.id();
            check_references(conn, record)?;
            // The primary key refuses a taken id; the lookup only words the refusal.
            let inserted = conn
                .prepare_cached(
                    "INSERT INTO record (id, kind, revision, created_seq, created_by, updated_seq, updated_by, content_seq) \
                     VALUES (?1, ?2, 1, ?3, ?4, ?3, ?4, ?3)",
                )?
                .execute(params![id.as_str(), record.kind().as_str(), meta.seq, meta.actor]);
            match inserted {
                Ok(_) => insert_state(conn, record),
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
                {
                    let existing = record_meta(conn, id.as_str())?.ok_or_else(|| {
                        StoreError::Corrupt(format!("id {id} is both taken and absent"))
                    })?;
                    Err(StoreError::Conflict {
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
                    })
                }
                Err(other) => Err(other.into()),
            }
        }
        Change::Update {
            record,
            base_revision,
        } => {
            let id = record.id();
            let existing = current(conn, record.kind(), id, *base_revision)?;
            check_references(conn, record)?;
            if let Record::Source(source) = record {
                check_consent_change(id, stored_consent(conn, id)?, source.consent, false)?;
            }
            delete_state(conn, record.kind(), id)?;
            insert_state(conn, record)?;
            bump(conn, id, existing.revision, meta, Bump::NewContent)
        }
        Change::Delete {
            kind,
            id,
            base_revision,
            ..
        } => {
            let existing = current(conn, *kind, id, *base_revision)?;
            let mut referrers = referrers(conn, *kind, id, 5)?;
            if *kind == RecordKind::Person {
                referrers.extend(decisions_about(conn, id)?);
            }
            if !referrers.is_empty() {
                return Err(StoreError::Conflict {
                    id: id.clone(),
                    message: format!(
                        "{kind} {id} cannot be deleted while other records refer to it: {}",
                        referrers
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
            delete_state(conn, *kind, id)?;
            bump(conn, id, existing.revision, meta, Bump::Deleted)
        }
        Change::SetConsent {
            source,
            scope,
            widen,
            ..
        } => {
            let existing = record_meta(conn, source.as_str())?
                .filter(|m| m.kind == RecordKind::Source && !m.deleted)
                .ok_or_else(|| {
                    Invalid::field(Some(source), "source", format!("no source {source}"))
                })?;
            check_consent_change(source, stored_consent(conn, source)?, Some(*scope), *widen)?;
            conn.prepare_cached("UPDATE source SET consent = ?2 WHERE id = ?1")?
                .execute(params![source.as_str(), scope.as_str()])?;
            bump(conn, source, existing.revision, meta, Bump::SameContent)
        }
        Change::Forget { subject, .. } => {
            let existing = record_meta(conn, subject.as_str())?
                .filter(|m| {
                    matches!(
                        m.kind,
                        RecordKind::Person | RecordKind::Source | RecordKind::Evidence
                    ) && !m.deleted
                })
                .ok_or_else(|| {
                    Invalid::field(
                        Some(subject),
                        "subject",
                        format!("no person, source or evidence file {subject}"),
                    )
                })?;
            let inserted = conn
                .prepare_cached("INSERT OR IGNORE INTO forgotten (subject, seq) VALUES (?1, ?2)")?
                .execute(params![subject.as_str(), meta.seq])?;
            if inserted == 0 {
                return Err(StoreError::Conflict {
                    id: subject.clone(),
                    message: format!("{subject} was already forgotten"),
                });
            }
            bump(conn, subject, existing.revision, meta, Bump::SameContent)
        }
        Change::Custody {
            evidence,
            sha256,
            action,
            recipient,
            note,
        } => {
            let stored: Option<String> = conn
                .prepare_cached("SELECT sha256 FROM evidence WHERE id = ?1")?
                .query_row([evidence.as_str()], |r| r.get(0))
                .optional()?;
            match stored {
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
                Some(_) => {
                    conn.prepare_cached(
                        "INSERT INTO custody (seq, evidence, sha256, action, recipient, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )?
                    .execute(params![meta.seq, evidence.as_str(), sha256, action.as_str(), recipient, note])?;
                    Ok(())
                }
            }
        }
        Change::AddTerm { vocabulary, term } => {
            vocabularies
                .add(*vocabulary, term.clone())
                .map_err(|message| Invalid::field(None, "key", message))?;
            let body =
                serde_json::to_string(term).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            conn.prepare_cached(
                "INSERT INTO term (vocabulary, key, body, added_seq) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![vocabulary.name(), term.key, body, meta.seq])?;
            Ok(())
        }
        Change::Import {
            file_name,
            sha256,
            records,
        } => {
            let first: Option<(String, u64, String)> = conn
                .prepare_cached("SELECT file_name, seq, time FROM import WHERE sha256 = ?1")?
                .query_row([sha256], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            if let Some((first_name, seq, time)) = first {
                return Err(StoreError::DuplicateImport {
                    file_name: file_name.clone(),
                    first_name,
                    seq,
                    time,
                });
            }
            conn.prepare_cached("INSERT INTO import (sha256, file_name, records, seq, time) VALUES (?1, ?2, ?3, ?4, ?5)")?
                .execute(params![sha256, file_name, records, meta.seq, meta.time])?;
            Ok(())
        }
        Change::LinkDecision { same, persons, .. } => {
            for person in persons {
                require_person(conn, person, "persons")?;
            }
            if *same {
                // Merging must not join two records a reviewer kept apart.
                let together = linked_with(conn, persons)?;
                if let Some((a, b)) = decided_pair(conn, "different_person", &together)? {
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
                    let merged = linked_with(conn, std::slice::from_ref(person))?;
                    if let Some(other) = persons[i + 1..]
                        .iter()
                        .find(|other| merged.iter().any(|m| m == other.as_str()))
                    {
                        return Err(conflict(
                            persons,
                            format!(
                                "{person} and {other} are merged as one person; unmerge one of them first"
                            ),
                        ));
                    }
                }
            }
            let table = if *same {
                "same_person"
            } else {
                "different_person"
            };
            let mut insert = conn.prepare_cached(&format!(
                "INSERT OR IGNORE INTO {table} (a, b, seq) VALUES (?1, ?2, ?3)"
            ))?;
            for (i, x) in persons.iter().enumerate() {
                for y in &persons[i + 1..] {
                    let (a, b) = if x < y { (x, y) } else { (y, x) };
                    insert.execute(params![a.as_str(), b.as_str(), meta.seq])?;
                }
            }
            Ok(())
        }
        Change::Unlink { person, .. } => {
            require_person(conn, person, "person")?;
            let mut removed = 0;
            for table in ["same_person", "different_person"] {
                removed += conn
                    .prepare_cached(&format!("DELETE FROM {table} WHERE a = ?1 OR b = ?1"))?
                    .execute([person.as_str()])?;
            }
            if removed == 0 {
                return Err(conflict(
                    std::slice::from_ref(person),
                    format!("no linkage decision names {person}"),
                ));
            }
            Ok(())
        }
    }
}

fn conflict(persons: &[RecordId], message: String) -> StoreError {
    StoreError::Conflict {
        id: persons
            .first()
            .cloned()
            .unwrap_or_else(|| RecordId::new("")),
        message,
    }
}

fn require_person(conn: &Connection, id: &RecordId, field: &str) -> Result<(), StoreError> {
    match live_kind(conn, id.as_str())? {
        Some(RecordKind::Person) => Ok(()),
        _ => Err(Invalid::field(Some(id), field, format!("no person {id}")).into()),
    }
}

/// The persons merged with any of `persons` (themselves included).
fn linked_with(conn: &Connection, persons: &[RecordId]) -> Result<Vec<String>, StoreError> {
    let mut found: Vec<String> = persons.iter().map(|p| p.as_str().to_string()).collect();
    let mut next = 0;
    let mut statement = conn.prepare_cached(
        "SELECT b FROM same_person WHERE a = ?1 UNION SELECT a FROM same_person WHERE b = ?1",
    )?;
    while next < found.len() {
        let others: Vec<String> = statement
            .query_map([&found[next]], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for other in others {
            if !found.contains(&other) {
                found.push(other);
            }
        }
        next += 1;
    }
    Ok(found)
}

/// A pair of `persons` recorded in `table`, if any.
fn decided_pair(
    conn: &Connection,
    table: &str,
    persons: &[String],
) -> Result<Option<(String, String)>, StoreError> {
    let mut statement =
        conn.prepare_cached(&format!("SELECT 1 FROM {table} WHERE a = ?1 AND b = ?2"))?;
    for (i, x) in persons.iter().enumerate() {
        for y in &persons[i + 1..] {
            let (a, b) = if x < y { (x, y) } else { (y, x) };
            if statement.exists(params![a, b])? {
                return Ok(Some((a.clone(), b.clone())));
            }
        }
    }
    Ok(None)
}

/// The registry row of a live record of `kind`, at `base_revision`.
fn current(
    conn: &Connection,
    kind: RecordKind,
    id: &RecordId,
    base_revision: u32,
) -> Result<RecordMeta, StoreError> {
    let existing = record_meta(conn, id.as_str())?
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
        return Err(StoreError::Conflict {
            id: id.clone(),
            message: format!(
                "{kind} {id} is at revision {} (changed by {} at entry {}), not {base_revision}; \
                 reload it and apply the edit again",
                existing.revision, existing.updated_by, existing.updated_seq
            ),
        });
    }
    Ok(existing)
}

/// What a change did to a record besides raising its revision.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Bump {
    /// The change's entry holds the record's new content.
    NewContent,
    /// Content is unchanged; a column was set (consent).
    SameContent,
    Deleted,
}

fn bump(
    conn: &Connection,
    id: &RecordId,
    revision: u32,
    meta: &Meta,
    bump: Bump,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE record SET revision = ?2, updated_seq = ?3, updated_by = ?4, deleted = ?5, \
         content_seq = CASE WHEN ?6 THEN ?3 ELSE content_seq END WHERE id = ?1",
    )?
    .execute(params![
        id.as_str(),
        revision + 1,
        meta.seq,
        meta.actor,
        bump == Bump::Deleted,
        bump == Bump::NewContent
    ])?;
    Ok(())
}

/// A source's current consent: the `consent` column is authoritative, since
/// `set-consent` changes it without rewriting the record.
fn stored_consent(conn: &Connection, id: &RecordId) -> Result<Option<ConsentScope>, StoreError> {
    let consent: Option<Option<String>> = conn
        .prepare_cached("SELECT consent FROM source WHERE id = ?1")?
        .query_row([id.as_str()], |r| r.get(0))
        .optional()?;
    Ok(consent.flatten().as_deref().and_then(ConsentScope::parse))
}

fn check_consent_change(
    id: &RecordId,
    before: Option<ConsentScope>,
    after: Option<ConsentScope>,
    widen: bool,
) -> Result<(), StoreError> {
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
                "consent may only narrow silently ({} to {}); widening needs `set-consent --widen` with a reason",
                before.map_or("none", |c| c.as_str()),
                after.map_or("none", |c| c.as_str())
            ),
        )
        .into());
    }
    Ok(())
}

/// The kind of a live record, with no other registry data: the lookup every
/// reference check and CSV row makes, so it allocates nothing it does not need.
pub(crate) fn live_kind(conn: &Connection, id: &str) -> Result<Option<RecordKind>, StoreError> {
    let kind: Option<String> = conn
        .prepare_cached("SELECT kind FROM record WHERE id = ?1 AND deleted = 0")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    Ok(kind.as_deref().and_then(RecordKind::parse))
}

fn check_references(conn: &Connection, record: &Record) -> Result<(), StoreError> {
    for (field, target, kind) in record.references() {
        match live_kind(conn, target.as_str())? {
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

/// A record that refers to another: its table (kind), the referring column, its id.
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

/// Linkage decisions that name a person, as referrers (unmerge to remove them).
fn decisions_about(conn: &Connection, id: &RecordId) -> Result<Vec<Referrer>, StoreError> {
    let mut found = Vec::new();
    for table in ["same_person", "different_person"] {
        let mut statement = conn.prepare_cached(&format!(
            "SELECT CASE WHEN a = ?1 THEN b ELSE a END FROM {table} WHERE a = ?1 OR b = ?1 LIMIT 5"
        ))?;
        for other in statement.query_map([id.as_str()], |r| r.get::<_, String>(0))? {
            found.push(Referrer {
                kind: table,
                field: "linkage decision (unmerge first)",
                id: RecordId::new(other?),
            });
        }
    }
    Ok(found)
}

/// Up to `limit` records of each referring table and column that refer to `id`.
pub(crate) fn referrers(
    conn: &Connection,
    kind: RecordKind,
    id: &RecordId,
    limit: u32,
) -> Result<Vec<Referrer>, StoreError> {
    let mut found = Vec::new();
    for (target, table, column) in REFERRERS {
        if *target != kind {
            continue;
        }
        let mut statement = conn.prepare_cached(&format!(
            "SELECT id FROM {table} WHERE {column} = ?1 ORDER BY id LIMIT ?2"
        ))?;
        let ids = statement.query_map(params![id.as_str(), limit], |r| r.get::<_, String>(0))?;
        for referrer in ids {
            found.push(Referrer {
                kind: table,
                field: column,
                id: RecordId::new(referrer?),
            });
        }
    }
    Ok(found)
}

fn dates(date: &FuzzyDate) -> (Option<String>, Option<String>, &'static str) {
    (
        date.start().map(|d| d.to_string()),
        date.end().map(|d| d.to_string()),
        date.precision().as_str(),
    )
}

pub(crate) fn insert_state(conn: &Connection, record: &Record) -> Result<(), StoreError> {
    match record {
        Record::Source(r) => {
            let (start, end, _) = dates(&r.obtained);
            conn.prepare_cached(
                "INSERT INTO source (id, kind, title, obtained_start, obtained_end, organisation, consent, witness) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                r.id.as_str(),
                r.kind.as_str(),
                r.title,
                start,
                end,
                r.organisation,
                r.consent.map(|c| c.as_str()),
                r.witness.as_ref().map(RecordId::as_str)
            ])?;
        }
        Record::Person(r) => {
            let (start, end, _) = dates(&r.birth);
            conn.prepare_cached(
                "INSERT INTO person (id, sex, birth_start, birth_end, origin, protected, unit, unit_size) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                r.id.as_str(),
                r.sex.as_str(),
                start,
                end,
                r.origin,
                r.protected,
                r.unit.kind.as_str(),
                r.unit.size
            ])?;
            let mut names = conn.prepare_cached(
                "INSERT INTO person_name (person, position, text, script, system, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (position, name) in r.names.iter().enumerate() {
                names.execute(params![
                    r.id.as_str(),
                    position,
                    name.text,
                    name.script.as_str(),
                    name.system.as_str(),
                    name.kind.as_str()
                ])?;
            }
        }
        Record::Event(r) => {
            let (start, end, precision) = dates(&r.date);
            conn.prepare_cached(
                "INSERT INTO event (id, title, date_start, date_end, date_precision, place) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                r.id.as_str(),
                r.title,
                start,
                end,
                precision,
                r.place
            ])?;
        }
        Record::Act(r) => {
            let (start, end, precision) = dates(&r.date);
            conn.prepare_cached(
                "INSERT INTO act (id, act_type, victim, event, date_start, date_end, date_precision, place, \
                 victim_age, status, facility) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                r.id.as_str(),
                r.act_type,
                r.victim.as_str(),
                r.event.as_ref().map(RecordId::as_str),
                start,
                end,
                precision,
                r.place,
                r.victim_age,
                r.status,
                r.facility
            ])?;
        }
        Record::Involvement(r) => {
            conn.prepare_cached(
                "INSERT INTO involvement (id, act, perpetrator, agency, degree) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                r.id.as_str(),
                r.act.as_str(),
                r.perpetrator.as_ref().map(RecordId::as_str),
                r.agency,
                r.degree.as_str()
            ])?;
        }
        Record::Information(r) => {
            conn.prepare_cached(
                "INSERT INTO information (id, source, act, event, relation, reliability, knowledge) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                r.id.as_str(),
                r.source.as_str(),
                r.act.as_ref().map(RecordId::as_str),
                r.event.as_ref().map(RecordId::as_str),
                r.relation,
                r.reliability.map(|v| v.as_str()),
                r.knowledge.as_str()
            ])?;
        }
        Record::Relation(r) => {
            conn.prepare_cached(
                "INSERT INTO relation (id, person, other, relation) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                r.id.as_str(),
                r.person.as_str(),
                r.other.as_str(),
                r.relation
            ])?;
        }
        Record::Evidence(r) => {
            conn.prepare_cached(
                "INSERT INTO evidence (id, source, sha256, file_name, size) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![r.id.as_str(), r.source.as_str(), r.sha256, r.file_name, r.size])?;
        }
    }
    Ok(())
}

fn delete_state(conn: &Connection, kind: RecordKind, id: &RecordId) -> Result<(), StoreError> {
    conn.prepare_cached(&format!("DELETE FROM {} WHERE id = ?1", kind.as_str()))?
        .execute([id.as_str()])?;
    if kind == RecordKind::Person {
        conn.prepare_cached("DELETE FROM person_name WHERE person = ?1")?
            .execute([id.as_str()])?;
    }
    Ok(())
}

/// The record content a journal entry holds, with the authoritative columns applied.
pub(crate) fn decode(
    conn: &Connection,
    id: &str,
    seq: u64,
    bytes: &[u8],
) -> Result<Record, StoreError> {
    match Entry::decode(seq, bytes)?.change {
        Change::Create { mut record } | Change::Update { mut record, .. }
            if record.id().as_str() == id =>
        {
            if let Record::Source(source) = &mut record {
                source.consent = stored_consent(conn, &source.id)?;
            }
            Ok(record)
        }
        _ => Err(StoreError::Corrupt(format!(
            "{id}: journal entry {seq} does not hold its content"
        ))),
    }
}

/// The current content of a live record.
pub(crate) fn load(conn: &Connection, id: &RecordId) -> Result<Option<Record>, StoreError> {
    let row: Option<(u64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT j.seq, j.bytes FROM record r JOIN journal j ON j.seq = r.content_seq \
             WHERE r.id = ?1 AND r.deleted = 0",
        )?
        .query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(seq, bytes)| decode(conn, id.as_str(), seq, &bytes))
        .transpose()
}
