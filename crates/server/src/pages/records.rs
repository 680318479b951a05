//! Reading records: persons (searched by any spelling), sources, any record; new testimonies.

use girok_intake::{Field, NewIds, Testimony};
use girok_model::printable::line;

use super::pickers::{self, Buttons, Offered, Pick};
use super::*;
use crate::intake;

#[derive(Deserialize, Default)]
pub(super) struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    offset: u64,
    /// Sources: the witness's name in any script or romanization.
    #[serde(default)]
    witness: String,
    /// Sources: one kind of source.
    #[serde(default)]
    kind: String,
    /// Sources: one consent scope.
    #[serde(default)]
    consent: String,
}

const PAGE: u64 = 50;

fn display_names(person: &Person) -> String {
    let names = person.names.iter().map(|n| n.text.as_str());
    line(&names.collect::<Vec<_>>().join(" / ")).into_owned()
}

pub(super) async fn persons(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Analyst) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let role = principal.user.role;
    let q = query.q.clone();
    // The searched name is not written to the audit log (it is kept in the
    // clear); the persons it matched are.
    let reading = Reading::of(
        &principal,
        if q.trim().is_empty() {
            "GET /persons"
        } else {
            "GET /persons (name search)"
        },
    );
    let loaded = blocking(move || {
        app.read_as(
            &reading,
            |store| -> Result<Vec<(Person, bool, usize)>, StoreError> {
                // Searching by name is a documenter's tool: for others a match
                // would tell whether someone of that name is recorded.
                let ids: Vec<RecordId> = if q.trim().is_empty() || !role.sees_witnesses() {
                    store
                        .list(RecordKind::Person, query.offset, PAGE)?
                        .into_iter()
                        .map(|s| s.record.id().clone())
                        .collect()
                } else {
                    app.names.search(store, &q, PAGE as usize)?
                };
                let mut found = Vec::new();
                for id in ids {
                    let Some(stored) = store.get(&id)? else {
                        continue;
                    };
                    let witness = store
                        .referrers(&id, 1)?
                        .iter()
                        .any(|r| r.field == "witness");
                    // Records reviewers merged with this one: the same person.
                    let merged = store.merged_with(&id)?.len();
                    if let Record::Person(person) = redact::record(stored.record, role) {
                        found.push((person, witness, merged));
                    }
                }
                Ok(found)
            },
        )
    })
    .await;
    let found = match loaded {
        Ok(Ok(found)) => found,
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let body = html! {
        form method="get" action="/persons" role="search" {
            label for="q" { (lang.t("Find a person by name, in Hangul or any romanization", "이름으로 찾기 (한글 또는 로마자)")) }
            @if role.sees_witnesses() {
                input id="q" name="q" value=(query.q) placeholder="박동구 / Pak Tong Gu / Park Dong-gu";
            } @else {
                input id="q" name="q" disabled placeholder=(lang.t("Name search is for documenters", "이름 검색은 기록 담당자만 가능합니다"));
            }
            button.primary type="submit" { (lang.t("Search", "검색")) }
        }
        @if role.can_write() {
            p { a href="/persons/new" { (lang.t("Record a new person (a relative named in a testimony, a perpetrator)", "새 인물 기록 (증언에 나온 가족, 가해자 등)")) } }
        }
        @if found.is_empty() {
            p { (lang.t("No persons found.", "찾은 인물이 없습니다.")) }
        } @else {
            table {
                tr { th { "ID" } th { (lang.t("Names", "이름")) } th { (lang.t("Sex", "성별")) } th { (lang.t("Born", "출생")) } }
                @for (person, witness, merged) in &found {
                    tr {
                        td { a href=(format!("/persons/{}", person.id)) { (person.id) } }
                        td {
                            a href=(format!("/persons/{}", person.id)) {
                                @if person.names.is_empty() {
                                    em { (lang.t("no name recorded", "이름 기록 없음")) }
                                } @else {
                                    (readable::text(lang, &display_names(person)))
                                }
                            }
                            @if *witness { " " span.hint { (lang.t("(witness)", "(증언자)")) } }
                            @if *merged > 0 {
                                " " span.hint.merged { "(" (lang.t("one person with", "같은 인물: 다른 기록")) " " (merged) " " (lang.counted(*merged as u64, "other record", "other records", "건")) ")" }
                            }
                        }
                        td { (readable::keyword(lang, person.sex)) }
                        td { (readable::date(lang, &person.birth)) }
                    }
                }
            }
            @if query.q.trim().is_empty() && found.len() as u64 == PAGE {
                p { a href=(format!("/persons?offset={}", query.offset + PAGE)) { (lang.t("Next page", "다음 쪽")) } }
            }
        }
    };
    page(lang, &principal, lang.t("Persons", "인물"), body)
}

