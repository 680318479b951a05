//! Statistics: analysts and above tabulate by any dimension under any
//! conditions; viewers get the published tables only (see
//! `girok_tabulate::published`), and a request for another is refused, never
//! widened.

use super::*;
use girok_model::Wording;
use girok_tabulate::published::{self, Wanted};
use girok_tabulate::{AgeBands, AgeBandsError, NotPublished};

/// A table for a role: viewers get the public audience (consent and
/// disclosure control), everyone else the internal one.
pub struct Tabulated {
    pub table: Table,
    pub labels: Vec<(String, String)>,
    pub column_labels: Vec<(String, String)>,
    pub threshold: Option<u64>,
}

/// Why no table is given.
pub enum StatsRefusal {
    /// A parameter that does not read, and what was expected.
    Unreadable { field: String, message: Wording },
    /// A viewer asked for a table outside the published set.
    NotPublished(NotPublished),
    /// The database could not be read.
    Failed(String),
}

impl StatsRefusal {
    /// The query parameter at fault, if one is.
    pub fn field(&self) -> Option<&str> {
        match self {
            StatsRefusal::Unreadable { field, .. } => Some(field),
            StatsRefusal::NotPublished(NotPublished::Dimension(_) | NotPublished::TwoWay) => {
                Some("by")
            }
            StatsRefusal::NotPublished(NotPublished::Conditions) => Some("where"),
            StatsRefusal::NotPublished(NotPublished::AgeBands) => Some("ages"),
            StatsRefusal::NotPublished(_) | StatsRefusal::Failed(_) => None,
        }
    }

    /// What went wrong, in the reader's language.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            StatsRefusal::Unreadable { message, .. } => {
                message.in_language(lang == Lang::Ko).to_string()
            }
            StatsRefusal::Failed(message) => message.clone(),
            StatsRefusal::NotPublished(refusal) if lang == Lang::Ko => refusal.ko(),
            StatsRefusal::NotPublished(refusal) => refusal.to_string(),
        }
    }
}

impl Tabulated {
    /// The rows' totals as bars; `name` says what they count.
    pub fn chart(&self, name: &str) -> Markup {
        girok_charts::bars(
            name,
            &self
                .labels
                .iter()
                .zip(&self.table.row_totals)
                .map(|((en, ko), entry)| girok_charts::Bar {
                    label: format!("{en} · {ko}"),
                    count: entry.shown(),
                })
                .collect::<Vec<_>>(),
        )
    }
}

