//! The duplicate review queue: proposals of `girok link`, decided by documenters.

use super::*;

fn stale_note(lang: Lang, computed_at: u64, journal: u64) -> Markup {
    html! {
        @if computed_at != journal {
            p.hint { (lang.t("The journal has changed since these proposals were made (entry", "제안 이후 기록이 바뀌었습니다 (항목"))
                " " (computed_at) " → " (journal) "). " (lang.t("Run girok link again for fresh ones.", "새 제안은 girok link 를 다시 실행하세요.")) }
        }
    }
}

pub(super) async fn review_queue(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let data = app.data.clone();
    let loaded = blocking(move || {
        let journal = app.read(|store| store.head().map(|h| h.0));
        (Proposals::load(&data), journal)
    })
    .await;
    let (proposals, journal) = match loaded {
        Ok((Ok(proposals), Ok(journal))) => (proposals, journal),
        Ok((Err(error), _)) => {
            let body = html! { p { (error.to_string()) } };
            return page(
                lang,
                &principal,
                lang.t("Duplicate review", "중복 검토"),
                body,
            );
        }
        Ok((_, Err(error))) => return internal(error),
        Err(response) => return response,
    };
    let body = html! {
        p { (lang.t("Person records that automatic linkage proposes are one person, least certain first. Decisions are journal changes; later runs respect them.",
                    "자동 연결이 같은 사람으로 제안한 인물 기록입니다 (확실성이 낮은 것부터). 결정은 기록에 남고 이후 실행에 반영됩니다.")) }
        (stale_note(lang, proposals.journal_size, journal))
        table {
            tr { th { "#" } th { (lang.t("Probability", "확률")) } th { (lang.t("Person records", "인물 기록")) } }
            @for proposal in &proposals.proposals {
                tr {
                    td { a href=(format!("/review/{}", proposal.number)) { (proposal.number) } }
                    td.n { (format!("{:.3}", proposal.probability)) }
                    td { (proposal.persons.iter().map(|p| format!("{} ({})", p.names, p.id)).collect::<Vec<_>>().join("  ~  ")) }
                }
            }
        }
    };
    page(
        lang,
        &principal,
        lang.t("Duplicate review", "중복 검토"),
        body,
    )
}

#[derive(Deserialize)]
pub(super) struct DecisionForm {
    #[serde(default)]
    csrf: String,
    decision: String,
    #[serde(default)]
    reason: String,
}

fn proposal_page(
    lang: Lang,
    principal: &Principal,
    proposal: &Proposal,
    message: Option<(bool, String)>,
) -> Markup {
    html! {
        @if let Some((ok, message)) = &message {
            p class=(if *ok { "" } else { "error" }) role="status" { (message) }
        }
        table {
            tr { th { "ID" } th { (lang.t("Names", "이름")) } th { (lang.t("Sex", "성별")) } th { (lang.t("Born", "출생")) } th { (lang.t("From", "출신")) } th { (lang.t("Sources", "출처")) } }
            @for person in &proposal.persons {
                tr {
                    td { a href=(format!("/persons/{}", person.id)) { (person.id) } }
                    td { (person.names) } td { (person.sex) } td { (person.birth) } td { (person.origin) } td { (person.sources) }
                }
            }
        }
        h2 { (lang.t("Why: the weight of every comparison", "근거: 비교 항목별 가중치")) }
        @for link in &proposal.links {
            h3 { (link.a) " ~ " (link.b) ": " (format!("{:+.2}", link.explanation.weight)) " (p = " (format!("{:.4}", link.explanation.probability)) ")" }
            table {
                tr { th { (lang.t("Comparison", "비교")) } th { (lang.t("Level", "수준")) } th { (lang.t("Weight", "가중치")) } }
                tr { td { (lang.t("prior", "사전")) } td {} td.n { (format!("{:+.2}", link.explanation.prior_weight)) } }
                @for part in &link.explanation.parts {
                    tr {
                        td { (part.comparison) }
                        td { (part.level) @if let Some(tf) = part.term_frequency { " " span.hint { (format!("({:.2}%)", tf * 100.0)) } } }
                        td.n { (format!("{:+.2}", part.weight)) }
                    }
                }
            }
        }
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

pub(super) async fn review_proposal(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(number): Path<usize>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let data = app.data.clone();
    let loaded = blocking(move || Proposals::load(&data)).await;
    let proposals = match loaded {
        Ok(Ok(proposals)) => proposals,
        Ok(Err(error)) => {
            return error_page(
                StatusCode::NOT_FOUND,
                lang.t("Duplicate review", "중복 검토"),
                &error.to_string(),
            );
        }
        Err(response) => return response,
    };
    match proposals.get(number) {
        Ok(proposal) => page(
            lang,
            &principal,
            &format!("{} #{number}", lang.t("Proposal", "제안")),
            proposal_page(lang, &principal, proposal, None),
        ),
        Err(error) => error_page(
            StatusCode::NOT_FOUND,
            lang.t("Duplicate review", "중복 검토"),
            &error.to_string(),
        ),
    }
}

pub(super) async fn decide_proposal(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(number): Path<usize>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Documenter, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let data = app.data.clone();
    let actor = principal.user.name.clone();
    let same = form.decision == "same";
    let reason = form.reason.trim().to_string();
    type Decided = Result<(Proposal, Result<u64, String>), String>;
    let decided = blocking(move || -> Decided {
        let proposals = Proposals::load(&data).map_err(|e| e.to_string())?;
        let proposal = proposals.get(number).map_err(|e| e.to_string())?.clone();
        if reason.is_empty() {
            return Ok((proposal, Err("a reason is required".to_string())));
        }
        let change = proposal.decide(same, &reason);
        let written = app.write(|store| store.write(&actor, |sink| sink.apply(change)));
        Ok((
            proposal,
            written
                .map(|(seq, _)| seq)
                .map_err(|e: StoreError| e.to_string()),
        ))
    })
    .await;
    let (proposal, outcome) = match decided {
        Ok(Ok(found)) => found,
        Ok(Err(message)) => {
            return error_page(
                StatusCode::NOT_FOUND,
                lang.t("Duplicate review", "중복 검토"),
                &message,
            );
        }
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
        Err(message) => (StatusCode::CONFLICT, (false, message)),
    };
    (
        status,
        page(
            lang,
            &principal,
            &format!("{} #{number}", lang.t("Proposal", "제안")),
            proposal_page(lang, &principal, &proposal, Some(message)),
        ),
    )
        .into_response()
}
