//! Reading records: persons (searched by any spelling), sources, any record; new testimonies.

use girok_intake::{Field, NewIds, Testimony};

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
    person
        .names
        .iter()
        .map(|n| n.text.as_str())
        .collect::<Vec<_>>()
        .join(" / ")
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
            |store| -> Result<Vec<(Person, bool)>, StoreError> {
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
                    if let Record::Person(person) = redact::record(stored.record, role) {
                        found.push((person, witness));
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
        @if found.is_empty() {
            p { (lang.t("No persons found.", "찾은 인물이 없습니다.")) }
        } @else {
            table {
                tr { th { "ID" } th { (lang.t("Names", "이름")) } th { (lang.t("Sex", "성별")) } th { (lang.t("Born", "출생")) } }
                @for (person, witness) in &found {
                    tr {
                        td { a href=(format!("/persons/{}", person.id)) { (person.id) } }
                        td { (display_names(person)) @if *witness { " " span.hint { (lang.t("(witness)", "(증언자)")) } } }
                        td { (if lang == Lang::Ko { person.sex.ko() } else { person.sex.as_str() }) }
                        td { (person.birth) }
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

/// A record's fields as a table, with the records that refer to it.
pub(super) async fn record_page(
    app: Arc<App>,
    headers: HeaderMap,
    id: String,
    title_en: &'static str,
    title_ko: &'static str,
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
            let referrers = store.referrers(&wanted, 50)?;
            // Other person records whose names read the same: candidates
            // for `girok link` and review (names are a documenter's to see).
            let mut candidates = Vec::new();
            if let (Record::Person(person), true) = (&stored.record, role.sees_witnesses()) {
                for name in &person.names {
                    for other in app.names.search(store, &name.text, 20)? {
                        if other != wanted && !candidates.contains(&other) {
                            candidates.push(other);
                        }
                    }
                }
            }
            let mut labelled = Vec::new();
            for other in candidates {
                if let Some(found) = store.get(&other)? {
                    labelled.push((other, found.record.label()));
                }
            }
            Ok(Some((
                redact::record(stored.record, role),
                stored.meta,
                referrers,
                labelled,
            )))
        })
    })
    .await;
    let (record, meta, referrers, candidates) = match loaded {
        Ok(Ok(Some(found))) => found,
        Ok(Ok(None)) => {
            return error_page(
                StatusCode::NOT_FOUND,
                lang.t("Not found", "찾을 수 없음"),
                &id,
            );
        }
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let fields = serde_json::to_value(&record).unwrap_or_default();
    let body = html! {
        table {
            @if let Some(object) = fields.as_object() {
                @for (key, value) in object {
                    tr {
                        th { (key) }
                        td {
                            @match value {
                                serde_json::Value::String(text) if text == redact::WITHHELD => span.withheld { (lang.t("withheld for your role", "권한상 비공개")) },
                                serde_json::Value::String(text) => (text),
                                other => code { (other.to_string()) },
                            }
                        }
                    }
                }
            }
            tr { th { (lang.t("revision", "개정")) } td { (meta.revision) ", " (lang.t("created by", "작성")) " " (meta.created_by) ", " (lang.t("last changed by", "최종 수정")) " " (meta.updated_by) } }
        }
        p {
            a href=(format!("/records/{id}/history")) { (lang.t("History of this record", "이 기록의 이력")) }
            @if role.can_write() && matches!(record, Record::Person(_) | Record::Source(_) | Record::Event(_) | Record::Act(_)) {
                " · " a href=(format!("/records/{id}/edit")) id="edit" { (lang.t("Edit", "수정")) }
            }
            @if matches!(record, Record::Person(_)) && role.can_write() {
                " · " a href=(format!("/persons/{id}/acts/new")) { (lang.t("Record an act against this person", "이 인물에 대한 행위 기록")) }
            }
        }
        @if !candidates.is_empty() {
            h2 { (lang.t("Possible duplicates: names that read the same", "중복 가능성: 같게 읽히는 이름")) }
            ul {
                @for (id, label) in &candidates {
                    li { a href=(format!("/persons/{id}")) { (id) } " " (label) }
                }
            }
            p.hint { (lang.t("Review them with girok link and girok review.", "girok link 와 girok review 로 검토하세요.")) }
        }
        (review::merged_section(lang, &merged))
        @if !referrers.is_empty() {
            h2 { (lang.t("Referred to by", "이 기록을 참조하는 기록")) }
            ul {
                @for r in &referrers {
                    li { (r.kind) " " a href=(link_of(r.kind, &r.id)) { (r.id) } " (" (r.field) ")" }
                }
            }
        }
    };
    page(
        lang,
        &principal,
        &format!("{} {id}", lang.t(title_en, title_ko)),
        body,
    )
}

pub(super) async fn any_record(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    record_page(app, headers, id, "Record", "기록").await
}

pub(super) async fn person(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    record_page(app, headers, id, "Person", "인물").await
}

pub(super) async fn source(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    record_page(app, headers, id, "Source", "출처").await
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
    let keyword = |key: &'static str, ko: &'static str| if lang == Lang::Ko { ko } else { key };
    let body = html! {
        @if role.can_write() {
            p { a href="/sources/new" { (lang.t("Record a new testimony", "새 증언 기록")) } }
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
                @for k in SourceKind::ALL { option value=(k.as_str()) selected[kind == Some(*k)] { (keyword(k.as_str(), k.ko())) } }
            }
            label for="consent" { (lang.t("Consent", "동의")) }
            select id="consent" name="consent" {
                option value="" { "—" }
                @for c in ConsentScope::ALL { option value=(c.as_str()) selected[consent == Some(*c)] { (keyword(c.as_str(), c.ko())) } }
            }
            button.primary type="submit" { (lang.t("Search", "검색")) }
        }
        table {
            tr { th { "ID" } th { (lang.t("Title", "제목")) } th { (lang.t("Kind", "종류")) } th { (lang.t("Obtained", "입수")) } th { (lang.t("Consent", "동의")) } }
            @for source in &found {
                tr {
                    td { a href=(format!("/sources/{}", source.id)) { (source.id) } }
                    td { (source.title) }
                    td { (keyword(source.kind.as_str(), source.kind.ko())) }
                    td { (source.obtained) }
                    td { (source.consent.map(|c| keyword(c.as_str(), c.ko())).unwrap_or("—")) }
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
            let events: Vec<girok_model::Event> = store
                .list(RecordKind::Event, offset, PAGE)?
                .into_iter()
                .filter_map(|stored| match redact::record(stored.record, role) {
                    Record::Event(event) => Some(event),
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
        p { (total) " " (lang.t("events", "건")) }
        table {
            tr { th { "ID" } th { (lang.t("Title", "제목")) } th { (lang.t("When", "언제")) } th { (lang.t("Where", "어디서")) } }
            @for event in &events {
                tr {
                    td { a href=(format!("/records/{}", event.id)) { (event.id) } }
                    td { (event.title) }
                    td { (event.date) }
                    td { (event.place.as_deref().unwrap_or("—")) }
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
    #[serde(default)]
    notes: String,
}

fn testimony_form(
    lang: Lang,
    principal: &Principal,
    form: &TestimonyForm,
    errors: &HashMap<&str, String>,
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
            (field("title", lang.t("Title", "제목"), "", &form.title))
            (field("obtained", lang.t("Date of the interview", "면담 날짜"),
                lang.t("Exact or approximate: 2024-05-20, May 2024, spring 2021, around 1999, 2019년 가을, unknown",
                       "정확하거나 대략적인 날짜: 2024-05-20, 2024년 5월, 2021년 봄, 1999년경, 미상"), &form.obtained))
            (field("witness", lang.t("Witness's name", "증언자 이름"),
                lang.t("In Hangul or any romanization; leave empty for an anonymous witness", "한글 또는 로마자; 익명이면 비워 두세요"), &form.witness))
            label for="sex" { (lang.t("Witness's sex", "증언자 성별")) }
            select id="sex" name="sex" {
                @for sex in [Sex::Unknown, Sex::Female, Sex::Male, Sex::Other] {
                    option value=(sex.as_str()) selected[form.sex == sex.as_str()] { (if lang == Lang::Ko { sex.ko() } else { sex.as_str() }) }
                }
            }
            div class=(if errors.contains_key("consent") { "field-error" } else { "" }) {
                label for="consent" { (lang.t("Consent given by the witness", "증언자의 동의 범위")) }
                select id="consent" name="consent" {
                    @for scope in [ConsentScope::Internal, ConsentScope::Partners, ConsentScope::PublicAnonymised, ConsentScope::Public] {
                        option value=(scope.as_str()) selected[form.consent == scope.as_str()] { (scope.as_str()) " · " (scope.ko()) }
                    }
                }
                @if let Some(error) = errors.get("consent") { div.error role="alert" { (error) } }
            }
            (field("language", lang.t("Language of the interview", "면담 언어"), "ko, en", &form.language))
            (field("organisation", lang.t("Documenting organisation", "기록 기관"), "", &form.organisation))
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
    let body = testimony_form(lang, &principal, &form, &HashMap::new());
    page(
        lang,
        &principal,
        lang.t("Record a new testimony", "새 증언 기록"),
        body,
    )
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
    let typed = form.clone();
    let written = blocking(move || {
        let mut testimony = Testimony::new(intake::drawn_stem(), NewIds::Minted);
        testimony.received_by(Some(actor.clone()));
        for (field, text) in [
            (Field::SourceTitle, &typed.title),
            (Field::SourceDate, &typed.obtained),
            (Field::Language, &typed.language),
            (Field::Organisation, &typed.organisation),
            (Field::Consent, &typed.consent),
            (Field::WitnessName, &typed.witness),
            (Field::WitnessSex, &typed.sex),
            (Field::SourceNotes, &typed.notes),
        ] {
            testimony.set(field, text);
        }
        intake::write(&app, &actor, &testimony)
    })
    .await;
    let not_written = match written {
        Ok(Ok((made, _))) => {
            let source = made.iter().find(|(kind, _)| *kind == RecordKind::Source);
            return match source {
                Some((_, id)) => Redirect::to(&format!("/sources/{id}")).into_response(),
                None => internal("the testimony made no source"),
            };
        }
        Ok(Err(not_written)) => not_written,
        Err(response) => return response,
    };
    let mut errors: HashMap<&str, String> = HashMap::new();
    match not_written.by_field(korean) {
        Ok(fields) => {
            for (field, message) in fields {
                let at = match field {
                    Field::SourceDate => "obtained",
                    Field::Language => "language",
                    Field::Organisation => "organisation",
                    Field::Consent => "consent",
                    Field::WitnessName | Field::WitnessSex => "witness",
                    Field::SourceNotes => "notes",
                    _ => "title",
                };
                errors.entry(at).or_insert(message);
            }
        }
        Err(failure) => return internal(failure),
    }
    let body = testimony_form(lang, &principal, &form, &errors);
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        page(
            lang,
            &principal,
            lang.t("Record a new testimony", "새 증언 기록"),
            body,
        ),
    )
        .into_response()
}
