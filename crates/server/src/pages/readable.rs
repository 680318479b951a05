//! Records as a documenter reads them: every label and value in the page's
//! language (field names, keywords and vocabulary terms, never their keys),
//! titles that say what a record is, links between records and journal times
//! in local time. The record pages and their history share it, so a change
//! is shown with the same words as the record it changed.

use std::borrow::Cow;

use girok_model::printable::{block, line};
use girok_model::{
    Act, CustodyAction, Degree, Evidence, Involvement, Knowledge, NameKind, Reliability,
    Romanization, Script, UnitKind, VocabKind, Vocabularies,
};

use super::*;

/// A closed keyword set of the model, shown by its label, not its key.
pub(super) trait Keyword: Copy {
    fn key(self) -> &'static str;
    fn korean(self) -> &'static str;
    /// The key is an English word or phrase in kebab case ("heard-from-victim").
    fn english(self) -> Cow<'static, str> {
        let key = self.key().replace('-', " ");
        let mut chars = key.chars();
        match chars.next() {
            Some(first) => Cow::Owned(first.to_uppercase().chain(chars).collect()),
            None => Cow::Borrowed(""),
        }
    }
}

macro_rules! keywords {
    ($($kind:ty),*) => {
        $(impl Keyword for $kind {
            fn key(self) -> &'static str { self.as_str() }
            fn korean(self) -> &'static str { self.ko() }
        })*
    };
}

keywords!(
    Sex,
    SourceKind,
    ConsentScope,
    Script,
    NameKind,
    UnitKind,
    Degree,
    Knowledge,
    CustodyAction,
    RecordKind
);

impl Keyword for Romanization {
    fn key(self) -> &'static str {
        self.as_str()
    }
    fn korean(self) -> &'static str {
        self.ko()
    }
    fn english(self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Romanization::RevisedRomanization => "Revised Romanization",
            Romanization::McCuneReischauer => "McCune–Reischauer",
            Romanization::Dprk => "DPRK official",
            Romanization::Passport => "Passport spelling",
            Romanization::Unknown => "Unknown",
        })
    }
}

/// The source grades of the Admiralty scale, with what each grade means.
impl Keyword for Reliability {
    fn key(self) -> &'static str {
        self.as_str()
    }
    fn korean(self) -> &'static str {
        match self {
            Reliability::A => "A — 완전히 신뢰할 수 있음",
            Reliability::B => "B — 대체로 신뢰할 수 있음",
            Reliability::C => "C — 어느 정도 신뢰할 수 있음",
            Reliability::D => "D — 대체로 신뢰하기 어려움",
            Reliability::E => "E — 신뢰할 수 없음",
            Reliability::F => "F — 판단할 수 없음",
        }
    }
    fn english(self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Reliability::A => "A — completely reliable",
            Reliability::B => "B — usually reliable",
            Reliability::C => "C — fairly reliable",
            Reliability::D => "D — not usually reliable",
            Reliability::E => "E — unreliable",
            Reliability::F => "F — cannot be judged",
        })
    }
}

pub(super) fn keyword(lang: Lang, keyword: impl Keyword) -> Cow<'static, str> {
    match lang {
        Lang::En => keyword.english(),
        Lang::Ko => Cow::Borrowed(keyword.korean()),
    }
}

/// The information grades of the Admiralty scale (1 to 6).
pub(super) fn credibility(lang: Lang, grade: u8) -> String {
    match girok_model::CREDIBILITY.iter().find(|(g, ..)| *g == grade) {
        Some((_, en, ko)) => format!("{grade} — {}", lang.t(en, ko)),
        None => grade.to_string(),
    }
}

/// A vocabulary term by its label; a key the vocabularies do not know (a
/// term added after this process read them) is shown as stored.
pub(super) fn term(lang: Lang, vocabularies: &Vocabularies, kind: VocabKind, key: &str) -> String {
    match vocabularies.get(kind).get(key) {
        Some(term) => line(lang.t(&term.en, &term.ko)).into_owned(),
        None => key.to_string(),
    }
}

/// A source's organisation: the organisation's label where the text names
/// one (a merged spelling shows the organisation it was merged into), else
/// the text as recorded, marked as not in the vocabulary.
pub(super) fn organisation_name(lang: Lang, vocabularies: &Vocabularies, text: &str) -> Markup {
    match vocabularies.organisation(text) {
        Some(term) => html! { (line(&format!("{} · {}", term.en, term.ko))) },
        None => html! {
            (line(text)) " " span.hint { (lang.t("(not in the organisations vocabulary: an admin can merge it)", "(기관 어휘에 없음: 관리자가 병합할 수 있습니다)")) }
        },
    }
}

