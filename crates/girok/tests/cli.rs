//! The command line as a user meets it: every class of bad input gets a clear
//! message and changes nothing; kills and concurrent writers lose nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

mod support;
use support::{fails, girok, ok, text};

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let fixture = Fixture {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        ok(&fixture.data(), &["init"]);
        fixture
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn file(&self, name: &str, contents: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("write");
        path.to_string_lossy().into_owned()
    }

    fn journal_length(&self) -> u64 {
        let out = ok(&self.data(), &["check"]);
        let words: Vec<&str> = out.split_whitespace().collect();
        let at = words.iter().position(|w| *w == "Checked").expect("Checked");
        words[at + 1].parse().expect("entry count")
    }
}

const CSV_EN: &str = "source_id,source_title,consent,victim_id,victim_names,sex,act_type,act_date,act_place,agency,relation\n\
s1,Interview with a mother,internal,p1,김은주;Kim Eun-joo,여성,arrest,2020년 5월,Hoeryŏng,국가보위성,child\n\
s1,,,p1,,,detention,summer 2020,회령,MSS;border guards,child\n\
s1,,,p2,Pak Tong Gu,male,enforced-disappearance,c. 2019,Musan,,neighbour\n";

const CSV_KO: &str = "출처ID,출처제목,동의범위,피해자ID,피해자이름,행위유형,행위일시,행위장소,가해기관\n\
s2,증언 2,partners,p3,리영호,공개처형,covid-border-closure,혜산,보위부\n";

#[test]
fn the_demo_builds_a_database_that_checks_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let demo = dir.path().join("demo");
    let output = Command::new(env!("CARGO_BIN_EXE_girok"))
        .args(["demo", "--no-serve", "--dir"])
        .arg(&demo)
        .output()
        .expect("demo");
    let out = text(&output);
    assert!(output.status.success(), "{out}");
    assert!(
        out.contains("Kim Eun-joo") && out.contains("Eunju Kim") && out.contains("김은주"),
        "{out}"
    );
    assert!(out.contains("Public execution / 공개처형"), "{out}");
    assert!(out.contains("OK: the hash chain is intact"), "{out}");
    assert!(
        out.contains("VERIFIED: journal, state, tree and checkpoints are consistent"),
        "{out}"
    );
    let persons = ok(&demo, &["list", "persons"]);
    assert!(persons.contains("강규리"), "{persons}");

    // A public export of it: pseudonymised, no name, a private pseudonym key.
    let public = ok(
        &demo,
        &[
            "export",
            "--audience",
            "public",
            "--min-cell",
            "1",
            "--format",
            "jsonl",
        ],
    );
    assert!(public.contains("\"type\":\"act\""), "{public}");
    for name in ["김은주", "Kim Eun-joo", "Kang Gyu-ri", "강규리", "p-un-kim"] {
        assert!(!public.contains(name), "{name} in {public}");
    }
    let mode = std::fs::metadata(demo.join("pseudonym.key"))
        .expect("key")
        .permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600
    );
    let again = ok(
        &demo,
        &[
            "export",
            "--audience",
            "public",
            "--min-cell",
            "1",
            "--format",
            "jsonl",
        ],
    );
    let strip = |out: &str| {
        out.lines()
            .filter(|l| l.starts_with('{'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&public), strip(&again), "pseudonyms are stable");
}

#[test]
fn csv_with_english_or_korean_headers_imports_and_round_trips() {
    let fixture = Fixture::new();
    let data = fixture.data();
    let english = fixture.file("en.csv", CSV_EN);
    let korean = fixture.file("ko.csv", CSV_KO);
    ok(&data, &["import", &english, &korean]);
    let acts = ok(&data, &["list", "acts"]);
    assert!(acts.contains("(4 of 4 act records"), "{acts}");
    let stored = ok(&data, &["show", "p1"]);
    assert!(
        stored.contains("김은주") && stored.contains("Kim Eun-joo"),
        "{stored}"
    );
    assert!(
        stored.contains("referred to by") && stored.contains("(victim)"),
        "{stored}"
    );
    let involvements = ok(&data, &["list", "involvements"]);
    assert!(
        involvements.contains("border-guard") && involvements.contains("mss"),
        "{involvements}"
    );
    let stats = ok(
        &data,
        &[
            "stats", "--by", "agency", "--count", "acts", "--format", "csv",
        ],
    );
    assert!(
        stats.contains("agency,mss,Ministry of State Security,국가보위성,,,,,3,75.00"),
        "{stats}"
    );

    // JSON export re-imported into an empty database gives the same export.
    let exported = fixture.dir.path().join("all.json");
    ok(
        &data,
        &[
            "export",
            "--format",
            "json",
            "--out",
            exported.to_str().expect("path"),
        ],
    );
    let copy = fixture.dir.path().join("copy");
    ok(&copy, &["init"]);
    ok(&copy, &["import", exported.to_str().expect("path")]);
    let again = fixture.dir.path().join("again.json");
    ok(
        &copy,
        &[
            "export",
            "--format",
            "json",
            "--out",
            again.to_str().expect("path"),
        ],
    );
    assert_eq!(
        std::fs::read_to_string(&exported).expect("read"),
        std::fs::read_to_string(&again).expect("read")
    );

    // CSV export has one row per attestation and re-imports.
    let csv = ok(&data, &["export", "--format", "csv", "--korean-headers"]);
    assert!(csv.starts_with("출처ID,"), "{csv}");
    assert_eq!(csv.lines().count(), 5, "{csv}");
}

#[test]
fn the_data_directory_and_the_key_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;
    let fixture = Fixture::new();
    let mode = |path: &Path| {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&fixture.data()), 0o700);
    assert_eq!(mode(&fixture.data().join("girok.key")), 0o600);
    let key = ok(&fixture.data(), &["key"]);
    assert!(
        key.starts_with("girok/") && !key.contains("PRIVATE"),
        "{key}"
    );
}

#[test]
fn malformed_csv_names_file_and_line_and_writes_nothing() {
    let fixture = Fixture::new();
    let file = fixture.file("bad.csv", "source_id,source_title,consent,victim_id,act_type\ns1,T,internal,p1,arrest\ns1,T,internal\n");
    let out = fails(&fixture.data(), &["import", &file]);
    assert!(
        out.contains("bad.csv, line 3") && out.contains("not valid CSV"),
        "{out}"
    );
    assert!(out.contains("nothing was imported"), "{out}");
    assert_eq!(fixture.journal_length(), 0);
}

#[test]
fn unknown_columns_and_missing_required_columns_are_named() {
    let fixture = Fixture::new();
    let file = fixture.file("cols.csv", "source_id,victim_id,act_typ\ns1,p1,arrest\n");
    let out = fails(&fixture.data(), &["import", &file]);
    assert!(
        out.contains("line 1, column act_typ: unknown column"),
        "{out}"
    );
    let file = fixture.file("missing.csv", "source_id,victim_id\ns1,p1\n");
    let out = fails(&fixture.data(), &["import", &file]);
    assert!(
        out.contains("required column act_type (or 행위유형) is missing"),
        "{out}"
    );
}

#[test]
fn an_unknown_term_lists_close_terms_and_writes_nothing() {
    let fixture = Fixture::new();
    let file = fixture.file(
        "term.csv",
        &format!("{CSV_EN}s1,,,p9,X,,publc execution,2020,Musan,,\n"),
    );
    let out = fails(&fixture.data(), &["import", &file]);
    assert!(out.contains("term.csv, line 5, column act_type"), "{out}");
    assert!(out.contains("did you mean public-execution"), "{out}");
    assert_eq!(fixture.journal_length(), 0);
}

#[test]
fn an_invalid_fuzzy_date_is_refused_with_the_accepted_forms() {
    let fixture = Fixture::new();
    let file = fixture.file("date.csv", "source_id,source_title,consent,victim_id,act_type,act_date\ns1,T,internal,p1,arrest,sometime in 2020\n");
    let out = fails(&fixture.data(), &["import", &file]);
    assert!(
        out.contains("date.csv, line 2, column act_date: 'sometime in 2020' is not a date"),
        "{out}"
    );
    assert!(out.contains("spring 2021"), "{out}");
    assert_eq!(fixture.journal_length(), 0);
}

#[test]
fn a_dangling_reference_in_json_names_line_and_field() {
    let fixture = Fixture::new();
    let file = fixture.file(
        "refs.jsonl",
        "{\"type\":\"person\",\"id\":\"p1\"}\n{\"type\":\"act\",\"id\":\"a1\",\"act_type\":\"arrest\",\"victim\":\"p2\"}\n",
    );
    let out = fails(&fixture.data(), &["import", &file]);
    assert!(out.contains("refs.jsonl, line 2, column victim: record a1: refers to person p2, which does not exist"), "{out}");
    assert_eq!(fixture.journal_length(), 0);
}