/// `?saved=1`: the record was just saved, from a form.
#[derive(Deserialize, Default)]
pub(super) struct Shown {
    #[serde(default)]
    saved: Option<String>,
    /// `&unsourced=1`: the act just saved names no source.
    #[serde(default)]
    unsourced: Option<String>,
    /// `?unchanged=1`: an edit was sent that changed nothing.
    #[serde(default)]
    unchanged: Option<String>,
}

/// What a record page shows besides the record: the records it names and
/// those naming it, each as the reader's role may see it.
struct Around {
    /// Records referring to this one, with the field they refer by.
    referrers: Vec<(&'static str, Record)>,
    titles: readable::Titles,
    candidates: Vec<(RecordId, String)>,
}

/// The record and its neighbourhood, redacted for `role`: its references,
/// its referrers and what they reference (an attestation's source, an
/// involvement's perpetrator), so every link has a title.
fn around(
    app: &App,
    store: &Database,
    record: &Record,
    role: Role,
    lang: Lang,
) -> Result<Around, StoreError> {
    let vocabularies = store.vocabularies();
    let mut referrers = Vec::new();
    for referrer in store.referrers(record.id(), 50)? {
        if let Some(stored) = store.get(&referrer.id)? {
            referrers.push((referrer.field, redact::record(stored.record, role)));
        }
    }
    let mut wanted: Vec<RecordId> = record
        .references()
        .iter()
        .map(|(_, id, _)| (*id).clone())
        .collect();
    for (_, referrer) in &referrers {
        wanted.extend(referrer.references().iter().map(|(_, id, _)| (*id).clone()));
    }
    wanted.sort();
    wanted.dedup();
    let mut linked = Vec::new();
    for id in wanted.iter().filter(|id| *id != record.id()) {
        if let Some(stored) = store.get(id)? {
            linked.push(redact::record(stored.record, role));
        }
    }
    // An act two steps away (what a source's attestations attest) is titled by its victim too.
    let mut victims: Vec<RecordId> = linked
        .iter()
        .filter_map(|linked| match linked {
            Record::Act(act) if !wanted.contains(&act.victim) && &act.victim != record.id() => {
                Some(act.victim.clone())
            }
            _ => None,
        })
        .collect();
    victims.sort();
    victims.dedup();
    for id in &victims {
        if let Some(stored) = store.get(id)? {
            linked.push(redact::record(stored.record, role));
        }
    }
    // Persons first, so an act's title can name its victim.
    let mut titles = readable::Titles::new();
    // A person whose name is withheld is linked by number, and named in no title.
    let named = |record: &Record| match record {
        Record::Person(person) => !person.names.iter().any(|n| n.text == redact::WITHHELD),
        _ => true,
    };
    for persons in [true, false] {
        for other in linked.iter().chain(referrers.iter().map(|(_, r)| r)) {
            if matches!(other, Record::Person(_)) == persons && named(other) {
                let title = readable::title_of(other, lang, vocabularies, &titles);
                titles.insert(other.id().clone(), title);
            }
        }
        // This record's title names its persons; the records naming it name it.
        if named(record) {
            titles.insert(
                record.id().clone(),
                readable::title_of(record, lang, vocabularies, &titles),
            );
        }
    }
    // Other person records whose names read the same: candidates for linkage
    // review (names are a documenter's to see).
    let mut candidates = Vec::new();
    if let (Record::Person(person), true) = (record, role.sees_witnesses()) {
        let mut found: Vec<RecordId> = Vec::new();
        for name in &person.names {
            for other in app.names.search(store, &name.text, 20)? {
                if &other != record.id() && !found.contains(&other) {
                    found.push(other);
                }
            }
        }
        for other in found {
            if let Some(stored) = store.get(&other)? {
                let title = readable::title_of(&stored.record, lang, vocabularies, &titles);
                candidates.push((other, title));
            }
        }
    }
    Ok(Around {
        referrers,
        titles,
        candidates,
    })
}

/// A heading for the records referring to this one by `field`.
fn referrer_heading(lang: Lang, kind: RecordKind, field: &str) -> &'static str {
    match (kind, field) {
        (RecordKind::Act, "victim") => lang.t("Acts against this person", "이 인물에 대한 행위"),
        (RecordKind::Source, "witness") => lang.t("Testimonies given", "이 인물의 증언"),
        (RecordKind::Involvement, "perpetrator") => {
            lang.t("Involved as a perpetrator in", "가해자로 관여한 행위")
        }
        // A relation says its `person` is the `relation` of its `other`.
        (RecordKind::Relation, "other") => lang.t(
            "Persons related to this person (each is this person's …)",
            "이 인물과 관계된 인물 (각각 이 인물의 …)",
        ),
        (RecordKind::Relation, _) => lang.t(
            "This person is related to (this person is their …)",
            "이 인물이 관계된 인물 (이 인물은 그들의 …)",
        ),
        (RecordKind::Information, "source") => {
            lang.t("What this source attests", "이 출처가 증언하는 내용")
        }
        (RecordKind::Evidence, _) => lang.t("Evidence", "증거"),
        (RecordKind::Act, "event") => lang.t("Acts in this event", "이 사건의 행위"),
        (RecordKind::Information, "event") => {
            lang.t("Sources on this event", "이 사건에 대한 출처")
        }
        (RecordKind::Involvement, "act") => {
            lang.t("Agencies and perpetrators", "가해 기관과 가해자")
        }
        (RecordKind::Information, "act") => lang.t("Sources", "출처"),
        _ => lang.t("Referred to by", "이 기록을 참조하는 기록"),
    }
}

