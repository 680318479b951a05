//! On simulated populations of known size, the 95% intervals cover the
//! truth at about the nominal rate.

use girok_stats::CaptureTable;
use girok_stats::decomposable::{self, Settings as AveragingSettings};
use girok_stats::lcmcr::{self, Settings};

#[test]
fn model_averaging_intervals_cover_a_homogeneous_population() {
    let truth = 2_000;
    let replicates = 40;
    let covered = (0..replicates)
        .filter(|&seed| {
            let table = CaptureTable::simulate(seed, truth, &[(1.0, vec![0.3, 0.25, 0.2, 0.35])]);
            let posterior =
                decomposable::average(&table, &AveragingSettings::default()).expect("estimate");
            (posterior.quantile(0.025)..=posterior.quantile(0.975)).contains(&truth)
        })
        .count();
    // Nominal 38 of 40; 34 or fewer would happen by chance less than 1% of the time.
    assert!(covered >= 35, "covered {covered} of {replicates}");
}

/// LCMCR's home ground: heterogeneous capture, five lists. (With four
/// lists and 2,000 people the posterior sits below the truth more often
/// than nominal; with 20,000 it centres on it: the priors weigh more when
/// lists are few and small.)
#[test]
fn latent_class_intervals_cover_a_heterogeneous_population() {
    let truth = 5_000;
    let replicates = 20;
    let classes = [
        (0.5, vec![0.5, 0.4, 0.45, 0.5, 0.4]),
        (0.5, vec![0.2, 0.25, 0.2, 0.15, 0.2]),
    ];
    let settings = Settings {
        burn_in: 5_000,
        samples: 2_000,
        thin: 5,
        ..Settings::default()
    };
    let mut covered = 0;
    for seed in 0..replicates {
        let table = CaptureTable::simulate(100 + seed, truth, &classes);
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
