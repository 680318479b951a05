//! Statistics by any dimension, with the role deciding the audience.

use super::*;
use girok_tabulate::{AgeBands, AgeBandsError};

/// A table for a role: viewers get the public audience (consent and
/// disclosure control), everyone else the internal one.
pub struct Tabulated {
    pub table: Table,
    pub labels: Vec<(String, String)>,
    pub threshold: Option<u64>,
}

impl Tabulated {
    pub fn chart(&self) -> Markup {
        girok_charts::bars(
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
/// conditions, ages in `ages` ("0-9,10-19,20-" or the default groups);
/// errors name the parameter at fault.
pub fn tabulate(
    store: &SqliteStore,
    by: &str,
    conditions: Option<&str>,
    ages: Option<&str>,
    role: Role,
) -> Result<Tabulated, (String, String)> {
    let dimensions: Vec<Dimension> = by
        .split(',')
        .map(str::parse)
        .collect::<Result<_, String>>()
        .map_err(|e| ("by".to_string(), e))?;
    if dimensions.is_empty() || dimensions.len() > 2 {
        return Err((
            "by".into(),
            "one dimension, or two separated by a comma".into(),
        ));
    }
    let age_bands: AgeBands = match ages.map(str::trim).filter(|a| !a.is_empty()) {
        Some(text) => text
            .parse()
            .map_err(|e: AgeBandsError| ("ages".to_string(), e.to_string()))?,
        None => AgeBands::default(),
    };
    let vocabularies = store.vocabularies();
    let mut filter = Filter::default();
    if let Some(conditions) = conditions.filter(|c| !c.trim().is_empty()) {
        filter
            .add(conditions, vocabularies)
            .map_err(|e| ("where".to_string(), e.to_string()))?;
    }
    let internal = |e: StoreError| ("".to_string(), e.to_string());
    let mut facts = Facts::load(store, store.link_decisions().map_err(internal)?.resolved())
        .map_err(internal)?;
    let audience = if role >= Role::Analyst {
        Audience::Internal
    } else {
        Audience::Public
    };
    facts.restrict_to(audience);
    let threshold = audience.default_threshold();
    let table = Table::count(
        &facts,
        dimensions[0],
        dimensions.get(1).copied(),
        Unit::Victims,
        &filter,
        vocabularies,
        &age_bands,
    )
    .suppressed(threshold);
    let labels = table
        .row_keys
        .iter()
        .map(|key| table.rows.label(key, vocabularies))
        .collect();
    Ok(Tabulated {
        table,
        labels,
        threshold,
    })
}

#[derive(Deserialize, Default)]
pub(super) struct StatsQuery {
    by: Option<String>,
    #[serde(default, rename = "where")]
    conditions: String,
    #[serde(default)]
    ages: String,
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
    let (conditions, ages) = (query.conditions.clone(), query.ages.clone());
    let work = (by.clone(), conditions.clone(), ages.clone());
    let loaded = blocking(move || {
        let (by, conditions, ages) = work;
        app.read(|store| tabulate(store, &by, Some(&conditions), Some(&ages), role))
    })
    .await;
    let result = match loaded {
        Ok(result) => result,
        Err(response) => return response,
    };
    let vocab_label = |d: Dimension| {
        if lang == Lang::Ko {
            d.description_ko()
        } else {
            d.description()
        }
    };
    let body = html! {
        form method="get" action="/stats" {
            label for="by" { (lang.t("Victims by", "기준")) }
            select id="by" name="by" {
                @for d in Dimension::ALL {
                    option value=(d.name()) selected[by == d.name()] { (vocab_label(*d)) }
                }
            }
            label for="where" { (lang.t("Only acts where", "조건")) }
            input id="where" name="where" value=(conditions) placeholder="year=2019..2023, place=함경북도";
            label for="ages" { (lang.t("Age bands", "연령대")) }
            input id="ages" name="ages" value=(ages) placeholder="0-9,10-19,20-39,40-";
            button.primary type="submit" { (lang.t("Show", "보기")) }
        }
        @match &result {
            Err((_, message)) => p.error role="alert" { (message) },
            Ok(tabulated) => {
                @if let Some(k) = tabulated.threshold {
                    p.hint { (lang.t("Public statistics: counts below", "공개 통계: ")) " " (k) " " (lang.t("and the counts that would reveal them are suppressed.", "미만의 수와 이를 드러낼 수 있는 수는 비공개입니다.")) }
                }
                p { (lang.t("Victims", "피해자")) ": " (tabulated.table.total.shown().map_or("—".to_string(), |n| n.to_string())) }
                (tabulated.chart())
                table {
                    @for ((en, ko), entry) in tabulated.labels.iter().zip(&tabulated.table.row_totals) {
                        tr {
                            td { (if lang == Lang::Ko { ko } else { en }) }
                            td.n { (entry.shown().map_or(girok_charts::WITHHELD.to_string(), |n| n.to_string())) }
                            td.n { (tabulated.table.percent(entry).map(|p| format!("{p:.1}%")).unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    };
    page(lang, &principal, lang.t("Statistics", "통계"), body)
}
