//! Editing the records documenters change by hand — persons, sources,
//! events and acts — and creating events, through one form built from a
//! list of fields. Each kind says which fields it has, how a record reads
//! into them and how typed values write back; rendering, field errors,
//! stale revisions and the write itself are shared.

use girok_intake::parse;
use girok_model::{Event, VocabKind, Vocabularies, Wording};

use super::pickers::{self, Buttons, Offered, Pick};
use super::*;

/// How a field is typed in.
enum Widget {
    /// One line, with a placeholder showing what is accepted.
    Line(&'static str),
    /// Several lines.
    Text,
    /// One of these (key, label); `optional` adds an empty choice.
    Choice {
        options: Vec<(String, String)>,
        optional: bool,
    },
    /// Any of these, as checkboxes.
    Choices(Vec<(String, String)>),
    /// A vocabulary term (a gazetteer place, an organisation) in any
    /// spelling, suggested from the list.
    Spelled(Vec<(String, String)>),
    /// Another record, found by its title or name.
    Pick(Pick),
}

struct Field {
    /// The form field, named as the record's field so the store's
    /// validation errors land on it.
    name: &'static str,
    en: &'static str,
    ko: &'static str,
    widget: Widget,
}

fn field(name: &'static str, en: &'static str, ko: &'static str, widget: Widget) -> Field {
    Field {
        name,
        en,
        ko,
        widget,
    }
}

/// The values of a submitted form, in order; checkboxes repeat a name.
#[derive(Default, Clone)]
pub(super) struct Values(Vec<(String, String)>);

impl Values {
    fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
            .collect()
    }

    fn set(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_string(), value.into()));
    }

    /// Sets the first value of `name` (adding it when absent).
    fn replace(&mut self, name: &str, value: String) {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value,
            None => self.set(name, value),
        }
    }

    fn trimmed(&self, name: &str) -> Option<String> {
        Some(self.get(name).trim().to_string()).filter(|v| !v.is_empty())
    }
}

/// Field errors by field name; `FORM` holds what belongs to no one field.
type Errors = HashMap<&'static str, String>;
const FORM: &str = "form";

fn keyword_options<K: Copy>(
    all: &[K],
    key: fn(K) -> &'static str,
    ko: fn(K) -> &'static str,
) -> Vec<(String, String)> {
    all.iter()
        .map(|&k| (key(k).to_string(), format!("{} · {}", key(k), ko(k))))
        .collect()
}

