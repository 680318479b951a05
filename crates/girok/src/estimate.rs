//! `girok estimate`: prints what `girok-estimate` computed, as text or JSON.

use girok_estimate::{Estimates, Request, cliques_text, interactions_text};
use girok_stats::{CaptureTable, decomposable, lcmcr, loglinear};

use crate::cli::EstimateArgs;

/// The request an invocation's options describe.
pub fn request(args: EstimateArgs, audience: girok_tabulate::Audience) -> Request {
    Request {
        conditions: args.conditions,
        strata: args.strata,
        lists: args.lists,
        lcmcr: lcmcr::Settings {
            classes: args.classes,
            samples: args.samples,
            burn_in: args.burn_in,
            thin: args.thin,
            seed: args.seed,
            ..Default::default()
        },
        chains: args.chains,
        delta: args.delta,
        with_proposals: args.with_proposals || args.linkage_draws.is_some(),
        audience,
        linkage_draws: args.linkage_draws.map(usize::from),
    }
}

fn pattern_text(table: &CaptureTable, pattern: u32) -> String {
    (0..table.lists)
        .map(|j| if table.on_list(pattern, j) { '1' } else { '0' })
        .collect()
}

fn interval(low: f64, median: f64, high: f64) -> String {
    format!("{median:.0} (95% interval {low:.0} to {high:.0})")
}

pub fn print_text(estimates: &Estimates) {
    let request = &estimates.request;
    println!(
        "Multiple Systems Estimation of victims{}",
        estimates
            .filter
            .as_ref()
            .map(|f| format!(" of acts where {f}"))
            .unwrap_or_default()
    );
    println!(
        "Lists (documenting organisations): {}",
        estimates.lists.join(", ")
    );
    println!(
        "Victims resolved by {}",
        if request.with_proposals {
            "reviewers' decisions and the unreviewed proposals of `girok link`"
        } else {
            "reviewers' decisions only (records never reviewed count as different persons; \
             --with-proposals uses `girok link`'s proposals)"
        }
    );
    for warning in &estimates.warnings {
        println!("WARNING: {warning}");
    }
    for stratum in &estimates.strata {
        println!();
        match (&stratum.key, estimates.strata_by) {
            (Some((key, en, ko)), Some(by)) => println!("== {by} = {key}: {en} / {ko} =="),
            _ => println!("== All victims =="),
        }
        println!(
            "{} victims; {} of them on none of the lists (attested only by sources without a listed organisation)",
            stratum.victims, stratum.unlisted
        );
        let table = match &stratum.table {
            Ok(table) => table,
            Err(error) => {
                println!("No estimate: {error}");
                continue;
            }
        };
        println!(
            "Capture patterns ({} = on the list):",
            table.names.join(" | ")
        );
        for (pattern, count) in &table.cells {
            println!("  {}  {count:>8}", pattern_text(table, *pattern));
        }
        println!("  observed {:>8}", table.observed());
        if let Some(estimate) = &stratum.lcmcr {
            let p = &estimate.pooled;
            println!(
                "Latent-class model (LCMCR; K = {}, {} chains × {} draws): {}; R-hat {:.3}, effective draws {:.0}",
                request.lcmcr.classes,
                estimate.chains.len(),
                request.lcmcr.samples,
                interval(p.quantile(0.025), p.quantile(0.5), p.quantile(0.975)),
                estimate.rhat,
                estimate.ess
            );
            if let Some(integrated) = &stratum.integrated {
                let p = &integrated.pooled;
                println!(
                    "  with linkage uncertainty ({} clusterings drawn from the linkage model, {} distinct; \
                     {} to {} victims observed): {}; {:.0}% of the spread from who is the same person",
                    integrated.draws,
                    integrated.distinct,
                    integrated.observed.0,
                    integrated.observed.1,
                    interval(p.quantile(0.025), p.quantile(0.5), p.quantile(0.975)),
                    100.0 * integrated.between
                );
                println!(
                    "  (experimental, not for publication: on 200 generated populations of known size this \
                     interval held the true number in 4% of them, not 95%: it sits too high, its \
                     clusterings splitting persons; see the README's benchmark)"
                );
                println!(
                    "  with the proposals taken as confirmed:  {}",
                    interval(
                        estimate.pooled.quantile(0.025),
                        estimate.pooled.quantile(0.5),
                        estimate.pooled.quantile(0.975)
                    )
                );
            }
        }
        match &stratum.decomposable {
            Some(Ok(posterior)) => {
                println!(
                    "Decomposable graphical models, averaged (δ = {}, {} models): {}",
                    posterior.delta,
                    posterior.models.len(),
                    interval(
                        posterior.quantile(0.025) as f64,
                        posterior.quantile(0.5) as f64,
                        posterior.quantile(0.975) as f64
                    )
                );
                for model in posterior.models.iter().take(3) {
                    println!(
                        "  weight {:.3}  {}  median {}",
                        model.weight,
                        cliques_text(table, &model.cliques),
                        model.median
                    );
                }
            }
            Some(Err(error)) => println!("Decomposable model averaging: {error}"),
            None => println!(
                "Decomposable model averaging: not run for more than {} lists",
                decomposable::MAX_LISTS
            ),
        }
        if let Some(independence) = stratum.loglinear.iter().find(|f| f.interactions.is_empty()) {
            println!(
                "Log-linear, independence: {:.1} (deviance {:.1}, AIC {:.1}, BIC {:.1})",
                independence.population, independence.deviance, independence.aic, independence.bic
            );
        }
        if let Some(best) = stratum.loglinear.first() {
            println!(
                "Log-linear, best by BIC: {} → {:.1} (deviance {:.1}, AIC {:.1}, BIC {:.1})",
                interactions_text(table, &best.interactions),
                best.population,
                best.deviance,
                best.aic,
                best.bic
            );
        }
        for warning in &stratum.warnings {
            println!("WARNING: {warning}");
        }
    }
}

