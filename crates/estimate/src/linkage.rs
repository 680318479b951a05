//! The estimate with the uncertainty of who is the same person carried into
//! it: clusterings drawn from the linkage model (`girok_linkage::partitions`)
//! over the undecided proposals of `girok link`, reviewers' decisions kept
//! in every draw, an LCMCR estimate on each clustering, and the draws of N
//! pooled across clusterings with equal weight, as multiple imputation
//! pools its completed data sets (Sadinle 2018; Tancredi & Liseo 2011).

use std::collections::{BTreeSet, HashMap};

use girok_linkage::partitions::{PartitionModel, Sweeps, UncertainPair};
use girok_linkage::proposals::decode_links;
use girok_model::RecordId;
use girok_stats::{CaptureTable, lcmcr};
use girok_store::{Database, Store};

use crate::EstimateError;

/// The linkage model over the persons of undecided proposals: its units are
/// persons as reviewers resolved them.
pub struct LinkModel {
    /// Resolved person of each unit.
    units: Vec<RecordId>,
    model: PartitionModel,
}

/// A proposal's pairs that linkage did not score as links take the mean
/// probability its average left for them, within these bounds: below the
/// link threshold, and never certain either way.
const UNLINKED_PROBABILITY: (f64, f64) = (1e-3, 0.2);

fn odds_bits(p: f64) -> f64 {
    (p / (1.0 - p)).log2()
}

impl LinkModel {
    /// The model of the undecided proposals of the latest run, persons
    /// resolved by `resolved` (reviewers' merges).
    pub fn load(
        store: &Database,
        resolved: &HashMap<RecordId, RecordId>,
    ) -> Result<LinkModel, EstimateError> {
        let root = |id: &RecordId| resolved.get(id).unwrap_or(id).clone();
        let mut index: HashMap<RecordId, u32> = HashMap::new();
        let mut units: Vec<RecordId> = Vec::new();
        let mut unit_of = |id: &RecordId, units: &mut Vec<RecordId>| {
            let root = root(id);
            *index.entry(root.clone()).or_insert_with(|| {
                units.push(root);
                units.len() as u32 - 1
            })
        };
        let mut pairs = Vec::new();
        let mut sources_of: HashMap<u32, BTreeSet<String>> = HashMap::new();
        let mut priors = Vec::new();
        for proposal in store.undecided_link_proposals()? {
            let links = decode_links(&proposal.links).map_err(EstimateError::Proposals)?;
            let members: Vec<u32> = proposal
                .persons
                .iter()
                .map(|p| unit_of(&p.id, &mut units))
                .collect();
            for (person, &unit) in proposal.persons.iter().zip(&members) {
                sources_of.entry(unit).or_default().extend(
                    person
                        .sources
                        .split(';')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                );
            }
            let Some(prior) = links.first().map(|l| l.explanation.prior_weight) else {
                continue;
            };
            priors.push(prior);
            let mut linked = BTreeSet::new();
            for link in &links {
                let (a, b) = (
                    unit_of(&RecordId::new(&link.a), &mut units),
                    unit_of(&RecordId::new(&link.b), &mut units),
                );
                linked.insert((a.min(b), a.max(b)));
                pairs.push(UncertainPair {
                    a,
                    b,
                    evidence: link.explanation.weight - link.explanation.prior_weight,
                });
            }
            // The rest of the proposal's pairs: what its mean leaves for them.
            let records = proposal.persons.len();
            let all = records * (records - 1) / 2;
            let unlinked = all.saturating_sub(links.len());
            if unlinked > 0 {
                let linked_sum: f64 = links.iter().map(|l| l.explanation.probability).sum();
                let left = (proposal.probability * all as f64 - linked_sum) / unlinked as f64;
                let p = left.clamp(UNLINKED_PROBABILITY.0, UNLINKED_PROBABILITY.1);
                for (i, &a) in members.iter().enumerate() {
                    for &b in &members[i + 1..] {
                        if a != b && !linked.contains(&(a.min(b), a.max(b))) {
                            pairs.push(UncertainPair {
                                a,
                                b,
                                evidence: odds_bits(p) - prior,
                            });
                        }
                    }
                }
            }
        }
        // Kept apart: a reviewer's "different persons", and two persons one
        // source names.
        let mut cannot_link = Vec::new();
        for (a, b) in store.link_decisions()?.different {
            if let (Some(&a), Some(&b)) = (index.get(&root(&a)), index.get(&root(&b))) {
                cannot_link.push((a, b));
            }
        }
        let mut by_source: HashMap<&str, Vec<u32>> = HashMap::new();
        for (unit, sources) in &sources_of {
            for source in sources {
                by_source.entry(source).or_default().push(*unit);
            }
        }
        for named in by_source.values() {
            for (i, &a) in named.iter().enumerate() {
                cannot_link.extend(named[i + 1..].iter().map(|&b| (a, b)));
            }
        }
        let prior = priors.iter().sum::<f64>() / priors.len().max(1) as f64;
        let model = PartitionModel::new(units.len(), &pairs, &cannot_link, prior);
        Ok(LinkModel { units, model })
    }

