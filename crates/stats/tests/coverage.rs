//! On simulated populations of known size, the 95% intervals cover the
//! truth at about the nominal rate.

use girok_stats::CaptureTable;
use girok_stats::decomposable::{self, Settings as AveragingSettings};
use girok_stats::lcmcr::{self, Settings};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A population of `size` in latent classes (weight, capture probability
/// per list), captured independently given the class.
fn simulate<const LISTS: usize>(
    seed: u64,
    size: usize,
    classes: &[(f64, [f64; LISTS])],
) -> CaptureTable {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let names = (1..=LISTS).map(|j| format!("list {j}")).collect();
    let individuals: Vec<Vec<usize>> = (0..size)
        .map(|_| {
            let mut pick = rng.random_range(0.0..1.0);
            let (_, capture) = classes
                .iter()
                .find(|(weight, _)| {
                    pick -= weight;
                    pick < 0.0
                })
                .unwrap_or(&classes[classes.len() - 1]);
            (0..LISTS)
                .filter(|&j| rng.random_range(0.0..1.0) < capture[j])
                .collect()
        })
        .collect();
    CaptureTable::from_individuals(names, individuals)
}

#[test]
fn model_averaging_intervals_cover_a_homogeneous_population() {
    let truth = 2_000;
    let replicates = 40;
    let covered = (0..replicates)
        .filter(|&seed| {
            let table = simulate(seed, truth, &[(1.0, [0.3, 0.25, 0.2, 0.35])]);
            let posterior =
                decomposable::average(&table, &AveragingSettings::default()).expect("estimate");
            (posterior.quantile(0.025)..=posterior.quantile(0.975)).contains(&(truth as u64))
        })
        .count();
    // Nominal 38 of 40; 34 or fewer would happen by chance less than 1% of the time.
    assert!(covered >= 35, "covered {covered} of {replicates}");
}

/// LCMCR's home ground: heterogeneous capture, five lists. (With four
/// lists and 2,000 people the posterior is pulled low and covers the truth
/// in only about 15 of 20 populations; at 20,000 it centres on the truth.)
#[test]
fn latent_class_intervals_cover_a_heterogeneous_population() {
    let truth = 5_000;
    let replicates = 20;
    let classes = [
        (0.5, [0.5, 0.4, 0.45, 0.5, 0.4]),
        (0.5, [0.2, 0.25, 0.2, 0.15, 0.2]),
    ];
    let settings = Settings {
        burn_in: 5_000,
        samples: 2_000,
        thin: 5,
        ..Settings::default()
    };
    let mut covered = 0;
    for seed in 0..replicates {
        let table = simulate(100 + seed, truth, &classes);
        let estimate = lcmcr::run(&table, &Settings { seed, ..settings }, 2).expect("estimate");
        let (low, high) = (
            estimate.pooled.quantile(0.025),
            estimate.pooled.quantile(0.975),
        );
        if (low..=high).contains(&(truth as f64)) {
            covered += 1;
        }
    }
    // Nominal 19 of 20; 15 or fewer would happen by chance less than 2% of the time.
    assert!(covered >= 16, "covered {covered} of {replicates}");
}