/// A table of records with the fields that tell them apart, but those in
/// `left_out` (the field pointing to the page's record, which it names).
pub(super) fn referrer_table(
    lang: Lang,
    vocabularies: &girok_model::Vocabularies,
    titles: &readable::Titles,
    left_out: &[&str],
    records: &[&Record],
) -> Markup {
    // The columns: every field any of them has, but those left out and
    // the title (the link says it).
    let rows: Vec<(&Record, Vec<readable::Row>)> = records
        .iter()
        .map(|r| (*r, readable::rows(r, lang, vocabularies, titles)))
        .collect();
    let mut columns: Vec<(&'static str, &'static str)> = Vec::new();
    for (_, fields) in &rows {
        for row in fields {
            if !columns.iter().any(|(key, _)| *key == row.key)
                && !left_out.contains(&row.key)
                && !matches!(
                    row.key,
                    "title"
                        | "clarifications"
                        | "sealed"
                        | "received_by"
                        | "names"
                        | "description"
                        | "notes"
                )
            {
                columns.push((row.key, row.label));
            }
        }
    }
    html! {
        table {
            tr { th { (lang.t("Record", "기록")) } @for (_, label) in &columns { th { (label) } } }
            @for (record, fields) in &rows {
                tr {
                    td { (readable::link(record.kind(), record.id(), titles)) }
                    @for (key, _) in &columns {
                        td { @if let Some(row) = fields.iter().find(|r| r.key == *key) { (row.value) } }
                    }
                }
            }
        }
    }
}

/// Where a documenter goes after saving a record.
fn next_steps(lang: Lang, record: &Record) -> Markup {
    html! {
        ul.next {
            @match record {
                Record::Person(person) => {
                    li { a href=(format!("/persons/{}/acts/new", person.id)) { (lang.t("Record an act against this person", "이 인물에 대한 행위 기록")) } }
                    li { a href="/sources/new" { (lang.t("Record a new testimony", "새 증언 기록")) } }
                }
                Record::Source(source) => {
                    @if let Some(witness) = &source.witness {
                        li { a href=(format!("/persons/{witness}")) { (lang.t("Go to the witness", "증언자 보기")) } }
                        li { a href=(format!("/persons/{witness}/acts/new?source={}", source.id)) { (lang.t("Record an act against the witness, told in this testimony", "이 증언에서 말한 증언자에 대한 행위 기록")) } }
                    }
                    li { a href="/sources/new" { (lang.t("Record another testimony", "다른 증언 기록")) } }
                }
                Record::Act(act) => {
                    li { a href=(format!("/records/{}/sources/new", act.id)) { (lang.t("Add a source that attests this act", "이 행위를 입증하는 출처 추가")) } }
                    li { a href=(format!("/persons/{}", act.victim)) { (lang.t("Back to the victim", "피해자로 돌아가기")) } }
                    li { a href=(format!("/persons/{}/acts/new", act.victim)) { (lang.t("Record another act against the victim", "피해자에 대한 다른 행위 기록")) } }
                }
                Record::Evidence(evidence) => {
                    li { a href=(format!("/sources/{}", evidence.source)) { (lang.t("Back to the source", "출처로 돌아가기")) } }
                    li { a href=(format!("/sources/{}/evidence/new", evidence.source)) { (lang.t("Add another file to the source", "출처에 다른 파일 추가")) } }
                }
                Record::Event(_) => {
                    li { a href="/events" { (lang.t("All events", "모든 사건")) } }
                    li { a href="/events/new" { (lang.t("Record another event", "다른 사건 기록")) } }
                }
                _ => {}
            }
            li { a href="/" { (lang.t("Dashboard", "대시보드")) } }
        }
    }
}

