//! Exports from the browser: every record as JSON, JSON lines or CSV rows,
//! or the report (tables, charts and estimates on one HTML page), internal (documenters: names included) or pseudonymised for partners
//! or the public (analysts too). The export is written by a background job
//! and kept for a day; the page lists the reader's own exports, and each
//! download is recorded in the audit log (who took which export, when)
//! before a byte is sent.

use axum::body::{Body, Bytes};
use girok_service::exports::{
    AUDIENCES, DEFAULT_MIN_CELL, Download, DownloadError, ExportParameters, ExportResult, Layout,
};
use girok_service::jobs::{Job, JobKind, JobState};

use super::jobs::{progress_cell, start, state_label};
use super::*;

/// The reader's exports listed, at most (older ones have expired anyway).
const LISTED: u64 = 50;

/// Bytes handed to the network at a time while a kept file downloads.
const CHUNK: usize = 64 * 1024;

/// The role an export for `audience` needs: names leave only with documenters.
fn role_for(audience: Audience) -> Role {
    match audience {
        Audience::Internal => Role::Documenter,
        Audience::Partners | Audience::Public => Role::Analyst,
    }
}

fn layout_label(lang: Lang, layout: Layout) -> &'static str {
    match layout {
        Layout::Json => lang.t("JSON (every record)", "JSON (모든 기록)"),
        Layout::JsonLines => lang.t(
            "JSON lines (one record per line)",
            "JSON lines (한 줄에 기록 하나)",
        ),
        Layout::Csv => lang.t(
            "CSV (one row per attested act, the import layout)",
            "CSV (진술된 행위마다 한 행, 가져오기 형식)",
        ),
        Layout::Report => lang.t(
            "Report (one HTML page: tables, charts and estimates, no names)",
            "보고서 (HTML 한 페이지: 표, 그래프, 추정, 이름 없음)",
        ),
    }
}

fn audience_label(lang: Lang, audience: Audience) -> &'static str {
    match audience {
        Audience::Internal => lang.t(
            "Internal: every record, names included",
            "내부: 모든 기록, 이름 포함",
        ),
        Audience::Partners => lang.t(
            "Partners: what consent allows, pseudonymised",
            "협력기관: 동의 범위 안에서 가명 처리",
        ),
        Audience::Public => lang.t(
            "Public: what public consent allows, pseudonymised and generalised",
            "공개: 공개 동의 범위 안에서 가명 처리·일반화",
        ),
    }
}

/// What the export form sent.
#[derive(Deserialize, Default, Clone)]
pub(super) struct ExportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    layout: String,
    #[serde(default)]
    audience: String,
    #[serde(default)]
    korean_headers: Option<String>,
    #[serde(default)]
    min_cell: String,
}

/// The export a job made, if it is one and is done.
fn result_of(job: &Job) -> Option<ExportResult> {
    (job.kind == JobKind::Export && job.state == JobState::Done)
        .then_some(job.result.as_deref())
        .flatten()
        .and_then(|result| serde_json::from_str(result).ok())
}

fn parameters_of(job: &Job) -> Option<ExportParameters> {
    serde_json::from_str(&job.parameters).ok()
}

fn what_label(lang: Lang, parameters: &ExportParameters) -> String {
    let audience = parameters
        .audience()
        .map(|audience| lang.t(audience.name(), audience.ko()))
        .unwrap_or_default();
    format!("{} · {audience}", parameters.layout.key().to_uppercase())
}

pub(super) fn bytes_text(lang: Lang, bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / (1 << 20) as f64)
    } else if bytes >= 1 << 10 {
        format!("{:.1} KB", bytes as f64 / (1 << 10) as f64)
    } else {
        format!("{bytes} {}", lang.counted(bytes, "byte", "bytes", "바이트"))
    }
}

