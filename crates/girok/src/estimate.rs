//! `girok estimate`: Multiple Systems Estimation of how many victims no
//! documenting organisation recorded.
//!
//! Lists are the documenting organisations of the sources; an individual is
//! a resolved victim of an act that passes the filter; a victim is on a list
//! when a source of that organisation attests one of those acts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Result, bail};
use girok_stats::decomposable::{self, DecomposableError};
use girok_stats::{CaptureError, CaptureTable, lcmcr, loglinear};
use girok_store::{SqliteStore, Store};
use girok_tabulate::{Audience, Dimension, Facts, Filter};

use crate::cli::EstimateArgs;
use crate::linking;

/// What was asked of `girok estimate`.
#[derive(Debug, Clone)]
pub struct Request {
    pub conditions: Vec<String>,
    /// Estimate separately for each value of this dimension.
    pub strata: Option<Dimension>,
    /// Organisations to use as lists (default: all).
    pub lists: Vec<String>,
    pub lcmcr: lcmcr::Settings,
    pub chains: usize,
    pub delta: Option<f64>,
    /// Resolve persons with `girok link`'s unreviewed proposals too.
    pub with_proposals: bool,
    /// Only acts whose sources' consent allows this audience count.
    pub audience: Audience,
}

impl Request {
    pub fn new(args: EstimateArgs, audience: Audience) -> Request {
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
            with_proposals: args.with_proposals,
            audience,
        }
    }
}

/// The estimates for one stratum (or for everyone).
pub struct Stratum {
    /// Stratum key and labels; `None` for the whole population.
    pub key: Option<(String, String, String)>,
    pub victims: usize,
    /// Victims attested only by sources without a documenting organisation.
    pub unlisted: usize,
    pub table: Result<CaptureTable, CaptureError>,
    pub lcmcr: Option<lcmcr::Estimate>,
    pub decomposable: Option<Result<decomposable::Posterior, DecomposableError>>,
    pub loglinear: Vec<loglinear::Fit>,
    pub warnings: Vec<String>,
}

pub struct Estimates {
    pub filter: Option<String>,
    pub strata_by: Option<Dimension>,
    pub lists: Vec<String>,
    pub strata: Vec<Stratum>,
    pub request: Request,
    /// Warnings about the whole estimate (stale linkage proposals).
    pub warnings: Vec<String>,
}

/// The name of the list of sources that record no organisation.
const NO_ORGANISATION: &str = "(no organisation recorded)";

pub fn compute(store: &SqliteStore, data: &Path, request: &Request) -> Result<Estimates> {
    let vocabularies = store.vocabularies();
    let mut filter = Filter::default();
    for condition in &request.conditions {
        filter.add(condition, vocabularies)?;
    }
    let (resolved, stale) = linking::resolution(store, data, request.with_proposals)?;
    let mut facts = Facts::load(store, resolved)?;
    let left_out = facts.restrict_to(request.audience);
    // Per victim: stratum keys (of the earliest act) and organisations.
    struct Victim {
        earliest: Option<chrono::NaiveDate>,
        stratum: String,
        organisations: BTreeSet<String>,
    }
    let mut victims: BTreeMap<&str, Victim> = BTreeMap::new();
    for fact in facts
        .acts
        .iter()
        .filter(|f| filter.matches(f, vocabularies))
    {
        let start = fact.date.start();
        let stratum = request
            .strata
            .map(|d| d.values(fact, vocabularies).join("+"))
            .unwrap_or_default();
        let victim = victims.entry(fact.victim.as_str()).or_insert(Victim {
            earliest: start,
            stratum: stratum.clone(),
            organisations: BTreeSet::new(),
        });
        // A victim belongs to the stratum of their earliest dated act.
        if start.is_some() && (victim.earliest.is_none() || start < victim.earliest) {
            victim.earliest = start;
            victim.stratum = stratum;
        }
        victim
            .organisations
            .extend(fact.organisations.iter().cloned());
        if fact.organisations.is_empty() && fact.corroboration > 0 {
            victim.organisations.insert(NO_ORGANISATION.to_string());
        }
    }
    let mut sizes: BTreeMap<&str, usize> = BTreeMap::new();
    for victim in victims.values() {
        for organisation in &victim.organisations {
            *sizes.entry(organisation).or_default() += 1;
        }
    }
    let lists: Vec<String> = if request.lists.is_empty() {
        let mut all: Vec<(&str, usize)> = sizes
            .iter()
            .filter(|(name, _)| **name != NO_ORGANISATION)
            .map(|(name, size)| (*name, *size))
            .collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        all.into_iter().map(|(name, _)| name.to_string()).collect()
    } else {
        for name in &request.lists {
            if !sizes.contains_key(name.as_str()) {
                let known: Vec<&str> = sizes.keys().copied().collect();
                bail!(
                    "no source of organisation '{name}' attests a victim here; the organisations are: {}",
                    known.join(", ")
                );
            }
        }
        request.lists.clone()
    };
    let mut groups: BTreeMap<Option<String>, Vec<&Victim>> = BTreeMap::new();
    for victim in victims.values() {
        groups.entry(None).or_default().push(victim);
        if request.strata.is_some() {
            groups
                .entry(Some(victim.stratum.clone()))
                .or_default()
                .push(victim);
        }
    }
    if groups.is_empty() {
        groups.insert(None, Vec::new());
    }
    let strata = groups
        .into_iter()
        .map(|(key, members)| {
            let labels = key.map(|key| {
                let (en, ko) = request
                    .strata
                    .map(|d| d.label(&key, vocabularies))
                    .unwrap_or_default();
                (key, en, ko)
            });
            let unlisted = members
                .iter()
                .filter(|v| !v.organisations.iter().any(|o| lists.contains(o)))
                .count();
            let table = CaptureTable::from_individuals(
                lists.clone(),
                members.iter().map(|v| {
                    lists
                        .iter()
                        .enumerate()
                        .filter(|(_, name)| v.organisations.contains(*name))
                        .map(|(j, _)| j)
                        .collect::<Vec<_>>()
                }),
            );
            estimate_stratum(labels, members.len(), unlisted, table, request)
        })
        .collect();
    Ok(Estimates {
        filter: filter.describe(),
        strata_by: request.strata,
        lists,
        strata,
        request: request.clone(),
        warnings: stale
            .into_iter()
            .chain((left_out > 0).then(|| {
                format!("{left_out} acts are left out: no attesting source's consent allows this audience")
            }))
            .collect(),
    })
}

