//! The organisations vocabulary, for admins: the organisations, the
//! spellings the sources use (free text of imports and older databases
//! among them), adding an organisation and merging a spelling into one so
//! estimates and tables count its sources in one list. Both are journaled
//! changes made by `girok-service`.

use girok_model::{MERGED_SPELLING, Term, VocabKind};
use girok_service::organisations::{self, InUse, MergeError, MergeRefused};

use super::*;

#[derive(Deserialize, Default, Clone)]
pub(super) struct OrganisationForm {
    #[serde(default)]
    csrf: String,
    /// `add` or `merge`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    en: String,
    #[serde(default)]
    ko: String,
    #[serde(default)]
    spelling: String,
    #[serde(default)]
    into: String,
}

struct Listing {
    terms: Vec<Term>,
    in_use: Vec<InUse>,
}

fn listing(store: &Database) -> Result<Listing, StoreError> {
    Ok(Listing {
        terms: store
            .vocabularies()
            .get(VocabKind::Organisation)
            .terms()
            .to_vec(),
        in_use: organisations::in_use(store)?,
    })
}

fn refusal_words(lang: Lang, refused: &MergeRefused) -> String {
    match (lang, refused) {
        (Lang::En, refused) => refused.to_string(),
        (Lang::Ko, MergeRefused::Empty) => "병합할 표기가 비어 있습니다.".to_string(),
        (Lang::Ko, MergeRefused::UnknownTarget(key)) => {
            format!("“{key}”은(는) 기관 어휘에 없습니다.")
        }
        (Lang::Ko, MergeRefused::TargetMerged { into, root }) => {
            format!("“{into}”은(는) “{root}”에 병합된 표기입니다. “{root}”(으)로 병합하세요.")
        }
        (Lang::Ko, MergeRefused::AlreadyNamed { spelling, key }) => {
            format!("“{spelling}”은(는) 이미 기관 “{key}”을(를) 가리킵니다.")
        }
    }
}

fn organisations_page(
    lang: Lang,
    principal: &Principal,
    listing: &Listing,
    form: &OrganisationForm,
    message: Option<(bool, String)>,
) -> Markup {
    let roots: Vec<&Term> = listing
        .terms
        .iter()
        .filter(|t| t.class.as_deref() != Some(MERGED_SPELLING))
        .collect();
    let merged_into = |key: &str| -> Vec<&str> {
        listing
            .terms
            .iter()
            .filter(|t| {
                t.class.as_deref() == Some(MERGED_SPELLING) && t.parent.as_deref() == Some(key)
            })
            .map(|t| t.en.as_str())
            .collect()
    };
    let label_of = |key: &str| {
        roots
            .iter()
            .find(|t| t.key == key)
            .map_or(key.to_string(), |t| format!("{} · {}", t.en, t.ko))
    };
    html! {
        @if let Some((ok, text)) = &message {
            @if *ok { div.saved role="status" { p { (text) } } } @else { p.error role="alert" { (text) } }
        }
        p { (lang.t(
            "A source's documenting organisation decides its list in every estimate: spellings of one organisation must be one term. Merging a spelling is journaled like any change and cannot be undone by editing; the sources keep the text they were recorded with.",
            "출처의 기록 기관은 모든 추정에서 그 출처의 목록을 정합니다. 한 기관의 여러 표기는 하나의 용어여야 합니다. 표기 병합은 다른 변경처럼 기록되며 수정으로 되돌릴 수 없습니다. 출처에는 기록된 원래 표기가 남습니다.",
        )) }
        h2 { (lang.t("Spellings the sources use", "출처에 쓰인 표기")) }
        table {
            tr { th { (lang.t("As recorded", "기록된 표기")) } th.n { (lang.t("Sources", "출처 수")) } th { (lang.t("Counted as", "집계 기준")) } }
            @for used in &listing.in_use {
                tr {
                    td { (girok_model::printable::line(&used.text)) }
                    td.n { (used.sources) }
                    td {
                        @match &used.term {
                            Some(key) => { (label_of(key)) }
                            None => { span.error { (lang.t("its own list (not a term): merge it below", "별도 목록 (용어 아님): 아래에서 병합하세요")) } }
                        }
                    }
                }
            }
        }
        h2 { (lang.t("Merge a spelling into an organisation", "표기를 기관에 병합")) }
        form method="post" action="/admin/organisations" {
            input type="hidden" name="csrf" value=(principal.csrf());
            input type="hidden" name="action" value="merge";
            label for="spelling" { (lang.t("Spelling (as the sources have it)", "표기 (출처에 쓰인 그대로)")) }
            input id="spelling" name="spelling" list="unmerged" value=(form.spelling);
            datalist id="unmerged" { @for used in listing.in_use.iter().filter(|u| u.term.is_none()) { option value=(used.text) {} } }
            label for="into" { (lang.t("Organisation it names", "가리키는 기관")) }
            select id="into" name="into" {
                @for term in &roots { option value=(term.key) selected[form.into == term.key] { (term.en) " · " (term.ko) } }
            }
            button.primary type="submit" { (lang.t("Merge", "병합")) }
        }
        h2 { (lang.t("Organisations", "기관")) }
        table {
            tr { th { (lang.t("Key", "키")) } th { (lang.t("English", "영어")) } th { (lang.t("Korean", "한국어")) } th { (lang.t("Spellings merged into it", "병합된 표기")) } }
            @for term in &roots {
                tr {
                    td { code { (term.key) } }
                    td { (girok_model::printable::line(&term.en)) }
                    td { (girok_model::printable::line(&term.ko)) }
                    td { (girok_model::printable::line(&merged_into(&term.key).join(", "))) }
                }
            }
        }
        h2 { (lang.t("Add an organisation", "기관 추가")) }
        form method="post" action="/admin/organisations" {
            input type="hidden" name="csrf" value=(principal.csrf());
            input type="hidden" name="action" value="add";
            label for="key" { (lang.t("Key (lower-case letters, digits, hyphens)", "키 (영문 소문자, 숫자, 하이픈)")) }
            input id="key" name="key" value=(form.key) placeholder="nkdb-seoul";
            label for="en" { (lang.t("English name", "영어 이름")) }
            input id="en" name="en" value=(form.en);
            label for="ko" { (lang.t("Korean name", "한국어 이름")) }
            input id="ko" name="ko" value=(form.ko);
            button.primary type="submit" { (lang.t("Add organisation", "기관 추가")) }
        }
    }
}

