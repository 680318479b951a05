//! Encrypted databases: identifying data never reaches the disk in
//! plaintext, a locked store reads and writes none of it, a wrong passphrase
//! and swapped keys are refused, forgetting is permanent and the journal
//! still checks, and rotation keeps everything readable.

use std::path::{Path, PathBuf};

use girok_model::*;
use girok_store::{Database, KdfParams, LockState, Store, StoreError, Unlock, VaultError};

const PASSPHRASE: &str = "correct horse battery staple";

/// Cheap Argon2 so tests stay fast; the default is tested in girok-vault.
fn quick() -> KdfParams {
    KdfParams {
        memory_kib: 256,
        iterations: 1,
        parallelism: 1,
    }
}

fn passphrase(text: &str) -> Unlock {
    Unlock::Passphrase(text.to_string())
}

fn witness(id: &str, name: &str) -> Record {
    let mut person = Person::new(
        RecordId::new(id),
        vec![Name::detect(name, Romanization::Unknown)],
    );
    person.sex = Sex::Female;
    person.birth = FuzzyDate::parse("1985").expect("date");
    person.origin = Some("hoeryong".into());
    person.notes = "her brother still lives in Musan".into();
    Record::Person(person)
}

fn testimony(id: &str, witness: &str) -> Record {
    Record::Source(Source {
        id: RecordId::new(id),
        kind: SourceKind::Interview,
        title: "Testimony of Kim Eun-joo in Seoul".into(),
        obtained: FuzzyDate::parse("2024-03").expect("date"),
        language: Some("ko".into()),
        organisation: Some("TJWG".into()),
        provenance: "met through her cousin Park".into(),
        consent: Some(ConsentScope::Internal),
        witness: Some(RecordId::new(witness)),
        received_by: None,
        notes: String::new(),
        clarifications: Default::default(),
        sealed: None,
    })
}

/// An encrypted database holding one witness and her testimony.
fn encrypted() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("girok.sqlite");
    let mut store = Database::create(&path).expect("create");
    store
        .encrypt(&passphrase(PASSPHRASE), quick())
        .expect("encrypt");
    store
        .write("kim", |sink| {
            sink.apply(Change::Create {
                record: witness("p1", "김은주"),
            })?;
            sink.apply(Change::Create {
                record: testimony("s1", "p1"),
            })
        })
        .expect("write");
    (dir, path)
}