#[test]
fn malformed_json_names_line_and_column() {
    let fixture = Fixture::new();
    let file = fixture.file(
        "bad.json",
        "[\n{\"type\":\"person\",\"id\":\"p1\"},\n{\"type\":\"person\" \"id\":\"p2\"}\n]\n",
    );
    let out = fails(&fixture.data(), &["import", &file]);
    assert!(out.contains("bad.json, line 3"), "{out}");
    let file = fixture.file(
        "field.jsonl",
        "{\"type\":\"person\",\"id\":\"p1\",\"sex\":\"maybe\"}\n",
    );
    let out = fails(&fixture.data(), &["import", &file]);
    assert!(
        out.contains("field.jsonl, line 1") && out.contains("unknown variant `maybe`"),
        "{out}"
    );
    assert_eq!(fixture.journal_length(), 0);
}

#[test]
fn importing_the_same_file_twice_is_detected_and_not_doubled() {
    let fixture = Fixture::new();
    let file = fixture.file("once.csv", CSV_EN);
    ok(&fixture.data(), &["import", &file]);
    let before = fixture.journal_length();
    let copy = fixture.file("renamed.csv", CSV_EN);
    let out = fails(&fixture.data(), &["import", &copy]);
    assert!(
        out.contains("renamed.csv was already imported (as once.csv"),
        "{out}"
    );
    assert_eq!(fixture.journal_length(), before);
}

#[test]
fn files_that_are_not_girok_databases_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("girok.sqlite"),
        b"not a database, just text that is long enough to read",
    )
    .expect("write");
    let out = fails(dir.path(), &["list", "acts"]);
    assert!(
        out.contains("is not a Girok database (it is not a SQLite file)"),
        "{out}"
    );
    let out = fails(&dir.path().join("nowhere"), &["list", "acts"]);
    assert!(out.contains("girok init"), "{out}");
}

#[test]
fn consent_cannot_widen_silently() {
    let fixture = Fixture::new();
    let data = fixture.data();
    ok(&data, &["import", &fixture.file("c.csv", CSV_EN)]);
    let out = fails(&data, &["set-consent", "s1", "public"]);
    assert!(out.contains("--widen"), "{out}");
    ok(
        &data,
        &[
            "set-consent",
            "s1",
            "public",
            "--widen",
            "--reason",
            "written consent of the family",
        ],
    );
    let history = ok(&data, &["history", "s1"]);
    assert!(
        history.contains("widen consent of s1 to public: written consent of the family"),
        "{history}"
    );
}

fn synth(dir: &Path, name: &str, testimonies: &str, seed: &str) -> String {
    let path = dir.join(name);
    ok(
        dir,
        &[
            "synth",
            "--testimonies",
            testimonies,
            "--seed",
            seed,
            "--out",
            path.to_str().expect("path"),
        ],
    );
    path.to_string_lossy().into_owned()
}

#[test]
fn a_killed_import_leaves_all_or_nothing_and_a_clean_check() {
    let fixture = Fixture::new();
    let data = fixture.data();
    let file = synth(fixture.dir.path(), "big.jsonl", "30000", "5");
    let mut child = Command::new(env!("CARGO_BIN_EXE_girok"))
        .arg("--data")
        .arg(&data)
        .args(["import", &file])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(1500));
    let still_running = child.try_wait().expect("status").is_none();
    assert!(
        still_running,
        "the import ended before it could be killed; use a larger file"
    );
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    let check = ok(&data, &["check"]);
    assert!(check.contains("OK: the hash chain is intact"), "{check}");
    // The import either committed whole or not at all.
    let sources = ok(&data, &["list", "sources", "--limit", "0"]);
    assert!(
        sources.contains("(0 of 0 source records")
            || sources.contains("(0 of 30000 source records"),
        "{sources}"
    );
}

fn many_rows(prefix: &str, rows: usize) -> String {
    let mut csv = String::from("source_id,source_title,consent,victim_id,act_type,act_date\n");
    for row in 0..rows {
        csv.push_str(&format!(
            "{prefix}s{},Interview,internal,{prefix}p{row},arrest,2020\n",
            row / 10
        ));
    }
    csv
}

#[test]
fn concurrent_importers_lose_nothing() {
    let fixture = Fixture::new();
    let data = fixture.data();
    let files: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|p| fixture.file(&format!("{p}.csv"), &many_rows(p, 2000)))
        .collect();
    let handles: Vec<_> = files
        .into_iter()
        .map(|file| {
            let data = data.clone();
            std::thread::spawn(move || girok(&data, &["import", &file]))
        })
        .collect();
    for handle in handles {
        let output = handle.join().expect("thread");
        assert!(output.status.success(), "{}", text(&output));
    }
    let acts = ok(&data, &["list", "acts", "--limit", "0"]);
    assert!(acts.contains("(0 of 6000 act records"), "{acts}");
    assert!(ok(&data, &["check"]).contains("OK"));
}

fn sql(data: &Path, statement: &str) {
    rusqlite::Connection::open(data.join("girok.sqlite"))
        .expect("open")
        .execute_batch(statement)
        .expect("sql");
}

#[test]
fn a_database_rolled_back_after_a_checkpoint_was_handed_out_is_caught() {
    let fixture = Fixture::new();
    let data = fixture.data();
    ok(&data, &["import", &fixture.file("a.csv", CSV_EN)]);
    let early = fixture.file("early.checkpoint", &ok(&data, &["checkpoint"]));
    let copy = fixture.dir.path().join("old-copy.sqlite");
    std::fs::copy(data.join("girok.sqlite"), &copy).expect("copy");
    ok(&data, &["import", &fixture.file("b.csv", CSV_KO)]);
    let late = fixture.file("late.checkpoint", &ok(&data, &["checkpoint"]));
    let out = ok(&data, &["verify", "--against", &early]);
    assert!(
        out.contains("OK: this database extends the checkpoint"),
        "{out}"
    );

    std::fs::copy(&copy, data.join("girok.sqlite")).expect("roll back");
    let out = fails(&data, &["verify", "--against", &late]);
    assert!(
        out.contains("ROLLED BACK") && out.contains("NOT VERIFIED"),
        "{out}"
    );
}

#[test]
fn a_rewritten_history_does_not_extend_a_kept_checkpoint() {
    let fixture = Fixture::new();
    let data = fixture.data();
    ok(&data, &["import", &fixture.file("a.csv", CSV_EN)]);
    let kept = fixture.file("kept.checkpoint", &ok(&data, &["checkpoint"]));
    // Someone rewrites an early entry and recomputes its stored hash.
    sql(
        &data,
        "UPDATE journal SET hash = zeroblob(32) WHERE seq = 2",
    );
    let out = fails(&data, &["verify", "--against", &kept]);
    assert!(out.contains("FORKED") || out.contains("TREE:"), "{out}");
    assert!(out.contains("entry 2"), "{out}");
}

#[test]
fn forged_checkpoints_are_named() {
    let fixture = Fixture::new();
    let data = fixture.data();
    ok(&data, &["import", &fixture.file("a.csv", CSV_EN)]);
    // A stored checkpoint whose size was edited no longer verifies.
    sql(
        &data,
        "UPDATE checkpoint SET note = replace(note, char(10) || size || char(10), char(10) || (size + 1) || char(10))",
    );
    let out = fails(&data, &["verify"]);
    assert!(
        out.contains("TREE: checkpoint at size") && out.contains("does not verify"),
        "{out}"
    );

    // A checkpoint signed by another installation's key is refused.
    let other = Fixture::new();
    ok(&other.data(), &["import", &other.file("a.csv", CSV_EN)]);
    let foreign = other.file("foreign.checkpoint", &ok(&other.data(), &["checkpoint"]));
    let out = fails(&data, &["verify", "--against", &foreign]);
    assert!(
        out.contains("is not a valid checkpoint from this key"),
        "{out}"
    );
    // With the other installation's public key it is a valid checkpoint, but of another log.
    let their_key = ok(&other.data(), &["key"]);
    let out = fails(
        &data,
        &["verify", "--against", &foreign, "--key", their_key.trim()],
    );
    assert!(
        out.contains("TREE: checkpoint") || out.contains("FORKED"),
        "{out}"
    );
}

