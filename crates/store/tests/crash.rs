//! Crash tests: the SQLite store on a VFS that fails and tears writes below
//! it (`support/vfs.rs`), in the style of redb's fuzzer backend. Each
//! iteration writes random batches, valid and invalid, through the store's
//! write path with a fault injected at a random point, cuts the power,
//! reopens the database from what reached the disk with no faults, and holds
//! it to the reference state fed exactly the batches the store reported as
//! committed: nothing committed is lost, nothing uncommitted appears, `check`
//! is clean and the hash chain intact. A database goes through one to three
//! such crashes, and now and then a restart (closed and opened again) with
//! the fault still armed.
//!
//! A batch whose write failed after a fault was injected, and that the rules
//! accept, is in doubt: the commit may have reached the disk before the error
//! (its frames all written but the sync failed, or the commit done and the
//! WAL checkpoint after a `forget` failed). The cycle crashes right after it, so it is the last batch written;
//! after the reopen, the journal must hold either none of its entries or all
//! of them, equal to its changes, and the reference then takes it or not.
//!
//! The test has been seen to fail with `synchronous=NORMAL` (commits not
//! synced), with the commit's error ignored, with the checkpoint signed in a
//! transaction of its own after the batch's, with `journal_mode=MEMORY` (no
//! crash-safe rollback) and with `journal_mode=DELETE` at `synchronous=FULL`
//! (the deleted rollback journal of the last commit comes back and undoes it,
//! which is why SQLite has `synchronous=EXTRA`); it passes with
//! `journal_mode=DELETE` at `synchronous=EXTRA`.
//!
//! `GIROK_CRASH_ITERATIONS` sets the number of iterations (300 by default),
//! `GIROK_CRASH_SEED` the first seed, for a longer soak.

use std::collections::HashMap;
use std::sync::Arc;

use girok_journal::checkpoint::{Checkpoint, SignerKey, VerifierKey};
use girok_journal::{GENESIS, Hash};
use girok_model::Change;
use girok_state::MemoryState;
use girok_store::{Database, JournalRow, Notary, NotaryError, Store, StoreError};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod support {
    pub mod changes;
    pub mod vfs;
}
use support::changes::{
    apply_to_reference, apply_to_store, assert_same_state, latest_entries, random_batch, times_of,
    without_times,
};
use support::vfs::{Crash, Fault, Op, VFS, Volume};

/// Signs the checkpoint that ends every batch, as every door's store does.
struct Signer(SignerKey);

impl Notary for Signer {
    fn sign(&self, size: u64, root: &Hash) -> Result<String, NotaryError> {
        Ok(self.0.sign(&Checkpoint {
            origin: self.0.name().to_string(),
            size,
            root: *root,
        }))
    }
}

/// What the iterations did, to show the test exercised what it claims.
#[derive(Debug, Default)]
struct Tally {
    committed: u64,
    refused: u64,
    crashes: u64,
    /// Restarts with a fault armed (the store closed and opened again).
    restarts: u64,
    /// Faults injected, by kind of operation (in the order of `Op::ALL`).
    faults: [u64; 5],
    in_doubt_present: u64,
    in_doubt_absent: u64,
    /// Reads, writes, syncs, truncates and locks the store performed with a fault armed.
    operations: [u64; 5],
}

/// A fault at a random point: the ranges are about as many operations of
/// each kind as a cycle performs, so some cycles end before the fault.
fn random_fault(rng: &mut ChaCha8Rng) -> Fault {
    let op = *Op::ALL.choose(rng).expect("ops");
    let most = match op {
        Op::Read => 20,
        Op::Write => 40,
        Op::Sync => 3,
        Op::Truncate => 1,
        Op::Lock => 45,
    };
    Fault {
        op,
        nth: rng.random_range(1..=most),
        persistent: rng.random_bool(0.5),
        partial: rng.random_bool(0.5),
        full: rng.random_bool(0.3),
    }
}

