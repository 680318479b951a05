//! Clusterings drawn from the linkage model, for estimates that carry the
//! uncertainty of who is the same person.
//!
//! The units are persons as reviewers resolved them (a confirmed merge is
//! one unit, so it stays merged in every draw). The model gives a scored
//! pair of units a Bayes factor: the weight of evidence of a match, in bits,
//! without the prior. A clustering `π` has probability
//!
//! ```text
//! P(π) ∝ ∏ over clusters C of  ρ^(|C| − 1) · ∏ over pairs i < j in C of BF(i, j)
//! ```
//!
//! where `ρ` is the prior odds of a match, paid once for each unit that
//! joins a person rather than once per pair, and a pair that was never scored
//! (or that a reviewer or one testimony keeps apart) has `BF = 0`: such units
//! are never together. Two units scored only with each other are together
//! with exactly the model's match probability; larger clusters are draws of
//! whole clusterings, so a record that could join either of two persons joins
//! one of them, never both (flipping each pair independently and joining the
//! result transitively would chain them and understate the uncertainty).
//!
//! Draws come from a Gibbs sampler: each unit in turn leaves its cluster and
//! joins an existing one or starts a new one with probability proportional to
//! the change in `P(π)`. Every cluster of a valid clustering can be taken
//! apart and built again one unit at a time through valid clusterings, so the
//! chain reaches every clustering the model allows. This is the partition
//! posterior of Bayesian record linkage with population size estimation
//! (Tancredi & Liseo 2011; Sadinle 2018), with the linkage's pairwise
//! Fellegi-Sunter weights as its likelihood.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A scored pair of units and its evidence of a match, in bits (log2 of the
/// Bayes factor, the prior left out).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UncertainPair {
    pub a: u32,
    pub b: u32,
    pub evidence: f64,
}

/// Sweeps of the Gibbs sampler before the first draw and between draws.
#[derive(Debug, Clone, Copy)]
pub struct Sweeps {
    pub warm_up: usize,
    pub between: usize,
}

impl Default for Sweeps {
    fn default() -> Self {
        // Blocks are small (a proposal's records), so the chain forgets its
        // start within a few sweeps.
        Sweeps {
            warm_up: 50,
            between: 5,
        }
    }
}

/// The partition model over `units` units.
pub struct PartitionModel {
    units: usize,
    /// Per unit, its scored neighbours and the evidence for each.
    neighbours: Vec<Vec<(u32, f64)>>,
    prior_weight: f64,
}

impl PartitionModel {
    /// `pairs` may repeat a pair (the evidence is then the mean of its
    /// scores); a pair in `cannot_link` is never together whatever its score.
    /// `prior_weight` is log2 of the prior odds of a match.
    pub fn new(
        units: usize,
        pairs: &[UncertainPair],
        cannot_link: &[(u32, u32)],
        prior_weight: f64,
    ) -> PartitionModel {
        let key = |a: u32, b: u32| (a.min(b), a.max(b));
        let mut scored: HashMap<(u32, u32), (f64, u32)> = HashMap::new();
        for pair in pairs.iter().filter(|p| {
            p.a != p.b && (p.a as usize) < units && (p.b as usize) < units && p.evidence.is_finite()
        }) {
            let entry = scored.entry(key(pair.a, pair.b)).or_default();
            entry.0 += pair.evidence;
            entry.1 += 1;
        }
        for &(a, b) in cannot_link {
            scored.remove(&key(a, b));
        }
        let mut neighbours = vec![Vec::new(); units];
        let mut sorted: Vec<_> = scored.into_iter().collect();
        sorted.sort_by_key(|(pair, _)| *pair);
        for ((a, b), (sum, count)) in sorted {
            let evidence = sum / f64::from(count);
            neighbours[a as usize].push((b, evidence));
            neighbours[b as usize].push((a, evidence));
        }
        PartitionModel {
            units,
            neighbours,
            prior_weight,
        }
    }

    /// Whether any two units may be together at all.
    pub fn is_uncertain(&self) -> bool {
        self.neighbours.iter().any(|n| !n.is_empty())
    }