/// The languages testimonies are mostly given in by name; other codes as written.
fn language_name(lang: Lang, code: &str) -> Cow<'_, str> {
    match code.trim() {
        "ko" => Cow::Borrowed(lang.t("Korean", "한국어")),
        "en" => Cow::Borrowed(lang.t("English", "영어")),
        "zh" => Cow::Borrowed(lang.t("Chinese", "중국어")),
        "ru" => Cow::Borrowed(lang.t("Russian", "러시아어")),
        "ja" => Cow::Borrowed(lang.t("Japanese", "일본어")),
        other => line(other),
    }
}

/// A date as stated, in the reader's language ("autumn 2024", "2024년 가을");
/// a named period by its name and its dates.
pub(super) fn date(lang: Lang, date: &FuzzyDate) -> String {
    if let Some(term) = date
        .period()
        .and_then(|key| girok_model::vocab::builtin(VocabKind::Period).get(key))
    {
        let name = lang.t(&term.en, &term.ko);
        return match date.bounds() {
            Some((from, to)) => format!("{name} ({from} – {to})"),
            None => name.to_string(),
        };
    }
    match lang {
        Lang::Ko => date.korean(),
        Lang::En => date.to_string(),
    }
}

/// A place with the broader places it lies in: "Hoeryong, North Hamgyong".
fn place(lang: Lang, vocabularies: &Vocabularies, key: &str) -> String {
    vocabularies
        .get(VocabKind::Place)
        .ancestry(key)
        .iter()
        .map(|key| term(lang, vocabularies, VocabKind::Place, key))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The label of a record's field (also a clarification's or a change's).
pub(super) fn field_label(lang: Lang, kind: RecordKind, field: &str) -> &'static str {
    match (kind, field) {
        (_, "id") => lang.t("Record number", "기록 번호"),
        (RecordKind::Source, "kind") => lang.t("Kind of source", "출처 종류"),
        (_, "title") => lang.t("Title", "제목"),
        (_, "obtained") => lang.t("Obtained", "입수일"),
        (_, "language") => lang.t("Language", "언어"),
        (RecordKind::Person, "organisation") => lang.t("An organisation", "단체 여부"),
        (_, "organisation") => lang.t("Documenting organisation", "기록 기관"),
        (_, "provenance") => lang.t("Provenance", "입수 경위"),
        (_, "consent") => lang.t("Consent", "동의 범위"),
        (_, "witness") => lang.t("Witness", "증언자"),
        (_, "received_by") => lang.t("Received by", "접수자"),
        (_, "notes") => lang.t("Notes", "메모"),
        (_, "clarifications") => lang.t("Clarifications", "보충 설명"),
        (_, "sealed") => lang.t("Identifying data", "신원 정보"),
        (_, "names") => lang.t("Names", "이름"),
        (_, "sex") => lang.t("Sex", "성별"),
        (_, "birth") => lang.t("Born", "출생"),
        (_, "origin") => lang.t("Place of origin", "출신지"),
        (_, "protected") => lang.t("Protected identity", "신원 보호"),
        (_, "unit") => lang.t("Counted as", "집계 단위"),
        (_, "description") => lang.t("Description", "설명"),
        (_, "date") => lang.t("Date", "날짜"),
        (_, "place") => lang.t("Place", "장소"),
        (_, "violations") => lang.t("Violations", "침해 유형"),
        (_, "act_type") => lang.t("Type of act", "행위 유형"),
        (_, "victim") => lang.t("Victim", "피해자"),
        (_, "event") => lang.t("Event", "사건"),
        (_, "victim_age") => lang.t("Victim's age", "피해자 나이"),
        (_, "status") => lang.t("Victim's situation after the act", "행위 이후 피해자 상황"),
        (_, "facility") => lang.t("Facility", "시설"),
        (_, "act") => lang.t("Act", "행위"),
        (_, "perpetrator") => lang.t("Perpetrator", "가해자"),
        (_, "agency") => lang.t("Agency", "기관"),
        (_, "degree") => lang.t("Part in the act", "가담 정도"),
        (_, "source") => lang.t("Source", "출처"),
        (_, "reliability") => lang.t("Reliability of the source", "출처 신뢰도"),
        (_, "credibility") => lang.t("Credibility of the information", "정보 신빙성"),
        (RecordKind::Information, "relation") => {
            lang.t("Witness's relation to the victim", "증언자와 피해자의 관계")
        }
        (_, "relation") => lang.t("Relation", "관계"),
        (_, "knowledge") => lang.t("How it is known", "인지 경위"),
        (_, "person") => lang.t("Person", "인물"),
        (_, "other") => lang.t("Related person", "관련 인물"),
        (_, "sha256") => lang.t("SHA-256", "SHA-256"),
        (_, "commitment") => lang.t("Salted SHA-256 in the journal", "저널의 솔트 SHA-256"),
        (_, "file_name") => lang.t("File name", "파일 이름"),
        (_, "size") => lang.t("Size", "크기"),
        (_, "media_type") => lang.t("Media type", "미디어 유형"),
        (_, "captured") => lang.t("Captured", "촬영·수집일"),
        (_, "collector") => lang.t("Collected by", "수집자"),
        (_, "sensitive") => lang.t("Sensitive", "민감 자료"),
        (_, "revision") => lang.t("Revision", "개정"),
        _ => lang.t("Other field", "기타 항목"),
    }
}

