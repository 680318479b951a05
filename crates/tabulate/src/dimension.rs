//! What a table can break acts and victims down by.

use std::fmt;

use girok_model::{ConsentScope, FuzzyDate, Sex, VocabKind, Vocabularies, Wording};

use crate::ages::{AgeBands, OUTSIDE_BANDS, SPANS_BANDS};
use crate::facts::ActFact;

/// The key of the explicit "unknown" row every dimension has.
pub const UNKNOWN: &str = "unknown";

/// The key of the place dimensions for places outside North Korea.
const OUTSIDE: &str = "outside";
const INSIDE: &str = "inside";
const NORTH_KOREA: &str = "north-korea";

macro_rules! dimensions {
    ($($variant:ident = $name:literal: $doc:literal / $ko:literal,)*) => {
        /// A breakdown. Several values per act (agencies, witnesses'
        /// relations, organisations) count the act under each.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Dimension {
            $(#[doc = $doc] $variant,)*
        }

        impl Dimension {
            pub const ALL: &[Dimension] = &[$(Dimension::$variant,)*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Dimension::$variant => $name,)*
                }
            }

            pub fn description(self) -> &'static str {
                match self {
                    $(Dimension::$variant => $doc,)*
                }
            }

            /// The description in Korean.
            pub fn description_ko(self) -> &'static str {
                match self {
                    $(Dimension::$variant => $ko,)*
                }
            }
        }
    };
}

dimensions! {
    ActType = "act-type": "Act type" / "행위 유형",
    Category = "category": "Violation category of the act type" / "행위 유형의 위반 범주",
    Agency = "agency": "Perpetrating agency" / "가해 기관",
    AgencyClass = "agency-class": "Kind of perpetrator: North Korean state, foreign state, non-state" / "가해자 유형: 북한 국가기관, 외국 국가기관, 비국가 행위자",
    Inside = "inside": "Inside or outside North Korea" / "북한 안팎",
    Province = "province": "North Korean province or special city (or outside)" / "북한의 도 또는 특별시 (또는 북한 밖)",
    Country = "country": "Country" / "국가",
    Place = "place": "Place as recorded" / "기록된 장소",
    Year = "year": "Year of the act" / "행위 발생 연도",
    Period = "period": "Named period the act falls in" / "행위가 속한 시기",
    Sex = "sex": "Sex of the victim" / "피해자 성별",
    AgeGroup = "age-group": "Victim's age at the act, in bands" / "행위 당시 피해자 나이 (구간별)",
    Relation = "relation": "Witness's relation to the victim" / "증언자와 피해자의 관계",
    RelationClass = "relation-class": "Whether the witness is a relative of the victim" / "증언자가 피해자의 친족인지 여부",
    Consent = "consent": "Widest consent scope among the attesting sources" / "출처들의 가장 넓은 동의 범위",
    Corroboration = "corroboration": "Number of independent sources attesting the act" / "행위를 입증하는 독립 출처 수",
    Organisation = "organisation": "Documenting organisation of an attesting source" / "출처의 기록 기관",
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Dimension {
    type Err = Wording;

    fn from_str(text: &str) -> Result<Dimension, Wording> {
        let wanted = text.trim().to_lowercase().replace('_', "-");
        Dimension::ALL
            .iter()
            .copied()
            .find(|d| d.name() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = Dimension::ALL.iter().map(|d| d.name()).collect();
                let names = names.join(", ");
                Wording::new(
                    format!("no dimension '{text}'; the dimensions are {names}"),
                    format!("'{text}'(이)라는 차원은 없습니다; 차원은 {names}입니다"),
                )
            })
    }
}

impl Dimension {
    /// Whether one act can have several values (agencies, relations,
    /// organisations): one victim then counts under each, and rows can add up
    /// to more than the total.
    pub fn is_multi_valued(self) -> bool {
        matches!(
            self,
            Dimension::Agency
                | Dimension::AgencyClass
                | Dimension::Relation
                | Dimension::RelationClass
                | Dimension::Organisation
        )
    }

