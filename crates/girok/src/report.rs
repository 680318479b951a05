//! `girok report`: one self-contained HTML file (no scripts, no external
//! resources) with SVG charts, bilingual labels, and methodology notes
//! written from what was actually computed.

use std::path::Path;

use anyhow::{Context, Result};
use girok_model::RecordKind;
use girok_stats::CaptureTable;
use girok_store::{SqliteStore, Store};
use girok_tabulate::{Dimension, Table, Unit};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::cli::Audience;
use crate::estimate::{self, Estimates, Stratum};
use crate::tables::{self, Notes, Tabulated};

/// Chart geometry, in SVG user units (the charts scale with the page).
const CHART_WIDTH: f64 = 760.0;
const LABEL_WIDTH: f64 = 330.0;
const ROW_HEIGHT: f64 = 22.0;

const STYLE: &str = "
body{font-family:system-ui,'Noto Sans KR','Apple SD Gothic Neo','Malgun Gothic',sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f;line-height:1.5}
h1{font-size:1.7rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.2rem .6rem;border-bottom:1px solid #e5e5e5;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.ko{color:#555}.warn{background:#fff4e5;border-left:4px solid #e8a33d;padding:.4rem .8rem;margin:.4rem 0}
svg{width:100%;height:auto}svg text{font-size:12px;fill:#1d1d1f}code{font-size:.85em;word-break:break-all}
footer{margin-top:3rem;color:#666;font-size:.9rem}
";

pub fn write(
    store: &SqliteStore,
    data: &Path,
    out: &Path,
    request: &estimate::Request,
    min_cell: Option<u64>,
    with_estimate: bool,
) -> Result<()> {
    let tabulated = tables::tabulate(
        store,
        &tables::Request {
            by: &[],
            conditions: &request.conditions,
            unit: Unit::Victims,
            audience: request.audience,
            min_cell,
            format: crate::cli::OutputFormat::Table,
        },
    )?;
    let estimates = if with_estimate {
        Some(estimate::compute(store, data, request)?)
    } else {
        None
    };
    let (journal_size, root) = store.tree_head()?;
    let counts = [RecordKind::Source, RecordKind::Person, RecordKind::Act]
        .map(|kind| store.count(kind))
        .into_iter()
        .collect::<Result<Vec<u64>, _>>()?;
    let page = render(&Page {
        store,
        tabulated: &tabulated,
        estimates: estimates.as_ref(),
        journal_size,
        root: hex::encode(root),
        counts: &counts,
        generated: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
    });
    std::fs::write(out, page.into_string())
        .with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "Wrote {} ({} tables{}) for the {} audience",
        out.display(),
        tabulated.tables.len(),
        if estimates.is_some() {
            " and the estimates"
        } else {
            ""
        },
        audience_name(request.audience).0
    );
    Ok(())
}

struct Page<'a> {
    store: &'a SqliteStore,
    tabulated: &'a Tabulated,
    estimates: Option<&'a Estimates>,
    journal_size: u64,
    root: String,
    counts: &'a [u64],
    generated: String,
}

fn audience_name(audience: Audience) -> (&'static str, &'static str) {
    match audience {
        Audience::Internal => ("internal", "내부"),
        Audience::Partners => ("partners", "협력기관"),
        Audience::Public => ("public", "공개"),
    }
}

/// "English · 한국어" headings.
fn bilingual(en: &str, ko: &str) -> Markup {
    html! { (en) " · " span.ko { (ko) } }
}

fn render(context: &Page) -> Markup {
    let notes = &context.tabulated.notes;
    let total = context
        .tabulated
        .tables
        .first()
        .map(|t| t.total.shown())
        .unwrap_or(Some(0));
    let (audience_en, audience_ko) = audience_name(notes.audience);
    html! {
        (DOCTYPE)
        html lang="ko" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Girok report · 기록 보고서" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (bilingual("Girok report", "기록 보고서")) }
                p {
                    "Generated " (context.generated) " for the " strong { (audience_en) } " audience ("
                    span.ko { (audience_ko) } ") from a journal of " (context.journal_size)
                    " entries, Merkle root " code { (context.root) }
                    ". Anyone holding the journal can check that these figures come from that state with "
                    code { "girok verify" } "."
                }
                table {
                    tr { th { (bilingual("Victims", "피해자")) } td.n { (shown(total)) } }
                    tr { th { (bilingual("Sources", "출처")) } td.n { (context.counts[0]) } }
                    tr { th { (bilingual("Person records", "인물 기록")) } td.n { (context.counts[1]) } }
                    tr { th { (bilingual("Acts", "행위")) } td.n { (context.counts[2]) } }
                }
                @if let Some(filter) = &notes.filter {
                    p { "Only acts where " code { (filter) } " are counted." }
                }
                @for table in &context.tabulated.tables {
                    @if table.rows == Dimension::Year {
                        (years_section(context, table))
                    } @else {
                        (breakdown_section(context, table))
                    }
                }
                @if let Some(estimates) = context.estimates {
                    (estimates_section(estimates))
                }
                (methodology(context))
                footer { "Girok · 기록 — " (env!("CARGO_PKG_VERSION")) }
            }
        }
    }
}