async fn show(
    app: Arc<App>,
    lang: Lang,
    principal: Principal,
    form: OrganisationForm,
    status: StatusCode,
    message: Option<(bool, String)>,
) -> Response {
    let listed = blocking(move || app.read(listing)).await;
    match listed {
        Ok(Ok(listing)) => (
            status,
            page(
                lang,
                &principal,
                lang.t("Organisations", "기관"),
                organisations_page(lang, &principal, &listing, &form, message),
            ),
        )
            .into_response(),
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

/// `GET /admin/organisations`.
pub(super) async fn organisations(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Admin) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    show(
        app,
        lang,
        principal,
        OrganisationForm::default(),
        StatusCode::OK,
        None,
    )
    .await
}

/// `POST /admin/organisations`: add an organisation, or merge a spelling into one.
pub(super) async fn change(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<OrganisationForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Admin, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let actor = principal.user.name.clone();
    let typed = form.clone();
    let writer = app.clone();
    let done = blocking(move || -> Result<Result<String, String>, StoreError> {
        match typed.action.as_str() {
            "merge" => writer.write(|store| {
                match organisations::merge_spelling(store, &actor, &typed.spelling, &typed.into) {
                    Ok(term) => Ok(Ok(match lang {
                        Lang::En => format!(
                            "Merged: the sources spelling it “{}” now count as {}.",
                            term.en, typed.into
                        ),
                        Lang::Ko => format!(
                            "병합했습니다. “{}” 표기의 출처는 이제 {}(으)로 집계됩니다.",
                            term.en, typed.into
                        ),
                    })),
                    Err(MergeError::Refused(refused)) => Ok(Err(refusal_words(lang, &refused))),
                    Err(MergeError::Store(StoreError::Invalid(invalid))) => Ok(Err(invalid
                        .wording()
                        .in_language(lang == Lang::Ko)
                        .to_string())),
                    Err(MergeError::Store(error)) => Err(error),
                }
            }),
            _ => writer.write(|store| {
                let term = Term {
                    key: typed.key.trim().to_string(),
                    en: typed.en.trim().to_string(),
                    ko: typed.ko.trim().to_string(),
                    parent: None,
                    class: Some("organisation".to_string()),
                    extra: Default::default(),
                };
                let added = store.write(&actor, |sink| {
                    sink.apply(Change::AddTerm {
                        vocabulary: VocabKind::Organisation,
                        term: term.clone(),
                    })
                });
                match added {
                    Ok(_) => Ok(Ok(format!(
                        "{} {}",
                        lang.t("Added:", "추가했습니다:"),
                        term.key
                    ))),
                    Err(StoreError::Invalid(invalid)) => Ok(Err(invalid
                        .wording()
                        .in_language(lang == Lang::Ko)
                        .to_string())),
                    Err(error) => Err(error),
                }
            }),
        }
    })
    .await;
    match done {
        Ok(Ok(Ok(message))) => {
            show(
                app,
                lang,
                principal,
                OrganisationForm::default(),
                StatusCode::OK,
                Some((true, message)),
            )
            .await
        }
        Ok(Ok(Err(refusal))) => {
            show(
                app,
                lang,
                principal,
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some((false, refusal)),
            )
            .await
        }
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}
