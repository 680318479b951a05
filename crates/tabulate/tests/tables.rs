//! Tables over a small hand-made database whose every count is known.

use std::collections::HashMap;

use girok_model::{Record, RecordId, Vocabularies};
use girok_tabulate::{AgeBands, Dimension, Facts, Filter, Table, Unit};

fn record(json: &str) -> Record {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
}

/// Four person records of three people (p1 and p1b were merged by a
/// reviewer); five acts.
fn facts() -> Facts {
    let resolved = HashMap::from([(RecordId::new("p1b"), RecordId::new("p1"))]);
    let mut builder = Facts::builder(resolved);
    for json in [
        r#"{"type":"source","id":"s1","kind":"interview","title":"t","provenance":"p","consent":"partners","witness":"w1","organisation":"A"}"#,
        r#"{"type":"source","id":"s2","kind":"interview","title":"t","provenance":"p","consent":"internal","witness":"w1","organisation":"A"}"#,
        r#"{"type":"source","id":"s3","kind":"report","title":"t","provenance":"p","organisation":"B"}"#,
        r#"{"type":"person","id":"w1","names":[{"text":"증인","script":"hangul"}]}"#,
        r#"{"type":"person","id":"p1","names":[{"text":"김은주","script":"hangul"}],"sex":"female","birth":"1980"}"#,
        r#"{"type":"person","id":"p1b","names":[{"text":"Kim Eun-joo","script":"latin"}],"sex":"female"}"#,
        r#"{"type":"person","id":"p2","names":[{"text":"박동구","script":"hangul"}],"sex":"male"}"#,
        r#"{"type":"person","id":"p3","names":[{"text":"이영수","script":"hangul"}]}"#,
        r#"{"type":"act","id":"a1","act_type":"arrest","victim":"p1","date":"2001-03","place":"hoeryong"}"#,
        r#"{"type":"act","id":"a2","act_type":"arrest","victim":"p1b","date":"2001","place":"north-hamgyong"}"#,
        r#"{"type":"act","id":"a3","act_type":"execution","victim":"p2","date":"2019..2021","place":"hyesan","victim_age":19}"#,
        r#"{"type":"act","id":"a4","act_type":"forced-repatriation","victim":"p3","place":"china"}"#,
        r#"{"type":"act","id":"a5","act_type":"arrest","victim":"p3","date":"2020-05"}"#,
        r#"{"type":"involvement","id":"i1","act":"a1","agency":"mss"}"#,
        r#"{"type":"involvement","id":"i2","act":"a1","agency":"mps"}"#,
        r#"{"type":"involvement","id":"i4","act":"a4","agency":"china-public-security"}"#,
        r#"{"type":"information","id":"n1","source":"s1","act":"a1","relation":"sibling"}"#,
        r#"{"type":"information","id":"n2","source":"s2","act":"a1","relation":"sibling"}"#,
        r#"{"type":"information","id":"n3","source":"s3","act":"a1"}"#,
        r#"{"type":"information","id":"n4","source":"s2","act":"a3","relation":"friend"}"#,
    ] {
        builder.add(record(json));
    }
    builder.finish()
}

fn one_way(dimension: Dimension, unit: Unit, filter: &Filter) -> Vec<(String, u64)> {
    let vocabularies = Vocabularies::default();
    let table = Table::count(
        &facts(),
        dimension,
        None,
        unit,
        filter,
        &vocabularies,
        &AgeBands::default(),
    );
    table
        .row_keys
        .iter()
        .cloned()
        .zip(table.row_totals.iter().map(|e| e.count))
        .collect()
}

fn pairs(expected: &[(&str, u64)]) -> Vec<(String, u64)> {
    expected.iter().map(|(k, c)| (k.to_string(), *c)).collect()
}

#[test]
fn merged_records_count_once_and_unknowns_are_rows() {
    let all = Filter::default();
    assert_eq!(facts().victims(), 3);
    assert_eq!(
        one_way(Dimension::ActType, Unit::Victims, &all),
        pairs(&[("arrest", 2), ("execution", 1), ("forced-repatriation", 1)])
    );
    assert_eq!(
        one_way(Dimension::ActType, Unit::Acts, &all),
        pairs(&[("arrest", 3), ("execution", 1), ("forced-repatriation", 1)])
    );
    assert_eq!(
        one_way(Dimension::Year, Unit::Acts, &all),
        pairs(&[("2001", 2), ("2020", 1), ("spans years", 1), ("unknown", 1)])
    );
    assert_eq!(
        one_way(Dimension::Agency, Unit::Acts, &all),
        pairs(&[
            ("china-public-security", 1),
            ("mps", 1),
            ("mss", 1),
            ("unknown", 3)
        ])
    );
    assert_eq!(
        one_way(Dimension::Sex, Unit::Victims, &all),
        pairs(&[("female", 1), ("male", 1), ("unknown", 1)])
    );
}

