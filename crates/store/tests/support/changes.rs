//! Random batches of changes, valid and invalid, and how to apply them to the
//! reference state and to a store on any backend: shared by the tests that
//! hold the stores to the reference (conformance, crash).

use std::collections::HashMap;

use girok_model::{Change, Record, RecordId, RecordKind};
use girok_state::{EntryMeta, MemoryState, StateRows};
use girok_store::{BatchSize, ChangeSink, Database, JournalRow, Store, StoreError, write_with};
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

/// A small pool of ids, so that collisions, dangling references, wrong kinds
/// and references to deleted records all happen often.
const IDS: &[&str] = &[
    "p1", "p2", "p3", "p4", "s1", "s2", "e1", "e2", "a1", "a2", "a3", "i1", "i2", "f1", "f2", "r1",
    "v1", "v2",
];
const FILES: &[&str] = &[
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
];
const SCOPES: &[&str] = &["internal", "partners", "public-anonymised", "public"];

fn one<'a>(rng: &mut ChaCha8Rng, options: &[&'a str]) -> &'a str {
    options.choose(rng).expect("options")
}

/// A random record of a random kind under a random id (its kind taken from
/// the id's first letter most of the time, so references often resolve).
fn record(rng: &mut ChaCha8Rng) -> Value {
    // Persons, sources and events are what the rest refers to: make them often.
    let id = if rng.random_bool(0.4) {
        one(rng, &["p1", "p2", "p3", "p4", "s1", "s2", "e1", "e2"])
    } else {
        *IDS.choose(rng).expect("ids")
    };
    let any = |rng: &mut ChaCha8Rng| *IDS.choose(rng).expect("ids");
    let pick = |rng: &mut ChaCha8Rng, prefix: &str| -> String {
        let matching: Vec<&&str> = IDS.iter().filter(|i| i.starts_with(prefix)).collect();
        if rng.random_bool(0.85) {
            matching.choose(rng).expect("prefix").to_string()
        } else {
            any(rng).to_string()
        }
    };
    let kind = if rng.random_bool(0.9) {
        &id[..1]
    } else {
        ["p", "s", "e", "a", "i", "f", "r", "v"]
            .choose(rng)
            .expect("kinds")
    };
    match kind {
        "p" => {
            json!({"type": "person", "id": id, "names": [{"text": "김은주", "script": "hangul", "system": "unknown", "kind": "legal"}], "sex": one(rng, &["female", "male"])})
        }
        "s" => {
            let mut source = json!({"type": "source", "id": id, "kind": "interview", "title": "Interview",
                "consent": SCOPES.choose(rng)});
            if rng.random_bool(0.5) {
                source["witness"] = json!(pick(rng, "p"));
            }
            source
        }
        "e" => json!({"type": "event", "id": id, "title": "Arrests"}),
        "a" => {
            let mut act = json!({"type": "act", "id": id, "act_type": one(rng, &["arrest", "detention"]),
                "victim": pick(rng, "p")});
            if rng.random_bool(0.3) {
                act["event"] = json!(pick(rng, "e"));
            }
            act
        }
        "i" => {
            json!({"type": "involvement", "id": id, "act": pick(rng, "a"), "perpetrator": pick(rng, "p")})
        }
        "f" => {
            json!({"type": "information", "id": id, "source": pick(rng, "s"), "act": pick(rng, "a")})
        }
        "r" => {
            json!({"type": "relation", "id": id, "person": pick(rng, "p"), "other": pick(rng, "p"),
            "relation": "sibling"})
        }
        _ => json!({"type": "evidence", "id": id, "source": pick(rng, "s"),
            "sha256": FILES.choose(rng), "file_name": "photo.jpg", "size": 10}),
    }
}

/// A random change, mostly about records that exist in `state` (so that
/// merges, unmerges, custody and forgetting are accepted often) and otherwise
/// about any id of the pool.
/// A random batch of one to three changes made against `state`.
pub fn random_batch(rng: &mut ChaCha8Rng, state: &StateRows) -> Vec<Change> {
    let size = rng.random_range(1..=3);
    (0..size).map(|_| change(rng, state)).collect()
}

