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
}

fn users_page(
    lang: Lang,
    principal: &Principal,
    users: &[crate::access::User],
    message: Option<(bool, String)>,
) -> Response {
    let body = html! {
        @if let Some((ok, message)) = &message {
            p class=(if *ok { "" } else { "error" }) role="status" { (message) }
        }
        table {
            tr { th { (lang.t("User", "사용자")) } th { (lang.t("Role", "역할")) } }
            @for user in users { tr { td { (user.name) } td { (user.role.name()) } } }
        }
        h2 { (lang.t("Add a user", "사용자 추가")) }
        form method="post" action="/admin/users" {
            input type="hidden" name="csrf" value=(principal.csrf());
            label for="name" { (lang.t("User name", "사용자 이름")) }
            input id="name" name="name" required autocomplete="off";
            label for="role" { (lang.t("Role", "역할")) }
            select id="role" name="role" { @for role in Role::ALL { option value=(role.name()) { (role.name()) } } }
            label for="password" { (lang.t("Password (12 characters or more)", "비밀번호 (12자 이상)")) }
            input id="password" name="password" type="password" required autocomplete="new-password";
            button.primary type="submit" { (lang.t("Add", "추가")) }
        }
        h2 { (lang.t("New API key", "새 API 키")) }
        form method="post" action="/admin/keys" {
            input type="hidden" name="csrf" value=(principal.csrf());
            label for="key-user" { (lang.t("For user", "사용자")) }
            select id="key-user" name="name" { @for user in users { option value=(user.name) { (user.name) } } }
            label for="label" { (lang.t("What it is for", "용도")) }
            input id="label" name="label" required;
            button.primary type="submit" { (lang.t("Create key", "키 만들기")) }
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
    match blocking(move || app.with_access(|access| access.users())).await {
        Ok(Ok(users)) => users_page(lang, &principal, &users, None),
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

/// Runs an access change as an admin and shows the users with its outcome.
pub(super) async fn admin_change(
    app: Arc<App>,
    headers: HeaderMap,
    csrf: &str,
    change: impl FnOnce(&crate::access::AccessStore) -> Result<String, crate::access::AccessError>
    + Send
    + 'static,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Admin, csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let done = blocking(move || app.with_access(|access| (change(access), access.users()))).await;
    match done {
        Ok((outcome, Ok(users))) => {
            let status = if outcome.is_ok() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let message = match outcome {
                Ok(message) => (true, message),
                Err(error) => (false, error.to_string()),
            };
            (status, users_page(lang, &principal, &users, Some(message))).into_response()
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
    admin_change(app, headers, &csrf, move |access| {
        let role = Role::parse(&form.role)
            .ok_or_else(|| crate::access::AccessError::BadRole(form.role.clone()))?;
        access.add_user(&form.name, role, &form.password)?;
        Ok(format!("Added {} ({})", form.name, role.name()))
    })
    .await
}

pub(super) async fn add_key(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<KeyForm>,
) -> Response {
    let csrf = form.csrf.clone();
    admin_change(app, headers, &csrf, move |access| {
        let key = access.add_key(&form.name, &form.label)?;
        Ok(format!(
            "API key for {} ({}), shown only now: {key}",
            form.name, form.label
        ))
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
                .map(|()| "Unlocked.".to_string())
                .map_err(|e| e.to_string()),
            "lock" => {
                app.lock();
                Ok("Locked.".to_string())
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