#[test]
fn evidence_files_keep_a_chain_of_custody_and_tampering_is_named() {
    let fixture = Fixture::new();
    let data = fixture.data();
    ok(&data, &["import", &fixture.file("a.csv", CSV_EN)]);
    let photo = fixture.file("photo.jpg", "the bytes of a photograph of a detention site");
    let out = ok(
        &data,
        &[
            "attach",
            "s1",
            &photo,
            "--captured-at",
            "2023-10",
            "--collector",
            "field officer 7",
        ],
    );
    let sha256 = out
        .split("SHA-256 ")
        .nth(1)
        .expect("hash")
        .split_whitespace()
        .next()
        .expect("hash")
        .to_string();
    assert_eq!(sha256.len(), 64);
    let again = fails(&data, &["attach", "s1", &photo]);
    assert!(again.contains("already exists"), "{again}");

    let copy = fixture.dir.path().join("for-the-court.jpg");
    ok(
        &data,
        &[
            "export-evidence",
            &sha256,
            "--out",
            copy.to_str().expect("path"),
            "--recipient",
            "UN OHCHR Seoul",
        ],
    );
    assert_eq!(
        std::fs::read_to_string(&copy).expect("copy"),
        "the bytes of a photograph of a detention site"
    );
    let custody = ok(&data, &["custody", &sha256]);
    assert!(
        custody.contains("intake original name photo.jpg")
            && custody.contains("collector field officer 7"),
        "{custody}"
    );
    assert!(custody.contains("export to UN OHCHR Seoul"), "{custody}");
    assert!(ok(&data, &["verify"]).contains("Re-hashed 1 evidence files"));

    let stored = data.join("evidence").join(&sha256[..2]).join(&sha256);
    let mut permissions = std::fs::metadata(&stored).expect("stored").permissions();
    assert!(permissions.readonly());
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&stored, permissions).expect("unprotect");
    std::fs::write(&stored, "the bytes of a photograph of a detention sitE").expect("tamper");
    let out = fails(&data, &["verify"]);
    assert!(
        out.contains(&format!("EVIDENCE: evidence file {sha256} (photo.jpg"))
            && out.contains("was altered"),
        "{out}"
    );
    assert!(
        fails(
            &data,
            &[
                "export-evidence",
                &sha256,
                "--out",
                copy.to_str().expect("path"),
                "--recipient",
                "x"
            ]
        )
        .contains("altered")
    );
    std::fs::remove_file(&stored).expect("remove");
    let out = fails(&data, &["verify"]);
    assert!(out.contains("is missing"), "{out}");
}

#[test]
fn a_proof_bundle_verifies_without_the_database_and_tampering_is_named() {
    let fixture = Fixture::new();
    let data = fixture.data();
    ok(&data, &["import", &fixture.file("a.csv", CSV_EN)]);
    let video = fixture.file("testimony.mp4", "recorded testimony bytes");
    ok(
        &data,
        &["attach", "s1", &video, "--collector", "documenter 3"],
    );
    let bundle = fixture.dir.path().join("bundle-s1");
    let bundle_path = bundle.to_str().expect("path");
    let out = ok(
        &data,
        &[
            "prove",
            "s1",
            "--out",
            bundle_path,
            "--with-files-for",
            "International Criminal Court",
        ],
    );
    assert!(out.contains("1 evidence files"), "{out}");
    let key = ok(&data, &["key"]);
    let key = key.trim();

    // The check needs no database: run it with an empty data directory.
    let elsewhere = fixture.dir.path().join("no-database-here");
    let out = ok(&elsewhere, &["verify-bundle", bundle_path, "--key", key]);
    assert!(
        out.contains("VERIFIED")
            && out.contains("about s1")
            && out.contains("1 evidence files re-hashed"),
        "{out}"
    );
    let custody = ok(
        &data,
        &[
            "custody",
            &std::fs::read_dir(bundle.join("files"))
                .expect("files")
                .next()
                .expect("file")
                .expect("entry")
                .file_name()
                .to_string_lossy(),
        ],
    );
    assert!(
        custody.contains("copy to International Criminal Court"),
        "{custody}"
    );

    // Another installation's key does not vouch for this bundle.
    let other = Fixture::new();
    let other_key = ok(&other.data(), &["key"]);
    let out = fails(
        &elsewhere,
        &["verify-bundle", bundle_path, "--key", other_key.trim()],
    );
    assert!(
        out.contains("NOT VERIFIED") && out.contains("no signature by key"),
        "{out}"
    );

    // An altered evidence file is named.
    let file = std::fs::read_dir(bundle.join("files"))
        .expect("files")
        .next()
        .expect("file")
        .expect("entry")
        .path();
    std::fs::write(&file, "recorded testimony bytez").expect("tamper");
    let out = fails(&elsewhere, &["verify-bundle", bundle_path, "--key", key]);
    assert!(out.contains("was altered"), "{out}");
    std::fs::write(&file, "recorded testimony bytes").expect("restore");

    // An altered journal entry is no longer in the signed tree.
    let manifest = bundle.join("bundle.json");
    let text = std::fs::read_to_string(&manifest).expect("read");
    let first = text.find("\"bytes\": \"").expect("bytes") + 12;
    let mut altered = text.clone();
    altered.replace_range(
        first..first + 1,
        if &text[first..first + 1] == "A" {
            "B"
        } else {
            "A"
        },
    );
    std::fs::write(&manifest, altered).expect("tamper");
    let out = fails(&elsewhere, &["verify-bundle", bundle_path, "--key", key]);
    assert!(out.contains("is not in the signed tree"), "{out}");
}

#[test]
fn a_truncated_journal_is_caught_by_its_own_checkpoints() {
    let fixture = Fixture::new();
    let data = fixture.data();
    ok(&data, &["import", &fixture.file("a.csv", CSV_EN)]);
    ok(&data, &["import", &fixture.file("b.csv", CSV_KO)]);
    // Cutting off the tail leaves a hash chain that is intact on its own.
    sql(&data, "DELETE FROM journal WHERE seq > 5");
    let out = fails(&data, &["verify"]);
    assert!(
        out.contains("TREE: checkpoint at size") && out.contains("of a journal of 5"),
        "{out}"
    );
}

#[test]
fn linkage_proposals_are_reviewed_as_reversible_journal_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let demo = dir.path().join("demo");
    ok(
        dir.path(),
        &["demo", "--no-serve", "--dir", &demo.to_string_lossy()],
    );
    // The demo spells both witnesses three ways; linkage finds each as one person.
    let out = ok(&demo, &["link"]);
    assert!(out.contains("2 proposals"), "{out}");
    // Too small to train on: the output and the proposals say which model was used.
    assert!(
        out.contains("Model: the shipped model (fewer than 5000 person records"),
        "{out}"
    );
    // The proposals are in the database, not in a file beside it.
    assert!(!demo.join("link-proposals.json").exists());
    let kim = out
        .lines()
        .find(|l| l.contains("김은주"))
        .expect("a proposal for Kim Eun-ju");
    assert!(
        kim.contains("Eunju Kim") && kim.contains("Kim Eun-joo"),
        "{kim}"
    );
    let number = kim[1..]
        .split_whitespace()
        .next()
        .expect("number")
        .to_string();
    let shown = ok(&demo, &["review", "--show", &number]);
    assert!(shown.contains("same Hangul possible"), "{shown}");
    assert!(
        shown.contains("surname") && shown.contains("weight"),
        "{shown}"
    );
    assert!(ok(&demo, &["stats"]).starts_with("9 victims "));

    ok(
        &demo,
        &["review", "--confirm", &number, "--reason", "same witness"],
    );
    assert!(ok(&demo, &["stats"]).starts_with("7 victims "));
    // Confirmed persons are no longer proposed; the decision is in the journal.
    let again = ok(&demo, &["link"]);
    assert!(again.contains("1 proposals"), "{again}");
    assert!(ok(&demo, &["history", "p-ko-kim"]).contains("same person"));

    // Split: two spellings are one person, the third someone else.
    let out = ok(&demo, &["link"]);
    let kang = out.lines().find(|l| l.contains("강규리")).expect("Kang");
    let number = kang[1..]
        .split_whitespace()
        .next()
        .expect("number")
        .to_string();
    ok(
        &demo,
        &[
            "review",
            "--split",
            &number,
            "--keep",
            "p-ko-kang,p-un-kang",
        ],
    );
    // A decided proposal still shows, says so, and takes no second decision.
    let shown = ok(&demo, &["review", "--show", &number]);
    assert!(
        shown.contains("p-media-kang") && shown.contains("Decided in journal entry"),
        "{shown}"
    );
    let again = fails(&demo, &["review", "--confirm", &number]);
    assert!(again.contains("decided already"), "{again}");
    let refused = fails(&demo, &["review", "--unmerge", "p-nobody"]);
    assert!(refused.contains("no person p-nobody"), "{refused}");
    ok(&demo, &["review", "--unmerge", "p-media-kim"]);
    assert!(ok(&demo, &["stats"]).starts_with("7 victims "));
    // Unmerging twice is refused: nothing is left to withdraw.
    let twice = fails(&demo, &["review", "--unmerge", "p-media-kim"]);
    assert!(
        twice.contains("no linkage decision names p-media-kim"),
        "{twice}"
    );
    assert!(ok(&demo, &["check"]).contains("OK: the hash chain is intact"));
}

