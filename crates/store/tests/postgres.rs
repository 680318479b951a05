//! What the PostgreSQL backend must do beyond the conformance suite: keep
//! one unbroken chain while several processes append at once, refuse any
//! change to the journal (by trigger, and by privilege for a granted role), show every connection the
//! others' writes (vocabularies included), find state edited behind its
//! back, keep linkage proposals as SQLite does, and name what is wrong
//! with a database it cannot use.

use girok_journal::checkpoint::SignerKey;
use girok_model::*;
use girok_store::{
    AuditLog, Database, KdfParams, KeyStore, LinkRun, LockState, Notary, NotaryError, Place,
    ProposedRecord, Store, StoreError, StoredProposal, Unlock,
};

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

fn admin(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("connect")
}

/// Signs checkpoints with a fixed test key.
struct TestNotary(SignerKey);

impl Notary for TestNotary {
    fn sign(&self, size: u64, root: &girok_journal::Hash) -> Result<String, NotaryError> {
        Ok(self.0.sign(&girok_journal::checkpoint::Checkpoint {
            origin: self.0.name().to_string(),
            size,
            root: *root,
        }))
    }
}

const WRITERS: usize = 4;
const BATCHES: usize = 40;

/// One writer process of the test below: appends `BATCHES` one-change
/// batches, each ending with a signed checkpoint. Does nothing unless the
/// test below started this process with a database to write to.
#[test]
fn appending_writer_process() {
    let (Ok(url), Ok(writer)) = (
        std::env::var("GIROK_TEST_APPEND_URL"),
        std::env::var("GIROK_TEST_APPEND_WRITER"),
    ) else {
        return;
    };
    let mut store = Database::open_postgres(&url).expect("open");
    let key = SignerKey::generate("girok/test").expect("key");
    store.set_notary(std::sync::Arc::new(TestNotary(key)));
    for batch in 0..BATCHES {
        store
            .write("writer", |sink| {
                sink.apply(person(&format!("p-{writer}-{batch}")))
            })
            .expect("append");
    }
}

#[test]
fn writers_in_several_processes_keep_one_unbroken_chain() {
    let cluster = cluster::Cluster::start();
    let url = cluster.new_database();
    drop(Database::create_postgres(&url).expect("create"));
    let test_binary = std::env::current_exe().expect("test binary");
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            std::process::Command::new(&test_binary)
                .args(["--exact", "appending_writer_process", "--test-threads=1"])
                .env("GIROK_TEST_APPEND_URL", &url)
                .env("GIROK_TEST_APPEND_WRITER", writer.to_string())
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("start a writer process")
        })
        .collect();
    for mut writer in writers {
        assert!(writer.wait().expect("writer").success());
    }
    let store = Database::open_postgres(&url).expect("open");
    let appended = (WRITERS * BATCHES) as u64;
    assert_eq!(store.head().expect("head").0, appended);
    assert_eq!(store.count(RecordKind::Person).expect("count"), appended);
    let report = store.check(&mut |_, _| {}).expect("check");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.entries, appended);
    // Every batch signed the tree it ended: one checkpoint per append, none skipped.
    let mut client = admin(&url);
    let sizes: Vec<i64> = client
        .query("SELECT size FROM checkpoint ORDER BY size", &[])
        .expect("checkpoints")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(sizes, (1..=appended as i64).collect::<Vec<_>>());
}

#[test]
fn the_journal_refuses_update_delete_and_truncate_by_trigger() {
    let cluster = cluster::Cluster::start();
    let url = cluster.new_database();
    let mut store = Database::create_postgres(&url).expect("create");
    let key = SignerKey::generate("girok/test").expect("key");
    store.set_notary(std::sync::Arc::new(TestNotary(key)));
    // 64 entries: the first stored Merkle node, so its table has a row to refuse changing.
    store
        .write("tester", |sink| {
            (1..=64).try_for_each(|n| sink.apply(person(&format!("p{n}"))).map(drop))
        })
        .expect("write");
    let mut client = admin(&url);
    for statement in [
        "UPDATE journal SET actor = 'someone else'",
        "DELETE FROM journal",
        "TRUNCATE journal",
        "UPDATE merkle SET hash = hash",
        "DELETE FROM checkpoint",
    ] {
        let refused = client.batch_execute(statement).expect_err(statement);
        let said = refused.as_db_error().map(|e| e.message().to_string());
        assert!(
            said.as_deref().is_some_and(|m| m.contains("append-only")),
            "{statement}: {refused:?}"
        );
    }
    assert_eq!(store.head().expect("head").0, 64);
    assert!(store.check(&mut |_, _| {}).expect("check").is_clean());
}

