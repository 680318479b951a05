//! Pickers over HTTP: sources, events and persons found on the server by
//! part of a title or a name in any spelling, as JSON for the suggestions
//! and as choices in the forms without JavaScript; titles typed where an id
//! is expected; the persons a testimony names; the printable case file.

use axum::http::StatusCode;
use girok_model::{Record, RecordKind};
use girok_store::Store;

#[path = "../../store/tests/support/cluster.rs"]
mod cluster;
mod support;

use support::*;

fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).expect("form")
}

#[tokio::test]
async fn pickers_find_persons_by_any_spelling_and_sources_and_events_by_title() {
    pickers_find_records_on(&Site::new()).await;
}

#[test]
fn pickers_find_persons_by_any_spelling_and_sources_and_events_by_title_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(pickers_find_records_on(&site));
}

async fn pickers_find_records_on(site: &Site) {
    let documenter = site.session("documenter").await;
    let found = site
        .get("/pick/persons?q=Eunju+Kim", Some(&documenter))
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let choices: Vec<serde_json::Value> = serde_json::from_str(&found.body).expect("json");
    let ids: Vec<&str> = choices.iter().filter_map(|c| c["id"].as_str()).collect();
    for id in ["p-un-kim", "p-media-kim", "p-ko-kim"] {
        assert!(ids.contains(&id), "{id} not in {ids:?}");
    }
    let hangul = site
        .get(
            "/pick/persons?q=%EA%B9%80%EC%9D%80%EC%A3%BC",
            Some(&documenter),
        )
        .await;
    assert!(hangul.body.contains("p-un-kim"), "{}", hangul.body);
    let sources = site
        .get("/pick/sources?q=tjwg+report", Some(&documenter))
        .await;
    assert!(
        sources.body.contains("s-tjwg-2024") && !sources.body.contains("s-un-2025-kim"),
        "{}",
        sources.body
    );
    let by_id = site
        .get("/pick/sources?q=s-mofa-2017", Some(&documenter))
        .await;
    assert!(by_id.body.contains("Policy Guidelines"), "{}", by_id.body);
    let events = site
        .get("/pick/events?q=executions", Some(&documenter))
        .await;
    assert!(
        events.body.contains("e-covid-executions"),
        "{}",
        events.body
    );
    // An event's title does not find a source, nor a source's id an event.
    let crossed = site
        .get("/pick/events?q=s-mofa-2017", Some(&documenter))
        .await;
    assert_eq!(crossed.body, "[]");
    assert_eq!(
        site.get("/pick/acts?q=x", Some(&documenter)).await.status,
        StatusCode::NOT_FOUND
    );
    // The script that suggests while typing is served from this origin.
    let script = site.get("/picker.js", None).await;
    assert!(script.body.contains("/pick/"));
    assert!(
        site.get("/persons/p-un-kim/acts/new", Some(&documenter))
            .await
            .body
            .contains("src=\"/picker.js\"")
    );
}