fn change(rng: &mut ChaCha8Rng, state: &StateRows) -> Change {
    let live = |kind: RecordKind| -> Vec<String> {
        state
            .content
            .values()
            .filter(|r| r.kind() == kind)
            .map(|r| r.id().to_string())
            .collect()
    };
    let (live_persons, live_evidence) = (live(RecordKind::Person), live(RecordKind::Evidence));
    let persons = |rng: &mut ChaCha8Rng| -> Vec<String> {
        let pool: Vec<String> = if live_persons.len() >= 2 && rng.random_bool(0.85) {
            live_persons.clone()
        } else {
            ["p1", "p2", "p3", "p4", "s1"].map(String::from).to_vec()
        };
        let count = rng.random_range(2..=3).min(pool.len());
        let mut chosen: Vec<String> = Vec::new();
        while chosen.len() < count {
            let candidate = pool.choose(rng).expect("persons").clone();
            if !chosen.contains(&candidate) {
                chosen.push(candidate);
            }
        }
        chosen
    };
    let decided: Vec<String> = state
        .decisions
        .keys()
        .flat_map(|(_, a, b)| [a.to_string(), b.to_string()])
        .collect();
    let base = |rng: &mut ChaCha8Rng, id: &str| -> u32 {
        let current = state
            .records
            .get(&RecordId::new(id))
            .map_or(1, |m| m.revision);
        if rng.random_bool(0.85) {
            current
        } else {
            rng.random_range(0..4)
        }
    };
    let either = |rng: &mut ChaCha8Rng, likely: &[String], pool: &[&str]| -> String {
        match likely.choose(rng) {
            Some(id) if rng.random_bool(0.8) => id.clone(),
            _ => one(rng, pool).to_string(),
        }
    };
    let value = match rng.random_range(0..100) {
        0..=39 => json!({"op": "create", "record": record(rng)}),
        40..=54 => {
            let record = record(rng);
            let id = record["id"].as_str().expect("id").to_string();
            json!({"op": "update", "record": record, "base_revision": base(rng, &id)})
        }
        55..=62 => {
            let id = *IDS.choose(rng).expect("ids");
            let kind = match &id[..1] {
                "p" => "person",
                "s" => "source",
                "e" => "event",
                "a" => "act",
                "i" => "involvement",
                "f" => "information",
                "r" => "relation",
                _ => "evidence",
            };
            json!({"op": "delete", "kind": kind, "id": id, "base_revision": base(rng, id), "reason": "test"})
        }
        63..=69 => json!({"op": "set-consent", "source": one(rng, &["s1", "s2", "p1"]),
            "scope": SCOPES.choose(rng), "widen": rng.random_bool(0.3), "reason": "asked"}),
        70..=73 => {
            json!({"op": "forget", "subject": either(rng, &live_persons, IDS), "reason": "asked"})
        }
        74..=77 => {
            let evidence = either(rng, &live_evidence, &["v1", "v2", "s1"]);
            let sha256 = match state.content.get(&RecordId::new(&evidence)) {
                Some(Record::Evidence(file)) if rng.random_bool(0.8) => file.sha256.clone(),
                _ => one(rng, FILES).to_string(),
            };
            json!({"op": "custody", "evidence": evidence, "sha256": sha256, "action": "access"})
        }
        78..=80 => json!({"op": "add-term", "vocabulary": "agency",
            "term": {"key": one(rng, &["local-police", "local-police", "Bad Key"]), "en": "Local police", "ko": "지역 경찰"}}),
        81..=83 => {
            json!({"op": "import", "file_name": "a.csv", "sha256": FILES.choose(rng), "records": 3})
        }
        84..=95 => {
            json!({"op": "link-decision", "same": rng.random_bool(0.6), "persons": persons(rng),
            "reason": "reviewed"})
        }
        _ => {
            json!({"op": "unlink", "person": either(rng, &decided, &["p1", "p2", "p3"]), "reason": "mistake"})
        }
    };
    serde_json::from_value(value).expect("the generator writes well-formed changes")
}

