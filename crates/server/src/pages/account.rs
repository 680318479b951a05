//! A user's own account: who they are, their role, and the time zone their
//! pages show times in, which they choose themselves.

use super::*;

#[derive(Deserialize, Default)]
pub(super) struct AccountForm {
    #[serde(default)]
    csrf: String,
    /// A time zone database name ("Asia/Seoul"); empty for the server's.
    #[serde(default)]
    time_zone: String,
}

#[derive(Deserialize, Default)]
pub(super) struct AccountQuery {
    /// `?saved=1`: the time zone was just set.
    #[serde(default)]
    saved: Option<String>,
}

fn account_page(
    lang: Lang,
    principal: &Principal,
    saved: bool,
    typed: &str,
    problem: Option<&str>,
) -> Markup {
    let zone = principal.time_zone();
    html! {
        @if saved {
            div.saved role="status" { p { strong { (lang.t("Saved.", "저장했습니다.")) } " " (lang.t(
                "Your pages now show times in the time zone you chose.",
                "이제 고른 시간대로 시각을 보여 줍니다.",
            )) } }
        }
        table.fields {
            tr { th { (lang.t("Name", "이름")) } td { (principal.user.name) } }
            tr { th { (lang.t("Role", "역할")) } td { (role_label(lang, principal.user.role)) } }
            tr { th { (lang.t("Times shown in", "시각 표시 기준")) } td {
                @match zone {
                    Some(zone) => { (zone.name()) }
                    None => { (lang.t("the server's time zone", "서버의 시간대")) }
                }
                " · " (lang.t("now", "지금")) " " (readable::local_time(&girok_journal::format_time(chrono::Utc::now()), zone))
            } }
        }
        form method="post" action="/account" {
            input type="hidden" name="csrf" value=(principal.csrf());
            div class=(if problem.is_some() { "field-error" } else { "" }) {
                label for="time_zone" { (lang.t("Your time zone (for example Asia/Seoul; empty: the server's)", "내 시간대 (예: Asia/Seoul, 비우면 서버 시간대)")) }
                input id="time_zone" name="time_zone" list="time-zones" autocomplete="off"
                    value=(if problem.is_some() { typed.to_string() } else { zone.map(|z| z.name().to_string()).unwrap_or_default() })
                    aria-invalid=[problem.map(|_| "true")];
                datalist id="time-zones" { @for zone in chrono_tz::TZ_VARIANTS { option value=(zone.name()) {} } }
                @if let Some(problem) = problem { div.error role="alert" id="time_zone-error" { (problem) } }
            }
            div.actions { button.primary type="submit" id="save-account" { (lang.t("Save", "저장")) } }
        }
    }
}

pub(super) async fn account(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<AccountQuery>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Viewer) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let body = account_page(lang, &principal, query.saved.is_some(), "", None);
    page(lang, &principal, lang.t("Your account", "내 계정"), body)
}

pub(super) async fn set_time_zone(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<AccountForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Viewer, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let name = principal.user.name.clone();
    let zone = form.time_zone.clone();
    match blocking(move || app.with_access(|access| access.set_time_zone(&name, &zone))).await {
        Ok(Ok(())) => Redirect::to("/account?saved=1").into_response(),
        Ok(Err(error @ crate::access::AccessError::BadTimeZone(_))) => {
            let said = lang.said(&error, error.korean());
            let body = account_page(lang, &principal, false, &form.time_zone, Some(&said));
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                page(lang, &principal, lang.t("Your account", "내 계정"), body),
            )
                .into_response()
        }
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}
