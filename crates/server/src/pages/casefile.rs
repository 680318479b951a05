//! The printable case file of a victim: the person (with the records
//! reviewers merged with theirs), every act against them
//! with its agencies and perpetrators, the sources attesting each with their
//! reliability and credibility, the evidence files of those sources with
//! their hashes, and where the log stands. One page, laid out for paper by
//! the print stylesheet every page has; read and audited like a record page.

use girok_service::Extension;

use super::*;

/// An act with what the case file shows of it.
struct ActFile {
    act: Record,
    involvements: Vec<Record>,
    attestations: Vec<Record>,
}

/// Where the log stands, by the cheap check: the latest signed checkpoint's
/// signature and a consistency proof from it to the current tree.
enum LogStanding {
    /// No checkpoint has been signed yet.
    Unsigned { size: u64 },
    Checked {
        signed: u64,
        size: u64,
        root: String,
        extension: Extension,
    },
    /// The checkpoint cannot be checked (no key readable, not ours).
    Unchecked { signed: u64, reason: String },
}

struct CaseFile {
    victim: Record,
    /// The other records reviewers merged with the victim's: one person.
    merged: Vec<Record>,
    acts: Vec<ActFile>,
    sources: Vec<Record>,
    evidence: Vec<Record>,
    titles: readable::Titles,
    vocabularies: Arc<girok_model::Vocabularies>,
    standing: LogStanding,
}

fn standing(app: &App, store: &Database) -> Result<LogStanding, StoreError> {
    let (size, root) = store.tree_head()?;
    let Some((signed, note)) = store.latest_checkpoint()? else {
        return Ok(LogStanding::Unsigned { size });
    };
    let held = match app.checkpoints.verify(&note) {
        Ok(held) => held,
        Err(reason) => return Ok(LogStanding::Unchecked { signed, reason }),
    };
    Ok(
        match girok_service::extends_to(store, &held, (size, root)) {
            Ok(extension) => LogStanding::Checked {
                signed,
                size,
                root: hex::encode(root),
                extension,
            },
            Err(girok_service::ServiceError::Store(error)) => return Err(error),
            Err(other) => LogStanding::Unchecked {
                signed,
                reason: other.to_string(),
            },
        },
    )
}

fn gather(
    app: &App,
    store: &Database,
    id: &RecordId,
    role: Role,
    lang: Lang,
) -> Result<Option<CaseFile>, StoreError> {
    let Some(stored) = store.get(id)? else {
        return Ok(None);
    };
    if !matches!(stored.record, Record::Person(_)) {
        return Ok(None);
    }
    let victim = redact::record(stored.record, role);
    let vocabularies = store.shared_vocabularies();
    let get = |id: &RecordId| -> Result<Option<Record>, StoreError> {
        Ok(store.get(id)?.map(|s| redact::record(s.record, role)))
    };
    // Those of `referrers` that are records of `kind` referring through `field`.
    let among = |referrers: &[girok_store::Referrer],
                 kind: RecordKind,
                 field: &str|
     -> Result<Vec<Record>, StoreError> {
        let mut found = Vec::new();
        for referrer in referrers {
            if referrer.kind == kind.as_str()
                && referrer.field == field
                && let Some(record) = get(&referrer.id)?
            {
                found.push(record);
            }
        }
        Ok(found)
    };
    let referring = |id: &RecordId, kind: RecordKind, field: &str| {
        among(&store.referrers(id, 1000)?, kind, field)
    };
    // One person: the acts against every record reviewers merged with this one.
    let mut merged = Vec::new();
    for other in store.merged_with(id)? {
        if let Some(record) = get(&other)? {
            merged.push(record);
        }
    }
    let mut against = referring(id, RecordKind::Act, "victim")?;
    for other in &merged {
        against.extend(referring(other.id(), RecordKind::Act, "victim")?);
    }
    let mut acts = Vec::new();
    let mut source_ids: Vec<RecordId> = Vec::new();
    let mut perpetrators: Vec<RecordId> = Vec::new();
    for act in against {
        let referrers = store.referrers(act.id(), 1000)?;
        let involvements = among(&referrers, RecordKind::Involvement, "act")?;
        let attestations = among(&referrers, RecordKind::Information, "act")?;
        for attestation in &attestations {
            if let Record::Information(information) = attestation
                && !source_ids.contains(&information.source)
            {
                source_ids.push(information.source.clone());
            }
        }
        for involvement in &involvements {
            if let Record::Involvement(involvement) = involvement
                && let Some(perpetrator) = &involvement.perpetrator
            {
                perpetrators.push(perpetrator.clone());
            }
        }
        acts.push(ActFile {
            act,
            involvements,
            attestations,
        });
    }
    let mut titles = readable::Titles::new();
    let named = |record: &Record| match record {
        Record::Person(person) => !person.names.iter().any(|n| n.text == redact::WITHHELD),
        _ => true,
    };
    for person in std::iter::once(&victim).chain(&merged) {
        if named(person) {
            let title = readable::title_of(person, lang, &vocabularies, &titles);
            titles.insert(person.id().clone(), title);
        }
    }
    for perpetrator in &perpetrators {
        if let Some(person) = get(perpetrator)?
            && named(&person)
        {
            let title = readable::title_of(&person, lang, &vocabularies, &titles);
            titles.insert(perpetrator.clone(), title);
        }
    }
    let mut sources = Vec::new();
    let mut evidence = Vec::new();
    for source_id in &source_ids {
        if let Some(source) = get(source_id)? {
            let title = readable::title_of(&source, lang, &vocabularies, &titles);
            titles.insert(source_id.clone(), title);
            evidence.extend(referring(source_id, RecordKind::Evidence, "source")?);
            sources.push(source);
        }
    }
    for file in &acts {
        let title = readable::title_of(&file.act, lang, &vocabularies, &titles);
        titles.insert(file.act.id().clone(), title);
        // An attestation is named by its source, the column its table leaves out.
        for attestation in &file.attestations {
            if let Record::Information(information) = attestation
                && let Some(source) = titles.get(&information.source).cloned()
            {
                titles.insert(information.id.clone(), source);
            }
        }
    }
    Ok(Some(CaseFile {
        victim,
        merged,
        acts,
        sources,
        evidence,
        titles,
        vocabularies,
        standing: standing(app, store)?,
    }))
}