    /// The vocabulary whose terms are this dimension's keys, if any.
    pub fn vocabulary(self) -> Option<VocabKind> {
        match self {
            Dimension::ActType => Some(VocabKind::ActType),
            Dimension::Category => Some(VocabKind::ViolationCategory),
            Dimension::Agency => Some(VocabKind::Agency),
            Dimension::Province | Dimension::Country | Dimension::Place => Some(VocabKind::Place),
            Dimension::Relation => Some(VocabKind::Relation),
            Dimension::Period => Some(VocabKind::Period),
            _ => None,
        }
    }

    /// The keys of an act under this dimension: never empty ("unknown" when
    /// nothing is recorded). Ages fall into `age_bands`.
    pub fn values(
        self,
        fact: &ActFact,
        vocabularies: &Vocabularies,
        age_bands: &AgeBands,
    ) -> Vec<String> {
        let class = |kind: VocabKind, key: &str| {
            vocabularies
                .get(kind)
                .get(key)
                .and_then(|term| term.class.clone())
        };
        let mut values: Vec<String> = match self {
            Dimension::ActType => vec![fact.act_type.clone()],
            Dimension::Category => class(VocabKind::ActType, &fact.act_type)
                .into_iter()
                .collect(),
            Dimension::Agency => fact.agencies.clone(),
            Dimension::AgencyClass => {
                let mut classes: Vec<String> = fact
                    .agencies
                    .iter()
                    .map(|agency| {
                        class(VocabKind::Agency, agency).unwrap_or_else(|| agency.clone())
                    })
                    .collect();
                classes.sort();
                classes.dedup();
                classes
            }
            Dimension::Inside => place_chain(fact, vocabularies)
                .last()
                .map(|root| if root == NORTH_KOREA { INSIDE } else { OUTSIDE }.to_string())
                .into_iter()
                .collect(),
            Dimension::Province => {
                let chain = place_chain(fact, vocabularies);
                match chain.last().map(String::as_str) {
                    Some(NORTH_KOREA) if chain.len() >= 2 => vec![chain[chain.len() - 2].clone()],
                    Some(NORTH_KOREA) | None => Vec::new(),
                    Some(_) => vec![OUTSIDE.to_string()],
                }
            }
            Dimension::Country => place_chain(fact, vocabularies).pop().into_iter().collect(),
            Dimension::Place => fact.place.clone().into_iter().collect(),
            Dimension::Year => match (fact.date.single_year(), fact.date.bounds()) {
                (Some(year), _) => vec![year.to_string()],
                (None, Some(_)) => vec![SPANS_YEARS.to_string()],
                (None, None) => Vec::new(),
            },
            Dimension::Period => match fact.date.bounds() {
                None => Vec::new(),
                Some((start, end)) => {
                    let inside: Vec<String> = vocabularies
                        .get(VocabKind::Period)
                        .terms()
                        .iter()
                        .filter(|term| {
                            term.extra("bounds")
                                .and_then(|b| FuzzyDate::parse(b).ok())
                                .and_then(|d| d.bounds())
                                .is_some_and(|(from, to)| from <= start && end <= to)
                        })
                        .map(|term| term.key.clone())
                        .collect();
                    if inside.is_empty() {
                        vec![OTHER_PERIOD.to_string()]
                    } else {
                        inside
                    }
                }
            },
            Dimension::Sex => match fact.sex {
                Sex::Unknown => Vec::new(),
                sex => vec![sex.as_str().to_string()],
            },
            Dimension::AgeGroup => fact
                .age
                .map(|age| age_bands.band_of(age))
                .into_iter()
                .collect(),
            Dimension::Relation => fact.relations.clone(),
            Dimension::RelationClass => {
                let mut classes: Vec<String> = fact
                    .relations
                    .iter()
                    .filter_map(|relation| class(VocabKind::Relation, relation))
                    .collect();
                classes.sort();
                classes.dedup();
                classes
            }
            Dimension::Consent => fact
                .consent
                .map(|scope| scope.as_str().to_string())
                .into_iter()
                .collect(),
            Dimension::Corroboration => vec![match fact.corroboration {
                n @ 0..=3 => n.to_string(),
                _ => "4+".to_string(),
            }],
            Dimension::Organisation => fact.organisations.clone(),
        };
        values.retain(|value| value != UNKNOWN);
        if values.is_empty() {
            values.push(UNKNOWN.to_string());
        }
        values
    }