/// Estimates from a capture-pattern file (`pattern<TAB>count` lines)
/// instead of the database.
pub fn from_table(text: &str, request: &Request) -> Result<Estimates, CaptureError> {
    let table = CaptureTable::parse(text)?;
    let observed = table.observed() as usize;
    Ok(Estimates {
        filter: None,
        strata_by: None,
        lists: table.names.clone(),
        strata: vec![estimate_stratum(None, observed, 0, table, request)],
        request: request.clone(),
        warnings: Vec::new(),
    })
}

fn estimate_stratum(
    key: Option<(String, String, String)>,
    victims: usize,
    unlisted: usize,
    table: CaptureTable,
    request: &Request,
) -> Stratum {
    let table = table.validate().map(|()| table);
    let mut stratum = Stratum {
        key,
        victims,
        unlisted,
        table,
        lcmcr: None,
        decomposable: None,
        loglinear: Vec::new(),
        warnings: Vec::new(),
    };
    let Ok(table) = &stratum.table else {
        return stratum;
    };
    let lcmcr = lcmcr::run(table, &request.lcmcr, request.chains).ok();
    let decomposable = (table.lists <= decomposable::MAX_LISTS).then(|| {
        decomposable::average(
            table,
            &decomposable::Settings {
                delta: request.delta,
                ..Default::default()
            },
        )
    });
    stratum.loglinear = loglinear::select(table);
    stratum.warnings = warnings(table, lcmcr.as_ref(), decomposable.as_ref());
    stratum.lcmcr = lcmcr;
    stratum.decomposable = decomposable;
    stratum
}

/// What a reader must know before using the numbers.
fn warnings(
    table: &CaptureTable,
    lcmcr: Option<&lcmcr::Estimate>,
    decomposable: Option<&Result<decomposable::Posterior, DecomposableError>>,
) -> Vec<String> {
    let mut warnings = Vec::new();
    if table.observed() < 100 {
        warnings.push(format!(
            "only {} individuals are observed: intervals are wide and depend on the priors",
            table.observed()
        ));
    }
    for a in 0..table.lists {
        for b in a + 1..table.lists {
            let overlap: u64 = table
                .cells
                .iter()
                .filter(|(p, _)| table.on_list(*p, a) && table.on_list(*p, b))
                .map(|(_, c)| c)
                .sum();
            if overlap == 0 {
                warnings.push(format!(
                    "'{}' and '{}' share no one: how they depend on each other is a guess of the model",
                    table.names[a], table.names[b]
                ));
            }
        }
    }
    if let Some(estimate) = lcmcr
        && !estimate.converged()
    {
        warnings.push(format!(
            "the latent-class chains have not converged (R-hat {:.3}, effective draws {:.0}; \
             needed R-hat ≤ 1.05 and ≥ 400): do not use this estimate; run longer with --samples",
            estimate.rhat, estimate.ess
        ));
    }
    match decomposable {
        Some(Ok(posterior)) if posterior.truncated => warnings.push(format!(
            "the model-averaged posterior does not fall off by N = {}: the data do not bound the upper tail",
            posterior.observed + posterior.missing.len() as u64
        )),
        Some(Err(error)) => warnings.push(format!("model averaging: {error}")),
        _ => {}
    }
    if let (Some(estimate), Some(Ok(posterior))) = (lcmcr, decomposable) {
        let (a, b) = (
            estimate.pooled.quantile(0.5),
            posterior.quantile(0.5) as f64,
        );
        if (a - b).abs() > 0.25 * a.min(b) {
            warnings.push(format!(
                "the latent-class ({a:.0}) and model-averaged ({b:.0}) medians differ by more than 25%: \
                 the estimate depends on the model; report both and the reasons to prefer one"
            ));
        }
    }
    warnings
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

pub fn cliques_text(table: &CaptureTable, cliques: &[Vec<usize>]) -> String {
    cliques
        .iter()
        .map(|clique| {
            let names: Vec<&str> = clique.iter().map(|&j| table.names[j].as_str()).collect();
            format!("[{}]", names.join(" × "))
        })
        .collect()
}

pub fn interactions_text(table: &CaptureTable, interactions: &[(usize, usize)]) -> String {
    if interactions.is_empty() {
        return "independence".to_string();
    }
    let pairs: Vec<String> = interactions
        .iter()
        .map(|&(a, b)| format!("{} × {}", table.names[a], table.names[b]))
        .collect();
    pairs.join(", ")
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
                "warnings": stratum.warnings,
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
                    "chain_medians": e.chains.iter().map(|c| lcmcr::Posterior { population: c.clone() }.quantile(0.5)).collect::<Vec<_>>(),
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
        "warnings": estimates.warnings,
        "strata": strata,
    })
}
