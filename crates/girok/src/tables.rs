//! `girok stats`: tabulations of victims and acts, with disclosure control
//! for tables that leave the organisation.

use std::io::Write;

use anyhow::Result;
use girok_report::ReportError;
use girok_report::tables::{Notes, Request, Tabulated, tabulate, unit_name};
use girok_store::{Database, Store};
use girok_tabulate::{Dimension, Entry, Table, Unit};
use unicode_width::UnicodeWidthStr;

use crate::cli::OutputFormat;

/// Display width of the label column in text tables, at least.
const LABEL_COLUMNS: usize = 36;

/// A refusal in both languages, as the command line words refusals of the
/// published tables.
pub fn refused_in_both(error: ReportError) -> anyhow::Error {
    match error {
        ReportError::Refused(wording) => {
            anyhow::anyhow!("{} ({})", wording.english(), wording.korean())
        }
        other => other.into(),
    }
}

pub fn stats(store: &Database, request: &Request, format: OutputFormat) -> Result<()> {
    let Tabulated { tables, notes } = tabulate(store, request).map_err(refused_in_both)?;
    let threshold = notes.threshold;
    let withheld_by_consent = notes.withheld_by_consent;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        OutputFormat::Table => write_text(&mut out, &tables, &notes, store)?,
        OutputFormat::Csv => write_csv(&mut out, &tables, store)?,
        OutputFormat::Json => {
            let json = serde_json::json!({
                "unit": unit_name(request.unit),
                "audience": request.audience.name(),
                "filter": notes.filter,
                "suppression_threshold": threshold,
                "acts_left_out_by_consent": withheld_by_consent,
                "with_proposals": notes.with_proposals,
                "warnings": notes.stale_proposals.iter().map(|w| w.english()).collect::<Vec<_>>(),
                "tables": tables.iter().map(|t| table_json(t, store)).collect::<Vec<_>>(),
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?;
        }
    }
    Ok(())
}

fn shown(count: Option<u64>) -> String {
    count.map_or_else(|| "<suppressed>".to_string(), |c| c.to_string())
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |p| format!("{p:.1}%"))
}

fn pad(text: &str, width: usize) -> String {
    // Hangul takes two terminal columns a character: pad by display width.
    format!(
        "{text}{}",
        " ".repeat(width.saturating_sub(UnicodeWidthStr::width(text)))
    )
}