/// The title of record `id` as the reader may see it, if it is a `kind`.
pub(super) fn title_of_kind(
    store: &Database,
    id: &RecordId,
    kind: RecordKind,
    lang: Lang,
    role: Role,
) -> Result<Option<String>, StoreError> {
    let Some(stored) = store.get(id)? else {
        return Ok(None);
    };
    if stored.record.kind() != kind {
        return Ok(None);
    }
    let vocabularies = store.vocabularies();
    let mut titles = Titles::new();
    for (_, other, _) in stored.record.references() {
        if let Some(referred) = store.get(other)? {
            let shown = redact::record(referred.record, role);
            titles.insert(other.clone(), title_of(&shown, lang, vocabularies, &titles));
        }
    }
    let shown = redact::record(stored.record, role);
    Ok(Some(title_of(&shown, lang, vocabularies, &titles)))
}

/// The titles of records a page links to, as the reader's role may see them.
pub(super) type Titles = HashMap<RecordId, String>;

fn withheld(text: &str) -> bool {
    text == redact::WITHHELD
}

/// What a record is, in a few words: a name, a title, an act and its victim;
/// stored text in it is made printable.
pub(super) fn title_of(
    record: &Record,
    lang: Lang,
    vocabularies: &Vocabularies,
    titles: &Titles,
) -> String {
    line(&words_of(record, lang, vocabularies, titles)).into_owned()
}

fn words_of(record: &Record, lang: Lang, vocabularies: &Vocabularies, titles: &Titles) -> String {
    let of = |id: &RecordId| titles.get(id).cloned();
    match record {
        Record::Person(person) => match person.names.first() {
            Some(name) if withheld(&name.text) => lang
                .t("Person (name withheld)", "인물 (이름 비공개)")
                .to_string(),
            Some(_) => person.display_name(),
            None if person.sealed.is_some() => lang
                .t("Person (name sealed)", "인물 (이름 암호화됨)")
                .to_string(),
            None => lang.t("Unnamed person", "이름 없는 인물").to_string(),
        },
        Record::Source(source) if !source.title.is_empty() && !withheld(&source.title) => {
            source.title.clone()
        }
        Record::Source(source) => {
            format!(
                "{}, {}",
                keyword(lang, source.kind),
                date(lang, &source.obtained)
            )
        }
        Record::Event(event) if !event.title.is_empty() && !withheld(&event.title) => {
            event.title.clone()
        }
        Record::Event(event) => {
            format!("{} {}", lang.t("Event,", "사건,"), date(lang, &event.date))
        }
        Record::Act(act) => {
            let mut title = term(lang, vocabularies, VocabKind::ActType, &act.act_type);
            if let Some(victim) = of(&act.victim) {
                title = format!("{title} — {victim}");
            }
            if !act.date.is_unknown() {
                title = format!("{title}, {}", date(lang, &act.date));
            }
            title
        }
        Record::Involvement(involvement) => {
            let who = involvement
                .agency
                .as_ref()
                .map(|key| term(lang, vocabularies, VocabKind::Agency, key))
                .or(involvement.perpetrator.as_ref().and_then(of))
                .unwrap_or_else(|| lang.t("unknown perpetrator", "미상의 가해자").to_string());
            format!("{}: {who}", lang.t("Involvement", "가해 관여"))
        }
        // What it attests, rather than the source every attestation on a source page shares.
        Record::Information(information) => format!(
            "{}: {}",
            lang.t("Attestation", "증언 내용"),
            [&information.act, &information.event]
                .into_iter()
                .flatten()
                .find_map(of)
                .or_else(|| of(&information.source))
                .unwrap_or_else(|| information.source.to_string())
        ),
        Record::Relation(relation) => format!(
            "{} — {} — {}",
            of(&relation.person).unwrap_or_else(|| relation.person.to_string()),
            term(lang, vocabularies, VocabKind::Relation, &relation.relation),
            of(&relation.other).unwrap_or_else(|| relation.other.to_string()),
        ),
        Record::Evidence(evidence) if !withheld(&evidence.file_name) => evidence.file_name.clone(),
        Record::Evidence(evidence) => format!(
            "{} {}",
            lang.t("Evidence", "증거"),
            evidence.sha256.get(..12).unwrap_or(&evidence.sha256)
        ),
    }
}

