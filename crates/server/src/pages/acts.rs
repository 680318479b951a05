//! Recording an act against a person.

use girok_intake::{Field, NewIds, Testimony};

use super::pickers::{self, Buttons, Offered, Pick};
use super::*;
use crate::intake;

/// The new-act form's fields, as typed.
#[derive(Deserialize, Default, Clone)]
pub(super) struct ActForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    act_type: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    age: String,
    #[serde(default)]
    agency: String,
    #[serde(flatten)]
    attesting: Attesting,
    #[serde(default)]
    description: String,
    #[serde(default)]
    event: String,
    /// A picker's "Find" button: the field whose matches to show.
    #[serde(default)]
    find: String,
    /// A match chosen: `FIELD=ID`.
    #[serde(default)]
    pick: String,
}

impl ActForm {
    /// The fields chosen with a picker, with what they look for.
    fn picked(&mut self) -> [(Pick, &'static str, &mut String); 2] {
        [
            (Pick::Source, "source", &mut self.attesting.source),
            (Pick::Event, "event", &mut self.event),
        ]
    }
}

pub(super) struct ActPickers {
    /// The victim, as the reader may see them (the page's heading).
    victim: String,
    act_types: Vec<(String, String)>,
    agencies: Vec<(String, String)>,
    relations: Vec<(String, String)>,
    places: Vec<(String, String)>,
}

/// The error of field `name`, under it, if it has one.
fn field_error(errors: &HashMap<&str, String>, name: &str) -> Markup {
    html! { @if let Some(e) = errors.get(name) { div.error role="alert" id=(format!("{name}-error")) { (e) } } }
}

/// The class of a field's block: marked when it has an error.
fn error_class(errors: &HashMap<&str, String>, name: &str) -> &'static str {
    if errors.contains_key(name) {
        "field-error"
    } else {
        ""
    }
}

/// A choice among `options` (key, label), `none` first when given.
fn select(name: &str, options: &[(String, String)], chosen: &str, none: Option<&str>) -> Markup {
    html! {
        select id=(name) name=(name) {
            @if let Some(none) = none { option value="" { (none) } }
            @for (key, label) in options { option value=(key) selected[chosen == key] { (label) } }
        }
    }
}

fn act_form(
    lang: Lang,
    principal: &Principal,
    victim: &str,
    pickers: &ActPickers,
    form: &ActForm,
    errors: &HashMap<&str, String>,
    offered: Option<&Offered>,
) -> Markup {
    let error = |name: &str| field_error(errors, name);
    let class = |name: &str| error_class(errors, name);
    html! {
        form method="post" action=(format!("/persons/{victim}/acts")) {
            input type="hidden" name="csrf" value=(principal.csrf());
            (pickers::default_button(lang))
            div class=(class("act_type")) {
                label for="act_type" { (lang.t("What happened", "행위 유형")) }
                (select("act_type", &pickers.act_types, &form.act_type, Some(lang.t("— choose what happened —", "— 행위 유형을 고르세요 —"))))
                (error("act_type"))
            }
            div class=(class("date")) {
                label for="date" { (lang.t("When", "언제")) }
                input id="date" name="date" value=(form.date) placeholder="2019, 2019-03, early 2020, 1990년대, covid-border-closure";
                (error("date"))
            }
            div class=(class("place")) {
                label for="place" { (lang.t("Where (any spelling: 회령, Hoeryŏng, Hoeryong)", "어디서 (회령, Hoeryŏng 등 어떤 표기든)")) }
                input id="place" name="place" list="places" value=(form.place);
                datalist id="places" { @for (key, label) in &pickers.places { option value=(key) { (label) } } }
                (error("place"))
            }
            div class=(class("age")) {
                label for="age" { (lang.t("Victim's age at the time", "당시 피해자 나이")) }
                input id="age" name="age" inputmode="numeric" value=(form.age);
                (error("age"))
            }
            label for="agency" { (lang.t("Perpetrating agency", "가해 기관")) }
            (select("agency", &pickers.agencies, &form.agency, Some(lang.t("(none recorded)", "(기록 없음)"))))
            (attestation_fields(lang, &pickers.relations, &form.attesting, errors, offered))
            (pickers::field(lang, Pick::Event, "event", lang.t("Part of event (optional)", "관련 사건 (선택)"), &form.event, offered, errors.get("event")))
            label for="description" { (lang.t("Description", "설명")) }
            textarea id="description" name="description" rows="3" { (form.description) }
            button.primary type="submit" { (lang.t("Save act", "행위 저장")) }
        }
    }
}