#[test]
fn named_periods_hold_the_acts_dated_inside_them() {
    assert_eq!(
        one_way(Dimension::Period, Unit::Acts, &Filter::default()),
        pairs(&[("covid-border-closure", 1), ("other", 3), ("unknown", 1)])
    );
}

#[test]
fn places_roll_up_through_the_gazetteer() {
    let all = Filter::default();
    assert_eq!(
        one_way(Dimension::Inside, Unit::Acts, &all),
        pairs(&[("inside", 3), ("outside", 1), ("unknown", 1)])
    );
    assert_eq!(
        one_way(Dimension::Province, Unit::Acts, &all),
        pairs(&[
            ("north-hamgyong", 2),
            ("outside", 1),
            ("ryanggang", 1),
            ("unknown", 1)
        ])
    );
}

#[test]
fn ages_relations_consent_and_corroboration() {
    let all = Filter::default();
    // 2001 − 1980 for a1; 19 as recorded for a3.
    assert_eq!(
        one_way(Dimension::AgeGroup, Unit::Acts, &all),
        pairs(&[("18-29", 2), ("unknown", 3)])
    );
    assert_eq!(
        one_way(Dimension::RelationClass, Unit::Acts, &all),
        pairs(&[("non-relative", 1), ("relative", 1), ("unknown", 3)])
    );
    // An act with a known relation is not also counted as unknown.
    // a1: s1 and s2 come from one witness, s3 is another source: 2.
    assert_eq!(
        one_way(Dimension::Corroboration, Unit::Acts, &all),
        pairs(&[("0", 3), ("1", 1), ("2", 1)])
    );
    // a1's widest consent is the published report's; a3's only source is internal.
    assert_eq!(
        one_way(Dimension::Consent, Unit::Acts, &all),
        pairs(&[("internal", 1), ("public", 1), ("unknown", 3)])
    );
}

#[test]
fn filters_keep_acts_wholly_inside_the_period_and_place() {
    let vocabularies = Vocabularies::default();
    let filter = |text: &str| {
        let mut filter = Filter::default();
        filter.add(text, &vocabularies).expect("filter");
        filter
    };
    // "2019..2021" is not inside 2020; "2020-05" is.
    assert_eq!(
        one_way(Dimension::ActType, Unit::Acts, &filter("year=2020")),
        pairs(&[("arrest", 1)])
    );
    assert_eq!(
        one_way(
            Dimension::ActType,
            Unit::Acts,
            &filter("period=covid-border-closure")
        ),
        pairs(&[("arrest", 1)])
    );
    // Hoeryong is in North Hamgyong; any spelling of the province works.
    assert_eq!(
        one_way(Dimension::ActType, Unit::Acts, &filter("place=함경북도")),
        pairs(&[("arrest", 2)])
    );
    assert_eq!(
        one_way(
            Dimension::ActType,
            Unit::Acts,
            &filter("place=hamgyongbuk-do|china, act-type=강제송환")
        ),
        pairs(&[("forced-repatriation", 1)])
    );
    assert_eq!(
        one_way(Dimension::ActType, Unit::Acts, &filter("agency=unknown")),
        pairs(&[("arrest", 2), ("execution", 1)])
    );
    for bad in [
        "year",
        "year=sometime",
        "colour=red",
        "agency=KGB",
        "place=",
    ] {
        let error = Filter::default()
            .add(bad, &vocabularies)
            .expect_err(bad)
            .to_string();
        assert!(error.contains(bad), "{error}");
    }
}

#[test]
fn a_cross_tabulation_has_margins_of_distinct_victims() {
    let vocabularies = Vocabularies::default();
    let table = Table::count(
        &facts(),
        Dimension::ActType,
        Some(Dimension::Sex),
        Unit::Victims,
        &Filter::default(),
        &vocabularies,
        &AgeBands::default(),
    );
    assert_eq!(table.column_keys, ["female", "male", "unknown"]);
    let counts: Vec<Vec<u64>> = table
        .cells
        .iter()
        .map(|row| row.iter().map(|e| e.count).collect())
        .collect();
    assert_eq!(counts, [[1, 0, 1], [0, 1, 0], [0, 0, 1]]);
    assert_eq!(table.total.count, 3);
    let mut protected = table.clone();
    protected.suppress(5);
    assert!(protected.total.shown().is_none() || protected.total.count >= 5);
    assert!(
        protected
            .cells
            .iter()
            .flatten()
            .all(|e| e.count == 0 || e.suppressed)
    );
}

