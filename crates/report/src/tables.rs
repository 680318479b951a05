//! The tables of a report or of a statistics request: filtered, restricted
//! to the audience's consent, small cells suppressed, with what a reader
//! must know about them.

use girok_model::Wording;
use girok_store::{Database, Store};
use girok_tabulate::{AgeBands, Audience, Dimension, Facts, Filter, Table, Unit, published};

use crate::ReportError;

/// The one-way tables counted when no breakdown is asked for
/// (inside the organisation; partners and the public get the published set).
pub const STANDARD: &[Dimension] = &[
    Dimension::ActType,
    Dimension::Category,
    Dimension::AgencyClass,
    Dimension::Agency,
    Dimension::Inside,
    Dimension::Province,
    Dimension::Year,
    Dimension::Period,
    Dimension::Sex,
    Dimension::AgeGroup,
    Dimension::RelationClass,
    Dimension::Consent,
    Dimension::Corroboration,
];

/// What tables are asked for.
pub struct Request<'a> {
    /// Empty: the standard one-way tables; one: a one-way table; two: rows and columns.
    pub by: &'a [Dimension],
    pub conditions: &'a [String],
    pub unit: Unit,
    pub audience: Audience,
    pub min_cell: Option<u64>,
    pub age_bands: &'a AgeBands,
    /// Also treat linkage's undecided proposals as one person.
    pub with_proposals: bool,
}

/// Tables as asked, with what a reader must know about them.
pub struct Tabulated {
    pub tables: Vec<Table>,
    pub notes: Notes,
}

/// Counts the tables of a request: filtered, restricted to the audience's
/// consent, small cells suppressed. Partners and the public get the
/// published tables only (`girok_tabulate::published`): a request for
/// another table is refused.
pub fn tabulate(store: &Database, request: &Request) -> Result<Tabulated, ReportError> {
    if request.by.len() > 2 {
        return Err(ReportError::Refused(Wording::new(
            format!(
                "a breakdown takes one dimension (a one-way table) or two (rows, columns); got {}",
                request.by.len()
            ),
            format!(
                "분류 기준은 하나(일원표) 또는 둘(행, 열)입니다. {}개가 주어졌습니다",
                request.by.len()
            ),
        )));
    }
    let published = match request.audience {
        Audience::Internal => None,
        Audience::Partners | Audience::Public => Some(
            published::select(published::Wanted {
                by: request.by,
                unit: request.unit,
                conditions: !request.conditions.is_empty(),
                age_bands: *request.age_bands != AgeBands::default(),
                with_proposals: request.with_proposals,
            })
            .map_err(|refusal| {
                ReportError::Refused(Wording::new(refusal.to_string(), refusal.ko()))
            })?,
        ),
    };
    let vocabularies = store.vocabularies();
    let mut filter = Filter::default();
    for condition in request.conditions {
        filter
            .add(condition, vocabularies)
            .map_err(|e| ReportError::Refused(Wording::new(e.to_string(), e.korean())))?;
    }
    let (resolved, stale_proposals) = girok_estimate::resolution(store, request.with_proposals)?;
    let mut facts = Facts::load(store, resolved)?;
    let withheld_by_consent = facts.restrict_to(request.audience);
    let threshold = request.min_cell.or(request.audience.default_threshold());
    let count = |rows: Dimension, columns: Option<Dimension>| {
        Table::count(
            &facts,
            rows,
            columns,
            request.unit,
            &filter,
            vocabularies,
            request.age_bands,
        )
        .suppressed(threshold)
    };
    let tables: Vec<Table> = match (published, request.by) {
        (Some(dimensions), _) => dimensions
            .into_iter()
            .map(|d| {
                let threshold = threshold.unwrap_or(published::THRESHOLD);
                published::table(&facts, d, vocabularies, threshold)
            })
            .collect(),
        (None, []) => STANDARD.iter().map(|&d| count(d, None)).collect(),
        (None, [rows]) => vec![count(*rows, None)],
        (None, [rows, columns, ..]) => vec![count(*rows, Some(*columns))],
    };
    Ok(Tabulated {
        tables,
        notes: Notes {
            filter: filter.describe(),
            threshold,
            withheld_by_consent,
            audience: request.audience,
            with_proposals: request.with_proposals,
            stale_proposals,
        },
    })
}

pub struct Notes {
    pub filter: Option<String>,
    pub threshold: Option<u64>,
    pub withheld_by_consent: usize,
    pub audience: Audience,
    /// Whether linkage's unreviewed proposals joined records.
    pub with_proposals: bool,
    /// Why those proposals may no longer fit the database.
    pub stale_proposals: Option<girok_model::Wording>,
}

pub fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Victims => "victims",
        Unit::Acts => "acts",
        Unit::Cases => "cases",
    }
}
