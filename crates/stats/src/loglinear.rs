//! Classical Poisson log-linear models of the capture table (Fienberg 1972):
//! log E[count of pattern x] = β0 + Σ βj xj + Σ βjk xj xk over the observed
//! patterns; the unobserved cell is estimated as exp(β0).

use crate::capture::CaptureTable;

/// A fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// Two-way interactions in the model, as list pairs.
    pub interactions: Vec<(usize, usize)>,
    /// Estimated individuals on no list.
    pub unobserved: f64,
    /// Estimated population: observed plus unobserved.
    pub population: f64,
    pub deviance: f64,
    pub aic: f64,
    pub bic: f64,
    pub iterations: usize,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    #[error("the model did not converge in {0} iterations")]
    NoConvergence(usize),
    #[error(
        "the model cannot be estimated from this table (a list is empty, full, or collinear with others)"
    )]
    Singular,
}

const MAX_ITERATIONS: usize = 100;

/// Fits the model with main effects for every list and the given two-way
/// interactions, by iteratively reweighted least squares.
pub fn fit(table: &CaptureTable, interactions: &[(usize, usize)]) -> Result<Fit, FitError> {
    let row = |pattern: u32| -> Vec<f64> {
        let x = |j: usize| f64::from(u8::from(table.on_list(pattern, j)));
        let mut r = vec![1.0];
        r.extend((0..table.lists).map(x));
        r.extend(interactions.iter().map(|&(j, k)| x(j) * x(k)));
        r
    };
    // Every observable pattern is a cell, observed zeros included.
    let patterns: Vec<u32> = (1..(1u32 << table.lists)).collect();
    let design: Vec<Vec<f64>> = patterns.iter().map(|&p| row(p)).collect();
    let counts: Vec<f64> = patterns
        .iter()
        .map(|p| {
            table
                .cells
                .iter()
                .find(|(q, _)| q == p)
                .map_or(0.0, |(_, c)| *c as f64)
        })
        .collect();
    let parameters = design[0].len();
    let mean = counts.iter().sum::<f64>() / counts.len() as f64;
    let mut beta = vec![0.0; parameters];
    beta[0] = mean.max(0.5).ln();
    let mut iterations = 0;
    loop {
        iterations += 1;
        if iterations > MAX_ITERATIONS {
            return Err(FitError::NoConvergence(MAX_ITERATIONS));
        }
        let mu: Vec<f64> = design.iter().map(|r| dot(r, &beta).exp()).collect();
        // Newton step: (Xᵀ W X) δ = Xᵀ (y − μ), W = diag(μ).
        let mut information = vec![vec![0.0; parameters]; parameters];
        let mut score = vec![0.0; parameters];
        for ((r, &m), &y) in design.iter().zip(&mu).zip(&counts) {
            for a in 0..parameters {
                score[a] += r[a] * (y - m);
                for b in 0..parameters {
                    information[a][b] += r[a] * r[b] * m;
                }
            }
        }
        let step = solve(information, score).ok_or(FitError::Singular)?;
        beta.iter_mut().zip(&step).for_each(|(b, s)| *b += s);
        if step.iter().all(|s| s.abs() < 1e-10) {
            break;
        }
    }
    let mu: Vec<f64> = design.iter().map(|r| dot(r, &beta).exp()).collect();
    let deviance = 2.0
        * counts
            .iter()
            .zip(&mu)
            .map(|(&y, &m)| {
                if y > 0.0 {
                    y * (y / m).ln() - (y - m)
                } else {
                    m
                }
            })
            .sum::<f64>();
    let cells = counts.len() as f64;
    let unobserved = beta[0].exp();
    Ok(Fit {
        interactions: interactions.to_vec(),
        unobserved,
        population: table.observed() as f64 + unobserved,
        deviance,
        aic: deviance + 2.0 * parameters as f64,
        bic: deviance + cells.ln() * parameters as f64,
        iterations,
    })
}

