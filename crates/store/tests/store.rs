use std::path::{Path, PathBuf};

use girok_model::*;
use girok_store::{Database, Store, StoreError};
use rusqlite::Connection;

fn person(id: &str, name: &str) -> Record {
    Record::Person(Person {
        sex: Sex::Female,
        birth: FuzzyDate::parse("c. 1980").expect("date"),
        origin: Some("hoeryong".into()),
        ..Person::new(
            RecordId::new(id),
            vec![Name::detect(name, Romanization::Unknown)],
        )
    })
}

fn act(id: &str, victim: &str, act_type: &str, date: &str) -> Record {
    Record::Act(Act {
        id: RecordId::new(id),
        act_type: act_type.into(),
        victim: RecordId::new(victim),
        event: None,
        date: FuzzyDate::parse(date).expect("date"),
        place: Some("musan".into()),
        victim_age: None,
        status: None,
        facility: None,
        description: String::new(),
        received_by: None,
        clarifications: Default::default(),
        sealed: None,
    })
}

fn interview(id: &str, consent: ConsentScope) -> Record {
    Record::Source(Source {
        id: RecordId::new(id),
        kind: SourceKind::Interview,
        title: "Interview".into(),
        obtained: FuzzyDate::parse("2024-03").expect("date"),
        language: Some("ko".into()),
        organisation: Some("TJWG".into()),
        provenance: String::new(),
        consent: Some(consent),
        witness: None,
        received_by: None,
        notes: String::new(),
        clarifications: Default::default(),
        sealed: None,
    })
}

fn create(record: Record) -> Change {
    Change::Create { record }
}

fn new_store() -> (tempfile::TempDir, PathBuf, Database) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("girok.sqlite");
    let store = Database::create(&path).expect("create");
    (dir, path, store)
}

fn commit(store: &mut Database, changes: Vec<Change>) -> Result<(), StoreError> {
    store
        .write("tester", |sink| {
            for change in changes {
                sink.apply(change)?;
            }
            Ok::<_, StoreError>(())
        })
        .map(|_| ())
}

fn seeded() -> (tempfile::TempDir, PathBuf, Database) {
    let (dir, path, mut store) = new_store();
    commit(
        &mut store,
        vec![
            create(person("p1", "김은주")),
            create(person("p2", "Kang Gyu-ri")),
            create(act("a1", "p1", "forced-repatriation", "2001")),
            create(act("a2", "p1", "torture", "2001")),
            create(act("a3", "p2", "public-execution", "covid-border-closure")),
            create(interview("s1", ConsentScope::Partners)),
        ],
    )
    .expect("seed");
    (dir, path, store)
}

fn journal_length(store: &Database) -> u64 {
    store.head().expect("head").0
}

fn sql(path: &Path, statement: &str) {
    Connection::open(path)
        .expect("open")
        .execute_batch(statement)
        .expect("tamper");
}

#[test]
fn the_journal_columns_beside_the_bytes_are_checked() {
    let (_dir, path, store) = seeded();
    // Someone hides entry 2 from `history` (which finds entries by subject) and renames its actor.
    sql(
        &path,
        "UPDATE journal SET subject = 'elsewhere', actor = 'nobody' WHERE seq = 2",
    );
    let report = store.check(&mut |_, _| {}).expect("check");
    let found: Vec<String> = report.differences.iter().map(ToString::to_string).collect();
    assert!(
        found
            .iter()
            .any(|d| d.starts_with("table journal, row 2: column subject is elsewhere")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|d| d.contains("column actor is nobody but the entry says tester")),
        "{found:?}"
    );
}

#[test]
fn a_clean_store_checks_clean_and_replays_to_the_same_state() {
    let (_dir, _path, store) = seeded();
    let report = store.check(&mut |_, _| {}).expect("check");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.entries, 6);
    assert_eq!(report.head, store.head().expect("head").1);
}