#[test]
fn every_connection_sees_the_others_writes_and_terms_at_once() {
    let cluster = cluster::Cluster::start();
    let url = cluster.new_database();
    let mut first = Database::create_postgres(&url).expect("create");
    let mut second = Database::open_postgres(&url).expect("open");
    let term = Term {
        key: "forced-marriage".into(),
        en: "Forced marriage".into(),
        ko: "강제 결혼".into(),
        parent: None,
        class: Some("trafficking-slavery".into()),
        extra: Default::default(),
    };
    first
        .write("tester", |sink| {
            sink.apply(Change::AddTerm {
                vocabulary: VocabKind::ActType,
                term,
            })?;
            sink.apply(person("p1"))
        })
        .expect("write");
    assert!(second.get(&RecordId::new("p1")).expect("get").is_some());
    // The second connection's batch reads the term inside its own transaction.
    second
        .write("tester", |sink| {
            sink.apply(Change::Create {
                record: Record::Act(Act {
                    id: RecordId::new("a1"),
                    act_type: "forced-marriage".into(),
                    victim: RecordId::new("p1"),
                    event: None,
                    date: FuzzyDate::parse("2003").expect("date"),
                    place: None,
                    victim_age: None,
                    status: None,
                    facility: None,
                    description: String::new(),
                    received_by: None,
                    clarifications: Default::default(),
                    sealed: None,
                }),
            })
        })
        .expect("a term another connection added is usable");
    assert_eq!(first.count(RecordKind::Act).expect("count"), 1);
}

#[test]
fn check_on_a_live_database_reads_one_snapshot_while_writers_append() {
    let cluster = cluster::Cluster::start();
    let url = cluster.new_database();
    let mut store = Database::create_postgres(&url).expect("create");
    store
        .write("tester", |sink| {
            (0..2_000).try_for_each(|n| sink.apply(person(&format!("p{n}"))).map(drop))
        })
        .expect("write");
    let writing = std::sync::atomic::AtomicBool::new(true);
    let written = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut other = Database::open_postgres(&url).expect("open");
            let mut batches = 0;
            while writing.load(std::sync::atomic::Ordering::Relaxed) {
                other
                    .write("writer", |sink| {
                        sink.apply(person(&format!("w{batches}"))).map(drop)
                    })
                    .expect("append during the check");
                batches += 1;
            }
            batches
        });
        let mut checks = Vec::new();
        for _ in 0..3 {
            checks.push(store.check(&mut |_, _| {}).expect("check"));
        }
        writing.store(false, std::sync::atomic::Ordering::Relaxed);
        for report in &checks {
            assert!(report.is_clean(), "{report:?}");
        }
        writer.join().expect("writer")
    });
    assert!(written > 0, "nothing was written while the checks ran");
    let report = store.check(&mut |_, _| {}).expect("check");
    assert!(
        report.is_clean() && report.entries == 2_000 + written,
        "{report:?}"
    );
}