/// Lists up to which every subset of two-way interactions is fitted;
/// beyond, interactions are added one at a time while BIC improves.
const EXHAUSTIVE_LISTS: usize = 5;

/// Models with main effects and chosen two-way interactions, best BIC
/// first: all subsets of interactions for up to five lists, forward
/// selection beyond. Models that cannot be estimated are left out.
pub fn select(table: &CaptureTable) -> Vec<Fit> {
    let pairs: Vec<(usize, usize)> = (0..table.lists)
        .flat_map(|a| (a + 1..table.lists).map(move |b| (a, b)))
        .collect();
    let mut fits: Vec<Fit> = if table.lists <= EXHAUSTIVE_LISTS {
        (0u32..1 << pairs.len())
            .filter_map(|subset| {
                let chosen: Vec<(usize, usize)> = pairs
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| subset >> i & 1 == 1)
                    .map(|(_, &pair)| pair)
                    .collect();
                fit(table, &chosen).ok()
            })
            .collect()
    } else {
        let mut chosen = Vec::new();
        let mut fits: Vec<Fit> = fit(table, &chosen).into_iter().collect();
        loop {
            let best_bic = fits.last().map_or(f64::INFINITY, |f| f.bic);
            let next = pairs
                .iter()
                .filter(|pair| !chosen.contains(*pair))
                .filter_map(|&pair| {
                    let mut candidate = chosen.clone();
                    candidate.push(pair);
                    fit(table, &candidate).ok()
                })
                .min_by(|a, b| a.bic.total_cmp(&b.bic));
            match next {
                Some(better) if better.bic < best_bic => {
                    chosen = better.interactions.clone();
                    fits.push(better);
                }
                _ => break,
            }
        }
        fits
    };
    fits.retain(|f| f.population.is_finite());
    fits.sort_by(|a, b| a.bic.total_cmp(&b.bic));
    fits
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Solves a small symmetric positive definite system by Gaussian elimination
/// with partial pivoting; `None` when singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for column in 0..n {
        let pivot =
            (column..n).max_by(|&i, &j| a[i][column].abs().total_cmp(&a[j][column].abs()))?;
        if a[pivot][column].abs() < 1e-12 {
            return None;
        }
        a.swap(column, pivot);
        b.swap(column, pivot);
        let (upper, lower) = a.split_at_mut(column + 1);
        let pivot_row = &upper[column];
        for (offset, row) in lower.iter_mut().enumerate() {
            let factor = row[column] / pivot_row[column];
            for (value, above) in row[column..].iter_mut().zip(&pivot_row[column..]) {
                *value -= factor * above;
            }
            b[column + 1 + offset] -= factor * b[column];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let rest: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - rest) / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::kosovo;

    #[test]
    fn the_independence_model_reproduces_the_published_kosovo_estimate() {
        let fit = fit(&kosovo(), &[]).expect("fits");
        assert!(
            (fit.population - 7_394.6).abs() <= 0.5,
            "{}",
            fit.population
        );
    }

    #[test]
    fn interactions_change_the_estimate_and_the_criteria_rank_models() {
        let independence = fit(&kosovo(), &[]).expect("fits");
        let with = fit(&kosovo(), &[(0, 1), (2, 3)]).expect("fits");
        assert!(with.deviance < independence.deviance);
        assert_ne!(with.population, independence.population);
        assert!(with.bic.is_finite() && with.aic.is_finite());
    }

    #[test]
    fn selection_fits_every_interaction_subset_and_ranks_by_bic() {
        let fits = select(&kosovo());
        // 6 pairs of 4 lists: 64 subsets; the saturated model has no
        // degrees of freedom left but the others fit.
        assert!(fits.len() >= 60, "{}", fits.len());
        assert!(fits.windows(2).all(|w| w[0].bic <= w[1].bic));
        assert!(fits.iter().any(|f| f.interactions.is_empty()));
    }
}
