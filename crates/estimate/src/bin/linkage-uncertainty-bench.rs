//! Benchmark of the estimate with linkage uncertainty (`bench/mse/linkage.sh`):
//! generated populations of known size on several lists, each list's record
//! of a person written with its own slips (names misspelt, birth years off
//! or missing), linked by a Fellegi-Sunter model whose m and u are counted
//! on a separate population with known truth (a correctly specified model:
//! the benchmark measures how its uncertainty is carried, not training).
//! For each population: the latent-class estimate on the true linkage, on
//! the linkage taken as known (pairs at even odds or better joined, strongest
//! first, never two records of one list), and over clusterings drawn from
//! the model (`girok_estimate::linkage::integrate`, as `girok estimate
//! --linkage-draws`). Prints one line per population and the coverage of
//! each 95% interval.
//!
//! Usage: linkage-uncertainty-bench [POPULATIONS] [DRAWS] [SEED]

use std::collections::HashMap;
use std::time::Instant;

use girok_estimate::linkage::integrate;
use girok_linkage::partitions::{PartitionModel, Sweeps, UncertainPair};
use girok_stats::{CaptureTable, lcmcr};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const LISTS: usize = 4;
const SURNAMES: usize = 25;
const GIVEN_NAMES: usize = 800;

/// One person as one list recorded them.
struct Record {
    person: usize,
    list: usize,
    surname: usize,
    given: usize,
    /// Which misspelling of the given name (0: as the person spells it).
    spelling: u8,
    birth: Option<i32>,
}

/// Levels of a pair: given name (exact, misspelt, different) and birth
/// year (missing, same, one apart, different).
fn levels(a: &Record, b: &Record) -> (usize, usize) {
    let given = if a.given != b.given {
        2
    } else if a.spelling == b.spelling {
        0
    } else {
        1
    };
    let birth = match (a.birth, b.birth) {
        (Some(x), Some(y)) if x == y => 1,
        (Some(x), Some(y)) if (x - y).abs() == 1 => 2,
        (Some(_), Some(_)) => 3,
        _ => 0,
    };
    (given, birth)
}

/// Surname `s` of a Zipf-like distribution: a few very common ones.
fn surname(rng: &mut ChaCha8Rng) -> usize {
    let total: f64 = (1..=SURNAMES).map(|k| 1.0 / k as f64).sum();
    let mut target = rng.random::<f64>() * total;
    for k in 1..=SURNAMES {
        target -= 1.0 / k as f64;
        if target <= 0.0 {
            return k - 1;
        }
    }
    SURNAMES - 1
}

/// A population of `size` persons and the records the lists made of them.
fn population(rng: &mut ChaCha8Rng, size: usize, inclusion: &[f64]) -> Vec<Record> {
    let mut records = Vec::new();
    for person in 0..size {
        let (family, given, born) = (
            surname(rng),
            rng.random_range(0..GIVEN_NAMES),
            rng.random_range(1940..2000),
        );
        for (list, &p) in inclusion.iter().enumerate() {
            if rng.random::<f64>() >= p {
                continue;
            }
            let spelling = if rng.random::<f64>() < 0.2 {
                rng.random_range(1..4)
            } else {
                0
            };
            let birth = match rng.random::<f64>() {
                x if x < 0.35 => None,
                x if x < 0.5 => Some(born + if rng.random::<bool>() { 1 } else { -1 }),
                _ => Some(born),
            };
            records.push(Record {
                person,
                list,
                surname: family,
                given,
                spelling,
                birth,
            });
        }
    }
    records
}

/// Candidate pairs: records of different lists sharing a surname.
fn candidates(records: &[Record]) -> Vec<(u32, u32)> {
    let mut by_surname: HashMap<usize, Vec<u32>> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        by_surname.entry(r.surname).or_default().push(i as u32);
    }
    let mut pairs = Vec::new();
    for block in by_surname.values() {
        for (i, &a) in block.iter().enumerate() {
            for &b in &block[i + 1..] {
                if records[a as usize].list != records[b as usize].list {
                    pairs.push((a, b));
                }
            }
        }
    }
    pairs.sort_unstable();
    pairs
}

/// The Fellegi-Sunter model: log2 of m/u per level of each comparison and,
/// per surname, log2 of the prior odds that two records sharing it match.
struct Model {
    given: [f64; 3],
    birth: [f64; 4],
    prior: Vec<f64>,
}

