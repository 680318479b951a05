//! The report: one self-contained HTML page (no scripts, no external
//! resources) with SVG charts, bilingual labels, and methodology notes
//! written from what was actually computed. The command line writes it to a
//! file; the web application makes it in a background job and hands it out
//! like an export.

pub mod tables;

use girok_charts::WITHHELD;
use girok_estimate::{EstimateError, Estimates, Stratum};
use girok_model::{RecordKind, Wording};
use girok_stats::CaptureTable;
use girok_store::{Database, Store, StoreError};
use girok_tabulate::{Audience, Dimension, Table, Unit};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::tables::{Notes, Tabulated};

/// Why no report (or table) was made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// What was asked cannot be given (a table the audience may not have, a
    /// condition that cannot be read): the reader's to change.
    #[error("{0}")]
    Refused(Wording),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Estimate(#[from] EstimateError),
}

impl ReportError {
    /// What to say in Korean; `None` for a failure, shown as it is worded.
    pub fn korean(&self) -> Option<String> {
        match self {
            ReportError::Refused(wording) => Some(wording.korean().to_string()),
            ReportError::Store(error) => error.korean(),
            ReportError::Estimate(error) => error.korean(),
        }
    }
}

/// A report made: the page, and what it holds.
pub struct Report {
    pub html: String,
    pub tables: usize,
    pub estimated: bool,
}

const STYLE: &str = "
body{font-family:system-ui,'Noto Sans KR','Apple SD Gothic Neo','Malgun Gothic',sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f;line-height:1.5}
h1{font-size:1.7rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.2rem .6rem;border-bottom:1px solid #e5e5e5;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.ko{color:#555}.warn{background:#fff4e5;border-left:4px solid #e8a33d;padding:.4rem .8rem;margin:.4rem 0}
svg{width:100%;height:auto}svg text{font-size:12px;fill:#1d1d1f}code{font-size:.85em;word-break:break-all}
footer{margin-top:3rem;color:#666;font-size:.9rem}
";

/// The report of `store` for the request's audience: the standard tables
/// (the published ones for partners and the public), and the estimates
/// unless `with_estimate` is false.
pub fn render(
    store: &Database,
    request: &girok_estimate::Request,
    min_cell: Option<u64>,
    with_estimate: bool,
) -> Result<Report, ReportError> {
    let tabulated = tables::tabulate(
        store,
        &tables::Request {
            by: &[],
            conditions: &request.conditions,
            unit: Unit::Victims,
            audience: request.audience,
            min_cell,
            age_bands: &girok_tabulate::AgeBands::default(),
            // The tables count the persons the estimate counts.
            with_proposals: request.with_proposals,
        },
    )?;
    let estimates = if with_estimate {
        Some(girok_estimate::compute(store, request)?)
    } else {
        None
    };
    let (journal_size, root) = store.tree_head()?;
    let counts = [RecordKind::Source, RecordKind::Person, RecordKind::Act]
        .map(|kind| store.count(kind))
        .into_iter()
        .collect::<Result<Vec<u64>, _>>()?;
    let page = page(&Page {
        store,
        tabulated: &tabulated,
        estimates: estimates.as_ref(),
        journal_size,
        root: hex::encode(root),
        counts: &counts,
        generated: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
    });
    Ok(Report {
        html: page.into_string(),
        tables: tabulated.tables.len(),
        estimated: estimates.is_some(),
    })
}

struct Page<'a> {
    store: &'a Database,
    tabulated: &'a Tabulated,
    estimates: Option<&'a Estimates>,
    journal_size: u64,
    root: String,
    counts: &'a [u64],
    generated: String,
}

/// "English · 한국어" headings.
fn bilingual(en: &str, ko: &str) -> Markup {
    html! { (en) " · " span.ko { (ko) } }
}

fn page(context: &Page) -> Markup {
    let notes = &context.tabulated.notes;
    let total = context
        .tabulated
        .tables
        .first()
        .map(|t| t.total.shown())
        .unwrap_or(Some(0));
    let (audience_en, audience_ko) = (notes.audience.name(), notes.audience.ko());
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
    count.map_or_else(|| WITHHELD.to_string(), |c| c.to_string())
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
        (girok_charts::bars(&format!("{} · {}", table.rows.description(), table.rows.description_ko()), &rows.iter().map(|(en, ko, count, _)| girok_charts::Bar {
            label: format!("{en} · {ko}"),
            count: *count,
        }).collect::<Vec<_>>()))
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

fn years_section(context: &Page, table: &Table) -> Markup {
    let vocabularies = context.store.vocabularies();
    let years: Vec<(i32, Option<u64>)> = table
        .row_keys
        .iter()
        .zip(&table.row_totals)
        .filter_map(|(key, entry)| Some((key.parse::<i32>().ok()?, entry.shown())))
        .collect();
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
        @if !years.is_empty() {
            (girok_charts::years("Victims over time, by the year of the act · 연도별 피해자 (행위 발생 연도)", &years))
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

fn estimates_section(estimates: &Estimates) -> Markup {
    html! {
        h2 { (bilingual("How many victims no list recorded", "어느 목록에도 기록되지 않은 피해자 추정")) }
        p {
            "Multiple Systems Estimation over " (estimates.lists.len()) " lists (documenting organisations): "
            (estimates.lists.join(", ")) "."
        }
        @for warning in &estimates.warnings { p.warn { (bilingual(warning.english(), warning.korean())) } }
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
                    (girok_charts::intervals("Estimated number of victims, with 95% intervals, against the number observed · 추정 피해자 수와 95% 구간, 관측 수와 비교", "observed · 관측", table.observed() as f64, &stratum.chart_rows()))
                    (estimate_table(table, stratum))
                    @for warning in &stratum.warnings { p.warn { "Warning · 경고: " (bilingual(warning.english(), warning.korean())) } }
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
                    td { "Decomposable models averaged (δ = " (p.delta) "); top: " (girok_estimate::cliques_text(table, &p.models[0].cliques)) }
                    td.n { (p.quantile(0.5)) }
                    td.n { (p.quantile(0.025)) " – " (p.quantile(0.975)) }
                    td { (format!("top model weight {:.3}", p.models[0].weight)) }
                }
            }
            @for fit in stratum.loglinear.iter().take(3) {
                tr {
                    td { "Log-linear: " (girok_estimate::interactions_text(table, &fit.interactions)) }
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
            @if notes.audience != Audience::Internal {
                li {
                    "These are the published tables: the same one-way tables for every partner and the public, without conditions, so that no suppressed count can be worked out by setting one table against another. · "
                    span.ko { "공개 표: 모든 협력기관과 일반에 같은 1차원 표이며, 조건을 붙이지 않아 표끼리 맞대어 비공개 수를 알아낼 수 없습니다." }
                }
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
