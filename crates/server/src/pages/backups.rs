//! Backups from the browser: an admin gives a passphrase (twice), a
//! background job seals the whole data directory under it and keeps the
//! file for a day, and the admin who made it downloads it, each download
//! recorded in the audit log. The passphrase lives only in the memory of
//! the process running the job: it is never written to the jobs' table,
//! so an interrupted backup is started anew, not run again.

use girok_service::backup::BackupResult;
use girok_service::exports::DownloadError;
use girok_service::jobs::{Job, JobKind, JobState};
use girok_store::Unlock;

use super::exports::{bytes_text, send_file};
use super::jobs::{progress_cell, start, state_label};
use super::*;

/// The admin's backups listed, at most (older ones have expired anyway).
const LISTED: u64 = 20;

#[derive(Deserialize, Default)]
pub(super) struct BackupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    passphrase: String,
    #[serde(default)]
    passphrase_again: String,
}

/// The backup a job made, if it is one and is done.
fn result_of(job: &Job) -> Option<BackupResult> {
    (job.kind == JobKind::Backup && job.state == JobState::Done)
        .then_some(job.result.as_deref())
        .flatten()
        .and_then(|result| serde_json::from_str(result).ok())
}

/// A finished backup: what it holds, its download link and until when.
pub(super) fn backup_outcome(lang: Lang, principal: &Principal, job: &Job) -> Markup {
    let Some(result) = result_of(job) else {
        return html! {};
    };
    html! {
        div.saved role="status" {
            p {
                strong { (lang.t("The backup is ready.", "백업이 준비되었습니다.")) } " "
                (lang.t("Journal of", "기록 일지")) " " (result.contents.journal_size) " "
                (lang.counted(result.contents.journal_size, "entry", "entries", "개 항목")) ", "
                (result.contents.other_files) " " (lang.counted(result.contents.other_files, "other file", "other files", "개의 다른 파일")) ", "
                (bytes_text(lang, result.bytes)) "."
            }
            p.hint { (lang.t("Journal root", "일지 루트")) " " code { (result.contents.root) } }
            @if job.started_by == principal.user.name && principal.user.role == Role::Admin {
                p {
                    a.button href=(format!("/admin/backups/{}/download", job.id)) id=(format!("download-backup-{}", job.id)) download=(result.file_name) {
                        (lang.t("Download", "내려받기")) " " (result.file_name)
                    }
                }
                p.hint {
                    (lang.t("Kept on the server until", "서버 보관 기한")) " " (super::readable::local_time(&result.kept_until, principal.time_zone())) ". "
                    (lang.t("Each download is recorded in the audit log. Keep the file away from this server, and the passphrase apart from the file: without it the backup cannot be restored.",
                            "내려받을 때마다 감사 기록에 남습니다. 파일은 이 서버와 떨어진 곳에, 암호문은 파일과 따로 보관하십시오. 암호문이 없으면 백업을 복원할 수 없습니다."))
                }
            } @else {
                p.hint { (lang.t("Only the admin who made a backup downloads it.", "백업을 만든 관리자만 내려받을 수 있습니다.")) }
            }
        }
    }
}

