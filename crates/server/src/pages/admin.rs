//! Administration: users, API keys, and locking or unlocking an encrypted database.

use super::*;

#[derive(Deserialize)]
pub(super) struct UserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub(super) struct KeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    scope: String,
    /// YYYY-MM-DD, or empty for a key that does not expire.
    #[serde(default)]
    expires: String,
}

/// Users with their second factors, keys and the second-factor policy.
pub(super) struct Overview {
    users: Vec<(crate::access::User, crate::access::SecondFactor)>,
    disabled: Vec<String>,
    keys: Vec<crate::access::ApiKey>,
    documenters_need_second_factor: bool,
    time_zones: std::collections::BTreeMap<String, chrono_tz::Tz>,
}

fn overview(access: &crate::access::AccessStore) -> Result<Overview, crate::access::AccessError> {
    let users = access
        .users()?
        .into_iter()
        .map(|user| {
            let factor = access.second_factor(&user.name)?;
            Ok((user, factor))
        })
        .collect::<Result<_, crate::access::AccessError>>()?;
    Ok(Overview {
        users,
        disabled: access.disabled_users()?,
        keys: access.keys()?,
        documenters_need_second_factor: access.documenters_need_second_factor()?,
        time_zones: access.time_zones()?,
    })
}

fn users_page(
    lang: Lang,
    principal: &Principal,
    overview: &Overview,
    message: Option<(bool, String)>,
) -> Response {
    let now = chrono::Utc::now();
    let body = html! {
        @if let Some((ok, message)) = &message {
            p class=(if *ok { "" } else { "error" }) role="status" id="admin-message" { (message) }
        }
        table id="users" {
            tr { th { (lang.t("User", "사용자")) } th { (lang.t("Role", "역할")) } th { (lang.t("Two-step sign-in", "2단계 로그인")) } th { (lang.t("Status", "상태")) } th { (lang.t("Time zone", "시간대")) } }
            @for (user, factor) in &overview.users {
                tr {
                    td { (user.name) } td { (role_label(lang, user.role)) }
                    td { @match factor {
                        crate::access::SecondFactor::On { .. } => (lang.t("on", "켜짐")),
                        _ => (lang.t("not set up", "설정 안 됨")),
                    } }
                    td { @if overview.disabled.contains(&user.name) { strong.error { (lang.t("disabled", "비활성")) } } @else { (lang.t("active", "활성")) } }
                    td { @match overview.time_zones.get(&user.name) {
                        Some(zone) => (zone.name()),
                        None => (lang.t("the server's", "서버 시간대")),
                    } }
                }
            }
        }
        h2 { (lang.t("Change a user", "사용자 변경")) }
        form method="post" action="/admin/user" id="change-user" {
            input type="hidden" name="csrf" value=(principal.csrf());
            label for="change-name" { (lang.t("User", "사용자")) }
            select id="change-name" name="name" { @for (user, _) in &overview.users { option value=(user.name) { (user.name) } } }
            label for="change-action" { (lang.t("What to do", "할 일")) }
            select id="change-action" name="action" {
                option value="disable" { (lang.t("disable (sign-in refused, sessions ended, keys refused)", "비활성화 (로그인 거부, 세션 종료, 키 거부)")) }
                option value="enable" { (lang.t("enable again", "다시 활성화")) }
                option value="role" { (lang.t("give the role below (sessions end)", "아래 역할 부여 (세션 종료)")) }
                option value="password" { (lang.t("set the password below (sessions end)", "아래 비밀번호로 재설정 (세션 종료)")) }
                option value="sessions" { (lang.t("end every session", "모든 세션 종료")) }
                option value="time-zone" { (lang.t("show times in the time zone below (empty: the server's)", "아래 시간대로 시각 표시 (비우면 서버 시간대)")) }
            }
            label for="change-role" { (lang.t("Role", "역할")) }
            select id="change-role" name="role" { @for role in Role::ALL { option value=(role.name()) { (role_label(lang, role)) } } }
            label for="change-password" { (lang.t("New password (12 characters or more)", "새 비밀번호 (12자 이상)")) }
            input id="change-password" name="password" type="password" autocomplete="new-password";
            label for="change-time-zone" { (lang.t("Time zone (for example Asia/Seoul)", "시간대 (예: Asia/Seoul)")) }
            input id="change-time-zone" name="time_zone" list="time-zones" autocomplete="off" placeholder="Asia/Seoul";
            datalist id="time-zones" { @for zone in chrono_tz::TZ_VARIANTS { option value=(zone.name()) {} } }
            button.primary type="submit" { (lang.t("Apply", "적용")) }
        }
        h2 { (lang.t("Add a user", "사용자 추가")) }
        form method="post" action="/admin/users" {
            input type="hidden" name="csrf" value=(principal.csrf());
            label for="name" { (lang.t("User name", "사용자 이름")) }
            input id="name" name="name" required autocomplete="off";
            label for="role" { (lang.t("Role", "역할")) }
            select id="role" name="role" { @for role in Role::ALL { option value=(role.name()) { (role_label(lang, role)) } } }
            label for="password" { (lang.t("Password (12 characters or more)", "비밀번호 (12자 이상)")) }
            input id="password" name="password" type="password" required autocomplete="new-password";
            button.primary type="submit" { (lang.t("Add", "추가")) }
        }
        h2 { (lang.t("Two-step sign-in", "2단계 로그인")) }
        p.hint { (lang.t("Admins always sign in with a code from an authenticator app; others may set one up.", "관리자는 항상 인증 앱의 코드로 로그인합니다. 다른 사용자는 선택해서 설정할 수 있습니다.")) }
        form method="post" action="/admin/second-factor" {
            input type="hidden" name="csrf" value=(principal.csrf());
            input type="hidden" name="action" value="policy";
            label.check {
                input type="checkbox" name="documenters" value="on" checked[overview.documenters_need_second_factor];
                (lang.t("Documenters must sign in with a second factor too", "기록 담당자도 2단계 로그인 필수"))
            }
            button.primary type="submit" { (lang.t("Save", "저장")) }
        }
        form method="post" action="/admin/second-factor" {
            input type="hidden" name="csrf" value=(principal.csrf());
            input type="hidden" name="action" value="reset";
            label for="reset-user" { (lang.t("Reset the second factor of (a lost device: they set up a new one at their next sign-in, and their sessions end)", "2단계 인증 초기화 (기기 분실: 다음 로그인 때 새로 설정하며 열린 세션은 끝남)")) }
            select id="reset-user" name="name" { @for (user, _) in &overview.users { option value=(user.name) { (user.name) } } }
            button.primary type="submit" { (lang.t("Reset", "초기화")) }
        }
        h2 { (lang.t("API keys", "API 키")) }
        table id="keys" {
            tr {
                th { (lang.t("User", "사용자")) } th { (lang.t("For", "용도")) } th { (lang.t("Scope", "범위")) }
                th { (lang.t("Created", "만든 날")) } th { (lang.t("Expires", "만료")) }
            }
            @for key in &overview.keys {
                @let expired = key.expires.as_deref().is_some_and(|e| chrono::DateTime::parse_from_rfc3339(e).map_or(true, |e| e <= now));
                tr {
                    td { (key.user) } td { (key.label) } td { (key.scope.name()) }
                    td { (key.created.get(..10).unwrap_or(&key.created)) }
                    td {
                        @match &key.expires {
                            None => (lang.t("never", "없음")),
                            Some(e) => { (e.get(..10).unwrap_or(e)) @if expired { " " strong.error { (lang.t("expired", "만료됨")) } } }
                        }
                    }
                }
            }
        }
        @if !overview.keys.is_empty() {
            form method="post" action="/admin/keys/revoke" id="revoke-key" {
                input type="hidden" name="csrf" value=(principal.csrf());
                label for="revoke" { (lang.t("Revoke the key", "키 폐기")) }
                select id="revoke" name="key" {
                    @for key in &overview.keys {
                        @let value = format!("{}\u{1f}{}", key.user, key.label);
                        option value=(value) { (key.user) " · " (key.label) }
                    }
                }
                button.primary type="submit" { (lang.t("Revoke", "폐기")) }
            }
        }
        h2 { (lang.t("New API key", "새 API 키")) }
        form method="post" action="/admin/keys" {
            input type="hidden" name="csrf" value=(principal.csrf());
            label for="key-user" { (lang.t("For user", "사용자")) }
            select id="key-user" name="name" { @for (user, _) in &overview.users { option value=(user.name) { (user.name) } } }
            label for="label" { (lang.t("What it is for", "용도")) }
            input id="label" name="label" required;
            label for="scope" { (lang.t("Scope (at most what the user's role allows)", "범위 (사용자 역할이 허용하는 만큼까지)")) }
            select id="scope" name="scope" {
                option value="read" { (lang.t("read: records and statistics", "read: 기록과 통계 읽기")) }
                option value="write" { (lang.t("write: also changes and testimonies", "write: 변경과 증언 기록도")) }
                option value="admin" { (lang.t("admin: also forgetting and widening consent", "admin: 삭제(잊기)와 동의 확대도")) }
            }
            label for="expires" { (lang.t("Refused from (empty: never expires)", "만료일 (비우면 만료 없음)")) }
            input id="expires" name="expires" type="date";
            button.primary type="submit" { (lang.t("Create key", "키 만들기")) }
        }
        h2 { (lang.t("Irreversible changes", "되돌릴 수 없는 변경")) }
        ul {
            li { a href="/admin/forget" { (lang.t("Forget a person, source, event or evidence file (destroy its data key)", "인물, 출처, 사건, 증거 파일 잊기 (데이터 키 파기)")) } }
            li { a href="/admin/consent" { (lang.t("Widen a source's consent", "출처의 동의 범위 넓히기")) } }
        }
    };
    page(
        lang,
        principal,
        lang.t("Users and keys", "사용자와 키"),
        body,
    )
}