#[test]
fn check_names_a_state_row_edited_behind_the_stores_back() {
    let cluster = cluster::Cluster::start();
    let url = cluster.new_database();
    let mut store = Database::create_postgres(&url).expect("create");
    store
        .write("tester", |sink| {
            sink.apply(person("p1"))?;
            sink.apply(person("p2"))
        })
        .expect("write");
    admin(&url)
        .batch_execute("UPDATE person SET sex = 'female' WHERE id = 'p2'")
        .expect("edit");
    let report = store.check(&mut |_, _| {}).expect("check");
    assert!(report.chain_breaks.is_empty() && report.refused.is_empty());
    assert_eq!(report.differences.len(), 1, "{report:?}");
    assert_eq!(report.differences[0].table, "person");
    assert!(report.differences[0].key.contains("p2"), "{report:?}");

    // An entry nobody can decode, appended with plain SQL as the last of the
    // journal, is named as a break and a refusal; the check still ends.
    admin(&url)
        .batch_execute(
            "INSERT INTO journal (seq, time, actor, subject, bytes, hash) \
             VALUES (3, 'now', 'intruder', NULL, '\\x00ff'::bytea, decode(repeat('ab', 32), 'hex'))",
        )
        .expect("append garbage");
    let report = store.check(&mut |_, _| {}).expect("check");
    assert_eq!(report.entries, 3, "{report:?}");
    assert!(!report.chain_breaks.is_empty(), "{report:?}");
    assert!(
        report.refused.iter().any(|(seq, _)| *seq == 3),
        "{report:?}"
    );
}

#[test]
fn every_text_column_sorts_bytewise_and_every_integer_has_64_bits() {
    let cluster = cluster::Cluster::start();
    let url = cluster.new_database();
    drop(Database::create_postgres(&url).expect("create"));
    let mut client = admin(&url);
    let columns = client
        .query(
            "SELECT table_name::text, column_name::text, data_type::text, collation_name::text \
             FROM information_schema.columns WHERE table_schema = current_schema()",
            &[],
        )
        .expect("columns");
    assert!(columns.len() > 80, "{} columns", columns.len());
    for column in &columns {
        let (table, name, kind, collation): (String, String, String, Option<String>) =
            (column.get(0), column.get(1), column.get(2), column.get(3));
        match kind.as_str() {
            "text" => assert_eq!(
                collation.as_deref(),
                Some("C"),
                "{table}.{name} does not sort bytewise"
            ),
            "bigint" | "bytea" | "double precision" => {}
            other => panic!("{table}.{name} is {other}"),
        }
    }
}

#[test]
fn a_database_it_cannot_use_is_named_and_left_unchanged() {
    let cluster = cluster::Cluster::start();

    let empty = cluster.new_database();
    let missing = Database::open_postgres(&empty).err();
    assert!(
        matches!(missing, Some(StoreError::Missing { .. })),
        "{missing:?}"
    );

    let other = cluster.new_database();
    admin(&other)
        .batch_execute("CREATE TABLE invoices (id INT)")
        .expect("another application's table");
    for refused in [
        Database::open_postgres(&other).err(),
        Database::create_postgres(&other).err(),
    ] {
        assert!(
            matches!(&refused, Some(StoreError::NotGirok { reason, .. }) if reason.contains("another application") || reason.contains("did not create")),
            "{refused:?}"
        );
    }

    let newer = cluster.new_database();
    drop(Database::create_postgres(&newer).expect("create"));
    admin(&newer)
        .batch_execute("UPDATE girok_meta SET value = '999' WHERE key = 'schema_version'")
        .expect("a future schema");
    let too_new = Database::open_postgres(&newer).err();
    assert!(
        matches!(too_new, Some(StoreError::TooNew { found: 999, .. })),
        "{too_new:?}"
    );
    let exists = Database::create_postgres(&newer).err();
    assert!(
        matches!(exists, Some(StoreError::Exists { .. })),
        "{exists:?}"
    );

    // Nothing listens there; the message names the server, never a password.
    let unreachable = Database::open_postgres(
        "host=127.0.0.1 port=1 user=girok password=s3cret-word dbname=girok connect_timeout=2",
    )
    .err()
    .expect("refused");
    let message = unreachable.to_string();
    assert!(
        matches!(unreachable, StoreError::Connect { .. }),
        "{message}"
    );
    assert!(
        message.contains("127.0.0.1") && !message.contains("s3cret-word"),
        "{message}"
    );
}

fn quick() -> KdfParams {
    KdfParams {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    }
}