/// What a source says of an act: which source, and how far to trust it
/// (the fields both the act form and the add-a-source form have).
#[derive(Deserialize, Default, Clone)]
pub(super) struct Attesting {
    #[serde(default)]
    source: String,
    #[serde(default)]
    relation: String,
    /// The source's reliability (A-F).
    #[serde(default)]
    reliability: String,
    /// The information's credibility (1-6).
    #[serde(default)]
    credibility: String,
    /// How the witness knows.
    #[serde(default)]
    knowledge: String,
}

/// The fields of an attestation: the source (a picker), the witness's
/// relation to the victim, the Admiralty grades and how the witness knows.
fn attestation_fields(
    lang: Lang,
    relations: &[(String, String)],
    form: &Attesting,
    errors: &HashMap<&str, String>,
    offered: Option<&Offered>,
) -> Markup {
    let error = |name: &str| field_error(errors, name);
    let class = |name: &str| error_class(errors, name);
    html! {
            (pickers::field(lang, Pick::Source, "source", lang.t("Source that attests it", "입증 출처"), &form.source, offered, errors.get("source")))
            label for="relation" { (lang.t("The witness's relation to the victim", "증언자와 피해자의 관계")) }
            (select("relation", relations, &form.relation, Some(lang.t("(unknown)", "(미상)"))))
            div class=(class("reliability")) {
                label for="reliability" { (lang.t("Reliability of the source", "출처의 신뢰도")) }
                select id="reliability" name="reliability" {
                    option value="" { (lang.t("(not graded)", "(평가 안 함)")) }
                    @for grade in girok_model::Reliability::ALL {
                        option value=(grade.as_str()) selected[form.reliability == grade.as_str()] { (readable::keyword(lang, *grade)) }
                    }
                }
                (error("reliability"))
            }
            div class=(class("credibility")) {
                label for="credibility" { (lang.t("Credibility of the information", "정보의 신빙성")) }
                select id="credibility" name="credibility" {
                    option value="" { (lang.t("(not graded)", "(평가 안 함)")) }
                    @for (grade, ..) in girok_model::CREDIBILITY {
                        option value=(grade) selected[form.credibility == grade.to_string()] { (readable::credibility(lang, grade)) }
                    }
                }
                (error("credibility"))
            }
            div class=(class("knowledge")) {
                label for="knowledge" { (lang.t("How the witness knows", "증언자가 아는 경위")) }
                select id="knowledge" name="knowledge" {
                    option value="" { (lang.t("(unknown)", "(미상)")) }
                    @for how in girok_model::Knowledge::ALL {
                        option value=(how.as_str()) selected[form.knowledge == how.as_str()] { (readable::keyword(lang, *how)) }
                    }
                }
                (error("knowledge"))
            }
    }
}

fn act_pickers(store: &Database, lang: Lang) -> ActPickers {
    use girok_model::VocabKind;
    let vocabularies = store.vocabularies();
    ActPickers {
        victim: String::new(),
        act_types: vocabulary_options(vocabularies, VocabKind::ActType),
        agencies: vocabulary_options(vocabularies, VocabKind::Agency),
        relations: vocabulary_options(vocabularies, VocabKind::Relation),
        places: place_options(vocabularies, lang),
    }
}

/// The act form's choices and its victim's title; `None` when `victim` is
/// not a person. Reading the victim's name is audited as `reading`.
fn act_form_data(
    app: &App,
    reading: &Reading,
    victim: &RecordId,
    lang: Lang,
    role: Role,
) -> Result<Option<ActPickers>, StoreError> {
    let Some(title) = app.read_as(reading, |store| {
        readable::title_of_kind(store, victim, RecordKind::Person, lang, role)
    })?
    else {
        return Ok(None);
    };
    let mut pickers = app.read(|store| act_pickers(store, lang));
    pickers.victim = title;
    Ok(Some(pickers))
}