fn backups_page(
    lang: Lang,
    principal: &Principal,
    problem: Option<(&'static str, &str)>,
    backups: &[Job],
) -> Response {
    let live = backups.iter().any(|job| job.state.is_live());
    let body = html! {
        p { (lang.t("A backup holds the whole installation: every record and its journal, users, the audit log, evidence files and keys, sealed under a passphrase you choose here. It is made in the background and kept on the server for a day for you to download. Restoring it is done on the command line (girok restore), which verifies the journal before it accepts anything.",
                    "백업에는 설치 전체가 들어 있습니다. 모든 기록과 그 일지, 사용자, 감사 기록, 증거 파일, 키가 여기서 정한 암호문으로 봉인됩니다. 백업은 백그라운드에서 만들어지고 내려받을 수 있도록 서버에 하루 동안 보관됩니다. 복원은 명령줄(girok restore)에서 하며, 받아들이기 전에 일지를 검증합니다.")) }
        form method="post" action="/admin/backups" novalidate {
            input type="hidden" name="csrf" value=(principal.csrf());
            (passphrase_field("passphrase", lang.t("Passphrase for this backup", "이 백업의 암호문"), problem))
            (passphrase_field("passphrase_again", lang.t("The same passphrase again", "같은 암호문 다시 입력"), problem))
            p.hint { (lang.t("At least 12 characters. It is not stored anywhere: write it down and keep it apart from the file.",
                             "12자 이상. 어디에도 저장되지 않으니 적어 두고 파일과 따로 보관하십시오.")) }
            button.primary type="submit" id="start-backup" { (lang.t("Make a backup", "백업 만들기")) }
        }
        h2 { (lang.t("Your backups", "내 백업")) }
        @if backups.is_empty() {
            p { (lang.t("You have made no backup yet.", "아직 만든 백업이 없습니다.")) }
        }
        @for job in backups {
            section.job id=(format!("backup-{}", job.id)) {
                h3 { a href=(format!("/jobs/{}", job.id)) { (lang.t("Backup", "백업")) " " (job.id) } " · " span id=(format!("state-{}", job.id)) { (state_label(lang, job.state)) } }
                p.hint { (super::readable::local_time(&job.queued_at, principal.time_zone())) }
                @match job.state {
                    JobState::Queued | JobState::Running => p { (progress_cell(lang, job)) },
                    JobState::Done => (backup_outcome(lang, principal, job)),
                    JobState::Failed => p.error role="alert" { (lang.t("The backup failed:", "백업이 실패했습니다:")) " " (job.error.as_deref().unwrap_or_default()) },
                    JobState::Interrupted => p.error role="alert" { (lang.t("The backup was interrupted: the server making it stopped. Make a new one.", "백업이 중단되었습니다. 백업을 만들던 서버가 멈췄습니다. 새로 만드십시오.")) },
                }
            }
        }
    };
    let status = match problem {
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    (
        status,
        layout_refreshed(
            lang,
            Some(principal),
            lang.t("Backups", "백업"),
            body,
            live.then_some(super::jobs::REFRESH),
        ),
    )
        .into_response()
}

/// A password field, empty however the form came back: a passphrase is
/// never sent back to the browser.
fn passphrase_field(
    name: &'static str,
    label: &str,
    problem: Option<(&'static str, &str)>,
) -> Markup {
    let error = problem
        .filter(|(field, _)| *field == name)
        .map(|(_, text)| text);
    html! {
        label for=(name) { (label) }
        input id=(name) name=(name) type="password" autocomplete="new-password"
            aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| format!("{name}-error"))];
        @if let Some(text) = error {
            p.error id=(format!("{name}-error")) { (text) }
        }
    }
}

/// The page with the admin's own latest backups.
async fn shown(
    app: Arc<App>,
    lang: Lang,
    principal: Principal,
    problem: Option<(&'static str, &'static str)>,
) -> Response {
    let name = principal.user.name.clone();
    match blocking(move || app.with_jobs(|jobs| jobs.recent_of(JobKind::Backup, &name, LISTED)))
        .await
    {
        Ok(Ok(backups)) => backups_page(lang, &principal, problem, &backups),
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

pub(super) async fn backups(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    match signed_in(&app, &headers, Role::Admin) {
        Ok(principal) => shown(app, lang, principal, None).await,
        Err(refusal) => refusal.into_response(),
    }
}

/// Starts a backup under the passphrase given twice, or names what is
/// wrong with it and starts nothing.
pub(super) async fn start_backup(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<BackupForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Admin, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let BackupForm {
        passphrase,
        passphrase_again,
        ..
    } = form;
    // Both are zeroed when dropped, the one kept for the job included.
    let secret = Unlock::Passphrase(passphrase);
    let again = Unlock::Passphrase(passphrase_again);
    let same =
        matches!((&secret, &again), (Unlock::Passphrase(a), Unlock::Passphrase(b)) if a == b);
    drop(again);
    let problem = if secret.check().is_err() {
        Some((
            "passphrase",
            lang.t(
                "The passphrase is at least 12 characters long.",
                "암호문은 12자 이상이어야 합니다.",
            ),
        ))
    } else if !same {
        Some((
            "passphrase_again",
            lang.t(
                "The two passphrases differ: type the same one twice.",
                "두 암호문이 다릅니다. 같은 암호문을 두 번 입력하십시오.",
            ),
        ))
    } else {
        None
    };
    if problem.is_some() {
        return shown(app, lang, principal, problem).await;
    }
    start(
        app,
        lang,
        principal,
        JobKind::Backup,
        String::new(),
        None,
        Some(secret),
    )
    .await
}

/// Hands out a backup to the admin who made it, once the audit log has
/// recorded the download.
pub(super) async fn download(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Admin) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let actor = principal.user.name.clone();
    let opened = blocking(
        move || -> Result<Option<(BackupResult, _)>, DownloadError> {
            let Some(job) = app.with_jobs(|jobs| jobs.get(id))? else {
                return Ok(None);
            };
            let Some(result) = result_of(&job).filter(|_| job.started_by == actor) else {
                return Ok(None);
            };
            let download = girok_service::backup::open(&app.data, &result)?;
            app.record_taken(
                &actor,
                &format!("GET /admin/backups/{id}/download"),
                &format!(
                    "backup {id}: {} (journal of {} entries, root {}, {} bytes)",
                    result.file_name,
                    result.contents.journal_size,
                    result.contents.root,
                    result.bytes
                ),
            )?;
            Ok(Some((result, download)))
        },
    )
    .await;
    match opened {
        Ok(Ok(Some((result, download)))) => {
            send_file(download, "application/octet-stream", &result.file_name)
        }
        Ok(Ok(None)) => no_such(
            lang,
            (
                "There is no backup of yours numbered",
                "다음 번호의 내 백업이 없습니다:",
            ),
            &id.to_string(),
        ),
        Ok(Err(DownloadError::Expired)) => error_page(
            StatusCode::GONE,
            lang.t("Backups", "백업"),
            lang.t(
                "This backup is no longer kept: backups are kept on the server for a day. Make a new one.",
                "이 백업은 더 이상 보관되지 않습니다. 백업은 서버에 하루 동안만 보관됩니다. 새로 만드십시오.",
            ),
        ),
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}