    /// English and Korean labels of a key.
    pub fn label(self, key: &str, vocabularies: &Vocabularies) -> (String, String) {
        if let Some(term) = self
            .vocabulary()
            .and_then(|kind| vocabularies.get(kind).get(key))
        {
            return (term.en.clone(), term.ko.clone());
        }
        let pair = |en: &str, ko: &str| (en.to_string(), ko.to_string());
        match (self, key) {
            (_, UNKNOWN) => pair("Unknown", "미상"),
            (_, OUTSIDE) => pair("Outside North Korea", "북한 밖"),
            (Dimension::Period, OTHER_PERIOD) => {
                pair("Outside the named periods", "정해진 시기 밖")
            }
            (Dimension::Inside, INSIDE) => pair("Inside North Korea", "북한 안"),
            (Dimension::Year, SPANS_YEARS) => {
                pair("Date spans more than one year", "여러 해에 걸침")
            }
            (Dimension::Year, year) => (year.to_string(), format!("{year}년")),
            (Dimension::AgencyClass, "dprk-state") => pair("North Korean state", "북한 국가기관"),
            (Dimension::AgencyClass, "foreign-state") => pair("Foreign state", "외국 국가기관"),
            (Dimension::AgencyClass, "non-state") => pair("Non-state actor", "비국가 행위자"),
            (Dimension::AgencyClass | Dimension::Agency, "individual") => {
                pair("Individual (no agency recorded)", "개인 (기관 미기록)")
            }
            (Dimension::RelationClass, "self") => pair("The witness themself", "본인"),
            (Dimension::RelationClass, "relative") => pair("Relative", "친족"),
            (Dimension::RelationClass, "non-relative") => pair("Not a relative", "비친족"),
            (Dimension::Sex, sex) => Sex::parse(sex)
                .map(|s| (capitalised(s.as_str()), s.ko().to_string()))
                .unwrap_or_else(|| pair(sex, sex)),
            (Dimension::Consent, scope) => ConsentScope::parse(scope)
                .map(|s| (s.as_str().to_string(), s.ko().to_string()))
                .unwrap_or_else(|| pair(scope, scope)),
            (Dimension::AgeGroup, SPANS_BANDS) => pair(
                "Age known only as an interval across bands",
                "나이 구간이 여러 연령대에 걸침",
            ),
            (Dimension::AgeGroup, OUTSIDE_BANDS) => {
                pair("Age outside the bands", "연령대 밖의 나이")
            }
            (Dimension::AgeGroup, group) => (format!("Aged {group}"), format!("{group}세")),
            (Dimension::Corroboration, n) => (
                format!("{n} independent source{}", if n == "1" { "" } else { "s" }),
                format!("독립 출처 {n}개"),
            ),
            (_, other) => pair(other, other),
        }
    }

    /// Whether the keys have a natural order (years, ages, counts) rather
    /// than largest first.
    pub fn is_ordinal(self) -> bool {
        matches!(
            self,
            Dimension::Year | Dimension::AgeGroup | Dimension::Corroboration | Dimension::Consent
        )
    }
}

pub(crate) const SPANS_YEARS: &str = "spans years";

/// The key of acts dated outside every named period.
pub(crate) const OTHER_PERIOD: &str = "other";

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The act's place and its enclosing places, innermost first, up to the
/// country. Empty when the place is unknown.
pub(crate) fn place_chain(fact: &ActFact, vocabularies: &Vocabularies) -> Vec<String> {
    fact.place
        .as_deref()
        .map(|place| vocabularies.get(VocabKind::Place).ancestry(place))
        .unwrap_or_default()
}
