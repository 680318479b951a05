//! What every storage backend must do, written against `dyn Store` only, so
//! that any backend (SQLite now, PostgreSQL next) is held to the same
//! suite: batches commit whole or not at all, refusals are typed and change
//! nothing, reads give back what was written, the journal's tree proves
//! inclusion and consistency, and `check` is clean.

use girok_journal::merkle;
use girok_model::*;
use girok_store::{BatchError, BatchSize, Database, Store, StoreError, Stored, write_with};

mod support {
    pub mod cluster;
}
use support::cluster;

fn person(id: &str) -> Change {
    Change::Create {
        record: Record::Person(Person::new(
            RecordId::new(id),
            vec![Name::detect("김은주", Romanization::Unknown)],
        )),
    }
}

fn act(id: &str, victim: &str) -> Change {
    Change::Create {
        record: Record::Act(Act {
            id: RecordId::new(id),
            act_type: "arrest".into(),
            victim: RecordId::new(victim),
            event: None,
            date: FuzzyDate::parse("2019").expect("date"),
            place: None,
            victim_age: None,
            status: None,
            facility: None,
            description: String::new(),
            received_by: None,
            clarifications: Default::default(),
            sealed: None,
        }),
    }
}

/// The suite, on one empty store.
fn conformance(store: &mut dyn Store) {
    // A batch commits whole, through the object-safe entry point.
    let committed = store
        .write_batch("tester", BatchSize::Small, &mut |sink| {
            sink.apply(person("p1"))?;
            sink.apply(act("a1", "p1"))?;
            Ok(())
        })
        .expect("batch");
    assert_eq!((committed.first, committed.last), (Some(1), Some(2)));
    assert_eq!(store.head().expect("head").0, 2);

    // A refused change rolls the whole batch back, typed as the user's to mend.
    let refused = write_with(store, "tester", BatchSize::Small, |sink| {
        sink.apply(person("p2"))?;
        sink.apply(act("a2", "p-missing"))
    });
    assert!(
        matches!(refused, Err(StoreError::Invalid(_))),
        "{refused:?}"
    );
    let taken = write_with(store, "tester", BatchSize::Small, |sink| {
        sink.apply(person("p1"))
    });
    assert!(
        matches!(taken, Err(StoreError::Conflict { .. })),
        "{taken:?}"
    );
    assert_eq!(store.head().expect("head").0, 2);
    assert!(store.get(&RecordId::new("p2")).expect("get").is_none());

    // Work that gives up for a reason of its own writes nothing either.
    let abandoned = store.write_batch("tester", BatchSize::Bulk, &mut |sink| {
        sink.apply(person("p3"))?;
        Err(BatchError::Abandoned)
    });
    assert!(matches!(abandoned, Err(BatchError::Abandoned)));
    assert_eq!(store.head().expect("head").0, 2);

    // Reads give back what was written, with who wrote it.
    let stored = store
        .get(&RecordId::new("a1"))
        .expect("get")
        .expect("stored");
    assert_eq!(stored.meta.revision, 1);
    assert_eq!(stored.meta.created_by, "tester");
    assert_eq!(store.count(RecordKind::Act).expect("count"), 1);
    assert_eq!(
        store.history(&RecordId::new("p1")).expect("history").len(),
        1
    );
    assert_eq!(store.victims().expect("victims"), vec![RecordId::new("p1")]);

    // The tree proves inclusion and consistency.
    let (size, root) = store.tree_head().expect("tree head");
    assert_eq!(size, 2);
    let first = store.history(&RecordId::new("p1")).expect("history");
    let proof = store.inclusion_proof(1, size).expect("inclusion");
    // Entry 1 is leaf 0; an entry's hash is its RFC 6962 leaf hash.
    assert!(merkle::verify_inclusion(
        &first[0].hash,
        0,
        size,
        &proof,
        &root
    ));
    write_with(store, "tester", BatchSize::Small, |sink| {
        sink.apply(person("p4"))
    })
    .expect("write");
    let (larger, new_root) = store.tree_head().expect("tree head");
    let consistency = store.consistency_proof(size, larger).expect("consistency");
    assert!(merkle::verify_consistency(
        size,
        larger,
        &root,
        &new_root,
        &consistency
    ));

    // Ids sort bytewise on every backend (upper case, then `_`, then lower
    // case), so pages and proofs agree whichever database holds them.
    write_with(store, "검토자", BatchSize::Small, |sink| {
        for id in ["p-b", "p-B", "p-_", "p-a"] {
            sink.apply(person(id))?;
        }
        Ok::<_, StoreError>(())
    })
    .expect("write");
    let listed: Vec<String> = store
        .list(RecordKind::Person, 0, u64::MAX)
        .expect("list")
        .into_iter()
        .map(|stored| stored.record.id().to_string())
        .collect();
    assert_eq!(listed, ["p-B", "p-_", "p-a", "p-b", "p1", "p4"]);
    let page: Vec<String> = store
        .list(RecordKind::Person, 1, 2)
        .expect("page")
        .into_iter()
        .map(|stored| stored.record.id().to_string())
        .collect();
    assert_eq!(page, ["p-_", "p-a"]);
    let korean = store
        .get(&RecordId::new("p-_"))
        .expect("get")
        .expect("stored");
    assert_eq!(korean.meta.created_by, "검토자");
    let Record::Person(written) = korean.record else {
        panic!("not a person")
    };
    assert_eq!(written.names[0].text, "김은주");

    // Updates raise the revision; a stale base revision is a conflict;
    // a delete is refused while the record is referenced.
    let Some(Stored { record, meta }) = store.get(&RecordId::new("p-a")).expect("get") else {
        panic!("p-a is missing")
    };
    write_with(store, "tester", BatchSize::Small, |sink| {
        sink.apply(Change::Update {
            record: record.clone(),
            base_revision: meta.revision,
        })
    })
    .expect("update");
    assert_eq!(
        store
            .get(&RecordId::new("p-a"))
            .expect("get")
            .expect("stored")
            .meta
            .revision,
        2
    );
    let stale = write_with(store, "tester", BatchSize::Small, |sink| {
        sink.apply(Change::Update {
            record: record.clone(),
            base_revision: 1,
        })
    });
    assert!(
        matches!(stale, Err(StoreError::Conflict { .. })),
        "{stale:?}"
    );
    let referenced = write_with(store, "tester", BatchSize::Small, |sink| {
        sink.apply(Change::Delete {
            kind: RecordKind::Person,
            id: RecordId::new("p1"),
            base_revision: 1,
            reason: "test".into(),
        })
    });
    assert!(referenced.is_err(), "{referenced:?}");
    assert_eq!(
        store
            .referrers(&RecordId::new("p1"), 10)
            .expect("referrers")
            .len(),
        1
    );

    // Reviewers' decisions are kept as pairs.
    write_with(store, "tester", BatchSize::Small, |sink| {
        sink.apply(Change::LinkDecision {
            same: true,
            persons: vec![RecordId::new("p-a"), RecordId::new("p-b")],
            reason: "same parents and birth year".into(),
        })
    })
    .expect("decide");
    assert_eq!(
        store.link_decisions().expect("decisions").same,
        vec![(RecordId::new("p-a"), RecordId::new("p-b"))]
    );

    let report = store.check(&mut |_, _| {}).expect("check");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.entries, store.head().expect("head").0);
}

#[test]
fn sqlite_passes_the_backend_conformance_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store: Box<dyn Store> =
        Box::new(Database::create(&dir.path().join("girok.sqlite")).expect("create"));
    conformance(store.as_mut());
}

#[test]
fn postgres_passes_the_backend_conformance_suite() {
    let cluster = cluster::Cluster::start();
    let mut store: Box<dyn Store> =
        Box::new(Database::create_postgres(&cluster.new_database()).expect("create"));
    conformance(store.as_mut());
}
