//! Published tables reproduced: a data set with the margins of the TJWG
//! report on enforced disappearances (shared/data/tjwg-2024.tsv), imported
//! through the Korean-header CSV layout, gives the report's percentages
//! with `girok stats`.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const PUBLISHED: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/tjwg-2024.tsv"
));

fn girok(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_girok"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env("GIROK_ACTOR", "tester")
        .output()
        .expect("run girok")
}

fn ok(data: &Path, args: &[&str]) -> String {
    let output = girok(data, args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "girok {args:?} failed:\n{text}");
    text
}

/// A published figure of the report, by name.
fn published(figure: &str) -> String {
    PUBLISHED
        .lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let mut fields = line.split('\t');
            (fields.next() == Some(figure)).then(|| fields.next().unwrap_or("").to_string())
        })
        .unwrap_or_else(|| panic!("{figure} is not in tjwg-2024.tsv"))
}

fn count(figure: &str) -> usize {
    published(figure).parse().expect("a whole number")
}

/// How many of `total` make `percent` when rounded to one decimal.
fn share(total: usize, figure: &str) -> usize {
    let percent: f64 = published(figure).parse().expect("a percentage");
    let n = (percent / 100.0 * total as f64).round() as usize;
    assert_eq!(
        format!("{:.1}", 100.0 * n as f64 / total as f64),
        published(figure)
    );
    n
}

/// The CSV a documenter would write: one row per victim, headers in
/// Korean. Victims are numbered; each margin takes a different stride
/// through them so that no two margins line up.
fn tjwg_csv() -> String {
    let (victims, interviewees) = (count("victims"), count("interviewees"));
    let named = share(victims, "attributed_to_named_agencies_pct");
    let inside = share(victims, "arrested_inside_pct");
    let under_ten = share(victims, "under_ten_pct");
    let relatives = share(victims, "relatives_of_interviewees_pct");
    let mut csv = String::from(
        "출처ID,출처제목,동의범위,기록단체,증언자ID,피해자ID,출생,행위유형,행위일시,행위장소,당시나이,가해기관,증언자와의관계,사건ID\n",
    );
    // Interviewees told of two victims each until every one was named once.
    let two_each = victims - interviewees;
    let permuted = |i: usize, stride: usize| i * stride % victims;
    for i in 0..victims {
        let witness = if i < 2 * two_each {
            i / 2
        } else {
            i - two_each
        };
        let (place, agency) = if i < inside {
            let named_inside = named * inside / victims;
            (
                ["회령", "혜산", "무산", "청진"][i % 4],
                if i < named_inside {
                    ["국가보위성", "국경경비대", "보위국", "사회안전성"][i % 4]
                } else {
                    ""
                },
            )
        } else {
            let named_outside = named - named * inside / victims;
            (
                ["연길", "도문", "중국", "블라디보스토크"][i % 4],
                if i - inside < named_outside {
                    if i % 4 == 3 {
                        "러시아 당국"
                    } else {
                        "중국 공안"
                    }
                } else {
                    ""
                },
            )
        };
        // Ages: exact, from a birth decade inside 20-39 (25-35 in 2015),
        // across bands (13-22 in 2012), unknown.
        let a = permuted(i, 37);
        let (birth, date, age) = match a {
            _ if a < under_ten => ("", "2015", (3 + a % 7).to_string()),
            _ if a < under_ten + 15 => ("", "2015", (10 + a % 10).to_string()),
            _ if a < under_ten + 67 => ("", "2015", (20 + a % 20).to_string()),
            _ if a < under_ten + 92 => ("", "2015", (40 + a % 30).to_string()),
            _ if a < under_ten + 95 => ("1980s", "2015", String::new()),
            _ if a < under_ten + 97 => ("1990s", "2012", String::new()),
            _ => ("", "2015", String::new()),
        };
        let r = permuted(i, 53);
        let relation = if r < relatives {
            ["자녀", "배우자", "형제자매", "부모"][r % 4]
        } else {
            ["이웃", "친구", "지인"][r % 3]
        };
        csv += &format!(
            "s{witness:02},면담 {witness:02},internal,TJWG,w{witness:02},v{i:03},{birth},강제실종,{date},{place},{age},{agency},{relation},c{:02}\n",
            i % count("cases")
        );
    }
    csv
}

