//! Convergence diagnostics for several Markov chains of one quantity:
//! the split potential scale reduction R̂ (Gelman et al., BDA3 §11.4) and
//! the effective sample size with Geyer's initial monotone sequence, and the
//! drift of a chain from its first to its last tenth.

/// Split R̂: each chain is cut in two halves and the between-half variance
/// compared with the within-half variance. Near 1 when the chains agree;
/// above 1.01–1.05 they have not mixed.
pub fn split_rhat(chains: &[Vec<f64>]) -> f64 {
    let halves: Vec<&[f64]> = chains
        .iter()
        .flat_map(|chain| {
            let half = chain.len() / 2;
            [&chain[..half], &chain[chain.len() - half..]]
        })
        .filter(|half| half.len() >= 2)
        .collect();
    let Some(n) = halves.iter().map(|h| h.len()).min() else {
        return f64::NAN;
    };
    if halves.len() < 2 {
        return f64::NAN;
    }
    let n = n as f64;
    let means: Vec<f64> = halves.iter().map(|h| mean(h)).collect();
    let grand = mean(&means);
    let between =
        n / (means.len() as f64 - 1.0) * means.iter().map(|m| (m - grand).powi(2)).sum::<f64>();
    let within = halves
        .iter()
        .zip(&means)
        .map(|(h, m)| variance(h, *m))
        .sum::<f64>()
        / halves.len() as f64;
    if within <= 0.0 {
        return if between <= 0.0 { 1.0 } else { f64::INFINITY };
    }
    let pooled = (n - 1.0) / n * within + between / n;
    (pooled / within).sqrt()
}

/// Effective sample size summed over chains: draws divided by the
/// integrated autocorrelation time, truncated where Geyer's pair sums stop
/// being positive and decreasing.
pub fn effective_sample_size(chains: &[Vec<f64>]) -> f64 {
    chains.iter().map(|chain| chain_ess(chain)).sum()
}

/// How many standard errors the mean of a chain's first tenth lies from
/// the mean of its last tenth (Geweke's z, each tenth's standard error from
/// its effective sample size). A chain that has forgotten its start drifts
/// by about N(0, 1); far beyond 3, its first draws still carry the start.
/// NaN when a tenth holds fewer than 4 draws.
pub fn drift(chain: &[f64]) -> f64 {
    let tenth = chain.len() / 10;
    if tenth < 4 {
        return f64::NAN;
    }
    let (first, last) = (&chain[..tenth], &chain[chain.len() - tenth..]);
    let squared_error = |part: &[f64]| variance(part, mean(part)) / chain_ess(part);
    let difference = mean(first) - mean(last);
    let error = (squared_error(first) + squared_error(last)).sqrt();
    if error > 0.0 {
        difference / error
    } else if difference == 0.0 {
        0.0
    } else {
        difference.signum() * f64::INFINITY
    }
}

fn chain_ess(chain: &[f64]) -> f64 {
    let n = chain.len();
    if n < 4 {
        return n as f64;
    }
    let m = mean(chain);
    let centred: Vec<f64> = chain.iter().map(|x| x - m).collect();
    let variance0 = centred.iter().map(|x| x * x).sum::<f64>() / n as f64;
    if variance0 <= 0.0 {
        return n as f64;
    }
    let autocorrelation = |lag: usize| -> f64 {
        centred[..n - lag]
            .iter()
            .zip(&centred[lag..])
            .map(|(a, b)| a * b)
            .sum::<f64>()
            / n as f64
            / variance0
    };
    let mut tau = -1.0;
    let mut previous_pair = f64::INFINITY;
    let mut lag = 0;
    while lag + 1 < n {
        let pair = autocorrelation(lag) + autocorrelation(lag + 1);
        if pair <= 0.0 {
            break;
        }
        let pair = pair.min(previous_pair);
        tau += 2.0 * pair;
        previous_pair = pair;
        lag += 2;
    }
    n as f64 / tau.max(1.0 / n as f64)
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn variance(values: &[f64], mean: f64) -> f64 {
    values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() as f64 - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn autoregressive(seed: u64, phi: f64, shift: f64, n: usize) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = 0.0;
        (0..n)
            .map(|_| {
                x = phi * x + rng.random_range(-1.0..1.0);
                x + shift
            })
            .collect()
    }

    #[test]
    fn independent_draws_have_full_ess_and_rhat_one() {
        let chains: Vec<Vec<f64>> = (0..4).map(|s| autoregressive(s, 0.0, 0.0, 4_000)).collect();
        let ess = effective_sample_size(&chains);
        assert!((13_000.0..=19_000.0).contains(&ess), "ess {ess}");
        assert!((split_rhat(&chains) - 1.0).abs() < 0.01);
    }

    #[test]
    fn autocorrelated_draws_count_for_less() {
        // AR(1) with φ = 0.9: integrated autocorrelation time (1+φ)/(1−φ) = 19.
        let chains: Vec<Vec<f64>> = (0..4)
            .map(|s| autoregressive(s, 0.9, 0.0, 20_000))
            .collect();
        let ess = effective_sample_size(&chains);
        let expected = 80_000.0 / 19.0;
        assert!(
            (ess / expected - 1.0).abs() < 0.25,
            "ess {ess}, expected {expected}"
        );
    }

    #[test]
    fn a_chain_that_forgot_its_start_does_not_drift() {
        let drifts: Vec<f64> = (0..20)
            .map(|s| drift(&autoregressive(s, 0.9, 0.0, 5_000)))
            .collect();
        assert!(drifts.iter().all(|z| z.abs() < 3.5), "{drifts:?}");
    }

    #[test]
    fn a_chain_still_held_by_its_start_drifts() {
        // The first 400 draws sit 3 below the level the chain then keeps.
        let chain: Vec<f64> = autoregressive(1, 0.9, 0.0, 5_000)
            .iter()
            .enumerate()
            .map(|(i, x)| if i < 400 { x - 3.0 } else { *x })
            .collect();
        let z = drift(&chain);
        assert!(z < -3.0, "drift {z}");
    }

    #[test]
    fn chains_stuck_in_different_places_have_a_large_rhat() {
        let chains = vec![
            autoregressive(1, 0.5, 0.0, 2_000),
            autoregressive(2, 0.5, 3.0, 2_000),
        ];
        assert!(split_rhat(&chains) > 1.5);
    }
}