/// The fields of a kind of record, or `None` for kinds edited otherwise.
fn fields_of(kind: RecordKind, vocabularies: &Vocabularies, lang: Lang) -> Option<Vec<Field>> {
    let vocabulary = |kind| vocabulary_options(vocabularies, kind);
    let places = || Widget::Spelled(place_options(vocabularies, lang));
    let date = Widget::Line("2019, 2019-03, 2020 spring, 1990년대, covid-border-closure");
    Some(match kind {
        RecordKind::Person => vec![
            field(
                "names",
                "Names, one per line, in any script",
                "이름 (한 줄에 하나, 어떤 문자든)",
                Widget::Text,
            ),
            field(
                "sex",
                "Sex",
                "성별",
                Widget::Choice {
                    options: keyword_options(Sex::ALL, Sex::as_str, Sex::ko),
                    optional: false,
                },
            ),
            field(
                "birth",
                "Born",
                "출생",
                Widget::Line("1985, 1980s, around 1990"),
            ),
            field(
                "origin",
                "From (any spelling)",
                "출신 (어떤 표기든)",
                places(),
            ),
            field("description", "Described as", "묘사", Widget::Line("")),
            field("notes", "Notes", "메모", Widget::Text),
        ],
        RecordKind::Source => vec![
            field("title", "Title", "제목", Widget::Line("")),
            field(
                "kind",
                "Kind",
                "종류",
                Widget::Choice {
                    options: keyword_options(SourceKind::ALL, SourceKind::as_str, SourceKind::ko),
                    optional: false,
                },
            ),
            field("obtained", "Obtained", "입수 시기", date),
            field("language", "Language", "언어", Widget::Line("ko, en")),
            field(
                "organisation",
                "Documenting organisation (its list in estimates)",
                "기록 단체 (추정에서의 목록)",
                Widget::Spelled(organisation_options(vocabularies)),
            ),
            field(
                "consent",
                "Consent (may narrow; widening needs set-consent --widen)",
                "동의 범위 (좁힐 수 있음; 넓히려면 set-consent --widen)",
                Widget::Choice {
                    options: keyword_options(
                        ConsentScope::ALL,
                        ConsentScope::as_str,
                        ConsentScope::ko,
                    ),
                    optional: true,
                },
            ),
            field(
                "provenance",
                "Provenance (who supplied it, how)",
                "출처 경위",
                Widget::Text,
            ),
            field("notes", "Notes", "메모", Widget::Text),
        ],
        RecordKind::Event => vec![
            field("title", "Title", "제목", Widget::Line("")),
            field("date", "When", "언제", date),
            field(
                "place",
                "Where (any spelling: 회령, Hoeryŏng, Hoeryong)",
                "어디서 (회령, Hoeryŏng 등 어떤 표기든)",
                places(),
            ),
            field(
                "violations",
                "Violations",
                "침해 유형",
                Widget::Choices(vocabulary(VocabKind::ViolationCategory)),
            ),
            field("description", "Description", "설명", Widget::Text),
        ],
        RecordKind::Act => vec![
            field(
                "act_type",
                "What happened",
                "행위 유형",
                Widget::Choice {
                    options: vocabulary(VocabKind::ActType),
                    optional: false,
                },
            ),
            field("date", "When", "언제", date),
            field(
                "place",
                "Where (any spelling)",
                "어디서 (어떤 표기든)",
                places(),
            ),
            field(
                "victim_age",
                "Victim's age at the time",
                "당시 피해자 나이",
                Widget::Line(""),
            ),
            field(
                "status",
                "Status",
                "상태",
                Widget::Choice {
                    options: vocabulary(VocabKind::ActStatus),
                    optional: true,
                },
            ),
            field(
                "facility",
                "Facility",
                "시설 유형",
                Widget::Choice {
                    options: vocabulary(VocabKind::FacilityType),
                    optional: true,
                },
            ),
            field(
                "event",
                "Part of event",
                "관련 사건",
                Widget::Pick(Pick::Event),
            ),
            field("description", "Description", "설명", Widget::Text),
        ],
        _ => return None,
    })
}

/// A record as the values its form starts with, places by name in the reader's language.
fn values_of(record: &Record, vocabularies: &Vocabularies, lang: Lang) -> Values {
    let mut values = Values::default();
    let text = |o: &Option<String>| o.clone().unwrap_or_default();
    let place = |o: &Option<String>| {
        o.as_deref()
            .map(|key| place_shown(vocabularies, lang, key))
            .unwrap_or_default()
    };
    match record {
        Record::Person(p) => {
            let names: Vec<&str> = p.names.iter().map(|n| n.text.as_str()).collect();
            values.set("names", names.join("\n"));
            values.set("sex", p.sex.as_str());
            values.set("birth", p.birth.to_string());
            values.set("origin", place(&p.origin));
            values.set("description", p.description.clone());
            values.set("notes", p.notes.clone());
        }
        Record::Source(s) => {
            values.set("title", s.title.clone());
            values.set("kind", s.kind.as_str());
            values.set("obtained", s.obtained.to_string());
            values.set("language", text(&s.language));
            values.set("organisation", text(&s.organisation));
            values.set("consent", s.consent.map_or("", |c| c.as_str()));
            values.set("provenance", s.provenance.clone());
            values.set("notes", s.notes.clone());
        }
        Record::Event(e) => {
            values.set("title", e.title.clone());
            values.set("date", e.date.to_string());
            values.set("place", place(&e.place));
            for violation in &e.violations {
                values.set("violations", violation.clone());
            }
            values.set("description", e.description.clone());
        }
        Record::Act(a) => {
            values.set("act_type", a.act_type.clone());
            values.set("date", a.date.to_string());
            values.set("place", place(&a.place));
            values.set(
                "victim_age",
                a.victim_age.map_or(String::new(), |age| age.to_string()),
            );
            values.set("status", text(&a.status));
            values.set("facility", text(&a.facility));
            values.set(
                "event",
                a.event.as_ref().map_or(String::new(), |e| e.to_string()),
            );
            values.set("description", a.description.clone());
        }
        _ => {}
    }
    values
}