    /// `count` clusterings: per draw, each uncertain person's cluster (named
    /// by one of its persons). Persons not in a proposal are themselves.
    pub fn draw(&self, count: usize, seed: u64) -> Vec<HashMap<RecordId, RecordId>> {
        self.model
            .draw(count, Sweeps::default(), seed)
            .into_iter()
            .map(|labels| {
                labels
                    .iter()
                    .enumerate()
                    .map(|(unit, &label)| {
                        (self.units[unit].clone(), self.units[label as usize].clone())
                    })
                    .collect()
            })
            .collect()
    }
}

/// The estimate of one stratum over clusterings drawn from the linkage
/// model.
#[derive(Debug, Clone)]
pub struct Integrated {
    /// Clusterings drawn.
    pub draws: usize,
    /// Distinct capture tables among them (each estimated once).
    pub distinct: usize,
    /// Draws of N pooled over clusterings, each clustering given as many.
    pub pooled: lcmcr::Posterior,
    /// Each clustering's median of N.
    pub medians: Vec<f64>,
    /// The fewest and most victims observed over the clusterings.
    pub observed: (u64, u64),
    /// Share of the pooled variance of N between clusterings (the
    /// "fraction of missing information" of multiple imputation).
    pub between: f64,
    /// Clusterings whose chain was still drifting from its start.
    pub drifting: usize,
}

/// Above this share of the variance between clusterings, the clusterings
/// disagree more than the model's own uncertainty about N.
pub const BETWEEN_LIMIT: f64 = 0.5;

/// Estimates every table of `tables` (one a clustering; `known` is the
/// as-known table, whose estimate `known_estimate` is reused) and pools.
/// `None` when no table could be estimated.
pub fn integrate(
    tables: &[CaptureTable],
    known: Option<(&CaptureTable, &lcmcr::Estimate)>,
    settings: &lcmcr::Settings,
    chains: usize,
) -> Option<Integrated> {
    if tables.is_empty() {
        return None;
    }
    // Every clustering is the as-known one: its estimate, as it is.
    if let Some((table, estimate)) = known
        && tables.iter().all(|t| t.cells == table.cells)
    {
        return Some(Integrated {
            draws: tables.len(),
            distinct: 1,
            pooled: estimate.pooled.clone(),
            medians: vec![estimate.pooled.quantile(0.5); tables.len()],
            observed: (table.observed(), table.observed()),
            between: 0.0,
            drifting: 0,
        });
    }
    // As many kept draws over all clusterings as the as-known estimate has.
    let per_draw = (settings.samples * chains.max(1) / tables.len()).max(200);
    // Per distinct table: its draws of N (none if it could not be estimated).
    type Cells = Vec<(u32, u64)>;
    let mut estimated: Vec<(&Cells, Option<Vec<u64>>)> = Vec::new();
    let (mut pooled, mut medians, mut drifting) = (Vec::new(), Vec::new(), 0);
    for (i, table) in tables.iter().enumerate() {
        let draws = match estimated.iter().find(|(cells, _)| **cells == table.cells) {
            Some((_, draws)) => draws.clone(),
            None => {
                let draws = match known {
                    Some((known_table, estimate)) if known_table.cells == table.cells => {
                        Some(spread(&estimate.pooled.population, per_draw))
                    }
                    _ => {
                        let run = lcmcr::run(
                            table,
                            &lcmcr::Settings {
                                samples: per_draw,
                                seed: settings.seed.wrapping_add(
                                    0xD1B5_4A32_D192_ED03u64.wrapping_mul(i as u64 + 1),
                                ),
                                ..*settings
                            },
                            1,
                        )
                        .ok();
                        if run
                            .as_ref()
                            .is_some_and(|r| !r.drifting_chains().is_empty())
                        {
                            drifting += 1;
                        }
                        run.map(|r| r.pooled.population)
                    }
                };
                estimated.push((&table.cells, draws.clone()));
                draws
            }
        };
        if let Some(draws) = draws {
            medians.push(
                lcmcr::Posterior {
                    population: draws.clone(),
                }
                .quantile(0.5),
            );
            pooled.push(draws);
        }
    }
    if pooled.is_empty() {
        return None;
    }
    let mean = |xs: &[u64]| xs.iter().map(|&x| x as f64).sum::<f64>() / xs.len().max(1) as f64;
    let means: Vec<f64> = pooled.iter().map(|d| mean(d)).collect();
    let all: Vec<u64> = pooled.concat();
    let grand = mean(&all);
    let total =
        all.iter().map(|&x| (x as f64 - grand).powi(2)).sum::<f64>() / all.len().max(2) as f64;
    let between = means.iter().map(|m| (m - grand).powi(2)).sum::<f64>() / means.len() as f64;
    let observed = tables.iter().map(CaptureTable::observed);
    Some(Integrated {
        draws: tables.len(),
        distinct: estimated.len(),
        pooled: lcmcr::Posterior { population: all },
        medians,
        observed: (
            observed.clone().min().unwrap_or_default(),
            observed.max().unwrap_or_default(),
        ),
        between: if total > 0.0 { between / total } else { 0.0 },
        drifting,
    })
}

