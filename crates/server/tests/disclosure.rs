//! An attacker of the statistics viewers may have: every table a viewer can
//! get from the API (the published set, and the restricted tables of a
//! differencing attack if the server answers them) goes into one integer
//! linear program, and for every withheld count a solver finds the least and
//! the most it can be, consistent with everything shown. None may be pinned
//! to one value.
//!
//! The attacker knows more than a viewer does: how many times each table
//! counts victims (the sum of its rows, which a viewer sees only as a total
//! when each victim has one value), that every listed value counts someone,
//! that no count exceeds the number of victims, and how restricted tables
//! relate to the others (a province's row is the same in every table by
//! province that keeps it; the three tables restricted by sex add up to the
//! unrestricted one).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use girok_server::App;
use girok_server::access::{Role, Scope};
use girok_store::{Database, Store};
use girok_tabulate::{AgeBands, Audience, Dimension, Facts, Filter, Table, Unit, published};
use good_lp::{Expression, ProblemVariables, Solution, SolverModel, Variable, microlp, variable};

#[path = "../../store/tests/support/cluster.rs"]
mod cluster;
mod support;

use support::send_to;

const SEXES: [&str; 3] = ["female", "male", "unknown"];

/// The demo database and generated testimonies: many small cells.
fn app(dir: &std::path::Path, testimonies: u64, seed: u64) -> Arc<App> {
    let generated = dir.join("generated.jsonl");
    let mut records = std::fs::File::create(&generated).expect("file");
    girok_synth::generate(
        girok_synth::Config { testimonies, seed },
        &mut records,
        &mut std::io::sink(),
        &mut |_| {},
    )
    .expect("generate");
    let demo = dir.join("demo.json");
    std::fs::write(&demo, girok_synth::DEMO_JSON).expect("demo");
    let mut store = Database::create(&dir.join("girok.sqlite")).expect("create");
    girok_service::create_key(dir).expect("checkpoint key");
    girok_service::attach_signer(&mut store, dir);
    store
        .write("setup", |sink| {
            girok_interchange::import(&generated, sink, &mut |_| {})?;
            girok_interchange::import(&demo, sink, &mut |_| {})
        })
        .expect("import");
    drop(store);
    App::open(dir).expect("app")
}

/// A table as the API gave it to the viewer.
struct Served {
    /// The condition it was restricted by, as (dimension, values).
    condition: Option<(String, String)>,
    by: String,
    rows: Vec<(String, Option<u64>)>,
    total: Option<u64>,
    /// How many times its rows count victims, from the database itself.
    line_sum: u64,
}

/// A table request: rows by one dimension, perhaps restricted by a condition.
struct Ask {
    by: String,
    condition: Option<(String, String)>,
}

impl Ask {
    fn path(&self) -> String {
        let mut query = vec![("by", self.by.clone())];
        if let Some((dimension, values)) = &self.condition {
            query.push(("where", format!("{dimension}={values}")));
        }
        format!(
            "/api/stats?{}",
            serde_urlencoded::to_string(query).expect("query")
        )
    }
}

async fn get(app: &Arc<App>, key: &str, path: &str) -> (StatusCode, String, String) {
    let request = Request::builder()
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(Body::empty())
        .expect("request");
    let reply = send_to(app, request).await;
    let content_type = reply
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (reply.status, content_type, reply.body)
}

/// The table the public audience's facts give, before any suppression.
fn secret(app: &Arc<App>, ask: &Ask) -> Table {
    app.read(|store| {
        let resolved = store.link_decisions().expect("decisions").resolved();
        let mut facts = Facts::load(store, resolved).expect("facts");
        facts.restrict_to(Audience::Public);
        let mut filter = Filter::default();
        if let Some((dimension, values)) = &ask.condition {
            filter
                .add(&format!("{dimension}={values}"), store.vocabularies())
                .expect("condition");
        }
        let by: Dimension = ask.by.parse().expect("dimension");
        Table::count(
            &facts,
            by,
            None,
            Unit::Victims,
            &filter,
            store.vocabularies(),
            &AgeBands::default(),
        )
    })
}

/// The name of the count an entry stands for: a province's row is one count
/// in every table by province restricted to provinces that include it.
fn quantity(served: &Served, row: &str) -> String {
    match &served.condition {
        Some((dimension, _)) if dimension == "province" && served.by == "province" => {
            format!("province/{row}")
        }
        Some((dimension, values)) => format!("{dimension}={values}/{}/{row}", served.by),
        None => format!("{}/{row}", served.by),
    }
}