/// Reads the form field `name` with one of intake's parsers: `None` when
/// empty, or when it cannot be read (then an error at the field).
fn read<T>(
    values: &Values,
    errors: &mut Errors,
    korean: bool,
    name: &'static str,
    parse: impl FnOnce(&str) -> Result<T, Wording>,
) -> Option<T> {
    let text = parse::given(values.get(name))?;
    parse(text)
        .map_err(|e| errors.insert(name, e.in_language(korean).to_string()))
        .ok()
}

/// Writes typed values into a record, reading each with the parser of its
/// field type; what cannot be read is an error at its field.
fn apply(
    record: &mut Record,
    values: &Values,
    vocabularies: &Vocabularies,
    errors: &mut Errors,
    korean: bool,
) {
    let term = |errors: &mut Errors, name: &'static str, kind: VocabKind| {
        read(values, errors, korean, name, |text| {
            parse::term(vocabularies, kind, text)
        })
    };
    match record {
        Record::Person(person) => {
            // Names already recorded keep their script, system and kind.
            let recorded = std::mem::take(&mut person.names);
            person.names = read(values, errors, korean, "names", parse::names)
                .unwrap_or_default()
                .into_iter()
                .map(|name| {
                    recorded
                        .iter()
                        .find(|n| n.text == name.text)
                        .cloned()
                        .unwrap_or(name)
                })
                .collect();
            person.sex = read(values, errors, korean, "sex", parse::sex).unwrap_or(Sex::Unknown);
            person.birth = read(values, errors, korean, "birth", parse::date).unwrap_or_default();
            person.origin = term(errors, "origin", VocabKind::Place);
            person.description = values.get("description").trim().to_string();
            person.notes = values.get("notes").trim().to_string();
        }
        Record::Source(source) => {
            source.title = values.get("title").trim().to_string();
            source.kind =
                read(values, errors, korean, "kind", parse::source_kind).unwrap_or(source.kind);
            source.obtained =
                read(values, errors, korean, "obtained", parse::date).unwrap_or_default();
            source.language = values.trimmed("language");
            // Free text of an import stays as it is until changed; what is typed names a term.
            let typed = values.trimmed("organisation");
            if typed != source.organisation {
                source.organisation = read(values, errors, korean, "organisation", |text| {
                    organisation_key(vocabularies, text)
                });
            }
            source.consent = read(values, errors, korean, "consent", parse::consent);
            source.provenance = values.get("provenance").trim().to_string();
            source.notes = values.get("notes").trim().to_string();
        }
        Record::Event(event) => {
            event.title = values.get("title").trim().to_string();
            event.date = read(values, errors, korean, "date", parse::date).unwrap_or_default();
            event.place = term(errors, "place", VocabKind::Place);
            event.violations = values
                .all("violations")
                .iter()
                .filter_map(|v| {
                    parse::term(vocabularies, VocabKind::ViolationCategory, v)
                        .map_err(|e| errors.insert("violations", e.in_language(korean).to_string()))
                        .ok()
                })
                .collect();
            event.description = values.get("description").trim().to_string();
        }
        Record::Act(act) => {
            act.act_type = match term(errors, "act_type", VocabKind::ActType) {
                Some(key) => key,
                None => {
                    errors
                        .entry("act_type")
                        .or_insert_with(|| "must not be empty".to_string());
                    String::new()
                }
            };
            act.date = read(values, errors, korean, "date", parse::date).unwrap_or_default();
            act.place = term(errors, "place", VocabKind::Place);
            act.victim_age = read(values, errors, korean, "victim_age", parse::age);
            act.status = term(errors, "status", VocabKind::ActStatus);
            act.facility = term(errors, "facility", VocabKind::FacilityType);
            act.event = read(values, errors, korean, "event", parse::id);
            act.description = values.get("description").trim().to_string();
        }
        _ => {}
    }
}