/// Tables over a generated database: filters narrow them, cross-tabulations
/// have margins, and tables for partners never show a count below 5 nor one
/// that totals would reveal.
#[test]
fn statistics_filter_cross_tabulate_and_suppress_small_cells() {
    let fixture = Fixture::new();
    let data = fixture.data();
    let file = synth(fixture.dir.path(), "s.jsonl", "400", "3");
    ok(&data, &["import", &file]);
    let json = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["stats", "--format", "json"];
        all.extend_from_slice(args);
        serde_json::from_str(&ok(&data, &all)).expect("json")
    };
    let total = |value: &serde_json::Value| value["tables"][0]["total"].as_u64().expect("total");
    let everyone = json(&["--by", "sex"]);
    let recent = json(&["--by", "sex", "--where", "year=2015..2030"]);
    let hamgyong = json(&["--by", "sex", "--where", "place=함경북도,act-type=arrest"]);
    assert!(total(&recent) < total(&everyone), "{recent}");
    assert!(total(&hamgyong) < total(&everyone) && total(&hamgyong) > 0);
    // Unknown is a row of its own.
    let by_year = json(&["--by", "year"]);
    assert!(
        by_year.to_string().contains("\"key\":\"unknown\""),
        "{by_year}"
    );

    let internal = json(&["--by", "place,agency-class"]);
    let partners = json(&["--by", "place,agency-class", "--min-cell", "5"]);
    let table = &partners["tables"][0];
    let mut entries: Vec<&serde_json::Value> = Vec::new();
    for row in table["rows"].as_array().expect("rows") {
        entries.push(row);
        entries.extend(row["cells"].as_array().expect("cells"));
    }
    entries.extend(table["column_totals"].as_array().expect("totals"));
    let mut suppressed = 0;
    for entry in entries {
        match entry["count"].as_u64() {
            Some(count) => assert!(count == 0 || count >= 5, "{entry}"),
            None => suppressed += 1,
        }
    }
    let small_cells = internal["tables"][0]["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .flat_map(|row| row["cells"].as_array().expect("cells").clone())
        .filter(|cell| (1..5).contains(&cell["count"].as_u64().unwrap_or(0)))
        .count();
    assert!(small_cells > 0, "the test needs small cells: {internal}");
    assert!(
        suppressed > small_cells,
        "complements suppressed too: {partners}"
    );
    // Partners get the published tables, and no other.
    for refused in [
        &["--by", "place,agency-class", "--audience", "partners"][..],
        &["--by", "province", "--audience", "public"],
        &[
            "--by",
            "sex",
            "--where",
            "year=2015..2030",
            "--audience",
            "partners",
        ],
        &[
            "--by",
            "age-group",
            "--age-bands",
            "0-9,10-",
            "--audience",
            "public",
        ],
    ] {
        let mut all = vec!["stats"];
        all.extend_from_slice(refused);
        let error = fails(&data, &all);
        assert!(error.contains("published tables"), "{refused:?}: {error}");
        assert!(error.contains("공개 표"), "{refused:?}: {error}");
    }
    let published = json(&["--audience", "partners"]);
    let tables = published["tables"].as_array().expect("tables");
    assert_eq!(tables.len(), girok_tabulate::published::DIMENSIONS.len());
    for table in tables {
        for row in table["rows"].as_array().expect("rows") {
            let count = row["count"].as_u64();
            assert!(count.is_none_or(|c| c >= 5), "{row}");
        }
    }

    let error = fails(&data, &["stats", "--where", "year=sometime"]);
    assert!(error.contains("year=sometime"), "{error}");
    let error = fails(&data, &["stats", "--by", "colour"]);
    assert!(error.contains("the dimensions are"), "{error}");
    let error = fails(&data, &["stats", "--where", "agency=KGB"]);
    assert!(
        error.contains("agency=KGB") && error.contains("agencies"),
        "{error}"
    );
}

const KOSOVO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/kosovo-1999.tsv"
);

/// The published figures from a capture-pattern file, the same numbers for
/// the same seed, and clear refusals for tables that cannot be estimated.
#[test]
fn estimates_reproduce_published_figures_and_refuse_what_they_cannot_say() {
    let fixture = Fixture::new();
    let data = fixture.data();
    let args = [
        "estimate",
        "--table",
        KOSOVO,
        "--samples",
        "1000",
        "--burn-in",
        "2000",
        "--thin",
        "5",
        "--format",
        "json",
    ];
    let first = ok(&data, &args);
    assert_eq!(
        first,
        ok(&data, &args),
        "the same seed gives the same estimate"
    );
    let json: serde_json::Value = serde_json::from_str(&first).expect("json");
    let stratum = &json["strata"][0];
    assert_eq!(stratum["observed"], 4400);
    assert_eq!(stratum["decomposable"]["median"], 12_595);
    let population = stratum["independence"]["population"]
        .as_f64()
        .expect("independence model");
    assert!((population - 7_394.6).abs() < 0.5, "{population}");
    assert!(stratum["lcmcr"]["rhat"].as_f64().is_some());

    let dir = fixture.dir.path();
    let bad = |name: &str, text: &str| -> String {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        fails(
            &data,
            &["estimate", "--table", path.to_str().expect("path")],
        )
    };
    assert!(bad("two.tsv", "10\t5\n01\t4\n11\t2\n").contains("at least 3 lists"));
    let error = bad("typo.tsv", "100\t5\n010\t4\n0x1\t2\n");
    assert!(
        error.contains("typo.tsv") && error.contains("line 3"),
        "{error}"
    );
    assert!(bad("full.tsv", "110\t5\n010\t4\n011\t2\n").contains("records every observed"));
    assert!(bad("apart.tsv", "100\t5\n010\t4\n001\t2\n").contains("more than one list"));

    // The demo's organisations never name the same person record: no estimate, and why.
    let demo = dir.join("demo");
    ok(
        &data,
        &["demo", "--no-serve", "--dir", demo.to_str().expect("path")],
    );
    let error = fails(&demo, &["estimate", "--samples", "100", "--burn-in", "100"]);
    assert!(
        error.contains("no individual is on more than one list"),
        "{error}"
    );
    let error = fails(&demo, &["estimate", "--lists", "KGB"]);
    assert!(error.contains("United Nations"), "{error}");
}

/// An HTML report with charts and estimates; for the public, small cells are
/// suppressed and the report still renders.
#[test]
fn reports_are_self_contained_html_with_charts_and_methodology() {
    let fixture = Fixture::new();
    let data = fixture.data();
    let file = synth(fixture.dir.path(), "s.jsonl", "600", "11");
    ok(&data, &["import", &file]);
    ok(&data, &["link"]);
    let report = fixture.dir.path().join("report.html");
    let path = report.to_str().expect("path");
    ok(
        &data,
        &[
            "report",
            "--out",
            path,
            "--with-proposals",
            "--samples",
            "500",
            "--burn-in",
            "1000",
            "--strata",
            "inside",
        ],
    );
    let html = std::fs::read_to_string(&report).expect("report");
    for expected in [
        "<!DOCTYPE html>",
        "<svg",
        "기록 보고서",
        "Act type · <span class=\"ko\">행위 유형</span>",
        "Latent-class (LCMCR)",
        "Decomposable models averaged",
        "How these figures were made",
        "Inside North Korea",
    ] {
        assert!(html.contains(expected), "missing {expected}");
    }
    assert!(
        !html.contains("<script") && !html.contains("http"),
        "self-contained"
    );

    ok(
        &data,
        &[
            "report",
            "--out",
            path,
            "--audience",
            "public",
            "--min-cell",
            "50",
            "--no-estimate",
        ],
    );
    let public = std::fs::read_to_string(&report).expect("report");
    assert!(public.contains("suppressed · 비공개") && public.contains("Disclosure control"));
    assert!(public.contains("These are the published tables") && public.contains("공개 표"));
    // A public report restricted by conditions could be set against an unrestricted one.
    let error = fails(
        &data,
        &[
            "report",
            "--out",
            path,
            "--audience",
            "public",
            "--where",
            "year=2015..2030",
            "--no-estimate",
        ],
    );
    assert!(
        error.contains("published tables take no conditions") && error.contains("공개 표"),
        "{error}"
    );
}

/// Every file under `dir`, recursively, whose bytes hold `needle`.
fn files_holding(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_holding(&path, needle));
        } else if std::fs::read(&path)
            .expect("read file")
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
        {
            found.push(path);
        }
    }
    found
}