fn write_text(
    out: &mut impl Write,
    tables: &[Table],
    notes: &Notes,
    store: &Database,
) -> Result<()> {
    let vocabularies = store.vocabularies();
    let Some(first) = tables.first() else {
        return Ok(());
    };
    let unit = unit_name(first.unit);
    writeln!(
        out,
        "{} {unit}{}{}",
        shown(first.total.shown()),
        notes
            .filter
            .as_ref()
            .map(|f| format!(" where {f}"))
            .unwrap_or_default(),
        match (first.unit, notes.with_proposals) {
            (Unit::Victims, false) =>
                " (persons after linkage decisions: records a reviewer merged count once)",
            (Unit::Victims, true) => {
                " (persons after linkage decisions and `girok link`'s unreviewed proposals)"
            }
            (Unit::Cases, _) => {
                " (events: an act recorded without an event is a case of its own)"
            }
            (Unit::Acts, _) => "",
        }
    )?;
    if let Some(warning) = &notes.stale_proposals {
        writeln!(out, "WARNING: {warning}")?;
    }
    if let Some(k) = notes.threshold {
        writeln!(
            out,
            "Counts below {k} and the counts that would reveal them are suppressed (audience: {}).",
            notes.audience.name()
        )?;
    }
    if notes.withheld_by_consent > 0 {
        writeln!(
            out,
            "{} acts are left out: no attesting source's consent allows this audience.",
            notes.withheld_by_consent
        )?;
    }
    writeln!(out)?;
    for table in tables {
        let label_width = table
            .row_keys
            .iter()
            .map(|key| {
                let (en, ko) = table.rows.label(key, vocabularies);
                UnicodeWidthStr::width(format!("{en} / {ko}").as_str())
            })
            .max()
            .unwrap_or(0)
            .max(LABEL_COLUMNS);
        match table.columns {
            None => {
                writeln!(
                    out,
                    "{unit} by {} ({}){}",
                    table.rows,
                    table.rows.description(),
                    if table.rows.is_multi_valued() {
                        "; one counted under each of several values, so rows can add up to more than the total"
                    } else {
                        ""
                    }
                )?;
                for (key, entry) in table.row_keys.iter().zip(&table.row_totals) {
                    let (en, ko) = table.rows.label(key, vocabularies);
                    writeln!(
                        out,
                        "  {} {:>12} {:>7}",
                        pad(&format!("{en} / {ko}"), label_width),
                        shown(entry.shown()),
                        percent(table.percent(entry))
                    )?;
                }
            }
            Some(columns) => {
                writeln!(
                    out,
                    "{unit} by {} (rows) and {columns} (columns)",
                    table.rows
                )?;
                let headers: Vec<String> = table
                    .column_keys
                    .iter()
                    .map(|key| {
                        let (en, ko) = columns.label(key, vocabularies);
                        format!("{en} / {ko}")
                    })
                    .collect();
                let widths: Vec<usize> = headers
                    .iter()
                    .map(|h| UnicodeWidthStr::width(h.as_str()).max(12))
                    .collect();
                write!(out, "  {}", pad("", label_width))?;
                for (header, width) in headers.iter().zip(&widths) {
                    write!(out, " {}", pad(header, *width))?;
                }
                writeln!(out, " Total / 합계")?;
                let mut line = |label: String, entries: Vec<Option<u64>>| -> Result<()> {
                    write!(out, "  {}", pad(&label, label_width))?;
                    for (entry, width) in entries.iter().zip(widths.iter().chain([&12])) {
                        write!(out, " {:>width$}", shown(*entry))?;
                    }
                    writeln!(out)?;
                    Ok(())
                };
                for (r, key) in table.row_keys.iter().enumerate() {
                    let (en, ko) = table.rows.label(key, vocabularies);
                    let mut entries: Vec<Option<u64>> =
                        table.cells[r].iter().map(|e| e.shown()).collect();
                    entries.push(table.row_totals[r].shown());
                    line(format!("{en} / {ko}"), entries)?;
                }
                let mut totals: Vec<Option<u64>> =
                    table.column_totals.iter().map(|e| e.shown()).collect();
                totals.push(table.total.shown());
                line("Total / 합계".to_string(), totals)?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

fn write_csv(out: &mut impl Write, tables: &[Table], store: &Database) -> Result<()> {
    let vocabularies = store.vocabularies();
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record([
        "dimension",
        "key",
        "en",
        "ko",
        "column_dimension",
        "column_key",
        "column_en",
        "column_ko",
        "count",
        "percent",
    ])?;
    let number = |entry: &Entry| shown(entry.shown());
    for table in tables {
        let column_name = table.columns.map(|c| c.name()).unwrap_or_default();
        let mut write = |row: Option<&str>, column: Option<&str>, entry: &Entry| -> Result<()> {
            let (row_key, row_en, row_ko) = match row {
                Some(key) => {
                    let (en, ko) = table.rows.label(key, vocabularies);
                    (key.to_string(), en, ko)
                }
                None => ("total".into(), "Total".into(), "합계".into()),
            };
            let (column_key, column_en, column_ko) = match (table.columns, column) {
                (Some(dimension), Some(key)) => {
                    let (en, ko) = dimension.label(key, vocabularies);
                    (key.to_string(), en, ko)
                }
                (Some(_), None) => ("total".into(), "Total".into(), "합계".into()),
                (None, _) => Default::default(),
            };
            writer.write_record([
                table.rows.name(),
                &row_key,
                &row_en,
                &row_ko,
                column_name,
                &column_key,
                &column_en,
                &column_ko,
                &number(entry),
                &table
                    .percent(entry)
                    .map(|p| format!("{p:.2}"))
                    .unwrap_or_default(),
            ])?;
            Ok(())
        };
        for (r, row_key) in table.row_keys.iter().enumerate() {
            if table.columns.is_some() {
                for (c, column_key) in table.column_keys.iter().enumerate() {
                    write(Some(row_key), Some(column_key), &table.cells[r][c])?;
                }
            }
            write(Some(row_key), None, &table.row_totals[r])?;
        }
        if table.columns.is_some() {
            for (c, column_key) in table.column_keys.iter().enumerate() {
                write(None, Some(column_key), &table.column_totals[c])?;
            }
        }
        write(None, None, &table.total)?;
    }
    writer.flush()?;
    Ok(())
}

fn table_json(table: &Table, store: &Database) -> serde_json::Value {
    let vocabularies = store.vocabularies();
    let entry = |key: &str, dimension: Dimension, e: &Entry| {
        let (en, ko) = dimension.label(key, vocabularies);
        serde_json::json!({
            "key": key, "en": en, "ko": ko,
            "count": e.shown(), "percent": table.percent(e), "suppressed": e.suppressed,
        })
    };
    let rows: Vec<serde_json::Value> = table
        .row_keys
        .iter()
        .enumerate()
        .map(|(r, key)| {
            let mut value = entry(key, table.rows, &table.row_totals[r]);
            if let Some(columns) = table.columns {
                value["cells"] = table
                    .column_keys
                    .iter()
                    .enumerate()
                    .map(|(c, column)| entry(column, columns, &table.cells[r][c]))
                    .collect();
            }
            value
        })
        .collect();
    serde_json::json!({
        "rows_by": table.rows.name(),
        "columns_by": table.columns.map(|c| c.name()),
        "total": table.total.shown(),
        "rows": rows,
        "column_totals": table.columns.map(|columns| table
            .column_keys
            .iter()
            .zip(&table.column_totals)
            .map(|(key, e)| entry(key, columns, e))
            .collect::<Vec<_>>()),
    })
}