fn act_heading(lang: Lang, pickers: &ActPickers) -> String {
    format!(
        "{} {}",
        lang.t("Record an act against", "행위 기록:"),
        pickers.victim
    )
}

/// `?source=ID`: the act form opened from a testimony names it already.
#[derive(Deserialize, Default)]
pub(super) struct NewActQuery {
    #[serde(default)]
    source: String,
}

pub(super) async fn new_act(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(victim): Path<String>,
    Query(query): Query<NewActQuery>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let (reading, wanted, role) = (
        Reading::of(&principal, format!("GET /persons/{victim}/acts/new")),
        RecordId::new(&victim),
        principal.user.role,
    );
    let pickers = match blocking(move || act_form_data(&app, &reading, &wanted, lang, role)).await {
        Ok(Ok(Some(pickers))) => pickers,
        Ok(Ok(None)) => {
            return no_such(
                lang,
                ("There is no person", "다음 인물이 없습니다:"),
                &victim,
            );
        }
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let form = ActForm {
        attesting: Attesting {
            source: query.source,
            ..Attesting::default()
        },
        ..ActForm::default()
    };
    let body = act_form(
        lang,
        &principal,
        &victim,
        &pickers,
        &form,
        &HashMap::new(),
        None,
    );
    page(lang, &principal, &act_heading(lang, &pickers), body)
}

/// The form's field for each field of the testimony it carries.
fn form_field(field: Field) -> &'static str {
    match field {
        Field::ActDate => "date",
        Field::ActPlace => "place",
        Field::VictimAge => "age",
        Field::Agency => "agency",
        Field::SourceId => "source",
        Field::Relation => "relation",
        Field::Reliability => "reliability",
        Field::Credibility => "credibility",
        Field::Knowledge => "knowledge",
        Field::EventId => "event",
        Field::Description => "description",
        _ => "act_type",
    }
}

/// Errors by form field, or the store's failure.
fn field_errors(
    not: &intake::NotWritten,
    korean: bool,
) -> Result<HashMap<&'static str, String>, String> {
    let mut errors = HashMap::new();
    for (field, message) in not.by_field(korean).map_err(|e| e.to_string())? {
        errors.entry(form_field(field)).or_insert(message);
    }
    Ok(errors)
}

/// What became of a submitted act form.
enum Submitted {
    /// Written; `unsourced` (the act made) when no source attests it.
    Saved { unsourced: Option<RecordId> },
    /// Shown again: to choose a match, or with the fields at fault.
    Again {
        form: Box<ActForm>,
        errors: HashMap<&'static str, String>,
        offered: Option<Offered>,
    },
}

