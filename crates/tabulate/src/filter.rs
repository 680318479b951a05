//! Restricting a table: `year=2019..2023`, `period=covid-border-closure`,
//! `place=north-hamgyong`, `act-type=execution|arrest`, `agency=보위성`.
//!
//! Conditions are separated by commas and all must hold; `|` separates
//! alternatives within one condition. Vocabulary values may be written in
//! any spelling the vocabulary knows (Korean, English, romanizations).
//! A date condition keeps acts whose whole date interval lies inside it, so
//! "2019" never counts an act known only as "2010s"; a place condition keeps
//! acts at that place or inside it.

use chrono::NaiveDate;
use girok_model::{FuzzyDate, VocabKind, Vocabularies, Wording};

use crate::ages::AgeBands;
use crate::dimension::{Dimension, UNKNOWN, place_chain};
use crate::facts::ActFact;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("in the condition '{condition}': {message}")]
pub struct FilterError {
    pub condition: String,
    pub message: Wording,
}

impl FilterError {
    pub fn korean(&self) -> String {
        format!("조건 '{}': {}", self.condition, self.message.korean())
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    conditions: Vec<Condition>,
    text: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Condition {
    /// The act's date lies inside one of the intervals.
    Within(Vec<(NaiveDate, NaiveDate)>),
    /// The act's place is one of these places or inside one.
    PlaceWithin(Vec<String>),
    /// The act has one of these keys under the dimension.
    Values(Dimension, Vec<String>),
}

impl Filter {
    /// Parses comma-separated conditions and adds them to the filter.
    pub fn add(&mut self, text: &str, vocabularies: &Vocabularies) -> Result<(), FilterError> {
        for condition in text.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            let fail = |message: Wording| FilterError {
                condition: condition.to_string(),
                message,
            };
            let (name, values) = condition.split_once('=').ok_or_else(|| {
                fail(Wording::new(
                    "expected name=value, for example year=2019..2023 or place=회령",
                    "이름=값 꼴이어야 합니다. 예: year=2019..2023 또는 place=회령",
                ))
            })?;
            let name = name.trim();
            let values: Vec<&str> = values
                .split('|')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .collect();
            if values.is_empty() {
                return Err(fail(Wording::new(
                    format!("no value given for '{name}'"),
                    format!("'{name}'의 값이 없습니다"),
                )));
            }
            let parsed = match name {
                "year" | "date" | "period" => Condition::Within(
                    values
                        .iter()
                        .map(|value| {
                            FuzzyDate::parse(value)
                                .map_err(|e| fail(e.wording()))?
                                .bounds()
                                .ok_or_else(|| {
                                    fail(Wording::new(
                                        "an unknown date cannot bound a period",
                                        "미상인 날짜로는 기간을 정할 수 없습니다",
                                    ))
                                })
                        })
                        .collect::<Result<_, _>>()?,
                ),
                _ => {
                    let dimension: Dimension = name.parse().map_err(fail)?;
                    let keys = values
                        .iter()
                        .map(|value| resolve(dimension, value, vocabularies).map_err(&fail))
                        .collect::<Result<Vec<_>, _>>()?;
                    match dimension {
                        Dimension::Place | Dimension::Province | Dimension::Country => {
                            Condition::PlaceWithin(keys)
                        }
                        _ => Condition::Values(dimension, keys),
                    }
                }
            };
            self.conditions.push(parsed);
            self.text.push(condition.to_string());
        }
        Ok(())
    }

    /// Whether the act meets every condition (ages read in `age_bands`).
    pub fn matches(
        &self,
        fact: &ActFact,
        vocabularies: &Vocabularies,
        age_bands: &AgeBands,
    ) -> bool {
        self.conditions.iter().all(|condition| match condition {
            Condition::Within(intervals) => fact.date.bounds().is_some_and(|(start, end)| {
                intervals
                    .iter()
                    .any(|(from, to)| *from <= start && end <= *to)
            }),
            Condition::PlaceWithin(places) => {
                let chain = place_chain(fact, vocabularies);
                places.iter().any(|place| {
                    if place == UNKNOWN {
                        chain.is_empty()
                    } else {
                        chain.contains(place)
                    }
                })
            }
            Condition::Values(dimension, keys) => dimension
                .values(fact, vocabularies, age_bands)
                .iter()
                .any(|value| keys.contains(value)),
        })
    }

    /// The conditions as written, for titles and methodology notes.
    pub fn describe(&self) -> Option<String> {
        (!self.text.is_empty()).then(|| self.text.join(", "))
    }
}

/// The key a written value stands for under a dimension.
fn resolve(
    dimension: Dimension,
    value: &str,
    vocabularies: &Vocabularies,
) -> Result<String, Wording> {
    let lower = value.to_lowercase();
    if lower == UNKNOWN || value == "미상" {
        return Ok(UNKNOWN.to_string());
    }
    match dimension.vocabulary() {
        Some(kind) => vocabularies
            .get(kind)
            .resolve(value)
            .map(|term| term.key.clone())
            .map_err(|e| e.wording()),
        None if dimension == Dimension::AgencyClass || dimension == Dimension::RelationClass => {
            let source = if dimension == Dimension::AgencyClass {
                VocabKind::Agency
            } else {
                VocabKind::Relation
            };
            let classes: Vec<String> = vocabularies
                .get(source)
                .terms()
                .iter()
                .filter_map(|term| term.class.clone())
                .collect();
            if classes.contains(&lower) || lower == "individual" {
                Ok(lower)
            } else {
                let classes = dedup_sorted(classes).join(", ");
                Err(Wording::new(
                    format!("'{value}' is not one of {classes}"),
                    format!("'{value}'은(는) {classes} 중 하나가 아닙니다"),
                ))
            }
        }
        None => Ok(lower),
    }
}

fn dedup_sorted(mut values: Vec<String>) -> Vec<String> {
    values.sort();
    values.dedup();
    values
}