/// The report's cases as event records (JSON Lines): the CSV names the
/// event of each act, and an event is recorded before acts refer to it.
fn tjwg_cases() -> String {
    (0..count("cases"))
        .map(|case| {
            format!("{{\"type\":\"event\",\"id\":\"c{case:02}\",\"title\":\"사건 {case:02}\"}}\n")
        })
        .collect()
}

fn stats(data: &Path, args: &[&str]) -> Value {
    let mut all = vec!["stats", "--format", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(data, &all)).expect("json")
}

/// The row of a one-way table with this key: (count, percent to one decimal).
fn row(table: &Value, key: &str) -> (u64, String) {
    let row = table["tables"][0]["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no row {key} in {table}"));
    (
        row["count"].as_u64().expect("count"),
        format!("{:.1}", row["percent"].as_f64().expect("percent")),
    )
}

#[test]
fn the_tjwg_report_percentages_come_out_of_its_margins_imported_with_korean_headers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    ok(&data, &["init"]);
    let cases = dir.path().join("cases.jsonl");
    std::fs::write(&cases, tjwg_cases()).expect("write");
    ok(&data, &["import", cases.to_str().expect("path")]);
    let file = dir.path().join("tjwg.csv");
    std::fs::write(&file, tjwg_csv()).expect("write");
    ok(&data, &["import", file.to_str().expect("path")]);
    let victims = count("victims") as u64;

    let agencies = stats(&data, &["--by", "agency"]);
    assert_eq!(agencies["tables"][0]["total"], victims);
    let (unknown, _) = row(&agencies, "unknown");
    assert_eq!(
        format!("{:.1}", 100.0 * (victims - unknown) as f64 / victims as f64),
        published("attributed_to_named_agencies_pct")
    );

    let inside = stats(&data, &["--by", "inside"]);
    assert_eq!(row(&inside, "inside").1, published("arrested_inside_pct"));
    assert_eq!(row(&inside, "outside").1, published("arrested_abroad_pct"));

    let relation = stats(&data, &["--by", "relation-class"]);
    assert_eq!(
        row(&relation, "relative").1,
        published("relatives_of_interviewees_pct")
    );

    let ages = stats(
        &data,
        &["--by", "age-group", "--age-bands", "0-9,10-19,20-39,40-"],
    );
    assert_eq!(row(&ages, "0-9").1, published("under_ten_pct"));
    let (_, twenties_thirties) = row(&ages, "20-39");
    let twenties_thirties: f64 = twenties_thirties.parse().expect("percent");
    assert_eq!(published("twenties_thirties"), "nearly half");
    assert!(
        (45.0..50.0).contains(&twenties_thirties),
        "20-39: {twenties_thirties}%"
    );
    // Born in the 1990s and taken in 2012: 13 to 22, in no one band.
    assert_eq!(row(&ages, "spans bands").0, 2);

    // 113 victims in 66 cases: every act names its case in the CSV.
    let cases = stats(&data, &["--by", "act-type", "--count", "cases"]);
    assert_eq!(cases["unit"], "cases");
    assert_eq!(cases["tables"][0]["total"], count("cases") as u64);
}

#[test]
fn age_bands_that_cannot_be_read_are_refused_with_the_band() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    ok(&data, &["init"]);
    let output = girok(&data, &["stats", "--age-bands", "0-9,12-19"]);
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(text.contains("'12-19' does not start at 10"), "{text}");
}

/// With `girok link`'s proposals, proposed clusters count as one person,
/// as `girok estimate --with-proposals` counts them.
#[test]
fn statistics_with_proposals_count_proposed_clusters_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    ok(&data, &["init"]);
    let file = dir.path().join("s.jsonl");
    let path = file.to_str().expect("path");
    ok(
        dir.path(),
        &[
            "synth",
            "--testimonies",
            "300",
            "--seed",
            "5",
            "--out",
            path,
        ],
    );
    ok(&data, &["import", path]);
    ok(&data, &["link"]);
    let total = |args: &[&str]| stats(&data, args)["tables"][0]["total"].as_u64();
    let (reviewed, proposed) = (
        total(&["--by", "sex"]).expect("total"),
        total(&["--by", "sex", "--with-proposals"]).expect("total"),
    );
    assert!(
        proposed < reviewed,
        "{proposed} with proposals, {reviewed} without"
    );
    assert_eq!(
        stats(&data, &["--by", "sex", "--with-proposals"])["with_proposals"],
        true
    );
}