/// A record as a documenter reads it: what it is, its fields in the reader's
/// language, the records it names and those naming it, as links.
pub(super) async fn record_page(
    app: Arc<App>,
    headers: HeaderMap,
    id: String,
    shown: Shown,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Analyst) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let role = principal.user.role;
    let wanted = RecordId::new(&id);
    let merged = match review::merged_with(app.clone(), wanted.clone()).await {
        Ok(merged) => merged,
        Err(response) => return response,
    };
    let reading = Reading::of(&principal, format!("GET /records/{id}"));
    let loaded = blocking(move || {
        app.read_as(&reading, |store| -> Result<_, StoreError> {
            let Some(stored) = store.get(&wanted)? else {
                return Ok(None);
            };
            let record = redact::record(stored.record, role);
            let around = around(&app, store, &record, role, lang)?;
            let custody = match &record {
                Record::Evidence(evidence) => store.custody(&evidence.sha256)?,
                _ => Vec::new(),
            };
            Ok(Some((
                record,
                stored.meta,
                around,
                store.shared_vocabularies(),
                custody,
            )))
        })
    })
    .await;
    let (record, meta, around, vocabularies, custody) = match loaded {
        Ok(Ok(Some(found))) => found,
        Ok(Ok(None)) => {
            return no_such(lang, ("There is no record", "다음 기록이 없습니다:"), &id);
        }
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let titles = &around.titles;
    // A record reviewers merged with this one is no longer a possible duplicate of it.
    let candidates: Vec<&(RecordId, String)> = around
        .candidates
        .iter()
        .filter(|(id, _)| !merged.contains(id))
        .collect();
    let kind = record.kind();
    let mut groups: Vec<((RecordKind, &'static str), Vec<&Record>)> = Vec::new();
    for (field, referrer) in &around.referrers {
        // The two sides of a relation are two lists, each naming the other side.
        let key = (referrer.kind(), *field);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, records)) => records.push(referrer),
            None => groups.push((key, vec![referrer])),
        }
    }
    let body = html! {
        @if shown.unchanged.is_some() {
            div.saved role="status" {
                p { strong { (lang.t("Nothing to save.", "저장할 변경이 없습니다.")) } " " (lang.t(
                    "The form changed nothing, so no new revision was written.",
                    "양식에서 바뀐 것이 없어 새 개정을 기록하지 않았습니다.",
                )) }
            }
        }
        @if shown.saved.is_some() {
            div.saved role="status" {
                p { strong { (lang.t("Saved.", "저장했습니다.")) } " " (lang.t("What next?", "다음 단계:")) }
                @if shown.unsourced.is_some() {
                    p.error role="alert" { (lang.t(
                        "The act was saved without a source: no testimony or document attests it yet, so it cannot be weighed or counted as documented. Add the source that tells it.",
                        "출처 없이 저장했습니다. 이 행위를 입증하는 증언이나 문서가 아직 없어 신뢰도를 따질 수 없고 기록된 것으로 집계할 수 없습니다. 이를 말한 출처를 추가하세요.",
                    )) }
                }
                (next_steps(lang, &record))
            }
        }
        p.kind { (readable::keyword(lang, kind)) " · " code { (record.id()) } }
        table.fields {
            @for row in readable::rows(&record, lang, &vocabularies, titles) {
                tr { th { (row.label) } td { (row.value) } }
            }
            tr {
                th { (readable::field_label(lang, kind, "revision")) }
                td { (meta.revision) " · " (lang.t("created by", "작성")) " " (line(&meta.created_by)) ", " (lang.t("last changed by", "최종 수정")) " " (line(&meta.updated_by)) }
            }
        }
        p.actions {
            a href=(format!("/records/{id}/history")) { (lang.t("History of this record", "이 기록의 이력")) }
            @if role.can_write() && matches!(record, Record::Person(_) | Record::Source(_) | Record::Event(_) | Record::Act(_)) {
                " · " a href=(format!("/records/{id}/edit")) id="edit" { (lang.t("Edit", "수정")) }
            }
            @if matches!(record, Record::Person(_)) {
                " · " a href=(format!("/persons/{id}/case-file")) id="case-file" { (lang.t("Case file (printable)", "사건 기록철 (인쇄용)")) }
            }
            @if matches!(record, Record::Person(_)) && role.can_write() {
                " · " a href=(format!("/persons/{id}/acts/new")) { (lang.t("Record an act against this person", "이 인물에 대한 행위 기록")) }
            }
            @if matches!(record, Record::Act(_)) && role.can_write() {
                " · " a href=(format!("/records/{id}/sources/new")) id="attest" { (lang.t("Add a source that attests this act", "이 행위를 입증하는 출처 추가")) }
            }
            @if matches!(record, Record::Source(_)) && role.can_write() {
                " · " a href=(format!("/sources/{id}/evidence/new")) id="add-evidence" { (lang.t("Add evidence (a file)", "증거 파일 추가")) }
            }
        }
        @if role.can_write() {
            form.proof method="post" action=(format!("/records/{id}/proof")) {
                input type="hidden" name="csrf" value=(principal.csrf());
                button type="submit" id="proof-bundle" { (lang.t("Download the proof bundle", "증명 묶음 내려받기")) }
                " " span.hint { (lang.t(
                    "Its journal entries with proofs in a tree signed now, for a court or a partner to check with the installation's key (girok verify-bundle, once unpacked). The download is recorded in the audit log.",
                    "이 기록의 항목과 지금 서명한 트리의 포함 증명. 법원이나 협력기관이 설치 키로 확인할 수 있습니다 (압축을 푼 뒤 girok verify-bundle). 내려받기는 감사 기록에 남습니다.",
                )) }
            }
        }
        @if let Record::Evidence(evidence) = &record {
            (super::evidence::custody_section(lang, &evidence.id, &custody, role.can_write(), principal.time_zone()))
        }
        @for ((kind, field), records) in &groups {
            section {
                h2 { (referrer_heading(lang, *kind, field)) }
                (referrer_table(lang, &vocabularies, titles, &[field], records))
            }
        }
        @if !candidates.is_empty() {
            section.actions {
                h2 { (lang.t("Possible duplicates: names that read the same", "중복 가능성: 같게 읽히는 이름")) }
                ul {
                    @for (id, title) in &candidates {
                        li { a href=(format!("/persons/{id}")) { (title) } " " span.hint { (id) } }
                    }
                }
            }
        }
        (review::merged_section(lang, record.id(), &merged, role.can_write().then_some(&principal)))
    };
    let title = readable::title_of(&record, lang, &vocabularies, titles);
    page(lang, &principal, &title, body)
}