fn shown(count: Option<u64>) -> String {
    count.map_or_else(|| "suppressed · 비공개".to_string(), |c| c.to_string())
}

fn breakdown_section(context: &Page, table: &Table) -> Markup {
    let vocabularies = context.store.vocabularies();
    let rows: Vec<(String, String, Option<u64>, Option<f64>)> = table
        .row_keys
        .iter()
        .zip(&table.row_totals)
        .map(|(key, entry)| {
            let (en, ko) = table.rows.label(key, vocabularies);
            (en, ko, entry.shown(), table.percent(entry))
        })
        .collect();
    html! {
        h2 { (table.rows.description()) " · " span.ko { (table.rows.description_ko()) } }
        (bar_chart(&rows))
        table {
            tr { th { "" } th { "Victims · 피해자" } th { "%" } }
            @for (en, ko, count, percent) in &rows {
                tr {
                    td { (en) " · " span.ko { (ko) } }
                    td.n { (shown(*count)) }
                    td.n { (percent.map(|p| format!("{p:.1}")).unwrap_or_default()) }
                }
            }
        }
    }
}

/// Horizontal bars, one per row; withheld rows drawn empty and marked.
fn bar_chart(rows: &[(String, String, Option<u64>, Option<f64>)]) -> Markup {
    let largest = rows.iter().filter_map(|r| r.2).max().unwrap_or(1).max(1) as f64;
    let height = ROW_HEIGHT * rows.len() as f64 + 8.0;
    let bar_space = CHART_WIDTH - LABEL_WIDTH - 90.0;
    html! {
        svg viewBox=(format!("0 0 {CHART_WIDTH} {height}")) role="img" {
            @for (i, (en, ko, count, _)) in rows.iter().enumerate() {
                @let y = i as f64 * ROW_HEIGHT + 4.0;
                text x=(LABEL_WIDTH - 8.0) y=(y + 15.0) text-anchor="end" { (en) " · " (ko) }
                @match count {
                    Some(count) => {
                        rect x=(LABEL_WIDTH) y=(y + 3.0) height=(ROW_HEIGHT - 6.0)
                            width=(format!("{:.1}", (*count as f64 / largest * bar_space).max(1.0))) fill="#3a6ea5" {}
                        text x=(format!("{:.1}", LABEL_WIDTH + (*count as f64 / largest * bar_space) + 6.0)) y=(y + 15.0) { (count) }
                    }
                    None => {
                        rect x=(LABEL_WIDTH) y=(y + 3.0) height=(ROW_HEIGHT - 6.0) width="40"
                            fill="none" stroke="#999" stroke-dasharray="3 2" {}
                        text x=(LABEL_WIDTH + 46.0) y=(y + 15.0) fill="#666" { "suppressed · 비공개" }
                    }
                }
            }
        }
    }
}