pub(super) async fn create_act(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(victim): Path<String>,
    Form(form): Form<ActForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Documenter, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let actor = principal.user.name.clone();
    let korean = lang == Lang::Ko;
    let victim_id = victim.clone();
    let reading = Reading::of(&principal, format!("POST /persons/{victim}/acts"));
    let role = principal.user.role;
    let written = blocking(move || -> Result<Option<(ActPickers, Submitted)>, String> {
        let Some(pickers) = act_form_data(&app, &reading, &RecordId::new(&victim_id), lang, role)
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        let mut form = form;
        let buttons = Buttons::of(&form.find, &form.pick);
        // A picker's button shows the form again; a title typed for an id is looked up.
        let looked_up = app
            .read_as(&reading, |store| {
                if buttons.pressed() {
                    let offered =
                        pickers::pressed(&app, store, lang, &buttons, &mut form.picked())?;
                    return Ok((HashMap::new(), offered, true));
                }
                let (errors, offered) =
                    pickers::resolve_fields(&app, store, lang, &mut form.picked())?;
                Ok((errors, offered, false))
            })
            .map_err(|e| e.to_string())?;
        let (errors, offered, pressed) = looked_up;
        if pressed || !errors.is_empty() {
            return Ok(Some((
                pickers,
                Submitted::Again {
                    form: Box::new(form),
                    errors,
                    offered,
                },
            )));
        }
        let mut testimony = Testimony::new(intake::drawn_stem(), NewIds::Minted);
        testimony.received_by(Some(actor.clone()));
        for (field, text) in [
            (Field::VictimId, victim_id.as_str()),
            (Field::ActType, &form.act_type),
            (Field::ActDate, &form.date),
            (Field::ActPlace, &form.place),
            (Field::VictimAge, &form.age),
            (Field::Agency, &form.agency),
            (Field::SourceId, &form.attesting.source),
            (Field::Relation, &form.attesting.relation),
            (Field::Reliability, &form.attesting.reliability),
            (Field::Credibility, &form.attesting.credibility),
            (Field::Knowledge, &form.attesting.knowledge),
            (Field::EventId, &form.event),
            (Field::Description, &form.description),
        ] {
            testimony.set(field, text);
        }
        let unsourced = form.attesting.source.trim().is_empty();
        Ok(Some(match intake::write(&app, &actor, &testimony) {
            Ok((made, _)) => {
                let act = made.into_iter().find(|(kind, _)| *kind == RecordKind::Act);
                let unsourced = act.filter(|_| unsourced).map(|(_, id)| id);
                (pickers, Submitted::Saved { unsourced })
            }
            Err(not) => {
                let errors = field_errors(&not, korean)?;
                (
                    pickers,
                    Submitted::Again {
                        form: Box::new(form),
                        errors,
                        offered: None,
                    },
                )
            }
        }))
    })
    .await;
    match written {
        Ok(Err(failure)) => internal(failure),
        Ok(Ok(None)) => no_such(
            lang,
            ("There is no person", "다음 인물이 없습니다:"),
            &victim,
        ),
        // Saved, but an act no source attests is one nobody can weigh: say
        // so on its page, which offers to add the source.
        Ok(Ok(Some((
            _,
            Submitted::Saved {
                unsourced: Some(act),
            },
        )))) => Redirect::to(&format!(
            "{}?saved=1&unsourced=1",
            link_of(RecordKind::Act.as_str(), &act)
        ))
        .into_response(),
        Ok(Ok(Some((_, Submitted::Saved { unsourced: None })))) => {
            saved(RecordKind::Person, &RecordId::new(victim))
        }
        Ok(Ok(Some((
            pickers,
            Submitted::Again {
                form,
                errors,
                offered,
            },
        )))) => {
            let status = if errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let body = act_form(
                lang,
                &principal,
                &victim,
                &pickers,
                &form,
                &errors,
                offered.as_ref(),
            );
            (
                status,
                page(lang, &principal, &act_heading(lang, &pickers), body),
            )
                .into_response()
        }
        Err(response) => response,
    }
}

/// The form that adds a source to an act already recorded.
#[derive(Deserialize, Default, Clone)]
pub(super) struct AttestForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    attesting: Attesting,
    #[serde(default)]
    find: String,
    #[serde(default)]
    pick: String,
}

/// The add-a-source form as shown: for the act titled `title`, with what
/// was typed, the fields at fault and the matches offered.
struct AttestPage {
    title: String,
    relations: Vec<(String, String)>,
    form: AttestForm,
    errors: HashMap<&'static str, String>,
    offered: Option<Offered>,
}

fn attest_page(lang: Lang, principal: &Principal, act: &RecordId, shown: &AttestPage) -> Response {
    let body = html! {
        p { (lang.t("The act:", "행위:")) " " a href=(link_of(RecordKind::Act.as_str(), act)) { (shown.title) } }
        form method="post" action=(format!("/records/{act}/sources")) {
            input type="hidden" name="csrf" value=(principal.csrf());
            (pickers::default_button(lang))
            (attestation_fields(lang, &shown.relations, &shown.form.attesting, &shown.errors, shown.offered.as_ref()))
            div.actions {
                button.primary type="submit" id="add-source" { (lang.t("Add the source", "출처 추가")) }
            }
        }
    };
    page(
        lang,
        principal,
        lang.t(
            "Add the source that attests an act",
            "행위를 입증하는 출처 추가",
        ),
        body,
    )
}