/// Any record's page; persons and sources have their own addresses too.
pub(super) async fn any_record(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(shown): Query<Shown>,
) -> Response {
    record_page(app, headers, id, shown).await
}

// ---- Sources ----

pub(super) async fn sources(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Analyst) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let role = principal.user.role;
    let text = query.q.trim().to_lowercase();
    let kind = SourceKind::parse(&query.kind);
    let consent = ConsentScope::parse(&query.consent);
    // Like name search for persons, finding a testimony by its witness's
    // name is a documenter's tool.
    let witness =
        Some(query.witness.trim().to_string()).filter(|w| !w.is_empty() && role.sees_witnesses());
    let offset = query.offset;
    let reading = Reading::of(&principal, "GET /sources");
    let loaded = blocking(move || {
        app.read_as(&reading, |store| -> Result<Vec<Source>, StoreError> {
            let mut found = Vec::new();
            if text.is_empty() && kind.is_none() && consent.is_none() && witness.is_none() {
                for stored in store.list(RecordKind::Source, offset, PAGE)? {
                    if let Record::Source(source) = redact::record(stored.record, role) {
                        found.push(source);
                    }
                }
                return Ok(found);
            }
            let witnesses = match &witness {
                Some(name) => Some(app.names.search(store, name, PAGE as usize)?),
                None => None,
            };
            // Text search reads what the role may read, so it cannot reveal withheld text.
            store.for_each_record(&mut |record| {
                if found.len() < PAGE as usize
                    && let Record::Source(source) = redact::record(record, role)
                    && kind.is_none_or(|k| source.kind == k)
                    && consent.is_none_or(|c| source.consent == Some(c))
                    && witnesses
                        .as_ref()
                        .is_none_or(|ids| source.witness.as_ref().is_some_and(|w| ids.contains(w)))
                    && (text.is_empty()
                        || [&source.title, &source.notes, &source.provenance]
                            .iter()
                            .any(|t| t.to_lowercase().contains(&text)))
                {
                    found.push(source);
                }
                Ok(())
            })?;
            Ok(found)
        })
    })
    .await;
    let found = match loaded {
        Ok(Ok(found)) => found,
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let body = html! {
        @if role.can_write() {
            p {
                a href="/sources/new" { (lang.t("Record a new testimony", "새 증언 기록")) }
                " · " a href="/import" { (lang.t("Import testimonies from a CSV file", "CSV 파일에서 증언 가져오기")) }
            }
        }
        form method="get" action="/sources" role="search" {
            label for="q" { (lang.t("Search titles and notes", "제목과 메모 검색")) }
            input id="q" name="q" value=(query.q);
            @if role.sees_witnesses() {
                label for="witness" { (lang.t("Witness's name (Hangul or any romanization)", "증언자 이름 (한글 또는 로마자)")) }
                input id="witness" name="witness" value=(query.witness);
            }
            label for="kind" { (lang.t("Kind", "종류")) }
            select id="kind" name="kind" {
                option value="" { "—" }
                @for k in SourceKind::ALL { option value=(k.as_str()) selected[kind == Some(*k)] { (readable::keyword(lang, *k)) } }
            }
            label for="consent" { (lang.t("Consent", "동의")) }
            select id="consent" name="consent" {
                option value="" { "—" }
                @for c in ConsentScope::ALL { option value=(c.as_str()) selected[consent == Some(*c)] { (readable::keyword(lang, *c)) } }
            }
            button.primary type="submit" { (lang.t("Search", "검색")) }
        }
        table {
            tr { th { "ID" } th { (lang.t("Title", "제목")) } th { (lang.t("Kind", "종류")) } th { (lang.t("Obtained", "입수")) } th { (lang.t("Consent", "동의")) } }
            @for source in &found {
                tr {
                    td { a href=(format!("/sources/{}", source.id)) { (source.id) } }
                    td { a href=(format!("/sources/{}", source.id)) { (readable::text(lang, &source.title)) } }
                    td { (readable::keyword(lang, source.kind)) }
                    td { (readable::date(lang, &source.obtained)) }
                    td { (source.consent.map(|c| readable::keyword(lang, c)).unwrap_or(std::borrow::Cow::Borrowed("—"))) }
                }
            }
        }
    };
    page(lang, &principal, lang.t("Sources", "출처"), body)
}