fn standing_section(lang: Lang, standing: &LogStanding) -> Markup {
    html! {
        section.standing {
            h2 { (lang.t("Integrity of the log", "기록의 무결성")) }
            @match standing {
                LogStanding::Unsigned { size } => {
                    p.error { (lang.t("No signed checkpoint yet: nothing vouches for the", "아직 서명된 체크포인트가 없습니다. 다음 항목을 보증하는 서명이 없습니다:")) " " (size) " " (lang.counted(*size, "journal entry.", "journal entries.", "개의 기록 항목.")) }
                }
                LogStanding::Checked { signed, size, root, extension } => {
                    table.fields {
                        tr { th { (lang.t("Latest signed checkpoint", "최근 서명 체크포인트")) } td { (lang.t("journal size", "기록 항목 수")) " " (signed) } }
                        tr { th { (lang.t("Journal now", "현재 기록")) } td { (size) " " (lang.counted(*size, "entry, tree root", "entries, tree root", "개 항목, 트리 루트")) " " code { (root) } } }
                        tr { th { (lang.t("Cheap check", "간단 검사")) } td {
                            @match extension {
                                Extension::Extends { .. } => strong { (lang.t("passes: the checkpoint's signature is the installation's, and the journal extends exactly what it signed.", "통과: 체크포인트 서명이 이 설치본의 것이며, 현재 기록이 서명된 내용을 그대로 이어 갑니다.")) },
                                Extension::RolledBack { signed, now } => strong.error { (lang.t("FAILS: the journal has fewer entries than were signed", "실패: 서명된 것보다 기록 항목이 적습니다")) " (" (signed) " → " (now) ")" },
                                Extension::Forked { signed } => strong.error { (lang.t("FAILS: the first entries are not the ones signed, up to", "실패: 앞부분 항목이 서명된 항목과 다릅니다. 범위:")) " " (signed) },
                            }
                        } }
                    }
                }
                LogStanding::Unchecked { signed, reason } => {
                    p.error { (lang.t("The latest checkpoint (journal size", "최근 체크포인트 (기록 항목 수")) " " (signed) (lang.t(") cannot be checked here:", ")를 여기서 검사할 수 없습니다:")) " " (girok_model::printable::line(reason)) }
                }
            }
            p.hint { (lang.t(
                "This is the cheap check (a signature and a consistency proof, done as the page is made). It does not re-read every entry: the full verification (every entry's hash, the whole tree, a replay of the journal) is on the Verification page and with girok verify.",
                "이 검사는 페이지를 만들 때 하는 간단 검사(서명과 일관성 증명)입니다. 모든 항목을 다시 읽지는 않습니다. 전체 검증(모든 항목의 해시, 트리 전체, 기록 재적용)은 검증 페이지와 girok verify로 합니다.",
            )) }
        }
    }
}

