//! Pickers: the source, event or person a form refers to, found on the
//! server by part of a title or a name in any spelling ("Eunju Kim" finds
//! 김은주) rather than typed as an id from memory. Without JavaScript a
//! form's "Find" button shows the matches to choose from, keeping what was
//! typed; `/picker.js` suggests them while typing, from `/pick/{kind}`.
//! Pickers are a documenter's tool: a match tells whether a name is recorded.

use serde::Serialize;

use super::*;

/// What a picker looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pick {
    Person,
    Source,
    Event,
}

impl Pick {
    fn kind(self) -> RecordKind {
        match self {
            Pick::Person => RecordKind::Person,
            Pick::Source => RecordKind::Source,
            Pick::Event => RecordKind::Event,
        }
    }

    /// Its address under `/pick/`, and its name in the page's markup.
    fn path(self) -> &'static str {
        match self {
            Pick::Person => "persons",
            Pick::Source => "sources",
            Pick::Event => "events",
        }
    }

    fn from_path(path: &str) -> Option<Pick> {
        [Pick::Person, Pick::Source, Pick::Event]
            .into_iter()
            .find(|pick| pick.path() == path)
    }

    fn hint(self, lang: Lang) -> &'static str {
        match self {
            Pick::Person => lang.t(
                "Type a name in Hangul or any romanization, or the id, then choose",
                "한글이나 로마자로 이름을 (또는 ID를) 입력하고 고르세요",
            ),
            Pick::Source => lang.t(
                "Type part of the title, or the id, then choose",
                "제목의 일부나 ID를 입력하고 고르세요",
            ),
            Pick::Event => lang.t(
                "Type part of the event's title, or the id, then choose",
                "사건 제목의 일부나 ID를 입력하고 고르세요",
            ),
        }
    }

    /// "No source has this title or id", in the reader's language.
    fn unknown(self, lang: Lang, typed: &str) -> String {
        let typed = girok_model::printable::line(typed);
        match (self, lang) {
            (Pick::Person, Lang::En) => {
                format!("No person is recorded under the name or id “{typed}”.")
            }
            (Pick::Person, Lang::Ko) => {
                format!("“{typed}”라는 이름이나 ID로 기록된 인물이 없습니다.")
            }
            (Pick::Source, Lang::En) => format!("No source has the title or id “{typed}”."),
            (Pick::Source, Lang::Ko) => format!("“{typed}”라는 제목이나 ID의 출처가 없습니다."),
            (Pick::Event, Lang::En) => format!("No event has the title or id “{typed}”."),
            (Pick::Event, Lang::Ko) => format!("“{typed}”라는 제목이나 ID의 사건이 없습니다."),
        }
    }

    fn several(self, lang: Lang) -> &'static str {
        match self {
            Pick::Person => lang.t(
                "Several persons match: choose one.",
                "여러 인물이 해당합니다. 하나를 고르세요.",
            ),
            Pick::Source => lang.t(
                "Several sources match: choose one.",
                "여러 출처가 해당합니다. 하나를 고르세요.",
            ),
            Pick::Event => lang.t(
                "Several events match: choose one.",
                "여러 사건이 해당합니다. 하나를 고르세요.",
            ),
        }
    }
}

/// One record a picker offers.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Choice {
    pub id: String,
    pub label: String,
}

/// At most this many matches are offered: a picker is not a list of everything.
const OFFERED: usize = 10;

/// The records of `pick` that `typed` finds: the record with that id first,
/// then those whose names (persons) or titles read like it. Only for roles
/// that see names (the caller checks); the matches are audited as consulted.
pub(super) fn find(
    app: &App,
    store: &Database,
    pick: Pick,
    typed: &str,
    lang: Lang,
) -> Result<Vec<Choice>, StoreError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(Vec::new());
    }
    let vocabularies = store.vocabularies();
    let labelled = |title: String, when: &FuzzyDate| match when.is_unknown() {
        true => title,
        false => format!("{title} ({})", readable::date(lang, when)),
    };
    let mut choices: Vec<Choice> = Vec::new();
    let mut offer = |choice: Choice| {
        if choices.len() < OFFERED && !choices.iter().any(|c| c.id == choice.id) {
            choices.push(choice);
        }
    };
    // The record of that id first, then the matches.
    let exact = RecordId::new(typed);
    let mut read_again: Vec<RecordId> = match store.get(&exact)? {
        Some(stored) if stored.record.kind() == pick.kind() => vec![exact],
        _ => Vec::new(),
    };
    let mut titled = Vec::new();
    match pick {
        Pick::Person => read_again.extend(app.names.search(store, typed, OFFERED)?),
        Pick::Source | Pick::Event => {
            titled = app.names.titled(store, pick.kind(), typed, OFFERED)?;
        }
    }
    for id in read_again {
        let Some(stored) = store.get(&id)? else {
            continue;
        };
        let record = stored.record;
        let when = match &record {
            Record::Person(person) => person.birth.clone(),
            Record::Source(source) => source.obtained.clone(),
            Record::Event(event) => event.date.clone(),
            _ => FuzzyDate::UNKNOWN,
        };
        let title = readable::title_of(&record, lang, vocabularies, &readable::Titles::new());
        offer(Choice {
            id: id.to_string(),
            label: labelled(title, &when),
        });
    }
    // Titles are found by what they contain, so none is empty.
    for found in titled {
        offer(Choice {
            id: found.id.to_string(),
            label: labelled(
                girok_model::printable::line(&found.title).into_owned(),
                &found.when,
            ),
        });
    }
    Ok(choices)
}