/// Events, newest first in the order they were recorded.
pub(super) async fn events(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Analyst) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let role = principal.user.role;
    let offset = query.offset;
    let loaded = blocking(move || {
        app.read(|store| -> Result<_, StoreError> {
            let total = store.count(RecordKind::Event)?;
            let vocabularies = store.vocabularies();
            let events: Vec<(girok_model::Event, String)> = store
                .list(RecordKind::Event, offset, PAGE)?
                .into_iter()
                .filter_map(|stored| match redact::record(stored.record, role) {
                    Record::Event(event) => {
                        let place = event.place.as_deref().map_or("—".to_string(), |key| {
                            readable::term(lang, vocabularies, girok_model::VocabKind::Place, key)
                        });
                        Some((event, place))
                    }
                    _ => None,
                })
                .collect();
            Ok((total, events))
        })
    })
    .await;
    let (total, events) = match loaded {
        Ok(Ok(found)) => found,
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let body = html! {
        @if role.can_write() {
            p { a href="/events/new" { (lang.t("Record a new event", "새 사건 기록")) } }
        }
        p { (total) " " (lang.counted(total, "event", "events", "건")) }
        table {
            tr { th { "ID" } th { (lang.t("Title", "제목")) } th { (lang.t("When", "언제")) } th { (lang.t("Where", "어디서")) } }
            @for (event, place) in &events {
                tr {
                    td { a href=(format!("/records/{}", event.id)) { (event.id) } }
                    td { a href=(format!("/records/{}", event.id)) { (readable::text(lang, &event.title)) } }
                    td { (readable::date(lang, &event.date)) }
                    td { (place) }
                }
            }
        }
        @if offset + PAGE < total {
            p { a href=(format!("/events?offset={}", offset + PAGE)) { (lang.t("Next page", "다음 페이지")) } }
        }
    };
    page(lang, &principal, lang.t("Events", "사건"), body)
}

/// The new-testimony form's fields, as typed.
#[derive(Deserialize, Default, Clone)]
pub(super) struct TestimonyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    obtained: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    consent: String,
    #[serde(default)]
    witness: String,
    #[serde(default)]
    sex: String,
    /// A witness already recorded (an earlier testimony's), by picker.
    #[serde(default)]
    known_witness: String,
    #[serde(default)]
    notes: String,
    /// The persons the witness names and their relation to the witness.
    #[serde(default)]
    named1: String,
    #[serde(default)]
    relation1: String,
    #[serde(default)]
    named2: String,
    #[serde(default)]
    relation2: String,
    #[serde(default)]
    named3: String,
    #[serde(default)]
    relation3: String,
    #[serde(default)]
    find: String,
    #[serde(default)]
    pick: String,
}

/// The form's rows for the persons a witness names: name field, relation field.
const NAMED: [(&str, &str); 3] = [
    ("named1", "relation1"),
    ("named2", "relation2"),
    ("named3", "relation3"),
];

impl TestimonyForm {
    fn named(&self) -> [(&str, &str); 3] {
        [
            (&self.named1, &self.relation1),
            (&self.named2, &self.relation2),
            (&self.named3, &self.relation3),
        ]
    }
}

