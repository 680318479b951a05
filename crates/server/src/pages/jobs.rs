//! Background jobs in the browser: starting linkage from the review queue,
//! a job's page (progress, refreshing itself while it runs; its outcome),
//! the list of recent jobs, and running an interrupted or failed job again.
//! The jobs are in the database every server process shares, so any server
//! shows any job, and one whose server stopped shows as interrupted.

use girok_service::exports::ExportParameters;
use girok_service::jobs::{Job, JobKind, JobState, Phase, Refused};
use girok_service::linkage::{LOCKED, LinkageParameters, LinkageSummary};

use super::*;

/// Seconds between reloads of the page of a job in progress.
pub(super) const REFRESH: u32 = 2;

fn kind_label(lang: Lang, kind: JobKind) -> &'static str {
    match kind {
        JobKind::Linkage => lang.t("Duplicate linkage", "중복 연결"),
        JobKind::Export => lang.t("Export", "내보내기"),
        JobKind::Backup => lang.t("Backup", "백업"),
    }
}

pub(super) fn state_label(lang: Lang, state: JobState) -> &'static str {
    match state {
        JobState::Queued => lang.t("Queued", "대기 중"),
        JobState::Running => lang.t("Running", "실행 중"),
        JobState::Done => lang.t("Done", "완료"),
        JobState::Failed => lang.t("Failed", "실패"),
        JobState::Interrupted => lang.t("Interrupted", "중단됨"),
    }
}

fn phase_label(lang: Lang, phase: Phase) -> &'static str {
    match phase {
        Phase::Waiting => lang.t("Waiting to start", "시작 대기"),
        Phase::ReadingRecords => lang.t("Reading records", "기록 읽기"),
        Phase::Blocking => lang.t(
            "Grouping records with alike names",
            "비슷한 이름의 기록 묶기",
        ),
        Phase::Training => lang.t("Training the model", "모델 학습"),
        Phase::ComparingPairs => lang.t("Comparing pairs", "쌍 비교"),
        Phase::Clustering => lang.t("Clustering", "묶음 만들기"),
        Phase::StoringProposals => lang.t("Storing proposals", "제안 저장"),
        Phase::Writing => lang.t("Writing records", "기록 쓰기"),
        Phase::Keeping => lang.t("Keeping the file for its download", "내려받을 파일 보관"),
        Phase::Copying => lang.t("Copying the databases", "데이터베이스 복사"),
        Phase::Sealing => lang.t("Sealing the backup (bytes)", "백업 봉인 (바이트)"),
    }
}

/// A job's error in the reader's language, where it is one we word.
fn error_text(lang: Lang, error: &str) -> String {
    match (lang, error) {
        (Lang::Ko, LOCKED) => "데이터베이스가 암호화되어 잠겨 있습니다. 연결은 이름을 비교하므로 관리자가 먼저 잠금을 풀어야 합니다 (암호화 페이지).".into(),
        (Lang::Ko, other) => format!("오류: {other}"),
        (Lang::En, other) => other.to_string(),
    }
}

pub(super) fn progress_cell(lang: Lang, job: &Job) -> Markup {
    html! {
        (phase_label(lang, job.phase))
        @if job.total > 0 {
            ": " (job.done) " / " (job.total)
        } @else if job.done > 0 {
            ": " (job.done)
        }
    }
}

fn job_link(lang: Lang, id: u64) -> Markup {
    html! { a href=(format!("/jobs/{id}")) { (lang.t("job", "작업")) " " (id) } }
}

