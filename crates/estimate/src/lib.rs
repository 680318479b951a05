//! Multiple Systems Estimation over a Girok database: lists are the
//! documenting organisations of the sources; individuals are resolved
//! victims of the acts a filter selects; a victim is on a list when a source
//! of that organisation attests one of those acts. Runs the models of
//! `girok-stats` per stratum and says what the numbers cannot carry.
//! Shared by `girok estimate`, `girok report` and the web application.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use girok_model::{RecordId, Wording};
use girok_stats::decomposable::{self, DecomposableError};
use girok_stats::{CaptureError, CaptureTable, lcmcr, loglinear};
use girok_store::{Database, Store, StoreError};
use girok_tabulate::{AgeBands, Audience, Dimension, Facts, Filter, FilterError};

pub mod linkage;

#[derive(Debug, thiserror::Error)]
pub enum EstimateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Filter(#[from] FilterError),
    #[error("there are no linkage proposals yet: run linkage first")]
    NoProposals,
    #[error(transparent)]
    Proposals(girok_linkage::proposals::ProposalsError),
    #[error(
        "no source of organisation '{name}' attests a victim here; the organisations are: {known}"
    )]
    UnknownList { name: String, known: String },
}

impl EstimateError {
    /// What to say in Korean of a refusal; `None` for a failure, shown as
    /// it is worded.
    pub fn korean(&self) -> Option<String> {
        match self {
            EstimateError::Store(error) => error.korean(),
            EstimateError::Filter(error) => Some(error.korean()),
            EstimateError::NoProposals => {
                Some("아직 연결 제안이 없습니다: 먼저 연결을 실행하십시오".to_string())
            }
            EstimateError::Proposals(_) => None,
            EstimateError::UnknownList { name, known } => Some(format!(
                "기관 '{name}'의 출처가 입증하는 피해자가 여기에 없습니다; 기관은 {known}입니다"
            )),
        }
    }
}

/// What was asked of `girok estimate`.
#[derive(Debug, Clone)]
pub struct Request {
    pub conditions: Vec<String>,
    /// Estimate separately for each value of this dimension.
    pub strata: Option<Dimension>,
    /// Organisations to use as lists (default: all).
    pub lists: Vec<String>,
    pub lcmcr: lcmcr::Settings,
    pub chains: usize,
    pub delta: Option<f64>,
    /// Resolve persons with `girok link`'s unreviewed proposals too.
    pub with_proposals: bool,
    /// Only acts whose sources' consent allows this audience count.
    pub audience: Audience,
    /// Also estimate over this many clusterings drawn from the linkage model
    /// of the undecided proposals, pooled: the estimate with linkage
    /// uncertainty, beside the one that takes the proposals as confirmed.
    pub linkage_draws: Option<usize>,
}

/// The estimate made when nothing else is asked (the command line's defaults).
pub mod defaults {
    pub const CLASSES: usize = 10;
    pub const SAMPLES: usize = 5_000;
    pub const BURN_IN: usize = 10_000;
    pub const THIN: usize = 20;
    pub const CHAINS: usize = 4;
    pub const SEED: u64 = 1;
}

impl Request {
    /// Every victim the audience may count, all organisations as lists, the
    /// sampler at its [`defaults`], reviewers' decisions only.
    pub fn standard(audience: Audience) -> Request {
        Request {
            conditions: Vec::new(),
            strata: None,
            lists: Vec::new(),
            lcmcr: lcmcr::Settings {
                classes: defaults::CLASSES,
                samples: defaults::SAMPLES,
                burn_in: defaults::BURN_IN,
                thin: defaults::THIN,
                seed: defaults::SEED,
                ..Default::default()
            },
            chains: defaults::CHAINS,
            delta: None,
            with_proposals: false,
            audience,
            linkage_draws: None,
        }
    }
}

/// The estimates for one stratum (or for everyone).
pub struct Stratum {
    /// Stratum key and labels; `None` for the whole population.
    pub key: Option<(String, String, String)>,
    pub victims: usize,
    /// Victims attested only by sources without a documenting organisation.
    pub unlisted: usize,
    pub table: Result<CaptureTable, CaptureError>,
    pub lcmcr: Option<lcmcr::Estimate>,
    pub decomposable: Option<Result<decomposable::Posterior, DecomposableError>>,
    pub loglinear: Vec<loglinear::Fit>,
    /// The latent-class estimate over clusterings drawn from the linkage
    /// model, when asked for.
    pub integrated: Option<linkage::Integrated>,
    pub warnings: Vec<Wording>,
}