/// A finished export: its download link, what it holds and until when.
pub(super) fn export_outcome(lang: Lang, principal: &Principal, job: &Job) -> Markup {
    let Some(result) = result_of(job) else {
        return html! {};
    };
    let audience = result.parameters.audience().ok();
    html! {
        div.saved role="status" {
            p {
                strong { (lang.t("The export is ready.", "내보내기가 준비되었습니다.")) } " "
                (result.written.units) " "
                (match result.parameters.layout {
                    Layout::Csv => lang.counted(result.written.units, "row", "rows", "행"),
                    Layout::Report => lang.counted(result.written.units, "table", "tables", "개 표"),
                    _ => lang.counted(result.written.units, "record", "records", "개 기록"),
                })
                ", " (bytes_text(lang, result.bytes)) "."
            }
            @if audience.is_some_and(|a| a != Audience::Internal) && result.parameters.layout != Layout::Report && result.written.units == 0 {
                p.error role="alert" id=(format!("empty-{}", job.id)) { (lang.t(
                    "Nothing could be published: the export is empty. Every act either has no source whose consent allows this audience, or is rarer than the smallest group. Make it again with a smaller group, or check the sources' consent.",
                    "공개할 수 있는 것이 없어 내보내기가 비어 있습니다. 모든 행위가 이 대상에게 허용된 동의의 출처가 없거나 최소 묶음보다 드뭅니다. 더 작은 묶음으로 다시 만들거나 출처의 동의를 확인하세요.",
                )) }
            }
            @if audience.is_some_and(|a| a != Audience::Internal) && result.parameters.layout != Layout::Report {
                p {
                    (result.written.without_consent) " " (lang.counted(result.written.without_consent, "act had no source whose consent allows this audience;", "acts had no source whose consent allows this audience;", "개 행위는 이 대상에게 허용된 동의가 있는 출처가 없었고,")) " "
                    (result.written.generalised) " " (lang.counted(result.written.generalised, "rare act was generalised (no place, the decade);", "rare acts were generalised (no place, the decade);", "개의 드문 행위는 일반화되었으며 (장소 없음, 연대만),")) " "
                    (result.written.withheld) " " (lang.counted(result.written.withheld, "was withheld", "were withheld", "개는 보류되었습니다")) " ("
                    (lang.t("fewer than", "같은 행위가")) " " (result.parameters.min_cell) " " (lang.t("alike).", "개 미만)."))
                }
            }
            @if job.started_by == principal.user.name {
                p {
                    a.button href=(format!("/exports/{}/download", job.id)) id=(format!("download-{}", job.id)) download=(result.file_name) {
                        (lang.t("Download", "내려받기")) " " (result.file_name)
                    }
                }
                p.hint {
                    (lang.t("Kept until", "보관 기한")) " " (super::readable::local_time(&result.kept_until, principal.time_zone())) ". "
                    (lang.t("Each download is recorded in the audit log.", "내려받을 때마다 감사 기록에 남습니다."))
                    @if result.sealed_key.is_some() {
                        " " (lang.t("It is kept sealed: it holds names from an encrypted database.", "암호화된 데이터베이스의 이름이 들어 있어 봉인된 상태로 보관됩니다."))
                    }
                }
            } @else {
                p.hint { (lang.t("Only the person who made an export downloads it.", "내보내기를 만든 사람만 내려받을 수 있습니다.")) }
            }
        }
    }
}

/// The reader's own latest exports, newest first.
fn own_exports(app: &App, name: &str) -> Result<Vec<Job>, StoreError> {
    app.with_jobs(|jobs| jobs.recent_of(JobKind::Export, name, LISTED))
}