/// What a picker's typed text stands for.
pub(super) enum Resolved {
    /// Nothing typed.
    Empty,
    /// One record: its id.
    One(RecordId),
    /// Several match: the writer chooses.
    Several(Vec<Choice>),
    /// Nothing matches (the message names what was typed).
    Unknown(String),
}

/// Reads what was typed in a picker's field: an id, or a title or name that
/// finds exactly one record.
pub(super) fn resolve(
    app: &App,
    store: &Database,
    pick: Pick,
    typed: &str,
    lang: Lang,
) -> Result<Resolved, StoreError> {
    if typed.trim().is_empty() {
        return Ok(Resolved::Empty);
    }
    let mut choices = find(app, store, pick, typed, lang)?;
    Ok(match choices.first() {
        None => Resolved::Unknown(pick.unknown(lang, typed)),
        Some(first) if first.id == typed.trim() || choices.len() == 1 => {
            Resolved::One(RecordId::new(first.id.clone()))
        }
        Some(_) => {
            choices.truncate(OFFERED);
            Resolved::Several(choices)
        }
    })
}

/// A form's picker buttons: `find=FIELD` asks for the matches of what is
/// typed in FIELD; `pick=FIELD=ID` chooses one of them.
#[derive(Default, Clone)]
pub(super) struct Buttons {
    pub find: Option<String>,
    pub pick: Option<(String, String)>,
}

impl Buttons {
    pub fn of(find: &str, pick: &str) -> Buttons {
        Buttons {
            find: Some(find.to_string()).filter(|f| !f.is_empty()),
            pick: pick
                .split_once('=')
                .map(|(field, id)| (field.to_string(), id.to_string())),
        }
    }

    /// Whether the form was submitted to find or choose, not to save.
    pub fn pressed(&self) -> bool {
        self.find.is_some() || self.pick.is_some()
    }
}

/// The first submit button of a form with pickers, out of sight: pressing
/// Enter in a field saves the form rather than pressing the first "Find".
pub(super) fn default_button(lang: Lang) -> Markup {
    html! {
        button.default-submit type="submit" tabindex="-1" aria-hidden="true" { (lang.t("Save", "저장")) }
    }
}

/// The matches shown under one field of a form.
#[derive(Default)]
pub(super) struct Offered {
    pub field: &'static str,
    pub choices: Vec<Choice>,
}

