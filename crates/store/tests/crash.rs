//! Crash tests: the SQLite store on a VFS that fails and tears writes below
//! it (`support/vfs.rs`), in the style of redb's fuzzer backend. Each
//! iteration writes random batches, valid and invalid, through the store's
//! write path with a fault injected at a random point, cuts the power,
//! reopens the database from what reached the disk with no faults, and holds
//! it to the reference state fed exactly the batches the store reported as
//! committed: nothing committed is lost, nothing uncommitted appears, `check`
//! is clean and the hash chain intact. A database goes through one to three
//! such crashes.
//!
//! A batch whose write failed after a fault was injected, and that the rules
//! accept, is in doubt: the commit may have reached the disk before the error
//! (a failed checkpoint after the commit, a torn write that happened to land
//! whole). The cycle crashes right after it, so it is the last batch written;
//! after the reopen, the journal must hold either none of its entries or all
//! of them, equal to its changes, and the reference then takes it or not.
//!
//! `GIROK_CRASH_ITERATIONS` sets the number of iterations (300 by default),
//! `GIROK_CRASH_SEED` the first seed, for a longer soak.

use std::collections::HashMap;

use girok_journal::GENESIS;
use girok_model::Change;
use girok_state::MemoryState;
use girok_store::{JournalRow, SqliteStore, Store};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod support {
    pub mod changes;
    pub mod vfs;
}
use support::changes::{
    apply_to_reference, apply_to_sqlite, latest_entries, random_batch, times_of, without_times,
};
use support::vfs::{Crash, Fault, Op, VFS, Volume};

/// What the iterations did, to show the test exercised what it claims.
#[derive(Debug, Default)]
struct Tally {
    committed: u64,
    refused: u64,
    crashes: u64,
    faults: u64,
    in_doubt_present: u64,
    in_doubt_absent: u64,
    /// Reads, writes, syncs, truncates and locks performed by the store.
    operations: [u64; 5],
}

/// A fault at a random point: the ranges are about as many operations of
/// each kind as a cycle performs, so some cycles end before the fault.
fn random_fault(rng: &mut ChaCha8Rng) -> Fault {
    let op = *Op::ALL.choose(rng).expect("ops");
    let most = match op {
        Op::Read => 60,
        Op::Write => 80,
        Op::Sync => 6,
        Op::Truncate => 1,
        Op::Lock => 4,
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
        let times = times_of(&rows);
        let head = self.head();
        if let Err(refusal) = apply_to_reference(&mut self.reference, changes, head + 1, &times) {
            panic!("{context}: the store holds a batch the rules refuse ({refusal}): {changes:#?}");
        }
        assert_eq!(rows.len(), changes.len(), "{context}: {rows:#?}");
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
    store: &SqliteStore,
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
    let differences = store
        .state_rows()
        .expect("rows")
        .differences(expected.reference.rows());
    assert!(
        differences.is_empty(),
        "{context}:\n{}",
        differences
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let report = store.check(&mut |_, _| {}).expect("check");
    assert!(report.is_clean(), "{context}: {report:?}");
    assert_eq!(report.entries, expected.head(), "{context}");
    let head = expected.journal.last().map_or(GENESIS, |row| row.hash);
    assert_eq!(
        report.head, head,
        "{context}: the hash chain ends elsewhere"
    );
}

fn iteration(seed: u64, tally: &mut Tally) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut volume = Volume::empty();
    let mut store = SqliteStore::create_in_vfs(&volume.database(), VFS).expect("create");
    let mut expected = Expected {
        reference: MemoryState::new(),
        journal: Vec::new(),
    };
    for cycle in 0..rng.random_range(1..=3) {
        let context = format!("seed {seed}, cycle {cycle}");
        let fault = random_fault(&mut rng);
        volume.arm(fault, rng.random());
        let fired_before = volume.fired();
        let mut in_doubt = None;
        for _ in 0..rng.random_range(1..=40) {
            let changes = random_batch(&mut rng, expected.reference.rows());
            let written = apply_to_sqlite(&mut store, &changes);
            // After a fault the connection owes no more than safety: any
            // later failure of this cycle may be the fault's doing too.
            let faulted = volume.fired() > fired_before;
            match written {
                Ok(()) => {
                    let rows = volume.quiet(|| latest_entries(&store, changes.len()));
                    expected.take(&changes, rows, &context);
                    tally.committed += 1;
                }
                Err(error) => {
                    let mut reference = expected.reference.clone();
                    // A refused batch has no entry times; the comparison ignores them.
                    let no_times = HashMap::new();
                    match apply_to_reference(
                        &mut reference,
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
                        Ok(()) => {
                            assert!(faulted, "{context}: failed with no fault injected: {error}");
                            in_doubt = Some(changes);
                            break;
                        }
                    }
                }
            }
        }
        tally.faults += volume.fired() - fired_before;
        for (total, count) in tally.operations.iter_mut().zip(volume.operations()) {
            *total += count;
        }
        tally.crashes += 1;
        let crash = *Crash::ALL.choose(&mut rng).expect("crashes");
        // Sometimes the store is closed first (SQLite checkpoints the WAL into
        // the database as it closes, faults still armed), then the power is cut.
        let survivor = if rng.random_bool(0.25) {
            drop(store);
            volume.crash(crash, &mut rng)
        } else {
            let survivor = volume.crash(crash, &mut rng);
            drop(store);
            survivor
        };
        volume = survivor;
        store = SqliteStore::open_in_vfs(&volume.database(), VFS)
            .unwrap_or_else(|e| panic!("{context}: cannot reopen after a {crash:?} crash: {e}"));
        hold_to(
            &store,
            &mut expected,
            in_doubt,
            tally,
            &format!("{context}, {crash:?} crash"),
        );
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
}
