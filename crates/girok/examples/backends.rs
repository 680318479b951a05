//! Imports one file into a new store on a chosen backend and checks it,
//! timing each step: the same records, the same import code and the same
//! store logic, so the two backends differ only in their database.
//!
//!     cargo run --release --example backends -- sqlite  PATH FILE
//!     cargo run --release --example backends -- postgres URL  FILE
//!
//! The PostgreSQL database at URL must exist and be empty. Prints one line:
//! `BACKEND import SECONDS check SECONDS entries N`.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use girok_store::{Database, Store, StoreError, write_with};

fn import_and_check(store: &mut dyn Store, file: &Path) -> anyhow::Result<(f64, f64, u64)> {
    let bytes = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    let started = Instant::now();
    write_with(
        store,
        "benchmark",
        girok_interchange::batch_size(bytes),
        |sink| {
            girok_interchange::import(file, sink, &mut |_| {})
                .map_err(|e| StoreError::Corrupt(e.to_string()))
        },
    )?;
    let imported = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let report = store.check(&mut |_, _| {})?;
    let checked = started.elapsed().as_secs_f64();
    if !report.is_clean() {
        bail!("check found problems: {report:?}");
    }
    Ok((imported, checked, report.entries))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [backend, target, file] = args.as_slice() else {
        bail!("usage: backends sqlite|postgres PATH|URL FILE");
    };
    let mut store: Box<dyn Store> = match backend.as_str() {
        "sqlite" => Box::new(Database::create(Path::new(target))?),
        "postgres" => Box::new(Database::create_postgres(target)?),
        other => bail!("unknown backend {other}: sqlite or postgres"),
    };
    let (imported, checked, entries) = import_and_check(store.as_mut(), Path::new(file))?;
    println!("{backend} import {imported:.2} check {checked:.2} entries {entries}");
    Ok(())
}