fn editor(
    lang: Lang,
    principal: &Principal,
    action: &str,
    fields: &[Field],
    values: &Values,
    errors: &Errors,
    offered: Option<&Offered>,
) -> Markup {
    let error = |name: &str| html! { @if let Some(e) = errors.get(name) { div.error role="alert" id=(format!("{name}-error")) { (e) } } };
    html! {
        form method="post" action=(action) {
            (error(FORM))
            input type="hidden" name="csrf" value=(principal.csrf());
            input type="hidden" name="revision" value=(values.get("revision"));
            @if fields.iter().any(|f| matches!(f.widget, Widget::Pick(_))) { (pickers::default_button(lang)) }
            @for f in fields {
                @if let Widget::Pick(pick) = &f.widget {
                    (pickers::field(lang, *pick, f.name, lang.t(f.en, f.ko), values.get(f.name), offered, errors.get(f.name)))
                } @else {
                div class=(if errors.contains_key(f.name) { "field-error" } else { "" }) {
                    @match &f.widget {
                        Widget::Choices(options) => {
                            fieldset {
                                legend { (lang.t(f.en, f.ko)) }
                                @let chosen = values.all(f.name);
                                @for (key, label) in options {
                                    label.check { input type="checkbox" name=(f.name) value=(key) checked[chosen.contains(key)]; " " (label) }
                                }
                            }
                        }
                        widget => {
                            label for=(f.name) { (lang.t(f.en, f.ko)) }
                            @match widget {
                                Widget::Line(hint) => input id=(f.name) name=(f.name) value=(values.get(f.name)) placeholder=(hint);,
                                Widget::Text => textarea id=(f.name) name=(f.name) rows="3" { (values.get(f.name)) },
                                Widget::Choice { options, optional } => select id=(f.name) name=(f.name) {
                                    @if *optional { option value="" { "—" } }
                                    @for (key, label) in options { option value=(key) selected[values.get(f.name) == key] { (label) } }
                                },
                                Widget::Spelled(terms) => {
                                    input id=(f.name) name=(f.name) list=(format!("{}-terms", f.name)) value=(values.get(f.name));
                                    datalist id=(format!("{}-terms", f.name)) { @for (key, label) in terms { option value=(key) { (label) } } }
                                },
                                Widget::Choices(_) | Widget::Pick(_) => {},
                            }
                        }
                    }
                    (error(f.name))
                }
                }
            }
            button.primary type="submit" { (lang.t("Save", "저장")) }
        }
    }
}

/// What a form writes: a change to a stored record, or a new one.
#[derive(Clone)]
enum Target {
    Existing(RecordId),
    NewEvent,
    /// A person of their own: a relative a testimony names, a perpetrator.
    NewPerson,
}

impl Target {
    fn action(&self) -> String {
        match self {
            Target::Existing(id) => format!("/records/{id}/edit"),
            Target::NewEvent => "/events/new".to_string(),
            Target::NewPerson => "/persons/new".to_string(),
        }
    }

    /// The page's heading; `name` is the record's title as the reader sees it.
    fn title(&self, lang: Lang, kind: RecordKind, name: Option<&str>) -> String {
        match self {
            Target::Existing(id) => {
                let name = name.unwrap_or(id.as_str());
                match lang {
                    Lang::En => format!("Edit {kind}: {name}"),
                    Lang::Ko => format!("{} 수정: {name}", kind.ko()),
                }
            }
            Target::NewEvent => lang.t("New event", "새 사건").to_string(),
            Target::NewPerson => lang.t("New person", "새 인물").to_string(),
        }
    }

    /// The record the form starts from, with its revision.
    fn load(&self, store: &Database, actor: &str) -> Result<Option<(Record, u32)>, StoreError> {
        Ok(match self {
            Target::Existing(id) => store
                .get(id)?
                .map(|stored| (stored.record, stored.meta.revision)),
            Target::NewPerson => Some((
                Record::Person(Person {
                    received_by: Some(actor.to_string()),
                    ..Person::new(
                        crate::intake::drawn_stem().id(RecordKind::Person, None),
                        Vec::new(),
                    )
                }),
                0,
            )),
            Target::NewEvent => Some((
                Record::Event(Event {
                    id: crate::intake::drawn_stem().id(RecordKind::Event, None),
                    title: String::new(),
                    date: FuzzyDate::UNKNOWN,
                    place: None,
                    description: String::new(),
                    violations: Vec::new(),
                    received_by: Some(actor.to_string()),
                    clarifications: Default::default(),
                    sealed: None,
                }),
                0,
            )),
        })
    }
}

/// The form's fields for the record `target` names, with its current values.
struct Loaded {
    kind: RecordKind,
    /// The record's title as the reader sees it (an existing record).
    name: Option<String>,
    fields: Vec<Field>,
    values: Values,
}

fn not_editable(lang: Lang, id: &str) -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        lang.t("No form for this record", "이 기록의 편집 양식이 없습니다"),
        id,
    )
}

