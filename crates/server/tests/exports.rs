//! Exports from the browser, over HTTP in process: written by a background
//! job and kept for their maker; internal exports for documenters only;
//! partners' exports pseudonymised; the public report one HTML page with no
//! name; every download recorded in the audit
//! log before it is sent; an internal export of an encrypted database kept
//! sealed, with no name at rest; a record's proof bundle, one archive that
//! verifies with the installation's key alone; a backup made for an admin
//! under a passphrase that is never kept, which opens with it alone.

use std::time::{Duration, Instant};

use axum::http::{StatusCode, header};
use girok_service::exports::{ExportParameters, Layout};
use girok_store::Store;

#[path = "../../store/tests/support/cluster.rs"]
mod cluster;
mod support;

use support::*;

const WITNESS: &str = "Kim Eun-joo";

/// Starts an export from the form; returns its job's number.
async fn start_export(site: &Site, session: &Session, form: &str) -> u64 {
    let started = site
        .post(
            "/exports",
            session,
            &format!("csrf={}&{form}", session.csrf),
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let at = location(&started);
    at.strip_prefix("/exports#export-")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("followed at {at}"))
}

/// Follows the exports page until export `id` has ended; returns the page.
async fn wait_for_export(site: &Site, session: &Session, id: u64) -> Reply {
    let started = Instant::now();
    loop {
        let page = site.get("/exports", Some(session)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let state = between(&page.body, &format!("id=\"state-{id}\">"), "<").unwrap_or_default();
        if !["Queued", "Running"].contains(&state) {
            return page;
        }
        assert!(page.body.contains("data-refresh=\"2\""));
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "export {id} did not end: {}",
            page.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The export the command line writes, for comparison.
fn written_by_the_command_line(site: &Site, parameters: &ExportParameters) -> String {
    let data = site.dir.path().to_path_buf();
    site.read(|store| {
        let mut out = Vec::new();
        girok_service::exports::write(store, &data, parameters, &mut out, &mut || {})
            .expect("export");
        String::from_utf8(out).expect("text")
    })
}

/// The audit log's entries whose action ends with `action`.
fn audited(site: &Site, action: &str) -> Vec<girok_store::AuditEntry> {
    off_runtime(|| {
        girok_service::open_audit_log(site.dir.path())
            .expect("audit")
            .entries()
            .expect("entries")
            .into_iter()
            .filter(|entry| entry.action.ends_with(action))
            .collect()
    })
}

fn downloads_in_audit_log(site: &Site) -> Vec<girok_store::AuditEntry> {
    audited(site, "/download")
}

#[tokio::test]
async fn exports_are_made_in_the_background_and_each_download_is_audited() {
    exports_are_made_in_the_background_and_each_download_is_audited_on(&Site::new()).await;
}

#[test]
fn exports_are_made_in_the_background_and_each_download_is_audited_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(exports_are_made_in_the_background_and_each_download_is_audited_on(&site));
}

async fn exports_are_made_in_the_background_and_each_download_is_audited_on(site: &Site) {
    let viewer = site.session("viewer").await;
    assert_eq!(
        site.get("/exports", Some(&viewer)).await.status,
        StatusCode::FORBIDDEN
    );
    let analyst = site.session("analyst").await;
    let form = site.get("/exports", Some(&analyst)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains("value=\"partners\"") && !form.body.contains("value=\"internal\""),
        "an analyst is offered no internal export: {}",
        form.body
    );
    // Refusals keep what was typed, name the field and start nothing.
    let refused = site
        .post(
            "/exports",
            &analyst,
            &format!("csrf={}&layout=csv&audience=internal", analyst.csrf),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("witnesses&#39; names") || refused.body.contains("witnesses' names"),
        "{}",
        refused.body
    );
    let refused = site
        .post(
            "/exports",
            &analyst,
            &format!(
                "csrf={}&layout=csv&audience=partners&min_cell=none",
                analyst.csrf
            ),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("value=\"none\"") && refused.body.contains("aria-invalid=\"true\""),
        "{}",
        refused.body
    );
    let korean = site
        .post_form(
            "/exports",
            Some(&analyst),
            &format!("csrf={}&layout=xml&audience=partners", analyst.csrf),
            Some("girok_lang=ko".into()),
        )
        .await;
    assert!(korean.body.contains("형식을 고르십시오"), "{}", korean.body);
    let forged = site
        .post(
            "/exports",
            &analyst,
            "csrf=forged&layout=csv&audience=partners",
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(downloads_in_audit_log(site).is_empty());
    assert!(
        site.get("/exports", Some(&analyst))
            .await
            .body
            .contains("You have made no export yet")
    );

    // A documenter's internal CSV is the command line's, byte for byte.
    let documenter = site.session("documenter").await;
    let internal = start_export(
        site,
        &documenter,
        "layout=csv&audience=internal&korean_headers=on",
    )
    .await;
    let page = wait_for_export(site, &documenter, internal).await;
    assert!(
        page.body.contains(&format!("id=\"download-{internal}\"")),
        "{}",
        page.body
    );
    let download = format!("/exports/{internal}/download");
    let file = site.get(&download, Some(&documenter)).await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    assert!(
        file.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .expect("header")
            .starts_with("attachment; filename=\"girok-internal-")
    );
    let expected = written_by_the_command_line(
        site,
        &ExportParameters {
            layout: Layout::Csv,
            audience: "internal".into(),
            korean_headers: true,
            min_cell: 5,
        },
    );
    assert_eq!(file.body, expected);
    assert!(file.body.contains(WITNESS));
    let audited = downloads_in_audit_log(site);
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert_eq!(audited[0].actor, "documenter");
    assert!(
        audited[0].subjects[0].starts_with(&format!("export {internal}: girok-internal-")),
        "{audited:?}"
    );
    // Someone else's export is not there for an analyst.
    let theirs = site.get(&download, Some(&analyst)).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(downloads_in_audit_log(site).len(), 1);

    // An analyst's partners' export: pseudonymised, no name in it.
    let partners = start_export(site, &analyst, "layout=json&audience=partners&min_cell=2").await;
    let page = wait_for_export(site, &analyst, partners).await;
    assert!(page.body.contains("fewer than 2 alike"), "{}", page.body);
    let file = site
        .get(&format!("/exports/{partners}/download"), Some(&analyst))
        .await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    let records: Vec<serde_json::Value> = serde_json::from_str(&file.body).expect("JSON");
    assert!(!records.is_empty());
    assert!(!file.body.contains(WITNESS) && !file.body.contains("김은주"));
    assert_eq!(downloads_in_audit_log(site).len(), 2);

    // The public report: one HTML page of the published tables, no name,
    // handed out and audited as any export.
    let report = start_export(site, &analyst, "layout=html&audience=public").await;
    let page = wait_for_export(site, &analyst, report).await;
    assert!(page.body.contains("tables,"), "{}", page.body);
    let file = site
        .get(&format!("/exports/{report}/download"), Some(&analyst))
        .await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    assert!(
        file.headers[header::CONTENT_TYPE]
            .to_str()
            .expect("header")
            .starts_with("text/html")
    );
    assert!(
        file.body.starts_with("<!DOCTYPE html>")
            && file.body.contains("Girok report")
            && file.body.contains("These are the published tables"),
        "{}",
        file.body
    );
    assert!(!file.body.contains(WITNESS) && !file.body.contains("김은주"));
    assert_eq!(downloads_in_audit_log(site).len(), 3);
    let korean = site.get_in("/exports", &analyst, "ko").await;
    assert!(
        korean.body.contains("내보내기가 준비되었습니다"),
        "{}",
        korean.body
    );
}

#[tokio::test]
async fn an_internal_export_of_an_encrypted_database_is_kept_sealed() {
    let site = Site::encrypted("a long passphrase for the test");
    let documenter = site.session("documenter").await;
    let id = start_export(&site, &documenter, "layout=jsonl&audience=internal").await;
    wait_for_export(&site, &documenter, id).await;
    let kept: Vec<_> = std::fs::read_dir(site.dir.path().join("exports"))
        .expect("kept exports")
        .flatten()
        .map(|entry| std::fs::read(entry.path()).expect("read"))
        .collect();
    assert_eq!(kept.len(), 1);
    let at_rest = String::from_utf8_lossy(&kept[0]);
    assert!(!at_rest.contains(WITNESS) && !at_rest.contains("Eun-joo"));
    let file = site
        .get(&format!("/exports/{id}/download"), Some(&documenter))
        .await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    assert!(file.body.contains(WITNESS), "the download is opened");

    // Locked again, the export cannot be opened, and nothing is handed out.
    off_runtime(|| site.app.lock());
    let locked = site
        .get(&format!("/exports/{id}/download"), Some(&documenter))
        .await;
    assert_eq!(locked.status, StatusCode::CONFLICT, "{}", locked.body);
    assert!(!locked.body.contains(WITNESS));
}

/// A documenter downloads a record's proof bundle: one tar archive that,
/// unpacked, verifies with nothing but the installation's key; the download
/// is in the audit log; analysts, forged forms and unknown records get none.
#[tokio::test]
async fn a_records_proof_bundle_downloads_as_one_archive_that_verifies() {
    let site = Site::new();
    let analyst = site.session("analyst").await;
    let refused = site
        .post(
            "/records/p-un-kim/proof",
            &analyst,
            &format!("csrf={}", analyst.csrf),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let documenter = site.session("documenter").await;
    let page = site.get("/persons/p-un-kim", Some(&documenter)).await;
    assert!(
        page.body.contains("action=\"/records/p-un-kim/proof\""),
        "{}",
        page.body
    );
    let forged = site
        .post("/records/p-un-kim/proof", &documenter, "csrf=forged")
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let missing = site
        .post(
            "/records/p-nobody/proof",
            &documenter,
            &format!("csrf={}", documenter.csrf),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(audited(&site, "/proof").is_empty());

    let bundle = site
        .post(
            "/records/p-un-kim/proof",
            &documenter,
            &format!("csrf={}", documenter.csrf),
        )
        .await;
    assert_eq!(bundle.status, StatusCode::OK, "{}", bundle.body);
    assert_eq!(bundle.headers[header::CONTENT_TYPE], "application/x-tar");
    assert_eq!(
        bundle.headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"girok-proof-p-un-kim.tar\""
    );
    let unpacked = tempfile::tempdir().expect("dir");
    tar::Archive::new(bundle.bytes.as_slice())
        .unpack(unpacked.path())
        .expect("a tar archive");
    let key = girok_service::verifier(site.dir.path()).expect("key");
    let report = girok_journal::bundle::verify(&unpacked.path().join("girok-proof-p-un-kim"), &key)
        .expect("the bundle verifies");
    assert_eq!(report.record.as_str(), "p-un-kim");
    assert!(report.entries >= 1);
    let taken = audited(&site, "/proof");
    assert_eq!(taken.len(), 1, "{taken:?}");
    assert_eq!(taken[0].actor, "documenter");
    assert!(
        taken[0].subjects[0].starts_with("proof bundle of p-un-kim"),
        "{taken:?}"
    );
}

/// Follows the backups page until backup `id` has ended; returns the page.
async fn wait_for_backup(site: &Site, admin: &Session, id: u64) -> Reply {
    let started = Instant::now();
    loop {
        let page = site.get("/admin/backups", Some(admin)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let state = between(&page.body, &format!("id=\"state-{id}\">"), "<").unwrap_or_default();
        if !["Queued", "Running"].contains(&state) {
            return page;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "backup {id} did not end: {}",
            page.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_admin_backs_up_from_the_browser_under_a_passphrase_that_is_never_kept() {
    an_admin_backs_up_from_the_browser_on(&Site::new()).await;
}

#[test]
fn an_admin_backs_up_from_the_browser_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(an_admin_backs_up_from_the_browser_on(&site));
}

async fn an_admin_backs_up_from_the_browser_on(site: &Site) {
    const PASSPHRASE: &str = "correct horse battery staple";
    let documenter = site.session("documenter").await;
    assert_eq!(
        site.get("/admin/backups", Some(&documenter)).await.status,
        StatusCode::FORBIDDEN
    );
    let admin = site.session("admin").await;
    let page = site.get("/admin/backups", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("You have made no backup yet"),
        "{}",
        page.body
    );

    // Refused at the field, the passphrase never sent back, nothing started.
    for (form, field) in [
        (
            "passphrase=short&passphrase_again=short",
            "passphrase-error",
        ),
        (
            "passphrase=correct+horse+battery+staple&passphrase_again=correct+horse+battery+stapel",
            "passphrase_again-error",
        ),
    ] {
        let refused = site
            .post(
                "/admin/backups",
                &admin,
                &format!("csrf={}&{form}", admin.csrf),
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert!(
            refused.body.contains(&format!("id=\"{field}\"")),
            "{}",
            refused.body
        );
        assert!(!refused.body.contains("short") && !refused.body.contains("horse"));
    }
    let korean = site
        .post_form(
            "/admin/backups",
            Some(&admin),
            &format!(
                "csrf={}&passphrase=short&passphrase_again=short",
                admin.csrf
            ),
            Some("girok_lang=ko".into()),
        )
        .await;
    assert!(korean.body.contains("12자 이상"), "{}", korean.body);
    let forged = site
        .post(
            "/admin/backups",
            &admin,
            "csrf=forged&passphrase=correct+horse+battery+staple&passphrase_again=correct+horse+battery+staple",
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let no_job = off_runtime(|| {
        girok_service::open_jobs(site.dir.path())
            .expect("jobs")
            .recent(10)
            .expect("recent")
    });
    assert!(no_job.is_empty(), "{no_job:?}");

    // An export waiting for its download is not part of the backup.
    let export = start_export(site, &documenter, "layout=json&audience=internal").await;
    wait_for_export(site, &documenter, export).await;
    let started = site
        .post(
            "/admin/backups",
            &admin,
            &format!(
                "csrf={}&passphrase=correct+horse+battery+staple&passphrase_again=correct+horse+battery+staple",
                admin.csrf
            ),
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let at = location(&started);
    let id: u64 = at
        .strip_prefix("/admin/backups#backup-")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("followed at {at}"));
    let page = wait_for_backup(site, &admin, id).await;
    assert!(
        page.body.contains(&format!("id=\"download-backup-{id}\"")),
        "{}",
        page.body
    );
    // The passphrase is in no table: the job's parameters are empty.
    let job = off_runtime(|| {
        girok_service::open_jobs(site.dir.path())
            .expect("jobs")
            .get(id)
            .expect("job")
            .expect("there")
    });
    assert!(job.parameters.is_empty() && !format!("{job:?}").contains("horse"));
    // It is not run again: its passphrase is gone.
    let again = site
        .post(
            &format!("/jobs/{id}/again"),
            &admin,
            &format!("csrf={}", admin.csrf),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);

    // Another admin neither sees its link nor downloads it, and nothing is audited.
    site.app.with_access(|access| {
        access
            .add_user("second-admin", girok_server::access::Role::Admin, PASSWORD)
            .expect("user")
    });
    let other = site.session("second-admin").await;
    let download = format!("/admin/backups/{id}/download");
    assert_eq!(
        site.get(&download, Some(&other)).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(audited(site, &format!("/admin/backups/{id}/download")).is_empty());

    let file = site.get(&download, Some(&admin)).await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    assert!(
        file.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .expect("header")
            .starts_with("attachment; filename=\"girok-")
    );
    let taken = audited(site, &format!("/admin/backups/{id}/download"));
    assert_eq!(taken.len(), 1, "{taken:?}");
    assert_eq!(taken[0].actor, "admin");
    assert!(
        !file
            .bytes
            .windows(WITNESS.len())
            .any(|w| w == WITNESS.as_bytes())
    );

    // It opens with the passphrase alone, holds the journal as it stood, and
    // leaves out the jobs' table and the files kept for downloads.
    let wrong = girok_store::Unlock::Passphrase("not the passphrase at all".into());
    let refused = match girok_vault::stream::open_backup(&file.bytes[..], &wrong) {
        Err(_) => true,
        Ok((_, mut reader)) => std::io::Read::read_to_end(&mut reader, &mut Vec::new()).is_err(),
    };
    assert!(refused, "a wrong passphrase opens the backup");
    let secret = girok_store::Unlock::Passphrase(PASSPHRASE.into());
    let (header, mut reader) =
        girok_vault::stream::open_backup(&file.bytes[..], &secret).expect("opens");
    let unpacked = tempfile::tempdir().expect("dir");
    tar::Archive::new(&mut reader)
        .unpack(unpacked.path())
        .expect("unpacks");
    std::io::copy(&mut reader, &mut std::io::sink()).expect("authenticates to its end");
    let (size, root) = site.read(|store| store.tree_head().expect("head"));
    assert!(header.journal_size <= size && header.journal_size > 0);
    let restored = girok_store::Database::open(&unpacked.path().join("girok.sqlite")).expect("db");
    let (restored_size, restored_root) = restored.tree_head().expect("head");
    assert_eq!(restored_size, header.journal_size);
    assert_eq!(hex::encode(restored_root), header.root);
    if restored_size == size {
        assert_eq!(restored_root, root);
    }
    let persons = |store: &girok_store::Database| {
        store.count(girok_model::RecordKind::Person).expect("count")
    };
    assert!(persons(&restored) > 0);
    assert_eq!(persons(&restored), site.read(persons));
    if site.postgres_url().is_none() {
        assert!(
            site.dir.path().join("exports").exists()
                && site.dir.path().join("jobs.sqlite").exists()
        );
    }
    for left_out in ["jobs.sqlite", "backups", "exports"] {
        assert!(
            !unpacked.path().join(left_out).exists(),
            "{left_out} in the backup"
        );
    }
    assert!(unpacked.path().join("girok.key").exists());
}