/// Where a job that the page refused points: the one running.
fn refused_page(lang: Lang, principal: &Principal, refused: &Refused) -> Response {
    let body = match refused {
        Refused::Busy {
            kind: JobKind::Linkage,
            running,
        } => html! {
            p role="alert" { (lang.t("Linkage is running already; one run at a time per database. Follow it on its page:", "연결이 이미 실행 중입니다. 데이터베이스마다 한 번에 하나만 실행됩니다. 진행 상황:")) " " (job_link(lang, *running)) }
        },
        Refused::Busy {
            kind: JobKind::Export,
            running,
        } => html! {
            p role="alert" { (lang.t("An export is being written already; one at a time per database. Try again when it is done:", "이미 내보내기를 만드는 중입니다. 데이터베이스마다 한 번에 하나만 만듭니다. 끝난 뒤 다시 시도하십시오:")) " " (lang.t("job", "작업")) " " (running) }
        },
        Refused::Busy {
            kind: JobKind::Backup,
            running,
        } => html! {
            p role="alert" { (lang.t("A backup is being made already; one at a time per database. Follow it on its page:", "이미 백업을 만드는 중입니다. 데이터베이스마다 한 번에 하나만 만듭니다. 진행 상황:")) " " (job_link(lang, *running)) }
        },
        Refused::NeedsSecret(_) => html! {
            p role="alert" { (lang.t("A backup is not run again: its passphrase was never kept. Make a new one on the Backups page.", "백업은 다시 실행하지 않습니다. 암호문을 보관하지 않기 때문입니다. 백업 페이지에서 새로 만드십시오.")) " " a href="/admin/backups" { (lang.t("Backups", "백업")) } }
        },
        Refused::NoSuchJob(_) => {
            html! { p role="alert" { (lang.t("There is no such job.", "그런 작업이 없습니다.")) } }
        }
        Refused::NotEnded { id, .. } => html! {
            p role="alert" { (lang.t("Only an interrupted or failed job is run again:", "중단되었거나 실패한 작업만 다시 실행할 수 있습니다:")) " " (job_link(lang, *id)) }
        },
    };
    let status = match refused {
        Refused::NoSuchJob(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::CONFLICT,
    };
    (
        status,
        page(
            lang,
            principal,
            lang.t("Background jobs", "백그라운드 작업"),
            body,
        ),
    )
        .into_response()
}

/// Whether a job opens names, so that a locked database cannot run it.
fn needs_names(kind: JobKind, parameters: &str) -> bool {
    match kind {
        JobKind::Linkage => true,
        JobKind::Export => serde_json::from_str::<ExportParameters>(parameters)
            .map_or(true, |export| export.audience == Audience::Internal.name()),
        // Sealed records are copied sealed.
        JobKind::Backup => false,
    }
}

/// Where the browser follows a job of `kind`.
fn followed_at(kind: JobKind, id: u64) -> String {
    match kind {
        JobKind::Linkage => format!("/jobs/{id}"),
        JobKind::Export => format!("/exports#export-{id}"),
        JobKind::Backup => format!("/admin/backups#backup-{id}"),
    }
}

/// Starts a job of `kind` with `parameters` (or job `again` once more, as
/// it was) for `principal`, and sends the browser to where it is followed.
/// A backup's `secret` goes to the job in memory, never to its table.
pub(super) async fn start(
    app: Arc<App>,
    lang: Lang,
    principal: Principal,
    kind: JobKind,
    parameters: String,
    again: Option<u64>,
    secret: Option<girok_store::Unlock>,
) -> Response {
    let by = principal.user.name.clone();
    let started = blocking(move || {
        let (kind, parameters) = match again {
            Some(id) => match app
                .with_jobs(|jobs| jobs.get(id))
                .map_err(|e| e.to_string())?
            {
                Some(job) => (job.kind, job.parameters),
                None => return Ok(Some(Err(Refused::NoSuchJob(id)))),
            },
            None => (kind, parameters),
        };
        if app.lock_state() == LockState::Locked && needs_names(kind, &parameters) {
            return Ok(None);
        }
        app.start_job(kind, &parameters, &by, again, secret)
            .map(|started| Some(started.map(|id| followed_at(kind, id))))
            .map_err(|e| e.to_string())
    })
    .await;
    match started {
        Ok(Ok(Some(Ok(at)))) => Redirect::to(&at).into_response(),
        Ok(Ok(Some(Err(refused)))) => refused_page(lang, &principal, &refused),
        Ok(Ok(None)) => (
            StatusCode::CONFLICT,
            page(
                lang,
                &principal,
                lang.t("Background jobs", "백그라운드 작업"),
                html! { p role="alert" { (error_text(lang, LOCKED)) } },
            ),
        )
            .into_response(),
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

pub(super) async fn start_linkage(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let lang = Lang::of(&headers);
    match submitted_by(&app, &headers, Role::Documenter, &form.csrf) {
        Ok(principal) => {
            let parameters = match serde_json::to_string(&LinkageParameters::default()) {
                Ok(json) => json,
                Err(error) => return internal(error),
            };
            start(
                app,
                lang,
                principal,
                JobKind::Linkage,
                parameters,
                None,
                None,
            )
            .await
        }
        Err(refusal) => refusal.into_response(),
    }
}

pub(super) async fn run_again(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let lang = Lang::of(&headers);
    match submitted_by(&app, &headers, Role::Documenter, &form.csrf) {
        Ok(principal) => {
            start(
                app,
                lang,
                principal,
                JobKind::Linkage,
                String::new(),
                Some(id),
                None,
            )
            .await
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// The live linkage job, if one runs on any server, for the review queue.
pub(super) fn live_linkage(app: &App) -> Result<Option<Job>, StoreError> {
    app.with_jobs(|jobs| jobs.live(JobKind::Linkage))
}

/// The button that starts linkage, or where the running one is.
pub(super) fn linkage_control(lang: Lang, principal: &Principal, live: Option<&Job>) -> Markup {
    html! {
        @if let Some(job) = live {
            p.notice role="status" { (lang.t("Linkage is running:", "연결 실행 중:")) " " (job_link(lang, job.id)) " · " (progress_cell(lang, job)) }
        } @else {
            form method="post" action="/review/link" {
                input type="hidden" name="csrf" value=(principal.csrf());
                p.hint { (lang.t("Linkage compares every person record and replaces earlier proposals by fresh ones; reviewers' decisions stay and are respected. It runs in the background: you may leave the page.",
                                 "연결은 모든 인물 기록을 비교해 이전 제안을 새 제안으로 바꿉니다. 검토자의 결정은 그대로 남고 반영됩니다. 백그라운드에서 실행되므로 페이지를 떠나도 됩니다.")) }
                button.primary type="submit" id="run-linkage" { (lang.t("Find duplicates now", "지금 중복 찾기")) }
            }
        }
    }
}

pub(super) async fn jobs_page(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let jobs = match blocking(move || app.with_jobs(|jobs| jobs.recent(50))).await {
        Ok(Ok(jobs)) => jobs,
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let live = jobs.iter().any(|job| job.state.is_live());
    let body = html! {
        p { (lang.t("Long work runs in the background on a server, with its progress kept in the database: every server shows it, and a job whose server stopped shows as interrupted and may be run again.",
                    "오래 걸리는 작업은 서버에서 백그라운드로 실행되고 진행 상황은 데이터베이스에 남습니다. 모든 서버에서 볼 수 있으며, 서버가 멈춘 작업은 중단됨으로 표시되고 다시 실행할 수 있습니다.")) }
        @if jobs.is_empty() {
            p { (lang.t("No job has run yet. Linkage starts from the duplicate review page.", "아직 실행된 작업이 없습니다. 연결은 중복 검토 페이지에서 시작합니다.")) }
            p { a href="/review" { (lang.t("Duplicate review", "중복 검토")) } }
        } @else {
            table id="jobs" {
                tr {
                    th { "#" } th { (lang.t("Job", "작업")) } th { (lang.t("State", "상태")) }
                    th { (lang.t("Progress", "진행")) } th { (lang.t("Started by", "시작한 사람")) } th { (lang.t("Queued", "요청 시각")) }
                }
                @for job in &jobs {
                    tr {
                        td { a href=(format!("/jobs/{}", job.id)) { (job.id) } }
                        td { (kind_label(lang, job.kind)) }
                        td { (state_label(lang, job.state)) }
                        td { (progress_cell(lang, job)) }
                        td { (girok_model::printable::line(&job.started_by)) }
                        td { (super::readable::local_time(&job.queued_at, principal.time_zone())) }
                    }
                }
            }
        }
    };
    layout_refreshed(
        lang,
        Some(&principal),
        lang.t("Background jobs", "백그라운드 작업"),
        body,
        live.then_some(REFRESH),
    )
    .into_response()
}

fn outcome(lang: Lang, principal: &Principal, job: &Job) -> Markup {
    let again = html! {
        @if job.kind == JobKind::Backup {
            p { (lang.t("A backup is not run again (its passphrase was never kept):", "백업은 다시 실행하지 않습니다 (암호문을 보관하지 않습니다):")) " "
                a href="/admin/backups" { (lang.t("make a new one", "새로 만들기")) } }
        } @else {
            form method="post" action=(format!("/jobs/{}/again", job.id)) {
                input type="hidden" name="csrf" value=(principal.csrf());
                button.primary type="submit" id="run-again" { (lang.t("Run it again", "다시 실행")) }
            }
        }
    };
    html! {
        @match job.state {
            JobState::Queued | JobState::Running => {
                @if job.total > 0 {
                    progress max=(job.total) value=(job.done) aria-label=(phase_label(lang, job.phase)) {}
                }
                p.hint { (lang.t("This page updates itself every few seconds until the job ends. You may leave it: the job goes on.",
                                 "작업이 끝날 때까지 이 페이지는 몇 초마다 갱신됩니다. 페이지를 떠나도 작업은 계속됩니다.")) }
            }
            JobState::Done => {
                (super::exports::export_outcome(lang, principal, job))
                (super::backups::backup_outcome(lang, principal, job))
                @if job.kind == JobKind::Linkage {
                    @match job.result.as_deref().map(serde_json::from_str::<LinkageSummary>) {
                        Some(Ok(summary)) => {
                            div.saved role="status" {
                                p { strong { (lang.t("Linkage is done.", "연결을 마쳤습니다.")) } " "
                                    (summary.persons) " " (lang.counted(summary.persons as u64, "person record compared", "person records compared", "개 인물 기록 비교")) ", "
                                    (summary.candidate_pairs) " " (lang.counted(summary.candidate_pairs, "candidate pair", "candidate pairs", "개 후보 쌍")) ", "
                                    span id="new-proposals" { (summary.proposals) } " " (lang.counted(summary.proposals as u64, "proposal to review.", "proposals to review.", "개 제안을 검토할 수 있습니다.")) }
                                @if summary.sealed > 0 {
                                    p { (summary.sealed) " " (lang.counted(summary.sealed as u64, "sealed (forgotten) person record was not compared.", "sealed (forgotten) person records were not compared.", "개의 봉인된(삭제된) 인물 기록은 비교하지 않았습니다.")) }
                                }
                                p { a href="/review" id="to-review" { (lang.t("Open the review queue", "검토 목록 열기")) " (" (summary.proposals) ")" } }
                            }
                        },
                        _ => p { a href="/review" { (lang.t("Open the review queue", "검토 목록 열기")) } },
                    }
                }
            }
            JobState::Failed => {
                p.error role="alert" { (lang.t("The job failed:", "작업이 실패했습니다:")) " " (error_text(lang, job.error.as_deref().unwrap_or_default())) }
                (again)
            }
            JobState::Interrupted => {
                p.error role="alert" { (lang.t("The job was interrupted: the server running it stopped (it was restarted or killed) before the job ended. Nothing it had not finished was kept.",
                                               "작업이 중단되었습니다. 작업을 실행하던 서버가 끝나기 전에 멈췄습니다 (재시작 또는 강제 종료). 끝내지 못한 결과는 저장되지 않았습니다.")) }
                (again)
            }
        }
    }
}

pub(super) async fn job_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let job = match blocking(move || app.with_jobs(|jobs| jobs.get(id))).await {
        Ok(Ok(Some(job))) => job,
        Ok(Ok(None)) => {
            return error_page(
                StatusCode::NOT_FOUND,
                lang.t("Background jobs", "백그라운드 작업"),
                lang.t("There is no such job.", "그런 작업이 없습니다."),
            );
        }
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let body = html! {
        table.fields {
            tr { th { (lang.t("State", "상태")) } td id="job-state" { (state_label(lang, job.state)) } }
            @if job.state.is_live() {
                tr { th { (lang.t("Progress", "진행")) } td id="job-progress" { (progress_cell(lang, &job)) } }
            }
            tr { th { (lang.t("Started by", "시작한 사람")) } td { (girok_model::printable::line(&job.started_by)) } }
            tr { th { (lang.t("Queued", "요청 시각")) } td { (super::readable::local_time(&job.queued_at, principal.time_zone())) } }
            @if let Some(started) = &job.started_at {
                tr { th { (lang.t("Started", "시작 시각")) } td { (super::readable::local_time(started, principal.time_zone())) } }
            }
            @if let Some(ended) = &job.ended_at {
                tr { th { (lang.t("Ended", "종료 시각")) } td { (super::readable::local_time(ended, principal.time_zone())) } }
            }
            @if let Some(first) = job.again_of {
                tr { th { (lang.t("Runs again", "다시 실행한 작업")) } td { (job_link(lang, first)) } }
            }
        }
        (outcome(lang, &principal, &job))
        p { a href="/jobs" { (lang.t("All jobs", "모든 작업")) } " · " a href="/review" { (lang.t("Duplicate review", "중복 검토")) } }
    };
    layout_refreshed(
        lang,
        Some(&principal),
        &format!(
            "{} {id}: {}",
            lang.t("Job", "작업"),
            kind_label(lang, job.kind)
        ),
        body,
        job.state.is_live().then_some(REFRESH),
    )
    .into_response()
}
