//! Benchmark harness for the linkage engine (see bench/linkage/README.md).
//!
//! `flatten` turns `girok synth` output into the person CSV both engines
//! read; `run` links a CSV and prints quality, time per stage and peak
//! memory as JSON.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use girok_linkage::generic::{Column, Similarity, TextComparison};
use girok_linkage::person::{PersonFeatures, PersonRecord, PersonRecordsBuilder};
use girok_linkage::{
    BlockingRule, Candidates, Comparison, Groups, Model, Problem, Settings, Training, metrics,
};
use girok_model::Record;
use serde_json::json;

#[derive(Parser)]
#[command(about = "Benchmark Girok's record linkage")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Person CSV from `girok synth` records.
    Flatten {
        #[arg(long)]
        records: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Links one CSV (deduplication) or two (linking A to B) and reports.
    Run {
        #[arg(long, value_enum)]
        schema: Schema,
        /// One file to deduplicate, or two to link.
        #[arg(long, required = true, num_args = 1..=2)]
        input: Vec<PathBuf>,
        /// Ground truth of person records: a TSV with the columns record and entity (`girok
        /// synth` and gen2.py write it) and optionally homonym_group (gen2.py), scored apart.
        #[arg(long, required_if_eq("schema", "persons"))]
        truth: Option<PathBuf>,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Match probability at which pairs become links.
        #[arg(long, default_value_t = Settings::default().link_probability)]
        link_probability: f64,
        /// Mean probability at which clusters merge.
        #[arg(long, default_value_t = Settings::default().cluster_probability)]
        cluster_probability: f64,
        /// Writes the true pairs blocking missed here (row numbers), for error analysis.
        #[arg(long)]
        missed: Option<PathBuf>,
        /// Writes each record's cluster (row number, cluster) here, for error analysis.
        #[arg(long)]
        clusters: Option<PathBuf>,
        /// Writes every candidate pair here (row numbers, whether the truth matches them, the
        /// level of each comparison, the match weight and the weight of each comparison), for
        /// error analysis.
        #[arg(long)]
        pairs: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Schema {
    /// Girok person records (from `flatten`).
    Persons,
    /// FEBRL data sets (rec_id, given_name, surname, ... soc_sec_id).
    Febrl,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Flatten { records, out } => flatten(&records, &out),
        Command::Run {
            schema,
            input,
            truth,
            threads,
            clusters,
            link_probability,
            cluster_probability,
            missed,
            pairs,
        } => {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build_global()
                .context("starting the thread pool")?;
            let settings = Settings {
                link_probability,
                cluster_probability,
                ..Settings::default()
            };
            let diagnostics = Diagnostics {
                clusters: clusters.as_deref(),
                missed: missed.as_deref(),
                pairs: pairs.as_deref(),
            };
            run(schema, &input, truth.as_deref(), diagnostics, &settings)
        }
    }
}

fn flatten(records: &Path, out: &Path) -> Result<()> {
    let mut builder = PersonRecordsBuilder::default();
    let reader =
        BufReader::new(File::open(records).with_context(|| records.display().to_string())?);
    for (n, line) in reader.lines().enumerate() {
        let line = line?;
        let record: Record = serde_json::from_str(&line)
            .with_context(|| format!("{}: line {}", records.display(), n + 1))?;
        builder.add(&record);
    }
    let mut writer = csv::Writer::from_path(out)?;
    for person in builder.finish() {
        writer.serialize(person)?;
    }
    writer.flush()?;
    Ok(())
}

/// Rows of CSV files as header → value maps, with the file index.
fn read_rows(inputs: &[PathBuf]) -> Result<Vec<(usize, HashMap<String, String>)>> {
    let mut rows = Vec::new();
    for (file, path) in inputs.iter().enumerate() {
        let mut reader =
            csv::Reader::from_path(path).with_context(|| path.display().to_string())?;
        for row in reader.deserialize() {
            let row: HashMap<String, String> =
                row.with_context(|| format!("reading {}", path.display()))?;
            rows.push((file, row));
        }
    }
    Ok(rows)
}

struct Prepared {
    comparisons: Vec<Box<dyn Comparison>>,
    rules: Vec<BlockingRule>,
    groups: Groups,
    truth: Vec<u32>,
    /// Per record: whether its person is one of a homonym group (persons no name and birth
    /// year tell apart). Empty when the truth has no such column.
    homonym: Vec<bool>,
    /// The model training is regularised towards and falls back on, as
    /// `girok link` does for persons.
    reference: Option<Model>,
}

/// One line of ground truth: the entity and the homonym group (empty if none).
struct TruthRow {
    entity: String,
    homonym_group: String,
}

/// Reads a ground-truth TSV by its header: record, entity and optionally homonym_group.
fn read_truth(path: &Path) -> Result<HashMap<String, TruthRow>> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let column = |name: &str| header.iter().position(|&h| h == name);
    let (Some(record), Some(entity)) = (column("record"), column("entity")) else {
        bail!("{}: the header needs record and entity", path.display());
    };
    let homonym_group = column("homonym_group");
    let mut rows = HashMap::new();
    for line in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        let field = |i: usize| fields.get(i).copied().unwrap_or_default().to_string();
        rows.insert(
            field(record),
            TruthRow {
                entity: field(entity),
                homonym_group: homonym_group.map(field).unwrap_or_default(),
            },
        );
    }
    Ok(rows)
}