fn export_page(
    lang: Lang,
    principal: &Principal,
    form: &ExportForm,
    problem: Option<(&str, String)>,
    exports: &[Job],
) -> Markup {
    let chosen_layout = Layout::parse(&form.layout).unwrap_or(Layout::Json);
    let allowed: Vec<Audience> = AUDIENCES
        .into_iter()
        .filter(|audience| principal.user.role >= role_for(*audience))
        .collect();
    let chosen_audience = girok_service::exports::audience_of(&form.audience)
        .filter(|audience| allowed.contains(audience))
        .unwrap_or(allowed[0]);
    let min_cell = if form.min_cell.is_empty() {
        DEFAULT_MIN_CELL.to_string()
    } else {
        form.min_cell.clone()
    };
    let problem_in = |field: &str| {
        problem
            .as_ref()
            .filter(|(at, _)| *at == field)
            .map(|(_, text)| text.clone())
    };
    let live = exports.iter().any(|job| job.state.is_live());
    let body = html! {
        p { (lang.t("An export is written in the background and kept for a day, for you to download. Internal exports hold every record with its names; partners' and public exports hold only what the sources' consent allows, with pseudonyms instead of ids, dates as years, places as provinces and rare acts generalised or withheld.",
                    "내보내기는 백그라운드에서 만들어 하루 동안 보관되며, 그동안 내려받을 수 있습니다. 내부용은 이름을 포함한 모든 기록을, 협력기관·공개용은 출처의 동의가 허용하는 것만 담으며, 식별자 대신 가명, 날짜는 연도, 장소는 도 단위로 바꾸고 드문 행위는 일반화하거나 보류합니다.")) }
        @if let Some((_, text)) = problem.as_ref().filter(|(at, _)| at.is_empty()) {
            p.error role="alert" { (text) }
        }
        form method="post" action="/exports" id="export-form" {
            input type="hidden" name="csrf" value=(principal.csrf());
            fieldset {
                legend { (lang.t("Format", "형식")) }
                @for layout in Layout::ALL {
                    label.check {
                        input type="radio" name="layout" value=(layout.key()) checked[layout == chosen_layout];
                        " " (layout_label(lang, layout))
                    }
                }
                @if let Some(text) = problem_in("layout") { p.error role="alert" { (text) } }
            }
            fieldset {
                legend { (lang.t("For whom", "대상")) }
                @for audience in &allowed {
                    label.check {
                        input type="radio" name="audience" value=(audience.name()) checked[*audience == chosen_audience];
                        " " (audience_label(lang, *audience))
                    }
                }
                @if let Some(text) = problem_in("audience") { p.error role="alert" { (text) } }
            }
            label.check {
                input type="checkbox" name="korean_headers" value="on" checked[form.korean_headers.is_some()];
                " " (lang.t("Korean column headings (CSV)", "한국어 열 제목 (CSV)"))
            }
            label for="min_cell" { (lang.t("Smallest group of alike acts published (partners and public)", "공개할 같은 행위의 최소 묶음 (협력기관·공개)")) }
            input type="number" id="min_cell" name="min_cell" min="1" value=(min_cell) aria-invalid=[problem_in("min_cell").map(|_| "true")];
            @if let Some(text) = problem_in("min_cell") { p.error role="alert" { (text) } }
            div.actions {
                button.primary type="submit" id="start-export" { (lang.t("Make the export", "내보내기 만들기")) }
            }
        }
        h2 { (lang.t("Your exports", "내 내보내기")) }
        @if exports.is_empty() {
            p { (lang.t("You have made no export yet.", "아직 만든 내보내기가 없습니다.")) }
        } @else {
            @if live {
                p.hint { (lang.t("This page updates itself every few seconds while an export is being written. You may leave it: the export goes on.",
                                 "내보내기를 만드는 동안 이 페이지는 몇 초마다 갱신됩니다. 페이지를 떠나도 작업은 계속됩니다.")) }
            }
            @for job in exports {
                section.export id=(format!("export-{}", job.id)) {
                    h3 {
                        (lang.t("Export", "내보내기")) " " (job.id)
                        @if let Some(parameters) = parameters_of(job) { " — " (what_label(lang, &parameters)) }
                    }
                    p {
                        span.state id=(format!("state-{}", job.id)) { (state_label(lang, job.state)) }
                        @if job.state.is_live() { " · " (progress_cell(lang, job)) }
                        " · " (super::readable::local_time(&job.queued_at, principal.time_zone()))
                    }
                    @if job.state == JobState::Failed {
                        p.error role="alert" { (lang.t("The export failed:", "내보내기가 실패했습니다:")) " " (job.error.as_deref().unwrap_or_default()) }
                    }
                    @if job.state == JobState::Interrupted {
                        p.error role="alert" { (lang.t("The export was interrupted: the server writing it stopped. Make it again.", "내보내기가 중단되었습니다. 작성하던 서버가 멈췄습니다. 다시 만드십시오.")) }
                    }
                    (export_outcome(lang, principal, job))
                }
            }
        }
    };
    layout_refreshed(
        lang,
        Some(principal),
        lang.t("Export", "내보내기"),
        body,
        live.then_some(super::jobs::REFRESH),
    )
}

pub(super) async fn exports_page(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Analyst) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    shown(app, lang, principal, ExportForm::default(), None).await
}

/// Starts an export for the reader, or shows the form again with what was
/// wrong in the field at fault.
pub(super) async fn start_export(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<ExportForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Analyst, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let refuse = |field: &'static str, text: &str| {
        shown(
            app.clone(),
            lang,
            principal.clone(),
            form.clone(),
            Some((field, text.to_string())),
        )
    };
    let Some(layout) = Layout::parse(&form.layout) else {
        return refuse("layout", lang.t("Choose a format.", "형식을 고르십시오.")).await;
    };
    let audience = match girok_service::exports::audience_of(&form.audience) {
        Some(audience) if principal.user.role >= role_for(audience) => audience,
        Some(_) => {
            return refuse("audience", lang.t(
                "Your role makes partners' and public exports only: an internal export holds witnesses' names.",
                "귀하의 역할로는 협력기관·공개용만 만들 수 있습니다. 내부용에는 증인의 이름이 들어 있습니다.",
            )).await;
        }
        None => return refuse("audience", lang.t("Choose for whom.", "대상을 고르십시오.")).await,
    };
    let min_cell = match form.min_cell.trim() {
        "" => DEFAULT_MIN_CELL,
        text => match text.parse::<u64>() {
            Ok(n) if n >= 1 => n,
            _ => {
                return refuse(
                    "min_cell",
                    lang.t(
                        "The smallest group is a whole number, 1 or more.",
                        "최소 묶음은 1 이상의 정수입니다.",
                    ),
                )
                .await;
            }
        },
    };
    let parameters = ExportParameters {
        layout,
        audience: audience.name().to_string(),
        korean_headers: form.korean_headers.is_some(),
        min_cell,
    };
    let parameters = match serde_json::to_string(&parameters) {
        Ok(json) => json,
        Err(error) => return internal(error),
    };
    start(
        app,
        lang,
        principal,
        JobKind::Export,
        parameters,
        None,
        None,
    )
    .await
}