impl Model {
    /// m and u counted over the candidate pairs of reference populations
    /// with known truth.
    fn counted(rng: &mut ChaCha8Rng) -> Model {
        let (mut m_given, mut u_given) = ([1.0f64; 3], [1.0f64; 3]);
        let (mut m_birth, mut u_birth) = ([1.0f64; 4], [1.0f64; 4]);
        let (mut matches, mut pairs) = (vec![1.0f64; SURNAMES], vec![2.0f64; SURNAMES]);
        for _ in 0..5 {
            let records = population(rng, 2_000, &[0.4; LISTS]);
            for (a, b) in candidates(&records) {
                let (x, y) = (&records[a as usize], &records[b as usize]);
                let (g, d) = levels(x, y);
                pairs[x.surname] += 1.0;
                if x.person == y.person {
                    m_given[g] += 1.0;
                    m_birth[d] += 1.0;
                    matches[x.surname] += 1.0;
                } else {
                    u_given[g] += 1.0;
                    u_birth[d] += 1.0;
                }
            }
        }
        let ratio = |m: &[f64], u: &[f64], k: usize| {
            let (sm, su): (f64, f64) = (m.iter().sum(), u.iter().sum());
            (m[k] / sm / (u[k] / su)).log2()
        };
        Model {
            given: [0, 1, 2].map(|k| ratio(&m_given, &u_given, k)),
            birth: [0, 1, 2, 3].map(|k| ratio(&m_birth, &u_birth, k)),
            prior: (0..SURNAMES)
                .map(|s| (matches[s] / (pairs[s] - matches[s])).log2())
                .collect(),
        }
    }

    /// log2 of the posterior odds of a match.
    fn weight(&self, a: &Record, b: &Record) -> f64 {
        let (g, d) = levels(a, b);
        self.prior[a.surname] + self.given[g] + self.birth[d]
    }
}

/// The capture table of a clustering (a label per record).
fn table(records: &[Record], labels: &[u32]) -> CaptureTable {
    let mut lists: HashMap<u32, Vec<usize>> = HashMap::new();
    for (record, &label) in records.iter().zip(labels) {
        lists.entry(label).or_default().push(record.list);
    }
    let mut individuals: Vec<Vec<usize>> = lists.into_values().collect();
    individuals.sort();
    CaptureTable::from_individuals(
        (0..LISTS).map(|j| format!("list {}", j + 1)).collect(),
        individuals,
    )
}