async fn show(app: Arc<App>, headers: HeaderMap, target: Target) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let (actor, role) = (principal.user.name.clone(), principal.user.role);
    let reading = Reading::of(&principal, format!("GET {}", target.action()));
    let (target, loaded) = match blocking(move || {
        let loaded = app.read_as(&reading, |store| -> Result<Option<Loaded>, StoreError> {
            let Some((record, revision)) = target.load(store, &actor)? else {
                return Ok(None);
            };
            let kind = record.kind();
            let name = readable::title_of_kind(store, record.id(), kind, lang, role)?;
            Ok(fields_of(kind, store.vocabularies(), lang).map(|fields| {
                let mut values = values_of(&record, store.vocabularies(), lang);
                values.set("revision", revision.to_string());
                Loaded {
                    kind,
                    name,
                    fields,
                    values,
                }
            }))
        });
        (target, loaded)
    })
    .await
    {
        Ok(done) => done,
        Err(response) => return response,
    };
    match loaded {
        Ok(Some(form)) => page(
            lang,
            &principal,
            &target.title(lang, form.kind, form.name.as_deref()),
            editor(
                lang,
                &principal,
                &target.action(),
                &form.fields,
                &form.values,
                &Errors::new(),
                None,
            ),
        ),
        Ok(None) => not_editable(lang, &target.action()),
        Err(error) => internal(error),
    }
}

/// Why a submitted form was not written.
enum NotSaved {
    /// Some field cannot be read (the errors say which).
    Unreadable,
    /// The form changes nothing: no revision is written for it.
    Unchanged,
    Store(StoreError),
}

impl From<StoreError> for NotSaved {
    fn from(error: StoreError) -> NotSaved {
        NotSaved::Store(error)
    }
}

/// What became of a submitted form.
enum Outcome {
    Saved(RecordKind, RecordId),
    Unchanged(RecordKind, RecordId),
    Refused {
        kind: RecordKind,
        name: Option<String>,
        fields: Vec<Field>,
        status: StatusCode,
        errors: Errors,
        /// The values to show again (a picker's choice filled in).
        values: Values,
        offered: Option<Offered>,
    },
    NotEditable,
    Failed(StoreError),
}

