//! The journal: history of a record and verification of the log.

use super::*;

/// A journal entry in the reader's language: what was done, with its reason
/// only for those who may read free text (a reason can name anyone).
pub(super) fn describe(change: &Change, lang: Lang, role: Role) -> String {
    let reason = |text: &str| {
        if role.sees_witnesses() && !text.is_empty() {
            format!(": {text}")
        } else {
            String::new()
        }
    };
    match change {
        Change::Create { record } => format!(
            "{} ({})",
            lang.t("Created", "작성"),
            readable::keyword(lang, record.kind())
        ),
        Change::Update { base_revision, .. } => format!(
            "{} ({} {base_revision} → {})",
            lang.t("Changed", "수정"),
            lang.t("revision", "개정"),
            base_revision + 1
        ),
        Change::Delete { reason: why, .. } => {
            format!("{}{}", lang.t("Deleted", "삭제"), reason(why))
        }
        Change::SetConsent {
            scope,
            widen,
            reason: why,
            ..
        } => format!(
            "{} {}{}",
            if *widen {
                lang.t("Consent widened to", "동의 범위 확대:")
            } else {
                lang.t("Consent set to", "동의 범위 설정:")
            },
            readable::keyword(lang, *scope),
            reason(why)
        ),
        Change::AddTerm { vocabulary, term } => format!(
            "{} ({vocabulary}): {}",
            lang.t("Term added", "용어 추가"),
            lang.t(&term.en, &term.ko)
        ),
        Change::Custody {
            action, recipient, ..
        } => format!(
            "{}: {}{}",
            lang.t("Custody", "보관 이력"),
            readable::keyword(lang, *action),
            match recipient {
                Some(who) if role.sees_witnesses() => format!(" → {who}"),
                _ => String::new(),
            }
        ),
        Change::LinkDecision {
            same,
            persons,
            reason: why,
        } => format!(
            "{} ({}){}",
            if *same {
                lang.t("Decided: the same person", "판정: 같은 인물")
            } else {
                lang.t("Decided: different persons", "판정: 다른 인물")
            },
            persons
                .iter()
                .map(RecordId::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            reason(why)
        ),
        Change::Unlink { reason: why, .. } => format!(
            "{}{}",
            lang.t("Linkage decisions withdrawn", "연결 판정 철회"),
            reason(why)
        ),
        Change::Forget { reason: why, .. } => format!(
            "{}{}",
            lang.t("Identifying data destroyed", "신원 정보 파기"),
            reason(why)
        ),
        Change::Import {
            file_name, records, ..
        } => {
            let from = if role.sees_witnesses() {
                format!(" ({file_name})")
            } else {
                String::new()
            };
            format!(
                "{} {records}{from}",
                lang.t("Imported records:", "가져온 기록 수:")
            )
        }
    }
}

/// One field that a change set: its label, the value before and after.
struct Difference {
    label: &'static str,
    before: Option<Markup>,
    after: Option<Markup>,
}

/// The fields that differ between two versions of a record, as shown.
fn difference(
    before: Option<&Record>,
    after: &Record,
    lang: Lang,
    vocabularies: &girok_model::Vocabularies,
    titles: &readable::Titles,
) -> Vec<Difference> {
    let old = before.map_or_else(Vec::new, |r| readable::rows(r, lang, vocabularies, titles));
    let new = readable::rows(after, lang, vocabularies, titles);
    let mut differences: Vec<Difference> = Vec::new();
    for row in &new {
        let was = old.iter().find(|o| o.key == row.key);
        if was.is_none_or(|was| was.value.0 != row.value.0) {
            differences.push(Difference {
                label: row.label,
                before: was.map(|w| w.value.clone()),
                after: Some(row.value.clone()),
            });
        }
    }
    for row in old.iter().filter(|o| !new.iter().any(|n| n.key == o.key)) {
        differences.push(Difference {
            label: row.label,
            before: Some(row.value.clone()),
            after: None,
        });
    }
    differences
}

/// The history of a record: every journal entry about it, in local time,
/// each change with the fields it set, before and after.
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
    let loaded = blocking(move || {
        app.read(|store| -> Result<_, StoreError> {
            let rows = store.history(&wanted)?;
            let vocabularies = store.vocabularies();
            // The titles of every record the versions refer to, as the role may see them.
            let mut titles = readable::Titles::new();
            for row in &rows {
                if let Change::Create { record } | Change::Update { record, .. } = &row.entry.change
                {
                    for (_, other, _) in record.references() {
                        if titles.contains_key(other) {
                            continue;
                        }
                        if let Some(stored) = store.get(other)? {
                            let shown = redact::record(stored.record, role);
                            let title = readable::title_of(&shown, lang, vocabularies, &titles);
                            titles.insert(other.clone(), title);
                        }
                    }
                }
            }
            let mut previous: Option<Record> = None;
            let mut entries = Vec::new();
            for row in rows {
                let what = describe(&row.entry.change, lang, role);
                let changes = match row.entry.change {
                    Change::Create { record } | Change::Update { record, .. } => {
                        let version = redact::record(record, role);
                        let changes =
                            difference(previous.as_ref(), &version, lang, vocabularies, &titles);
                        previous = Some(version);
                        changes
                    }
                    Change::SetConsent { scope, .. } => match previous.as_mut() {
                        Some(Record::Source(source)) => {
                            let before = source.clone();
                            source.consent = Some(scope);
                            let after = Record::Source(source.clone());
                            difference(
                                Some(&Record::Source(before)),
                                &after,
                                lang,
                                vocabularies,
                                &titles,
                            )
                        }
                        _ => Vec::new(),
                    },
                    _ => Vec::new(),
                };
                entries.push((
                    row.entry.seq,
                    row.entry.time,
                    row.entry.actor,
                    what,
                    changes,
                    row.hash,
                ));
            }
            let title =
                previous.map(|record| readable::title_of(&record, lang, vocabularies, &titles));
            Ok((entries, title))
        })
    })
    .await;
    let (entries, title) = match loaded {
        Ok(Ok(found)) => found,
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let none = html! { span.hint { "—" } };
    let body = html! {
        p.actions { a href=(link_of("", &RecordId::new(&id))) { (lang.t("Back to the record", "기록으로 돌아가기")) } }
        @if entries.is_empty() { p { (lang.t("The journal has no entries about this record.", "이 기록에 대한 항목이 없습니다.")) } }
        // One entry a block, its change at the page's full width: a table of
        // entries with the change in one cell overflows on a tablet.
        ol.history {
            @for (seq, time, actor, what, changes, hash) in &entries {
                li {
                    p.entry {
                        strong { (lang.t("Entry", "항목")) " " (seq) } " · "
                        (readable::local_time(time, principal.time_zone())) " · "
                        (girok_model::printable::line(actor)) " · "
                        (what) " · "
                        span.hint { (lang.t("entry hash", "항목 해시")) " " code { (hex::encode(&hash[..8])) "…" } }
                    }
                    @if !changes.is_empty() {
                        table.diff {
                            tr { th scope="col" { (lang.t("Field", "항목")) } th scope="col" { (lang.t("Before", "이전")) } th scope="col" { (lang.t("After", "이후")) } }
                            @for change in changes {
                                tr {
                                    th { (change.label) }
                                    td { @match &change.before { Some(value) => del { (value) }, None => (none) } }
                                    td { @match &change.after { Some(value) => ins { (value) }, None => (none) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(
        lang,
        &principal,
        &format!(
            "{} {}",
            lang.t("History of", "이력:"),
            title.unwrap_or_else(|| id.clone())
        ),
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

/// A record's proof bundle, as one tar archive: its journal entries with
/// inclusion proofs in a tree signed now, the checkpoint, the verifier key
/// and its evidence files' hashes (no file's bytes). Documenters only: the
/// entries hold what the records say. Recorded in the audit log before it
/// is sent.
pub(super) async fn proof_bundle(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Documenter, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let actor = principal.user.name.clone();
    let wanted = RecordId::new(&id);
    let made = blocking(move || -> Result<Option<Vec<u8>>, String> {
        let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
        let dir = scratch.path().join(format!("girok-proof-{wanted}"));
        let summary = match app.write(|store| {
            girok_service::proofs::prove(store, &app.data, &actor, &wanted, &dir, None)
        }) {
            Ok(summary) => summary,
            Err(girok_service::proofs::ProofError::NoSuchRecord(_)) => return Ok(None),
            Err(error) => return Err(error.to_string()),
        };
        let mut archive = tar::Builder::new(Vec::new());
        archive
            .append_dir_all(format!("girok-proof-{wanted}"), &dir)
            .and_then(|()| archive.finish())
            .map_err(|e| format!("cannot pack the proof bundle: {e}"))?;
        let bytes = archive.into_inner().map_err(|e| e.to_string())?;
        app.record_taken(
            &actor,
            &format!("POST /records/{wanted}/proof"),
            &format!(
                "proof bundle of {wanted}: {} entries in the tree of {}, {} bytes",
                summary.entries,
                summary.tree_size,
                bytes.len()
            ),
        )
        .map_err(|e| e.to_string())?;
        Ok(Some(bytes))
    })
    .await;
    match made {
        Ok(Ok(Some(bytes))) => (
            [
                (header::CONTENT_TYPE, "application/x-tar".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"girok-proof-{id}.tar\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Ok(Ok(None)) => no_such(lang, ("There is no record", "다음 기록이 없습니다:"), &id),
        Ok(Err(failure)) => internal(failure),
        Err(response) => response,
    }
}