/// The reference after one batch, each change at the sequence number and
/// time the journal gave it, or the batch's refusal.
pub fn apply_to_reference(
    reference: &MemoryState,
    changes: &[Change],
    first_seq: u64,
    times: &HashMap<u64, String>,
) -> Result<MemoryState, String> {
    let mut after = reference.clone();
    for (offset, change) in changes.iter().enumerate() {
        let seq = first_seq + offset as u64;
        let meta = EntryMeta {
            seq,
            time: times.get(&seq).map_or(TIME, String::as_str),
            actor: "tester",
        };
        after
            .apply_change(meta, change)
            .map_err(|r| r.to_string())?;
    }
    Ok(after)
}

/// Writes one batch, one time in five as a bulk write (an import's, which
/// drops and rebuilds the secondary indexes in its transaction).
pub fn apply_to_store(
    rng: &mut ChaCha8Rng,
    store: &mut dyn Store,
    changes: &[Change],
) -> Result<(), String> {
    // Half the batches learn ahead which ids are used, as an import does:
    // what the batch then knows must never change an outcome.
    let look_ahead = rng.random_bool(0.5);
    let work = |sink: &mut dyn ChangeSink| {
        if look_ahead {
            let named: Vec<RecordId> = changes
                .iter()
                .flat_map(|change| {
                    let mut ids: Vec<RecordId> = change.subject().cloned().into_iter().collect();
                    if let Change::Create { record } | Change::Update { record, .. } = change {
                        ids.extend(record.references().into_iter().map(|(_, id, _)| id.clone()));
                    }
                    ids
                })
                .collect();
            sink.look_up_ahead(&named)?;
        }
        for change in changes {
            sink.apply(change.clone())?;
        }
        Ok::<_, StoreError>(())
    };
    let size = if rng.random_bool(0.2) {
        BatchSize::Bulk
    } else {
        BatchSize::Small
    };
    let written = write_with(store, "tester", size, work);
    written.map(|_| ()).map_err(|e| e.to_string())
}

/// Asserts that the store's state is the reference's: its typed rows and
/// every state table row by row.
pub fn assert_same_state(store: &Database, reference: &MemoryState, context: &str) {
    let mut differences = store
        .state_rows()
        .expect("rows")
        .differences(reference.rows());
    differences.extend(store.differences_from(reference).expect("tables"));
    assert!(
        differences.is_empty(),
        "{context}\n{}",
        differences
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The store's latest `count` journal entries, oldest first.
pub fn latest_entries(store: &dyn Store, count: usize) -> Vec<JournalRow> {
    let mut rows = store
        .recent(u32::try_from(count).unwrap_or(u32::MAX))
        .expect("recent");
    rows.reverse();
    rows
}

/// The times the journal gave `rows`, by sequence number: the reference
/// takes entry times from the journal, which chose them.
pub fn times_of(rows: &[JournalRow]) -> HashMap<u64, String> {
    rows.iter()
        .map(|row| (row.entry.seq, row.entry.time.clone()))
        .collect()
}

/// What stands for an entry time that no journal committed.
pub const TIME: &str = "<time>";

/// A refusal with its journal entry times (RFC 3339, as the journal writes
/// them) replaced by a placeholder.
pub fn without_times(message: &str) -> String {
    message
        .split(' ')
        .map(|word| {
            let is_time = word.len() >= 20
                && word.as_bytes()[4] == b'-'
                && word.contains('T')
                && word.trim_end_matches([')', ';', ',']).ends_with('Z');
            if is_time {
                let end = word.trim_end_matches([')', ';', ',']).len();
                format!("{TIME}{}", &word[end..])
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
