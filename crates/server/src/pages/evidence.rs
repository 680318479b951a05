//! Evidence in the browser: a file uploaded for a source (streamed to disk
//! under a size limit, then stored and journaled by the service exactly as
//! `girok attach` does, sealed when sensitive), downloaded as a custody
//! event, and its chain of custody on its page.

use axum::extract::Multipart;
use girok_model::printable::line;
use girok_model::{CustodyAction, Evidence};
use girok_service::evidence::{self, EvidenceError, Intake};
use girok_store::JournalRow;

use super::upload::{self, NotReceived};
use super::*;

/// The upload form of a source.
pub(super) async fn new_evidence(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(source): Path<String>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let limit = app.settings.upload_limit;
    let title = match source_title(
        &app,
        &principal,
        lang,
        &source,
        "GET /sources/{}/evidence/new",
    )
    .await
    {
        Ok(Ok(Some(title))) => title,
        Ok(Ok(None)) => {
            return no_such(
                lang,
                ("There is no source", "다음 출처가 없습니다:"),
                &source,
            );
        }
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    page(
        lang,
        &principal,
        &heading(lang, &title),
        upload_form(lang, &principal, &source, limit, &Typed::default(), None),
    )
}

fn heading(lang: Lang, title: &str) -> String {
    format!("{} {title}", lang.t("Add evidence to", "증거 추가:"))
}

/// The title of source `source` as the reader sees it (an audited read:
/// `action` with `{}` for the source), or `None` when it is no source.
async fn source_title(
    app: &Arc<App>,
    principal: &Principal,
    lang: Lang,
    source: &str,
    action: &str,
) -> Result<Result<Option<String>, StoreError>, Response> {
    let reading = Reading::of(principal, action.replace("{}", source));
    let wanted = RecordId::new(source);
    let app = app.clone();
    blocking(move || {
        app.read_as(&reading, |store| {
            Ok(match store.get(&wanted)?.map(|s| s.record) {
                Some(record @ Record::Source(_)) => Some(readable::title_of(
                    &record,
                    lang,
                    store.vocabularies(),
                    &readable::Titles::new(),
                )),
                _ => None,
            })
        })
    })
    .await
}

fn upload_form(
    lang: Lang,
    principal: &Principal,
    source: &str,
    limit: u64,
    typed: &Typed,
    error: Option<&Problem>,
) -> Markup {
    let at = |field: &str| {
        error
            .filter(|p| p.field == field)
            .map(|p| p.message.as_str())
    };
    let shown_at = |field: &str| html! { @if let Some(message) = at(field) { div.error role="alert" id=(format!("{field}-error")) { (message) } } };
    html! {
        @if let Some(message) = at("") {
            p.error role="alert" id="upload-error" { (message) }
        }
        form method="post" action=(format!("/sources/{source}/evidence")) enctype="multipart/form-data" {
            // The token comes first: nothing of the file is read before it is checked.
            input type="hidden" name="csrf" value=(principal.csrf());
            label for="file" { (lang.t("File", "파일")) }
            input type="file" id="file" name="file" required aria-invalid=[at("file").map(|_| "true")];
            @if error.is_some() {
                p.hint { (lang.t("Choose the file again: a browser does not keep a chosen file when a form comes back.",
                                 "파일을 다시 고르세요. 양식이 다시 표시되면 브라우저는 고른 파일을 기억하지 않습니다.")) }
            }
            p.hint { (lang.t("At most", "최대")) " " (limit / (1024 * 1024)) " MiB" }
            (shown_at("file"))
            div class=(if at("captured").is_some() { "field-error" } else { "" }) {
                label for="captured" { (lang.t("Captured or collected (date)", "촬영·수집일")) }
                input type="text" id="captured" name="captured" value=(typed.captured) aria-invalid=[at("captured").map(|_| "true")] placeholder=(lang.t("2024-03, spring 2019, c. 2010", "2024년 3월, 2019년 봄"));
                (shown_at("captured"))
            }
            label for="collector" { (lang.t("Collected by", "수집자")) }
            input type="text" id="collector" name="collector" value=(typed.collector);
            label for="media_type" { (lang.t("Kind of file (optional)", "파일 형식 (선택)")) }
            input type="text" id="media_type" name="media_type" value=(typed.media_type) placeholder="image/jpeg, audio/mpeg, application/pdf";
            label.check {
                input type="checkbox" name="sensitive" value="1" checked[typed.sensitive];
                " " (lang.t("Sensitive: it identifies someone (sealed in an encrypted database)", "민감 자료: 누군가를 식별할 수 있음 (암호화된 데이터베이스에서는 봉인)"))
            }
            div.buttons { button.primary type="submit" { (lang.t("Store the file", "파일 저장")) } }
        }
    }
}

/// Why an upload was refused: the form's field at fault ("" for the form
/// as a whole) and what to say.
struct Problem {
    field: &'static str,
    message: String,
}

/// The upload form shown again, refused: what it needs besides the refusal.
struct FormAgain<'a> {
    app: &'a Arc<App>,
    principal: &'a Principal,
    lang: Lang,
    source: &'a str,
    limit: u64,
}