#[test]
fn linkage_proposals_are_sealed_audited_decided_and_forgotten_in_the_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let secret = Some("correct horse battery staple");
    let run = |passphrase: Option<&str>, args: &[&str]| {
        let output = girok_with(&data, passphrase, args);
        (output.status.success(), text(&output))
    };
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../synth/data/demo.json");
    assert!(run(secret, &["init", "--encrypt"]).0);
    let (done, out) = run(secret, &["import", demo]);
    assert!(done, "{out}");
    let (done, out) = run(secret, &["link"]);
    assert!(done && out.contains("2 proposals"), "{out}");
    // No plaintext file of proposals, and no name in any file of the directory.
    assert!(!data.join("link-proposals.json").exists());
    for name in ["김은주", "Eunju Kim", "강규리"] {
        let holding = files_holding(&data, name);
        assert!(holding.is_empty(), "{name} is in {holding:?}");
    }

    // Locked, the queue lists ids only and a proposal's names are refused.
    let (done, queue) = run(None, &["review"]);
    assert!(done && queue.contains("p-ko-kim"), "{queue}");
    assert!(!queue.contains("Eunju Kim"), "{queue}");
    let number = queue
        .lines()
        .find(|l| l.contains("p-ko-kim"))
        .and_then(|l| l[1..].split_whitespace().next())
        .expect("the proposal of Kim Eun-ju")
        .to_string();
    let (done, refused) = run(None, &["review", "--show", &number]);
    assert!(!done && refused.contains("locked"), "{refused}");
    assert!(!refused.contains("Eunju Kim"), "{refused}");

    // Unlocked, the names are shown and the read is in the audit log.
    let (done, shown) = run(secret, &["--purpose", "dedup", "review", "--show", &number]);
    assert!(
        done && shown.contains("Eunju Kim") && shown.contains("김은주"),
        "{shown}"
    );
    let (_, audit) = run(None, &["audit"]);
    // One entry for the proposal's records, read together.
    assert!(
        audit.lines().any(|l| l.contains("why: dedup")
            && l.contains("did: review")
            && l.contains("read: p-ko-kim, p-media-kim, p-un-kim")),
        "{audit}"
    );

    // The Kang proposal, decided, leaves the queue; the Kim one stays.
    let kang = queue
        .lines()
        .find(|l| l.contains("p-ko-kang"))
        .and_then(|l| l[1..].split_whitespace().next())
        .expect("the proposal of Kang")
        .to_string();
    let (done, out) = run(
        secret,
        &["review", "--confirm", &kang, "--reason", "same witness"],
    );
    assert!(done, "{out}");
    let (_, queue) = run(None, &["review"]);
    assert!(
        !queue.contains("p-ko-kang") && queue.contains("p-ko-kim"),
        "{queue}"
    );

    // Forgetting a person removes every proposal naming them, in the
    // database and in a backup taken afterwards.
    let (done, out) = run(secret, &["forget", "p-ko-kim", "--reason", "asked to"]);
    assert!(done, "{out}");
    let (_, queue) = run(None, &["review"]);
    assert!(!queue.contains("p-ko-kim"), "{queue}");
    let (done, refused) = run(secret, &["review", "--show", &number]);
    assert!(!done, "{refused}");
    let backup = dir.path().join("after-forget.backup");
    let (done, out) = run(secret, &["backup", "--out", backup.to_str().expect("path")]);
    assert!(done, "{out}");
    let restored = dir.path().join("restored");
    let output = girok_with(
        &restored,
        secret,
        &["restore", backup.to_str().expect("path")],
    );
    assert!(output.status.success(), "{}", text(&output));
    assert!(files_holding(&restored, "김은주").is_empty());
    let restored_queue = text(&girok_with(&restored, None, &["review"]));
    assert!(!restored_queue.contains("p-ko-kim"), "{restored_queue}");
    let (done, out) = run(secret, &["check"]);
    assert!(done && out.contains("OK"), "{out}");
}

/// `girok` with a passphrase in the environment (or none) and no terminal.
fn girok_with(data: &Path, passphrase: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_girok"));
    command
        .arg("--data")
        .arg(data)
        .args(args)
        .env("GIROK_ACTOR", "tester")
        .env_remove("GIROK_PASSPHRASE")
        .stdin(Stdio::null());
    if let Some(passphrase) = passphrase {
        command.env("GIROK_PASSPHRASE", passphrase);
    }
    command.output().expect("run girok")
}

/// Runs girok as a user who cannot write `data`: as root (who writes
/// anything), as `nobody` through `setpriv`; otherwise as the caller, once
/// the files are made read-only.
fn girok_without_write(data: &Path, args: &[&str]) -> Output {
    use std::os::unix::fs::MetadataExt;
    let root = std::fs::metadata("/proc/self").expect("/proc").uid() == 0;
    let mut command = if root {
        let mut setpriv = Command::new("setpriv");
        setpriv
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_girok"));
        setpriv
    } else {
        Command::new(env!("CARGO_BIN_EXE_girok"))
    };
    command
        .arg("--data")
        .arg(data)
        .args(args)
        .env("GIROK_ACTOR", "tester")
        .env_remove("GIROK_PASSPHRASE")
        .stdin(Stdio::null());
    command
        .output()
        .expect("run girok (as root the tests need setpriv, from util-linux)")
}

/// Sets the mode of `path` and everything under it.
fn chmod_all(path: &Path, file_mode: u32, dir_mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let mode = if path.is_dir() { dir_mode } else { file_mode };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("read dir").flatten() {
            chmod_all(&entry.path(), file_mode, dir_mode);
        }
    }
}

#[test]
fn a_read_only_data_directory_is_read_checked_and_verified_and_writes_are_refused() {
    let fixture = Fixture::new();
    let data = fixture.data();
    ok(&data, &["import", &fixture.file("a.csv", CSV_EN)]);
    let before = ok(&data, &["list", "persons"]);
    let csv = fixture.file("b.csv", &CSV_EN.replace("p1", "p7").replace("s1", "s7"));
    let old = fixture_copy("v1-plain", fixture.dir.path());
    let bytes = std::fs::read(old.join("girok.sqlite")).expect("fixture");
    chmod_all(fixture.dir.path(), 0o444, 0o555);
    for args in [
        &["list", "persons"][..],
        &["show", "p1"],
        &["history", "p1"],
        &["check"],
        &["verify"],
        &["stats", "--by", "act-type"],
    ] {
        let output = girok_without_write(&data, args);
        assert!(output.status.success(), "{args:?}: {}", text(&output));
        if args[0] == "list" {
            assert_eq!(text(&output), before);
        }
    }
    let output = girok_without_write(&data, &["import", &csv]);
    let out = text(&output);
    assert!(
        !output.status.success()
            && out.contains("read-only")
            && out.contains("nothing was written"),
        "{out}"
    );
    // A read-only copy made by an older version cannot take the upgrade it needs: said, unchanged.
    let output = girok_without_write(&old, &["list", "persons"]);
    let out = text(&output);
    assert!(
        !output.status.success() && out.contains("must be upgraded") && out.contains("read-only"),
        "{out}"
    );
    assert_eq!(
        std::fs::read(old.join("girok.sqlite")).expect("fixture"),
        bytes
    );
    chmod_all(fixture.dir.path(), 0o600, 0o700);
    assert_eq!(ok(&data, &["list", "persons"]), before, "nothing changed");
}

