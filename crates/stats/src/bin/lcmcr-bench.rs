//! LCMCR iterations per CPU second on one thread.
//!
//! `lcmcr-bench TABLE.tsv [ITERATIONS] [CLASSES]`: one table (e.g.
//! ../shared/data/kosovo-1999.tsv).
//! `lcmcr-bench --sweep [ITERATIONS]`: how the cost grows with the number of
//! lists (3 to 10) and classes K (5, 10, 20), on simulated tables of 5,000
//! people in two latent classes.
//! `lcmcr-bench --simulated LISTS`: that simulated table, as a
//! capture-pattern file.
//! `lcmcr-bench --ess TABLE.tsv K BURN_IN SAMPLES THIN SEED OTHER`: one
//! chain, and the effective draws of N per CPU second of it and of another
//! sampler's chain (OTHER: its draws of N one a line, then `# cpu SECONDS`,
//! as bench/mse/lcmcr.R writes them), by the same estimator.

use girok_stats::lcmcr::{Posterior, Settings, sample};
use girok_stats::{CaptureTable, diagnostics};

fn rate(table: &CaptureTable, iterations: usize, classes: usize) -> Result<(f64, f64), String> {
    let settings = Settings {
        classes,
        burn_in: 0,
        samples: iterations,
        thin: 1,
        ..Settings::default()
    };
    let start = cpu_seconds()?;
    let posterior = sample(table, &settings).map_err(|e| e.to_string())?;
    let seconds = cpu_seconds()? - start;
    Ok((iterations as f64 / seconds, posterior.quantile(0.5)))
}

/// CPU seconds this thread has run (Linux: /proc/thread-self/schedstat,
/// nanoseconds on a CPU first).
fn cpu_seconds() -> Result<f64, String> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").map_err(|e| e.to_string())?;
    let nanoseconds: f64 = text
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or("unreadable /proc/thread-self/schedstat")?;
    Ok(nanoseconds / 1e9)
}

/// Effective draws, CPU seconds and quantiles of one chain, on one line.
fn ess_line(name: &str, draws: &[u64], seconds: f64) -> (String, f64) {
    let trace: Vec<f64> = draws.iter().map(|&n| n as f64).collect();
    let ess = diagnostics::effective_sample_size(&[trace]);
    let posterior = Posterior {
        population: draws.to_vec(),
    };
    let line = format!(
        "{name}\t{}\t{ess:.0}\t{seconds:.3}\t{:.0}\t{}\t{}\t{}",
        draws.len(),
        ess / seconds,
        posterior.quantile(0.025),
        posterior.quantile(0.5),
        posterior.quantile(0.975)
    );
    (line, ess / seconds)
}

fn compare(args: &[String]) -> Result<(), String> {
    let [path, classes, burn_in, samples, thin, seed, other] = args else {
        return Err("usage: lcmcr-bench --ess TABLE.tsv K BURN_IN SAMPLES THIN SEED OTHER".into());
    };
    let number = |a: &String| -> Result<usize, String> {
        a.parse().map_err(|_| format!("'{a}' is not a number"))
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let table = CaptureTable::parse(&text).map_err(|e| format!("{path}: {e}"))?;
    let settings = Settings {
        classes: number(classes)?,
        burn_in: number(burn_in)?,
        samples: number(samples)?,
        thin: number(thin)?,
        seed: number(seed)? as u64,
        ..Settings::default()
    };
    let start = cpu_seconds()?;
    let ours = sample(&table, &settings).map_err(|e| e.to_string())?;
    let seconds = cpu_seconds()? - start;
    let text = std::fs::read_to_string(other).map_err(|e| format!("{other}: {e}"))?;
    let mut their_draws = Vec::new();
    let mut their_seconds = None;
    for line in text.lines() {
        if let Some(cpu) = line.strip_prefix("# cpu ") {
            their_seconds = cpu.trim().parse::<f64>().ok();
        } else {
            their_draws.push(
                line.trim()
                    .parse::<u64>()
                    .map_err(|_| format!("{other}: '{line}' is not a draw of N"))?,
            );
        }
    }
    let their_seconds = their_seconds.ok_or(format!("{other}: no '# cpu SECONDS' line"))?;
    println!("sampler\tdraws\tESS\tCPU s\tESS/s\tq2.5\tmedian\tq97.5");
    let (line, their_rate) = ess_line("other", &their_draws, their_seconds);
    println!("{line}");
    let (line, our_rate) = ess_line("girok", &ours.population, seconds);
    println!("{line}");
    println!("ratio\t{:.2}", our_rate / their_rate);
    Ok(())
}

/// The simulated table of `--sweep` and `--simulated`: 5,000 people in two
/// latent classes, on `lists` lists.
fn simulated(lists: usize) -> CaptureTable {
    let high: Vec<f64> = (0..lists).map(|j| 0.3 + 0.02 * j as f64).collect();
    let low: Vec<f64> = (0..lists).map(|j| 0.1 + 0.01 * j as f64).collect();
    CaptureTable::simulate(7, 5_000, &[(0.6, high), (0.4, low)])
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: usize| -> Result<usize, String> {
        args.get(i).map_or(Ok(default), |a| {
            a.parse().map_err(|_| format!("'{a}' is not a number"))
        })
    };
    match args.first().map(String::as_str) {
        Some("--ess") => compare(&args[1..])?,
        Some("--sweep") => {
            let iterations = number(1, 20_000)?;
            println!("lists\tcells\tK=5\tK=10\tK=20\t(iterations/s, one thread)");
            for lists in 3..=10 {
                let table = simulated(lists);
                let mut line = format!("{lists}\t{}", table.cells.len());
                for classes in [5, 10, 20] {
                    line += &format!("\t{:.0}", rate(&table, iterations, classes)?.0);
                }
                println!("{line}");
            }
        }
        Some("--simulated") => {
            let table = simulated(number(1, 4)?);
            println!("pattern\tcount");
            for (pattern, count) in &table.cells {
                let text: String = (0..table.lists)
                    .map(|j| if table.on_list(*pattern, j) { '1' } else { '0' })
                    .collect();
                println!("{text}\t{count}");
            }
        }
        Some(path) => {
            let iterations = number(1, 200_000)?;
            let classes = number(2, 10)?;
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            let table = CaptureTable::parse(&text).map_err(|e| format!("{path}: {e}"))?;
            let (per_second, median) = rate(&table, iterations, classes)?;
            println!(
                "{iterations} iterations, K = {classes}, {} lists: {per_second:.0} iterations/s; median N {median} (no burn-in)",
                table.lists
            );
        }
        None => {
            return Err(
                "usage: lcmcr-bench TABLE.tsv [ITERATIONS] [CLASSES] | lcmcr-bench --sweep [ITERATIONS] | lcmcr-bench --simulated LISTS | lcmcr-bench --ess TABLE.tsv K BURN_IN SAMPLES THIN SEED OTHER"
                    .into(),
            );
        }
    }
    Ok(())
}