pub struct Estimates {
    pub filter: Option<String>,
    pub strata_by: Option<Dimension>,
    pub lists: Vec<String>,
    pub strata: Vec<Stratum>,
    pub request: Request,
    /// Warnings about the whole estimate (stale linkage proposals).
    pub warnings: Vec<Wording>,
}

/// The name of the list of sources that record no organisation.
const NO_ORGANISATION: &str = "(no organisation recorded)";

pub fn compute(store: &Database, request: &Request) -> Result<Estimates, EstimateError> {
    let vocabularies = store.vocabularies();
    let mut filter = Filter::default();
    for condition in &request.conditions {
        filter.add(condition, vocabularies)?;
    }
    let (resolved, stale) = resolution(store, request.with_proposals)?;
    let mut facts = Facts::load(store, resolved)?;
    let left_out = facts.restrict_to(request.audience);
    let victims = victims_of(&facts, &filter, request, vocabularies);
    let mut sizes: BTreeMap<&str, usize> = BTreeMap::new();
    for victim in victims.values() {
        for organisation in &victim.organisations {
            *sizes.entry(organisation).or_default() += 1;
        }
    }
    let lists: Vec<String> = if request.lists.is_empty() {
        let mut all: Vec<(&str, usize)> = sizes
            .iter()
            .filter(|(name, _)| **name != NO_ORGANISATION)
            .map(|(name, size)| (*name, *size))
            .collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        all.into_iter().map(|(name, _)| name.to_string()).collect()
    } else {
        for name in &request.lists {
            if !sizes.contains_key(name.as_str()) {
                let known: Vec<&str> = sizes.keys().copied().collect();
                return Err(EstimateError::UnknownList {
                    name: name.clone(),
                    known: known.join(", "),
                });
            }
        }
        request.lists.clone()
    };
    let mut strata: Vec<Stratum> = capture_tables(&victims, &lists, request.strata.is_some())
        .into_iter()
        .map(|(key, (members, unlisted, table))| {
            let labels = key.map(|key| {
                let (en, ko) = request
                    .strata
                    .map(|d| d.label(&key, vocabularies))
                    .unwrap_or_default();
                (key, en, ko)
            });
            estimate_stratum(labels, members, unlisted, table, request)
        })
        .collect();
    if let Some(draws) = request.linkage_draws {
        integrate_linkage(store, request, &filter, &lists, draws, &mut strata)?;
    }
    Ok(Estimates {
        filter: filter.describe(),
        strata_by: request.strata,
        lists,
        strata,
        request: request.clone(),
        warnings: stale
            .into_iter()
            .chain((left_out > 0).then(|| {
                Wording::new(
                    format!("{left_out} acts are left out: no attesting source's consent allows this audience"),
                    format!("행위 {left_out}건이 빠졌습니다: 이 공개 범위를 허락하는 출처의 동의가 없습니다"),
                )
            }))
            .collect(),
    })
}

/// What an estimate needs of a victim: the stratum of their earliest dated
/// act and the organisations that list them.
#[derive(Clone)]
struct Victim {
    earliest: Option<chrono::NaiveDate>,
    stratum: String,
    organisations: BTreeSet<String>,
}

impl Victim {
    /// One victim out of two persons a clustering joins.
    fn join(&mut self, other: &Victim) {
        if other.earliest.is_some() && (self.earliest.is_none() || other.earliest < self.earliest) {
            self.earliest = other.earliest;
            self.stratum = other.stratum.clone();
        }
        self.organisations
            .extend(other.organisations.iter().cloned());
    }
}

