//! The journal: history of a record and verification of the log.

use super::*;

pub(super) async fn history(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Analyst) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let role = principal.user.role;
    let wanted = RecordId::new(&id);
    let loaded = blocking(move || app.read(|store| store.history(&wanted))).await;
    let rows = match loaded {
        Ok(Ok(rows)) => rows,
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let body = html! {
        @if rows.is_empty() { p { (lang.t("The journal has no entries about this record.", "이 기록에 대한 항목이 없습니다.")) } }
        table {
            tr { th { "#" } th { (lang.t("When (UTC)", "시각 (UTC)")) } th { (lang.t("Who", "작성자")) } th { (lang.t("Change", "변경")) } th { (lang.t("Entry hash", "항목 해시")) } }
            @for row in &rows {
                tr {
                    td.n { (row.entry.seq) }
                    td { (row.entry.time) }
                    td { (row.entry.actor) }
                    td { (redact::summary(&row.entry.change, role)) }
                    td { code { (hex::encode(&row.hash[..8])) "…" } }
                }
            }
        }
    };
    page(
        lang,
        &principal,
        &format!("{} {id}", lang.t("History of", "이력:")),
        body,
    )
}

pub(super) async fn verification(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Analyst) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let loaded = blocking(move || {
        app.read(|store| -> Result<_, StoreError> {
            Ok((
                store.head()?,
                store.tree_head()?,
                store.latest_checkpoint()?,
            ))
        })
    })
    .await;
    let ((seq, hash), (size, root), checkpoint) = match loaded {
        Ok(Ok(found)) => found,
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let body = html! {
        table {
            tr { th { (lang.t("Journal entries", "기록 항목 수")) } td { (seq) } }
            tr { th { (lang.t("Head hash", "마지막 항목 해시")) } td { code { (hex::encode(hash)) } } }
            tr { th { (lang.t("Merkle tree", "머클 트리")) } td { (size) " · " code { (hex::encode(root)) } } }
            tr { th { (lang.t("Latest signed checkpoint", "최근 서명 체크포인트")) } td {
                @match &checkpoint {
                    Some((size, _)) => { (lang.t("at size", "크기")) " " (size) }
                    None => { (lang.t("none yet (girok checkpoint)", "없음 (girok checkpoint)")) }
                }
            } }
        }
        form method="post" action="/verify" {
            input type="hidden" name="csrf" value=(principal.csrf());
            p.hint { (lang.t("A full check replays the whole journal into a scratch database and compares every table; on a large database it takes minutes.",
                             "전체 검사는 모든 기록을 임시 데이터베이스에 다시 적용하여 비교합니다. 큰 데이터베이스에서는 몇 분이 걸립니다.")) }
            button.primary type="submit" { (lang.t("Run a full check now", "지금 전체 검사")) }
        }
    };
    page(lang, &principal, lang.t("Verification", "검증"), body)
}

pub(super) async fn run_check(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Analyst, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let checked = blocking(move || {
        // A full check replays the journal into a scratch database (memory and
        // minutes of CPU on a large one): one at a time in this process.
        let _running = app.verification.try_lock().ok()?;
        Some(app.read(|store| store.check(&mut |_, _| {})))
    })
    .await;
    let report = match checked {
        Ok(Some(Ok(report))) => report,
        Ok(Some(Err(error))) => return internal(error),
        Ok(None) => {
            let body = html! {
                p.error role="alert" { (lang.t("A verification is already running. Try again when it has finished.",
                    "검증이 이미 진행 중입니다. 끝난 뒤 다시 시도하세요.")) }
                p { a href="/verify" { (lang.t("Back", "돌아가기")) } }
            };
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "60")],
                page(lang, &principal, lang.t("Verification", "검증"), body),
            )
                .into_response();
        }
        Err(response) => return response,
    };
    let body = html! {
        @if report.is_clean() {
            p { strong { (lang.t("Clean:", "이상 없음:")) } " " (lang.t("the hash chain is intact and replaying the journal gives exactly the stored state.",
                "해시 체인이 온전하며 기록을 다시 적용한 결과가 저장된 상태와 정확히 같습니다.")) }
        } @else {
            p.error { (lang.t("Problems found:", "문제 발견:")) " " (report.chain_breaks.len()) " / " (report.refused.len()) " / " (report.differences.len()) }
            ul { @for d in report.differences.iter().take(50) { li { (format!("{d:?}")) } } }
        }
        p { a href="/verify" { (lang.t("Back", "돌아가기")) } }
    };
    page(lang, &principal, lang.t("Verification", "검증"), body)
}
