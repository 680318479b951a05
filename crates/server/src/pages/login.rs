//! Signing in and out (a password, then a code where a second factor is
//! set up), setting up a second factor, and the language switch.

use super::*;
use crate::access::{SecondFactor, SecondStep, SignIn};
use crate::auth::{CHALLENGE_COOKIE, require_session};

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
    let client = crate::auth::client_key(
        &app.settings.trusted_proxies,
        connect.map(|c| c.0.0.ip()),
        &headers,
    );
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
        SignIn::SecondStep(token) => (
            AppendHeaders([
                (
                    header::SET_COOKIE,
                    set_cookie(
                        CHALLENGE_COOKIE,
                        &token,
                        crate::access::SECOND_STEP_TIME.as_secs() as i64,
                    ),
                ),
                (header::SET_COOKIE, set_cookie(LOGIN_COOKIE, "", 0)),
            ]),
            Redirect::to("/login/code"),
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

fn code_page(lang: Lang, csrf: &str, error: Option<&str>) -> Response {
    let body = html! {
        @if let Some(error) = error { p.error role="alert" { (error) } }
        form method="post" action="/login/code" {
            input type="hidden" name="csrf" value=(csrf);
            label for="code" { (lang.t("Code from your authenticator app, or a recovery code", "인증 앱의 코드 또는 복구 코드")) }
            input id="code" name="code" autocomplete="one-time-code" inputmode="text" required autofocus;
            button.primary type="submit" { (lang.t("Sign in", "로그인")) }
        }
        p.hint { (lang.t("The code changes every 30 seconds. Lost your device? Use one of your recovery codes, or ask an admin to reset your second factor.", "코드는 30초마다 바뀝니다. 기기를 잃어버렸다면 복구 코드를 쓰거나 관리자에게 2단계 인증 초기화를 요청하세요.")) }
    };
    layout(lang, None, lang.t("Two-step sign-in", "2단계 로그인"), body).into_response()
}

/// Back to the password, when the second step expired or never began.
fn sign_in_again(lang: Lang) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::SET_COOKIE, set_cookie(CHALLENGE_COOKIE, "", 0))],
        login_page(
            lang,
            &random_hex(16),
            Some(lang.t(
                "The sign-in expired. Please enter your password again.",
                "로그인이 만료되었습니다. 비밀번호를 다시 입력하세요.",
            )),
        ),
    )
        .into_response()
}

