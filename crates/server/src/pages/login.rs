//! Signing in and out, and the language switch.

use super::*;
use crate::access::SignIn;

#[derive(Deserialize)]
pub(super) struct LoginForm {
    name: String,
    password: String,
    token: String,
}

fn login_page(lang: Lang, token: &str, error: Option<&str>) -> Response {
    let body = html! {
        @if let Some(error) = error { p.error role="alert" { (error) } }
        form method="post" action="/login" {
            input type="hidden" name="token" value=(token);
            label for="name" { (lang.t("User name", "사용자 이름")) }
            input id="name" name="name" autocomplete="username" required;
            label for="password" { (lang.t("Password", "비밀번호")) }
            input id="password" name="password" type="password" autocomplete="current-password" required;
            button.primary type="submit" { (lang.t("Sign in", "로그인")) }
        }
    };
    (
        [(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, token, 3600))],
        layout(lang, None, lang.t("Sign in", "로그인"), body),
    )
        .into_response()
}

pub(super) async fn login_form(headers: HeaderMap) -> Response {
    login_page(Lang::of(&headers), &random_hex(16), None)
}

pub(super) async fn login(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    connect: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = Lang::of(&headers);
    // The form's token must be the one this browser was given.
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(form.token.as_bytes())) {
        return login_page(
            lang,
            &random_hex(16),
            Some(lang.t(
                "The sign-in form expired. Please try again.",
                "로그인 양식이 만료되었습니다. 다시 시도하세요.",
            )),
        );
    }
    let client =
        crate::auth::client_key(&app.trusted_proxies, connect.map(|c| c.0.0.ip()), &headers);
    let (name, password) = (form.name, form.password);
    let outcome =
        match blocking(move || app.with_access(|access| access.sign_in(&name, &password, &client)))
            .await
        {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(error)) => return internal(error),
            Err(response) => return response,
        };
    match outcome {
        SignIn::Started(token, _) => (
            // Two cookies: appended, not one replacing the other.
            AppendHeaders([
                (
                    header::SET_COOKIE,
                    set_cookie(SESSION_COOKIE, &token, 8 * 3600),
                ),
                (header::SET_COOKIE, set_cookie(LOGIN_COOKIE, "", 0)),
            ]),
            Redirect::to("/"),
        )
            .into_response(),
        SignIn::WrongPassword => (
            StatusCode::UNAUTHORIZED,
            login_page(
                lang,
                &random_hex(16),
                Some(lang.t(
                    "Wrong user name or password.",
                    "사용자 이름 또는 비밀번호가 틀렸습니다.",
                )),
            ),
        )
            .into_response(),
        SignIn::Limited => (
            StatusCode::TOO_MANY_REQUESTS,
            login_page(
                lang,
                &random_hex(16),
                Some(lang.t(
                    "Too many failed sign-ins. Wait 15 minutes and try again.",
                    "로그인 실패가 너무 많습니다. 15분 후 다시 시도하세요.",
                )),
            ),
        )
            .into_response(),
    }
}

pub(super) async fn logout(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let principal = match submitted_by(&app, &headers, Role::Viewer, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    if let Some((token, _)) = &principal.session {
        let token = token.clone();
        let ended = blocking(move || app.with_access(|access| access.end_session(&token))).await;
        if let Err(response) = ended {
            return response;
        }
    }
    (
        [(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0))],
        Redirect::to("/login"),
    )
        .into_response()
}

#[derive(Deserialize)]
pub(super) struct Back {
    back: Option<String>,
}

pub(super) async fn switch_language(
    Path(lang): Path<String>,
    headers: HeaderMap,
    Query(back): Query<Back>,
) -> Response {
    let code = if lang == "ko" { "ko" } else { "en" };
    let referer_path = || {
        headers
            .get(header::REFERER)
            .and_then(|r| r.to_str().ok())
            .and_then(|r| r.find("://").map(|i| &r[i + 3..]))
            .and_then(|r| r.find('/').map(|i| &r[i..]))
    };
    let target = match back.back.as_deref() {
        Some(back) => local_path(back),
        None => referer_path().and_then(local_path),
    }
    .unwrap_or("/");
    (
        [(
            header::SET_COOKIE,
            set_cookie(LANG_COOKIE, code, 365 * 24 * 3600),
        )],
        Redirect::to(target),
    )
        .into_response()
}

/// A path on this site, or `None`: one leading '/' not followed by '/' or a
/// backslash (browsers read either as the start of another host), and no
/// control character or whitespace (browsers drop tabs and newlines, so
/// "/TAB/host" reads as "//host"; a control character would not even
/// fit in the Location header).
fn local_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix('/')?;
    let local = !rest.starts_with(['/', '\\'])
        && !path.chars().any(|c| c.is_control() || c.is_whitespace());
    local.then_some(path)
}