#[test]
fn records_read_back_with_their_revision_and_actor() {
    let (_dir, path, _store) = seeded();
    let store = Database::open(&path).expect("reopen");
    let stored = store
        .get(&RecordId::new("p1"))
        .expect("get")
        .expect("exists");
    assert_eq!(stored.record, person("p1", "김은주"));
    assert_eq!(stored.meta.revision, 1);
    assert_eq!(stored.meta.created_by, "tester");
    assert_eq!(store.count(RecordKind::Act).expect("count"), 3);
    assert_eq!(store.list(RecordKind::Act, 1, 10).expect("list").len(), 2);
    assert_eq!(
        store.history(&RecordId::new("a1")).expect("history").len(),
        1
    );
}

#[test]
fn a_dangling_reference_is_refused_and_nothing_of_the_batch_is_written() {
    let (_dir, _path, mut store) = seeded();
    let before = journal_length(&store);
    let error = commit(
        &mut store,
        vec![
            create(person("p3", "Pak Tong Gu")),
            create(act("a9", "nobody", "arrest", "2020")),
        ],
    )
    .expect_err("dangling victim");
    match error {
        StoreError::Invalid(invalid) => {
            assert_eq!(invalid.field, "victim");
            assert_eq!(invalid.record, Some(RecordId::new("a9")));
            assert!(invalid.message.english().contains("nobody"), "{invalid}");
        }
        other => panic!("{other}"),
    }
    assert_eq!(journal_length(&store), before);
    assert!(store.get(&RecordId::new("p3")).expect("get").is_none());
}

#[test]
fn a_reference_to_the_wrong_kind_is_refused() {
    let (_dir, _path, mut store) = seeded();
    let error = commit(&mut store, vec![create(act("a9", "s1", "arrest", "2020"))])
        .expect_err("source as victim");
    assert!(error.to_string().contains("s1 is a source"), "{error}");
}

#[test]
fn an_unknown_term_is_refused_with_close_terms() {
    let (_dir, _path, mut store) = seeded();
    let error =
        commit(&mut store, vec![create(act("a9", "p1", "torure", "2020"))]).expect_err("typo");
    assert!(
        error.to_string().contains("did you mean torture"),
        "{error}"
    );
}

#[test]
fn ids_are_unique_across_kinds_and_never_reused() {
    let (_dir, _path, mut store) = seeded();
    let error = commit(
        &mut store,
        vec![create(interview("p1", ConsentScope::Internal))],
    )
    .expect_err("taken");
    assert!(matches!(error, StoreError::Conflict { .. }), "{error}");
    commit(
        &mut store,
        vec![Change::Delete {
            kind: RecordKind::Act,
            id: RecordId::new("a3"),
            base_revision: 1,
            reason: "entered twice".into(),
        }],
    )
    .expect("delete");
    let error =
        commit(&mut store, vec![create(act("a3", "p2", "arrest", "2020"))]).expect_err("reuse");
    assert!(error.to_string().contains("never reused"), "{error}");
}

#[test]
fn a_stale_update_is_refused_so_no_edit_is_lost() {
    let (_dir, _path, mut store) = seeded();
    let edit = |date: &str| Change::Update {
        record: act("a1", "p1", "forced-repatriation", date),
        base_revision: 1,
    };
    commit(&mut store, vec![edit("spring 2001")]).expect("first edit");
    let error = commit(&mut store, vec![edit("summer 2001")])
        .expect_err("second edit from the same revision");
    assert!(error.to_string().contains("revision 2"), "{error}");
    let stored = store
        .get(&RecordId::new("a1"))
        .expect("get")
        .expect("exists");
    assert_eq!(
        stored.record,
        act("a1", "p1", "forced-repatriation", "spring 2001")
    );
    assert_eq!(stored.meta.revision, 2);
    assert!(store.check(&mut |_, _| {}).expect("check").is_clean());
}