/// The victims of the acts `filter` selects, by resolved person.
fn victims_of(
    facts: &Facts,
    filter: &Filter,
    request: &Request,
    vocabularies: &girok_model::Vocabularies,
) -> BTreeMap<RecordId, Victim> {
    let mut victims: BTreeMap<RecordId, Victim> = BTreeMap::new();
    // Strata by age use the groups of tables no one chose bands for.
    let age_bands = AgeBands::default();
    for fact in facts
        .acts
        .iter()
        .filter(|f| filter.matches(f, vocabularies, &age_bands))
    {
        let stratum = request
            .strata
            .map(|d| d.values(fact, vocabularies, &age_bands).join("+"))
            .unwrap_or_default();
        let mut organisations: BTreeSet<String> = fact.organisations.iter().cloned().collect();
        if fact.organisations.is_empty() && fact.corroboration > 0 {
            organisations.insert(NO_ORGANISATION.to_string());
        }
        let act = Victim {
            earliest: fact.date.start(),
            stratum,
            organisations,
        };
        match victims.entry(fact.victim.clone()) {
            std::collections::btree_map::Entry::Vacant(entry) => {
                entry.insert(act);
            }
            // A victim belongs to the stratum of their earliest dated act.
            std::collections::btree_map::Entry::Occupied(mut entry) => entry.get_mut().join(&act),
        }
    }
    victims
}

/// The capture table of each stratum (`None` for everyone), with its
/// number of victims and of victims on none of `lists`.
fn capture_tables(
    victims: &BTreeMap<RecordId, Victim>,
    lists: &[String],
    stratified: bool,
) -> BTreeMap<Option<String>, (usize, usize, CaptureTable)> {
    let mut groups: BTreeMap<Option<String>, Vec<&Victim>> = BTreeMap::new();
    groups.insert(None, Vec::new());
    for victim in victims.values() {
        groups.entry(None).or_default().push(victim);
        if stratified {
            groups
                .entry(Some(victim.stratum.clone()))
                .or_default()
                .push(victim);
        }
    }
    groups
        .into_iter()
        .map(|(key, members)| {
            let unlisted = members
                .iter()
                .filter(|v| !v.organisations.iter().any(|o| lists.contains(o)))
                .count();
            let table = CaptureTable::from_individuals(
                lists.to_vec(),
                members.iter().map(|v| {
                    lists
                        .iter()
                        .enumerate()
                        .filter(|(_, name)| v.organisations.contains(*name))
                        .map(|(j, _)| j)
                        .collect::<Vec<_>>()
                }),
            );
            (key, (members.len(), unlisted, table))
        })
        .collect()
}

/// Adds to each stratum its estimate over `draws` clusterings drawn from the
/// linkage model of the undecided proposals, and the warnings that go with it.
fn integrate_linkage(
    store: &Database,
    request: &Request,
    filter: &Filter,
    lists: &[String],
    draws: usize,
    strata: &mut [Stratum],
) -> Result<(), EstimateError> {
    let resolved = store.link_decisions()?.resolved();
    let model = linkage::LinkModel::load(store, &resolved)?;
    let mut facts = Facts::load(store, resolved)?;
    facts.restrict_to(request.audience);
    let victims = victims_of(&facts, filter, request, store.vocabularies());
    let mut tables: BTreeMap<Option<String>, Vec<CaptureTable>> = BTreeMap::new();
    for clustering in model.draw(draws.max(1), request.lcmcr.seed) {
        let mut joined: BTreeMap<RecordId, Victim> = BTreeMap::new();
        for (person, victim) in &victims {
            let cluster = clustering.get(person).unwrap_or(person);
            match joined.get_mut(cluster) {
                Some(found) => found.join(victim),
                None => {
                    joined.insert(cluster.clone(), victim.clone());
                }
            }
        }
        for (key, (_, _, table)) in capture_tables(&joined, lists, request.strata.is_some()) {
            tables.entry(key).or_default().push(table);
        }
    }
    for stratum in strata.iter_mut() {
        let key = stratum.key.as_ref().map(|(key, _, _)| key.clone());
        let drawn: Vec<CaptureTable> = tables
            .remove(&key)
            .unwrap_or_default()
            .into_iter()
            .filter(|t| t.validate().is_ok())
            .collect();
        let known = match (&stratum.table, &stratum.lcmcr) {
            (Ok(table), Some(estimate)) => Some((table, estimate)),
            _ => None,
        };
        stratum.integrated = linkage::integrate(&drawn, known, &request.lcmcr, request.chains);
        if let Some(integrated) = &stratum.integrated {
            stratum.warnings.extend(linkage_warnings(integrated));
        }
    }
    Ok(())
}