pub(super) async fn code_form(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let token = cookie(&headers, CHALLENGE_COOKIE)
        .unwrap_or_default()
        .to_string();
    match blocking(move || app.with_access(|access| access.challenge(&token))).await {
        Ok(Ok(Some((_, csrf)))) => code_page(lang, &csrf, None),
        Ok(Ok(None)) => sign_in_again(lang),
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
pub(super) struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

pub(super) async fn code(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    connect: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    Form(form): Form<CodeForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let token = cookie(&headers, CHALLENGE_COOKIE)
        .unwrap_or_default()
        .to_string();
    let client = crate::auth::client_key(
        &app.settings.trusted_proxies,
        connect.map(|c| c.0.0.ip()),
        &headers,
    );
    let csrf = form.csrf.clone();
    let outcome = match blocking(move || {
        app.with_access(|access| access.second_step(&token, &form.csrf, &form.code, &client))
    })
    .await
    {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    match outcome {
        SecondStep::Started(token, _) => (
            AppendHeaders([
                (
                    header::SET_COOKIE,
                    set_cookie(SESSION_COOKIE, &token, 8 * 3600),
                ),
                (header::SET_COOKIE, set_cookie(CHALLENGE_COOKIE, "", 0)),
            ]),
            Redirect::to("/"),
        )
            .into_response(),
        SecondStep::Expired => sign_in_again(lang),
        SecondStep::WrongCode => (
            StatusCode::UNAUTHORIZED,
            code_page(
                lang,
                &csrf,
                Some(lang.t(
                    "Wrong or already used code.",
                    "코드가 틀렸거나 이미 사용되었습니다.",
                )),
            ),
        )
            .into_response(),
        SecondStep::Limited => (
            StatusCode::TOO_MANY_REQUESTS,
            code_page(
                lang,
                &csrf,
                Some(lang.t(
                    "Too many failed sign-ins. Wait 15 minutes and try again.",
                    "로그인 실패가 너무 많습니다. 15분 후 다시 시도하세요.",
                )),
            ),
        )
            .into_response(),
    }
}

/// What the second-factor page shows besides its forms.
enum Shown {
    Nothing,
    Error(&'static str, &'static str),
    RecoveryCodes(Vec<String>),
    Restarted,
}

fn second_factor_page(
    lang: Lang,
    principal: &Principal,
    state: &SecondFactor,
    required: bool,
    shown: Shown,
) -> Response {
    let name = &principal.user.name;
    let body = html! {
        @match &shown {
            Shown::Error(en, ko) => p.error role="alert" { (lang.t(en, ko)) },
            Shown::Restarted => p role="status" { (lang.t("Your second factor was removed. Set up a new one below.", "2단계 인증이 삭제되었습니다. 아래에서 새로 설정하세요.")) },
            Shown::RecoveryCodes(codes) => {
                p role="status" { strong { (lang.t("Two-step sign-in is on.", "2단계 로그인이 켜졌습니다.")) } }
                p { (lang.t("Recovery codes, shown only now: keep them apart from your device. Each signs in once instead of a code.", "복구 코드 (지금만 표시됨): 기기와 따로 보관하세요. 각 코드는 한 번씩 코드 대신 로그인에 쓸 수 있습니다.")) }
                ul id="recovery-codes" { @for code in codes { li { code { (code) } } } }
            }
            Shown::Nothing => {}
        }
        @match state {
            SecondFactor::On { recovery_codes_left } => {
                p id="second-factor-state" { (lang.t("Two-step sign-in is on. Recovery codes left: ", "2단계 로그인이 켜져 있습니다. 남은 복구 코드: ")) (recovery_codes_left) }
                h2 { (lang.t("Start again", "다시 설정")) }
                p.hint { (lang.t("A new device, or new recovery codes: enter a current code to remove this second factor and set up a new one.", "새 기기 또는 새 복구 코드: 현재 코드를 입력하면 이 2단계 인증을 지우고 새로 설정합니다.")) }
                form method="post" action="/account/second-factor" {
                    input type="hidden" name="csrf" value=(principal.csrf());
                    input type="hidden" name="action" value="restart";
                    label for="code" { (lang.t("Current code or a recovery code", "현재 코드 또는 복구 코드")) }
                    input id="code" name="code" autocomplete="one-time-code" required;
                    button.primary type="submit" { (lang.t("Remove and start again", "지우고 다시 설정")) }
                }
            }
            SecondFactor::Pending(secret) => {
                @let uri = crate::totp::otpauth_uri(crate::access::ISSUER, name, secret);
                @if required {
                    p role="status" { (lang.t("Your role signs in with a second factor. Set it up to go on.", "이 역할은 2단계 로그인이 필요합니다. 계속하려면 설정하세요.")) }
                }
                p { (lang.t("Add this account to an authenticator app (any app for TOTP codes) by scanning the code or typing the secret, then enter the 6-digit code it shows.", "인증 앱(TOTP 코드 앱)에서 QR 코드를 스캔하거나 비밀 키를 입력해 이 계정을 추가한 뒤, 앱에 표시되는 6자리 코드를 입력하세요.")) }
                @if let Some(svg) = crate::totp::qr_svg(&uri) {
                    div id="qr" { (PreEscaped(svg)) }
                }
                p { (lang.t("Secret: ", "비밀 키: ")) code id="secret" { (crate::totp::base32(secret)) } }
                p.hint { (lang.t("Or open this link on the device: ", "또는 기기에서 이 링크를 여세요: ")) code id="otpauth" { (uri) } }
                form method="post" action="/account/second-factor" {
                    input type="hidden" name="csrf" value=(principal.csrf());
                    input type="hidden" name="action" value="confirm";
                    label for="code" { (lang.t("Code from the app", "앱의 코드")) }
                    input id="code" name="code" autocomplete="one-time-code" inputmode="numeric" required;
                    button.primary type="submit" { (lang.t("Turn on two-step sign-in", "2단계 로그인 켜기")) }
                }
            }
            SecondFactor::Off => {}
        }
    };
    page(
        lang,
        principal,
        lang.t("Two-step sign-in", "2단계 로그인"),
        body,
    )
}

/// The factor to show: the one set up, or a secret to enrol with.
fn factor_to_show(
    access: &crate::access::AccessStore,
    user: &crate::access::User,
) -> Result<(SecondFactor, bool), crate::access::AccessError> {
    let state = match access.second_factor(&user.name)? {
        SecondFactor::Off => SecondFactor::Pending(access.begin_enrolment(&user.name)?),
        state => state,
    };
    Ok((state, access.second_factor_required(user.role)?))
}

pub(super) async fn second_factor(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let principal = match require_session(&app, &headers) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let user = principal.user.clone();
    match blocking(move || app.with_access(|access| factor_to_show(access, &user))).await {
        Ok(Ok((state, required))) => {
            second_factor_page(lang, &principal, &state, required, Shown::Nothing)
        }
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
pub(super) struct SecondFactorForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    code: String,
}

/// Confirms enrolment with a code, or removes the factor to start again.
pub(super) async fn change_second_factor(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<SecondFactorForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match require_session(&app, &headers)
        .and_then(|p| check_csrf(&p, Some(&form.csrf), Flavor::Page).map(|()| p))
    {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let user = principal.user.clone();
    let done = blocking(move || {
        app.with_access(|access| {
            let shown = match form.action.as_str() {
                "confirm" => match access.confirm_enrolment(&user.name, &form.code)? {
                    Some(codes) => Shown::RecoveryCodes(codes),
                    None => Shown::Error(
                        "Wrong code: check the device's clock and try the code shown now.",
                        "코드가 틀렸습니다. 기기의 시계를 확인하고 지금 표시된 코드를 입력하세요.",
                    ),
                },
                "restart" => {
                    if access.restart_second_factor(&user.name, &form.code)? {
                        Shown::Restarted
                    } else {
                        Shown::Error(
                            "Wrong or already used code.",
                            "코드가 틀렸거나 이미 사용되었습니다.",
                        )
                    }
                }
                _ => Shown::Error("Unknown action.", "알 수 없는 작업입니다."),
            };
            let (state, required) = factor_to_show(access, &user)?;
            Ok::<_, crate::access::AccessError>((shown, state, required))
        })
    })
    .await;
    match done {
        Ok(Ok((shown, state, required))) => {
            let status = if matches!(shown, Shown::Error(..)) {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            };
            (
                status,
                second_factor_page(lang, &principal, &state, required, shown),
            )
                .into_response()
        }
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

pub(super) async fn logout(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    // Also a session still setting up its second factor may sign out.
    let principal = match require_session(&app, &headers)
        .and_then(|p| check_csrf(&p, Some(&form.csrf), Flavor::Page).map(|()| p))
    {
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
