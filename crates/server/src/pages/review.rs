//! The duplicate review queue: proposals of linkage (run from the queue as
//! a background job, or by `girok link`), decided by documenters, and the
//! unmerge of records reviewers merged.
//!
//! The proposals in the database name no one. The queue shows record ids
//! only; a proposal's page reads its person records for the documenter
//! through the audited read path, so names appear only unlocked.

use girok_linkage::proposals::{self, ProposedPerson, decode_links};
use girok_store::StoredProposal;

use super::*;

fn stale_note(lang: Lang, computed_at: u64, journal: u64) -> Markup {
    html! {
        @if computed_at != journal {
            p.hint { (lang.t("The journal has changed since these proposals were made (entry", "제안 이후 기록이 바뀌었습니다 (항목"))
                " " (computed_at) " → " (journal) "). " (lang.t("Find duplicates again for fresh ones.", "새 제안을 보려면 중복 찾기를 다시 실행하세요.")) }
        }
    }
}

/// The person records reviewers merged with `person`, for its page (ids
/// only: nothing is decrypted).
pub(super) async fn merged_with(
    app: Arc<App>,
    person: RecordId,
) -> Result<Vec<RecordId>, Response> {
    match blocking(move || app.read(|store| store.merged_with(&person))).await {
        Ok(Ok(merged)) => Ok(merged),
        Ok(Err(error)) => Err(internal(error)),
        Err(response) => Err(response),
    }
}

/// The records merged with `person`, and for a reviewer the form that
/// unmerges it.
pub(super) fn merged_section(
    lang: Lang,
    person: &RecordId,
    merged: &[RecordId],
    reviewer: Option<&Principal>,
) -> Markup {
    html! {
        @if !merged.is_empty() {
            h2 { (lang.t("Merged by reviewers: the same person as", "검토로 병합됨: 같은 사람")) }
            ul {
                @for id in merged {
                    li { a href=(format!("/persons/{id}")) { (id) } }
                }
            }
            @if let Some(reviewer) = reviewer {
                (unmerge_form(lang, reviewer, person, None))
            }
        }
    }
}

/// Unmerges `person`: every linkage decision about it is withdrawn. `back`
/// is the page to return to (a proposal's).
fn unmerge_form(lang: Lang, reviewer: &Principal, person: &RecordId, back: Option<&str>) -> Markup {
    html! {
        details open[back.is_some()] {
            summary { (lang.t("Unmerge", "병합 해제")) " " code { (person) } }
            form method="post" action=(format!("/persons/{person}/unmerge")) {
                input type="hidden" name="csrf" value=(reviewer.csrf());
                @if let Some(back) = back {
                    input type="hidden" name="back" value=(back);
                }
                p.hint { (lang.t("Withdraws every linkage decision about this record (with any record): it stands alone again, and the next linkage decides afresh. The unmerge is a journal change.",
                                 "이 기록에 대한 모든 연결 결정을 철회합니다. 기록은 다시 따로 서고, 다음 연결에서 새로 판단합니다. 병합 해제는 기록에 남습니다.")) }
                label for=(format!("unmerge-reason-{person}")) { (lang.t("Reason (recorded in the journal)", "사유 (기록에 남음)")) }
                input id=(format!("unmerge-reason-{person}")) name="reason" required;
                button.primary type="submit" id=(format!("unmerge-{person}")) { (lang.t("Unmerge this record", "이 기록 병합 해제")) }
            }
        }
    }
}

#[derive(Deserialize)]
pub(super) struct UnmergeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    back: String,
}

