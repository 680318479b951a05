//! `girok report`: the report (`girok_report`) written to a file.

use std::path::Path;

use anyhow::{Context, Result};

pub fn write(
    store: &girok_store::Database,
    out: &Path,
    request: &girok_estimate::Request,
    min_cell: Option<u64>,
    with_estimate: bool,
) -> Result<()> {
    let report = girok_report::render(store, request, min_cell, with_estimate)
        .map_err(crate::tables::refused_in_both)?;
    std::fs::write(out, &report.html).with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "Wrote {} ({} tables{}) for the {} audience",
        out.display(),
        report.tables,
        if report.estimated {
            " and the estimates"
        } else {
            ""
        },
        request.audience.name()
    );
    Ok(())
}
