//! What every storage backend must do, written against `dyn Store` only, so
//! that any backend (SQLite now, PostgreSQL next) is held to the same
//! suite: batches commit whole or not at all, refusals are typed and change
//! nothing, reads give back what was written, the journal's tree proves
//! inclusion and consistency, and `check` is clean.

use girok_journal::merkle;
use girok_model::*;
use girok_store::{BatchError, BatchSize, SqliteStore, Store, StoreError, write_with};

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

    let report = store.check(&mut |_, _| {}).expect("check");
    assert!(report.is_clean(), "{report:?}");
}

#[test]
fn sqlite_passes_the_backend_conformance_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store: Box<dyn Store> =
        Box::new(SqliteStore::create(&dir.path().join("girok.sqlite")).expect("create"));
    conformance(store.as_mut());
}