/// What a reader must know about an estimate over drawn clusterings.
fn linkage_warnings(integrated: &linkage::Integrated) -> Vec<Wording> {
    let mut warnings = Vec::new();
    if integrated.between > linkage::BETWEEN_LIMIT {
        let (low, high) = integrated.observed;
        let share = 100.0 * integrated.between;
        warnings.push(Wording::new(
            format!(
                "the clusterings drawn from the linkage model disagree widely: {share:.0}% of the spread of N \
                 comes from who is the same person (between {low} and {high} victims observed); \
                 review the proposals before using this estimate"
            ),
            format!(
                "연결 모형에서 뽑은 군집들이 크게 다릅니다: N의 퍼짐 중 {share:.0}%가 누가 같은 사람인가에서 \
                 나옵니다 (관측된 피해자 {low}~{high}명); 이 추정을 쓰기 전에 제안을 검토하십시오"
            ),
        ));
    }
    if integrated.drifting > 0 {
        let (drifting, draws) = (integrated.drifting, integrated.draws);
        warnings.push(Wording::new(
            format!(
                "in {drifting} of the {draws} clusterings the latent-class chain still moved away from its start: \
                 run longer (a longer burn-in and more samples)"
            ),
            format!(
                "군집 {draws}개 중 {drifting}개에서 잠재계층 사슬이 아직 시작점에서 멀어지고 있습니다: \
                 더 길게 실행하십시오 (번인과 표본을 늘리십시오)"
            ),
        ));
    }
    warnings
}

/// Estimates from a capture-pattern file (`pattern<TAB>count` lines)
/// instead of the database.
pub fn from_table(text: &str, request: &Request) -> Result<Estimates, CaptureError> {
    let table = CaptureTable::parse(text)?;
    let observed = table.observed() as usize;
    Ok(Estimates {
        filter: None,
        strata_by: None,
        lists: table.names.clone(),
        strata: vec![estimate_stratum(None, observed, 0, table, request)],
        request: request.clone(),
        warnings: Vec::new(),
    })
}

fn estimate_stratum(
    key: Option<(String, String, String)>,
    victims: usize,
    unlisted: usize,
    table: CaptureTable,
    request: &Request,
) -> Stratum {
    let table = table.validate().map(|()| table);
    let mut stratum = Stratum {
        key,
        victims,
        unlisted,
        table,
        lcmcr: None,
        decomposable: None,
        loglinear: Vec::new(),
        integrated: None,
        warnings: Vec::new(),
    };
    let Ok(table) = &stratum.table else {
        return stratum;
    };
    let lcmcr = lcmcr::run(table, &request.lcmcr, request.chains).ok();
    let decomposable = (table.lists <= decomposable::MAX_LISTS).then(|| {
        decomposable::average(
            table,
            &decomposable::Settings {
                delta: request.delta,
                ..Default::default()
            },
        )
    });
    stratum.loglinear = loglinear::select(table);
    stratum.warnings = warnings(table, lcmcr.as_ref(), decomposable.as_ref());
    stratum.lcmcr = lcmcr;
    stratum.decomposable = decomposable;
    stratum
}