const PASSPHRASE: &str = "correct horse battery staple";

#[test]
fn encryption_is_refused_where_a_deleted_key_is_not_gone() {
    let cluster = cluster::Cluster::start();
    let mut store = Database::create_postgres(&cluster.new_database()).expect("create");
    let refused = store.encrypt(&Unlock::Passphrase(PASSPHRASE.into()), quick());
    assert!(
        matches!(refused, Err(StoreError::NoSecureDeletion)),
        "{refused:?}"
    );
    store
        .write("tester", |sink| sink.apply(person("p1")))
        .expect("still a plain store");
}

/// Whether `needle` occurs in any file under `dir`.
fn found_in_files(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if std::fs::read(&path)
                .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
            {
                found.push(path);
            }
        }
    }
    found
}

/// The wrapped data key of `subject` as the key store file holds it.
fn wrapped_in(key_store: &std::path::Path, subject: &str) -> Option<Vec<u8>> {
    let conn = rusqlite::Connection::open(key_store).expect("open the key store");
    conn.query_row(
        "SELECT wrapped FROM data_key WHERE subject = ?1",
        [subject],
        |row| row.get(0),
    )
    .ok()
}

#[test]
fn forgetting_on_postgres_destroys_the_key_in_its_key_store_and_no_copy_remains() {
    let primary = cluster::Cluster::private();
    let url = primary.new_database();
    let standby = primary.standby();
    let dir = tempfile::tempdir().expect("tempdir");
    let key_path = dir.path().join("keys.sqlite");
    let mut store = Database::create_postgres(&url).expect("create");
    store
        .encrypt_apart(
            KeyStore::create(&key_path).expect("key store"),
            &Unlock::Passphrase(PASSPHRASE.into()),
            quick(),
        )
        .expect("encrypted with its keys apart");
    let witness = |id: &str| Change::Create {
        record: Record::Person(Person::new(
            RecordId::new(id),
            vec![Name::detect("Kim Eun-joo", Romanization::Unknown)],
        )),
    };
    store
        .write("tester", |sink| {
            sink.apply(witness("p-kim"))?;
            sink.apply(witness("p-other"))
        })
        .expect("write");
    // A batch that fails keeps no key: the key store's writes commit with the batch.
    let failed = store.write("tester", |sink| {
        sink.apply(witness("p-twice"))?;
        sink.apply(witness("p-twice"))
    });
    assert!(failed.is_err());
    assert_eq!(wrapped_in(&key_path, "p-twice"), None);
    let wrapped = wrapped_in(&key_path, "p-kim").expect("the key is in the key store");
    assert!(wrapped.len() >= 32, "{} bytes", wrapped.len());
    assert_eq!(store.key_counts().expect("counts"), (2, 0));
    assert!(
        !found_in_files(dir.path(), &wrapped).is_empty(),
        "the search finds the key where it is"
    );

    // Forgotten: the key is gone from the key store and its log at once.
    store
        .write("tester", |sink| {
            sink.apply(Change::Forget {
                subject: RecordId::new("p-kim"),
                reason: "the witness withdrew".into(),
            })
        })
        .expect("forget");
    assert_eq!(wrapped_in(&key_path, "p-kim"), None);
    assert!(wrapped_in(&key_path, "p-other").is_some());
    assert_eq!(
        found_in_files(dir.path(), &wrapped),
        Vec::<std::path::PathBuf>::new(),
        "the key store's file and log hold no copy"
    );
    // PostgreSQL never held it: not its tables, heap, write-ahead log, nor the replica's.
    admin(&url).batch_execute("CHECKPOINT").expect("checkpoint");
    for cluster in [&primary, &standby] {
        assert_eq!(
            found_in_files(cluster.files(), &wrapped),
            Vec::<std::path::PathBuf>::new()
        );
        assert_eq!(
            found_in_files(cluster.files(), "Kim Eun-joo".as_bytes()),
            Vec::<std::path::PathBuf>::new(),
            "no name in plaintext"
        );
    }
    // The other witness still opens; the forgotten one stays sealed.
    let name_of = |store: &Database, id: &str| match store
        .get(&RecordId::new(id))
        .expect("get")
        .expect("exists")
        .record
    {
        Record::Person(person) => person.names.first().map(|n| n.text.clone()),
        _ => panic!("not a person"),
    };
    assert_eq!(name_of(&store, "p-other").as_deref(), Some("Kim Eun-joo"));
    assert_eq!(name_of(&store, "p-kim"), None);
    drop(store);

    // A server stopped between the forget's commit and the key's destruction
    // left the key: the next server that attaches the store destroys it.
    {
        let conn = rusqlite::Connection::open(&key_path).expect("open");
        conn.execute(
            "INSERT INTO data_key (subject, wrapped) VALUES ('p-kim', ?1)",
            [&wrapped],
        )
        .expect("put the key back");
    }
    let mut reopened = Database::open_postgres(&url).expect("open");
    assert!(reopened.keeps_keys_apart());
    reopened
        .use_key_store(KeyStore::open(&key_path).expect("key store"))
        .expect("attach");
    assert_eq!(wrapped_in(&key_path, "p-kim"), None, "swept at attach");
    reopened
        .unlock(&Unlock::Passphrase(PASSPHRASE.into()))
        .expect("unlock");
    assert_eq!(reopened.key_counts().expect("counts"), (1, 1));
    assert_eq!(
        name_of(&reopened, "p-other").as_deref(),
        Some("Kim Eun-joo")
    );
}

