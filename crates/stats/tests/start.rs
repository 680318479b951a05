//! The chains' start does not bias the estimate: at `girok estimate`'s
//! defaults (4 chains of 5,000 draws kept every 20 sweeps after 10,000
//! burn-in sweeps), the Kosovo posterior is R's LCMCR long-run posterior
//! (2.5% quantile 9,001, median 10,418). A start far from the posterior
//! (classes at random inclusion probabilities, α = 1) left a transient in
//! the kept draws and put the 2.5% quantile 500-1,500 too low.

use girok_stats::CaptureTable;
use girok_stats::lcmcr::{self, Settings};

fn kosovo() -> CaptureTable {
    CaptureTable::parse(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/kosovo-1999.tsv"
    )))
    .expect("kosovo table")
}

#[test]
fn the_start_does_not_bias_the_kosovo_estimate_at_the_command_defaults() {
    for seed in 1..=3 {
        let settings = Settings {
            samples: 5_000,
            burn_in: 10_000,
            thin: 20,
            seed,
            ..Settings::default()
        };
        let estimate = lcmcr::run(&kosovo(), &settings, 4).expect("samples");
        let low = estimate.pooled.quantile(0.025);
        let median = estimate.pooled.quantile(0.5);
        assert!(
            (8_850.0..=9_300.0).contains(&low),
            "seed {seed}: 2.5% {low}"
        );
        assert!(
            (10_250.0..=10_650.0).contains(&median),
            "seed {seed}: median {median}"
        );
        assert!(
            estimate.drifting_chains().is_empty(),
            "seed {seed}: drift {:?}",
            estimate.drift
        );
    }
}