/// What a reader must know before using the numbers.
fn warnings(
    table: &CaptureTable,
    lcmcr: Option<&lcmcr::Estimate>,
    decomposable: Option<&Result<decomposable::Posterior, DecomposableError>>,
) -> Vec<Wording> {
    let mut warnings = Vec::new();
    let observed = table.observed();
    if observed < 100 {
        warnings.push(Wording::new(
            format!("only {observed} individuals are observed: intervals are wide and depend on the priors"),
            format!("관측된 사람이 {observed}명뿐입니다: 구간이 넓고 사전분포에 좌우됩니다"),
        ));
    }
    for a in 0..table.lists {
        for b in a + 1..table.lists {
            let overlap: u64 = table
                .cells
                .iter()
                .filter(|(p, _)| table.on_list(*p, a) && table.on_list(*p, b))
                .map(|(_, c)| c)
                .sum();
            if overlap == 0 {
                let (first, second) = (&table.names[a], &table.names[b]);
                warnings.push(Wording::new(
                    format!(
                        "'{first}' and '{second}' share no one: how they depend on each other is a guess of the model"
                    ),
                    format!(
                        "'{first}' 목록과 '{second}' 목록에 함께 있는 사람이 없습니다: 두 목록의 의존 관계는 모형의 추측입니다"
                    ),
                ));
            }
        }
    }
    if let Some(estimate) = lcmcr
        && !estimate.converged()
    {
        let (rhat, ess) = (estimate.rhat, estimate.ess);
        warnings.push(Wording::new(
            format!(
                "the latent-class chains have not converged (R-hat {rhat:.3}, effective draws {ess:.0}; \
                 needed R-hat ≤ 1.05 and ≥ 400): do not use this estimate; run longer (more samples)"
            ),
            format!(
                "잠재계층 사슬이 수렴하지 않았습니다 (R-hat {rhat:.3}, 유효 표본 {ess:.0}; \
                 필요한 값은 R-hat ≤ 1.05, 400 이상): 이 추정을 쓰지 마십시오; 더 길게 실행하십시오 (표본을 늘리십시오)"
            ),
        ));
    }
    if let Some(estimate) = lcmcr {
        let drifting = estimate.drifting_chains();
        if !drifting.is_empty() {
            let chains: Vec<String> = drifting
                .iter()
                .map(|(chain, z)| format!("chain {chain}: z = {z:.1}"))
                .collect();
            let (chains, limit) = (chains.join(", "), lcmcr::DRIFT_LIMIT);
            warnings.push(Wording::new(
                format!(
                    "latent-class chains still move away from their start in their kept draws \
                     (first tenth against last tenth, {chains}; expected |z| ≤ {limit}): the estimate may carry \
                     the start or rest on a rare excursion; run longer (a longer burn-in and more samples)"
                ),
                format!(
                    "잠재계층 사슬이 남긴 표본 안에서도 아직 시작점에서 멀어지고 있습니다 \
                     (처음 10분의 1과 마지막 10분의 1 비교, {chains}; 기대값 |z| ≤ {limit}): 추정이 시작점을 \
                     끌고 있거나 드문 이탈에 기대고 있을 수 있습니다; 더 길게 실행하십시오 (번인과 표본을 늘리십시오)"
                ),
            ));
        }
    }
    if let Some(estimate) = lcmcr
        && estimate.tail_at_bound()
    {
        let bound = estimate.bound;
        warnings.push(Wording::new(
            format!(
                "the latent-class posterior reaches toward its bound of N ≤ {bound} (21 times the observed): \
                 the data do not bound the upper tail, and the upper end of the interval is the bound's"
            ),
            format!(
                "잠재계층 사후분포가 상한 N ≤ {bound} (관측의 21배)까지 뻗어 있습니다: \
                 자료가 위쪽 꼬리를 제한하지 못하며, 구간의 위 끝은 상한에서 나온 값입니다"
            ),
        ));
    }
    match decomposable {
        Some(Ok(posterior)) if posterior.truncated => {
            let end = posterior.observed + posterior.missing.len() as u64;
            warnings.push(Wording::new(
                format!(
                    "the model-averaged posterior does not fall off by N = {end}: the data do not bound the upper tail"
                ),
                format!(
                    "모형 평균 사후분포가 N = {end}까지 줄어들지 않습니다: 자료가 위쪽 꼬리를 제한하지 못합니다"
                ),
            ))
        }
        Some(Err(error)) => warnings.push(Wording::new(
            format!("model averaging: {error}"),
            format!("모형 평균: {error}"),
        )),
        _ => {}
    }
    if let (Some(estimate), Some(Ok(posterior))) = (lcmcr, decomposable) {
        let (a, b) = (
            estimate.pooled.quantile(0.5),
            posterior.quantile(0.5) as f64,
        );
        if (a - b).abs() > 0.25 * a.min(b) {
            warnings.push(Wording::new(
                format!(
                    "the latent-class ({a:.0}) and model-averaged ({b:.0}) medians differ by more than 25%: \
                     the estimate depends on the model; report both and the reasons to prefer one"
                ),
                format!(
                    "잠재계층 ({a:.0})과 모형 평균 ({b:.0})의 중앙값이 25% 넘게 다릅니다: \
                     추정이 모형에 좌우됩니다; 둘 다 보고하고 하나를 택하는 이유를 밝히십시오"
                ),
            ));
        }
    }
    warnings
}