async fn submit(app: Arc<App>, headers: HeaderMap, target: Target, values: Values) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Documenter, values.get("csrf")) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let (actor, role) = (principal.user.name.clone(), principal.user.role);
    let shown = target.clone();
    let reading = Reading::of(&principal, format!("POST {}", target.action()));
    let outcome = blocking(move || {
        let loaded = app.read_as(&reading, |store| -> Result<_, StoreError> {
            let Some((record, _)) = target.load(store, &actor)? else {
                return Ok(None);
            };
            let name = readable::title_of_kind(store, record.id(), record.kind(), lang, role)?;
            Ok(fields_of(record.kind(), store.vocabularies(), lang)
                .map(|fields| (record, fields, name)))
        });
        let (mut record, fields, name) = match loaded {
            Ok(Some(found)) => found,
            Ok(None) => return Outcome::NotEditable,
            Err(error) => return Outcome::Failed(error),
        };
        let mut values = values;
        // Pickers: a button shows the form again; a title typed for an id is looked up.
        let picked: Vec<(Pick, &'static str)> = fields
            .iter()
            .filter_map(|f| match f.widget {
                Widget::Pick(pick) => Some((pick, f.name)),
                _ => None,
            })
            .collect();
        if !picked.is_empty() {
            let buttons = Buttons::of(values.get("find"), values.get("pick"));
            let mut typed: Vec<String> = picked
                .iter()
                .map(|(_, name)| values.get(name).to_string())
                .collect();
            let looked_up = app.read_as(&reading, |store| {
                let mut fields: Vec<(Pick, &'static str, &mut String)> = picked
                    .iter()
                    .zip(typed.iter_mut())
                    .map(|((pick, name), value)| (*pick, *name, value))
                    .collect();
                if buttons.pressed() {
                    let offered = pickers::pressed(&app, store, lang, &buttons, &mut fields)?;
                    return Ok((Errors::new(), offered, true));
                }
                let (errors, offered) = pickers::resolve_fields(&app, store, lang, &mut fields)?;
                Ok((errors, offered, false))
            });
            let (errors, offered, pressed) = match looked_up {
                Ok(found) => found,
                Err(error) => return Outcome::Failed(error),
            };
            for ((_, name), value) in picked.iter().zip(typed) {
                values.replace(name, value);
            }
            if pressed || !errors.is_empty() {
                let status = if errors.is_empty() {
                    StatusCode::OK
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                return Outcome::Refused {
                    kind: record.kind(),
                    name,
                    fields,
                    status,
                    errors,
                    values,
                    offered,
                };
            }
        }
        let kind = record.kind();
        let id = record.id().clone();
        let stored = matches!(target, Target::Existing(_)).then(|| record.clone());
        let mut errors = Errors::new();
        // Values are read with the vocabularies of the batch that writes them.
        let written = app.write(|store| {
            store.write(&actor, |sink| {
                apply(
                    &mut record,
                    &values,
                    sink.vocabularies(),
                    &mut errors,
                    lang == Lang::Ko,
                );
                if !errors.is_empty() {
                    return Err(NotSaved::Unreadable);
                }
                if stored.as_ref() == Some(&record) {
                    return Err(NotSaved::Unchanged);
                }
                sink.apply(match target {
                    Target::Existing(_) => Change::Update {
                        record,
                        base_revision: values.get("revision").parse().unwrap_or(0),
                    },
                    Target::NewEvent | Target::NewPerson => Change::Create { record },
                })
                .map_err(NotSaved::Store)
            })
        });
        match written {
            Ok(_) => return Outcome::Saved(kind, id),
            Err(NotSaved::Unchanged) => return Outcome::Unchanged(kind, id),
            Err(NotSaved::Unreadable) => {}
            Err(NotSaved::Store(StoreError::Conflict { message, .. })) => {
                errors.insert(FORM, message.in_language(lang == Lang::Ko).to_string());
                return Outcome::Refused {
                    kind,
                    name,
                    fields,
                    status: StatusCode::CONFLICT,
                    errors,
                    values,
                    offered: None,
                };
            }
            Err(NotSaved::Store(StoreError::Invalid(invalid))) => {
                // The store names the record field at fault; show it at the form field.
                let at = fields
                    .iter()
                    .map(|f| f.name)
                    .find(|name| *name == invalid.field)
                    .unwrap_or(FORM);
                let said = if lang == Lang::Ko {
                    invalid.korean()
                } else {
                    invalid.to_string()
                };
                errors.insert(at, said);
            }
            Err(NotSaved::Store(other)) => return Outcome::Failed(other),
        }
        Outcome::Refused {
            kind,
            name,
            fields,
            status: StatusCode::UNPROCESSABLE_ENTITY,
            errors,
            values,
            offered: None,
        }
    })
    .await;
    match outcome {
        Ok(Outcome::Saved(kind, id)) => saved(kind, &id),
        Ok(Outcome::Unchanged(kind, id)) => {
            Redirect::to(&format!("{}?unchanged=1", link_of(kind.as_str(), &id))).into_response()
        }
        Ok(Outcome::Refused {
            kind,
            name,
            fields,
            status,
            errors,
            values,
            offered,
        }) => {
            let body = editor(
                lang,
                &principal,
                &shown.action(),
                &fields,
                &values,
                &errors,
                offered.as_ref(),
            );
            (
                status,
                page(
                    lang,
                    &principal,
                    &shown.title(lang, kind, name.as_deref()),
                    body,
                ),
            )
                .into_response()
        }
        Ok(Outcome::NotEditable) => not_editable(lang, &shown.action()),
        Ok(Outcome::Failed(error)) => internal(error),
        Err(response) => response,
    }
}

pub(super) async fn edit(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    show(app, headers, Target::Existing(RecordId::new(id))).await
}

pub(super) async fn save(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(values): Form<Vec<(String, String)>>,
) -> Response {
    submit(
        app,
        headers,
        Target::Existing(RecordId::new(id)),
        Values(values),
    )
    .await
}

pub(super) async fn new_event(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    show(app, headers, Target::NewEvent).await
}

pub(super) async fn create_event(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(values): Form<Vec<(String, String)>>,
) -> Response {
    submit(app, headers, Target::NewEvent, Values(values)).await
}

pub(super) async fn new_person(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    show(app, headers, Target::NewPerson).await
}

pub(super) async fn create_person(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(values): Form<Vec<(String, String)>>,
) -> Response {
    submit(app, headers, Target::NewPerson, Values(values)).await
}