/// Counts distinct victims by `by` ("dim" or "rows,columns") under the
/// conditions, ages in `ages` ("0-9,10-19,20-" or the default groups).
pub fn tabulate(
    store: &Database,
    by: &str,
    conditions: Option<&str>,
    ages: Option<&str>,
    role: Role,
) -> Result<Tabulated, StatsRefusal> {
    let unreadable = |field: &str, message: Wording| StatsRefusal::Unreadable {
        field: field.to_string(),
        message,
    };
    let dimensions: Vec<Dimension> = by
        .split(',')
        .map(str::parse)
        .collect::<Result<_, Wording>>()
        .map_err(|e| unreadable("by", e))?;
    if dimensions.is_empty() || dimensions.len() > 2 {
        return Err(unreadable(
            "by",
            Wording::new(
                "one dimension, or two separated by a comma",
                "차원 하나, 또는 쉼표로 나눈 차원 둘",
            ),
        ));
    }
    let age_bands: AgeBands = match ages.map(str::trim).filter(|a| !a.is_empty()) {
        Some(text) => text.parse().map_err(|e: AgeBandsError| {
            unreadable("ages", Wording::new(e.to_string(), e.korean()))
        })?,
        None => AgeBands::default(),
    };
    let conditions = conditions.filter(|c| !c.trim().is_empty());
    // Viewers are refused before anything is counted.
    let published_dimension = match role {
        Role::Viewer => {
            let wanted = Wanted {
                by: &dimensions,
                unit: Unit::Victims,
                conditions: conditions.is_some(),
                age_bands: age_bands != AgeBands::default(),
                with_proposals: false,
            };
            Some(published::select(wanted).map_err(StatsRefusal::NotPublished)?[0])
        }
        _ => None,
    };
    let vocabularies = store.vocabularies();
    let failed = |e: StoreError| StatsRefusal::Failed(e.to_string());
    let mut facts =
        Facts::load(store, store.link_decisions().map_err(failed)?.resolved()).map_err(failed)?;
    let (table, threshold) = match published_dimension {
        Some(dimension) => {
            facts.restrict_to(Audience::Public);
            let table = published::table(&facts, dimension, vocabularies, published::THRESHOLD);
            (table, Some(published::THRESHOLD))
        }
        None => {
            let mut filter = Filter::default();
            if let Some(conditions) = conditions {
                filter
                    .add(conditions, vocabularies)
                    .map_err(|e| unreadable("where", Wording::new(e.to_string(), e.korean())))?;
            }
            let table = Table::count(
                &facts,
                dimensions[0],
                dimensions.get(1).copied(),
                Unit::Victims,
                &filter,
                vocabularies,
                &age_bands,
            );
            (table, None)
        }
    };
    let labels = table
        .row_keys
        .iter()
        .map(|key| table.rows.label(key, vocabularies))
        .collect();
    let column_labels = match table.columns {
        Some(columns) => table
            .column_keys
            .iter()
            .map(|key| columns.label(key, vocabularies))
            .collect(),
        None => Vec::new(),
    };
    Ok(Tabulated {
        table,
        labels,
        column_labels,
        threshold,
    })
}

impl Tabulated {
    /// Whether the rows add up to more than the total: one victim counted
    /// under several values (several acts, agencies, relations).
    fn rows_overlap(&self) -> bool {
        self.table.row_totals.iter().map(|e| e.count).sum::<u64>() > self.table.total.count
    }

    /// The table as CSV: a heading row, one row per value with its English
    /// and Korean label, the columns' counts (empty where withheld), the total.
    fn csv(&self) -> Result<Vec<u8>, csv::Error> {
        let shown = |entry: &girok_tabulate::Entry| {
            entry.shown().map(|n| n.to_string()).unwrap_or_default()
        };
        let mut out = csv::Writer::from_writer(Vec::new());
        let mut heading = vec![
            format!("{} (en)", self.table.rows.name()),
            format!("{} (ko)", self.table.rows.name()),
        ];
        heading.extend(
            self.column_labels
                .iter()
                .map(|(en, ko)| format!("{en} / {ko}")),
        );
        heading.push("total / 합계".to_string());
        out.write_record(&heading)?;
        for (r, (en, ko)) in self.labels.iter().enumerate() {
            let mut row = vec![en.clone(), ko.clone()];
            if let Some(cells) = self
                .table
                .cells
                .get(r)
                .filter(|_| self.table.columns.is_some())
            {
                row.extend(cells.iter().map(shown));
            }
            row.push(shown(&self.table.row_totals[r]));
            out.write_record(&row)?;
        }
        let mut total = vec!["total".to_string(), "합계".to_string()];
        if self.table.columns.is_some() {
            total.extend(self.table.column_totals.iter().map(shown));
        }
        total.push(shown(&self.table.total));
        out.write_record(&total)?;
        out.into_inner().map_err(|e| e.into_error().into())
    }
}

#[derive(Deserialize, Default, Clone)]
pub(super) struct StatsQuery {
    by: Option<String>,
    /// The columns of a two-way table (the form's second choice).
    #[serde(default)]
    then: String,
    #[serde(default, rename = "where")]
    conditions: String,
    #[serde(default)]
    ages: String,
}

impl StatsQuery {
    /// "rows" or "rows,columns".
    fn dimensions(&self) -> String {
        let by = self.by.clone().unwrap_or_else(|| "act-type".to_string());
        match self.then.trim() {
            "" => by,
            then => format!("{by},{then}"),
        }
    }