/// A linear relation: the sum of `terms` (count, coefficient) equals `sum`.
struct Relation {
    terms: Vec<(usize, f64)>,
    sum: f64,
}

/// What the attacker knows, as an integer program over every count named.
struct Attacker {
    names: Vec<String>,
    index: HashMap<String, usize>,
    /// Known bounds of each count.
    bounds: Vec<(u64, u64)>,
    relations: Vec<Relation>,
}

impl Attacker {
    fn new(tables: &[Served]) -> Attacker {
        let victims = tables
            .iter()
            .filter_map(|t| t.total)
            .max()
            .expect("some table shows its total");
        let mut attacker = Attacker {
            names: Vec::new(),
            index: HashMap::new(),
            bounds: Vec::new(),
            relations: Vec::new(),
        };
        for table in tables {
            let mut terms = Vec::new();
            for (row, count) in &table.rows {
                let i = attacker.count(quantity(table, row), victims);
                // A listed value counts someone, and nobody counts twice in one row.
                let known = match count {
                    Some(count) => (*count, *count),
                    None => (1, victims),
                };
                let (low, high) = attacker.bounds[i];
                attacker.bounds[i] = (low.max(known.0), high.min(known.1));
                terms.push((i, 1.0));
            }
            if !terms.is_empty() {
                attacker.relations.push(Relation {
                    terms,
                    sum: table.line_sum as f64,
                });
            }
        }
        // Every victim has one sex: the restricted tables add up.
        let by_sex: Vec<&Served> = tables
            .iter()
            .filter(|t| {
                t.condition
                    .as_ref()
                    .is_some_and(|(dimension, _)| dimension == "sex")
            })
            .collect();
        if by_sex.len() == SEXES.len() {
            let mut rows: Vec<&String> = by_sex
                .iter()
                .flat_map(|t| t.rows.iter().map(|(row, _)| row))
                .collect();
            rows.sort();
            rows.dedup();
            for row in rows {
                let Some(&whole) = attacker.index.get(&format!("{}/{row}", by_sex[0].by)) else {
                    continue;
                };
                let mut terms = vec![(whole, -1.0)];
                for table in &by_sex {
                    if let Some(&part) = attacker.index.get(&quantity(table, row)) {
                        terms.push((part, 1.0));
                    }
                }
                attacker.relations.push(Relation { terms, sum: 0.0 });
            }
        }
        attacker
    }

    fn count(&mut self, name: String, victims: u64) -> usize {
        if let Some(&i) = self.index.get(&name) {
            return i;
        }
        self.names.push(name.clone());
        self.bounds.push((0, victims));
        self.index.insert(name, self.names.len() - 1);
        self.names.len() - 1
    }

    /// The least (or the most) count `target` can be.
    fn extreme(&self, target: usize, most: bool) -> f64 {
        let mut problem = ProblemVariables::new();
        let counts: Vec<Variable> = self
            .bounds
            .iter()
            .map(|&(low, high)| problem.add(variable().integer().min(low as f64).max(high as f64)))
            .collect();
        let objective: Expression = counts[target].into();
        let mut model = if most {
            problem.maximise(objective).using(microlp)
        } else {
            problem.minimise(objective).using(microlp)
        };
        for relation in &self.relations {
            let sum: Expression = relation
                .terms
                .iter()
                .map(|&(i, coefficient)| coefficient * counts[i])
                .sum();
            model = model.with(sum.eq(relation.sum));
        }
        let solution = model.solve().expect("what was published is consistent");
        solution.value(counts[target])
    }

    /// Withheld counts the attacker narrows to one value, with that value.
    fn pinned(&self) -> Vec<(String, f64)> {
        (0..self.names.len())
            .filter(|&i| self.bounds[i].0 != self.bounds[i].1)
            .filter_map(|i| {
                let least = self.extreme(i, false);
                let most = self.extreme(i, true);
                (most - least < 0.5).then(|| (self.names[i].clone(), least))
            })
            .collect()
    }

    fn withheld(&self) -> usize {
        self.bounds.iter().filter(|(low, high)| low != high).count()
    }
}

#[tokio::test]
async fn no_withheld_count_of_the_tables_viewers_get_can_be_pinned_by_a_solver() {
    for (testimonies, seed) in DATABASES {
        attack(testimonies, seed).await;
    }
}

/// Generated databases: (testimonies, seed).
const DATABASES: [(u64, u64); 3] = [(70, 19), (40, 3), (150, 5)];

