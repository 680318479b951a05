//! LCMCR iterations per second on one thread:
//! `lcmcr-bench TABLE.tsv [ITERATIONS] [CLASSES]` (e.g. ../shared/data/kosovo-1999.tsv).

use std::time::Instant;

use girok_stats::CaptureTable;
use girok_stats::lcmcr::{Settings, sample};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: lcmcr-bench TABLE.tsv [ITERATIONS] [CLASSES]")?;
    let iterations: usize = args.next().map_or(Ok(200_000), |a| a.parse())?;
    let classes: usize = args.next().map_or(Ok(10), |a| a.parse())?;
    let table = CaptureTable::parse(&std::fs::read_to_string(&path)?)?;
    let settings = Settings {
        classes,
        burn_in: 0,
        samples: iterations,
        thin: 1,
        ..Settings::default()
    };
    let start = Instant::now();
    let posterior = sample(&table, &settings)?;
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{iterations} iterations, K = {classes}, {} lists: {seconds:.2} s, {:.0} iterations/s; median N {} (no burn-in)",
        table.lists,
        iterations as f64 / seconds,
        posterior.quantile(0.5)
    );
    Ok(())
}