    /// `count` clusterings, each a label per unit (the smallest unit of its
    /// cluster), from a chain that starts with every unit apart.
    pub fn draw(&self, count: usize, sweeps: Sweeps, seed: u64) -> Vec<Vec<u32>> {
        let mut chain = Chain::new(self, seed);
        for _ in 0..sweeps.warm_up {
            chain.sweep();
        }
        let mut draws = Vec::with_capacity(count);
        for i in 0..count {
            if i > 0 {
                for _ in 0..sweeps.between.max(1) {
                    chain.sweep();
                }
            }
            draws.push(chain.labels());
        }
        draws
    }
}

struct Chain<'a> {
    model: &'a PartitionModel,
    /// Cluster of each unit (an index into `members`).
    cluster: Vec<usize>,
    members: Vec<Vec<u32>>,
    /// Units that have a neighbour: the only ones that can move.
    movable: Vec<u32>,
    rng: ChaCha8Rng,
}

impl<'a> Chain<'a> {
    fn new(model: &'a PartitionModel, seed: u64) -> Chain<'a> {
        Chain {
            model,
            cluster: (0..model.units).collect(),
            members: (0..model.units as u32).map(|u| vec![u]).collect(),
            movable: (0..model.units as u32)
                .filter(|&u| !model.neighbours[u as usize].is_empty())
                .collect(),
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    fn sweep(&mut self) {
        for i in 0..self.movable.len() {
            let unit = self.movable[i];
            self.update(unit);
        }
    }

    /// Takes `unit` out of its cluster and puts it back into a cluster drawn
    /// from its full conditional.
    fn update(&mut self, unit: u32) {
        let own = self.cluster[unit as usize];
        self.members[own].retain(|&m| m != unit);
        // Per neighbouring cluster: the evidence summed and the neighbours in it.
        let mut across: Vec<(usize, f64, usize)> = Vec::new();
        for &(other, evidence) in &self.model.neighbours[unit as usize] {
            let c = self.cluster[other as usize];
            match across.iter_mut().find(|(k, _, _)| *k == c) {
                Some(entry) => {
                    entry.1 += evidence;
                    entry.2 += 1;
                }
                None => across.push((c, evidence, 1)),
            }
        }
        // A cluster holding a unit not scored with this one is closed to it.
        across.retain(|&(c, _, n)| n == self.members[c].len() && n > 0);
        let weights: Vec<f64> = across
            .iter()
            .map(|&(_, evidence, _)| self.model.prior_weight + evidence)
            .collect();
        // Alone: weight 0 bits.
        let top = weights.iter().copied().fold(0.0f64, f64::max);
        let alone = (0.0 - top).exp2();
        let odds: Vec<f64> = weights.iter().map(|w| (w - top).exp2()).collect();
        let total = alone + odds.iter().sum::<f64>();
        let mut target = self.rng.random::<f64>() * total;
        let mut chosen = None;
        for (i, o) in odds.iter().enumerate() {
            if target < *o {
                chosen = Some(across[i].0);
                break;
            }
            target -= o;
        }
        let into = match chosen {
            Some(c) => c,
            // Back to its own cluster if it is empty, else a free slot.
            None if self.members[own].is_empty() => own,
            None => match self.members.iter().position(|m| m.is_empty()) {
                Some(free) => free,
                None => {
                    self.members.push(Vec::new());
                    self.members.len() - 1
                }
            },
        };
        self.members[into].push(unit);
        self.cluster[unit as usize] = into;
    }

    fn labels(&self) -> Vec<u32> {
        self.cluster
            .iter()
            .map(|&c| self.members[c].iter().copied().min().unwrap_or_default())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(a: u32, b: u32, evidence: f64) -> UncertainPair {
        UncertainPair { a, b, evidence }
    }

    /// Every clustering of `n` units, as labels (smallest unit of each cluster).
    fn partitions(n: usize) -> Vec<Vec<u32>> {
        let mut all = vec![Vec::new()];
        for unit in 0..n as u32 {
            let mut next = Vec::new();
            for labels in &all {
                let mut roots: Vec<u32> = labels.clone();
                roots.sort_unstable();
                roots.dedup();
                for &root in &roots {
                    let mut joined = labels.clone();
                    joined.push(root);
                    next.push(joined);
                }
                let mut alone = labels.clone();
                alone.push(unit);
                next.push(alone);
            }
            all = next;
        }
        all
    }

    /// The exact probability of every clustering under the model's formula.
    fn exact(n: usize, pairs: &[UncertainPair], prior: f64) -> Vec<(Vec<u32>, f64)> {
        let evidence = |a: u32, b: u32| {
            pairs
                .iter()
                .find(|p| (p.a, p.b) == (a.min(b), a.max(b)))
                .map(|p| p.evidence)
        };
        let mut weighted: Vec<(Vec<u32>, f64)> = partitions(n)
            .into_iter()
            .filter_map(|labels| {
                let mut bits = 0.0;
                for a in 0..n as u32 {
                    for b in a + 1..n as u32 {
                        if labels[a as usize] == labels[b as usize] {
                            bits += evidence(a, b)?;
                        }
                    }
                    if labels[a as usize] != a {
                        bits += prior;
                    }
                }
                Some((labels, bits.exp2()))
            })
            .collect();
        let total: f64 = weighted.iter().map(|(_, w)| w).sum();
        for (_, w) in &mut weighted {
            *w /= total;
        }
        weighted
    }

    fn together(draws: &[Vec<u32>], a: usize, b: usize) -> f64 {
        draws.iter().filter(|d| d[a] == d[b]).count() as f64 / draws.len() as f64
    }

    #[test]
    fn a_lone_pair_is_together_with_the_models_match_probability() {
        // Prior odds 1:8 and 4 bits of evidence: posterior odds 2, p = 2/3.
        let model = PartitionModel::new(2, &[pair(0, 1, 4.0)], &[], -3.0);
        let draws = model.draw(20_000, Sweeps::default(), 7);
        let p = together(&draws, 0, 1);
        assert!((p - 2.0 / 3.0).abs() < 0.015, "{p}");
    }

    #[test]
    fn co_clustering_frequencies_are_the_models_on_a_small_case() {
        // Four records: 0-1 likely, 1-2 even, 0-2 weak, 2-3 unlikely, 0-3 and
        // 1-3 never scored.
        let pairs = [
            pair(0, 1, 3.0),
            pair(1, 2, 1.0),
            pair(0, 2, -1.0),
            pair(2, 3, -0.5),
        ];
        let prior = -0.5;
        let model = PartitionModel::new(4, &pairs, &[], prior);
        let draws = model.draw(40_000, Sweeps::default(), 11);
        let exact = exact(4, &pairs, prior);
        for a in 0..4 {
            for b in a + 1..4 {
                let expected: f64 = exact
                    .iter()
                    .filter(|(l, _)| l[a] == l[b])
                    .map(|(_, w)| w)
                    .sum();
                let seen = together(&draws, a, b);
                assert!(
                    (seen - expected).abs() < 0.015,
                    "pair {a}-{b}: drawn {seen:.3}, model {expected:.3}"
                );
            }
        }
        // And whole clusterings, not only pairs: the chance of {0, 1, 2}.
        let triple: f64 = exact
            .iter()
            .filter(|(l, _)| l[0] == l[1] && l[1] == l[2] && l[3] != l[0])
            .map(|(_, w)| w)
            .sum();
        let seen = draws
            .iter()
            .filter(|d| d[0] == d[1] && d[1] == d[2] && d[3] != d[0])
            .count() as f64
            / draws.len() as f64;
        assert!((seen - triple).abs() < 0.015, "{seen} against {triple}");
    }

    #[test]
    fn cannot_links_stay_apart_in_every_draw() {
        // 0 and 2 both resemble 1 strongly, but one testimony names them both.
        let pairs = [pair(0, 1, 10.0), pair(1, 2, 10.0), pair(0, 2, 10.0)];
        let model = PartitionModel::new(3, &pairs, &[(2, 0)], 0.0);
        let draws = model.draw(5_000, Sweeps::default(), 3);
        assert!(draws.iter().all(|d| d[0] != d[2]));
        // Each of them joins 1 about half the time: neither is chained to both.
        let p = together(&draws, 0, 1);
        assert!((p - 0.5).abs() < 0.03, "{p}");
    }

    #[test]
    fn certain_links_give_the_same_clustering_every_time() {
        let pairs = [pair(0, 1, 60.0), pair(2, 3, -60.0)];
        let model = PartitionModel::new(5, &pairs, &[], 0.0);
        let draws = model.draw(200, Sweeps::default(), 5);
        assert!(
            draws.iter().all(|d| d == &vec![0, 0, 2, 3, 4]),
            "{:?}",
            draws[0]
        );
        assert!(!PartitionModel::new(3, &[], &[], 0.0).is_uncertain());
    }
}