/// One field of a record as shown: its key (to compare versions), label and value.
pub(super) struct Row {
    pub key: &'static str,
    pub label: &'static str,
    pub value: Markup,
}

/// A link to a record, by its title where the page knows it.
pub(super) fn link(kind: RecordKind, id: &RecordId, titles: &Titles) -> Markup {
    html! {
        a href=(link_of(kind.as_str(), id)) {
            (titles.get(id).map(String::as_str).unwrap_or(id.as_str()))
        }
    }
}

/// Stored free text, printable, or a note that the role may not read it.
pub(super) fn text(lang: Lang, value: &str) -> Markup {
    html! {
        @if withheld(value) {
            span.withheld { (lang.t("withheld for your role", "권한상 비공개")) }
        } @else {
            span.text { (block(value)) }
        }
    }
}

fn yes(lang: Lang) -> Markup {
    html! { (lang.t("yes", "예")) }
}

/// The fields of a record that have a value, in the reader's language.
pub(super) fn rows(
    record: &Record,
    lang: Lang,
    vocabularies: &Vocabularies,
    titles: &Titles,
) -> Vec<Row> {
    let kind = record.kind();
    let mut rows = Vec::new();
    let mut add = |key: &'static str, value: Markup| {
        rows.push(Row {
            key,
            label: field_label(lang, kind, key),
            value,
        })
    };
    let vocabulary = |kind: VocabKind, key: &str| html! { (term(lang, vocabularies, kind, key)) };
    let at = |key: &str| html! { (place(lang, vocabularies, key)) };
    match record {
        Record::Person(person) => {
            if !person.names.is_empty() {
                add("names", names(lang, &person.names));
            }
            add("sex", html! { (keyword(lang, person.sex)) });
            if !person.birth.is_unknown() {
                add("birth", html! { (date(lang, &person.birth)) });
            }
            if let Some(origin) = &person.origin {
                add("origin", at(origin));
            }
            if person.protected {
                add("protected", yes(lang));
            }
            if person.organisation {
                add("organisation", yes(lang));
            }
            if person.unit != Default::default() {
                add(
                    "unit",
                    html! { (keyword(lang, person.unit.kind)) @if let Some(size) = person.unit.size { " (" (size) ")" } },
                );
            }
            if !person.description.is_empty() {
                add("description", text(lang, &person.description));
            }
            if !person.notes.is_empty() {
                add("notes", text(lang, &person.notes));
            }
        }
        Record::Source(source) => {
            add("kind", html! { (keyword(lang, source.kind)) });
            if !source.title.is_empty() {
                add("title", text(lang, &source.title));
            }
            add("obtained", html! { (date(lang, &source.obtained)) });
            if let Some(witness) = &source.witness {
                add("witness", link(RecordKind::Person, witness, titles));
            }
            if let Some(consent) = source.consent {
                add("consent", html! { (keyword(lang, consent)) });
            }
            if let Some(language) = &source.language {
                add("language", html! { (language_name(lang, language)) });
            }
            if let Some(organisation) = &source.organisation {
                add(
                    "organisation",
                    html! { (organisation_name(lang, vocabularies, organisation)) },
                );
            }
            if !source.provenance.is_empty() {
                add("provenance", text(lang, &source.provenance));
            }
            if !source.notes.is_empty() {
                add("notes", text(lang, &source.notes));
            }
        }
        Record::Event(event) => {
            add("title", text(lang, &event.title));
            add("date", html! { (date(lang, &event.date)) });
            if let Some(key) = &event.place {
                add("place", at(key));
            }
            if !event.violations.is_empty() {
                add(
                    "violations",
                    html! { ul { @for v in &event.violations { li { (term(lang, vocabularies, VocabKind::ViolationCategory, v)) } } } },
                );
            }
            if !event.description.is_empty() {
                add("description", text(lang, &event.description));
            }
        }
        Record::Act(act) => act_rows(act, lang, vocabularies, titles, &mut add),
        Record::Involvement(Involvement {
            act,
            perpetrator,
            agency,
            degree,
            ..
        }) => {
            add("act", link(RecordKind::Act, act, titles));
            if let Some(perpetrator) = perpetrator {
                add("perpetrator", link(RecordKind::Person, perpetrator, titles));
            }
            if let Some(agency) = agency {
                add("agency", vocabulary(VocabKind::Agency, agency));
            }
            add("degree", html! { (keyword(lang, *degree)) });
        }
        Record::Information(information) => {
            add(
                "source",
                link(RecordKind::Source, &information.source, titles),
            );
            if let Some(act) = &information.act {
                add("act", link(RecordKind::Act, act, titles));
            }
            if let Some(event) = &information.event {
                add("event", link(RecordKind::Event, event, titles));
            }
            if let Some(reliability) = information.reliability {
                add("reliability", html! { (keyword(lang, reliability)) });
            }
            if let Some(grade) = information.credibility {
                add("credibility", html! { (credibility(lang, grade)) });
            }
            if let Some(relation) = &information.relation {
                add("relation", vocabulary(VocabKind::Relation, relation));
            }
            add(
                "knowledge",
                html! { (keyword(lang, information.knowledge)) },
            );
        }
        Record::Relation(relation) => {
            add("person", link(RecordKind::Person, &relation.person, titles));
            add(
                "relation",
                vocabulary(VocabKind::Relation, &relation.relation),
            );
            add("other", link(RecordKind::Person, &relation.other, titles));
            if !relation.date.is_unknown() {
                add("date", html! { (date(lang, &relation.date)) });
            }
        }
        Record::Evidence(evidence) => evidence_rows(evidence, lang, titles, &mut add),
    }
    if let Some(sealed) = record.sealed() {
        // Who may open it sees the names above; the ciphertext is not for reading.
        add(
            "sealed",
            html! { (lang.t("encrypted", "암호화됨")) " · " code { (sealed.ciphertext.get(..12).unwrap_or_default()) "…" } },
        );
    }
    let (received_by, clarifications) = match record {
        Record::Person(r) => (r.received_by.as_ref(), &r.clarifications),
        Record::Source(r) => (r.received_by.as_ref(), &r.clarifications),
        Record::Event(r) => (r.received_by.as_ref(), &r.clarifications),
        Record::Act(r) => (r.received_by.as_ref(), &r.clarifications),
        Record::Involvement(r) => (None, &r.clarifications),
        Record::Information(r) => (None, &r.clarifications),
        Record::Relation(r) => (None, &r.clarifications),
        Record::Evidence(_) => (None, &Default::default()),
    };
    if let Some(who) = received_by {
        add("received_by", html! { (line(who)) });
    }
    if !clarifications.is_empty() {
        add(
            "clarifications",
            html! { dl { @for (field, note) in clarifications { dt { (field_label(lang, kind, field)) } dd { (text(lang, note)) } } } },
        );
    }
    rows
}

