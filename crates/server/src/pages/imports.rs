//! Import in the browser: a CSV file in the import layout is uploaded
//! (under the evidence upload's limit and CSRF rule), kept on the data
//! directory's disk under its SHA-256 and previewed through the command
//! line's import path in a batch that is rolled back: every problem by line
//! and column, and what the file would create. Only a file without problems
//! can be confirmed, and the confirmation imports those exact bytes whole or
//! not at all, checked again as they are written.

use axum::extract::Multipart;
use girok_interchange::{COLUMNS, CsvProblem, ImportError, Preview, Wrong};
use girok_model::printable;
use girok_service::imports::{StagedImports, StagingError, upload_name};

use super::upload::{self, NotReceived};
use super::*;

/// The upload form.
pub(super) async fn import_form(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let body = upload_form(lang, &principal, app.settings.upload_limit, None);
    page(lang, &principal, title(lang), body)
}

fn title(lang: Lang) -> &'static str {
    lang.t("Import a CSV file", "CSV 파일 가져오기")
}

/// The files the import layout is read from: CSV, and workbooks' first sheet.
const ACCEPTED: [&str; 5] = [".csv", ".xlsx", ".xlsm", ".xls", ".ods"];

fn upload_form(lang: Lang, principal: &Principal, limit: u64, error: Option<&str>) -> Markup {
    html! {
        @if let Some(error) = error {
            p.error role="alert" id="import-error" { (error) }
        }
        p { (lang.t(
            "A file in the import layout: one act per row, headers in English or Korean. Every problem is shown by line and column, with what the file would create, before anything is written.",
            "가져오기 형식의 파일: 한 행에 행위 하나, 열 이름은 영어 또는 한국어. 아무것도 쓰기 전에 모든 문제를 행과 열로, 파일이 만들 기록과 함께 보여 줍니다.",
        )) }
        form method="post" action="/import" enctype="multipart/form-data" {
            // The token comes first: nothing of the file is read before it is checked.
            input type="hidden" name="csrf" value=(principal.csrf());
            label for="file" { (lang.t("CSV file or spreadsheet (first sheet)", "CSV 파일 또는 스프레드시트 (첫 시트)")) }
            input type="file" id="file" name="file" accept=(ACCEPTED.join(",")) required;
            p.hint { (lang.t("At most", "최대")) " " (limit / (1024 * 1024)) " MiB" }
            div.buttons { button.primary type="submit" { (lang.t("Check the file", "파일 검사")) } }
        }
        details {
            summary { (lang.t("The columns", "열 목록")) }
            table {
                thead { tr { th { (lang.t("English header", "영어 열 이름")) } th { (lang.t("Korean header", "한국어 열 이름")) } th { (lang.t("What it holds", "내용")) } } }
                tbody {
                    @for (_, english, korean, meaning) in COLUMNS {
                        tr { td { code { (english) } } td { code { (korean) } } td { (meaning) } }
                    }
                }
            }
        }
    }
}

/// Receives a file, keeps it and shows its preview.
pub(super) async fn check(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    form: Multipart,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let limit = app.settings.upload_limit;
    let refused = |message: &str| {
        let body = upload_form(lang, &principal, limit, Some(message));
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            page(lang, &principal, title(lang), body),
        )
            .into_response()
    };
    let upload = match upload::receive(&app, &principal, form, lang).await {
        Ok(upload) => upload,
        Err(NotReceived::Signed(refusal)) => return refusal.into_response(),
        Err(NotReceived::Form(message)) => return refused(&message),
        Err(NotReceived::Failed(error)) => {
            return internal(format!("cannot store the upload: {error}"));
        }
    };
    let name = upload_name(&upload.file_name).filter(|name| {
        let name = name.to_ascii_lowercase();
        ACCEPTED.iter().any(|extension| name.ends_with(extension))
    });
    let (Some(file), Some(name)) = (upload.file, name) else {
        return refused(lang.t(
            "Choose a CSV file or a spreadsheet (its name ends in .csv, .xlsx, .xlsm, .xls or .ods).",
            "CSV 파일이나 스프레드시트를 고르세요 (이름이 .csv, .xlsx, .xlsm, .xls, .ods로 끝나는 파일).",
        ));
    };
    let actor = principal.user.name.clone();
    let shown_name = name.clone();
    let previewed = blocking(move || {
        // Opened here: a shared database's client may not wait on the server's threads.
        let staging = StagedImports::of(&app.data)?;
        let sha256 = staging.keep(file)?;
        let preview = app.write(|store| staging.preview(store, &actor, &sha256, &name));
        // Only a file with rows and without problems waits for its confirmation.
        if !preview
            .as_ref()
            .is_ok_and(|p| p.rows > 0 && p.problems.is_empty())
        {
            staging.remove(&sha256);
        }
        Ok::<_, StagingError>((sha256, preview?))
    })
    .await;
    let (sha256, preview) = match previewed {
        Ok(Ok(previewed)) => previewed,
        Ok(Err(error)) => return not_imported(lang, &principal, &shown_name, error),
        Err(response) => return response,
    };
    if preview.rows == 0 && preview.problems.is_empty() {
        return refused(lang.t(
            "The file has no rows below its header; nothing was written.",
            "파일에 열 이름 아래 행이 없습니다. 아무것도 쓰지 않았습니다.",
        ));
    }
    let status = if preview.problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = preview_body(lang, &principal, limit, &shown_name, &sha256, &preview);
    (
        status,
        page(
            lang,
            &principal,
            lang.t("Check before importing", "가져오기 전 확인"),
            body,
        ),
    )
        .into_response()
}