fn truth_ids(labels: impl Iterator<Item = String>) -> Vec<u32> {
    let mut ids: HashMap<String, u32> = HashMap::new();
    labels
        .map(|label| {
            let next = ids.len() as u32;
            *ids.entry(label).or_insert(next)
        })
        .collect()
}

fn prepare_persons(inputs: &[PathBuf], truth: Option<&Path>) -> Result<Prepared> {
    let mut records: Vec<PersonRecord> = Vec::new();
    for path in inputs {
        let mut reader = csv::Reader::from_path(path)?;
        for row in reader.deserialize() {
            records.push(row.with_context(|| format!("reading {}", path.display()))?);
        }
    }
    let truth_rows = match truth {
        Some(path) => read_truth(path)?,
        None => HashMap::new(),
    };
    let mut labels = Vec::with_capacity(records.len());
    let mut homonym = Vec::with_capacity(records.len());
    for person in &records {
        match truth_rows.get(&person.id) {
            Some(row) => {
                labels.push(row.entity.clone());
                homonym.push(!row.homonym_group.is_empty());
            }
            None => bail!("no ground truth for person {}", person.id),
        }
    }
    if !homonym.contains(&true) {
        homonym.clear();
    }
    let features = Arc::new(PersonFeatures::new(&records));
    Ok(Prepared {
        comparisons: girok_linkage::person::comparisons(&features),
        rules: girok_linkage::person::blocking_rules(&features),
        groups: features.groups.clone(),
        truth: truth_ids(labels.into_iter()),
        homonym,
        reference: Some(girok_linkage::person::shipped_model(records.len())),
    })
}