/// The JSON output speaks English, as the rest of the command line does.
fn english(warnings: &[girok_model::Wording]) -> Vec<&str> {
    warnings.iter().map(|warning| warning.english()).collect()
}

pub fn to_json(estimates: &Estimates) -> serde_json::Value {
    let strata: Vec<serde_json::Value> = estimates
        .strata
        .iter()
        .map(|stratum| {
            let mut value = serde_json::json!({
                "stratum": stratum.key.as_ref().map(|(key, en, ko)| serde_json::json!({"key": key, "en": en, "ko": ko})),
                "victims": stratum.victims,
                "unlisted": stratum.unlisted,
                "warnings": english(&stratum.warnings),
            });
            match &stratum.table {
                Err(error) => value["error"] = error.to_string().into(),
                Ok(table) => {
                    value["capture_patterns"] = table
                        .cells
                        .iter()
                        .map(|(p, c)| serde_json::json!({"pattern": pattern_text(table, *p), "count": c}))
                        .collect();
                    value["observed"] = table.observed().into();
                }
            }
            if let Some(e) = &stratum.lcmcr {
                let p = &e.pooled;
                value["lcmcr"] = serde_json::json!({
                    "median": p.quantile(0.5), "low": p.quantile(0.025), "high": p.quantile(0.975),
                    "rhat": e.rhat, "ess": e.ess, "chains": e.chains.len(), "converged": e.converged(),
                    "drift": e.drift, "bound": e.bound,
                    "chain_medians": e.chains.iter().map(|c| lcmcr::Posterior { population: c.clone() }.quantile(0.5)).collect::<Vec<_>>(),
                });
            }
            if let Some(i) = &stratum.integrated {
                let p = &i.pooled;
                value["lcmcr_linkage_uncertain"] = serde_json::json!({
                    "median": p.quantile(0.5), "low": p.quantile(0.025), "high": p.quantile(0.975),
                    "clusterings": i.draws, "distinct": i.distinct,
                    "observed_min": i.observed.0, "observed_max": i.observed.1,
                    "between_share": i.between, "drifting": i.drifting,
                    "clustering_medians": i.medians,
                });
            }
            if let (Some(Ok(posterior)), Ok(table)) = (&stratum.decomposable, &stratum.table) {
                value["decomposable"] = serde_json::json!({
                    "median": posterior.quantile(0.5), "low": posterior.quantile(0.025),
                    "high": posterior.quantile(0.975), "delta": posterior.delta,
                    "models": posterior.models.iter().take(10).map(|m| serde_json::json!({
                        "cliques": cliques_text(table, &m.cliques), "weight": m.weight, "median": m.median,
                    })).collect::<Vec<_>>(),
                });
            }
            if let Ok(table) = &stratum.table {
                let fit_json = |f: &loglinear::Fit| serde_json::json!({
                    "interactions": interactions_text(table, &f.interactions),
                    "population": f.population, "deviance": f.deviance, "aic": f.aic, "bic": f.bic,
                });
                value["loglinear"] = stratum.loglinear.iter().take(10).map(fit_json).collect();
                if let Some(independence) =
                    stratum.loglinear.iter().find(|f| f.interactions.is_empty())
                {
                    value["independence"] = fit_json(independence);
                }
            }
            value
        })
        .collect();
    serde_json::json!({
        "filter": estimates.filter,
        "strata_by": estimates.strata_by.map(|d| d.name()),
        "lists": estimates.lists,
        "seed": estimates.request.lcmcr.seed,
        "with_proposals": estimates.request.with_proposals,
        "linkage_draws": estimates.request.linkage_draws,
        "warnings": english(&estimates.warnings),
        "strata": strata,
    })
}