fn preview_body(
    lang: Lang,
    principal: &Principal,
    limit: u64,
    name: &str,
    sha256: &str,
    preview: &Preview,
) -> Markup {
    html! {
        table.fields {
            tr { th { (lang.t("File", "파일")) } td { (printable::line(name)) } }
            tr { th { "SHA-256" } td { code { (sha256) } } }
            tr { th { (lang.t("Rows read", "읽은 행")) } td #rows { (preview.rows) } }
        }
        @if preview.problems.is_empty() {
            h2 { (lang.t("What the import will create", "가져오면 만들어질 기록")) }
            table #created {
                thead { tr { th { (lang.t("Record kind", "기록 종류")) } th.n { (lang.t("Records", "기록 수")) } } }
                tbody {
                    @for (kind, count) in &preview.created {
                        tr { td { (readable::keyword(lang, *kind)) } td.n { (count) } }
                    }
                }
            }
            p { (lang.t(
                "Nothing has been written yet. The import writes every row or, if anything fails, none.",
                "아직 아무것도 쓰지 않았습니다. 가져오기는 모든 행을 쓰거나, 무엇이든 실패하면 하나도 쓰지 않습니다.",
            )) }
            form method="post" action="/import/confirm" {
                input type="hidden" name="csrf" value=(principal.csrf());
                input type="hidden" name="sha256" value=(sha256);
                input type="hidden" name="name" value=(name);
                div.buttons { button.primary type="submit" id="confirm-import" {
                    (lang.t("Import all", "모두 가져오기")) " " (preview.rows) " " (lang.counted(preview.rows, "row", "rows", "행"))
                } }
            }
        } @else {
            p.error role="alert" id="import-problems" {
                (match lang {
                    Lang::En => format!("{} {}: nothing was written. Correct the file and upload it again.", preview.problems.len(), lang.counted(preview.problems.len() as u64, "problem", "problems", "")),
                    Lang::Ko => format!("{}개의 문제가 있어 아무것도 쓰지 않았습니다. 파일을 고친 뒤 다시 올리세요.", preview.problems.len()),
                })
            }
            (problems_table(lang, &preview.problems))
            p.hint { (lang.t(
                "Lines are counted as a spreadsheet counts its rows: the header is line 1.",
                "행 번호는 스프레드시트의 행 번호와 같습니다. 열 이름 행이 1행입니다.",
            )) }
            h2 { (lang.t("Upload the corrected file", "고친 파일 올리기")) }
            (upload_form(lang, principal, limit, None))
        }
    }
}

/// Problems listed on one page: a file read with the wrong columns can have
/// one on every row, and its first ones say what to mend.
const PROBLEMS_SHOWN: usize = 1000;

fn problems_table(lang: Lang, problems: &[CsvProblem]) -> Markup {
    html! {
        table #problems {
            thead { tr {
                th.n { (lang.t("Line", "행")) } th { (lang.t("Column", "열")) } th { (lang.t("Problem", "문제")) }
            } }
            tbody {
                @for problem in problems.iter().take(PROBLEMS_SHOWN) {
                    tr {
                        td.n { (problem.line) }
                        td { (printable::line(problem.column.as_deref().unwrap_or("—"))) }
                        td { (printable::line(&worded(lang, &problem.wrong))) }
                    }
                }
            }
        }
        @if problems.len() > PROBLEMS_SHOWN {
            p.hint { (match lang {
                Lang::En => format!("The first {PROBLEMS_SHOWN} problems are shown; {} more follow.", problems.len() - PROBLEMS_SHOWN),
                Lang::Ko => format!("처음 {PROBLEMS_SHOWN}개의 문제만 보여 줍니다. {}개가 더 있습니다.", problems.len() - PROBLEMS_SHOWN),
            }) }
        }
    }
}