/// A picker's field: the text input (with suggestions while typing where
/// scripts run), a "Find" button, and the matches to choose from when the
/// form was sent to find them.
pub(super) fn field(
    lang: Lang,
    pick: Pick,
    name: &'static str,
    label: &str,
    value: &str,
    offered: Option<&Offered>,
    error: Option<&String>,
) -> Markup {
    let offered = offered.filter(|o| o.field == name);
    html! {
        div class=(if error.is_some() { "picker field-error" } else { "picker" }) {
            label for=(name) { (label) }
            div.pick-row {
                input id=(name) name=(name) value=(value) autocomplete="off" data-pick=(pick.path())
                    aria-describedby=(format!("{name}-hint")) aria-invalid=(error.is_some());
                button.find type="submit" name="find" value=(name) formnovalidate { (lang.t("Find", "찾기")) }
            }
            div.hint id=(format!("{name}-hint")) { (pick.hint(lang)) }
            @if let Some(error) = error { div.error role="alert" id=(format!("{name}-error")) { (error) } }
            @if let Some(offered) = offered {
                @if offered.choices.is_empty() {
                    p.notice role="status" { (pick.unknown(lang, value)) }
                } @else {
                    ul.choices role="list" aria-label=(lang.t("Matches", "검색 결과")) {
                        @for choice in &offered.choices {
                            li {
                                button type="submit" name="pick" value=(format!("{name}={}", choice.id)) formnovalidate {
                                    (choice.label)
                                }
                                " " span.hint { (choice.id) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Resolves the picker fields of a submitted form in place: each id or
/// unique match becomes the record's id. Returns the field errors and the
/// matches to offer when one is ambiguous.
pub(super) fn resolve_fields(
    app: &App,
    store: &Database,
    lang: Lang,
    fields: &mut [(Pick, &'static str, &mut String)],
) -> Result<(HashMap<&'static str, String>, Option<Offered>), StoreError> {
    let mut errors = HashMap::new();
    let mut offered = None;
    for (pick, name, value) in fields.iter_mut() {
        match resolve(app, store, *pick, value, lang)? {
            Resolved::Empty => {}
            Resolved::One(id) => **value = id.to_string(),
            Resolved::Several(choices) => {
                errors.insert(*name, pick.several(lang).to_string());
                offered.get_or_insert(Offered {
                    field: name,
                    choices,
                });
            }
            Resolved::Unknown(message) => {
                errors.insert(*name, message);
            }
        }
    }
    Ok((errors, offered))
}

/// What a form's picker buttons asked for: the field chosen (its value set
/// to the chosen id) or the matches of the field to search.
pub(super) fn pressed(
    app: &App,
    store: &Database,
    lang: Lang,
    buttons: &Buttons,
    fields: &mut [(Pick, &'static str, &mut String)],
) -> Result<Option<Offered>, StoreError> {
    if let Some((field, id)) = &buttons.pick
        && let Some((_, _, value)) = fields.iter_mut().find(|(_, name, _)| name == field)
    {
        **value = id.clone();
        return Ok(None);
    }
    if let Some(field) = &buttons.find
        && let Some((pick, name, value)) = fields.iter().find(|(_, name, _)| name == field)
    {
        return Ok(Some(Offered {
            field: name,
            choices: find(app, store, *pick, value, lang)?,
        }));
    }
    Ok(None)
}

#[derive(Deserialize)]
pub(super) struct Typed {
    #[serde(default)]
    q: String,
}

/// `GET /pick/{persons|sources|events}?q=…`: the matches as JSON, for the
/// suggestions while typing.
pub(super) async fn suggestions(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(kind): Path<String>,
    Query(typed): Query<Typed>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(pick) = Pick::from_path(&kind) else {
        return not_found(headers, axum::http::Uri::from_static("/pick")).await;
    };
    // What was typed is not written to the audit log; the records it found are.
    let reading = Reading::of(&principal, format!("GET /pick/{} (search)", pick.path()));
    let found =
        blocking(move || app.read_as(&reading, |store| find(&app, store, pick, &typed.q, lang)))
            .await;
    match found {
        Ok(Ok(choices)) => axum::Json(choices).into_response(),
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

/// The suggestions while typing: a list of buttons under each picker field,
/// filled from `/pick/{kind}`; choosing one puts its id in the field.
const SCRIPT: &str = r#"(function(){
"use strict";
function attach(input){
  var list=document.createElement("ul");list.className="suggestions";list.setAttribute("role","list");
  list.id=input.id+"-suggestions";input.parentNode.parentNode.insertBefore(list,input.parentNode.nextSibling);
  var chosen=document.createElement("div");chosen.className="hint chosen";chosen.setAttribute("aria-live","polite");
  list.parentNode.insertBefore(chosen,list.nextSibling);
  var timer=null,asked=0;
  input.addEventListener("input",function(){
    clearTimeout(timer);chosen.textContent="";
    var q=input.value.trim();
    if(q.length<2){list.textContent="";return;}
    timer=setTimeout(function(){
      var mine=++asked;
      fetch("/pick/"+input.dataset.pick+"?q="+encodeURIComponent(q),{credentials:"same-origin",headers:{"Accept":"application/json"}})
        .then(function(r){return r.ok?r.json():[];})
        .then(function(choices){
          if(mine!==asked)return;
          list.textContent="";
          choices.forEach(function(c){
            var li=document.createElement("li"),b=document.createElement("button");
            b.type="button";b.className="suggestion";b.textContent=c.label;b.dataset.id=c.id;
            b.addEventListener("click",function(){input.value=c.id;chosen.textContent=c.label;list.textContent="";input.focus();});
            var id=document.createElement("span");id.className="hint";id.textContent=" "+c.id;
            li.appendChild(b);li.appendChild(id);list.appendChild(li);
          });
        }).catch(function(){});
    },150);
  });
  input.addEventListener("keydown",function(e){if(e.key==="Escape"){list.textContent="";}});
}
document.querySelectorAll("input[data-pick]").forEach(attach);
})();
"#;

pub(super) async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
        .into_response()
}
