//! Background jobs over HTTP, in process: linkage started from the review
//! page runs on a thread of the server and is followed on its page; one at
//! a time per database; a job whose server died shows as interrupted to
//! every server and runs again; the web's linkage keeps the command line's
//! proposals; merged persons are unmerged from their page and the queue.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use girok_server::App;
use girok_service::jobs::{JobKind, JobState, Jobs};
use girok_store::{Database, Store, StoredProposal};

#[path = "../../store/tests/support/cluster.rs"]
mod cluster;
mod support;

use support::*;

/// What these tests need of a site beyond what every HTTP test does.
trait JobSite {
    fn with_jobs<T: Send>(&self, work: impl FnOnce(&Jobs) -> T + Send) -> T;
    fn lapse(&self, id: u64);
    async fn wait_for(&self, app: &Arc<App>, job: &str, session: &Session) -> Reply;
}

impl JobSite for Site {
    /// Works on the jobs as another process opens them, off the async runtime.
    fn with_jobs<T: Send>(&self, work: impl FnOnce(&Jobs) -> T + Send) -> T {
        off_runtime(|| work(&girok_service::open_jobs(self.dir.path()).expect("jobs")))
    }

    /// Makes job `id`'s lease lapse, as when the process running it is killed.
    fn lapse(&self, id: u64) {
        let sql = "UPDATE job SET lease_until = 0 WHERE id = ";
        match self.postgres_url() {
            Some(url) => off_runtime(|| {
                postgres::Client::connect(&url, postgres::NoTls)
                    .expect("jobs")
                    .execute(&format!("{sql}{id}"), &[])
                    .expect("lapse");
            }),
            None => {
                rusqlite::Connection::open(self.dir.path().join(girok_service::JOBS_FILE))
                    .expect("jobs")
                    .execute(&format!("{sql}{id}"), [])
                    .expect("lapse");
            }
        }
    }