#[test]
fn an_encrypted_database_unlocks_rotates_and_forgets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let secret = Some("correct horse battery staple");
    let run = |passphrase: Option<&str>, args: &[&str]| {
        let output = girok_with(&data, passphrase, args);
        (output.status.success(), text(&output))
    };
    // A passphrase too short is refused and leaves no database behind.
    let (done, out) = run(Some("short"), &["init", "--encrypt"]);
    assert!(!done && out.contains("at least 12"), "{out}");
    assert!(!data.join("girok.sqlite").exists());
    let (done, out) = run(secret, &["init", "--encrypt"]);
    assert!(done && out.contains("encrypted"), "{out}");
    let csv = dir.path().join("rows.csv");
    std::fs::write(&csv, CSV_EN).expect("csv");
    let (done, out) = run(secret, &["import", csv.to_str().expect("path")]);
    assert!(done, "{out}");
    let (_, shown) = run(secret, &["--purpose", "case review", "show", "p1"]);
    assert!(shown.contains("김은주"), "{shown}");
    // The read is in the audit log: who, what, why, which record.
    let (done, audit) = run(None, &["audit"]);
    assert!(done, "{audit}");
    let read = audit
        .lines()
        .find(|l| l.contains("did: show"))
        .unwrap_or_default();
    assert!(
        read.contains("tester") && read.contains("case review") && read.contains("read: p1"),
        "{audit}"
    );
    assert!(audit.contains("hash chain intact"), "{audit}");

    // No plaintext name anywhere in the database files.
    for file in ["girok.sqlite", "girok.sqlite-wal"] {
        if let Ok(bytes) = std::fs::read(data.join(file)) {
            assert!(
                !bytes
                    .windows("김은주".len())
                    .any(|w| w == "김은주".as_bytes()),
                "{file} holds a name"
            );
        }
    }
    // Locked (no secret at hand): the record is there, its names are not.
    let (done, locked) = run(None, &["show", "p1"]);
    assert!(
        done && !locked.contains("김은주") && locked.contains("sealed"),
        "{locked}"
    );
    // A wrong passphrase is refused by name; writing identifying data while locked is refused.
    let (done, wrong) = run(Some("not the passphrase at all"), &["unlock"]);
    assert!(!done && wrong.contains("wrong passphrase"), "{wrong}");
    let more = dir.path().join("more.csv");
    std::fs::write(
        &more,
        "source_id,source_title,consent,victim_id,victim_names,act_type\ns9,Another,internal,p9,이영수,arrest\n",
    )
    .expect("csv");
    let (done, refused) = run(None, &["import", more.to_str().expect("path")]);
    assert!(!done && refused.contains("locked"), "{refused}");
    let (done, out) = run(secret, &["unlock"]);
    assert!(done && out.contains("data keys"), "{out}");

    // Linkage without plaintext: locked, the same name spelled another way
    // in another testimony is found through the blind indexes alone.
    let other = dir.path().join("other.csv");
    std::fs::write(
        &other,
        "source_id,source_title,consent,victim_id,victim_names,act_type\ns3,Another interview,internal,p3,Eunju Kim,arrest\n",
    )
    .expect("csv");
    let (done, out) = run(secret, &["import", other.to_str().expect("path")]);
    assert!(done, "{out}");
    let (done, linked) = run(None, &["link"]);
    assert!(done && linked.contains("sealed person records"), "{linked}");
    let candidates =
        std::fs::read_to_string(data.join("blind-candidates.tsv")).expect("candidates");
    assert!(candidates.contains("p1\tp3"), "{candidates}");
    assert!(!candidates.contains("p2"), "{candidates}");

    // Rotation: the new passphrase opens it, the old one no longer does.
    let output = {
        let mut command = Command::new(env!("CARGO_BIN_EXE_girok"));
        command
            .arg("--data")
            .arg(&data)
            .args(["rekey"])
            .env("GIROK_PASSPHRASE", "correct horse battery staple")
            .env("GIROK_NEW_PASSPHRASE", "a brand new long passphrase")
            .stdin(Stdio::null());
        command.output().expect("rekey")
    };
    assert!(output.status.success(), "{}", text(&output));
    let (done, _) = run(secret, &["unlock"]);
    assert!(!done);
    let renewed = Some("a brand new long passphrase");
    let (_, shown) = run(renewed, &["show", "p1"]);
    assert!(shown.contains("김은주"), "{shown}");

    // Forgetting: unreadable even unlocked; statistics and verification unaffected.
    let (done, out) = run(renewed, &["forget", "p1", "--reason", "the witness asked"]);
    assert!(done, "{out}");
    let (_, shown) = run(renewed, &["show", "p1"]);
    assert!(
        !shown.contains("김은주") && shown.contains("sealed"),
        "{shown}"
    );
    let (done, stats) = run(renewed, &["stats", "--by", "act-type"]);
    assert!(done && stats.contains("Arrest"), "{stats}");
    let (done, verified) = run(None, &["verify"]);
    assert!(done && verified.contains("VERIFIED"), "{verified}");

    // A signed head catches a log cut short, which the chain alone cannot.
    let (done, head) = run(None, &["audit", "--sign"]);
    assert!(done && head.starts_with("girok audit log\n"), "{head}");
    let head_file = dir.path().join("audit-head.txt");
    std::fs::write(&head_file, &head).expect("head");
    let head_path = head_file.to_str().expect("path");
    let (done, out) = run(None, &["audit", "--against", head_path]);
    assert!(done && out.contains("still holds"), "{out}");
    let signed: u64 = head
        .lines()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("count");
    sql_at(
        &data.join("audit.sqlite"),
        &format!("DELETE FROM audit WHERE seq = {signed}"),
    );
    let (done, out) = run(None, &["audit", "--against", head_path]);
    assert!(!done && out.contains("TRUNCATED"), "{out}");

    // An altered audit entry is named.
    sql_at(
        &data.join("audit.sqlite"),
        "UPDATE audit SET purpose = 'nothing to see' WHERE seq = 1",
    );
    let (done, audit) = run(None, &["audit"]);
    assert!(!done && audit.contains("BROKEN: audit entry 1"), "{audit}");
}

fn sql_at(path: &Path, statement: &str) {
    let conn = rusqlite::Connection::open(path).expect("sqlite");
    conn.execute_batch(statement).expect("statement");
}

/// Nothing under `root` can be read, written or entered by anyone but its owner.
fn assert_owner_only(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(root)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "{} is mode {mode:o}", root.display());
    if root.is_dir() {
        for entry in std::fs::read_dir(root).expect("read_dir") {
            assert_owner_only(&entry.expect("entry").path());
        }
    }
}