pub(super) async fn new_attestation(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(act): Path<String>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let act = RecordId::new(act);
    let (reading, wanted, role) = (
        Reading::of(&principal, format!("GET /records/{act}/sources/new")),
        act.clone(),
        principal.user.role,
    );
    let loaded = blocking(move || {
        let relations = app.read(|store| act_pickers(store, lang)).relations;
        app.read_as(&reading, |store| {
            readable::title_of_kind(store, &wanted, RecordKind::Act, lang, role)
        })
        .map(|title| (title, relations))
    })
    .await;
    match loaded {
        Ok(Ok((Some(title), relations))) => attest_page(
            lang,
            &principal,
            &act,
            &AttestPage {
                title,
                relations,
                form: AttestForm::default(),
                errors: HashMap::new(),
                offered: None,
            },
        ),
        Ok(Ok((None, _))) => no_such(
            lang,
            ("There is no act", "다음 행위가 없습니다:"),
            act.as_str(),
        ),
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

/// What became of a source added to an act.
enum Attested {
    NoSuchAct,
    Saved,
    /// Shown again: to choose a match, or with the fields at fault.
    Again(Box<AttestPage>),
}

pub(super) async fn create_attestation(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(act): Path<String>,
    Form(form): Form<AttestForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Documenter, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let act = RecordId::new(act);
    let (actor, role, wanted) = (
        principal.user.name.clone(),
        principal.user.role,
        act.clone(),
    );
    let reading = Reading::of(&principal, format!("POST /records/{act}/sources"));
    let written = blocking(move || -> Result<Attested, String> {
        let relations = app.read(|store| act_pickers(store, lang)).relations;
        let mut form = form;
        let buttons = Buttons::of(&form.find, &form.pick);
        let looked_up = app
            .read_as(&reading, |store| {
                let Some(title) =
                    readable::title_of_kind(store, &wanted, RecordKind::Act, lang, role)?
                else {
                    return Ok(None);
                };
                let mut fields = [(Pick::Source, "source", &mut form.attesting.source)];
                if buttons.pressed() {
                    let offered = pickers::pressed(&app, store, lang, &buttons, &mut fields)?;
                    return Ok(Some((title, HashMap::new(), offered, true)));
                }
                let (errors, offered) = pickers::resolve_fields(&app, store, lang, &mut fields)?;
                Ok(Some((title, errors, offered, false)))
            })
            .map_err(|e| e.to_string())?;
        let Some((title, mut errors, offered, pressed)) = looked_up else {
            return Ok(Attested::NoSuchAct);
        };
        if !pressed && form.attesting.source.trim().is_empty() {
            errors.insert(
                "source",
                lang.t(
                    "Choose the source that attests the act.",
                    "행위를 입증하는 출처를 고르세요.",
                )
                .to_string(),
            );
        }
        let again = |form: AttestForm, errors, offered| {
            Attested::Again(Box::new(AttestPage {
                title: title.clone(),
                relations: relations.clone(),
                form,
                errors,
                offered,
            }))
        };
        if pressed || !errors.is_empty() {
            return Ok(again(form, errors, offered));
        }
        let mut testimony = Testimony::new(intake::drawn_stem(), NewIds::Minted);
        testimony.received_by(Some(actor.clone()));
        for (field, text) in [
            (Field::ActId, wanted.as_str()),
            (Field::SourceId, &form.attesting.source),
            (Field::Relation, &form.attesting.relation),
            (Field::Reliability, &form.attesting.reliability),
            (Field::Credibility, &form.attesting.credibility),
            (Field::Knowledge, &form.attesting.knowledge),
        ] {
            testimony.set(field, text);
        }
        match intake::write(&app, &actor, &testimony) {
            Ok(_) => Ok(Attested::Saved),
            Err(not) => {
                let errors = field_errors(&not, lang == Lang::Ko)?;
                Ok(again(form, errors, None))
            }
        }
    })
    .await;
    match written {
        Ok(Ok(Attested::Saved)) => saved(RecordKind::Act, &act),
        Ok(Ok(Attested::NoSuchAct)) => no_such(
            lang,
            ("There is no act", "다음 행위가 없습니다:"),
            act.as_str(),
        ),
        Ok(Ok(Attested::Again(shown))) => {
            let status = if shown.errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            (status, attest_page(lang, &principal, &act, &shown)).into_response()
        }
        Ok(Err(failure)) => internal(failure),
        Err(response) => response,
    }
}