/// Every byte of the database files, the write-ahead log included.
fn disk_bytes(path: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-journal"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        if let Ok(bytes) = std::fs::read(&file) {
            all.extend(bytes);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn names_of(store: &Database, id: &str) -> Vec<String> {
    match store
        .get(&RecordId::new(id))
        .expect("get")
        .map(|s| s.record)
    {
        Some(Record::Person(person)) => person.names.into_iter().map(|n| n.text).collect(),
        other => panic!("{id}: {other:?}"),
    }
}

#[test]
fn identifying_data_never_reaches_the_disk_in_plaintext() {
    let (_dir, path) = encrypted();
    let bytes = disk_bytes(&path);
    for secret in [
        "김은주",
        "Kim Eun-joo",
        "brother",
        "Musan",
        "cousin",
        "hoeryong",
    ] {
        assert!(!contains(&bytes, secret), "{secret} is on disk");
    }
    // The de-identified facts are still there for statistics.
    let store = Database::open(&path).expect("open");
    let Some(Record::Person(person)) = store
        .get(&RecordId::new("p1"))
        .expect("get")
        .map(|s| s.record)
    else {
        panic!("p1");
    };
    assert_eq!(person.sex, Sex::Female);
}

#[test]
fn a_locked_store_reads_and_writes_nothing_identifying() {
    let (_dir, path) = encrypted();
    let mut store = Database::open(&path).expect("open");
    assert_eq!(store.lock_state(), LockState::Locked);
    assert!(names_of(&store, "p1").is_empty());
    let Some(Record::Source(source)) = store
        .get(&RecordId::new("s1"))
        .expect("get")
        .map(|s| s.record)
    else {
        panic!("s1");
    };
    assert!(source.title.is_empty() && source.provenance.is_empty() && source.sealed.is_some());
    let mut seen = 0;
    store
        .for_each_record(&mut |record| {
            let json = serde_json::to_string(&record).expect("json");
            assert!(
                !json.contains("김은주") && !json.contains("cousin"),
                "{json}"
            );
            seen += 1;
            Ok(())
        })
        .expect("read all");
    assert_eq!(seen, 2);
    let written = store.write("kim", |sink| {
        sink.apply(Change::Create {
            record: witness("p2", "강규리"),
        })
    });
    assert!(matches!(written, Err(StoreError::Locked)), "{written:?}");
    assert_eq!(store.head().expect("head").0, 2, "nothing was written");

    // A wrong passphrase is named as such and leaves it locked.
    let wrong = store.unlock(&passphrase("correct horse battery stapler"));
    assert!(
        matches!(wrong, Err(StoreError::Vault(VaultError::WrongSecret))),
        "{wrong:?}"
    );
    assert_eq!(store.lock_state(), LockState::Locked);
    store.unlock(&passphrase(PASSPHRASE)).expect("unlock");
    assert_eq!(names_of(&store, "p1"), ["김은주"]);
}

#[test]
fn records_read_while_locked_keep_their_seal_when_saved_again() {
    let (_dir, path) = encrypted();
    let mut store = Database::open(&path).expect("open");
    // Locked: change a de-identified fact of the sealed record.
    let Some(Record::Person(mut person)) = store
        .get(&RecordId::new("p1"))
        .expect("get")
        .map(|s| s.record)
    else {
        panic!("p1");
    };
    person.sex = Sex::Unknown;
    store
        .write("kim", |sink| {
            sink.apply(Change::Update {
                record: Record::Person(person.clone()),
                base_revision: 1,
            })
        })
        .expect("a sealed record can be updated without its secrets");
    // Adding plaintext to a record read sealed would overwrite its secrets: refused.
    person.notes = "new note".into();
    let mixed = store.write("kim", |sink| {
        sink.apply(Change::Update {
            record: Record::Person(person),
            base_revision: 2,
        })
    });
    assert!(
        matches!(&mixed, Err(StoreError::Invalid(i)) if i.field == "sealed"),
        "{mixed:?}"
    );
    store.unlock(&passphrase(PASSPHRASE)).expect("unlock");
    assert_eq!(names_of(&store, "p1"), ["김은주"]);
}

#[test]
fn swapped_data_keys_fail_authentication() {
    let (_dir, path) = encrypted();
    {
        let conn = rusqlite::Connection::open(&path).expect("sqlite");
        let key = |subject: &str| -> Vec<u8> {
            conn.query_row(
                "SELECT wrapped FROM data_key WHERE subject = ?1",
                [subject],
                |r| r.get(0),
            )
            .expect("key")
        };
        let (p1, s1) = (key("p1"), key("s1"));
        conn.execute(
            "UPDATE data_key SET wrapped = ?2 WHERE subject = ?1",
            rusqlite::params!["p1", s1],
        )
        .expect("swap");
        conn.execute(
            "UPDATE data_key SET wrapped = ?2 WHERE subject = ?1",
            rusqlite::params!["s1", p1],
        )
        .expect("swap");
    }
    let mut store = Database::open(&path).expect("open");
    store.unlock(&passphrase(PASSPHRASE)).expect("unlock");
    let read = store.get(&RecordId::new("p1"));
    assert!(
        matches!(read, Err(StoreError::Vault(VaultError::BadDataKey(_)))),
        "{read:?}"
    );
}

#[test]
fn forgotten_persons_stay_unreadable_and_the_journal_still_checks() {
    let (_dir, path) = encrypted();
    let mut store = Database::open(&path).expect("open");
    store.unlock(&passphrase(PASSPHRASE)).expect("unlock");
    store
        .write("admin", |sink| {
            sink.apply(Change::Forget {
                subject: RecordId::new("p1"),
                reason: "the witness asked to be removed".into(),
            })
        })
        .expect("forget");
    // Forgetting twice, or writing identifying data again, is refused.
    let again = store.write("admin", |sink| {
        sink.apply(Change::Forget {
            subject: RecordId::new("p1"),
            reason: "again".into(),
        })
    });
    assert!(
        matches!(again, Err(StoreError::Conflict { .. })),
        "{again:?}"
    );
    let rewrite = store.write("kim", |sink| {
        sink.apply(Change::Update {
            record: witness("p1", "김은주"),
            base_revision: 2,
        })
    });
    assert!(
        matches!(&rewrite, Err(StoreError::Invalid(i)) if i.field == "sealed"),
        "{rewrite:?}"
    );
    drop(store);

    // After a restart, unlocked: the person is there, sealed for good; the testimony is not affected.
    let mut store = Database::open(&path).expect("open");
    store.unlock(&passphrase(PASSPHRASE)).expect("unlock");
    assert!(names_of(&store, "p1").is_empty());
    let Some(Record::Person(person)) = store
        .get(&RecordId::new("p1"))
        .expect("get")
        .map(|s| s.record)
    else {
        panic!("p1");
    };
    assert!(person.sealed.is_some() && person.sex == Sex::Female);
    let Some(Record::Source(source)) = store
        .get(&RecordId::new("s1"))
        .expect("get")
        .map(|s| s.record)
    else {
        panic!("s1");
    };
    assert_eq!(source.title, "Testimony of Kim Eun-joo in Seoul");
    assert_eq!(store.key_counts().expect("counts"), (1, 1));
    let report = store.check(&mut |_, _| {}).expect("check");
    assert!(report.is_clean(), "{report:?}");
}

fn record_of(store: &Database, id: &str) -> Record {
    store
        .get(&RecordId::new(id))
        .expect("get")
        .map(|s| s.record)
        .unwrap_or_else(|| panic!("{id} is missing"))
}

/// The free text of a published report, an event and an act, each naming people.
fn free_text_records() -> Vec<Record> {
    let mut report = testimony("s2", "p1");
    if let Record::Source(source) = &mut report {
        source.kind = SourceKind::Report;
        source.title = "Report on the disappearance of Ri Chol-ho".into();
        source.consent = None;
        source.witness = None;
    }
    let event = Record::Event(Event {
        id: RecordId::new("e1"),
        title: "Executions of the friends of Pak Song-il".into(),
        date: FuzzyDate::parse("2019-05").expect("date"),
        place: Some("hoeryong".into()),
        description: "Ri Chol-ho was shot at the market".into(),
        violations: Vec::new(),
        received_by: None,
        clarifications: Default::default(),
        sealed: None,
    });
    let act = Record::Act(Act {
        id: RecordId::new("a1"),
        act_type: "arrest".into(),
        victim: RecordId::new("p1"),
        event: Some(RecordId::new("e1")),
        date: FuzzyDate::parse("2019-05").expect("date"),
        place: Some("hoeryong".into()),
        victim_age: None,
        status: None,
        facility: None,
        description: "taken from her home by agent Choe Myong-su".into(),
        received_by: None,
        clarifications: Clarifications::from([(
            "date".to_string(),
            "her neighbour Yun remembers the rain".to_string(),
        )]),
        sealed: None,
    });
    vec![report, event, act]
}

const FREE_TEXT: [&str; 6] = [
    "Ri Chol-ho",
    "disappearance",
    "Pak Song-il",
    "the market",
    "Choe Myong-su",
    "neighbour Yun",
];

#[test]
fn free_text_of_acts_events_and_every_source_is_sealed_and_shredded_with_its_subject() {
    let (_dir, path) = encrypted();
    let mut store = Database::open(&path).expect("open");
    store.unlock(&passphrase(PASSPHRASE)).expect("unlock");
    store
        .write("kim", |sink| {
            for record in free_text_records() {
                sink.apply(Change::Create { record })?;
            }
            Ok::<_, StoreError>(())
        })
        .expect("write");
    for record in free_text_records() {
        let mut stored = record_of(&store, record.id().as_str());
        stored.set_sealed(None);
        assert_eq!(stored, record, "read back unlocked");
    }
    drop(store);
    let bytes = disk_bytes(&path);
    for secret in FREE_TEXT {
        assert!(!contains(&bytes, secret), "{secret} is on disk");
    }

    // Locked: every free text is sealed away; the coded facts stay for statistics.
    let mut store = Database::open(&path).expect("open");
    let Record::Act(act) = record_of(&store, "a1") else {
        panic!("a1")
    };
    assert!(act.description.is_empty() && act.clarifications.is_empty());
    assert_eq!(
        (act.act_type.as_str(), act.sealed.is_some()),
        ("arrest", true)
    );
    let Record::Event(event) = record_of(&store, "e1") else {
        panic!("e1")
    };
    assert!(event.title.is_empty() && event.description.is_empty() && event.sealed.is_some());
    let Record::Source(report) = record_of(&store, "s2") else {
        panic!("s2")
    };
    assert!(report.title.is_empty() && report.sealed.is_some());

    // An act's text goes with its victim; an event's and a source's with themselves.
    store.unlock(&passphrase(PASSPHRASE)).expect("unlock");
    for subject in ["p1", "e1", "s2"] {
        store
            .write("admin", |sink| {
                sink.apply(Change::Forget {
                    subject: RecordId::new(subject),
                    reason: "asked to be removed".into(),
                })
            })
            .expect("forget");
    }
    let Record::Act(act) = record_of(&store, "a1") else {
        panic!("a1")
    };
    assert!(
        act.description.is_empty() && act.sealed.is_some(),
        "{act:?}"
    );
    let Record::Event(event) = record_of(&store, "e1") else {
        panic!("e1")
    };
    assert!(
        event.title.is_empty() && event.sealed.is_some(),
        "{event:?}"
    );
    let Record::Source(report) = record_of(&store, "s2") else {
        panic!("s2")
    };
    assert!(
        report.title.is_empty() && report.sealed.is_some(),
        "{report:?}"
    );
    // Nothing new can be written about a forgotten victim.
    let mut rewritten = free_text_records().remove(2);
    if let Record::Act(act) = &mut rewritten {
        act.description = "again".into();
    }
    let refused = store.write("kim", |sink| {
        sink.apply(Change::Update {
            record: rewritten,
            base_revision: 1,
        })
    });
    assert!(
        matches!(&refused, Err(StoreError::Invalid(i)) if i.field == "sealed"),
        "{refused:?}"
    );
    let report = store.check(&mut |_, _| {}).expect("check");
    assert!(report.is_clean(), "{report:?}");
}

#[test]
fn rotation_rewraps_every_key_for_the_new_passphrase() {
    let (_dir, path) = encrypted();
    let mut store = Database::open(&path).expect("open");
    store.unlock(&passphrase(PASSPHRASE)).expect("unlock");
    let rewrapped = store
        .rotate(&passphrase("a different long passphrase"), quick())
        .expect("rotate");
    assert_eq!(rewrapped, 2);
    drop(store);
    let mut store = Database::open(&path).expect("open");
    assert!(matches!(
        store.unlock(&passphrase(PASSPHRASE)),
        Err(StoreError::Vault(VaultError::WrongSecret))
    ));
    store
        .unlock(&passphrase("a different long passphrase"))
        .expect("unlock");
    assert_eq!(names_of(&store, "p1"), ["김은주"]);
}

#[test]
fn only_an_empty_database_is_encrypted_and_plain_ones_refuse_sealed_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Database::create(&dir.path().join("girok.sqlite")).expect("create");
    store
        .write("kim", |sink| {
            sink.apply(Change::Create {
                record: witness("p1", "김은주"),
            })
        })
        .expect("write");
    let late = store.encrypt(&passphrase(PASSPHRASE), quick());
    assert!(
        matches!(late, Err(StoreError::NotEmpty { entries: 1 })),
        "{late:?}"
    );
    let mut sealed = witness("p2", "강규리");
    sealed.take_secrets();
    sealed.set_sealed(Some(Sealed {
        scheme: 1,
        nonce: "AAAA".into(),
        ciphertext: "AAAA".into(),
        blind: Vec::new(),
        under: None,
    }));
    let refused = store.write("kim", |sink| sink.apply(Change::Create { record: sealed }));
    assert!(
        matches!(&refused, Err(StoreError::Invalid(i)) if i.field == "sealed"),
        "{refused:?}"
    );
}