/// The database as the test knows it: the reference state and the journal
/// rows of every batch the store reported as committed.
struct Expected {
    reference: MemoryState,
    journal: Vec<JournalRow>,
}

impl Expected {
    fn head(&self) -> u64 {
        self.journal.len() as u64
    }

    /// Takes a batch whose entries `rows` (oldest first) the store holds.
    fn take(&mut self, changes: &[Change], rows: Vec<JournalRow>, context: &str) {
        assert_eq!(rows.len(), changes.len(), "{context}: {rows:#?}");
        let times = times_of(&rows);
        let head = self.head();
        self.reference = apply_to_reference(&self.reference, changes, head + 1, &times)
            .unwrap_or_else(|refusal| {
                panic!(
                    "{context}: the store holds a batch the rules refuse ({refusal}): {changes:#?}"
                )
            });
        for (offset, (row, change)) in rows.iter().zip(changes).enumerate() {
            assert_eq!(row.entry.seq, head + 1 + offset as u64, "{context}");
            assert_eq!(&row.entry.change, change, "{context}");
            assert_eq!(row.entry.actor, "tester", "{context}");
        }
        self.journal.extend(rows);
    }
}

/// After a reopen: the committed entries are there, unchanged; past them
/// only the batch in doubt, whole or not at all; the state is the
/// reference's and `check` is clean.
fn hold_to(
    store: &Database,
    verifier: &VerifierKey,
    expected: &mut Expected,
    in_doubt: Option<Vec<Change>>,
    tally: &mut Tally,
    context: &str,
) {
    let mut stored = latest_entries(store, usize::MAX);
    let committed = expected.journal.len();
    assert!(
        stored.len() >= committed && stored[..committed] == expected.journal[..],
        "{context}: committed entries were lost or changed: {} stored, {committed} committed",
        stored.len()
    );
    let extra = stored.split_off(committed);
    match in_doubt {
        Some(changes) if extra.len() == changes.len() => {
            expected.take(&changes, extra, context);
            tally.in_doubt_present += 1;
        }
        Some(_) if extra.is_empty() => tally.in_doubt_absent += 1,
        _ => assert!(
            extra.is_empty(),
            "{context}: {} entries appeared that no batch committed whole: {extra:#?}",
            extra.len()
        ),
    }
    assert_same_state(store, &expected.reference, context);
    let report = store.check(&mut |_, _| {}).expect("check");
    assert!(report.is_clean(), "{context}: {report:?}");
    assert_eq!(report.entries, expected.head(), "{context}");
    let head = expected.journal.last().map_or(GENESIS, |row| row.hash);
    assert_eq!(
        report.head, head,
        "{context}: the hash chain ends elsewhere"
    );
    // The Merkle tree and the checkpoint are written in each batch's transaction.
    let tree = store.verify_tree(verifier).expect("verify tree");
    assert!(tree.problems.is_empty(), "{context}: {:?}", tree.problems);
    assert_eq!(tree.size, expected.head(), "{context}");
    let latest = store.latest_checkpoint().expect("checkpoint");
    assert_eq!(
        latest.map_or(0, |(size, _)| size),
        expected.head(),
        "{context}: committed entries outside the latest checkpoint"
    );
}