pub(super) async fn admin_users(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Admin) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    match blocking(move || app.with_access(overview)).await {
        Ok(Ok(overview)) => users_page(lang, &principal, &overview, None),
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

/// Runs an access change as an admin (told the acting admin's name) and
/// shows the users with its outcome.
pub(super) async fn admin_change(
    app: Arc<App>,
    headers: HeaderMap,
    csrf: &str,
    change: impl FnOnce(&crate::access::AccessStore, &str) -> Result<String, crate::access::AccessError>
    + Send
    + 'static,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Admin, csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let acting = principal.user.name.clone();
    let done =
        blocking(move || app.with_access(|access| (change(access, &acting), overview(access))))
            .await;
    match done {
        Ok((outcome, Ok(overview))) => {
            let status = if outcome.is_ok() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let message = match outcome {
                Ok(message) => (true, message),
                Err(error) => (false, lang.said(&error, error.korean())),
            };
            (
                status,
                users_page(lang, &principal, &overview, Some(message)),
            )
                .into_response()
        }
        Ok((_, Err(error))) => internal(error),
        Err(response) => response,
    }
}

pub(super) async fn add_user(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<UserForm>,
) -> Response {
    let csrf = form.csrf.clone();
    let lang = Lang::of(&headers);
    admin_change(app, headers, &csrf, move |access, _| {
        let role = Role::parse(&form.role)
            .ok_or_else(|| crate::access::AccessError::BadRole(form.role.clone()))?;
        access.add_user(&form.name, role, &form.password)?;
        let (name, role) = (&form.name, role.name());
        Ok(match lang {
            Lang::En => format!("Added {name} ({role})"),
            Lang::Ko => format!("{name} ({role}) 사용자를 추가했습니다"),
        })
    })
    .await
}

pub(super) async fn add_key(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<KeyForm>,
) -> Response {
    let csrf = form.csrf.clone();
    let lang = Lang::of(&headers);
    admin_change(app, headers, &csrf, move |access, _| {
        let scope = crate::access::Scope::parse(&form.scope)
            .ok_or_else(|| crate::access::AccessError::BadScope(form.scope.clone()))?;
        let expires = crate::access::expiry_on(&form.expires)?;
        let key = access.add_key(&form.name, &form.label, scope, expires)?;
        let (name, label, scope) = (&form.name, &form.label, scope.name());
        Ok(match lang {
            Lang::En => {
                format!("API key for {name} ({label}, {scope} scope), shown only now: {key}")
            }
            Lang::Ko => {
                format!("{name}의 API 키 ({label}, {scope} 범위), 지금 한 번만 보여 줍니다: {key}")
            }
        })
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct ChangeUserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
    /// A time zone database name ("Asia/Seoul"); empty for the server's.
    #[serde(default)]
    time_zone: String,
}

/// Disables or enables a user, changes their role or password, or ends their sessions.
pub(super) async fn change_user(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<ChangeUserForm>,
) -> Response {
    let csrf = form.csrf.clone();
    let lang = Lang::of(&headers);
    admin_change(app, headers, &csrf, move |access, acting| {
        let name = form.name.as_str();
        // An admin who locks themselves out leaves nobody to undo it.
        if acting == name && matches!(form.action.as_str(), "disable" | "role") {
            return Err(crate::access::AccessError::OwnAccount(name.to_string()));
        }
        let done = match form.action.as_str() {
            "disable" => {
                access.set_disabled(name, true)?;
                lang.t(
                    "disabled: sign-in refused, sessions ended, keys refused",
                    "비활성화됨: 로그인 거부, 세션 종료, 키 거부",
                )
            }
            "enable" => {
                access.set_disabled(name, false)?;
                lang.t("enabled again", "다시 활성화됨")
            }
            "role" => {
                let role = Role::parse(&form.role)
                    .ok_or_else(|| crate::access::AccessError::BadRole(form.role.clone()))?;
                access.set_role(name, role)?;
                return Ok(format!(
                    "{name}: {} {}",
                    lang.t("role now", "역할:"),
                    role.name()
                ));
            }
            "password" => {
                access.set_password(name, &form.password)?;
                lang.t(
                    "password set; sessions ended",
                    "비밀번호 재설정됨, 세션 종료",
                )
            }
            "sessions" => {
                let ended = access.end_sessions(name)?;
                return Ok(format!(
                    "{name}: {ended} {}",
                    lang.counted(
                        ended as u64,
                        "session ended",
                        "sessions ended",
                        "개 세션 종료"
                    )
                ));
            }
            "time-zone" => {
                access.set_time_zone(name, &form.time_zone)?;
                lang.t(
                    "times are shown in the time zone chosen",
                    "선택한 시간대로 시각을 보여 줍니다",
                )
            }
            other => return Err(crate::access::AccessError::BadAction(other.to_string())),
        };
        Ok(format!("{name}: {done}"))
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct RevokeForm {
    #[serde(default)]
    csrf: String,
    /// The key's user and label, separated by U+001F (neither can hold it).
    #[serde(default)]
    key: String,
}

pub(super) async fn revoke_key(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<RevokeForm>,
) -> Response {
    let csrf = form.csrf.clone();
    let lang = Lang::of(&headers);
    admin_change(app, headers, &csrf, move |access, _| {
        let (user, label) = form
            .key
            .split_once('\u{1f}')
            .unwrap_or((form.key.as_str(), ""));
        access.revoke_key(user, label)?;
        Ok(match lang {
            Lang::En => format!("Revoked the key of {user} for {label}"),
            Lang::Ko => format!("{user}의 '{label}' 용도 키를 폐기했습니다"),
        })
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct SecondFactorForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    name: String,
    /// The policy checkbox: present when ticked.
    #[serde(default)]
    documenters: String,
}

/// Resets a user's second factor, or sets whether documenters need one.
pub(super) async fn change_second_factor(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<SecondFactorForm>,
) -> Response {
    let csrf = form.csrf.clone();
    let lang = Lang::of(&headers);
    admin_change(app, headers, &csrf, move |access, _| {
        match form.action.as_str() {
            "reset" => {
                access.reset_second_factor(&form.name)?;
                Ok(format!(
                    "{} {}",
                    form.name,
                    lang.t(
                        ": second factor reset; a new one is set up at the next sign-in.",
                        ": 2단계 인증을 초기화했습니다. 다음 로그인 때 새로 설정합니다.",
                    )
                ))
            }
            _ => {
                let on = form.documenters == "on";
                access.set_documenters_need_second_factor(on)?;
                Ok(if on {
                    lang.t(
                        "Documenters now sign in with a second factor.",
                        "이제 기록 담당자도 2단계 인증으로 로그인합니다.",
                    )
                } else {
                    lang.t(
                        "Documenters may sign in without a second factor.",
                        "기록 담당자는 2단계 인증 없이 로그인할 수 있습니다.",
                    )
                }
                .to_string())
            }
        }
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct EncryptionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    passphrase: String,
}

fn encryption_page(
    lang: Lang,
    principal: &Principal,
    state: LockState,
    message: Option<(bool, String)>,
) -> Response {
    let body = html! {
        @if let Some((ok, message)) = &message {
            p class=(if *ok { "" } else { "error" }) role="status" id="encryption-message" { (message) }
        }
        p id="lock-state" {
            @match state {
                LockState::Plain => (lang.t("This database is not encrypted.", "이 데이터베이스는 암호화되어 있지 않습니다.")),
                LockState::Locked => (lang.t("Locked: names, birth data, notes and sensitive files can be neither read nor written.", "잠김: 이름, 출생 정보, 메모, 민감한 파일을 읽거나 쓸 수 없습니다.")),
                LockState::Unlocked => (lang.t("Unlocked: documenters can read identifying data; every read is audited.", "잠금 해제됨: 기록 담당자가 신원 정보를 읽을 수 있으며 모든 열람은 감사 기록에 남습니다.")),
            }
        }
        @if state == LockState::Locked {
            form method="post" action="/admin/encryption" {
                input type="hidden" name="csrf" value=(principal.csrf());
                input type="hidden" name="action" value="unlock";
                label for="passphrase" { (lang.t("Passphrase", "암호문")) }
                input id="passphrase" name="passphrase" type="password" required autocomplete="off";
                button.primary type="submit" { (lang.t("Unlock", "잠금 해제")) }
            }
        }
        @if state == LockState::Unlocked {
            form method="post" action="/admin/encryption" {
                input type="hidden" name="csrf" value=(principal.csrf());
                input type="hidden" name="action" value="lock";
                p.hint { (lang.t("Lock when no one needs names: the keys leave the server's memory.", "이름이 필요 없을 때 잠그세요: 키가 서버 메모리에서 지워집니다.")) }
                button.primary type="submit" { (lang.t("Lock now", "지금 잠그기")) }
            }
        }
    };
    page(lang, principal, lang.t("Encryption", "암호화"), body)
}

pub(super) async fn encryption(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Admin) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    match blocking(move || app.lock_state()).await {
        Ok(state) => encryption_page(lang, &principal, state, None),
        Err(response) => response,
    }
}

/// Unlocks (with a passphrase) or locks every connection of the server.
pub(super) async fn change_encryption(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<EncryptionForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Admin, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let done = blocking(move || {
        let outcome = match form.action.as_str() {
            "unlock" => app
                .unlock(&girok_store::Unlock::Passphrase(form.passphrase))
                .map(|()| lang.t("Unlocked.", "잠금을 해제했습니다.").to_string())
                .map_err(|e| match lang {
                    Lang::Ko => format!("잠금을 해제하지 못했습니다: {e}"),
                    Lang::En => e.to_string(),
                }),
            "lock" => {
                app.lock();
                Ok(lang.t("Locked.", "잠갔습니다.").to_string())
            }
            other => Err(format!("unknown action '{other}'")),
        };
        (outcome, app.lock_state())
    })
    .await;
    match done {
        Ok((Ok(message), state)) => encryption_page(lang, &principal, state, Some((true, message))),
        Ok((Err(message), state)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            encryption_page(lang, &principal, state, Some((false, message))),
        )
            .into_response(),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
pub(super) struct Irreversible {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    reason: String,
    /// The consent scope asked for, when widening.
    #[serde(default)]
    scope: String,
    /// The record's id typed again: the second confirmation.
    #[serde(default)]
    confirm: String,
}

/// What an irreversible change is about, as the database holds it now
/// (kind and consent are in the clear: nothing is decrypted).
fn subject_of(app: &App, id: &str) -> Result<Option<Record>, StoreError> {
    let id = RecordId::new(id.trim());
    app.read(|store| store.get(&id))
        .map(|found| found.map(|stored| stored.record))
}

/// A form asking which record, for when none was named yet.
fn which_record(lang: Lang, action: &str, error: Option<&str>) -> Markup {
    html! {
        @if let Some(error) = error { p.error role="alert" { (error) } }
        form method="get" action=(action) {
            label for="id" { (lang.t("Record id", "기록 ID")) }
            input id="id" name="id" required autocomplete="off";
            button.primary type="submit" { (lang.t("Next", "다음")) }
        }
    }
}

/// The fields and second confirmation of an irreversible change.
fn confirmation(
    lang: Lang,
    principal: &Principal,
    id: &str,
    scope: Option<&str>,
    reason: &str,
) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(principal.csrf());
        input type="hidden" name="id" value=(id);
        @if let Some(scope) = scope { input type="hidden" name="scope" value=(scope); }
        label for="reason" { (lang.t("Reason (journaled in the clear: name no one)", "사유 (암호화 없이 기록됨: 누구의 이름도 쓰지 마세요)")) }
        textarea id="reason" name="reason" required { (reason) }
        label for="confirm" { (lang.t("To confirm, type the record id again: ", "확인하려면 기록 ID를 다시 입력하세요: ")) code { (id) } }
        input id="confirm" name="confirm" required autocomplete="off";
    }
}

fn forget_page(
    lang: Lang,
    principal: &Principal,
    subject: Option<&Record>,
    form: &Irreversible,
    message: Option<(bool, String)>,
) -> Response {
    let title = lang.t("Forget a record", "기록 잊기");
    let body = html! {
        @if let Some((ok, message)) = &message {
            p class=(if *ok { "" } else { "error" }) role="status" id="forget-message" { (message) }
        }
        @match subject {
            None => (which_record(lang, "/admin/forget", None)),
            Some(record) => {
                @let id = record.id().as_str();
                p id="what-happens" {
                    strong { (lang.t("This cannot be undone.", "되돌릴 수 없습니다.")) } " "
                    (lang.t("Forgetting destroys the data key of ", "잊기는 다음 기록의 데이터 키를 파기합니다: ")) (record.kind()) " " code { (id) }
                    (lang.t(": its names, birth data, origin, notes, titles, descriptions and sensitive file bytes (for a person, also the descriptions of acts against them) can never be read again, by anyone, including you. Its facts stay and still count; the journal still verifies. Backups made before keep the key.", ". 이름, 출생 정보, 출신지, 메모, 제목, 설명, 민감한 파일 내용(인물의 경우 그 인물이 당한 행위의 설명까지)은 당신을 포함해 누구도 다시 읽을 수 없습니다. 사실 정보는 남아 계속 집계되고 저널 검증도 유지됩니다. 이전에 만든 백업에는 키가 남아 있습니다."))
                }
                @if message.as_ref().is_none_or(|(ok, _)| !ok) {
                    form method="post" action="/admin/forget" {
                        (confirmation(lang, principal, id, None, &form.reason))
                        button.primary type="submit" { (lang.t("Forget for ever: ", "영구히 잊기: ")) (id) }
                    }
                }
            }
        }
    };
    page(lang, principal, title, body)
}

fn consent_page(
    lang: Lang,
    principal: &Principal,
    subject: Option<&Record>,
    form: &Irreversible,
    message: Option<(bool, String)>,
) -> Response {
    let title = lang.t("Widen a source's consent", "출처의 동의 범위 넓히기");
    let wider = ConsentScope::parse(&form.scope);
    let body = html! {
        @if let Some((ok, message)) = &message {
            p class=(if *ok { "" } else { "error" }) role="status" id="consent-message" { (message) }
        }
        @match subject {
            Some(Record::Source(source)) => {
                @let id = source.id.as_str();
                @let before = source.consent;
                p { (lang.t("Consent of ", "동의 범위: ")) code { (id) } ": " strong id="consent-now" { (before.map_or("none", |c| c.as_str())) } }
                @if message.as_ref().is_none_or(|(ok, _)| !ok) {
                    @match wider {
                        Some(after) if before.is_some_and(|b| after > b) => {
                            p id="what-happens" {
                                strong { (lang.t("Widening publishes testimony further than the witness allowed so far.", "동의 확대는 증언을 지금까지 허락된 것보다 더 넓게 공개합니다.")) } " "
                                (lang.t("From the next export and table on, the facts of this source go to: ", "다음 내보내기와 표부터 이 출처의 사실 정보가 다음 대상에게 갑니다: ")) strong { (after.as_str()) } ". "
                                (lang.t("Do this only with the witness's consent in hand.", "증언자의 동의를 받은 경우에만 하세요."))
                            }
                            form method="post" action="/admin/consent" {
                                (confirmation(lang, principal, id, Some(after.as_str()), &form.reason))
                                button.primary type="submit" { (lang.t("Widen to ", "다음으로 넓히기: ")) (after.as_str()) }
                            }
                        }
                        _ if !ConsentScope::ALL.iter().any(|s| before.is_some_and(|b| *s > b)) => {
                            p id="nothing-wider" { (lang.t("Nothing to widen: this consent is the widest there is, or none is set (set one in the editor).", "넓힐 수 없습니다: 이미 가장 넓은 동의 범위이거나 범위가 정해지지 않았습니다 (편집기에서 정하세요).")) }
                        }
                        _ => {
                            form method="get" action="/admin/consent" {
                                input type="hidden" name="id" value=(id);
                                label for="scope" { (lang.t("Widen to", "넓힐 범위")) }
                                select id="scope" name="scope" {
                                    @for scope in ConsentScope::ALL {
                                        @if before.is_some_and(|b| *scope > b) {
                                            option value=(scope.as_str()) { (scope.as_str()) " · " (scope.ko()) }
                                        }
                                    }
                                }
                                button.primary type="submit" { (lang.t("Next", "다음")) }
                            }
                        }
                    }
                }
            }
            Some(_) => (which_record(lang, "/admin/consent", Some(lang.t("That is not a source.", "출처가 아닙니다.")))),
            None => (which_record(lang, "/admin/consent", None)),
        }
    };
    page(lang, principal, title, body)
}

/// Renders the confirmation page of one kind of irreversible change.
type ConfirmationPage =
    fn(Lang, &Principal, Option<&Record>, &Irreversible, Option<(bool, String)>) -> Response;

/// The confirmation page of an irreversible change, for an admin.
async fn confirmation_step(
    app: Arc<App>,
    headers: HeaderMap,
    form: Irreversible,
    render: ConfirmationPage,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Admin) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let id = form.id.clone();
    let found = match blocking(move || subject_of(&app, &id)).await {
        Ok(Ok(found)) => found,
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    if found.is_none() && !form.id.trim().is_empty() {
        let message = format!("{} {}", lang.t("No record", "기록 없음:"), form.id.trim());
        return (
            StatusCode::NOT_FOUND,
            render(lang, &principal, None, &form, Some((false, message))),
        )
            .into_response();
    }
    render(lang, &principal, found.as_ref(), &form, None)
}

pub(super) async fn forget_form(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(form): Query<Irreversible>,
) -> Response {
    confirmation_step(app, headers, form, forget_page).await
}

pub(super) async fn consent_form(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(form): Query<Irreversible>,
) -> Response {
    confirmation_step(app, headers, form, consent_page).await
}

/// Makes an irreversible change an admin confirmed by typing its record's
/// id again, and shows the outcome on its confirmation page.
async fn irreversible(
    app: Arc<App>,
    headers: HeaderMap,
    form: Irreversible,
    change: fn(&Record, &Irreversible) -> Result<Change, String>,
    render: ConfirmationPage,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Admin, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let actor = principal.user.name.clone();
    type Outcome = Result<(Option<Record>, Result<u64, String>), StoreError>;
    let (form, outcome) = match blocking(move || -> (Irreversible, Outcome) {
        let outcome = subject_of(&app, &form.id).map(|found| {
            let written = match &found {
                None => Err(format!(
                    "{} {}",
                    lang.t("No record", "기록 없음:"),
                    form.id.trim()
                )),
                Some(record) if form.confirm.trim() != record.id().as_str() => Err(format!(
                    "{} {}",
                    lang.t(
                        "Nothing was changed: the id typed to confirm is not",
                        "변경하지 않았습니다. 확인용으로 입력한 ID가 다음과 다릅니다:",
                    ),
                    record.id()
                )),
                Some(_) if form.reason.trim().is_empty() => Err(lang
                    .t(
                        "Nothing was changed: a reason is required.",
                        "변경하지 않았습니다. 사유가 필요합니다.",
                    )
                    .to_string()),
                Some(record) => change(record, &form).and_then(|change| {
                    app.write(|store| store.write(&actor, |sink| sink.apply(change)))
                        .map(|(seq, _)| seq)
                        .map_err(|e| e.to_string())
                }),
            };
            // After the change, show the record as it is now.
            let found = match &written {
                Ok(_) => subject_of(&app, &form.id).unwrap_or(found),
                Err(_) => found,
            };
            (found, written)
        });
        (form, outcome)
    })
    .await
    {
        Ok((form, Ok(outcome))) => (form, outcome),
        Ok((_, Err(error))) => return internal(error),
        Err(response) => return response,
    };
    let (found, written) = outcome;
    let (status, message) = match written {
        Ok(seq) => (
            StatusCode::OK,
            (
                true,
                format!("{} {seq}", lang.t("Done: journal entry", "완료: 저널 항목")),
            ),
        ),
        Err(message) => (StatusCode::UNPROCESSABLE_ENTITY, (false, message)),
    };
    (
        status,
        render(lang, &principal, found.as_ref(), &form, Some(message)),
    )
        .into_response()
}

pub(super) async fn forget(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<Irreversible>,
) -> Response {
    irreversible(
        app,
        headers,
        form,
        |record, form| {
            Ok(Change::Forget {
                subject: record.id().clone(),
                reason: form.reason.trim().to_string(),
            })
        },
        forget_page,
    )
    .await
}

pub(super) async fn widen_consent(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<Irreversible>,
) -> Response {
    irreversible(
        app,
        headers,
        form,
        |record, form| {
            let scope = ConsentScope::parse(&form.scope).ok_or_else(|| {
                format!(
                    "'{}' is not one of {}",
                    form.scope,
                    ConsentScope::expected()
                )
            })?;
            Ok(Change::SetConsent {
                source: record.id().clone(),
                scope,
                widen: true,
                reason: form.reason.trim().to_string(),
            })
        },
        consent_page,
    )
    .await
}