/// FEBRL: the comparisons and blocking rules of Splink's FEBRL examples.
fn prepare_febrl(inputs: &[PathBuf]) -> Result<Prepared> {
    let rows = read_rows(inputs)?;
    let column = |name: &str| -> Column {
        Column::new(rows.iter().map(|(_, r)| r.get(name).cloned()).collect())
    };
    let jw = |name: &str| {
        Box::new(TextComparison::new(
            name,
            column(name),
            Similarity::JaroWinkler(vec![0.9, 0.7]),
            true,
        )) as Box<dyn Comparison>
    };
    let edits = |name: &str, bounds: Vec<usize>| {
        Box::new(TextComparison::new(
            name,
            column(name),
            Similarity::Edits(bounds),
            false,
        )) as Box<dyn Comparison>
    };
    let comparisons = vec![
        jw("given_name"),
        jw("surname"),
        edits("date_of_birth", vec![1, 2]),
        edits("soc_sec_id", vec![1, 2]),
        edits("street_number", vec![1]),
        jw("address_1"),
        jw("suburb"),
        edits("postcode", vec![1]),
        edits("state", vec![]),
    ];
    let keyed = |name: &'static str, fields: &[&str]| {
        let columns: Vec<Column> = fields.iter().map(|f| column(f)).collect();
        BlockingRule::new(name, move |record, keys| {
            let parts: Option<Vec<u64>> = columns.iter().map(|c| c.key(record)).collect();
            if let Some(parts) = parts {
                keys.push(parts.iter().fold(0, |h, p| h.rotate_left(17) ^ p));
            }
        })
    };
    let rules = vec![
        keyed("given name and surname", &["given_name", "surname"]).training(&[0, 1]),
        keyed("date of birth", &["date_of_birth"]).training(&[2]),
        keyed("social security id", &["soc_sec_id"]),
        keyed("surname and postcode", &["surname", "postcode"]),
        keyed("given name and postcode", &["given_name", "postcode"]),
        keyed("suburb and street number", &["suburb", "street_number"]),
    ];
    let groups = if inputs.len() > 1 {
        Groups::from_sets(rows.iter().map(|(file, _)| vec![*file as u32]))
    } else {
        Groups::none(rows.len())
    };
    // rec-12-org and rec-12-dup-0 are one entity.
    let truth = truth_ids(rows.iter().map(|(_, r)| {
        let id = r.get("rec_id").cloned().unwrap_or_default();
        id.split('-').take(2).collect::<Vec<_>>().join("-")
    }));
    Ok(Prepared {
        comparisons,
        rules,
        groups,
        truth,
        homonym: Vec::new(),
        reference: None,
    })
}

/// Optional files for error analysis.
struct Diagnostics<'a> {
    clusters: Option<&'a Path>,
    missed: Option<&'a Path>,
    pairs: Option<&'a Path>,
}

fn write_missed(path: &Path, candidates: &Candidates, prepared: &Prepared) -> Result<()> {
    let found = candidates.fold(
        &prepared.groups,
        std::collections::HashSet::new,
        |set, _, a, b| {
            set.insert((a, b));
        },
        |mut x, y| {
            x.extend(y);
            x
        },
    );
    let mut by_entity: HashMap<u32, Vec<u32>> = HashMap::new();
    for (i, &t) in prepared.truth.iter().enumerate() {
        by_entity.entry(t).or_default().push(i as u32);
    }
    let mut lines = Vec::new();
    for members in by_entity.values() {
        for (i, &a) in members.iter().enumerate() {
            for &b in &members[i + 1..] {
                if !found.contains(&(a.min(b), a.max(b))) {
                    lines.push(format!("{a}\t{b}"));
                }
            }
        }
    }
    std::fs::write(path, lines.join("\n"))?;
    Ok(())
}

