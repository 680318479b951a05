//! No identifying string of an internal record reaches a partners or a
//! public export: generated testimonies plus the demo's real-world ones
//! (whose titles name their witnesses) go in; every name, free text and id
//! is then looked for in the exports.

use girok_model::{ConsentScope, Record, RecordId};
use girok_share::{Summary, export};
use girok_store::{Database, Store};
use girok_tabulate::Audience;

const KEY: [u8; 32] = [7; 32];

fn database(dir: &std::path::Path) -> Database {
    let generated = dir.join("generated.jsonl");
    let mut records = std::fs::File::create(&generated).expect("file");
    girok_synth::generate(
        girok_synth::Config {
            testimonies: 150,
            seed: 11,
        },
        &mut records,
        &mut std::io::sink(),
        &mut |_| {},
    )
    .expect("generate");
    let demo = dir.join("demo.json");
    std::fs::write(&demo, girok_synth::DEMO_JSON).expect("demo");
    let mut store = Database::create(&dir.join("girok.sqlite")).expect("create");
    store
        .write("setup", |sink| {
            girok_interchange::import(&generated, sink, &mut |_| {})?;
            girok_interchange::import(&demo, sink, &mut |_| {})
        })
        .expect("import");
    store
}

/// Everything in an internal record that could identify someone.
fn identifying(record: &Record) -> Vec<String> {
    let mut found = vec![record.id().to_string()];
    let mut text = |t: &str| found.push(t.to_string());
    match record {
        Record::Person(p) => {
            p.names.iter().for_each(|n| text(&n.text));
            text(&p.description);
            text(&p.notes);
            p.clarifications.values().for_each(|c| text(c));
        }
        Record::Source(s) => {
            text(&s.title);
            text(&s.provenance);
            text(&s.notes);
        }
        Record::Event(e) => {
            text(&e.title);
            text(&e.description);
        }
        Record::Act(a) => {
            text(&a.description);
            a.clarifications.values().for_each(|c| text(c));
        }
        _ => {}
    }
    // Short strings ("s1", "Kim") occur by chance in anything.
    found.retain(|s| s.chars().count() >= if s.is_ascii() { 6 } else { 2 });
    found
}

fn exported(store: &Database, audience: Audience) -> (String, Summary) {
    exported_with(store, audience, 5)
}

fn exported_with(store: &Database, audience: Audience, threshold: u64) -> (String, Summary) {
    let mut out = String::new();
    let summary = export(store, audience, &KEY, threshold, &mut |record| {
        out.push_str(&serde_json::to_string(&record).expect("json"));
        out.push('\n');
        Ok(())
    })
    .expect("export");
    (out, summary)
}

#[test]
fn no_identifying_string_reaches_a_partners_or_public_export() {
    let dir = tempfile::tempdir().expect("dir");
    let store = database(dir.path());
    let mut secrets = Vec::new();
    store
        .for_each_record(&mut |record| {
            secrets.extend(identifying(&record));
            Ok(())
        })
        .expect("read");
    assert!(
        secrets.iter().any(|s| s == "김은주"),
        "the test must look for real names"
    );
    for audience in [Audience::Partners, Audience::Public] {
        let (out, summary) = exported(&store, audience);
        assert!(summary.records > 100, "{audience:?}: {summary:?}");
        for secret in &secrets {
            assert!(
                !out.contains(secret.as_str()),
                "{audience:?} export contains {secret:?}"
            );
        }
    }
}

#[test]
fn consent_decides_what_goes_out_and_narrowing_it_takes_effect_at_once() {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = database(dir.path());
    let (public, _) = exported(&store, Audience::Public);
    let (partners, summary) = exported(&store, Audience::Partners);
    assert!(
        partners.len() > public.len(),
        "partners see more than the public"
    );
    assert!(summary.without_consent > 0, "{summary:?}");
    // The demo's executions are attested only by a public UN testimony; three
    // acts are too few to publish with a threshold of 5, so look with 1.
    let event = |out: &str| out.contains("\"violations\":[\"life\",\"expression\"]");
    let (public, _) = exported_with(&store, Audience::Public, 1);
    assert!(event(&public), "{public}");
    store
        .write("officer", |sink| {
            sink.apply(girok_model::Change::SetConsent {
                source: RecordId::new("s-un-2025-kang"),
                scope: ConsentScope::Internal,
                widen: false,
                reason: "the witness's family was threatened".into(),
            })
        })
        .expect("narrow");
    let (after, _) = exported_with(&store, Audience::Public, 1);
    assert!(!event(&after), "{after}");
}

#[test]
fn every_published_act_is_one_of_at_least_threshold_alike() {
    let dir = tempfile::tempdir().expect("dir");
    let store = database(dir.path());
    let (out, summary) = exported(&store, Audience::Public);
    let mut groups: std::collections::HashMap<String, u64> = Default::default();
    for line in out.lines() {
        let record: serde_json::Value = serde_json::from_str(line).expect("json");
        if record["type"] == "act" {
            let key = format!(
                "{}|{}|{}",
                record["place"], record["date"], record["act_type"]
            );
            *groups.entry(key).or_default() += 1;
        }
    }
    assert!(!groups.is_empty());
    assert!(groups.values().all(|&n| n >= 5), "{groups:?}");
    assert!(summary.generalised + summary.withheld > 0, "{summary:?}");
}

#[test]
fn pseudonyms_are_stable_per_audience_and_differ_between_audiences() {
    let dir = tempfile::tempdir().expect("dir");
    let store = database(dir.path());
    let ids = |out: &str| -> Vec<String> {
        out.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json")["id"].to_string())
            .collect()
    };
    let (first, _) = exported(&store, Audience::Partners);
    let (second, _) = exported(&store, Audience::Partners);
    assert_eq!(ids(&first), ids(&second));
    let (public, _) = exported(&store, Audience::Public);
    let partner_ids = ids(&first);
    assert!(ids(&public).iter().all(|id| !partner_ids.contains(id)));
}