#[test]
fn a_backup_killed_midway_leaves_no_snapshot_behind_the_next_command() {
    let fixture = Fixture::new();
    let csv = fixture.file("rows.csv", CSV_EN);
    ok(&fixture.data(), &["import", &csv]);
    // What `kill -9` leaves of a backup: its staging directory, full snapshots inside.
    let abandoned = fixture.data().join(".backup-4000000000-x1y2z3");
    std::fs::create_dir(&abandoned).expect("mkdir");
    std::fs::copy(
        fixture.data().join("girok.sqlite"),
        abandoned.join("girok.sqlite"),
    )
    .expect("copy");
    // A backup still running (this test's own process) is left alone.
    let running = fixture
        .data()
        .join(format!(".backup-{}-a1b2c3", std::process::id()));
    std::fs::create_dir(&running).expect("mkdir");
    ok(&fixture.data(), &["check"]);
    assert!(
        !abandoned.exists(),
        "the abandoned snapshots are still there"
    );
    assert!(running.exists(), "a running backup's directory was removed");
    // A refused secret leaves no staging directory either.
    std::fs::remove_dir(&running).expect("rmdir");
    let backup = fixture.dir.path().join("girok.backup");
    let short = girok_with(
        &fixture.data(),
        Some("short"),
        &["backup", "--out", backup.to_str().expect("path")],
    );
    assert!(!short.status.success(), "{}", text(&short));
    let left: Vec<_> = std::fs::read_dir(fixture.data())
        .expect("read_dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".backup-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn backups_are_encrypted_and_a_restore_verifies_before_it_accepts() {
    let fixture = Fixture::new();
    let csv = fixture.file("rows.csv", CSV_EN);
    ok(&fixture.data(), &["import", &csv]);
    let backup = fixture.dir.path().join("girok.backup");
    let secret = Some("a backup passphrase here");
    // A passphrase too short is refused and leaves no partial backup.
    let short = girok_with(
        &fixture.data(),
        Some("short"),
        &["backup", "--out", backup.to_str().expect("path")],
    );
    assert!(
        !short.status.success() && text(&short).contains("at least 12"),
        "{}",
        text(&short)
    );
    assert!(!backup.exists());
    let output = girok_with(
        &fixture.data(),
        secret,
        &["backup", "--out", backup.to_str().expect("path")],
    );
    assert!(output.status.success(), "{}", text(&output));
    let bytes = std::fs::read(&backup).expect("backup");
    assert!(
        !bytes
            .windows("김은주".len())
            .any(|w| w == "김은주".as_bytes()),
        "the backup holds a name in plaintext"
    );

    let restored = fixture.dir.path().join("restored");
    let wrong = girok_with(
        &restored,
        Some("not the right passphrase"),
        &["restore", backup.to_str().expect("path")],
    );
    assert!(
        !wrong.status.success() && text(&wrong).contains("authenticate"),
        "{}",
        text(&wrong)
    );
    assert!(!restored.exists(), "a failed restore leaves nothing");

    let mut damaged = bytes.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x10;
    let damaged_path = fixture.dir.path().join("damaged.backup");
    std::fs::write(&damaged_path, damaged).expect("write");
    let refused = girok_with(
        &restored,
        secret,
        &["restore", damaged_path.to_str().expect("path")],
    );
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(!restored.exists(), "a failed restore leaves nothing");

    let output = girok_with(
        &restored,
        secret,
        &["restore", backup.to_str().expect("path")],
    );
    let out = text(&output);
    assert!(output.status.success() && out.contains("VERIFIED"), "{out}");
    assert!(ok(&restored, &["show", "p1"]).contains("김은주"));
    assert_owner_only(&restored);
    let again = girok_with(
        &restored,
        secret,
        &["restore", backup.to_str().expect("path")],
    );
    assert!(!again.status.success() && text(&again).contains("already exists"));
}

#[test]
fn sensitive_evidence_is_sealed_and_forgetting_it_is_final() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let secret = Some("correct horse battery staple");
    let run = |passphrase: Option<&str>, args: &[&str]| {
        let output = girok_with(&data, passphrase, args);
        (output.status.success(), text(&output))
    };
    assert!(run(secret, &["init", "--encrypt"]).0);
    let csv = dir.path().join("rows.csv");
    std::fs::write(&csv, CSV_EN).expect("csv");
    assert!(run(secret, &["import", csv.to_str().expect("path")]).0);
    let recording = dir.path().join("kim-eunju-interview.txt");
    let contents = "transcript: 김은주 describes her brother's arrest in Musan";
    std::fs::write(&recording, contents).expect("file");
    let path = recording.to_str().expect("path");

    // Locked, a sensitive file cannot be attached.
    let (done, out) = run(None, &["attach", "s1", path, "--sensitive", "--id", "ev-1"]);
    assert!(!done && out.contains("locked"), "{out}");
    let (done, out) = run(
        secret,
        &["attach", "s1", path, "--sensitive", "--id", "ev-1"],
    );
    assert!(done, "{out}");
    let sha256 = out
        .split_whitespace()
        .find(|w| w.len() == 64 && w.chars().all(|c| c.is_ascii_hexdigit()))
        .expect("sha256 printed")
        .to_string();

    // Neither the bytes, nor the file name, nor the bytes' hash (anyone
    // holding a copy of the file could confirm it is here) are on disk in
    // plaintext; the journaled hash is salted.
    let plain_sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(contents));
    assert_ne!(sha256, plain_sha256);
    let mut stored = Vec::new();
    for entry in walk(&data) {
        stored.extend(std::fs::read(entry).unwrap_or_default());
    }
    for secret_text in [
        "describes her brother",
        "kim-eunju-interview",
        &plain_sha256,
        &plain_sha256[..16],
    ] {
        assert!(
            !stored
                .windows(secret_text.len())
                .any(|w| w == secret_text.as_bytes()),
            "{secret_text} is on disk"
        );
    }
    // Locked, the record and its custody show neither its hash nor its size.
    let size = contents.len();
    for args in [["show", "ev-1"], ["custody", sha256.as_str()]] {
        let (done, out) = run(None, &args);
        assert!(
            done && !out.contains(&plain_sha256)
                && !out.contains(&format!("{size} bytes"))
                && !out.contains(&format!("\"size\": {size}")),
            "{out}"
        );
    }
    // Unlocked, who may see names sees them.
    let (done, out) = run(secret, &["show", "ev-1"]);
    assert!(done && out.contains(&plain_sha256), "{out}");
    // A second attachment of the same file gets an id that says nothing of its bytes.
    let (done, out) = run(secret, &["attach", "s1", path, "--sensitive"]);
    assert!(done && !out.contains(&plain_sha256[..16]), "{out}");
    // A proof bundle with the file proves it against the salted hash.
    let bundle = dir.path().join("bundle");
    let (done, out) = run(
        secret,
        &[
            "prove",
            "ev-1",
            "--out",
            bundle.to_str().expect("path"),
            "--with-files-for",
            "court",
        ],
    );
    assert!(done, "{out}");
    let (_, key) = run(None, &["key"]);
    let (done, out) = run(
        None,
        &[
            "verify-bundle",
            bundle.to_str().expect("path"),
            "--key",
            key.trim(),
        ],
    );
    assert!(done && out.contains("1 evidence files re-hashed"), "{out}");

    // Unlocked, it comes out whole; locked, verify says what it could not re-hash.
    let copy = dir.path().join("copy.txt");
    let (done, out) = run(
        secret,
        &[
            "export-evidence",
            &sha256,
            "--out",
            copy.to_str().expect("path"),
            "--recipient",
            "court",
        ],
    );
    assert!(done, "{out}");
    assert_eq!(std::fs::read_to_string(&copy).expect("copy"), contents);
    let (done, out) = run(None, &["verify"]);
    assert!(
        done && out.contains("sealed and was not re-hashed"),
        "{out}"
    );
    let (done, out) = run(secret, &["verify"]);
    assert!(
        done && !out.contains("not re-hashed") && out.contains("VERIFIED"),
        "{out}"
    );

    // Forgotten: the file can never be read again; the journal still verifies.
    let (done, out) = run(
        secret,
        &["forget", "ev-1", "--reason", "the witness withdrew it"],
    );
    assert!(done, "{out}");
    let again = dir.path().join("again.txt");
    let (done, out) = run(
        secret,
        &[
            "export-evidence",
            &sha256,
            "--out",
            again.to_str().expect("path"),
            "--recipient",
            "court",
        ],
    );
    assert!(!done && out.contains("forgotten"), "{out}");
    let (done, out) = run(secret, &["verify"]);
    assert!(
        done && out.contains("it was forgotten") && out.contains("VERIFIED"),
        "{out}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// The latest checkpoint the database keeps, which must cover the whole journal.
fn stored_checkpoint(fixture: &Fixture, name: &str) -> String {
    let conn = rusqlite::Connection::open(fixture.data().join("girok.sqlite")).expect("open");
    let (size, note): (u64, String) = conn
        .query_row(
            "SELECT size, note FROM checkpoint ORDER BY size DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("a checkpoint");
    let head: u64 = conn
        .query_row("SELECT MAX(seq) FROM journal", [], |r| r.get(0))
        .expect("head");
    assert_eq!(size, head, "{name} was not checkpointed");
    fixture.file(name, &note)
}

#[test]
fn every_command_that_writes_ends_with_a_checkpoint_that_names_a_cut() {
    let fixture = Fixture::new();
    let data = fixture.data();
    ok(&data, &["import", &fixture.file("a.csv", CSV_EN)]);
    let after_import = stored_checkpoint(&fixture, "import.checkpoint");
    ok(
        &data,
        &["set-consent", "s1", "internal", "--reason", "asked"],
    );
    let after_consent = stored_checkpoint(&fixture, "consent.checkpoint");
    ok(
        &data,
        &[
            "terms",
            "add",
            "agencies",
            "village-guard",
            "--en",
            "Village guard",
            "--ko",
            "마을 경비",
        ],
    );
    let after_term = stored_checkpoint(&fixture, "term.checkpoint");
    let doors = [
        (&after_term, "terms add"),
        (&after_consent, "set-consent"),
        (&after_import, "import"),
    ];
    for (kept, door) in doors {
        let out = ok(&data, &["verify", "--against", kept]);
        assert!(out.contains("OK: this database extends"), "{door}: {out}");
    }
    for (kept, door) in doors {
        // Hide the door's last write, and the checkpoints that cover it.
        sql(
            &data,
            "DELETE FROM checkpoint WHERE size = (SELECT MAX(seq) FROM journal);
             DELETE FROM journal WHERE seq = (SELECT MAX(seq) FROM journal);",
        );
        let out = fails(&data, &["verify", "--against", kept]);
        assert!(out.contains("ROLLED BACK"), "{door}: {out}");
    }
}

#[test]
fn without_the_checkpoint_key_writes_are_refused_and_change_nothing() {
    let fixture = Fixture::new();
    let data = fixture.data();
    ok(&data, &["import", &fixture.file("a.csv", CSV_EN)]);
    let before = fixture.journal_length();
    std::fs::rename(data.join("girok.key"), fixture.dir.path().join("moved.key")).expect("move");
    let out = fails(&data, &["import", &fixture.file("b.csv", CSV_KO)]);
    assert!(
        out.contains("girok.key") && out.contains("nothing was written"),
        "{out}"
    );
    ok(&data, &["list", "persons"]);
    std::fs::rename(fixture.dir.path().join("moved.key"), data.join("girok.key")).expect("back");
    assert_eq!(fixture.journal_length(), before);
}

#[test]
fn a_read_that_cannot_be_audited_fails_and_shows_no_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let secret = Some("correct horse battery staple");
    let run = |args: &[&str]| {
        let output = girok_with(&data, secret, args);
        (output.status.success(), text(&output))
    };
    assert!(run(&["init", "--encrypt"]).0);
    let csv = dir.path().join("rows.csv");
    std::fs::write(&csv, CSV_EN).expect("csv");
    assert!(run(&["import", csv.to_str().expect("path")]).0);
    // The audit log cannot be written: a directory stands where its file would be.
    let _ = std::fs::remove_file(data.join("audit.sqlite"));
    std::fs::create_dir(data.join("audit.sqlite")).expect("block the audit log");
    for args in [
        &["show", "p1"][..],
        &["list", "persons"],
        &["export", "--format", "csv"],
    ] {
        let (done, out) = run(args);
        assert!(!done, "{args:?} succeeded without an audit entry: {out}");
        assert!(
            !out.contains("김은주") && !out.contains("Kim Eun-joo"),
            "{args:?} showed a name: {out}"
        );
    }
}

/// A copy of a fixture data directory, writable, private to its owner.
fn fixture_copy(name: &str, into: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let data = into.join(name);
    std::fs::create_dir(&data).expect("dir");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).expect("mode");
    for file in ["girok.sqlite", "girok.key"] {
        std::fs::copy(from.join(file), data.join(file)).expect("copy");
    }
    data
}

#[test]
fn databases_made_by_the_first_version_open_verify_and_take_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = Some("fixture passphrase of version one");
    for (name, passphrase) in [("v1-plain", None), ("v1-encrypted", secret)] {
        let data = fixture_copy(name, dir.path());
        let run = |passphrase: Option<&str>, args: &[&str]| {
            let output = girok_with(&data, passphrase, args);
            (output.status.success(), text(&output))
        };
        let (done, out) = run(None, &["verify"]);
        assert!(done && out.contains("VERIFIED"), "{name}: {out}");
        let (done, out) = run(
            passphrase,
            &["--purpose", "upgrade test", "show", "p-un-kim"],
        );
        assert!(done && out.contains("Kim Eun-joo"), "{name}: {out}");
        // A write in today's version, then everything verifies again.
        let csv = dir.path().join(format!("{name}.csv"));
        std::fs::write(&csv, CSV_EN).expect("csv");
        let (done, out) = run(passphrase, &["import", csv.to_str().expect("path")]);
        assert!(done, "{name}: {out}");
        let (done, out) = run(None, &["verify"]);
        assert!(done && out.contains("VERIFIED"), "{name}: {out}");
    }
    // Locked, the encrypted one still opens and shows no name.
    let output = girok_with(
        &dir.path().join("v1-encrypted"),
        None,
        &["show", "p-un-kim"],
    );
    let (done, out) = (output.status.success(), text(&output));
    assert!(done && !out.contains("Kim Eun-joo"), "{out}");
}