#[test]
fn without_its_own_key_store_an_encrypted_postgres_database_stays_shut() {
    let cluster = cluster::Cluster::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let url = cluster.new_database();
    let mut store = Database::create_postgres(&url).expect("create");
    let key_path = dir.path().join("keys.sqlite");
    store
        .encrypt_apart(
            KeyStore::create(&key_path).expect("key store"),
            &Unlock::Passphrase(PASSPHRASE.into()),
            quick(),
        )
        .expect("encrypt");
    store
        .write("tester", |sink| sink.apply(person("p1")))
        .expect("write");
    drop(store);

    let mut bare = Database::open_postgres(&url).expect("open");
    assert_eq!(bare.lock_state(), LockState::Locked);
    let unlock = bare.unlock(&Unlock::Passphrase(PASSPHRASE.into()));
    assert!(matches!(unlock, Err(StoreError::NoKeyStore)), "{unlock:?}");
    let forget = bare.write("tester", |sink| {
        sink.apply(Change::Forget {
            subject: RecordId::new("p1"),
            reason: "withdrawn".into(),
        })
    });
    assert!(
        matches!(forget, Err(StoreError::NoKeyStore)),
        "a forget that could not destroy the key is refused: {forget:?}"
    );
    let written = bare.write("tester", |sink| sink.apply(person("p2")));
    assert!(matches!(written, Err(StoreError::Locked)), "{written:?}");
    assert_eq!(bare.head().expect("head").0, 1, "nothing was written");

    // Another database's key store is refused; a missing one is never made anew.
    let other = Database::create_postgres(&cluster.new_database());
    let other_keys = dir.path().join("other.sqlite");
    other
        .expect("other")
        .encrypt_apart(
            KeyStore::create(&other_keys).expect("key store"),
            &Unlock::Passphrase(PASSPHRASE.into()),
            quick(),
        )
        .expect("encrypt the other");
    let foreign = bare.use_key_store(KeyStore::open(&other_keys).expect("open"));
    assert!(
        matches!(foreign, Err(StoreError::ForeignKeyStore { .. })),
        "{foreign:?}"
    );
    assert!(matches!(
        KeyStore::open(&dir.path().join("missing.sqlite")),
        Err(StoreError::Missing { .. })
    ));
    assert!(!dir.path().join("missing.sqlite").exists());
    bare.use_key_store(KeyStore::open(&key_path).expect("open"))
        .expect("its own");
    bare.unlock(&Unlock::Passphrase(PASSPHRASE.into()))
        .expect("unlock");
    bare.write("tester", |sink| sink.apply(person("p2")))
        .expect("written with its keys");
}