    /// Follows a job's page until it ends; returns the last page.
    async fn wait_for(&self, app: &Arc<App>, job: &str, session: &Session) -> Reply {
        let started = Instant::now();
        loop {
            let page = get_from(app, job, Some(session)).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            let state = between(&page.body, "id=\"job-state\">", "<").unwrap_or_default();
            if !["Queued", "Running"].contains(&state) {
                return page;
            }
            assert!(
                page.body.contains("data-refresh=\"2\""),
                "a job in progress reloads its page"
            );
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "{job} did not end: {}",
                page.body
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The proposals as stored, without their numbers' run.
fn proposals(store: &Database) -> Vec<StoredProposal> {
    let count = store.link_proposal_count().expect("count");
    (1..=count)
        .map(|n| store.link_proposal(n).expect("proposal").expect("numbered"))
        .collect()
}

#[tokio::test]
async fn documenters_run_linkage_from_the_review_page_and_follow_its_job() {
    documenters_run_linkage_from_the_review_page_and_follow_its_job_on(&Site::new()).await;
}

#[test]
fn documenters_run_linkage_from_the_review_page_and_follow_its_job_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(documenters_run_linkage_from_the_review_page_and_follow_its_job_on(&site));
}

async fn documenters_run_linkage_from_the_review_page_and_follow_its_job_on(site: &Site) {
    // Viewers and analysts neither start nor see jobs.
    for name in ["viewer", "analyst"] {
        let session = site.session(name).await;
        for path in ["/jobs", "/jobs/1"] {
            let page = site.get(path, Some(&session)).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{name} {path}");
        }
        for path in ["/review/link", "/jobs/1/again"] {
            let reply = site
                .post(path, &session, &format!("csrf={}", session.csrf))
                .await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{name} {path}");
        }
    }
    let documenter = site.session("documenter").await;
    let queue = site.get("/review", Some(&documenter)).await;
    assert!(
        queue.body.contains("id=\"run-linkage\"") && queue.body.contains("action=\"/review/link\""),
        "{}",
        queue.body
    );
    let jobs = site.get("/jobs", Some(&documenter)).await;
    assert!(jobs.body.contains("No job has run yet"), "{}", jobs.body);
    let forged = site.post("/review/link", &documenter, "csrf=forged").await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(site.with_jobs(|jobs| jobs.recent(10).expect("jobs").is_empty()));

    // The request returns at once and sends the browser to the job's page.
    let before = site.read(|store| store.head().expect("head").0);
    let started = site
        .post(
            "/review/link",
            &documenter,
            &format!("csrf={}", documenter.csrf),
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let job = location(&started);
    assert_eq!(job, "/jobs/1");
    let done = site.wait_for(&site.app, &job, &documenter).await;
    assert!(
        done.body.contains("id=\"job-state\">Done<"),
        "{}",
        done.body
    );
    assert!(!done.body.contains("data-refresh"));
    let stored = site.read(proposals);
    assert!(
        !stored.is_empty(),
        "the demo has a witness under three spellings"
    );
    assert_eq!(
        between(&done.body, "id=\"new-proposals\">", "<"),
        Some(stored.len().to_string().as_str()),
        "{}",
        done.body
    );
    assert!(done.body.contains("href=\"/review\" id=\"to-review\""));
    // Linkage writes no journal entry: proposals are derived data.
    assert_eq!(site.read(|store| store.head().expect("head").0), before);
    let queue = site.get("/review", Some(&documenter)).await;
    assert!(queue.body.contains("/review/1"), "{}", queue.body);
    let korean = site.get_in(&job, &documenter, "ko").await;
    assert!(
        korean.body.contains("완료") && korean.body.contains("검토 목록 열기"),
        "{}",
        korean.body
    );

    // One linkage at a time per database: a job another server holds refuses a second.
    let runner = "another-server";
    let held = site.with_jobs(|jobs| {
        jobs.start(
            JobKind::Linkage,
            "{\"link_probability\":0.2}",
            "documenter",
            runner,
            None,
        )
        .expect("start")
        .expect("none runs")
    });
    let queue = site.get("/review", Some(&documenter)).await;
    assert!(
        queue.body.contains(&format!("href=\"/jobs/{held}\""))
            && !queue.body.contains("id=\"run-linkage\""),
        "{}",
        queue.body
    );
    let refused = site
        .post(
            "/review/link",
            &documenter,
            &format!("csrf={}", documenter.csrf),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.body.contains("Linkage is running already")
            && refused.body.contains(&format!("href=\"/jobs/{held}\"")),
        "{}",
        refused.body
    );
    let waiting = site.get(&format!("/jobs/{held}"), Some(&documenter)).await;
    assert!(
        waiting.body.contains("id=\"job-state\">Queued<"),
        "{}",
        waiting.body
    );
    let early = site
        .post(
            &format!("/jobs/{held}/again"),
            &documenter,
            &format!("csrf={}", documenter.csrf),
        )
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.body);

    // Its server dies: its lease lapses, every server shows it interrupted,
    // and an admin runs it again from another server.
    site.lapse(held);
    let other = site.other_server();
    let admin = site.session("admin").await;
    let interrupted = get_from(&other, &format!("/jobs/{held}"), Some(&admin)).await;
    assert!(
        interrupted.body.contains("id=\"job-state\">Interrupted<")
            && interrupted.body.contains("id=\"run-again\""),
        "{}",
        interrupted.body
    );
    let listed = get_from(&other, "/jobs", Some(&admin)).await;
    assert!(
        listed.body.contains("Interrupted") && listed.body.contains("Done"),
        "{}",
        listed.body
    );
    let again = post_to(
        &other,
        &format!("/jobs/{held}/again"),
        &admin,
        &format!("csrf={}", admin.csrf),
    )
    .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    let rerun = location(&again);
    assert_ne!(rerun, format!("/jobs/{held}"));
    let done = site.wait_for(&other, &rerun, &admin).await;
    assert!(
        done.body.contains("id=\"job-state\">Done<"),
        "{}",
        done.body
    );
    assert!(
        done.body.contains(&format!("href=\"/jobs/{held}\"")),
        "the new job names the one it runs again: {}",
        done.body
    );
    // A PostgreSQL client is dropped off the runtime, as `girok serve` drops it.
    off_runtime(move || drop(other));
    let rerun_id: u64 = rerun.trim_start_matches("/jobs/").parse().expect("id");
    let job = site.with_jobs(|jobs| jobs.get(rerun_id).expect("job").expect("kept"));
    assert_eq!(
        (job.state, job.started_by.as_str(), job.again_of),
        (JobState::Done, "admin", Some(held))
    );
    // Its last beat wrote its last phase with its counts: every proposal stored.
    let kept = site.read(|store| store.link_proposal_count().expect("count"));
    assert_eq!(
        (job.phase, job.done, job.total),
        (girok_service::jobs::Phase::StoringProposals, kept, kept)
    );
    assert_eq!(
        site.with_jobs(|jobs| jobs.get(held).expect("job").expect("kept").state),
        JobState::Interrupted
    );
    // A finished job is not run again.
    let finished = site
        .post(
            &format!("/jobs/{rerun_id}/again"),
            &documenter,
            &format!("csrf={}", documenter.csrf),
        )
        .await;
    assert_eq!(finished.status, StatusCode::CONFLICT);
    assert_eq!(
        site.get("/jobs/999", Some(&documenter)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn linkage_run_from_the_web_keeps_the_proposals_of_the_command_line() {
    let web = Site::new();
    let documenter = web.session("documenter").await;
    let started = web
        .post(
            "/review/link",
            &documenter,
            &format!("csrf={}", documenter.csrf),
        )
        .await;
    let done = web
        .wait_for(&web.app, &location(&started), &documenter)
        .await;
    assert!(
        done.body.contains("id=\"job-state\">Done<"),
        "{}",
        done.body
    );
    let from_the_web = web.read(proposals);

    // The same data linked as `girok link` links it.
    let command_line = Site::new();
    let store = girok_service::open(command_line.dir.path()).expect("open");
    let linked = girok_service::linkage::link(
        &store,
        girok_service::linkage::LinkageParameters::default().link_probability,
        &girok_service::jobs::Progress::default(),
    )
    .expect("link");
    assert_eq!(linked.proposals.len(), from_the_web.len());
    assert_eq!(proposals(&store), from_the_web);
    assert!(!from_the_web.is_empty());
}

#[tokio::test]
async fn a_locked_database_refuses_linkage_and_says_why() {
    let passphrase = "correct horse battery staple";
    let site = Site::encrypted(passphrase);
    site.app.lock();
    let documenter = site.session("documenter").await;
    let refused = site
        .post(
            "/review/link",
            &documenter,
            &format!("csrf={}", documenter.csrf),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.body.contains("encrypted and locked"),
        "{}",
        refused.body
    );
    assert!(site.with_jobs(|jobs| jobs.recent(10).expect("jobs").is_empty()));
    site.app
        .unlock(&girok_store::Unlock::Passphrase(passphrase.into()))
        .expect("unlock");
    let started = site
        .post(
            "/review/link",
            &documenter,
            &format!("csrf={}", documenter.csrf),
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
}

fn same_pairs(site: &Site) -> usize {
    site.read(|store| store.link_decisions().expect("decisions").same.len())
}

#[tokio::test]
async fn merged_persons_are_unmerged_from_their_page_and_from_the_review_queue() {
    merged_persons_are_unmerged_from_their_page_and_from_the_review_queue_on(&Site::new()).await;
}

#[test]
fn merged_persons_are_unmerged_from_their_page_and_from_the_review_queue_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(merged_persons_are_unmerged_from_their_page_and_from_the_review_queue_on(&site));
}

async fn merged_persons_are_unmerged_from_their_page_and_from_the_review_queue_on(site: &Site) {
    propose(site, "p-media-kim", "p-un-kim");
    let documenter = site.session("documenter").await;
    let analyst = site.session("analyst").await;
    let confirm = site
        .post(
            "/review/1",
            &documenter,
            &format!("csrf={}&decision=same&reason=same+witness", documenter.csrf),
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert_eq!(same_pairs(site), 1);

    // A documenter is offered the unmerge on the person's page; an analyst sees the merge only.
    let person = site.get("/persons/p-un-kim", Some(&documenter)).await;
    assert!(
        person.body.contains("href=\"/persons/p-media-kim\"")
            && person.body.contains("action=\"/persons/p-un-kim/unmerge\""),
        "{}",
        person.body
    );
    let possible = between(&person.body, "Possible duplicates", "</section>").unwrap_or_default();
    assert!(
        !possible.contains("p-media-kim"),
        "a merged record is no longer a possible duplicate: {possible}"
    );
    let seen = site.get("/persons/p-un-kim", Some(&analyst)).await;
    assert!(seen.body.contains("Merged by reviewers") && !seen.body.contains("/unmerge"));

    // "Different persons" of merged records offers the unmerge, and records nothing.
    let before = site.read(|store| store.head().expect("head").0);
    let offered = site
        .post(
            "/review/1",
            &documenter,
            &format!(
                "csrf={}&decision=different&reason=two+people",
                documenter.csrf
            ),
        )
        .await;
    assert_eq!(offered.status, StatusCode::OK, "{}", offered.body);
    assert!(
        offered
            .body
            .contains("These records are merged as one person")
            && offered.body.contains("value=\"unmerge-different\"")
            && offered
                .body
                .contains("action=\"/persons/p-media-kim/unmerge\""),
        "{}",
        offered.body
    );
    assert_eq!(site.read(|store| store.head().expect("head").0), before);

    // Unmerging needs the role, the token and a reason.
    let unmerge = |csrf: &str, reason: &str| format!("csrf={csrf}&reason={reason}");
    let refused = site
        .post(
            "/persons/p-un-kim/unmerge",
            &analyst,
            &unmerge(&analyst.csrf, "wrong"),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let forged = site
        .post(
            "/persons/p-un-kim/unmerge",
            &documenter,
            &unmerge("forged", "wrong"),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let unreasoned = site
        .post(
            "/persons/p-un-kim/unmerge",
            &documenter,
            &unmerge(&documenter.csrf, ""),
        )
        .await;
    assert_eq!(unreasoned.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(site.read(|store| store.head().expect("head").0), before);
    assert_eq!(same_pairs(site), 1);

    // From the person's page: the unmerge is a journal change by the documenter.
    let unmerged = site
        .post(
            "/persons/p-un-kim/unmerge",
            &documenter,
            &unmerge(&documenter.csrf, "different+birth+years"),
        )
        .await;
    assert_eq!(unmerged.status, StatusCode::OK, "{}", unmerged.body);
    assert!(unmerged.body.contains("Unmerged."), "{}", unmerged.body);
    assert_eq!(same_pairs(site), 0);
    let last = site.read(|store| store.recent(1).expect("recent"));
    assert_eq!(last[0].entry.actor, "documenter");
    assert!(matches!(
        last[0].entry.change,
        girok_model::Change::Unlink { .. }
    ));
    let alone = site.get("/persons/p-un-kim", Some(&documenter)).await;
    assert!(
        !alone.body.contains("Merged by reviewers"),
        "{}",
        alone.body
    );
    // Nothing left to unmerge is refused, naming why.
    let again = site
        .post(
            "/persons/p-un-kim/unmerge",
            &documenter,
            &unmerge(&documenter.csrf, "again"),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("no linkage decision names p-un-kim"));

    // Merged again, then from the review page: unmerged and kept apart in one batch.
    let write = |store: &mut Database| {
        store
            .write("documenter", |sink| {
                sink.apply(girok_linkage::proposals::decide(
                    &[
                        girok_model::RecordId::new("p-media-kim"),
                        girok_model::RecordId::new("p-un-kim"),
                    ],
                    true,
                    "same after all",
                ))
            })
            .expect("merge")
    };
    off_runtime(|| site.app.write(write));
    assert_eq!(same_pairs(site), 1);
    let apart = site
        .post(
            "/review/1",
            &documenter,
            &format!(
                "csrf={}&decision=unmerge-different&reason=two+people",
                documenter.csrf
            ),
        )
        .await;
    assert_eq!(apart.status, StatusCode::OK, "{}", apart.body);
    assert!(
        apart.body.contains("Recorded as journal entry"),
        "{}",
        apart.body
    );
    let decisions = site.read(|store| store.link_decisions().expect("decisions"));
    assert!(decisions.same.is_empty());
    assert_eq!(decisions.different.len(), 1);

    // The single unmerge of a proposal's page comes back to it.
    off_runtime(|| {
        site.app.write(|store| {
            store
                .write("documenter", |sink| {
                    sink.apply(girok_model::Change::Unlink {
                        person: girok_model::RecordId::new("p-un-kim"),
                        reason: "reset".into(),
                    })
                })
                .expect("reset")
        })
    });
    off_runtime(|| site.app.write(write));
    let back = site
        .post(
            "/persons/p-media-kim/unmerge",
            &documenter,
            &format!("csrf={}&reason=wrong&back=/review/1", documenter.csrf),
        )
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert_eq!(location(&back), "/review/1?unmerged=p-media-kim");
    let shown = site.get(&location(&back), Some(&documenter)).await;
    assert!(
        shown.body.contains("Unmerged: p-media-kim"),
        "{}",
        shown.body
    );
    // An address elsewhere is not followed.
    off_runtime(|| site.app.write(write));
    let elsewhere = site
        .post(
            "/persons/p-media-kim/unmerge",
            &documenter,
            &format!(
                "csrf={}&reason=wrong&back=//elsewhere.example/",
                documenter.csrf
            ),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::OK, "{}", elsewhere.body);
}
