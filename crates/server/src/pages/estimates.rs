//! Multiple systems estimates with their interval chart.

use super::*;

#[derive(Deserialize, Default)]
pub(super) struct EstimateQuery {
    #[serde(default, rename = "where")]
    conditions: String,
    #[serde(default)]
    proposals: Option<String>,
    #[serde(default)]
    run: Option<String>,
}

pub(super) async fn estimates(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<EstimateQuery>,
) -> Response {
    let lang = Lang::of(&headers);
    let title = lang.t(
        "How many victims no list recorded",
        "기록되지 않은 피해자 추정",
    );
    let principal = match signed_in(&app, &headers, Role::Analyst) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let form = html! {
        form method="get" action="/estimates" {
            label for="where" { (lang.t("Victims of acts where", "조건")) }
            input id="where" name="where" value=(query.conditions) placeholder="act-type=arrest, year=2000..2019";
            label { input type="checkbox" name="proposals" value="1" checked[query.proposals.is_some()] style="width:auto";
                " " (lang.t("Also treat the unreviewed duplicate proposals as one person", "검토되지 않은 중복 제안도 같은 사람으로 간주")) }
            input type="hidden" name="run" value="1";
            button.primary type="submit" { (lang.t("Estimate (takes seconds)", "추정 (몇 초 걸림)")) }
        }
    };
    if query.run.is_none() {
        return page(lang, &principal, title, form);
    }
    let request = girok_estimate::Request {
        conditions: [query.conditions.clone()]
            .into_iter()
            .filter(|c| !c.trim().is_empty())
            .collect(),
        strata: None,
        lists: Vec::new(),
        lcmcr: girok_stats::lcmcr::Settings {
            samples: 2_000,
            burn_in: 5_000,
            thin: 10,
            ..Default::default()
        },
        chains: 4,
        delta: None,
        with_proposals: query.proposals.is_some(),
        audience: Audience::Internal,
        linkage_draws: None,
    };
    let computed =
        blocking(move || app.read(|store| girok_estimate::compute(store, &request))).await;
    let estimates = match computed {
        Ok(Ok(estimates)) => estimates,
        Ok(Err(error)) => {
            let body =
                html! { (form) p.error role="alert" { (lang.said(&error, error.korean())) } };
            return (StatusCode::BAD_REQUEST, page(lang, &principal, title, body)).into_response();
        }
        Err(response) => return response,
    };
    let body = html! {
        (form)
        p { (lang.t("Lists (documenting organisations)", "목록 (기록 기관)")) ": " (estimates.lists.join(", ")) }
        @for warning in &estimates.warnings { p.error { (warning.in_language(lang == Lang::Ko)) } }
        @for stratum in &estimates.strata {
            @match &stratum.table {
                Err(error) => p.error role="alert" { (lang.t("No estimate:", "추정 불가:")) " " (lang.t(&error.to_string(), &error.korean())) },
                Ok(table) => {
                    p { (lang.t("Observed", "관측")) ": " (table.observed()) }
                    @let rows = stratum.chart_rows();
                    (girok_charts::intervals(lang.t("Estimated number of victims, with 95% intervals, against the number observed", "추정 피해자 수와 95% 구간, 관측 수와 비교"), lang.t("observed", "관측"), table.observed() as f64, &rows))
                    table.figures {
                        thead { tr {
                            th scope="col" { (lang.t("Model", "모형")) }
                            th.n scope="col" { (lang.t("2.5%", "2.5%")) }
                            th.n scope="col" { (lang.t("Median", "중앙값")) }
                            th.n scope="col" { (lang.t("97.5%", "97.5%")) }
                        } }
                        tbody { @for row in &rows { tr {
                            th scope="row" { (row.label) }
                            @if row.has_interval() {
                                td.n { (format!("{:.0}", row.low)) }
                                td.n { (format!("{:.0}", row.median)) }
                                td.n { (format!("{:.0}", row.high)) }
                            } @else {
                                td.n { "—" }
                                td.n { (format!("{:.0}", row.median)) " " span.hint { (lang.t("(a point estimate, no interval)", "(점 추정, 구간 없음)")) } }
                                td.n { "—" }
                            }
                        } } }
                    }
                    @for warning in &stratum.warnings { p.warn { strong { (lang.t("Warning:", "경고:")) } " " (warning.in_language(lang == Lang::Ko)) } }
                }
            }
        }
        p.hint { (lang.t("Four chains of the latent-class model (K = 10), model averaging over decomposable graphs and log-linear models. The report (a format of the Export page) runs longer chains.",
                         "잠재계층 모형(K = 10) 4개 사슬, 분해가능 그래프 모형 평균, 로그선형 모형. 보고서(내보내기 페이지의 형식)는 더 긴 사슬을 실행합니다.")) }
    };
    page(lang, &principal, title, body)
}