#[test]
fn tables_of_an_empty_database_are_empty_not_errors() {
    let vocabularies = Vocabularies::default();
    let empty = Facts::builder(HashMap::new()).finish();
    for columns in [None, Some(Dimension::Sex)] {
        let mut table = Table::count(
            &empty,
            Dimension::ActType,
            columns,
            Unit::Victims,
            &Filter::default(),
            &vocabularies,
            &AgeBands::default(),
        );
        table.suppress(5);
        assert_eq!(table.total.count, 0);
        assert!(table.row_keys.is_empty());
    }
}

/// One arrest of a family (three victims, one event) and two acts with no
/// event; ages exact, from a birth year, and from a birth decade.
#[test]
fn cases_are_events_and_interval_ages_count_only_inside_one_band() {
    let mut builder = Facts::builder(HashMap::new());
    for json in [
        r#"{"type":"event","id":"e1","title":"arrest of a family"}"#,
        r#"{"type":"person","id":"mother","names":[],"birth":"1970"}"#,
        r#"{"type":"person","id":"son","names":[],"birth":"1990s"}"#,
        r#"{"type":"person","id":"girl","names":[]}"#,
        r#"{"type":"person","id":"other","names":[],"birth":"1975"}"#,
        r#"{"type":"act","id":"a1","act_type":"arrest","victim":"mother","event":"e1","date":"2005"}"#,
        r#"{"type":"act","id":"a2","act_type":"arrest","victim":"son","event":"e1","date":"2005"}"#,
        r#"{"type":"act","id":"a3","act_type":"arrest","victim":"girl","event":"e1","date":"2005","victim_age":8}"#,
        r#"{"type":"act","id":"a4","act_type":"arrest","victim":"other","date":"2010"}"#,
        r#"{"type":"act","id":"a5","act_type":"execution","victim":"other","date":"2011"}"#,
    ] {
        builder.add(record(json));
    }
    let facts = builder.finish();
    let vocabularies = Vocabularies::default();
    let bands: AgeBands = "0-9,10-19,20-39,40-".parse().expect("bands");
    let count = |dimension: Dimension, unit: Unit, bands: &AgeBands| {
        let table = Table::count(
            &facts,
            dimension,
            None,
            unit,
            &Filter::default(),
            &vocabularies,
            bands,
        );
        table
            .row_keys
            .iter()
            .cloned()
            .zip(table.row_totals.iter().map(|e| e.count))
            .collect::<Vec<_>>()
    };
    // e1 is one case; a4 and a5 have no event and are a case each.
    assert_eq!(
        count(Dimension::ActType, Unit::Cases, &bands),
        pairs(&[("arrest", 2), ("execution", 1)])
    );
    assert_eq!(
        count(Dimension::ActType, Unit::Victims, &bands),
        pairs(&[("arrest", 4), ("execution", 1)])
    );
    // The son was 6 to 15 in 2005 (born in the 1990s): in no one band.
    assert_eq!(
        count(Dimension::AgeGroup, Unit::Acts, &bands),
        pairs(&[("0-9", 1), ("20-39", 3), ("spans bands", 1)])
    );
    // The default bands hold all of 6 to 15 in 0-17.
    assert_eq!(
        count(Dimension::AgeGroup, Unit::Victims, &AgeBands::default()),
        pairs(&[("0-17", 2), ("30-44", 2)])
    );
}

#[test]
fn an_audience_counts_only_the_sources_that_consented_to_it() {
    // a1: s1 (partners) and s2 (internal) by witness w1, and the report s3 (public).
    let mut partners = facts();
    let left_out = partners.restrict_to(girok_tabulate::Audience::Partners);
    assert_eq!(left_out, 4, "a3 (only internal) and the unattested acts");
    let a1 = &partners.acts[0];
    assert_eq!(
        (
            a1.corroboration,
            a1.organisations.clone(),
            a1.relations.clone()
        ),
        (
            2,
            vec!["A".to_string(), "B".to_string()],
            vec!["sibling".to_string(), "unknown".to_string()]
        )
    );
    // The public sees only the report: one source, organisation B, no relation known.
    let mut public = facts();
    public.restrict_to(girok_tabulate::Audience::Public);
    let a1 = &public.acts[0];
    assert_eq!(
        (
            a1.corroboration,
            a1.organisations.clone(),
            a1.relations.clone()
        ),
        (1, vec!["B".to_string()], vec!["unknown".to_string()]),
        "the interviews that did not consent to the public neither corroborate nor name a list"
    );
}