#[test]
fn a_referenced_record_cannot_be_deleted() {
    let (_dir, _path, mut store) = seeded();
    let error = commit(
        &mut store,
        vec![Change::Delete {
            kind: RecordKind::Person,
            id: RecordId::new("p1"),
            base_revision: 1,
            reason: "x".into(),
        }],
    )
    .expect_err("p1 is a victim");
    assert!(error.to_string().contains("act a1"), "{error}");
}

#[test]
fn consent_narrows_freely_but_widens_only_explicitly() {
    let (_dir, _path, mut store) = seeded();
    let widen = |widen: bool| Change::SetConsent {
        source: RecordId::new("s1"),
        scope: ConsentScope::Public,
        widen,
        reason: "family agreed in writing".into(),
    };
    let error = commit(&mut store, vec![widen(false)]).expect_err("silent widening");
    assert!(error.to_string().contains("says widen"), "{error}");
    let update = Change::Update {
        record: interview("s1", ConsentScope::Public),
        base_revision: 1,
    };
    assert!(
        commit(&mut store, vec![update]).is_err(),
        "an update must not widen either"
    );
    commit(
        &mut store,
        vec![Change::SetConsent {
            source: RecordId::new("s1"),
            scope: ConsentScope::Internal,
            widen: false,
            reason: String::new(),
        }],
    )
    .expect("narrowing");
    commit(&mut store, vec![widen(true)]).expect("explicit widening");
    let Some(Record::Source(source)) = store
        .get(&RecordId::new("s1"))
        .expect("get")
        .map(|s| s.record)
    else {
        panic!("source");
    };
    assert_eq!(source.consent, Some(ConsentScope::Public));
    assert_eq!(
        store.history(&RecordId::new("s1")).expect("history").len(),
        3
    );
}

#[test]
fn the_same_import_is_detected() {
    let (_dir, _path, mut store) = seeded();
    let marker = || Change::Import {
        file_name: "a.csv".into(),
        sha256: "ab".repeat(32),
        records: 2,
    };
    commit(&mut store, vec![marker()]).expect("first");
    let error = commit(&mut store, vec![marker()]).expect_err("second");
    assert!(matches!(error, StoreError::DuplicateImport(_)), "{error}");
}

#[test]
fn added_terms_are_journaled_and_survive_reopening() {
    let (_dir, path, mut store) = seeded();
    let term = Term {
        key: "forced-marriage".into(),
        en: "Forced marriage".into(),
        ko: "강제 결혼".into(),
        parent: None,
        class: Some("trafficking-slavery".into()),
        extra: Default::default(),
    };
    commit(
        &mut store,
        vec![
            Change::AddTerm {
                vocabulary: VocabKind::ActType,
                term,
            },
            create(act("a9", "p1", "forced-marriage", "2003")),
        ],
    )
    .expect("new term used in the same batch");
    drop(store);
    let store = Database::open(&path).expect("reopen");
    assert!(
        store
            .vocabularies()
            .get(VocabKind::ActType)
            .get("forced-marriage")
            .is_some()
    );
    assert!(store.check(&mut |_, _| {}).expect("check").is_clean());
}

#[test]
fn a_state_row_edited_with_sql_is_named_by_table_row_and_column() {
    let (_dir, path, store) = seeded();
    sql(&path, "UPDATE act SET act_type = 'arrest' WHERE id = 'a2'");
    let report = store.check(&mut |_, _| {}).expect("check");
    assert!(report.chain_breaks.is_empty());
    assert_eq!(report.differences.len(), 1, "{report:?}");
    let difference = &report.differences[0];
    assert_eq!(
        (difference.table.as_str(), difference.key.as_str()),
        ("act", "'a2'")
    );
    assert!(
        difference
            .detail
            .contains("column act_type is 'arrest' but the journal says 'torture'"),
        "{difference}"
    );
}