    fn run(self, app: Arc<App>, role: Role) -> Result<Tabulated, StatsRefusal> {
        let by = self.dimensions();
        app.read(|store| tabulate(store, &by, Some(&self.conditions), Some(&self.ages), role))
    }
}

/// The table of the statistics page as CSV, for the same query.
pub(super) async fn statistics_csv(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<StatsQuery>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Viewer) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let role = principal.user.role;
    let loaded = blocking(move || query.run(app, role)).await;
    let tabulated = match loaded {
        Ok(Ok(tabulated)) => tabulated,
        Ok(Err(refusal)) => {
            let status = match refusal {
                StatsRefusal::Unreadable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                StatsRefusal::NotPublished(_) => StatusCode::FORBIDDEN,
                StatsRefusal::Failed(_) => StatusCode::INTERNAL_SERVER_ERROR,
            };
            return (status, refusal.message(lang)).into_response();
        }
        Err(response) => return response,
    };
    match tabulated.csv() {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"girok-statistics.csv\"",
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            lang.t(
                "the table could not be written as CSV",
                "표를 CSV로 쓸 수 없습니다",
            ),
        )
            .into_response(),
    }
}

pub(super) async fn statistics(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<StatsQuery>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Viewer) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let role = principal.user.role;
    let by = query.by.clone().unwrap_or_else(|| "act-type".to_string());
    let then = query.then.clone();
    let (conditions, ages) = (query.conditions.clone(), query.ages.clone());
    let csv_link = format!(
        "/stats.csv?{}",
        serde_urlencoded::to_string([
            ("by", by.as_str()),
            ("then", then.as_str()),
            ("where", conditions.as_str()),
            ("ages", ages.as_str()),
        ])
        .unwrap_or_default()
    );
    let loaded = blocking(move || query.run(app, role)).await;
    let result = match loaded {
        Ok(Err(refusal @ StatsRefusal::NotPublished(_))) => {
            return not_published(lang, &principal, &refusal.message(lang));
        }
        Ok(result) => result,
        Err(response) => return response,
    };
    // Viewers choose among the published tables only.
    let choices = if role == Role::Viewer {
        published::DIMENSIONS
    } else {
        Dimension::ALL
    };
    let body = html! {
        form method="get" action="/stats" {
            label for="by" { (lang.t("Victims by", "기준")) }
            select id="by" name="by" {
                @for d in choices {
                    option value=(d.name()) selected[by == d.name()] { (description(lang, *d)) }
                }
            }
            @if role != Role::Viewer {
                label for="then" { (lang.t("and by (columns)", "열 기준")) }
                select id="then" name="then" {
                    option value="" selected[then.is_empty()] { "—" }
                    @for d in Dimension::ALL {
                        option value=(d.name()) selected[then == d.name()] { (description(lang, *d)) }
                    }
                }
                label for="where" { (lang.t("Only acts where", "조건")) }
                input id="where" name="where" value=(conditions) placeholder="year=2019..2023, place=함경북도";
                label for="ages" { (lang.t("Age bands", "연령대")) }
                input id="ages" name="ages" value=(ages) placeholder="0-9,10-19,20-39,40-";
            }
            button.primary type="submit" { (lang.t("Show", "보기")) }
        }
        @match &result {
            Err(refusal) => p.error role="alert" { (refusal.message(lang)) },
            Ok(tabulated) => {
                @if let Some(k) = tabulated.threshold {
                    p.hint { (lang.t("Public statistics: counts below", "공개 통계: ")) " " (k) " " (lang.t("and the counts that would reveal them are suppressed.", "미만의 수와 이를 드러낼 수 있는 수는 비공개입니다.")) }
                    @if tabulated.table.row_keys.is_empty() {
                        p { (lang.t(
                            "Too few victims are counted for this breakdown to be published.",
                            "집계된 피해자가 너무 적어 이 분류는 공개하지 않습니다.",
                        )) }
                    }
                }
                p { (lang.t("Victims", "피해자")) ": " (tabulated.table.total.shown().map_or("—".to_string(), |n| n.to_string())) }
                @if tabulated.rows_overlap() {
                    p.hint { (lang.t(
                        "One victim can count under several values (several acts, agencies or relations), so the rows add up to more than the total and the percentages to more than 100%.",
                        "한 피해자가 여러 값(여러 행위, 기관, 관계)에 함께 집계될 수 있어 행의 합이 전체보다 크고 백분율의 합이 100%를 넘습니다.",
                    )) }
                }
                @let shown_by = choices.iter().find(|d| d.name() == by).map(|d| description(lang, *d)).unwrap_or_default();
                (tabulated.chart(&format!("{} {shown_by}", lang.t("Victims by", "피해자 기준:"))))
                @let label = |(en, ko): &(String, String)| if lang == Lang::Ko { ko.clone() } else { en.clone() };
                @let shown = |entry: &girok_tabulate::Entry| entry.shown().map_or(girok_charts::WITHHELD.to_string(), |n| n.to_string());
                table {
                    thead {
                        tr {
                            th scope="col" { (description(lang, tabulated.table.rows)) }
                            @for column in &tabulated.column_labels {
                                th.n scope="col" { (label(column)) }
                            }
                            th.n scope="col" { (lang.t("Victims", "피해자")) }
                            @if tabulated.table.columns.is_none() {
                                th.n scope="col" { "%" }
                            }
                        }
                    }
                    tbody {
                        @for (r, (row_label, entry)) in tabulated.labels.iter().zip(&tabulated.table.row_totals).enumerate() {
                            tr {
                                th scope="row" { (label(row_label)) }
                                @if tabulated.table.columns.is_some() {
                                    @for cell in tabulated.table.cells.get(r).into_iter().flatten() {
                                        td.n { (shown(cell)) }
                                    }
                                }
                                td.n { (shown(entry)) }
                                @if tabulated.table.columns.is_none() {
                                    td.n { (tabulated.table.percent(entry).map(|p| format!("{p:.1}%")).unwrap_or_default()) }
                                }
                            }
                        }
                    }
                    @if tabulated.table.columns.is_some() {
                        tfoot {
                            tr {
                                th scope="row" { (lang.t("Total", "합계")) }
                                @for entry in &tabulated.table.column_totals {
                                    td.n { (shown(entry)) }
                                }
                                td.n { (shown(&tabulated.table.total)) }
                            }
                        }
                    }
                }
                p { a href=(csv_link) download { (lang.t("Download this table (CSV)", "이 표 내려받기 (CSV)")) } }
            }
        }
    };
    page(lang, &principal, lang.t("Statistics", "통계"), body)
}

fn description(lang: Lang, dimension: Dimension) -> &'static str {
    if lang == Lang::Ko {
        dimension.description_ko()
    } else {
        dimension.description()
    }
}

/// The page that refuses a viewer a table outside the published set,
/// with links to the tables of the set.
fn not_published(lang: Lang, principal: &Principal, message: &str) -> Response {
    let body = html! {
        p role="alert" { (message) }
        p { (lang.t(
            "Viewers see the published tables: the same fixed tables for everyone, from which no withheld count can be narrowed down to one value. Analysts can make other tables.",
            "열람자는 공개 표를 봅니다. 모두에게 같은 고정된 표이며, 어떤 비공개 수도 이 표들로부터 하나의 값으로 좁혀 알아낼 수 없습니다. 다른 표는 분석가가 만들 수 있습니다.",
        )) }
        ul {
            @for d in published::DIMENSIONS {
                li { a href=(format!("/stats?by={}", d.name())) { (description(lang, *d)) } }
            }
        }
    };
    let title = lang.t("Not a published table", "공개 표가 아닙니다");
    (StatusCode::FORBIDDEN, page(lang, principal, title, body)).into_response()
}