fn testimony_form(
    lang: Lang,
    principal: &Principal,
    form: &TestimonyForm,
    errors: &HashMap<&str, String>,
    offered: Option<&Offered>,
    options: &TestimonyOptions,
) -> Markup {
    let field = |name: &'static str, label: &str, hint: &str, value: &str| {
        html! {
            div class=(if errors.contains_key(name) { "field-error" } else { "" }) {
                label for=(name) { (label) }
                input id=(name) name=(name) value=(value) aria-invalid=(errors.contains_key(name));
                @if !hint.is_empty() { div.hint { (hint) } }
                @if let Some(error) = errors.get(name) { div.error role="alert" id=(format!("{name}-error")) { (error) } }
            }
        }
    };
    html! {
        form method="post" action="/sources" {
            input type="hidden" name="csrf" value=(principal.csrf());
            (pickers::default_button(lang))
            (field("title", lang.t("Title", "제목"), "", &form.title))
            (field("obtained", lang.t("Date of the interview", "면담 날짜"),
                lang.t("Exact or approximate: 2024-05-20, May 2024, spring 2021, around 1999, 2019년 가을, unknown",
                       "정확하거나 대략적인 날짜: 2024-05-20, 2024년 5월, 2021년 봄, 1999년경, 미상"), &form.obtained))
            (field("witness", lang.t("Witness's name", "증언자 이름"),
                lang.t("In Hangul or any romanization; leave empty for an anonymous witness", "한글 또는 로마자; 익명이면 비워 두세요"), &form.witness))
            label for="sex" { (lang.t("Witness's sex", "증언자 성별")) }
            select id="sex" name="sex" {
                @for sex in [Sex::Unknown, Sex::Female, Sex::Male, Sex::Other] {
                    option value=(sex.as_str()) selected[form.sex == sex.as_str()] { (readable::keyword(lang, sex)) }
                }
            }
            (pickers::field(lang, Pick::Person, "known_witness",
                lang.t("Or a witness already recorded (who gave an earlier testimony)", "또는 이미 기록된 증언자 (이전 증언을 한 사람)"),
                &form.known_witness, offered, errors.get("known_witness")))
            fieldset {
                legend { (lang.t("Persons the witness names", "증언자가 언급한 인물")) }
                p.hint { (lang.t("Each is recorded as a person of their own, related to the witness; record their acts next.", "각 인물은 증언자와의 관계와 함께 별도의 인물로 기록됩니다. 다음에 그들이 당한 행위를 기록하세요.")) }
                @for ((name_field, relation_field), (name, relation)) in NAMED.iter().zip(form.named()) {
                    div class=(if errors.contains_key(name_field) || errors.contains_key(relation_field) { "field-error" } else { "" }) {
                        label for=(name_field) { (lang.t("Name", "이름")) }
                        input id=(name_field) name=(name_field) value=(name);
                        @if let Some(error) = errors.get(name_field) { div.error role="alert" { (error) } }
                        label for=(relation_field) { (lang.t("Relation to the witness", "증언자와의 관계")) }
                        select id=(relation_field) name=(relation_field) {
                            option value="" { "—" }
                            @for (key, label) in &options.relations { option value=(key) selected[relation == key] { (label) } }
                        }
                        @if let Some(error) = errors.get(relation_field) { div.error role="alert" { (error) } }
                    }
                }
            }
            div class=(if errors.contains_key("consent") { "field-error" } else { "" }) {
                label for="consent" { (lang.t("Consent given by the witness", "증언자의 동의 범위")) }
                select id="consent" name="consent" {
                    @for scope in [ConsentScope::Internal, ConsentScope::Partners, ConsentScope::PublicAnonymised, ConsentScope::Public] {
                        option value=(scope.as_str()) selected[form.consent == scope.as_str()] { (readable::keyword(lang, scope)) }
                    }
                }
                @if let Some(error) = errors.get("consent") { div.error role="alert" { (error) } }
            }
            (field("language", lang.t("Language of the interview", "면담 언어"), "ko, en", &form.language))
            div class=(if errors.contains_key("organisation") { "field-error" } else { "" }) {
                label for="organisation" { (lang.t("Documenting organisation (its list in estimates)", "기록 기관 (추정에서의 목록)")) }
                input id="organisation" name="organisation" list="organisations" value=(form.organisation) aria-invalid=(errors.contains_key("organisation"));
                datalist id="organisations" { @for (key, label) in &options.organisations { option value=(key) { (label) } } }
                div.hint { (lang.t("One of the organisations of the vocabulary, in any spelling; an admin adds new ones.", "어휘에 있는 기관 중 하나 (어떤 표기든). 새 기관은 관리자가 추가합니다.")) }
                @if let Some(error) = errors.get("organisation") { div.error role="alert" id="organisation-error" { (error) } }
            }
            label for="notes" { (lang.t("Notes", "메모")) }
            textarea id="notes" name="notes" rows="4" { (form.notes) }
            button.primary type="submit" { (lang.t("Save testimony", "증언 저장")) }
        }
    }
}

pub(super) async fn new_testimony(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let form = TestimonyForm {
        consent: ConsentScope::Internal.as_str().to_string(),
        ..TestimonyForm::default()
    };
    let options = match blocking(move || app.read(testimony_options)).await {
        Ok(options) => options,
        Err(response) => return response,
    };
    let body = testimony_form(lang, &principal, &form, &HashMap::new(), None, &options);
    page(
        lang,
        &principal,
        lang.t("Record a new testimony", "새 증언 기록"),
        body,
    )
}

/// The vocabularies the testimony form chooses from.
pub(super) struct TestimonyOptions {
    relations: Vec<(String, String)>,
    organisations: Vec<(String, String)>,
}

fn testimony_options(store: &Database) -> TestimonyOptions {
    TestimonyOptions {
        relations: vocabulary_options(store.vocabularies(), girok_model::VocabKind::Relation),
        organisations: organisation_options(store.vocabularies()),
    }
}

/// What became of a submitted testimony form.
enum Testified {
    Saved(RecordId),
    /// Shown again: to choose a match, or with the fields at fault.
    Again {
        form: Box<TestimonyForm>,
        errors: HashMap<&'static str, String>,
        offered: Option<Offered>,
    },
}

/// The form field showing an intake field's error.
fn testimony_field(field: Field) -> &'static str {
    match field {
        Field::SourceDate => "obtained",
        Field::Language => "language",
        Field::Organisation => "organisation",
        Field::Consent => "consent",
        Field::WitnessName | Field::WitnessSex => "witness",
        Field::WitnessId => "known_witness",
        Field::SourceNotes => "notes",
        _ => "title",
    }
}