#[test]
fn a_row_added_or_removed_outside_the_journal_is_found() {
    let (_dir, path, store) = seeded();
    sql(
        &path,
        "DELETE FROM person_name WHERE person = 'p2'; INSERT INTO import VALUES ('x', 'f', 1, 1, 't')",
    );
    let report = store.check(&mut |_, _| {}).expect("check");
    let tables: Vec<&str> = report
        .differences
        .iter()
        .map(|d| d.table.as_str())
        .collect();
    assert_eq!(tables, vec!["person_name", "import"], "{report:?}");
    assert!(
        report.differences[0]
            .detail
            .contains("missing from the state tables")
    );
    assert!(report.differences[1].detail.contains("outside the journal"));
}

#[test]
fn an_edited_journal_payload_breaks_the_chain() {
    let (_dir, path, store) = seeded();
    sql(
        &path,
        "UPDATE journal SET bytes = CAST(replace(CAST(bytes AS TEXT), 'torture', 'arrest') AS BLOB) WHERE seq = 4",
    );
    let report = store.check(&mut |_, _| {}).expect("check");
    assert_eq!(
        report.chain_breaks,
        vec![girok_journal::ChainBreak::HashMismatch { seq: 4 }]
    );
    assert!(!report.is_clean());
}

#[test]
fn a_deleted_journal_entry_is_a_gap_and_its_record_is_unexplained() {
    let (_dir, path, store) = seeded();
    sql(&path, "DELETE FROM journal WHERE seq = 3");
    let report = store.check(&mut |_, _| {}).expect("check");
    assert_eq!(
        report.chain_breaks,
        vec![girok_journal::ChainBreak::Gap {
            expected: 3,
            found: 4
        }]
    );
    assert!(
        report
            .differences
            .iter()
            .any(|d| d.table == "act" && d.key == "'a1'"),
        "{report:?}"
    );
}

#[test]
fn a_file_that_is_not_girok_is_refused_unchanged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "this is not a database at all, just some text that is long enough",
    )
    .expect("write");
    let error = Database::open(&text).err().expect("text file");
    assert!(error.to_string().contains("not a SQLite file"), "{error}");

    let other = dir.path().join("other.sqlite");
    Connection::open(&other)
        .expect("open")
        .execute_batch("CREATE TABLE t (x)")
        .expect("table");
    let before = std::fs::read(&other).expect("read");
    let error = Database::open(&other).err().expect("foreign database");
    assert!(matches!(error, StoreError::NotGirok { .. }), "{error}");
    assert_eq!(std::fs::read(&other).expect("read"), before);

    let missing = Database::open(&dir.path().join("missing.sqlite"))
        .err()
        .expect("missing");
    assert!(
        missing.to_string().contains("no Girok database"),
        "{missing}"
    );
}

#[test]
fn a_database_from_a_newer_girok_is_refused() {
    let (_dir, path, store) = seeded();
    drop(store);
    sql(
        &path,
        &format!("PRAGMA user_version = {}", girok_store::SCHEMA_VERSION + 1),
    );
    let error = Database::open(&path).err().expect("newer");
    assert!(matches!(error, StoreError::TooNew { .. }), "{error}");
    assert!(error.to_string().contains("upgrade Girok"), "{error}");
}

#[test]
fn concurrent_writers_lose_no_change() {
    let (_dir, path, store) = new_store();
    drop(store);
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut store = Database::open(&path).expect("open");
                for i in 0..25 {
                    commit(
                        &mut store,
                        vec![create(person(&format!("w{writer}-{i}"), "리영호"))],
                    )
                    .expect("write");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("writer thread");
    }
    let store = Database::open(&path).expect("open");
    assert_eq!(store.count(RecordKind::Person).expect("count"), 100);
    assert_eq!(journal_length(&store), 100);
    assert!(store.check(&mut |_, _| {}).expect("check").is_clean());
}

fn index_names(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).expect("open");
    let mut statement = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
        )
        .expect("query");
    statement
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("names")
}