fn years_section(context: &Page, table: &Table) -> Markup {
    let vocabularies = context.store.vocabularies();
    let mut years: Vec<(i32, Option<u64>)> = table
        .row_keys
        .iter()
        .zip(&table.row_totals)
        .filter_map(|(key, entry)| Some((key.parse::<i32>().ok()?, entry.shown())))
        .collect();
    years.sort();
    let other: Vec<(String, String, Option<u64>)> = table
        .row_keys
        .iter()
        .zip(&table.row_totals)
        .filter(|(key, _)| key.parse::<i32>().is_err())
        .map(|(key, entry)| {
            let (en, ko) = Dimension::Year.label(key, vocabularies);
            (en, ko, entry.shown())
        })
        .collect();
    html! {
        h2 { (bilingual("Victims over time, by the year of the act", "연도별 피해자 (행위 발생 연도)")) }
        @if let (Some(first), Some(last)) = (years.first(), years.last()) {
            (column_chart(first.0, last.0, &years))
        } @else {
            p { "No act is dated to a single year." }
        }
        @if !other.is_empty() {
            p {
                "Not in the chart: "
                @for (i, (en, ko, count)) in other.iter().enumerate() {
                    @if i > 0 { "; " }
                    (en) " · " span.ko { (ko) } ": " (shown(*count))
                }
                "."
            }
        }
    }
}

/// One column per year from `first` to `last`, years without acts at zero.
fn column_chart(first: i32, last: i32, years: &[(i32, Option<u64>)]) -> Markup {
    let span = (last - first + 1).max(1) as f64;
    let largest = years.iter().filter_map(|y| y.1).max().unwrap_or(1).max(1) as f64;
    let (left, bottom, top) = (40.0, 230.0, 14.0);
    let step = (CHART_WIDTH - left - 10.0) / span;
    let label_every = (span / 12.0).ceil().max(1.0) as i32;
    html! {
        svg viewBox=(format!("0 0 {CHART_WIDTH} 260")) role="img" {
            line x1=(left) y1=(bottom) x2=(CHART_WIDTH - 10.0) y2=(bottom) stroke="#999" {}
            text x=(left - 6.0) y=(top + 4.0) text-anchor="end" { (largest) }
            text x=(left - 6.0) y=(bottom) text-anchor="end" { "0" }
            @for year in first..=last {
                @let x = left + (year - first) as f64 * step;
                @let count = years.iter().find(|y| y.0 == year).map(|y| y.1);
                @match count {
                    Some(Some(n)) => {
                        @let h = n as f64 / largest * (bottom - top);
                        rect x=(format!("{:.1}", x + step * 0.1)) y=(format!("{:.1}", bottom - h))
                            width=(format!("{:.1}", step * 0.8)) height=(format!("{h:.1}")) fill="#3a6ea5" {
                            title { (year) ": " (n) }
                        }
                    }
                    Some(None) => {
                        rect x=(format!("{:.1}", x + step * 0.1)) y=(bottom - 12.0)
                            width=(format!("{:.1}", step * 0.8)) height="12" fill="none" stroke="#999" stroke-dasharray="2 2" {
                            title { (year) ": suppressed · 비공개" }
                        }
                    }
                    None => {}
                }
                @if (year - first) % label_every == 0 {
                    text x=(format!("{:.1}", x + step / 2.0)) y=(bottom + 16.0) text-anchor="middle" { (year) }
                }
            }
        }
    }
}

/// One row of the interval chart: label, low, median, high.
type Interval = (String, f64, f64, f64);