/// A problem in the reader's language; what the parsers and the store say
/// of a value stays as they word it, as on the testimony form.
fn worded(lang: Lang, wrong: &Wrong) -> String {
    match (wrong, lang) {
        (Wrong::Refused(refusal), _) => crate::intake::shown(refusal, lang == Lang::Ko),
        (Wrong::Store(message), _) => message.in_language(lang == Lang::Ko).to_string(),
        (Wrong::NotCsv(reason), Lang::Ko) => format!("CSV 형식이 아닙니다: {reason}"),
        (Wrong::UnknownColumn, Lang::Ko) => {
            let columns: Vec<&str> = COLUMNS.iter().map(|(_, _, ko, _)| *ko).collect();
            format!(
                "알 수 없는 열입니다. 열 이름은 {}입니다.",
                columns.join(", ")
            )
        }
        (Wrong::RepeatedColumn, Lang::Ko) => "같은 열이 두 번 있습니다.".into(),
        (Wrong::CellError(error), Lang::Ko) => {
            format!("셀에 값 대신 스프레드시트 오류 {error}가 들어 있습니다.")
        }
        (Wrong::MissingColumn(field), Lang::Ko) => {
            format!("필수 열 {}({})이 없습니다.", field.noun_ko(), field.name())
        }
        (wrong, _) => {
            let text = wrong.to_string();
            let mut chars = text.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    }
}

#[derive(Deserialize)]
pub(super) struct Confirmation {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    sha256: String,
    #[serde(default)]
    name: String,
}

/// Imports the previewed file, whole or not at all.
pub(super) async fn confirm(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<Confirmation>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Documenter, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(name) = upload_name(&form.name) else {
        return not_imported(
            lang,
            &principal,
            &form.name,
            StagingError::NotStaged(form.sha256.clone()),
        );
    };
    let actor = principal.user.name.clone();
    let (sha256, shown_name) = (form.sha256.clone(), name.clone());
    let imported = blocking(move || {
        let staging = StagedImports::of(&app.data)?;
        app.write(|store| staging.import(store, &actor, &sha256, &name))
    })
    .await;
    let (summary, committed) = match imported {
        Ok(Ok(imported)) => imported,
        Ok(Err(error)) => return not_imported(lang, &principal, &shown_name, error),
        Err(response) => return response,
    };
    let body = html! {
        div.saved role="status" {
            p id="imported" {
                (match lang {
                    Lang::En => format!("Imported {} records from {}", summary.records, printable::line(&shown_name)),
                    Lang::Ko => format!("{}에서 기록 {}개를 가져왔습니다", printable::line(&shown_name), summary.records),
                })
                @if let (Some(first), Some(last)) = (committed.first, committed.last) {
                    " (" (lang.t("journal entries", "기록 항목")) " " (first) "–" (last) ")"
                }
                "."
            }
        }
        ul.next {
            li { a href="/persons" { (lang.t("See the persons", "인물 보기")) } }
            li { a href="/sources" { (lang.t("See the sources", "출처 보기")) } }
            li { a href="/import" { (lang.t("Import another file", "다른 파일 가져오기")) } }
        }
    };
    page(lang, &principal, lang.t("Imported", "가져오기 완료"), body)
}

/// Why a file was not previewed or imported, as a page; nothing was written.
fn not_imported(lang: Lang, principal: &Principal, name: &str, error: StagingError) -> Response {
    let (status, message) = match &error {
        StagingError::NotStaged(_) => (
            StatusCode::CONFLICT,
            lang.t(
                "This upload is no longer waiting to be imported: it was imported already, or it waited too long. Nothing was written; upload the file again.",
                "이 업로드는 더 이상 가져오기를 기다리지 않습니다. 이미 가져왔거나 너무 오래 기다렸습니다. 아무것도 쓰지 않았습니다. 파일을 다시 올리세요.",
            )
            .to_string(),
        ),
        StagingError::Import(ImportError::Store(StoreError::DuplicateImport(duplicate))) => (
            StatusCode::CONFLICT,
            match lang {
                Lang::En => format!(
                    "{} was already imported (as {}, at journal entry {}, {}); nothing was written.",
                    name,
                    duplicate.first_name,
                    duplicate.seq,
                    readable::local_time(&duplicate.time, principal.time_zone())
                ),
                Lang::Ko => format!(
                    "{}은(는) 이미 가져온 파일입니다 ({}, 기록 항목 {}, {}). 아무것도 쓰지 않았습니다.",
                    name,
                    duplicate.first_name,
                    duplicate.seq,
                    readable::local_time(&duplicate.time, principal.time_zone())
                ),
            },
        ),
        StagingError::Import(ImportError::Store(StoreError::Locked)) => (
            StatusCode::CONFLICT,
            lang.t(
                "The database is locked: a file can be imported only once an admin has unlocked it. Nothing was written.",
                "데이터베이스가 잠겨 있습니다. 관리자가 잠금을 해제해야 파일을 가져올 수 있습니다. 아무것도 쓰지 않았습니다.",
            )
            .to_string(),
        ),
        // Checked again as it was written, the file met a problem its preview had not.
        StagingError::Import(error @ (ImportError::At { .. } | ImportError::File { .. })) => {
            (StatusCode::UNPROCESSABLE_ENTITY, error.to_string())
        }
        _ => return internal(error),
    };
    let body = html! {
        p.error role="alert" id="import-error" { (printable::line(&message)) }
        p { a href="/import" { (lang.t("Upload a file", "파일 올리기")) } }
    };
    (
        status,
        page(
            lang,
            principal,
            lang.t("Not imported", "가져오지 않음"),
            body,
        ),
    )
        .into_response()
}