#[test]
fn bulk_writes_rebuild_every_index_and_a_failed_one_changes_nothing() {
    let (_dir, path, mut store) = seeded();
    let indexes = index_names(&path);
    assert!(indexes.len() >= 10, "{indexes:?}");
    store
        .write_bulk("tester", |sink| {
            sink.apply(create(person("p7", "Ri Sol Ju")))?;
            sink.apply(create(act("a7", "p7", "arrest", "2021")))
        })
        .expect("bulk write");
    assert_eq!(index_names(&path), indexes);
    let before = journal_length(&store);
    let failed = store.write_bulk("tester", |sink| {
        sink.apply(create(person("p8", "Pak Tong Gu")))?;
        sink.apply(create(act("a8", "nobody", "arrest", "2021")))
    });
    assert!(failed.is_err());
    assert_eq!(index_names(&path), indexes);
    assert_eq!(journal_length(&store), before);
    assert!(store.check(&mut |_, _| {}).expect("check").is_clean());
}

fn journal_leaves(path: &Path) -> Vec<girok_journal::Hash> {
    let conn = Connection::open(path).expect("open");
    let mut statement = conn
        .prepare("SELECT hash FROM journal ORDER BY seq")
        .expect("query");
    statement
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .expect("rows")
        .map(|h| h.expect("hash").try_into().expect("32 bytes"))
        .collect()
}

#[test]
fn the_stored_merkle_tree_matches_a_tree_built_from_the_leaves() {
    use girok_journal::merkle::{MemoryTree, root, verify_consistency, verify_inclusion};
    let (_dir, path, mut store) = new_store();
    let mut heads = Vec::new();
    // Batches of uneven sizes cross the 64-leaf boundaries at different offsets.
    for (batch, size) in [1usize, 63, 2, 130, 64, 7].into_iter().enumerate() {
        commit(
            &mut store,
            (0..size)
                .map(|i| create(person(&format!("b{batch}-{i}"), "Kim Chol")))
                .collect(),
        )
        .expect("batch");
        heads.push(store.tree_head().expect("tree head"));
    }
    let leaves = journal_leaves(&path);
    let mut reference = MemoryTree::default();
    for leaf in &leaves {
        reference.push(*leaf);
    }
    let (size, stored_root) = store.tree_head().expect("tree head");
    assert_eq!(size, 267);
    assert_eq!(stored_root, reference.root());
    for (old_size, old_root) in &heads {
        assert_eq!(
            *old_root,
            root(&reference, *old_size).expect("root"),
            "root at {old_size}"
        );
        let proof = store
            .consistency_proof(*old_size, size)
            .expect("consistency");
        assert!(
            verify_consistency(*old_size, size, old_root, &stored_root, &proof),
            "{old_size} -> {size}"
        );
    }
    for seq in 1..=size {
        let proof = store.inclusion_proof(seq, size).expect("inclusion");
        assert!(
            verify_inclusion(
                &leaves[seq as usize - 1],
                seq - 1,
                size,
                &proof,
                &stored_root
            ),
            "entry {seq}"
        );
    }
    assert!(matches!(
        store.inclusion_proof(size + 1, size + 1),
        Err(StoreError::OutOfRange(_))
    ));
}

#[test]
fn a_failed_batch_leaves_no_merkle_nodes_behind() {
    let (_dir, _path, mut store) = new_store();
    commit(
        &mut store,
        (0..60)
            .map(|i| create(person(&format!("p{i}"), "Ri Su")))
            .collect(),
    )
    .expect("batch");
    let before = store.tree_head().expect("head");
    let mut changes: Vec<Change> = (60..200)
        .map(|i| create(person(&format!("p{i}"), "Ri Su")))
        .collect();
    changes.push(create(act("a1", "nobody", "arrest", "2020")));
    assert!(commit(&mut store, changes).is_err());
    assert_eq!(store.tree_head().expect("head"), before);
    commit(
        &mut store,
        (60..130)
            .map(|i| create(person(&format!("p{i}"), "Ri Su")))
            .collect(),
    )
    .expect("batch");
    assert_eq!(store.tree_head().expect("head").0, 130);
}

