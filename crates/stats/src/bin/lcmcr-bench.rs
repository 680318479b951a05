//! LCMCR iterations per second on one thread.
//!
//! `lcmcr-bench TABLE.tsv [ITERATIONS] [CLASSES]`: one table (e.g.
//! ../shared/data/kosovo-1999.tsv).
//! `lcmcr-bench --sweep [ITERATIONS]`: how the cost grows with the number of
//! lists (3 to 10) and classes K (5, 10, 20), on simulated tables of 5,000
//! people in two latent classes.

use std::time::Instant;

use girok_stats::CaptureTable;
use girok_stats::lcmcr::{Settings, sample};

fn rate(table: &CaptureTable, iterations: usize, classes: usize) -> Result<(f64, f64), String> {
    let settings = Settings {
        classes,
        burn_in: 0,
        samples: iterations,
        thin: 1,
        ..Settings::default()
    };
    let start = Instant::now();
    let posterior = sample(table, &settings).map_err(|e| e.to_string())?;
    let seconds = start.elapsed().as_secs_f64();
    Ok((iterations as f64 / seconds, posterior.quantile(0.5)))
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: usize| -> Result<usize, String> {
        args.get(i).map_or(Ok(default), |a| {
            a.parse().map_err(|_| format!("'{a}' is not a number"))
        })
    };
    match args.first().map(String::as_str) {
        Some("--sweep") => {
            let iterations = number(1, 20_000)?;
            println!("lists\tcells\tK=5\tK=10\tK=20\t(iterations/s, one thread)");
            for lists in 3..=10 {
                let high: Vec<f64> = (0..lists).map(|j| 0.3 + 0.02 * j as f64).collect();
                let low: Vec<f64> = (0..lists).map(|j| 0.1 + 0.01 * j as f64).collect();
                let table = CaptureTable::simulate(7, 5_000, &[(0.6, high), (0.4, low)]);
                let mut line = format!("{lists}\t{}", table.cells.len());
                for classes in [5, 10, 20] {
                    line += &format!("\t{:.0}", rate(&table, iterations, classes)?.0);
                }
                println!("{line}");
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
                "usage: lcmcr-bench TABLE.tsv [ITERATIONS] [CLASSES] | lcmcr-bench --sweep [ITERATIONS]"
                    .into(),
            );
        }
    }
    Ok(())
}