/// The clustering taken as known: pairs at even odds or better joined,
/// strongest first, unless the two clusters share a list.
fn as_known(records: &[Record], scored: &[(u32, u32, f64)]) -> Vec<u32> {
    let mut parent: Vec<u32> = (0..records.len() as u32).collect();
    let mut lists: Vec<u8> = records.iter().map(|r| 1 << r.list).collect();
    fn find(parent: &mut [u32], mut i: u32) -> u32 {
        while parent[i as usize] != i {
            parent[i as usize] = parent[parent[i as usize] as usize];
            i = parent[i as usize];
        }
        i
    }
    let mut strong: Vec<&(u32, u32, f64)> = scored.iter().filter(|p| p.2 >= 0.0).collect();
    strong.sort_by(|x, y| y.2.total_cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
    for &(a, b, _) in strong {
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb && lists[ra as usize] & lists[rb as usize] == 0 {
            parent[rb as usize] = ra;
            lists[ra as usize] |= lists[rb as usize];
        }
    }
    (0..records.len() as u32)
        .map(|i| find(&mut parent, i))
        .collect()
}

struct Interval {
    low: f64,
    median: f64,
    high: f64,
}

impl Interval {
    fn of(posterior: &lcmcr::Posterior) -> Interval {
        Interval {
            low: posterior.quantile(0.025),
            median: posterior.quantile(0.5),
            high: posterior.quantile(0.975),
        }
    }

    fn covers(&self, size: usize) -> bool {
        self.low <= size as f64 && size as f64 <= self.high
    }
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| {
            a.parse().unwrap_or_else(|_| {
                eprintln!("usage: linkage-uncertainty-bench [POPULATIONS] [DRAWS] [SEED]");
                std::process::exit(2)
            })
        })
        .collect();
    let populations = args.first().copied().unwrap_or(200) as usize;
    let draws = args.get(1).copied().unwrap_or(20) as usize;
    let seed = args.get(2).copied().unwrap_or(1);
    let settings = lcmcr::Settings {
        classes: 5,
        burn_in: 2_000,
        samples: 1_000,
        thin: 5,
        seed,
        ..Default::default()
    };
    let chains = 2;
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let model = Model::counted(&mut rng);
    println!(
        "# {populations} populations, {LISTS} lists, {draws} clusterings each; LCMCR K = {}, \
         burn-in {}, {} chains x {} draws thinned by {} (clusterings: {} draws each, one chain)",
        settings.classes,
        settings.burn_in,
        chains,
        settings.samples,
        settings.thin,
        (settings.samples * chains / draws).max(200),
    );
    println!(
        "population\tN\tobserved_true\tobserved_known\tobserved_drawn\trecords\tuncertain_pairs\ttrue_low\ttrue_high\tknown_low\tknown_median\tknown_high\tdrawn_low\tdrawn_median\tdrawn_high\tbetween"
    );
    let (mut true_covers, mut known_covers, mut drawn_covers) = (0, 0, 0);
    let (mut known_width, mut drawn_width) = (0.0, 0.0);
    for population_index in 0..populations {
        let size = rng.random_range(1_000..2_000);
        let inclusion: Vec<f64> = (0..LISTS).map(|_| rng.random_range(0.25..0.5)).collect();
        let records = population(&mut rng, size, &inclusion);
        let scored: Vec<(u32, u32, f64)> = candidates(&records)
            .into_iter()
            .map(|(a, b)| {
                (
                    a,
                    b,
                    model.weight(&records[a as usize], &records[b as usize]),
                )
            })
            // Below one chance in a billion: apart in practice.
            .filter(|p| p.2 > -30.0)
            .collect();
        let uncertain = scored.iter().filter(|p| p.2.abs() < 2.0).count();
        let estimate = |table: &CaptureTable, seed: u64| {
            lcmcr::run(table, &lcmcr::Settings { seed, ..settings }, chains).ok()
        };
        let truth: Vec<u32> = records.iter().map(|r| r.person as u32).collect();
        let run_seed = seed ^ ((population_index as u64 + 1) << 20);
        let known_table = table(&records, &as_known(&records, &scored));
        let (Some(true_estimate), Some(known_estimate)) = (
            estimate(&table(&records, &truth), run_seed),
            estimate(&known_table, run_seed),
        ) else {
            println!("{population_index}\t{size}\tno estimate");
            continue;
        };
        // As `girok estimate` reads stored proposals: one prior for every
        // pair, its surname's commonness in the pair's evidence.
        let prior = scored
            .iter()
            .map(|&(a, _, _)| model.prior[records[a as usize].surname])
            .sum::<f64>()
            / scored.len().max(1) as f64;
        let pairs: Vec<UncertainPair> = scored
            .iter()
            .map(|&(a, b, weight)| UncertainPair {
                a,
                b,
                evidence: weight - prior,
            })
            .collect();
        // Two records of one list are never one person: never scored, so
        // never together.
        let partitions = PartitionModel::new(records.len(), &pairs, &[], prior);
        let tables: Vec<CaptureTable> = partitions
            .draw(draws, Sweeps::default(), run_seed)
            .iter()
            .map(|labels| table(&records, labels))
            .collect();
        let Some(integrated) = integrate(
            &tables,
            Some((&known_table, &known_estimate)),
            &lcmcr::Settings {
                seed: run_seed,
                ..settings
            },
            chains,
        ) else {
            println!("{population_index}\t{size}\tno integrated estimate");
            continue;
        };
        let (t, k, d) = (
            Interval::of(&true_estimate.pooled),
            Interval::of(&known_estimate.pooled),
            Interval::of(&integrated.pooled),
        );
        true_covers += usize::from(t.covers(size));
        known_covers += usize::from(k.covers(size));
        drawn_covers += usize::from(d.covers(size));
        known_width += (k.high - k.low) / size as f64;
        drawn_width += (d.high - d.low) / size as f64;
        println!(
            "{population_index}\t{size}\t{}\t{}\t{}-{}\t{}\t{uncertain}\t{:.0}\t{:.0}\t{:.0}\t{:.0}\t{:.0}\t{:.0}\t{:.0}\t{:.0}\t{:.2}",
            table(&records, &truth).observed(),
            known_table.observed(),
            integrated.observed.0,
            integrated.observed.1,
            records.len(),
            t.low,
            t.high,
            k.low,
            k.median,
            k.high,
            d.low,
            d.median,
            d.high,
            integrated.between
        );
    }
    let share = |n: usize| n as f64 / populations.max(1) as f64;
    println!(
        "coverage of the 95% interval: true linkage {:.3}, linkage taken as known {:.3}, linkage uncertainty carried {:.3}",
        share(true_covers),
        share(known_covers),
        share(drawn_covers)
    );
    println!(
        "mean width / N: taken as known {:.3}, carried {:.3}; {:.0} s",
        known_width / populations.max(1) as f64,
        drawn_width / populations.max(1) as f64,
        started.elapsed().as_secs_f64()
    );
}