/// `GET /persons/{id}/case-file`.
pub(super) async fn case_file(
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
    let reading = Reading::of(&principal, format!("GET /persons/{id}/case-file"));
    let loaded =
        blocking(move || app.read_as(&reading, |store| gather(&app, store, &wanted, role, lang)))
            .await;
    let file = match loaded {
        Ok(Ok(Some(file))) => file,
        Ok(Ok(None)) => {
            return no_such(lang, ("There is no person", "다음 인물이 없습니다:"), &id);
        }
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let vocabularies = &file.vocabularies;
    let titles = &file.titles;
    let victim_title = readable::title_of(&file.victim, lang, vocabularies, titles);
    let body = html! {
        p.actions {
            a href=(format!("/persons/{id}")) { (lang.t("Back to the person", "인물로 돌아가기")) }
            " · " (lang.t("Print this page for the paper file (the menu and links are left off).", "종이 기록철용으로 이 페이지를 인쇄하세요 (메뉴와 링크는 빠집니다)."))
        }
        p.kind { (lang.t("Case file", "사건 기록철")) " · " code { (id) } }
        table.fields {
            @for row in readable::rows(&file.victim, lang, vocabularies, titles) {
                tr { th { (row.label) } td { (row.value) } }
            }
        }
        @if !file.merged.is_empty() {
            h2 { (lang.t("The same person in other records (merged by reviewers)", "다른 기록의 같은 인물 (검토자가 병합)")) }
            ul {
                @for record in &file.merged {
                    li { (readable::link(RecordKind::Person, record.id(), titles)) " " code { (record.id()) } }
                }
            }
        }
        h2 { (lang.t("Acts against this person", "이 인물에 대한 행위")) " (" (file.acts.len()) ")" }
        @if file.acts.is_empty() {
            p { (lang.t("No act is recorded against this person.", "이 인물에 대해 기록된 행위가 없습니다.")) }
        }
        @for (number, act) in file.acts.iter().enumerate() {
            section.act {
                h3 { (number + 1) ". " (readable::link(RecordKind::Act, act.act.id(), titles)) }
                table.fields {
                    @for row in readable::rows(&act.act, lang, vocabularies, titles) {
                        @if row.key != "victim" { tr { th { (row.label) } td { (row.value) } } }
                    }
                }
                @if !act.involvements.is_empty() {
                    h4 { (lang.t("Agencies and perpetrators", "가해 기관과 가해자")) }
                    (records::referrer_table(lang, vocabularies, titles, &["act"], &act.involvements.iter().collect::<Vec<_>>()))
                }
                h4 { (lang.t("Sources attesting it", "입증 출처")) }
                @if act.attestations.is_empty() {
                    p.error { (lang.t("No source attests this act.", "이 행위를 입증하는 출처가 없습니다.")) }
                } @else {
                    (records::referrer_table(lang, vocabularies, titles, &["act", "source"], &act.attestations.iter().collect::<Vec<_>>()))
                }
            }
        }
        h2 { (lang.t("Sources", "출처")) " (" (file.sources.len()) ")" }
        @if !file.sources.is_empty() {
            (records::referrer_table(lang, vocabularies, titles, &[], &file.sources.iter().collect::<Vec<_>>()))
        }
        h2 { (lang.t("Evidence files of these sources", "이 출처들의 증거 파일")) " (" (file.evidence.len()) ")" }
        @if file.evidence.is_empty() {
            p { (lang.t("No evidence file.", "증거 파일이 없습니다.")) }
        } @else {
            (records::referrer_table(lang, vocabularies, titles, &[], &file.evidence.iter().collect::<Vec<_>>()))
        }
        (standing_section(lang, &file.standing))
    };
    page(
        lang,
        &principal,
        &format!("{} — {victim_title}", lang.t("Case file", "사건 기록철")),
        body,
    )
}