/// The export page with the reader's exports: the form as typed, and what
/// is wrong with the field at fault, if anything is.
async fn shown(
    app: Arc<App>,
    lang: Lang,
    principal: Principal,
    form: ExportForm,
    problem: Option<(&'static str, String)>,
) -> Response {
    let name = principal.user.name.clone();
    match blocking(move || own_exports(&app, &name)).await {
        Ok(Ok(exports)) => {
            let status = match problem {
                Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
                None => StatusCode::OK,
            };
            (
                status,
                export_page(lang, &principal, &form, problem, &exports),
            )
                .into_response()
        }
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

/// Hands out an export to the person who made it, while their role still
/// allows its audience, once the audit log has recorded the download.
pub(super) async fn download(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Analyst) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let actor = principal.user.name.clone();
    let role = principal.user.role;
    let opened = blocking(
        move || -> Result<Option<(ExportResult, _)>, DownloadError> {
            let Some(job) = app.with_jobs(|jobs| jobs.get(id))? else {
                return Ok(None);
            };
            let Some(result) = result_of(&job) else {
                return Ok(None);
            };
            let allowed = result
                .parameters
                .audience()
                .is_ok_and(|audience| role >= role_for(audience));
            // Someone else's export, or one the reader's role no longer allows, is not there for them.
            if job.started_by != actor || !allowed {
                return Ok(None);
            }
            let vault = app.write(|store| store.vault());
            let download = girok_service::exports::open(&app.data, id, &result, vault.as_deref())?;
            app.record_taken(
                &actor,
                &format!("GET /exports/{id}/download"),
                &format!(
                    "export {id}: {} ({} {}, {}, {} bytes)",
                    result.file_name,
                    result.written.units,
                    result.parameters.layout.unit(),
                    result.parameters.audience,
                    result.bytes
                ),
            )?;
            Ok(Some((result, download)))
        },
    )
    .await;
    let (result, download) = match opened {
        Ok(Ok(Some(found))) => found,
        Ok(Ok(None)) => {
            return no_such(
                lang,
                (
                    "There is no export of yours numbered",
                    "다음 번호의 내 내보내기가 없습니다:",
                ),
                &id.to_string(),
            );
        }
        Ok(Err(DownloadError::Expired)) => {
            return error_page(
                StatusCode::GONE,
                lang.t("Export", "내보내기"),
                lang.t(
                    "This export is no longer kept: exports are kept for a day. Make it again.",
                    "이 내보내기는 더 이상 보관되지 않습니다. 내보내기는 하루 동안만 보관됩니다. 다시 만드십시오.",
                ),
            );
        }
        Ok(Err(DownloadError::Locked)) => {
            return error_page(
                StatusCode::CONFLICT,
                lang.t("Export", "내보내기"),
                lang.t(
                    "This export holds names sealed under the database's keys: it can be downloaded once an admin has unlocked the database.",
                    "이 내보내기에는 데이터베이스 키로 봉인된 이름이 들어 있습니다. 관리자가 데이터베이스 잠금을 해제하면 내려받을 수 있습니다.",
                ),
            );
        }
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    send_file(
        download,
        result.parameters.layout.media_type(),
        &result.file_name,
    )
}

/// Sends a kept file as an attachment named `file_name`, read on a thread
/// of its own a chunk at a time: a large file never sits whole in memory.
pub(super) fn send_file(download: Download, media_type: &str, file_name: &str) -> Response {
    let (chunks, body) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let mut reader = download;
    tokio::task::spawn_blocking(move || {
        loop {
            let mut buffer = vec![0u8; CHUNK];
            let read = match std::io::Read::read(&mut reader.reader, &mut buffer) {
                Ok(0) => return,
                Ok(read) => read,
                Err(error) => {
                    let _ = chunks.blocking_send(Err(error));
                    return;
                }
            };
            buffer.truncate(read);
            if chunks.blocking_send(Ok(Bytes::from(buffer))).is_err() {
                return;
            }
        }
    });
    let stream = futures_util::stream::unfold(body, |mut body| async move {
        body.recv().await.map(|chunk| (chunk, body))
    });
    (
        AppendHeaders([
            (header::CONTENT_TYPE, media_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ]),
        Body::from_stream(stream),
    )
        .into_response()
}