/// Unmerges a person record: an `Unlink` change through the write path.
pub(super) async fn unmerge(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<UnmergeForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Documenter, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let title = lang.t("Unmerge", "병합 해제");
    let reason = form.reason.trim().to_string();
    if reason.is_empty() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            page(
                lang,
                &principal,
                title,
                html! { p.error role="alert" { (lang.t("A reason is required: it is recorded in the journal with the unmerge.", "사유가 필요합니다. 병합 해제와 함께 기록에 남습니다.")) } },
            ),
        )
            .into_response();
    }
    let person = RecordId::new(&id);
    let actor = principal.user.name.clone();
    let change = Change::Unlink {
        person: person.clone(),
        reason,
    };
    let written = blocking(move || {
        app.write(|store| store.write(&actor, |sink| sink.apply(change)))
            .map(|(seq, _)| seq)
    })
    .await;
    let back = Some(form.back.as_str()).filter(|back| {
        back.strip_prefix("/review/")
            .is_some_and(|n| n.parse::<u64>().is_ok())
    });
    match written {
        Ok(Ok(seq)) => {
            if let Some(back) = back {
                return Redirect::to(&format!("{back}?unmerged={person}")).into_response();
            }
            page(
                lang,
                &principal,
                title,
                html! {
                    div.saved role="status" {
                        p { strong { (lang.t("Unmerged.", "병합을 해제했습니다.")) } " "
                            code { (person) } " " (lang.t("stands alone again (journal entry", "은(는) 다시 따로 섭니다 (기록 항목")) " " (seq) ")." }
                        p { a href=(format!("/persons/{person}")) { (lang.t("Back to the person", "인물로 돌아가기")) } " · " a href="/review" { (lang.t("Duplicate review", "중복 검토")) } }
                    }
                },
            )
        }
        Ok(Err(refusal @ (StoreError::Conflict { .. } | StoreError::Invalid(_)))) => (
            StatusCode::CONFLICT,
            page(
                lang,
                &principal,
                title,
                html! { p.error role="alert" { (refusal.shown(lang == Lang::Ko)) } p { a href=(format!("/persons/{person}")) { (person) } } },
            ),
        )
            .into_response(),
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

fn none_yet(lang: Lang) -> &'static str {
    lang.t(
        "No linkage proposals yet: find duplicates first.",
        "아직 연결 제안이 없습니다. 먼저 중복 찾기를 실행하세요.",
    )
}