fn act_rows(
    act: &Act,
    lang: Lang,
    vocabularies: &Vocabularies,
    titles: &Titles,
    add: &mut impl FnMut(&'static str, Markup),
) {
    add("victim", link(RecordKind::Person, &act.victim, titles));
    add(
        "act_type",
        html! { (term(lang, vocabularies, VocabKind::ActType, &act.act_type)) },
    );
    add("date", html! { (date(lang, &act.date)) });
    if let Some(key) = &act.place {
        add("place", html! { (place(lang, vocabularies, key)) });
    }
    if let Some(event) = &act.event {
        add("event", link(RecordKind::Event, event, titles));
    }
    if let Some(age) = act.victim_age {
        add("victim_age", html! { (age) });
    }
    if let Some(status) = &act.status {
        add(
            "status",
            html! { (term(lang, vocabularies, VocabKind::ActStatus, status)) },
        );
    }
    if let Some(facility) = &act.facility {
        add(
            "facility",
            html! { (term(lang, vocabularies, VocabKind::FacilityType, facility)) },
        );
    }
    if !act.description.is_empty() {
        add("description", text(lang, &act.description));
    }
}

fn evidence_rows(
    evidence: &Evidence,
    lang: Lang,
    titles: &Titles,
    add: &mut impl FnMut(&'static str, Markup),
) {
    add("source", link(RecordKind::Source, &evidence.source, titles));
    add("file_name", text(lang, &evidence.file_name));
    let sealed = || html! { (lang.t("sealed", "암호화됨")) };
    match evidence.content_sha256() {
        Some(sha256) => add("sha256", html! { code { (sha256) } }),
        None => add("sha256", sealed()),
    }
    match evidence.content_size() {
        Some(size) => add(
            "size",
            html! { (size) " " (lang.counted(size, "byte", "bytes", "바이트")) },
        ),
        None => add("size", sealed()),
    }
    if evidence.salted {
        add("commitment", html! { code { (evidence.sha256) } });
    }
    if let Some(media) = &evidence.media_type {
        add("media_type", html! { (line(media)) });
    }
    if !evidence.captured.is_unknown() {
        add("captured", html! { (date(lang, &evidence.captured)) });
    }
    if let Some(collector) = &evidence.collector {
        add("collector", html! { (line(collector)) });
    }
    if evidence.sensitive {
        add("sensitive", yes(lang));
    }
}

/// A person's names as a list: each with its script, romanization and kind.
fn names(lang: Lang, names: &[girok_model::Name]) -> Markup {
    html! {
        @if names.iter().any(|n| withheld(&n.text)) {
            (text(lang, redact::WITHHELD))
        } @else {
            table.names {
                tr { th { (lang.t("Name", "이름")) } th { (lang.t("Script", "문자")) } th { (lang.t("Romanization", "로마자 표기법")) } th { (lang.t("Kind", "종류")) } }
                @for name in names {
                    tr {
                        td lang=(if name.script == Script::Hangul { "ko" } else { "" }) { (line(&name.text)) }
                        td { (keyword(lang, name.script)) }
                        td { @if name.script == Script::Hangul { "—" } @else { (keyword(lang, name.system)) } }
                        td { (keyword(lang, name.kind)) }
                    }
                }
            }
        }
    }
}

/// A journal time (UTC, RFC 3339 with microseconds) in the reader's time
/// zone (the server's when they chose none) to the second, with its offset
/// so no reader mistakes the zone.
pub(super) fn local_time(utc: &str, zone: Option<chrono_tz::Tz>) -> String {
    const SHOWN: &str = "%Y-%m-%d %H:%M:%S (UTC%:z)";
    match (chrono::DateTime::parse_from_rfc3339(utc), zone) {
        (Ok(time), Some(zone)) => time.with_timezone(&zone).format(SHOWN).to_string(),
        (Ok(time), None) => time.with_timezone(&chrono::Local).format(SHOWN).to_string(),
        (Err(_), _) => utc.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// New changes may hold no control character, but journals written
    /// before that rule still hold some, and their records are shown.
    #[test]
    fn stored_control_characters_are_shown_escaped() {
        let mut person = Person::new(
            RecordId::new("p-rlo"),
            vec![girok_model::Name::detect(
                "Kim \u{202e}gnorw\u{1b}[2J",
                Romanization::Unknown,
            )],
        );
        person.notes = "line one\nline \u{7}two".to_string();
        let record = Record::Person(person);
        let vocabularies = Vocabularies::default();
        let title = title_of(&record, Lang::En, &vocabularies, &Titles::new());
        assert_eq!(title, "Kim \\u{202e}gnorw\\u{1b}[2J");
        let shown: String = rows(&record, Lang::En, &vocabularies, &Titles::new())
            .into_iter()
            .map(|row| row.value.into_string())
            .collect();
        assert!(shown.contains("Kim \\u{202e}gnorw\\u{1b}[2J"), "{shown}");
        assert!(shown.contains("line one\nline \\u{7}two"), "{shown}");
        assert!(!shown.contains(['\u{202e}', '\u{1b}', '\u{7}']), "{shown}");
    }
}