fn intervals(stratum: &Stratum) -> Vec<Interval> {
    let mut rows = Vec::new();
    if let Some(e) = &stratum.lcmcr {
        let p = &e.pooled;
        rows.push((
            "Latent-class (LCMCR) · 잠재계층".to_string(),
            p.quantile(0.025),
            p.quantile(0.5),
            p.quantile(0.975),
        ));
    }
    if let Some(Ok(p)) = &stratum.decomposable {
        rows.push((
            "Decomposable models, averaged · 분해가능 모형 평균".to_string(),
            p.quantile(0.025) as f64,
            p.quantile(0.5) as f64,
            p.quantile(0.975) as f64,
        ));
    }
    if let Some(best) = stratum.loglinear.first() {
        rows.push((
            "Log-linear, best BIC · 로그선형 (BIC 최적)".to_string(),
            best.population,
            best.population,
            best.population,
        ));
    }
    rows
}

/// Posterior medians with 95% intervals against the observed count.
fn interval_chart(observed: u64, rows: &[Interval]) -> Markup {
    let high = rows.iter().map(|r| r.3).fold(observed as f64, f64::max) * 1.05;
    let low = rows.iter().map(|r| r.1).fold(observed as f64, f64::min) * 0.95;
    let span = (high - low).max(1.0);
    let x = |v: f64| LABEL_WIDTH + (v - low) / span * (CHART_WIDTH - LABEL_WIDTH - 20.0);
    let height = 34.0 * rows.len() as f64 + 40.0;
    html! {
        svg viewBox=(format!("0 0 {CHART_WIDTH} {height}")) role="img" {
            line x1=(format!("{:.1}", x(observed as f64))) y1="4" x2=(format!("{:.1}", x(observed as f64)))
                y2=(height - 24.0) stroke="#b33" stroke-dasharray="4 3" {}
            text x=(format!("{:.1}", x(observed as f64))) y=(height - 8.0) text-anchor="middle" fill="#b33" {
                "observed · 관측 " (observed)
            }
            @for (i, (label, lo, median, hi)) in rows.iter().enumerate() {
                @let y = 20.0 + i as f64 * 34.0;
                text x=(LABEL_WIDTH - 8.0) y=(y + 4.0) text-anchor="end" { (label) }
                line x1=(format!("{:.1}", x(*lo))) y1=(y) x2=(format!("{:.1}", x(*hi))) y2=(y) stroke="#1d1d1f" stroke-width="2" {}
                circle cx=(format!("{:.1}", x(*median))) cy=(y) r="5" fill="#3a6ea5" {}
                text x=(format!("{:.1}", x(*median))) y=(y - 9.0) text-anchor="middle" { (format!("{median:.0}")) }
            }
        }
    }
}

fn estimates_section(estimates: &Estimates) -> Markup {
    html! {
        h2 { (bilingual("How many victims no list recorded", "어느 목록에도 기록되지 않은 피해자 추정")) }
        p {
            "Multiple Systems Estimation over " (estimates.lists.len()) " lists (documenting organisations): "
            (estimates.lists.join(", ")) "."
        }
        @for warning in &estimates.warnings { p.warn { (warning) } }
        @for stratum in &estimates.strata {
            h3 {
                @match &stratum.key {
                    Some((key, en, ko)) => { (estimates.strata_by.map(|d| d.name()).unwrap_or_default()) " = " (key) ": " (en) " · " span.ko { (ko) } }
                    None => { (bilingual("All victims", "전체 피해자")) }
                }
            }
            @match &stratum.table {
                Err(error) => p.warn { "No estimate: " (error.to_string()) }
                Ok(table) => {
                    (interval_chart(table.observed(), &intervals(stratum)))
                    (estimate_table(table, stratum))
                    @for warning in &stratum.warnings { p.warn { "Warning: " (warning) } }
                }
            }
        }
    }
}