/// `count` of `draws`, evenly spaced.
fn spread(draws: &[u64], count: usize) -> Vec<u64> {
    if draws.is_empty() {
        return Vec::new();
    }
    (0..count).map(|i| draws[i * draws.len() / count]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> lcmcr::Settings {
        lcmcr::Settings {
            classes: 3,
            burn_in: 1_000,
            samples: 1_000,
            thin: 2,
            seed: 3,
            ..lcmcr::Settings::default()
        }
    }

    /// 600 persons on three lists, and 60 pairs of a record only on list 1
    /// and one only on list 2 that are the same person at even odds.
    fn ambiguous(labels: &[u32]) -> CaptureTable {
        let mut individuals: Vec<Vec<usize>> = Vec::new();
        for i in 0..600usize {
            individuals.push((0..3).filter(|j| (i * 7 + j * 3) % 5 < 2).collect());
        }
        individuals.retain(|lists| !lists.is_empty());
        for pair in 0..60 {
            if labels[2 * pair] == labels[2 * pair + 1] {
                individuals.push(vec![0, 1]);
            } else {
                individuals.push(vec![0]);
                individuals.push(vec![1]);
            }
        }
        CaptureTable::from_individuals(vec!["a".into(), "b".into(), "c".into()], individuals)
    }

    fn width(posterior: &lcmcr::Posterior) -> f64 {
        posterior.quantile(0.975) - posterior.quantile(0.025)
    }

    /// 120 records in 60 pairs, each pair with `evidence` for being one
    /// person: the estimate over `draws` clusterings, and the estimate with
    /// every pair taken as joined.
    fn over_pairs(evidence: f64, draws: usize) -> (Integrated, lcmcr::Estimate) {
        let pairs: Vec<UncertainPair> = (0..60)
            .map(|p| UncertainPair {
                a: 2 * p,
                b: 2 * p + 1,
                evidence,
            })
            .collect();
        let model = PartitionModel::new(120, &pairs, &[], 0.0);
        let tables: Vec<CaptureTable> = model
            .draw(draws, Sweeps::default(), 9)
            .iter()
            .map(|labels| ambiguous(labels))
            .collect();
        let joined: Vec<u32> = (0..120).map(|u| u / 2 * 2).collect();
        let known_table = ambiguous(&joined);
        let known = lcmcr::run(&known_table, &settings(), 2).expect("estimate");
        let integrated =
            integrate(&tables, Some((&known_table, &known)), &settings(), 2).expect("pooled");
        (integrated, known)
    }

    #[test]
    fn the_interval_with_linkage_uncertainty_is_wider_on_an_ambiguous_set() {
        // Every pair at even odds.
        let (integrated, known) = over_pairs(0.0, 20);
        assert!(integrated.distinct > 1);
        assert!(
            width(&integrated.pooled) >= width(&known.pooled),
            "{} against {}",
            width(&integrated.pooled),
            width(&known.pooled)
        );
        assert!(integrated.between > 0.0);
    }

    #[test]
    fn certain_links_give_the_as_known_interval_exactly() {
        let (integrated, known) = over_pairs(80.0, 10);
        assert_eq!(integrated.distinct, 1);
        assert_eq!(integrated.pooled, known.pooled);
        assert_eq!(integrated.between, 0.0);
    }
}