#[test]
fn linkage_proposals_are_replaced_decided_and_purged_in_the_writes_transaction() {
    let cluster = cluster::Cluster::start();
    let mut store = Database::create_postgres(&cluster.new_database()).expect("create");
    store
        .write("tester", |sink| {
            ["a", "b", "c", "d"]
                .into_iter()
                .try_for_each(|id| sink.apply(person(id)).map(drop))
        })
        .expect("persons");
    let proposal = |ids: &[&str]| StoredProposal {
        number: 0,
        persons: ids
            .iter()
            .map(|id| ProposedRecord {
                id: RecordId::new(*id),
                sources: "s1".into(),
            })
            .collect(),
        probability: 0.875,
        links: "[]".into(),
        decided: None,
    };
    let run = LinkRun {
        journal_size: 4,
        time: "2026-01-01T00:00:00Z".into(),
        training: Some("converged".into()),
    };
    store
        .replace_link_proposals(&run, &[proposal(&["a", "b"]), proposal(&["c", "d"])])
        .expect("proposals");
    assert_eq!(store.link_run().expect("run"), Some(run));
    let undecided = |store: &Database| -> Vec<u64> {
        store
            .undecided_link_proposals()
            .expect("queue")
            .iter()
            .map(|p| p.number)
            .collect()
    };
    assert_eq!(undecided(&store), [1, 2]);
    assert_eq!(
        store
            .link_proposal(1)
            .expect("read")
            .expect("one")
            .probability,
        0.875
    );
    store
        .write("reviewer", |sink| {
            sink.apply(Change::LinkDecision {
                same: true,
                persons: vec![RecordId::new("a"), RecordId::new("b")],
                reason: "same parents".into(),
            })
        })
        .expect("decision");
    assert_eq!(undecided(&store), [2]);
    assert_eq!(
        store.merged_with(&RecordId::new("a")).expect("merged"),
        [RecordId::new("b")]
    );
    store
        .write("reviewer", |sink| {
            sink.apply(Change::Forget {
                subject: RecordId::new("c"),
                reason: "asked to".into(),
            })
        })
        .expect("forget");
    assert!(store.link_proposal(2).expect("read").is_none());
    assert_eq!(store.link_proposal_count().expect("count"), 1);
    assert!(store.check(&mut |_, _| {}).expect("check").is_clean());
}

#[test]
fn a_role_granted_to_run_girok_appends_but_cannot_rewrite_or_unguard_the_journal() {
    let cluster = cluster::Cluster::start();
    let url = cluster.new_database();
    let owner = Database::create_postgres(&url).expect("create");
    admin(&url)
        .batch_execute("CREATE ROLE girok_app LOGIN")
        .expect("role");
    owner.grant_to("girok_app").expect("grant");
    for name in [
        "app; DROP TABLE journal",
        "public",
        "current_user",
        "pg_read_all_data",
    ] {
        let refused = owner.grant_to(name);
        assert!(
            matches!(refused, Err(StoreError::Invalid(_))),
            "{name}: {refused:?}"
        );
    }

    let as_app = url.replace("user=girok", "user=girok_app");
    let mut store = Database::open_postgres(&as_app).expect("open as the app role");
    store
        .write("tester", |sink| {
            (1..=64).try_for_each(|n| sink.apply(person(&format!("p{n}"))).map(drop))
        })
        .expect("the app role writes");
    let mut client = admin(&as_app);
    for statement in [
        "UPDATE journal SET actor = 'someone else'",
        "DELETE FROM journal",
        "TRUNCATE journal",
        "UPDATE merkle SET hash = hash",
        "ALTER TABLE journal DISABLE TRIGGER journal_append_only",
        "DROP TRIGGER journal_append_only ON journal",
    ] {
        let refused = client.batch_execute(statement).expect_err(statement);
        let code = refused.code().cloned();
        assert!(
            matches!(
                code,
                Some(postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)
            ),
            "{statement}: {refused:?}"
        );
        // Refused by privilege, before the trigger is reached.
        let said = refused.as_db_error().map(|e| e.message().to_string());
        assert!(
            said.as_deref()
                .is_some_and(|m| m.contains("permission denied") || m.contains("must be owner")),
            "{statement}: {said:?}"
        );
    }
    assert_eq!(store.head().expect("head").0, 64);
    assert!(store.check(&mut |_, _| {}).expect("check").is_clean());
}