pub(super) async fn create_testimony(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<TestimonyForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Documenter, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let actor = principal.user.name.clone();
    let korean = lang == Lang::Ko;
    let reading = Reading::of(&principal, "POST /sources");
    let outcome = blocking(move || -> Result<(TestimonyOptions, Testified), String> {
        let options = app.read(testimony_options);
        let mut form = form;
        let buttons = Buttons::of(&form.find, &form.pick);
        let looked_up = app
            .read_as(&reading, |store| {
                let mut fields = [(Pick::Person, "known_witness", &mut form.known_witness)];
                if buttons.pressed() {
                    let offered = pickers::pressed(&app, store, lang, &buttons, &mut fields)?;
                    return Ok((HashMap::new(), offered, true));
                }
                let (errors, offered) = pickers::resolve_fields(&app, store, lang, &mut fields)?;
                Ok((errors, offered, false))
            })
            .map_err(|e| e.to_string())?;
        let (mut errors, offered, pressed) = looked_up;
        if pressed {
            return Ok((options, Testified::Again { form: Box::new(form), errors, offered }));
        }
        if !form.known_witness.trim().is_empty() && !form.witness.trim().is_empty() {
            errors.insert(
                "known_witness",
                lang.t(
                    "Either type the name of a new witness or choose one already recorded, not both.",
                    "새 증언자의 이름을 입력하거나 이미 기록된 증언자를 고르세요. 둘 다는 안 됩니다.",
                )
                .to_string(),
            );
        }
        if !form.organisation.trim().is_empty() {
            match app.read(|store| organisation_key(store.vocabularies(), &form.organisation)) {
                Ok(key) => form.organisation = key,
                Err(message) => {
                    errors.insert("organisation", message.in_language(korean).to_string());
                }
            }
        }
        // The persons named, read before anything is written.
        let mut named = Vec::new();
        for ((name_field, relation_field), (name, relation)) in NAMED.iter().zip(form.named()) {
            if name.trim().is_empty() {
                if !relation.is_empty() {
                    errors.insert(*name_field, lang.t("A name is required for this relation.", "이 관계에 해당하는 이름을 입력하세요.").to_string());
                }
                continue;
            }
            match girok_intake::parse::names(name) {
                Ok(names) => named.push((names, relation.to_string(), *relation_field)),
                Err(message) => {
                    errors.insert(*name_field, message.in_language(lang == Lang::Ko).to_string());
                }
            }
        }
        if !errors.is_empty() {
            return Ok((options, Testified::Again { form: Box::new(form), errors, offered }));
        }
        let stem = intake::drawn_stem();
        let mut testimony = Testimony::new(stem.clone(), NewIds::Minted);
        testimony.received_by(Some(actor.clone()));
        for (field, text) in [
            (Field::SourceTitle, &form.title),
            (Field::SourceDate, &form.obtained),
            (Field::Language, &form.language),
            (Field::Organisation, &form.organisation),
            (Field::Consent, &form.consent),
            (Field::WitnessName, &form.witness),
            (Field::WitnessId, &form.known_witness),
            (Field::WitnessSex, &form.sex),
            (Field::SourceNotes, &form.notes),
        ] {
            testimony.set(field, text);
        }
        let named: Vec<intake::Named> = named
            .into_iter()
            .map(|(names, relation, field)| intake::Named {
                names,
                relation,
                field,
            })
            .collect();
        match intake::write_naming(&app, &actor, &testimony, &named) {
            Ok((made, _)) => match made.iter().find(|(kind, _)| *kind == RecordKind::Source) {
                Some((_, id)) => Ok((options, Testified::Saved(id.clone()))),
                None => Err("the testimony made no source".to_string()),
            },
            Err(intake::NamingRefused::At(field, message)) => {
                errors.insert(field, message.in_language(korean).to_string());
                Ok((options, Testified::Again { form: Box::new(form), errors, offered: None }))
            }
            Err(intake::NamingRefused::Testimony(not_written)) => {
                for (field, message) in not_written.by_field(korean).map_err(|e| e.to_string())? {
                    errors.entry(testimony_field(field)).or_insert(message);
                }
                Ok((options, Testified::Again { form: Box::new(form), errors, offered: None }))
            }
        }
    })
    .await;
    match outcome {
        Ok(Ok((_, Testified::Saved(id)))) => saved(RecordKind::Source, &id),
        Ok(Ok((
            options,
            Testified::Again {
                form,
                errors,
                offered,
            },
        ))) => {
            let status = if errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let body = testimony_form(lang, &principal, &form, &errors, offered.as_ref(), &options);
            (
                status,
                page(
                    lang,
                    &principal,
                    lang.t("Record a new testimony", "새 증언 기록"),
                    body,
                ),
            )
                .into_response()
        }
        Ok(Err(failure)) => internal(failure),
        Err(response) => response,
    }
}