fn write_pairs(
    path: &Path,
    candidates: &Candidates,
    problem: &Problem,
    model: &Model,
    truth: &[u32],
) -> Result<()> {
    let mut lines = candidates.fold(
        problem.groups,
        Vec::new,
        |lines, _, a, b| {
            let levels: Vec<String> = problem
                .comparisons
                .iter()
                .map(|c| c.level(a, b).to_string())
                .collect();
            let explanation = model.explain(problem.comparisons, a, b);
            let parts: Vec<String> = explanation
                .parts
                .iter()
                .map(|p| format!("{:.2}", p.weight))
                .collect();
            let same = u8::from(truth[a as usize] == truth[b as usize]);
            lines.push(format!(
                "{a}\t{b}\t{same}\t{}\t{:.3}\t{}",
                levels.join(""),
                explanation.weight,
                parts.join(" ")
            ));
        },
        |mut x, y| {
            x.extend(y);
            x
        },
    );
    lines.sort_unstable();
    std::fs::write(path, lines.join("\n"))?;
    Ok(())
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

fn scores(precision: f64, recall: f64) -> serde_json::Value {
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    json!({ "precision": precision, "recall": recall, "f1": f1 })
}

/// Pairwise and B-cubed scores of the records `selected` marks, with clusters over all records:
/// pairs count when they touch a selected record, B-cubed averages over selected records. An
/// error between a selected and an unselected record counts on both sides, so scoring homonyms
/// apart neither hides an error nor excuses one.
fn subset_scores(predicted: &[u32], truth: &[u32], selected: &[bool]) -> serde_json::Value {
    // Per cluster, entity and their intersection: (all records, selected records).
    let mut cells: HashMap<(u32, u32), (u64, u64)> = HashMap::new();
    let mut clusters: HashMap<u32, (u64, u64)> = HashMap::new();
    let mut entities: HashMap<u32, (u64, u64)> = HashMap::new();
    for ((&p, &t), &s) in predicted.iter().zip(truth).zip(selected) {
        for (count, in_subset) in [
            cells.entry((p, t)).or_default(),
            clusters.entry(p).or_default(),
            entities.entry(t).or_default(),
        ] {
            *count += 1;
            *in_subset += u64::from(s);
        }
    }
    let touching = |&(all, selected): &(u64, u64)| pairs(all) - pairs(all - selected);
    let both: u64 = cells.values().map(touching).sum();
    let predicted_pairs: u64 = clusters.values().map(touching).sum();
    let true_pairs: u64 = entities.values().map(touching).sum();
    let ratio = |part: u64, whole: u64| {
        if whole == 0 {
            1.0
        } else {
            part as f64 / whole as f64
        }
    };
    let (mut precision, mut recall) = (0.0, 0.0);
    for (&(p, t), &(shared, selected)) in &cells {
        precision += (selected * shared) as f64 / clusters[&p].0 as f64;
        recall += (selected * shared) as f64 / entities[&t].0 as f64;
    }
    let records = selected.iter().filter(|&&s| s).count();
    let n = records.max(1) as f64;
    json!({
        "records": records,
        "entities": entities.values().filter(|e| e.1 > 0).count(),
        "pairwise": scores(ratio(both, predicted_pairs), ratio(both, true_pairs)),
        "b_cubed": scores(precision / n, recall / n),
    })
}

/// Scores of the records outside homonym groups and of those inside, when the truth marks them.
fn homonym_scores(predicted: &[u32], prepared: &Prepared) -> serde_json::Value {
    if prepared.homonym.is_empty() {
        return serde_json::Value::Null;
    }
    let outside: Vec<bool> = prepared.homonym.iter().map(|&h| !h).collect();
    json!({
        "outside_homonym_groups": subset_scores(predicted, &prepared.truth, &outside),
        "homonym_groups": subset_scores(predicted, &prepared.truth, &prepared.homonym),
    })
}

fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn run(
    schema: Schema,
    inputs: &[PathBuf],
    truth: Option<&Path>,
    diagnostics: Diagnostics,
    settings: &Settings,
) -> Result<()> {
    let start = Instant::now();
    let prepared = match schema {
        Schema::Persons => prepare_persons(inputs, truth)?,
        Schema::Febrl => prepare_febrl(inputs)?,
    };
    let preparing = start.elapsed();
    let problem = Problem {
        records: prepared.truth.len(),
        comparisons: &prepared.comparisons,
        blocking: &prepared.rules,
        groups: &prepared.groups,
        must_link: &[],
        cannot_link: &[],
    };
    let training = Training::Trained {
        reference: prepared.reference.as_ref(),
    };
    let linkage = girok_linkage::link(&problem, settings, training)?;
    let linking: f64 = linkage.timings.iter().map(|(_, d)| d.as_secs_f64()).sum();
    // Quality is measured outside the timed stages.
    let candidates = Candidates::build(&problem, settings.max_block);
    let completeness = metrics::pairs_completeness(&candidates, &prepared.groups, &prepared.truth);
    let predicted = linkage.clusters.assignments();
    if let Some(path) = diagnostics.missed {
        write_missed(path, &candidates, &prepared)?;
    }
    if let Some(path) = diagnostics.clusters {
        let lines: Vec<String> = predicted
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{i}\t{c}"))
            .collect();
        std::fs::write(path, lines.join("\n"))?;
    }
    if let Some(path) = diagnostics.pairs {
        write_pairs(path, &candidates, &problem, &linkage.model, &prepared.truth)?;
    }
    let pairwise = metrics::pairwise(predicted, &prepared.truth);
    let b_cubed = metrics::b_cubed(predicted, &prepared.truth);
    let distinct = |labels: &[u32]| {
        labels
            .iter()
            .collect::<std::collections::HashSet<_>>()
            .len()
    };
    let truth_entities = distinct(&prepared.truth);
    let predicted_entities = distinct(predicted);
    let scoring = linkage
        .timings
        .iter()
        .find(|(s, _)| *s == "scoring")
        .map(|(_, d)| d.as_secs_f64())
        .unwrap_or(0.0);
    let report = json!({
        "engine": "girok",
        "records": prepared.truth.len(),
        "candidate_pairs": linkage.blocking.candidate_pairs,
        "pairs_completeness": completeness,
        "reduction_ratio": linkage.blocking.reduction_ratio,
        "pairwise": pairwise,
        "b_cubed": b_cubed,
        "entities": { "true": truth_entities, "predicted": predicted_entities },
        "homonyms": homonym_scores(predicted, &prepared),
        "seconds": {
            "prepare": preparing.as_secs_f64(),
            "stages": linkage.timings.iter().map(|(s, d)| (s.to_string(), d.as_secs_f64())).collect::<HashMap<_, _>>(),
            "end_to_end": preparing.as_secs_f64() + linking,
        },
        "comparisons_per_second": linkage.blocking.candidate_pairs as f64 / scoring.max(1e-9),
        "peak_memory_mib": peak_memory_mib(),
        "lambda": linkage.model.lambda,
        "em_iterations": linkage.model.em_iterations_run,
        "training": linkage.origin,
        "links": linkage.links.len(),
        "refused_by_constraint": linkage.clusters.refused_by_constraint,
        "refused_as_chaining": linkage.clusters.refused_as_chaining,
        "blocking": linkage.blocking,
        "model": linkage.model,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_of_every_record_are_the_usual_scores() {
        let predicted = [0, 0, 0, 1, 1, 2, 3, 3];
        let truth = [0, 0, 1, 1, 1, 2, 2, 3];
        let all = subset_scores(&predicted, &truth, &[true; 8]);
        let close = |value: &serde_json::Value, expected: f64| {
            (value.as_f64().unwrap() - expected).abs() < 1e-12
        };
        let pairwise = metrics::pairwise(&predicted, &truth);
        let b_cubed = metrics::b_cubed(&predicted, &truth);
        assert!(close(&all["pairwise"]["precision"], pairwise.precision));
        assert!(close(&all["pairwise"]["recall"], pairwise.recall));
        assert!(close(&all["b_cubed"]["precision"], b_cubed.precision));
        assert!(close(&all["b_cubed"]["recall"], b_cubed.recall));
    }

    #[test]
    fn an_error_across_the_subsets_counts_on_both_sides() {
        // Records 0 and 1 are different persons merged; 0 is a homonym, 1 is not.
        let predicted = [0, 0, 1];
        let truth = [0, 1, 2];
        let homonyms = subset_scores(&predicted, &truth, &[true, false, false]);
        let others = subset_scores(&predicted, &truth, &[false, true, true]);
        assert_eq!(homonyms["pairwise"]["precision"], 0.0);
        assert_eq!(others["pairwise"]["precision"], 0.0);
        assert_eq!(homonyms["b_cubed"]["precision"], 0.5);
        assert_eq!(others["b_cubed"]["precision"], 0.75);
        assert_eq!(others["records"], 2);
    }
}