#[test]
fn tls_checks_the_servers_certificate_and_says_why_it_refuses_one() {
    let (cluster, certificates) = cluster::Cluster::with_tls();
    let database = cluster.new_database();
    let authority = certificates.authority.display();
    let over_tls = |host: &str, tls: &str| format!("{} {tls}", cluster.over_tcp(&database, host));
    // The certificate names localhost and is signed by the authority given.
    let mut store = Database::create_postgres(&over_tls(
        "localhost",
        &format!("sslmode=verify-full sslrootcert={authority}"),
    ))
    .expect("verify-full");
    store
        .write("tester", |sink| sink.apply(person("p1")).map(drop))
        .expect("write over TLS");
    drop(store);
    let url_form = format!(
        "postgresql://girok@localhost:{}/{}?sslmode=verify-full&sslrootcert={}",
        cluster.tcp_port(),
        database.split("dbname=").nth(1).expect("name"),
        authority
    );
    assert_eq!(
        Database::open_postgres(&url_form)
            .expect("the URL form")
            .head()
            .expect("head")
            .0,
        1
    );
    // Only the chain is checked with verify-ca: 127.0.0.1 is not the name the certificate gives.
    Database::open_postgres(&over_tls(
        "127.0.0.1",
        &format!("sslmode=verify-ca sslrootcert={authority}"),
    ))
    .expect("verify-ca");
    let refusal = |url: String| match Database::open_postgres(&url) {
        Err(StoreError::Connect { reason, .. }) => reason,
        other => panic!("{url} was not refused: {}", other.is_ok()),
    };
    let wrong_name = refusal(over_tls(
        "127.0.0.1",
        &format!("sslmode=verify-full sslrootcert={authority}"),
    ));
    assert!(wrong_name.contains("not valid for name"), "{wrong_name}");
    let stranger = refusal(over_tls(
        "localhost",
        &format!(
            "sslmode=verify-full sslrootcert={}",
            certificates.stranger.display()
        ),
    ));
    assert!(stranger.contains("UnknownIssuer"), "{stranger}");
    // The server takes nothing but TLS, and a client that only encrypts is refused before it connects.
    let plain = refusal(over_tls("localhost", "sslmode=disable"));
    assert!(
        plain.contains("pg_hba.conf") || plain.contains("no encryption"),
        "{plain}"
    );
    let unchecked = refusal(over_tls("localhost", "sslmode=require"));
    assert!(unchecked.contains("verify-full"), "{unchecked}");
}

#[test]
fn servers_append_to_one_audit_chain_that_no_role_can_rewrite() {
    let cluster = cluster::Cluster::start();
    let url = cluster.new_database();
    let database = Database::create_postgres(&url).expect("create");
    let place = Place::Postgres(url.clone());
    let owner = AuditLog::open(&place).expect("the owner makes the table");
    admin(&url)
        .batch_execute("CREATE ROLE girok_app LOGIN")
        .expect("role");
    database.grant_to("girok_app").expect("grant the journal's");
    owner.grant_to("girok_app").expect("grant the log's");
    let as_app = Place::Postgres(url.replace("user=girok", "user=girok_app"));
    // Two servers' connections append at once; the chain stays one.
    std::thread::scope(|scope| {
        for server in ["one", "two"] {
            let as_app = &as_app;
            scope.spawn(move || {
                let log = AuditLog::open(as_app).expect("open as the app role");
                for n in 0..40 {
                    log.record(
                        server,
                        "GET /persons",
                        "web",
                        &[RecordId::new(format!("p{n}"))],
                    )
                    .expect("record");
                }
            });
        }
    });
    let report = owner.verify().expect("verify");
    assert_eq!((report.entries, report.broken_at), (80, None));
    let actors: std::collections::BTreeSet<String> = owner
        .entries()
        .expect("entries")
        .into_iter()
        .map(|e| e.actor)
        .collect();
    assert_eq!(actors.len(), 2);
    // The owner's statements are refused by the trigger, the app role's by privilege.
    for who in [url.as_str(), &url.replace("user=girok", "user=girok_app")] {
        for statement in [
            "UPDATE audit SET actor = 'someone else' WHERE seq = 2",
            "DELETE FROM audit WHERE seq = 80",
            "TRUNCATE audit",
        ] {
            let refused = admin(who).batch_execute(statement).expect_err(statement);
            assert_eq!(
                refused.code(),
                Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
                "{statement}: {refused:?}"
            );
        }
    }
    assert_eq!(owner.verify().expect("verify").broken_at, None);
}