impl FormAgain<'_> {
    /// The form with `message` at `field` and what was typed; its heading
    /// names the source (read once the upload has passed its checks).
    async fn refused(&self, field: &'static str, message: String, typed: Typed) -> Response {
        let (lang, principal) = (self.lang, self.principal);
        let action = "POST /sources/{}/evidence";
        let title = match source_title(self.app, principal, lang, self.source, action).await {
            Ok(Ok(title)) => title.unwrap_or_else(|| self.source.to_string()),
            Ok(Err(error)) => return internal(error),
            Err(response) => return response,
        };
        let problem = Problem { field, message };
        let body = upload_form(
            lang,
            principal,
            self.source,
            self.limit,
            &typed,
            Some(&problem),
        );
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            page(lang, principal, &heading(lang, &title), body),
        )
            .into_response()
    }
}

/// What was typed in the upload form: kept when the form is shown again
/// (a browser never refills a file field).
#[derive(Default, Clone)]
struct Typed {
    captured: String,
    collector: String,
    media_type: String,
    sensitive: bool,
}

/// Stores an uploaded file as evidence of a source.
pub(super) async fn upload(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(source): Path<String>,
    form: Multipart,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let limit = app.settings.upload_limit;
    let form_again = FormAgain {
        app: &app,
        principal: &principal,
        lang,
        source: &source,
        limit,
    };
    let refused = |field, message: &str, typed: &Typed| {
        form_again.refused(field, message.to_string(), typed.clone())
    };
    let upload = match upload::receive(&app, &principal, form, lang).await {
        Ok(upload) => upload,
        Err(NotReceived::Signed(refusal)) => return refusal.into_response(),
        Err(NotReceived::Form(message)) => {
            return refused("file", &message, &Typed::default()).await;
        }
        Err(NotReceived::Failed(error)) => {
            return internal(format!("cannot store the upload: {error}"));
        }
    };
    let text = |name: &str| upload.fields.get(name).cloned().unwrap_or_default();
    let typed = Typed {
        captured: text("captured"),
        collector: text("collector"),
        media_type: text("media_type"),
        sensitive: !text("sensitive").is_empty(),
    };
    let Some(file) = upload.file.filter(|_| !upload.file_name.trim().is_empty()) else {
        return refused(
            "file",
            lang.t("Choose a file to store.", "저장할 파일을 고르세요."),
            &typed,
        )
        .await;
    };
    let captured = match typed.captured.trim() {
        "" => FuzzyDate::UNKNOWN,
        text => match FuzzyDate::parse(text) {
            Ok(date) => date,
            Err(error) => {
                let said = lang.said(&error, Some(error.korean()));
                return refused("captured", &said, &typed).await;
            }
        },
    };
    let optional = |text: &str| Some(text.trim().to_string()).filter(|t| !t.is_empty());
    let intake = Intake {
        source: RecordId::new(source.trim()),
        file_name: upload.file_name,
        captured,
        collector: optional(&typed.collector),
        media_type: optional(&typed.media_type),
        sensitive: typed.sensitive,
        id: None,
    };
    let actor = principal.user.name.clone();
    let data = app.data.clone();
    let writer = app.clone();
    let stored = blocking(move || {
        let stored =
            writer.write(|store| evidence::attach(store, &data, &actor, file.path(), intake));
        // The temporary file goes either way: the bytes are stored, or nothing is.
        drop(file);
        stored
    })
    .await;
    match stored {
        Ok(Ok((id, _))) => saved(RecordKind::Evidence, &id),
        Ok(Err(EvidenceError::Store(StoreError::Invalid(invalid)))) => {
            refused("", invalid.wording().in_language(lang == Lang::Ko), &typed).await
        }
        Ok(Err(EvidenceError::Store(StoreError::Locked))) => refused("", lang.t(
            "The database is locked: a sensitive file can be stored only once an admin has unlocked it.",
            "데이터베이스가 잠겨 있습니다. 관리자가 잠금을 해제해야 민감한 파일을 저장할 수 있습니다.",
        ), &typed).await,
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

/// Hands out an evidence file and journals it as a custody event.
pub(super) async fn download(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let reading = Reading::of(&principal, format!("GET /records/{id}/download"));
    let actor = principal.user.name.clone();
    let wanted = RecordId::new(&id);
    let data = app.data.clone();
    let copied = blocking(
        move || -> Result<Option<(Evidence, Vec<u8>)>, EvidenceError> {
            let copy = tempfile::Builder::new()
                .prefix(".download-")
                .tempfile_in(&data)
                .map_err(|source| StoreError::Io {
                    context: "cannot make a temporary copy".into(),
                    source,
                })?;
            // One audited read: the record (a sealed one opened) and its bytes.
            let found = app.read_as(&reading, |store| {
                let Some(Record::Evidence(evidence)) = store.get(&wanted)?.map(|s| s.record) else {
                    return Ok(None);
                };
                let copied = evidence::files(&data)
                    .map_err(evidence::EvidenceError::from)
                    .and_then(|files| evidence::copy_out(store, &files, &evidence, copy.path()));
                Ok(Some((evidence, copied)))
            })?;
            let Some((evidence, copied)) = found else {
                return Ok(None);
            };
            copied?;
            let bytes = std::fs::read(copy.path()).map_err(|source| StoreError::Io {
                context: "cannot read the temporary copy".into(),
                source,
            })?;
            // No custody event, no file: the download is refused if it cannot be journaled.
            app.write(|store| {
                store.write(&actor, |sink| {
                    sink.apply(Change::Custody {
                        evidence: evidence.id.clone(),
                        sha256: evidence.sha256.clone(),
                        action: CustodyAction::Copy,
                        recipient: Some(actor.clone()),
                        note: "downloaded in the web application".into(),
                    })
                })
            })?;
            Ok(Some((evidence, bytes)))
        },
    )
    .await;
    match copied {
        Ok(Ok(Some((evidence, bytes)))) => {
            let name = if evidence.file_name.is_empty() {
                evidence.id.to_string()
            } else {
                evidence.file_name.clone()
            };
            // Only letters, digits and a few marks reach the header: a stored name cannot inject one.
            let safe: String = name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' })
                .collect();
            (
                AppendHeaders([
                    (header::CONTENT_TYPE, "application/octet-stream".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{safe}\""),
                    ),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ]),
                bytes,
            )
                .into_response()
        }
        Ok(Ok(None)) => no_such(lang, ("There is no evidence record", "다음 증거 기록이 없습니다:"), &id),
        Ok(Err(EvidenceError::Sealed(_))) => error_page(
            StatusCode::CONFLICT,
            lang.t("Sealed", "봉인됨"),
            lang.t(
                "This file is sealed: it can be downloaded once an admin has unlocked the database (if it was forgotten, never again).",
                "이 파일은 봉인되어 있습니다. 관리자가 데이터베이스 잠금을 해제하면 내려받을 수 있습니다 (잊힌 파일은 다시 받을 수 없습니다).",
            ),
        ),
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

/// The chain of custody of an evidence record, oldest first.
pub(super) fn custody_section(
    lang: Lang,
    id: &RecordId,
    custody: &[JournalRow],
    can_download: bool,
    zone: Option<chrono_tz::Tz>,
) -> Markup {
    html! {
        section id="custody" {
            h2 { (lang.t("Chain of custody", "보관 이력")) }
            @if can_download {
                p.actions { a href=(format!("/records/{id}/download")) id="download" { (lang.t("Download the file (recorded in the chain of custody)", "파일 내려받기 (보관 이력에 기록됨)")) } }
            }
            table {
                thead { tr {
                    th { (lang.t("Entry", "항목")) } th { (lang.t("Time", "시각")) }
                    th { (lang.t("By", "수행자")) } th { (lang.t("Action", "조치")) }
                    th { (lang.t("To", "받는 사람")) } th { (lang.t("Note", "메모")) }
                } }
                tbody {
                    @for row in custody {
                        @if let Change::Custody { action, recipient, note, .. } = &row.entry.change {
                            tr {
                                td { (row.entry.seq) }
                                td { (readable::local_time(&row.entry.time, zone)) }
                                td { (line(&row.entry.actor)) }
                                td { (readable::keyword(lang, *action)) }
                                td { (line(recipient.as_deref().unwrap_or(""))) }
                                td { (line(note)) }
                            }
                        }
                    }
                }
            }
        }
    }
}