/// Plays the attacker on one database.
async fn attack(testimonies: u64, seed: u64) {
    let dir = tempfile::tempdir().expect("dir");
    let app = app(dir.path(), testimonies, seed);
    let key = app.with_access(|access| {
        access
            .add_user("viewer", Role::Viewer, "a long enough password")
            .expect("user");
        access
            .add_key("viewer", "attacker", Scope::Read, None)
            .expect("key")
    });
    // A small province and a large one, as the differencing attack needs.
    let provinces = secret(
        &app,
        &Ask {
            by: "province".into(),
            condition: None,
        },
    );
    let province_where = |small: bool| {
        provinces
            .row_keys
            .iter()
            .zip(&provinces.row_totals)
            .find(|(key, entry)| {
                !["outside", "unknown"].contains(&key.as_str())
                    && (entry.count < published::THRESHOLD) == small
            })
            .map(|(key, _)| key.clone())
            .expect("a small and a large province")
    };
    let (small, large) = (province_where(true), province_where(false));
    let mut asks: Vec<Ask> = published::DIMENSIONS
        .iter()
        .map(|d| Ask {
            by: d.name().to_string(),
            condition: None,
        })
        .collect();
    let published_tables = asks.len();
    let by_province = |condition: Option<(&str, String)>| Ask {
        by: "province".into(),
        condition: condition.map(|(d, v)| (d.to_string(), v)),
    };
    asks.push(by_province(None));
    asks.push(by_province(Some(("province", format!("{small}|{large}")))));
    asks.push(by_province(Some(("province", large.clone()))));
    for sex in SEXES {
        asks.push(by_province(Some(("sex", sex.to_string()))));
    }

    let mut served = Vec::new();
    let mut refused = Vec::new();
    for ask in &asks {
        let (status, content_type, body) = get(&app, &key, &ask.path()).await;
        if status != StatusCode::OK {
            refused.push((ask.path(), status, content_type, body));
            continue;
        }
        let json: serde_json::Value = serde_json::from_str(&body).expect("json");
        let rows: Vec<(String, Option<u64>)> = json["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|row| {
                (
                    row["key"].as_str().expect("key").to_string(),
                    row["count"].as_u64(),
                )
            })
            .collect();
        let truth = secret(&app, ask);
        let line_sum = if rows.is_empty() {
            0
        } else {
            let mut served_keys: Vec<&String> = rows.iter().map(|(k, _)| k).collect();
            let mut keys: Vec<&String> = truth.row_keys.iter().collect();
            served_keys.sort();
            keys.sort();
            assert_eq!(served_keys, keys, "{}", ask.path());
            truth.row_totals.iter().map(|e| e.count).sum()
        };
        served.push(Served {
            condition: ask.condition.clone(),
            by: ask.by.clone(),
            rows,
            total: json["total"].as_u64(),
            line_sum,
        });
    }

    // Rows largest first would bound a withheld count by its neighbours:
    // withheld rows follow the shown ones, in the order of their keys.
    for table in &served {
        let dimension: Dimension = table.by.parse().expect("dimension");
        if dimension.is_ordinal() {
            continue;
        }
        let withheld: Vec<&str> = table
            .rows
            .iter()
            .filter(|(key, _)| key != "unknown")
            .skip_while(|(_, count)| count.is_some())
            .map(|(key, count)| {
                assert!(
                    count.is_none(),
                    "{}: a shown row after a withheld one",
                    table.by
                );
                key.as_str()
            })
            .collect();
        assert!(withheld.is_sorted(), "{}: {withheld:?}", table.by);
    }

    let attacker = Attacker::new(&served);
    assert!(
        attacker.withheld() >= 8,
        "{testimonies} testimonies, seed {seed}: the database must give small cells, {} withheld",
        attacker.withheld()
    );
    let pinned = attacker.pinned();
    assert!(
        pinned.is_empty(),
        "{testimonies} testimonies, seed {seed}: withheld counts a solver pins to one value (count, value): {pinned:?}"
    );

    // What keeps it so: every table outside the published set is refused.
    assert_eq!(served.len(), published_tables, "only the published tables");
    for (path, status, content_type, body) in &refused {
        assert_eq!(*status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(content_type, "application/problem+json", "{path}");
        assert!(
            body.contains("Not a published table") && body.contains("공개 표"),
            "{path}: {body}"
        );
    }
    let two_way = get(&app, &key, "/api/stats?by=province,sex").await;
    assert_eq!(two_way.0, StatusCode::FORBIDDEN, "{}", two_way.2);
    assert!(two_way.2.contains("\"field\":\"by\""), "{}", two_way.2);
}