/// One writer of the crash test below: appends one person per batch and
/// says so on its standard output once the batch has committed, until the
/// server goes away. Does nothing unless that test started this process.
#[test]
fn acknowledging_writer_process() {
    use std::io::Write;
    let (Ok(url), Ok(writer)) = (
        std::env::var("GIROK_TEST_ACK_URL"),
        std::env::var("GIROK_TEST_ACK_WRITER"),
    ) else {
        return;
    };
    let Ok(mut store) = Database::open_postgres(&url) else {
        return;
    };
    let mut out = std::io::stdout().lock();
    for batch in 0.. {
        let id = format!("p-{writer}-{batch}");
        if store
            .write("writer", |sink| sink.apply(person(&id)))
            .is_err()
        {
            return;
        }
        if writeln!(out, "{id}").and_then(|()| out.flush()).is_err() {
            return;
        }
    }
}

#[test]
fn killed_writers_and_a_crashed_server_lose_no_acknowledged_write() {
    use std::io::BufRead;
    let cluster = cluster::Cluster::private();
    let url = cluster.new_database();
    drop(Database::create_postgres(&url).expect("create"));
    // A store that stays open across the crash, as a running server's does.
    let mut survivor = Database::open_postgres(&url).expect("open");
    let test_binary = std::env::current_exe().expect("test binary");
    let mut writers: Vec<_> = (0..3)
        .map(|writer| {
            std::process::Command::new(&test_binary)
                .args([
                    "--exact",
                    "acknowledging_writer_process",
                    "--test-threads=1",
                ])
                .env("GIROK_TEST_ACK_URL", &url)
                .env("GIROK_TEST_ACK_WRITER", writer.to_string())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("start a writer process")
        })
        .collect();
    let readers: Vec<_> = writers
        .iter_mut()
        .map(|writer| {
            let out = writer.stdout.take().expect("stdout");
            std::thread::spawn(move || {
                std::io::BufReader::new(out)
                    .lines()
                    .map_while(Result::ok)
                    .filter(|line| line.starts_with("p-"))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    writers[0].kill().expect("kill -9 a writer");
    std::thread::sleep(std::time::Duration::from_millis(1000));
    cluster.crash_and_restart();
    for mut writer in writers {
        let _ = writer.wait();
    }
    let acknowledged: Vec<String> = readers
        .into_iter()
        .flat_map(|reader| reader.join().expect("reader"))
        .collect();
    assert!(
        acknowledged.len() > 20,
        "only {} writes",
        acknowledged.len()
    );

    // It connects again by itself: the first write after the restart succeeds.
    survivor
        .write("survivor", |sink| sink.apply(person("p-after")))
        .expect("a write after the server restarted");
    let store = Database::open_postgres(&url).expect("open after the crash");
    for id in &acknowledged {
        assert!(
            store.get(&RecordId::new(id)).expect("get").is_some(),
            "{id} was acknowledged but is gone"
        );
    }
    let (head, _) = store.head().expect("head");
    assert_eq!(head, store.count(RecordKind::Person).expect("count"));
    assert!(head > acknowledged.len() as u64);
    let report = store.check(&mut |_, _| {}).expect("check");
    assert!(report.is_clean(), "{report:?}");
}