/// Person records → the person each resolves to: reviewers' decisions and,
/// with `with_proposals`, the latest proposals of `girok link` as if
/// confirmed. The second value warns when those proposals are stale.
pub fn resolution(
    store: &Database,
    with_proposals: bool,
) -> Result<(HashMap<RecordId, RecordId>, Option<Wording>), EstimateError> {
    let mut decisions = store.link_decisions()?;
    if !with_proposals {
        return Ok((decisions.resolved(), None));
    }
    let run = store.link_run()?.ok_or(EstimateError::NoProposals)?;
    let size = store.head()?.0;
    let computed_at = run.journal_size;
    let stale = (computed_at != size).then(|| {
        Wording::new(
            format!(
                "the linkage proposals were computed at journal size {computed_at}, the journal now has {size} entries: \
                 run linkage again"
            ),
            format!(
                "연결 제안은 기록부 크기 {computed_at}에서 계산되었고, 지금 기록부에는 {size}개 항목이 있습니다: \
                 연결을 다시 실행하십시오"
            ),
        )
    });
    for proposal in store.undecided_link_proposals()? {
        for pair in proposal.persons.windows(2) {
            decisions
                .same
                .push((pair[0].id.clone(), pair[1].id.clone()));
        }
    }
    Ok((decisions.resolved(), stale))
}

/// One model's estimate of the population: median and 95% interval (a
/// point, for log-linear fits).
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub model: &'static str,
    pub model_ko: &'static str,
    pub low: f64,
    pub median: f64,
    pub high: f64,
}

impl Stratum {
    /// The estimates of every model that ran, for charts and tables.
    pub fn summaries(&self) -> Vec<Summary> {
        let mut rows = Vec::new();
        if let Some(e) = &self.lcmcr {
            rows.push(Summary {
                model: "Latent-class (LCMCR)",
                model_ko: "잠재계층",
                low: e.pooled.quantile(0.025),
                median: e.pooled.quantile(0.5),
                high: e.pooled.quantile(0.975),
            });
        }
        if let Some(Ok(p)) = &self.decomposable {
            rows.push(Summary {
                model: "Decomposable models, averaged",
                model_ko: "분해가능 모형 평균",
                low: p.quantile(0.025) as f64,
                median: p.quantile(0.5) as f64,
                high: p.quantile(0.975) as f64,
            });
        }
        if let Some(best) = self.loglinear.first() {
            rows.push(Summary {
                model: "Log-linear, best BIC",
                model_ko: "로그선형 (BIC 최적)",
                low: best.population,
                median: best.population,
                high: best.population,
            });
        }
        rows
    }

    /// Each model's median and 95% interval, as rows of an interval chart.
    pub fn chart_rows(&self) -> Vec<girok_charts::Interval> {
        self.summaries()
            .into_iter()
            .map(|s| girok_charts::Interval {
                label: format!("{} · {}", s.model, s.model_ko),
                low: s.low,
                median: s.median,
                high: s.high,
            })
            .collect()
    }
}

/// A decomposable model's cliques by list names: "[A × B][C]".
pub fn cliques_text(table: &CaptureTable, cliques: &[Vec<usize>]) -> String {
    cliques
        .iter()
        .map(|clique| {
            let names: Vec<&str> = clique.iter().map(|&j| table.names[j].as_str()).collect();
            format!("[{}]", names.join(" × "))
        })
        .collect()
}

/// A log-linear model's two-way interactions by list names, or "independence".
pub fn interactions_text(table: &CaptureTable, interactions: &[(usize, usize)]) -> String {
    if interactions.is_empty() {
        return "independence".to_string();
    }
    let pairs: Vec<String> = interactions
        .iter()
        .map(|&(a, b)| format!("{} × {}", table.names[a], table.names[b]))
        .collect();
    pairs.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One person on two lists of 400 each: nothing in the data bounds N.
    #[test]
    fn an_upper_tail_that_rests_on_the_bound_is_named_next_to_the_number() {
        let request = Request {
            conditions: Vec::new(),
            strata: None,
            lists: Vec::new(),
            lcmcr: lcmcr::Settings {
                burn_in: 2_000,
                samples: 2_000,
                thin: 1,
                ..lcmcr::Settings::default()
            },
            chains: 2,
            delta: None,
            with_proposals: false,
            audience: Audience::Internal,
            linkage_draws: None,
        };
        let estimates =
            from_table("100\t400\n010\t400\n001\t400\n110\t1\n", &request).expect("table");
        let warnings = &estimates.strata[0].warnings;
        assert!(
            warnings
                .iter()
                .any(|w| w.english().contains("its bound of N ≤ 25221")
                    && w.korean().contains("N ≤ 25221")),
            "{warnings:?}"
        );
    }
}
