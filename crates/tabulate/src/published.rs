//! The tables published outside the organisation and to viewers: a fixed
//! set of one-way tables of victims, the same for every reader.
//!
//! Cell suppression protects the cells of the tables it sees, not a table
//! a reader makes up: with free conditions, `province=A|B` minus
//! `province=B` is A's withheld count, and a condition on sex splits a
//! withheld cell into parts that are shown. So readers outside the
//! organisation choose among these tables only: no conditions, no second
//! dimension, no age bands of their own, victims only (tables of acts or
//! cases over the same victims would be linked to these).
//!
//! No dimension of the set is a function of another one of it (act types
//! but not their categories, kinds of agency but not agencies, inside or
//! outside but not provinces, years but not periods), so the tables are
//! linked only through the total they share, which is shown in all of them
//! or in none. Each table is suppressed as a line (see
//! [`crate::disclosure::suppress_line`]); a table whose withheld cells
//! cannot be protected, or whose total is itself small, is published without
//! its rows. Withheld rows follow the shown ones in the order of their keys,
//! since rows largest first would bound a withheld count by its neighbours.

use girok_model::Vocabularies;

use crate::ages::AgeBands;
use crate::dimension::Dimension;
use crate::facts::Facts;
use crate::filter::Filter;
use crate::table::{Table, Unit};

/// The smallest count published.
pub const THRESHOLD: u64 = 5;

/// The dimensions of the published one-way tables, in the order they are shown.
pub const DIMENSIONS: &[Dimension] = &[
    Dimension::ActType,
    Dimension::AgencyClass,
    Dimension::Inside,
    Dimension::Year,
    Dimension::Sex,
    Dimension::AgeGroup,
    Dimension::RelationClass,
    Dimension::Corroboration,
];

/// A request for a table outside the published set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotPublished {
    #[error("'{0}' is not one of the published tables; they are by {list}", list = names())]
    Dimension(Dimension),
    #[error("published tables have one dimension; they are by {list}", list = names())]
    TwoWay,
    #[error(
        "published tables take no conditions: a difference of two restricted tables would reveal the counts that suppression withholds"
    )]
    Conditions,
    #[error(
        "published tables use the standard age groups ({})",
        AgeBands::default()
    )]
    AgeBands,
    #[error("published tables count victims")]
    Unit,
    #[error(
        "published tables count persons after reviewers' linkage decisions, without unreviewed proposals"
    )]
    Proposals,
}

impl NotPublished {
    /// The refusal in Korean.
    pub fn ko(&self) -> String {
        match self {
            NotPublished::Dimension(dimension) => format!(
                "'{dimension}'은(는) 공개 표가 아닙니다. 공개 표의 기준은 {}입니다",
                names()
            ),
            NotPublished::TwoWay => {
                format!("공개 표는 기준이 하나입니다. 공개 표의 기준은 {}입니다", names())
            }
            NotPublished::Conditions => "공개 표에는 조건을 붙일 수 없습니다. 조건을 붙인 두 표의 차이로 비공개 수가 드러날 수 있기 때문입니다".to_string(),
            NotPublished::AgeBands => format!(
                "공개 표는 표준 연령대({})만 씁니다",
                AgeBands::default()
            ),
            NotPublished::Unit => "공개 표는 피해자 수를 셉니다".to_string(),
            NotPublished::Proposals => "공개 표는 검토자의 연결 결정에 따른 인물을 세며, 검토되지 않은 제안은 쓰지 않습니다".to_string(),
        }
    }
}

fn names() -> String {
    let names: Vec<&str> = DIMENSIONS.iter().map(|d| d.name()).collect();
    names.join(", ")
}

/// What a reader outside the organisation asked for.
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a> {
    /// No dimension: the whole set.
    pub by: &'a [Dimension],
    pub unit: Unit,
    /// Whether conditions were given.
    pub conditions: bool,
    /// Whether age bands other than the standard ones were given.
    pub age_bands: bool,
    /// Whether unreviewed linkage proposals should join records.
    pub with_proposals: bool,
}

/// The published tables a request stands for, or why it stands for none.
pub fn select(wanted: Wanted) -> Result<Vec<Dimension>, NotPublished> {
    if wanted.conditions {
        return Err(NotPublished::Conditions);
    }
    if wanted.age_bands {
        return Err(NotPublished::AgeBands);
    }
    if wanted.unit != Unit::Victims {
        return Err(NotPublished::Unit);
    }
    if wanted.with_proposals {
        return Err(NotPublished::Proposals);
    }
    match wanted.by {
        [] => Ok(DIMENSIONS.to_vec()),
        [dimension] if DIMENSIONS.contains(dimension) => Ok(vec![*dimension]),
        [dimension] => Err(NotPublished::Dimension(*dimension)),
        _ => Err(NotPublished::TwoWay),
    }
}

/// One published table over facts already restricted to the audience,
/// counts below `threshold` ([`THRESHOLD`] unless the organisation chose
/// another) and those that would reveal them withheld.
pub fn table(
    facts: &Facts,
    dimension: Dimension,
    vocabularies: &Vocabularies,
    threshold: u64,
) -> Table {
    let mut table = Table::count(
        facts,
        dimension,
        None,
        Unit::Victims,
        &Filter::default(),
        vocabularies,
        &AgeBands::default(),
    )
    .suppressed(Some(threshold));
    if table.total.suppressed {
        // Its rows would say how many values the few victims have.
        table.row_keys.clear();
        table.cells.clear();
        table.row_totals.clear();
    }
    table.order_withheld_rows_by_key();
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(by: &[Dimension]) -> Wanted<'_> {
        Wanted {
            by,
            unit: Unit::Victims,
            conditions: false,
            age_bands: false,
            with_proposals: false,
        }
    }

    #[test]
    fn only_the_fixed_tables_are_published() {
        assert_eq!(select(wanted(&[])), Ok(DIMENSIONS.to_vec()));
        assert_eq!(select(wanted(&[Dimension::Sex])), Ok(vec![Dimension::Sex]));
        assert_eq!(
            select(wanted(&[Dimension::Province])),
            Err(NotPublished::Dimension(Dimension::Province))
        );
        assert_eq!(
            select(wanted(&[Dimension::Sex, Dimension::ActType])),
            Err(NotPublished::TwoWay)
        );
        for refused in [
            Wanted {
                conditions: true,
                ..wanted(&[])
            },
            Wanted {
                age_bands: true,
                ..wanted(&[])
            },
            Wanted {
                unit: Unit::Acts,
                ..wanted(&[])
            },
            Wanted {
                with_proposals: true,
                ..wanted(&[])
            },
        ] {
            let refusal = select(refused).expect_err("refused");
            assert!(!refusal.to_string().is_empty() && !refusal.ko().is_empty());
        }
    }

    #[test]
    fn no_dimension_of_the_set_is_a_function_of_another() {
        // A category is a sum of act types, a province's "outside" is the
        // "outside" of inside: such pairs would link withheld cells.
        for (finer, coarser) in [
            (Dimension::ActType, Dimension::Category),
            (Dimension::Agency, Dimension::AgencyClass),
            (Dimension::Province, Dimension::Inside),
            (Dimension::Place, Dimension::Province),
            (Dimension::Year, Dimension::Period),
            (Dimension::Relation, Dimension::RelationClass),
        ] {
            assert!(
                !(DIMENSIONS.contains(&finer) && DIMENSIONS.contains(&coarser)),
                "{finer} and {coarser}"
            );
        }
    }
}