#[tokio::test]
async fn pickers_are_a_documenters_tool_and_searches_are_audited() {
    // Reads are audited where names are sealed: in an encrypted database.
    let site = Site::encrypted("correct horse battery staple");
    for role in ["viewer", "analyst"] {
        let session = site.session(role).await;
        let reply = site.get("/pick/persons?q=Kim", Some(&session)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{role}");
        assert!(!reply.body.contains("p-un-kim"), "{role}");
        let titles = site.get("/pick/sources?q=Testimony", Some(&session)).await;
        assert_eq!(titles.status, StatusCode::FORBIDDEN, "{role}");
        // Nor do their pages load the script.
        assert!(
            !site
                .get("/", Some(&session))
                .await
                .body
                .contains("picker.js")
        );
    }
    assert_eq!(
        site.get("/pick/persons?q=Kim", None).await.status,
        StatusCode::SEE_OTHER
    );
    let admin = site.session("admin").await;
    let reply = site.get("/pick/persons?q=Eunju+Kim", Some(&admin)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let audit = girok_service::open_audit_log(&site.app.data).expect("audit");
    let entries = audit.entries().expect("entries");
    let search = entries
        .iter()
        .find(|e| e.action.starts_with("GET /pick/persons"))
        .expect("the search is audited");
    assert!(
        !search.action.contains("Eunju"),
        "the typed name is not logged"
    );
    assert!(search.subjects.iter().any(|r| r == "p-un-kim"));
}

#[tokio::test]
async fn the_act_form_finds_its_source_by_title_without_javascript() {
    the_act_form_finds_its_source_on(&Site::new()).await;
}

#[test]
fn the_act_form_finds_its_source_by_title_without_javascript_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(the_act_form_finds_its_source_on(&site));
}

async fn the_act_form_finds_its_source_on(site: &Site) {
    let documenter = site.session("documenter").await;
    let csrf = documenter.csrf.clone();
    let typed = |extra: &[(&str, &str)]| {
        let mut pairs = vec![
            ("csrf", csrf.as_str()),
            ("act_type", "arrest"),
            ("date", "2019"),
            ("place", "Hoeryong"),
            ("relation", "self"),
        ];
        pairs.extend_from_slice(extra);
        form(&pairs)
    };
    let before = site.read(|store| store.head().expect("head").0);
    // "Find": the matches to choose from, what was typed kept, nothing written.
    let found = site
        .post_form(
            "/persons/p-un-kim/acts",
            Some(&documenter),
            &typed(&[("source", "Testimony"), ("find", "source")]),
            None,
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert!(
        found.body.contains("value=\"source=s-un-2025-kim\"")
            && found.body.contains("value=\"source=s-un-2025-kang\"")
            && found.body.contains("value=\"Hoeryong\""),
        "{}",
        found.body
    );
    // Choosing one puts its id in the field.
    let chosen = site
        .post_form(
            "/persons/p-un-kim/acts",
            Some(&documenter),
            &typed(&[("source", "Testimony"), ("pick", "source=s-un-2025-kim")]),
            None,
        )
        .await;
    assert!(
        chosen.body.contains("value=\"s-un-2025-kim\""),
        "{}",
        chosen.body
    );
    assert_eq!(site.read(|store| store.head().expect("head").0), before);
    // A title that finds several: choose, nothing written, no internal id.
    let several = site
        .post_form(
            "/persons/p-un-kim/acts",
            Some(&documenter),
            &typed(&[("source", "Testimony")]),
            None,
        )
        .await;
    assert_eq!(several.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        several.body.contains("Several sources match"),
        "{}",
        several.body
    );
    assert!(
        !several.body.contains("f-un-"),
        "no internal record id: {}",
        several.body
    );
    // A title nobody has: said so at the field.
    let unknown = site
        .post_form(
            "/persons/p-un-kim/acts",
            Some(&documenter),
            &typed(&[("source", "Atlantis testimony")]),
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unknown
            .body
            .contains("No source has the title or id “Atlantis testimony”"),
        "{}",
        unknown.body
    );
    assert_eq!(site.read(|store| store.head().expect("head").0), before);
    // A title that finds one source and one event is saved with their ids.
    let saved = site
        .post_form(
            "/persons/p-un-kim/acts",
            Some(&documenter),
            &typed(&[
                ("source", "TJWG report"),
                ("event", "discredit"),
                ("reliability", "b"),
                ("knowledge", "heard-from-victim"),
            ]),
            None,
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let attested = site.read(|store| {
        store
            .recent(3)
            .expect("recent")
            .into_iter()
            .filter_map(|row| match row.entry.change {
                girok_model::Change::Create {
                    record: Record::Information(information),
                } => Some(format!(
                    "{} {:?} {:?}",
                    information.source, information.reliability, information.knowledge
                )),
                girok_model::Change::Create {
                    record: Record::Act(act),
                } => act.event.map(|e| e.to_string()),
                _ => None,
            })
            .collect::<Vec<_>>()
    });
    assert!(
        attested.contains(&"s-tjwg-2024 Some(B) HeardFromVictim".to_string())
            && attested.contains(&"e-discredit-campaign".to_string()),
        "{attested:?}"
    );
}

#[tokio::test]
async fn the_act_editor_finds_its_event_by_title() {
    let site = Site::new();
    let documenter = site.session("documenter").await;
    let page = site
        .get("/records/a-un-kim-torture/edit", Some(&documenter))
        .await;
    let revision = between(&page.body, "name=\"revision\" value=\"", "\"")
        .expect("revision")
        .to_string();
    let edited = |event: &str| {
        form(&[
            ("csrf", documenter.csrf.as_str()),
            ("revision", revision.as_str()),
            ("act_type", "torture"),
            ("place", "north-korea"),
            ("event", event),
        ])
    };
    let unknown = site
        .post_form(
            "/records/a-un-kim-torture/edit",
            Some(&documenter),
            &edited("no such event"),
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unknown.body.contains("No event has the title or id"),
        "{}",
        unknown.body
    );
    let find = site
        .post_form(
            "/records/a-un-kim-torture/edit",
            Some(&documenter),
            &format!("{}&find=event", edited("campaign")),
            None,
        )
        .await;
    assert!(
        find.body.contains("value=\"event=e-discredit-campaign\""),
        "{}",
        find.body
    );
    let saved = site
        .post_form(
            "/records/a-un-kim-torture/edit",
            Some(&documenter),
            &edited("campaign"),
            None,
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let act = site.read(|store| {
        store
            .get(&girok_model::RecordId::new("a-un-kim-torture"))
            .expect("get")
    });
    match act.map(|s| s.record) {
        Some(Record::Act(act)) => {
            assert_eq!(
                act.event.map(|e| e.to_string()).as_deref(),
                Some("e-discredit-campaign")
            )
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_testimony_names_persons_with_their_relation_to_the_witness() {
    a_testimony_names_persons_on(&Site::new()).await;
}

#[test]
fn a_testimony_names_persons_with_their_relation_to_the_witness_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(a_testimony_names_persons_on(&site));
}

async fn a_testimony_names_persons_on(site: &Site) {
    let documenter = site.session("documenter").await;
    let page = site.get("/sources/new", Some(&documenter)).await;
    assert!(page.body.contains("name=\"named1\"") && page.body.contains("Sibling · 형제자매"));
    let testimony = |extra: &[(&str, &str)]| {
        let mut pairs = vec![
            ("csrf", documenter.csrf.as_str()),
            ("title", "Interview in Seoul, 2024"),
            ("obtained", "2024-05"),
            ("consent", "internal"),
            ("sex", "female"),
        ];
        pairs.extend_from_slice(extra);
        form(&pairs)
    };
    let before = site.read(|store| store.head().expect("head").0);
    // Persons named by an anonymous witness: refused, nothing written.
    let anonymous = site
        .post_form(
            "/sources",
            Some(&documenter),
            &testimony(&[("named1", "박철수"), ("relation1", "sibling")]),
            None,
        )
        .await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        anonymous.body
    );
    assert!(anonymous.body.contains("value=\"박철수\""));
    assert_eq!(site.read(|store| store.head().expect("head").0), before);
    // A witness already recorded, chosen by typing another spelling of her name.
    let find = site
        .post_form(
            "/sources",
            Some(&documenter),
            &testimony(&[("known_witness", "Eunju Kim"), ("find", "known_witness")]),
            None,
        )
        .await;
    assert!(
        find.body.contains("value=\"known_witness=p-ko-kim\""),
        "{}",
        find.body
    );
    let saved = site
        .post_form(
            "/sources",
            Some(&documenter),
            &testimony(&[
                ("known_witness", "p-ko-kim"),
                ("named1", "박철수"),
                ("relation1", "sibling"),
                ("named2", "Pak Yong-hui"),
                ("relation2", "mother"),
            ]),
            None,
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let relations = site.read(|store| {
        let mut found = Vec::new();
        store
            .for_each_record(&mut |record| {
                if let Record::Relation(relation) = record
                    && relation.other.as_str() == "p-ko-kim"
                {
                    found.push(relation);
                }
                Ok(())
            })
            .expect("records");
        found
    });
    let mut kinds: Vec<&str> = relations.iter().map(|r| r.relation.as_str()).collect();
    kinds.sort();
    assert_eq!(kinds, ["parent", "sibling"]);
    let sister = relations
        .iter()
        .find(|r| r.relation == "sibling")
        .expect("sibling");
    let person = site.read(|store| store.get(&sister.person).expect("get"));
    match person.map(|s| s.record) {
        Some(Record::Person(person)) => assert_eq!(person.names[0].text, "박철수"),
        other => panic!("{other:?}"),
    }
    let source = site.read(|store| {
        store
            .list(RecordKind::Source, 0, 100)
            .expect("sources")
            .into_iter()
            .find_map(|s| match s.record {
                Record::Source(source) if source.title == "Interview in Seoul, 2024" => {
                    Some(source)
                }
                _ => None,
            })
    });
    assert_eq!(
        source
            .and_then(|s| s.witness)
            .map(|w| w.to_string())
            .as_deref(),
        Some("p-ko-kim")
    );
}

#[tokio::test]
async fn the_case_file_of_a_victim_shows_acts_sources_evidence_and_the_log() {
    case_file_on(&Site::new()).await;
}

#[test]
fn the_case_file_of_a_victim_shows_acts_sources_evidence_and_the_log_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(case_file_on(&site));
}

async fn case_file_on(site: &Site) {
    let documenter = site.session("documenter").await;
    let file = site
        .get("/persons/p-un-kim/case-file", Some(&documenter))
        .await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    for wanted in [
        "Kim Eun-joo",
        "Acts against this person",
        "Forced repatriation",
        "Chinese public security",
        "Testimony of Kim Eun-joo",
        "Integrity of the log",
        // The source's reliability, in its attestation of each act.
        "B — ",
        "Latest signed checkpoint",
        "passes",
        "cheap check",
    ] {
        assert!(file.body.contains(wanted), "{wanted}: {}", file.body);
    }
    // The record page links to it; an unknown person or a source is not a case file.
    assert!(
        site.get("/persons/p-un-kim", Some(&documenter))
            .await
            .body
            .contains("/persons/p-un-kim/case-file")
    );
    for missing in [
        "/persons/p-nobody/case-file",
        "/persons/s-un-2025-kim/case-file",
    ] {
        assert_eq!(
            site.get(missing, Some(&documenter)).await.status,
            StatusCode::NOT_FOUND
        );
    }
    // Records reviewers merged are one person: the case file holds their acts too.
    let acts = |body: &str| {
        between(body, "Acts against this person (", ")")
            .and_then(|n| n.parse::<usize>().ok())
            .expect("the count of acts")
    };
    let alone = acts(&file.body);
    let others = site.read(|store| {
        store
            .referrers(&girok_model::RecordId::new("p-media-kim"), 1000)
            .expect("referrers")
            .iter()
            .filter(|r| r.kind == "act" && r.field == "victim")
            .count()
    });
    assert!(others > 0, "the demo's media record names acts");
    site.write(|store| {
        store
            .write("reviewer", |sink| {
                sink.apply(girok_model::Change::LinkDecision {
                    same: true,
                    persons: vec![
                        girok_model::RecordId::new("p-un-kim"),
                        girok_model::RecordId::new("p-media-kim"),
                    ],
                    reason: "one witness, two spellings".into(),
                })
                .map(|_| ())
            })
            .expect("merge")
    });
    let merged = site
        .get("/persons/p-un-kim/case-file", Some(&documenter))
        .await;
    assert_eq!(acts(&merged.body), alone + others, "{}", merged.body);
    assert!(
        merged.body.contains("merged by reviewers") && merged.body.contains("p-media-kim"),
        "{}",
        merged.body
    );
    // The list of persons says so beside each of them.
    let listed = site.get("/persons?q=Kim+Eun-joo", Some(&documenter)).await;
    assert!(
        listed.body.contains("one person with 1 other record"),
        "{}",
        listed.body
    );
    // Analysts read it without names; viewers not at all; every read audited.
    let analyst = site.session("analyst").await;
    let redacted = site
        .get("/persons/p-un-kim/case-file", Some(&analyst))
        .await;
    assert_eq!(redacted.status, StatusCode::OK);
    assert!(!redacted.body.contains("Kim Eun-joo"), "{}", redacted.body);
    assert!(redacted.body.contains("Forced repatriation"));
    let viewer = site.session("viewer").await;
    assert_eq!(
        site.get("/persons/p-un-kim/case-file", Some(&viewer))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

/// The case file checks the latest checkpoint each time it is shown: a note
/// that is not the installation's, or one that signed more than the journal
/// holds, is named as such even right after a view that passed.
#[tokio::test]
async fn the_case_files_check_of_the_log_is_made_at_every_view() {
    use girok_journal::checkpoint::{Checkpoint, SignerKey};
    let site = Site::new();
    let documenter = site.session("documenter").await;
    let view = || site.get("/persons/p-un-kim/case-file", Some(&documenter));
    assert!(view().await.body.contains("passes"));
    let (size, root) = site.read(|store| store.tree_head().expect("head"));
    let add = |note: String, at: u64| {
        site.write(|store| store.add_checkpoint(at, &root, &note).expect("checkpoint"))
    };
    let stranger = SignerKey::generate("girok-stranger").expect("key");
    add(
        stranger.sign(&Checkpoint {
            origin: stranger.name().to_string(),
            size,
            root,
        }),
        size + 1,
    );
    let shown = view().await.body;
    assert!(shown.contains("cannot be checked here"), "{shown}");
    assert!(!shown.contains("passes"), "{shown}");
    let ours = girok_service::signer(&site.app.data).expect("installation key");
    add(
        ours.sign(&Checkpoint {
            origin: ours.name().to_string(),
            size: size + 5,
            root,
        }),
        size + 5,
    );
    let shown = view().await.body;
    assert!(
        shown.contains("FAILS: the journal has fewer entries than were signed"),
        "{shown}"
    );
}

#[tokio::test]
async fn the_case_file_is_an_audited_read() {
    let site = Site::encrypted("correct horse battery staple");
    let documenter = site.session("documenter").await;
    let file = site
        .get("/persons/p-un-kim/case-file", Some(&documenter))
        .await;
    assert!(file.body.contains("Kim Eun-joo"), "{}", file.body);
    let audit = girok_service::open_audit_log(&site.app.data).expect("audit");
    let entries = audit.entries().expect("entries");
    let opened: Vec<&String> = entries
        .iter()
        .filter(|e| e.actor == "documenter" && e.action == "GET /persons/p-un-kim/case-file")
        .flat_map(|e| e.subjects.iter())
        .collect();
    for record in ["p-un-kim", "a-un-kim-torture", "s-un-2025-kim"] {
        assert!(
            opened.iter().any(|r| *r == record),
            "{record} in {opened:?}"
        );
    }
}

/// Two more sources of one organisation, spelled two ways, both attesting
/// one act: two lists until the spelling is merged.
fn two_spellings_of_nkdb(site: &Site) {
    let path = site.dir.path().join("nkdb.json");
    std::fs::write(
        &path,
        r#"[
{"type":"source","id":"s-nkdb-survey","kind":"report","title":"NKDB survey 2019","obtained":"2019","organisation":"NKDB"},
{"type":"source","id":"s-nkdb-seoul","kind":"report","title":"Interviews of the Seoul office","obtained":"2020","organisation":"NKDB 서울"},
{"type":"information","id":"f-nkdb-survey","source":"s-nkdb-survey","act":"a-un-kim-torture","reliability":"c","knowledge":"heard-from-victim"},
{"type":"information","id":"f-nkdb-seoul","source":"s-nkdb-seoul","act":"a-un-kim-torture","reliability":"c","knowledge":"heard-from-victim"}
]"#,
    )
    .expect("records");
    site.write(|store| {
        store.write("setup", |sink| {
            girok_interchange::import(&path, sink, &mut |_| {})
        })
    })
    .expect("import");
}

/// The lists (organisations) the act attested by both counts in.
fn lists_of_the_act(site: &Site) -> Vec<String> {
    site.read(|store| {
        let facts = girok_tabulate::Facts::load(store, Default::default()).expect("facts");
        facts
            .acts
            .iter()
            .find(|fact| fact.act.as_str() == "a-un-kim-torture")
            .map(|fact| fact.organisations.clone())
            .unwrap_or_default()
    })
}

#[tokio::test]
async fn an_admin_merges_two_spellings_of_an_organisation_into_one_list() {
    merging_on(&Site::new()).await;
}

#[test]
fn an_admin_merges_two_spellings_of_an_organisation_into_one_list_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(merging_on(&site));
}

async fn merging_on(site: &Site) {
    two_spellings_of_nkdb(site);
    let before_merge = lists_of_the_act(site);
    assert!(
        before_merge.contains(&"NKDB".to_string())
            && before_merge.contains(&"NKDB 서울".to_string()),
        "{before_merge:?}"
    );
    for role in ["viewer", "analyst", "documenter"] {
        let session = site.session(role).await;
        assert_eq!(
            site.get("/admin/organisations", Some(&session))
                .await
                .status,
            StatusCode::FORBIDDEN,
            "{role}"
        );
        let refused = site
            .post_form(
                "/admin/organisations",
                Some(&session),
                &form(&[
                    ("csrf", session.csrf.as_str()),
                    ("action", "merge"),
                    ("spelling", "NKDB 서울"),
                    ("into", "nkdb"),
                ]),
                None,
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{role}");
    }
    let admin = site.session("admin").await;
    let page = site.get("/admin/organisations", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("NKDB 서울") && page.body.contains("its own list"),
        "{}",
        page.body
    );
    let no_csrf = site
        .post_form(
            "/admin/organisations",
            Some(&admin),
            &form(&[
                ("action", "merge"),
                ("spelling", "NKDB 서울"),
                ("into", "nkdb"),
            ]),
            None,
        )
        .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    let before = site.read(|store| store.head().expect("head").0);
    let merged = site
        .post_form(
            "/admin/organisations",
            Some(&admin),
            &form(&[
                ("csrf", admin.csrf.as_str()),
                ("action", "merge"),
                ("spelling", "NKDB 서울"),
                ("into", "nkdb"),
            ]),
            None,
        )
        .await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.body);
    assert!(merged.body.contains("Merged"), "{}", merged.body);
    let after_merge = lists_of_the_act(site);
    assert!(
        after_merge.contains(&"NKDB".to_string())
            && !after_merge.contains(&"NKDB 서울".to_string()),
        "{after_merge:?}"
    );
    assert_eq!(after_merge.len() + 1, before_merge.len());
    // Journaled like every write: one entry, by the admin, signed.
    let entry = site.read(|store| store.recent(1).expect("recent").remove(0));
    assert_eq!(entry.entry.seq, before + 1);
    assert_eq!(entry.entry.actor, "admin");
    match &entry.entry.change {
        girok_model::Change::AddTerm { vocabulary, term } => {
            assert_eq!(*vocabulary, girok_model::VocabKind::Organisation);
            assert_eq!(term.parent.as_deref(), Some("nkdb"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        site.read(|store| store.latest_checkpoint().expect("checkpoint"))
            .map(|(size, _)| size),
        Some(before + 1)
    );
    // A second merge of the same spelling is refused, with nothing written.
    let again = site
        .post_form(
            "/admin/organisations",
            Some(&admin),
            &form(&[
                ("csrf", admin.csrf.as_str()),
                ("action", "merge"),
                ("spelling", "nkdb서울"),
                ("into", "tjwg"),
            ]),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        again.body.contains("already names the organisation"),
        "{}",
        again.body
    );
    assert_eq!(site.read(|store| store.head().expect("head").0), before + 1);
    // The source page names the organisation the spelling was merged into.
    let documenter = site.session("documenter").await;
    let source = site.get("/sources/s-nkdb-seoul", Some(&documenter)).await;
    assert!(
        source.body.contains("NKDB · 북한인권정보센터"),
        "{}",
        source.body
    );
    // The journal replays to the same state, the merge included.
    let report = site.read(|store| store.check(&mut |_, _| {}).expect("check"));
    assert!(report.is_clean(), "{report:?}");
}

#[tokio::test]
async fn forms_record_organisations_of_the_vocabulary() {
    let site = Site::new();
    let admin = site.session("admin").await;
    let added = site
        .post_form(
            "/admin/organisations",
            Some(&admin),
            &form(&[
                ("csrf", admin.csrf.as_str()),
                ("action", "add"),
                ("key", "nk-watch"),
                ("en", "NK Watch"),
                ("ko", "북한인권단체 NK워치"),
            ]),
            None,
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let taken = site
        .post_form(
            "/admin/organisations",
            Some(&admin),
            &form(&[
                ("csrf", admin.csrf.as_str()),
                ("action", "add"),
                ("key", "nk-watch-2"),
                ("en", "NK Watch"),
                ("ko", "엔케이워치"),
            ]),
            None,
        )
        .await;
    assert_eq!(
        taken.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        taken.body
    );
    let documenter = site.session("documenter").await;
    let testimony = |organisation: &str| {
        form(&[
            ("csrf", documenter.csrf.as_str()),
            ("title", "Interview of a former soldier"),
            ("obtained", "2024"),
            ("consent", "internal"),
            ("witness", "Ri Chol"),
            ("sex", "male"),
            ("organisation", organisation),
        ])
    };
    let before = site
        .get("/pick/sources?q=former+soldier", Some(&documenter))
        .await;
    assert_eq!(before.body, "[]");
    let unknown = site
        .post_form(
            "/sources",
            Some(&documenter),
            &testimony("Atlantis Watch"),
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unknown.body.contains("id=\"organisation-error\"")
            && unknown.body.contains("value=\"Atlantis Watch\"")
    );
    let saved = site
        .post_form(
            "/sources",
            Some(&documenter),
            &testimony("Transitional Justice Working Group"),
            None,
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    // The title index follows the journal: the new source is found at once.
    let found = site
        .get("/pick/sources?q=former+soldier", Some(&documenter))
        .await;
    assert!(
        found.body.contains("Interview of a former soldier (2024)"),
        "{}",
        found.body
    );
    let organisations =
        site.read(|store| girok_service::organisations::in_use(store).expect("in use"));
    assert!(
        organisations
            .iter()
            .any(|o| o.text == "tjwg" && o.sources == 1),
        "the key is recorded: {organisations:?}"
    );
    // Free text of an import still reads, as its own list.
    assert!(
        organisations
            .iter()
            .any(|o| o.text == "News media" && o.term.is_none())
    );
    let edit = site
        .get("/records/s-media-2025/edit", Some(&documenter))
        .await;
    assert!(edit.body.contains("id=\"organisation-terms\"") && edit.body.contains("NK Watch"));
}