#[test]
fn a_rejection_cannot_split_persons_already_merged() {
    let (_dir, _path, mut store) = new_store();
    let decide = |same: bool, ids: &[&str]| Change::LinkDecision {
        same,
        persons: ids.iter().map(|id| RecordId::new(*id)).collect(),
        reason: "reviewed".into(),
    };
    commit(
        &mut store,
        vec![
            create(person("a", "김은주")),
            create(person("b", "Kim Eun-joo")),
            create(person("c", "Eunju Kim")),
            decide(true, &["b", "c"]),
        ],
    )
    .expect("merge");
    let before = store.head().expect("head").0;
    // b and c are one person; no pair among the three may be called different.
    let refused = commit(&mut store, vec![decide(false, &["a", "b", "c"])]).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("b and c are merged as one person"),
        "{refused}"
    );
    assert_eq!(store.head().expect("head").0, before);
    commit(&mut store, vec![decide(false, &["a", "b"])]).expect("a is someone else");
    let decisions = store.link_decisions().expect("decisions");
    assert_eq!(decisions.different.len(), 1);
    assert_eq!(decisions.same.len(), 1);
}

#[test]
fn proposals_are_decided_by_a_decision_and_removed_by_forget_in_its_transaction() {
    use girok_store::{LinkRun, ProposedRecord, StoredProposal};
    let (_dir, _path, mut store) = new_store();
    commit(
        &mut store,
        ["a", "b", "c", "d"]
            .iter()
            .map(|id| create(person(id, "Ri Su")))
            .collect(),
    )
    .expect("persons");
    let proposal = |ids: &[&str]| StoredProposal {
        number: 0,
        persons: ids
            .iter()
            .map(|id| ProposedRecord {
                id: RecordId::new(*id),
                sources: String::new(),
            })
            .collect(),
        probability: 0.9,
        links: "[]".into(),
        decided: None,
    };
    let run = LinkRun {
        journal_size: 4,
        time: "2026-01-01T00:00:00Z".into(),
        training: None,
    };
    store
        .replace_link_proposals(&run, &[proposal(&["a", "b"]), proposal(&["c", "d"])])
        .expect("proposals");
    assert_eq!(store.link_run().expect("run"), Some(run.clone()));
    let numbers = |store: &Database| -> Vec<u64> {
        store
            .undecided_link_proposals()
            .expect("queue")
            .iter()
            .map(|p| p.number)
            .collect()
    };
    assert_eq!(numbers(&store), [1, 2]);
    // A refused batch marks nothing.
    let refused = commit(
        &mut store,
        vec![
            Change::LinkDecision {
                same: true,
                persons: vec![RecordId::new("a"), RecordId::new("b")],
                reason: "same".into(),
            },
            create(person("a", "taken")),
        ],
    );
    assert!(refused.is_err());
    assert_eq!(numbers(&store), [1, 2]);
    commit(
        &mut store,
        vec![Change::LinkDecision {
            same: true,
            persons: vec![RecordId::new("a"), RecordId::new("b")],
            reason: "same".into(),
        }],
    )
    .expect("decision");
    let seq = store.head().expect("head").0;
    assert_eq!(numbers(&store), [2]);
    let decided = store.link_proposal(1).expect("read").expect("proposal 1");
    assert_eq!(decided.decided, Some(seq));
    commit(
        &mut store,
        vec![Change::Forget {
            subject: RecordId::new("c"),
            reason: "asked to".into(),
        }],
    )
    .expect("forget");
    assert!(store.link_proposal(2).expect("read").is_none());
    assert!(numbers(&store).is_empty());
    assert!(store.check(&mut |_, _| {}).expect("check").is_clean());
    // The next run replaces the proposals whole.
    store
        .replace_link_proposals(&run, &[proposal(&["a", "d"])])
        .expect("proposals");
    assert_eq!(numbers(&store), [1]);
    assert_eq!(store.link_proposal_count().expect("count"), 1);
}
