//! Receiving a file from a multipart form: the CSRF token checked before
//! anything else is read, the file streamed into a private temporary file
//! of the data directory and refused past `Settings.upload_limit`, so an
//! upload over the limit or cut off leaves nothing behind.

use std::collections::HashMap;
use std::io::Write;

use axum::extract::Multipart;

use super::*;

/// What an upload form sent.
#[derive(Default)]
pub(super) struct Upload {
    /// The name the browser gave the file.
    pub file_name: String,
    /// The form's other fields, by name.
    pub fields: HashMap<String, String>,
    /// The received bytes, removed when dropped unless kept.
    pub file: Option<tempfile::NamedTempFile>,
}

/// Why an upload was not received: refused (the reader's to mend), or a
/// failure of the server's disk.
pub(super) enum NotReceived {
    Signed(Refusal),
    Form(String),
    Failed(std::io::Error),
}

/// Reads the multipart form, writing its `file` field to a temporary file
/// inside the data directory as it arrives and refusing it past the limit.
pub(super) async fn receive(
    app: &App,
    principal: &Principal,
    mut form: Multipart,
    lang: Lang,
) -> Result<Upload, NotReceived> {
    let limit = app.settings.upload_limit;
    let bad = |en: &str, ko: &str| NotReceived::Form(lang.t(en, ko).to_string());
    let mut upload = Upload::default();
    let mut csrf_checked = false;
    while let Some(mut field) = form.next_field().await.map_err(|_| {
        bad(
            "The upload was cut off or is not a form; nothing was stored.",
            "업로드가 중간에 끊겼거나 양식이 아닙니다. 아무것도 저장하지 않았습니다.",
        )
    })? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "csrf" {
            let token = field.text().await.unwrap_or_default();
            check_csrf(principal, Some(&token), Flavor::Page).map_err(NotReceived::Signed)?;
            csrf_checked = true;
            continue;
        }
        if !csrf_checked {
            return Err(NotReceived::Signed(Refusal::BadCsrf(Flavor::Page)));
        }
        if name != "file" {
            let text = field.text().await.unwrap_or_default();
            upload.fields.insert(name, text);
            continue;
        }
        upload.file_name = field.file_name().unwrap_or_default().to_string();
        let mut file = tempfile::Builder::new()
            .prefix(".upload-")
            .tempfile_in(&app.data)
            .map_err(NotReceived::Failed)?;
        let mut received = 0u64;
        while let Some(chunk) = field.chunk().await.map_err(|_| {
            bad(
                "The upload was cut off; nothing was stored.",
                "업로드가 중간에 끊겼습니다. 아무것도 저장하지 않았습니다.",
            )
        })? {
            received += chunk.len() as u64;
            if received > limit {
                return Err(NotReceived::Form(format!(
                    "{} {} MiB; {}",
                    lang.t(
                        "The file is larger than the limit of",
                        "파일이 한도를 넘습니다:"
                    ),
                    limit / (1024 * 1024),
                    lang.t("nothing was stored.", "아무것도 저장하지 않았습니다.")
                )));
            }
            file.write_all(&chunk).map_err(NotReceived::Failed)?;
        }
        upload.file = Some(file);
    }
    if !csrf_checked {
        return Err(NotReceived::Signed(Refusal::BadCsrf(Flavor::Page)));
    }
    Ok(upload)
}