/// `link-proposals.json` as versions before the proposals moved into the database wrote it.
const LEGACY_PROPOSALS: &str = r#"{
  "journal_size": 55,
  "proposals": [{
    "number": 1,
    "persons": [
      {"id": "p-media-kim", "names": "Eunju Kim", "sex": "female", "birth": "unknown", "origin": "unknown", "sources": "s-media-2025"},
      {"id": "p-un-kim", "names": "Kim Eun-joo", "sex": "female", "birth": "unknown", "origin": "unknown", "sources": "s-un-2025-kim"}
    ],
    "probability": 0.9998,
    "links": [{"a": "p-media-kim", "b": "p-un-kim", "explanation": {"prior_weight": -9.0, "weight": 12.5, "probability": 0.9998,
      "parts": [{"comparison": "given name", "level": "same Hangul possible", "weight": 14.0, "term_frequency": null}]}}]
  }],
  "training": {"model": "given", "reason": "fewer than 5000 person records are too few to train on"}
}"#;

#[test]
fn a_proposals_file_of_an_earlier_version_is_moved_into_the_database_and_destroyed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = fixture_copy("v1-plain", dir.path());
    let file = data.join("link-proposals.json");
    std::fs::write(&file, LEGACY_PROPOSALS).expect("legacy file");
    // A second name for the same bytes shows whether they were overwritten.
    let witness = dir.path().join("same-inode");
    std::fs::hard_link(&file, &witness).expect("hard link");
    let queue = ok(&data, &["review"]);
    assert!(
        queue.contains("#1") && queue.contains("p-media-kim  ~  p-un-kim"),
        "{queue}"
    );
    assert!(!file.exists(), "the plaintext file is still there");
    let left = std::fs::read(&witness).expect("witness");
    assert!(
        left.iter().all(|&b| b == 0),
        "the file was unlinked without being overwritten"
    );
    let shown = ok(&data, &["review", "--show", "1"]);
    assert!(
        shown.contains("same Hangul possible") && shown.contains("Kim Eun-joo"),
        "{shown}"
    );
    ok(
        &data,
        &["review", "--confirm", "1", "--reason", "same witness"],
    );
    assert!(!ok(&data, &["review"]).contains("#1"));
    assert!(ok(&data, &["verify"]).contains("VERIFIED"));
}

#[test]
fn control_characters_and_bidirectional_overrides_are_refused_at_their_field() {
    let fixture = Fixture::new();
    let data = fixture.data();
    let before = ok(&data, &["list", "persons"]);
    // A name that clears the screen and rings the bell, a title that reverses itself.
    for (records, field, code) in [
        (
            "{\"type\":\"person\",\"id\":\"p-esc\",\"names\":[{\"text\":\"Kim\\u001b[2J\\u0007\",\"script\":\"latin\"}],\"description\":\"seen \\u001b[2J\"}\n",
            "description",
            "U+001B",
        ),
        (
            "{\"type\":\"source\",\"id\":\"s-rlo\",\"kind\":\"report\",\"title\":\"Report \\u202egnorw\",\"consent\":\"public\"}\n",
            "title",
            "U+202E",
        ),
    ] {
        let output = girok(&data, &["import", &fixture.file("hostile.jsonl", records)]);
        let out = text(&output);
        assert!(!output.status.success(), "{out}");
        assert!(out.contains(field) && out.contains(code), "{out}");
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{202e}'),
            "the refusal printed a raw control character: {out:?}"
        );
    }
    assert_eq!(
        ok(&data, &["list", "persons"]),
        before,
        "something was written"
    );
}

#[test]
fn a_new_term_that_takes_another_terms_spelling_is_refused() {
    let fixture = Fixture::new();
    let data = fixture.data();
    let csv = fixture.file("rows.csv", CSV_EN);
    ok(&data, &["import", &csv]);
    // "Hoeryong" / "회령" already name the city: a second place with them would
    // make every CSV row and every condition that names Hoeryong ambiguous.
    let output = girok(
        &data,
        &[
            "terms",
            "add",
            "places",
            "hoeryong-2",
            "--en",
            "Hoeryong",
            "--ko",
            "회령 시내",
        ],
    );
    let out = text(&output);
    assert!(!output.status.success(), "{out}");
    assert!(
        out.contains("en") && out.contains("already names hoeryong"),
        "{out}"
    );
    let output = girok(
        &data,
        &[
            "terms",
            "add",
            "places",
            "hoeryong-3",
            "--en",
            "Hoeryong town",
            "--ko",
            "회령",
        ],
    );
    assert!(!output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("'회령' already names"),
        "{}",
        text(&output)
    );
    // Nothing was added: the place still reads as the one term.
    assert!(ok(&data, &["stats", "--where", "place=회령"]).contains("where place=회령"));
    ok(
        &data,
        &[
            "terms",
            "add",
            "places",
            "hoeryong-market",
            "--en",
            "Hoeryong market",
            "--ko",
            "회령 시장",
        ],
    );
}

#[test]
fn a_server_unlocked_from_the_environment_keeps_no_passphrase_there() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let passphrase = "correct horse battery staple";
    let init = girok_with(&data, Some(passphrase), &["init", "--encrypt"]);
    assert!(init.status.success(), "{}", text(&init));
    let mut server = Command::new(env!("CARGO_BIN_EXE_girok"))
        .arg("--data")
        .arg(&data)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("GIROK_PASSPHRASE", passphrase)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("line");
        let serving = line.starts_with("Serving");
        seen.push(line);
        if serving {
            break;
        }
    }
    let environ = std::fs::read(format!("/proc/{}/environ", server.id())).expect("environ");
    let _ = server.kill();
    let _ = server.wait();
    assert!(seen.iter().any(|l| l.contains("is unlocked")), "{seen:?}");
    assert!(
        !environ
            .windows(passphrase.len())
            .any(|w| w == passphrase.as_bytes()),
        "the passphrase is still in the server's environment"
    );
}

#[test]
fn user_keys_get_a_scope_and_an_expiry_and_second_factors_are_reset() {
    let fixture = Fixture::new();
    let data = fixture.data();
    let mut add = Command::new(env!("CARGO_BIN_EXE_girok"))
        .arg("--data")
        .arg(&data)
        .args(["user", "add", "kim", "--role", "documenter"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("user add");
    {
        use std::io::Write;
        let mut stdin = add.stdin.take().expect("stdin");
        stdin
            .write_all(b"a long enough password\n")
            .expect("password");
    }
    assert!(add.wait().expect("wait").success());
    // The scope is chosen, and no wider than the role allows.
    let out = fails(&data, &["user", "key", "kim", "--label", "x"]);
    assert!(out.contains("--scope"), "{out}");
    let out = fails(
        &data,
        &["user", "key", "kim", "--label", "x", "--scope", "admin"],
    );
    assert!(out.contains("at most the write scope"), "{out}");
    let out = fails(
        &data,
        &[
            "user",
            "key",
            "kim",
            "--label",
            "x",
            "--scope",
            "read",
            "--expires",
            "soon",
        ],
    );
    assert!(out.contains("is not a date"), "{out}");
    let out = ok(
        &data,
        &[
            "user",
            "key",
            "kim",
            "--label",
            "reader",
            "--scope",
            "read",
            "--expires",
            "2099-01-31",
        ],
    );
    assert!(out.contains("read scope"), "{out}");
    let access = girok_service::open_access(&data).expect("access");
    let keys = access.keys().expect("keys");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].scope, girok_server::access::Scope::Read);
    assert!(
        keys[0]
            .expires
            .as_deref()
            .is_some_and(|e| e.starts_with("2099-01-31T00:00:00"))
    );
    // Documenters may be made to need a second factor; an admin resets one.
    ok(&data, &["user", "second-factor-for-documenters", "on"]);
    let out = ok(&data, &["user", "list"]);
    assert!(out.contains("second factor required, not set up"), "{out}");
    access.begin_enrolment("kim").expect("enrol");
    ok(&data, &["user", "reset-second-factor", "kim"]);
    assert_eq!(
        access.second_factor("kim").expect("factor"),
        girok_server::access::SecondFactor::Off
    );
    let out = fails(&data, &["user", "reset-second-factor", "nobody"]);
    assert!(out.contains("no user 'nobody'"), "{out}");
}