fn iteration(seed: u64, tally: &mut Tally) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut volume = Volume::empty();
    let signer = Arc::new(Signer(SignerKey::generate("crash").expect("key")));
    let verifier = signer.0.verifier();
    let open = |volume: &Volume| -> Result<Database, StoreError> {
        let mut store = Database::open_in_vfs(&volume.database(), VFS)?;
        store.set_notary(signer.clone());
        Ok(store)
    };
    let mut store = Database::create_in_vfs(&volume.database(), VFS).expect("create");
    store.set_notary(signer.clone());
    let mut store = Some(store);
    let mut expected = Expected {
        reference: MemoryState::new(),
        journal: Vec::new(),
    };
    for cycle in 0..rng.random_range(1..=3) {
        let context = format!("seed {seed}, cycle {cycle}");
        let fault = random_fault(&mut rng);
        volume.arm(fault, rng.random());
        let fired_before = volume.fired();
        let operations_before = volume.operations();
        let mut in_doubt = None;
        for _ in 0..rng.random_range(1..=40) {
            let Some(writing) = store.as_mut() else {
                break;
            };
            let changes = random_batch(&mut rng, expected.reference.rows());
            let written = apply_to_store(&mut rng, writing, &changes);
            // After a fault the connection owes no more than safety: any
            // later failure of this cycle may be the fault's doing too.
            let faulted = volume.fired() > fired_before;
            match written {
                Ok(()) => {
                    let rows = volume.quiet(|| latest_entries(writing, changes.len()));
                    expected.take(&changes, rows, &context);
                    tally.committed += 1;
                }
                Err(error) => {
                    // A refused batch has no entry times; the comparison ignores them.
                    let no_times = HashMap::new();
                    match apply_to_reference(
                        &expected.reference,
                        &changes,
                        expected.head() + 1,
                        &no_times,
                    ) {
                        Err(refusal) => {
                            if !faulted {
                                assert_eq!(
                                    without_times(&error),
                                    without_times(&refusal),
                                    "{context}: {changes:#?}"
                                );
                            }
                            tally.refused += 1;
                        }
                        Ok(_) => {
                            assert!(faulted, "{context}: failed with no fault injected: {error}");
                            in_doubt = Some(changes);
                            break;
                        }
                    }
                }
            }
            if rng.random_bool(0.05) {
                // A restart, the fault still armed: SQLite checkpoints the WAL
                // as it closes and recovers it as it opens.
                store = None;
                match open(&volume) {
                    Ok(reopened) => store = Some(reopened),
                    Err(error) => assert!(
                        volume.fired() > fired_before,
                        "{context}: cannot reopen with no fault injected: {error}"
                    ),
                }
                tally.restarts += 1;
            }
        }
        tally.faults[fault.op as usize] += volume.fired() - fired_before;
        for ((total, after), before) in tally
            .operations
            .iter_mut()
            .zip(volume.operations())
            .zip(operations_before)
        {
            *total += after - before;
        }
        tally.crashes += 1;
        let crash = *Crash::ALL.choose(&mut rng).expect("crashes");
        // Sometimes the store is closed first (SQLite checkpoints the WAL into
        // the database as it closes, faults still armed), then the power is cut.
        let survivor = if rng.random_bool(0.25) {
            drop(store.take());
            volume.crash(crash, &mut rng)
        } else {
            let survivor = volume.crash(crash, &mut rng);
            drop(store.take());
            survivor
        };
        volume = survivor;
        let reopened = open(&volume)
            .unwrap_or_else(|e| panic!("{context}: cannot reopen after a {crash:?} crash: {e}"));
        hold_to(
            &reopened,
            &verifier,
            &mut expected,
            in_doubt,
            tally,
            &format!("{context}, {crash:?} crash"),
        );
        store = Some(reopened);
    }
}

fn from_env(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| v.parse().expect(name))
}

#[test]
fn a_crash_loses_nothing_committed_and_shows_nothing_uncommitted() {
    let first = from_env("GIROK_CRASH_SEED", 0);
    let iterations = from_env("GIROK_CRASH_ITERATIONS", 300);
    let mut tally = Tally::default();
    for seed in first..first + iterations {
        iteration(seed, &mut tally);
    }
    eprintln!("{tally:?}");
    // The outcomes the test is about must all be common, or it proves little.
    assert!(tally.committed >= 2 * iterations, "{tally:?}");
    assert!(tally.refused >= 10 * iterations, "{tally:?}");
    assert!(
        tally.faults.iter().sum::<u64>() >= iterations / 2,
        "{tally:?}"
    );
    if iterations >= 100 {
        assert!(tally.faults.iter().all(|&n| n > 0), "{tally:?}");
        assert!(
            tally.in_doubt_present > 0 && tally.in_doubt_absent > 0,
            "{tally:?}"
        );
        assert!(tally.restarts > 0, "{tally:?}");
    }
}