pub(super) async fn review_queue(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    // Nothing sealed is opened: the queue shows ids and scores only.
    let loaded = blocking(move || {
        let live = super::jobs::live_linkage(&app)?;
        app.read(|store| -> Result<_, StoreError> {
            Ok((
                store.link_run()?,
                store.undecided_link_proposals()?,
                store.head()?.0,
                live,
            ))
        })
    })
    .await;
    let title = lang.t("Duplicate review", "중복 검토");
    let (run, queue, journal, live) = match loaded {
        Ok(Ok((Some(run), queue, journal, live))) => (run, queue, journal, live),
        Ok(Ok((None, _, _, live))) => {
            let body = html! {
                p { (none_yet(lang)) }
                (super::jobs::linkage_control(lang, &principal, live.as_ref()))
            };
            return page(lang, &principal, title, body);
        }
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let body = html! {
        (super::jobs::linkage_control(lang, &principal, live.as_ref()))
        p { (lang.t("Person records that automatic linkage proposes are one person, least certain first. Open a proposal to compare the records. Decisions are journal changes; decided proposals leave the queue and later runs respect them.",
                    "자동 연결이 같은 사람으로 제안한 인물 기록입니다 (확실성이 낮은 것부터). 제안을 열어 기록을 비교하세요. 결정은 기록에 남고, 결정된 제안은 목록에서 빠지며 이후 실행에 반영됩니다.")) }
        (stale_note(lang, run.journal_size, journal))
        @if queue.is_empty() {
            p { (lang.t("No proposal is waiting for a decision.", "결정을 기다리는 제안이 없습니다.")) }
        } @else {
            table {
                tr { th { "#" } th { (lang.t("Probability", "확률")) } th { (lang.t("Person records", "인물 기록")) } }
                @for proposal in &queue {
                    tr {
                        td { a href=(format!("/review/{}", proposal.number)) { (proposal.number) } }
                        td.n { (format!("{:.3}", proposal.probability)) }
                        td { (proposal.persons.iter().map(|p| p.id.to_string()).collect::<Vec<_>>().join("  ~  ")) }
                    }
                }
            }
        }
    };
    page(lang, &principal, title, body)
}

#[derive(Deserialize)]
pub(super) struct DecisionForm {
    #[serde(default)]
    csrf: String,
    decision: String,
    #[serde(default)]
    reason: String,
}

/// A proposal with what the reader may see of its persons (`None` while
/// sealed), and whether the database is locked.
struct Loaded {
    proposal: StoredProposal,
    persons: Vec<Option<ProposedPerson>>,
    locked: bool,
    /// Each person of the proposal that reviewers merged with others of it,
    /// with those others.
    merged: Vec<(RecordId, Vec<RecordId>)>,
}

/// Reads proposal `number` and its person records for `principal`: the
/// records are opened only unlocked and only after the audit log recorded it.
fn load(app: &App, principal: &Principal, number: u64) -> Result<Option<Loaded>, StoreError> {
    let reading = Reading::of(principal, format!("GET /review/{number}"));
    app.read_as(&reading, |store| {
        let Some(proposal) = store.link_proposal(number)? else {
            return Ok(None);
        };
        let persons = store
            .link_proposal_persons(&proposal)?
            .iter()
            .map(|record| record.as_ref().and_then(proposals::describe))
            .collect();
        let ids: Vec<&RecordId> = proposal.persons.iter().map(|p| &p.id).collect();
        let mut merged = Vec::new();
        for id in &ids {
            let with: Vec<RecordId> = store
                .merged_with(id)?
                .into_iter()
                .filter(|other| ids.contains(&other))
                .collect();
            if !with.is_empty() {
                merged.push(((*id).clone(), with));
            }
        }
        Ok(Some(Loaded {
            proposal,
            persons,
            locked: store.lock_state() == LockState::Locked,
            merged,
        }))
    })
}

fn proposal_page(
    lang: Lang,
    principal: &Principal,
    loaded: &Loaded,
    message: Option<(bool, String)>,
) -> Markup {
    let proposal = &loaded.proposal;
    let links = decode_links(&proposal.links);
    html! {
        @if let Some((ok, message)) = &message {
            @if *ok {
                // A decision recorded: say so, and where to go next.
                div.saved id="decided" {
                    p role="status" { strong { (lang.t("Saved.", "저장했습니다.")) } " " (message) }
                    ul.next {
                        li { a href="/review" id="next-proposal" { (lang.t("The next proposal in the queue", "대기열의 다음 제안")) } }
                        @if let Some(first) = proposal.persons.first() {
                            li { a href=(format!("/persons/{}", first.id)) { (lang.t("The person's page", "인물 페이지")) } }
                        }
                    }
                }
            } @else {
                p.error role="status" { (message) }
            }
        }
        @if loaded.locked {
            p.hint { (lang.t("The database is locked: names, birth and origin are shown once an administrator unlocks it.",
                             "데이터베이스가 잠겨 있습니다. 관리자가 잠금을 풀면 이름, 출생, 출신이 표시됩니다.")) }
        }
        @if let Some(seq) = proposal.decided {
            p.hint { (lang.t("Decided in journal entry", "결정됨: 기록 항목")) " " (seq) }
        }
        @if !loaded.merged.is_empty() {
            section id="merged" {
                h2 { (lang.t("Merged by reviewers", "검토로 병합됨")) }
                ul {
                    @for (id, with) in &loaded.merged {
                        li { a href=(format!("/persons/{id}")) { (id) } " = " (with.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")) }
                    }
                }
                form method="post" action=(format!("/review/{}", proposal.number)) {
                    input type="hidden" name="csrf" value=(principal.csrf());
                    label for="unmerge-reason" { (lang.t("Reason (recorded in the journal)", "사유 (기록에 남음)")) }
                    input id="unmerge-reason" name="reason" required;
                    button.primary type="submit" name="decision" value="unmerge-different" id="unmerge-different" {
                        (lang.t("Unmerge and record them as different persons", "병합 해제 후 다른 사람으로 기록"))
                    }
                }
                p.hint { (lang.t("Or unmerge one record only:", "또는 기록 하나만 병합 해제:")) }
                @for (id, _) in &loaded.merged {
                    (unmerge_form(lang, principal, id, Some(&format!("/review/{}", proposal.number))))
                }
            }
        }
        table {
            tr { th { "ID" } th { (lang.t("Names", "이름")) } th { (lang.t("Sex", "성별")) } th { (lang.t("Born", "출생")) } th { (lang.t("From", "출신")) } th { (lang.t("Sources", "출처")) } }
            @for (stored, shown) in proposal.persons.iter().zip(&loaded.persons) {
                tr {
                    td { a href=(format!("/persons/{}", stored.id)) { (stored.id) } }
                    @if let Some(person) = shown {
                        td { (person.names) } td { (linkage_words(lang, &person.sex)) } td { (linkage_words(lang, &person.birth)) } td { (linkage_words(lang, &person.origin)) }
                    } @else {
                        td colspan="4" { (lang.t("(sealed)", "(봉인됨)")) }
                    }
                    td { (stored.sources) }
                }
            }
        }
        h2 { (lang.t("Why: the weight of every comparison", "근거: 비교 항목별 가중치")) }
        @match &links {
            Err(error) => p.error { (error.to_string()) },
            Ok(links) => @for link in links {
                h3 { (link.a) " ~ " (link.b) ": " (format!("{:+.2}", link.explanation.weight)) " (p = " (format!("{:.4}", link.explanation.probability)) ")" }
                table {
                    tr { th { (lang.t("Comparison", "비교")) } th { (lang.t("Level", "수준")) } th { (lang.t("Weight", "가중치")) } }
                    tr { td { (lang.t("prior", "사전")) } td {} td.n { (format!("{:+.2}", link.explanation.prior_weight)) } }
                    @for part in &link.explanation.parts {
                        tr {
                            td { (linkage_words(lang, &part.comparison)) }
                            td { (linkage_words(lang, &part.level)) @if let Some(tf) = part.term_frequency { " " span.hint { (format!("({:.2}%)", tf * 100.0)) } } }
                            td.n { (format!("{:+.2}", part.weight)) }
                        }
                    }
                }
            },
        }
        @if proposal.decided.is_none() {
            form method="post" action=(format!("/review/{}", proposal.number)) {
                input type="hidden" name="csrf" value=(principal.csrf());
                label for="reason" { (lang.t("Reason (recorded in the journal)", "사유 (기록에 남음)")) }
                input id="reason" name="reason" required;
                button.primary type="submit" name="decision" value="same" { (lang.t("Same person", "같은 사람")) }
                " "
                button.primary type="submit" name="decision" value="different" { (lang.t("Different persons", "다른 사람")) }
            }
        }
    }
}

/// The words linkage stores in English (comparisons, their levels, what a
/// record lacks), in the reader's language; anything else as it is.
fn linkage_words(lang: Lang, text: &str) -> &str {
    if lang == Lang::En {
        return text;
    }
    match text {
        "surname" => "성",
        "given name" => "이름",
        "sex" => "성별",
        "birth year" => "출생 연도",
        "place of origin" => "출신지",
        "arrest date and place" => "체포 날짜와 장소",
        "others their sources name" => "출처가 함께 언급한 다른 인물",
        "missing" => "정보 없음",
        "different" => "다름",
        "equal" | "exact" | "same" | "the same value" => "같음",
        "same Hangul possible" => "같은 한글일 수 있음",
        "same name key" => "같은 이름 키",
        "similar jamo" => "자모 유사",
        "jamo similarity >= 0.75" => "자모 유사도 0.75 이상",
        "romanized jaro-winkler >= 0.9" => "로마자 유사도(자로-윙클러) 0.9 이상",
        "off by one" => "1년 차이",
        "within 3 years" => "3년 이내",
        "same year" => "같은 연도",
        "same place" => "같은 장소",
        "same province" => "같은 도",
        "same surname" => "같은 성",
        "overlapping" | "overlapping dates" => "날짜 겹침",
        "same place, overlapping dates" => "같은 장소, 날짜 겹침",
        "another alike" => "비슷한 다른 인물 있음",
        "none alike" => "비슷한 인물 없음",
        "near" => "가까움",
        "unknown" => "미상",
        "female" => "여성",
        "male" => "남성",
        "other" => "기타",
        _ => text,
    }
}

fn no_such(lang: Lang, number: u64) -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        lang.t("Duplicate review", "중복 검토"),
        &format!(
            "{} {number}",
            lang.t(
                "The latest linkage run made no such proposal:",
                "최근 연결 실행이 만든 제안에 없습니다:"
            )
        ),
    )
}

#[derive(Deserialize)]
pub(super) struct ProposalQuery {
    /// The record just unmerged from this proposal's page.
    unmerged: Option<String>,
}

pub(super) async fn review_proposal(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(number): Path<u64>,
    Query(query): Query<ProposalQuery>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let reader = principal.clone();
    match blocking(move || load(&app, &reader, number)).await {
        Ok(Ok(Some(loaded))) => page(
            lang,
            &principal,
            &format!("{} #{number}", lang.t("Proposal", "제안")),
            proposal_page(
                lang,
                &principal,
                &loaded,
                query.unmerged.map(|id| {
                    (
                        true,
                        format!(
                            "{} {}",
                            lang.t("Unmerged:", "병합 해제됨:"),
                            girok_model::printable::line(&id)
                        ),
                    )
                }),
            ),
        ),
        Ok(Ok(None)) => no_such(lang, number),
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

/// A proposal after a decision was asked for: the journal entry, or why not.
type Decided = (Loaded, Result<u64, Declined>);

/// What a reviewer decided about a proposal.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Asked {
    Same,
    Different,
    /// Different persons, once the records reviewers merged are unmerged.
    UnmergeThenDifferent,
}

/// Why a decision was not recorded.
enum Declined {
    Refused(String),
    /// "Different persons" of records reviewers merged: the page offers the unmerge.
    Merged,
}

pub(super) async fn decide_proposal(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(number): Path<u64>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Documenter, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let actor = principal.user.name.clone();
    let asked = match form.decision.as_str() {
        "same" => Asked::Same,
        "unmerge-different" => Asked::UnmergeThenDifferent,
        _ => Asked::Different,
    };
    let reason = form.reason.trim().to_string();
    let reader = principal.clone();
    let decided = blocking(move || -> Result<Option<Decided>, StoreError> {
        let Some(found) = app.read(|store| store.link_proposal(number))? else {
            return Ok(None);
        };
        let persons: Vec<RecordId> = found.persons.iter().map(|p| p.id.clone()).collect();
        // The persons of the proposal reviewers merged with another of it.
        let mut merged = Vec::new();
        for person in &persons {
            let with = app.read(|store| store.merged_with(person))?;
            if persons.iter().any(|p| with.contains(p)) {
                merged.push(person.clone());
            }
        }
        let outcome = if reason.is_empty() {
            Err(Declined::Refused(
                lang.t("A reason is required.", "사유가 필요합니다.")
                    .to_string(),
            ))
        } else if asked == Asked::Different && !merged.is_empty() {
            Err(Declined::Merged)
        } else if let (Some(seq), false) = (found.decided, asked == Asked::UnmergeThenDifferent) {
            Err(Declined::Refused(format!(
                "{} {seq}",
                lang.t("Decided already in journal entry", "이미 결정됨: 기록 항목")
            )))
        } else {
            // All but one of the merged persons stand alone again: then none
            // of them is merged with another, and they can be kept apart.
            let mut changes: Vec<Change> = merged
                .iter()
                .skip(1)
                .filter(|_| asked == Asked::UnmergeThenDifferent)
                .map(|person| Change::Unlink {
                    person: person.clone(),
                    reason: reason.clone(),
                })
                .collect();
            changes.push(proposals::decide(&persons, asked == Asked::Same, &reason));
            app.write(|store| {
                store.write(&actor, |sink| {
                    let mut last = 0;
                    for change in changes {
                        last = sink.apply(change)?;
                    }
                    Ok::<u64, StoreError>(last)
                })
            })
            .map(|(seq, _)| seq)
            .map_err(|e: StoreError| Declined::Refused(e.to_string()))
        };
        Ok(load(&app, &reader, number)?.map(|loaded| (loaded, outcome)))
    })
    .await;
    let (loaded, outcome) = match decided {
        Ok(Ok(Some(found))) => found,
        Ok(Ok(None)) => return no_such(lang, number),
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let (status, message) = match outcome {
        Ok(seq) => (
            StatusCode::OK,
            (
                true,
                format!(
                    "{} {seq}",
                    lang.t("Recorded as journal entry", "기록됨: 항목")
                ),
            ),
        ),
        Err(Declined::Merged) => (
            StatusCode::OK,
            (
                false,
                lang.t(
                    "These records are merged as one person. To record them as different persons, unmerge them below: nothing was recorded yet.",
                    "이 기록들은 같은 사람으로 병합되어 있습니다. 다른 사람으로 기록하려면 아래에서 병합을 해제하세요. 아직 아무것도 기록하지 않았습니다.",
                )
                .to_string(),
            ),
        ),
        Err(Declined::Refused(message)) => (StatusCode::CONFLICT, (false, message)),
    };
    (
        status,
        page(
            lang,
            &principal,
            &format!("{} #{number}", lang.t("Proposal", "제안")),
            proposal_page(lang, &principal, &loaded, Some(message)),
        ),
    )
        .into_response()
}