fn estimate_table(table: &CaptureTable, stratum: &Stratum) -> Markup {
    html! {
        table {
            tr { th { "Model · 모형" } th { "Median · 중앙값" } th { "95% interval · 구간" } th { "Diagnostics · 진단" } }
            @if let Some(e) = &stratum.lcmcr {
                tr {
                    td { "Latent-class (LCMCR), " (e.chains.len()) " chains" }
                    td.n { (format!("{:.0}", e.pooled.quantile(0.5))) }
                    td.n { (format!("{:.0} – {:.0}", e.pooled.quantile(0.025), e.pooled.quantile(0.975))) }
                    td { (format!("R-hat {:.3}, effective draws {:.0}", e.rhat, e.ess)) @if !e.converged() { " — not converged" } }
                }
            }
            @if let Some(Ok(p)) = &stratum.decomposable {
                tr {
                    td { "Decomposable models averaged (δ = " (p.delta) "); top: " (estimate::cliques_text(table, &p.models[0].cliques)) }
                    td.n { (p.quantile(0.5)) }
                    td.n { (p.quantile(0.025)) " – " (p.quantile(0.975)) }
                    td { (format!("top model weight {:.3}", p.models[0].weight)) }
                }
            }
            @for fit in stratum.loglinear.iter().take(3) {
                tr {
                    td { "Log-linear: " (estimate::interactions_text(table, &fit.interactions)) }
                    td.n { (format!("{:.0}", fit.population)) }
                    td.n { "—" }
                    td { (format!("AIC {:.1}, BIC {:.1}", fit.aic, fit.bic)) }
                }
            }
        }
    }
}

fn methodology(context: &Page) -> Markup {
    let notes: &Notes = &context.tabulated.notes;
    html! {
        h2 { (bilingual("How these figures were made", "산출 방법")) }
        ul {
            li {
                "Victims are persons after reviewers' linkage decisions: person records a reviewer merged count once; "
                "records never reviewed count as different persons."
                @if let Some(e) = context.estimates { @if e.request.with_proposals {
                    " The estimates also treat the unreviewed proposals of automatic linkage as the same person."
                } }
            }
            li { "A victim counts once per row; a victim with acts of several kinds (or several agencies, places…) counts in each, so rows can add up to more than the total. \"Unknown\" is a row of its own." }
            li { "Dates: an act is counted in a year only if its whole date lies in that year; acts dated to a longer span are counted apart." }
            @if let Some(k) = notes.threshold {
                li { "Disclosure control: counts below " (k) " are suppressed, and so are as many other counts as needed so that no suppressed count can be worked out from totals (complementary suppression)." }
            }
            @if notes.withheld_by_consent > 0 {
                li { (notes.withheld_by_consent) " acts are not counted because no source attesting them consented to this audience." }
            }
            @if let Some(e) = context.estimates {
                li {
                    "Lists are the documenting organisations of the sources; a victim is on a list when a source from that organisation attests one of their acts. "
                    "Multiple Systems Estimation assumes a closed population (the same victims could have been recorded by every list) and that the models capture how the lists depend on each other."
                }
                li {
                    "Latent-class model of Manrique-Vallier (2016): K = " (e.request.lcmcr.classes) " classes, α ~ Gamma("
                    (e.request.lcmcr.a_alpha) ", " (e.request.lcmcr.b_alpha) "), " (e.request.chains) " chains of "
                    (e.request.lcmcr.burn_in) " burn-in iterations and " (e.request.lcmcr.samples) " draws kept every "
                    (e.request.lcmcr.thin) " iterations, seed " (e.request.lcmcr.seed) "; convergence is read from split R-hat (≤ 1.05) and effective draws (≥ 400)."
                }
                li {
                    "Bayesian model averaging over decomposable graphical models (Madigan and York 1997, as in HRDAG's dga) with hyper-Dirichlet prior δ = "
                    (e.request.delta.map_or_else(|| "2^-lists".to_string(), |d| d.to_string()))
                    ", prior p(N) ∝ 1/N, all models equally likely a priori."
                }
                li { "Classical Poisson log-linear models with all subsets of two-way interactions (forward selection beyond five lists), ranked by BIC." }
            }
        }
    }
}
