//! Every backend's store is held to the reference state of `girok-state`:
//! random sequences of batches of changes, valid and invalid, applied to
//! both, give identical state and identical refusals, batch by batch.

use girok_state::MemoryState;
use girok_store::{Database, Store};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

mod support {
    pub mod changes;
    pub mod cluster;
}
use support::changes::{
    apply_to_reference, apply_to_store, assert_same_state, latest_entries, random_batch, times_of,
    without_times,
};

fn run(mut store: Database, seed: u64, batches: usize) -> (usize, usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut reference = MemoryState::new();
    let (mut accepted, mut refused) = (0, 0);
    for batch in 0..batches {
        let changes = random_batch(&mut rng, reference.rows());
        let (head, _) = store.head().expect("head");
        let in_store = apply_to_store(&mut rng, &mut store, &changes);
        let times = times_of(&latest_entries(&store, changes.len()));
        let in_reference = apply_to_reference(&reference, &changes, head + 1, &times);
        // A refused batch's entry times were never committed, so neither side
        // can be held to the other's; everything else in a refusal must match.
        assert_eq!(
            in_store.as_ref().err().map(|e| without_times(e)),
            in_reference.as_ref().err().map(|e| without_times(e)),
            "seed {seed}, batch {batch}: {changes:#?}"
        );
        if let Ok(after) = in_reference {
            reference = after;
        }
        match in_store {
            Ok(()) => accepted += 1,
            Err(_) => refused += 1,
        }
        assert_same_state(
            &store,
            &reference,
            &format!("seed {seed}, batch {batch}: {changes:#?}"),
        );
    }
    let report = store.check(&mut |_, _| {}).expect("check");
    assert!(report.is_clean(), "seed {seed}: {report:?}");
    (accepted, refused)
}

#[test]
fn sqlite_and_the_reference_state_agree_on_every_change_and_every_refusal() {
    let (mut accepted, mut refused) = (0, 0);
    for seed in 0..60 {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Database::create(&dir.path().join("girok.sqlite")).expect("create");
        let (a, r) = run(store, seed, 60);
        accepted += a;
        refused += r;
    }
    // Both kinds of outcome must be common, or the test proves little.
    assert!(accepted > 250, "only {accepted} batches were accepted");
    assert!(refused > 1_000, "only {refused} batches were refused");
}

#[test]
fn postgres_and_the_reference_state_agree_on_every_change_and_every_refusal() {
    let cluster = support::cluster::Cluster::start();
    let (mut accepted, mut refused) = (0, 0);
    for seed in 0..12 {
        let store = Database::create_postgres(&cluster.new_database()).expect("create");
        let (a, r) = run(store, seed, 60);
        accepted += a;
        refused += r;
    }
    assert!(accepted > 50, "only {accepted} batches were accepted");
    assert!(refused > 200, "only {refused} batches were refused");
}
