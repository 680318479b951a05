//! Fuzzy dates: what a witness can actually say about *when*.
//!
//! A [`FuzzyDate`] keeps the statement as given ("spring 2021", "around 1999")
//! and derives an inclusive day interval from it. Nothing here invents a day
//! that was not given: "2020-05" is the interval 2020-05-01..=2020-05-31, never
//! 2020-05-01. "Unknown" is a value of its own, not a missing field.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Wording;
use crate::vocab::{self, VocabKind};

/// Years outside this range are almost certainly typing errors in this field.
const YEARS: std::ops::RangeInclusive<i32> = 1850..=2200;

/// How precise a date statement is, from most to least precise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Precision {
    Day,
    Month,
    Season,
    PartOfYear,
    Year,
    Approximate,
    Decade,
    Range,
    Period,
    Unknown,
}

impl Precision {
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Day => "day",
            Precision::Month => "month",
            Precision::Season => "season",
            Precision::PartOfYear => "part-of-year",
            Precision::Year => "year",
            Precision::Approximate => "approximate",
            Precision::Decade => "decade",
            Precision::Range => "range",
            Precision::Period => "period",
            Precision::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Season {
    Spring,
    Summer,
    Autumn,
    Winter,
}

impl Season {
    const ALL: [Season; 4] = [
        Season::Spring,
        Season::Summer,
        Season::Autumn,
        Season::Winter,
    ];

    fn english(self) -> &'static str {
        match self {
            Season::Spring => "spring",
            Season::Summer => "summer",
            Season::Autumn => "autumn",
            Season::Winter => "winter",
        }
    }

    fn korean(self) -> &'static str {
        match self {
            Season::Spring => "봄",
            Season::Summer => "여름",
            Season::Autumn => "가을",
            Season::Winter => "겨울",
        }
    }

    fn from_word(word: &str) -> Option<Season> {
        match word {
            "fall" => Some(Season::Autumn),
            _ => Season::ALL
                .into_iter()
                .find(|s| s.english() == word || s.korean() == word),
        }
    }
}

/// Early, middle or late part of a year: thirds of four months each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum YearPart {
    Early,
    Mid,
    Late,
}

impl YearPart {
    fn english(self) -> &'static str {
        match self {
            YearPart::Early => "early",
            YearPart::Mid => "mid",
            YearPart::Late => "late",
        }
    }

    fn from_word(word: &str) -> Option<YearPart> {
        match word {
            "early" | "초" | "초반" => Some(YearPart::Early),
            "mid" | "middle" | "중반" | "중순" => Some(YearPart::Mid),
            "late" | "말" | "후반" => Some(YearPart::Late),
            _ => None,
        }
    }
}

/// The statement as given, in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Statement {
    Unknown,
    Day(NaiveDate),
    Month {
        year: i32,
        month: u32,
    },
    Season {
        year: i32,
        season: Season,
    },
    PartOfYear {
        year: i32,
        part: YearPart,
    },
    Year(i32),
    Around(i32),
    Decade(i32),
    /// Both ends are day, month or year statements.
    Range(Box<Statement>, Box<Statement>),
    /// A named period from the `periods` vocabulary, by key.
    Period {
        key: String,
        start: NaiveDate,
        end: NaiveDate,
    },
}

/// A date as a witness or document gave it, with the interval it stands for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FuzzyDate(Statement);

/// Text that is not a date Girok understands. Never guessed around.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{text}' is not a date Girok understands ({reason}); expected one of: {EXAMPLES}, \
     a named period such as covid-border-closure, or unknown / 미상"
)]
pub struct DateError {
    pub text: String,
    pub reason: Wording,
}

/// The ways of writing a date, shown in either language's refusal.
const EXAMPLES: &str = "2020, 2020-05, 2020-05-20, spring 2021, around 1999, c. 1999, late 2019, \
     1990s, 2020년 5월, 2019년 가을, 2020-01..2023-08";

impl DateError {
    /// The same refusal in Korean.
    pub fn korean(&self) -> String {
        format!(
            "'{}'은(는) 알아볼 수 있는 날짜가 아닙니다 ({}); 이렇게 적으세요: {EXAMPLES}, \
             covid-border-closure 같은 기간 이름, 또는 미상 / unknown",
            self.text,
            self.reason.korean()
        )
    }

    /// The refusal in both languages.
    pub fn wording(&self) -> Wording {
        Wording::new(self.to_string(), self.korean())
    }
}

impl FuzzyDate {
    pub const UNKNOWN: FuzzyDate = FuzzyDate(Statement::Unknown);

    pub fn day(date: NaiveDate) -> FuzzyDate {
        FuzzyDate(Statement::Day(date))
    }

    pub fn year(year: i32) -> FuzzyDate {
        FuzzyDate(Statement::Year(year))
    }

    /// The key of the named period this date is, if it is one.
    pub fn period(&self) -> Option<&str> {
        match &self.0 {
            Statement::Period { key, .. } => Some(key),
            _ => None,
        }
    }

    pub fn is_unknown(&self) -> bool {
        self.0 == Statement::Unknown
    }

    pub fn precision(&self) -> Precision {
        match &self.0 {
            Statement::Unknown => Precision::Unknown,
            Statement::Day(_) => Precision::Day,
            Statement::Month { .. } => Precision::Month,
            Statement::Season { .. } => Precision::Season,
            Statement::PartOfYear { .. } => Precision::PartOfYear,
            Statement::Year(_) => Precision::Year,
            Statement::Around(_) => Precision::Approximate,
            Statement::Decade(_) => Precision::Decade,
            Statement::Range(..) => Precision::Range,
            Statement::Period { .. } => Precision::Period,
        }
    }

    /// The inclusive interval of days this statement covers; `None` when unknown.
    pub fn bounds(&self) -> Option<(NaiveDate, NaiveDate)> {
        bounds_of(&self.0)
    }

    pub fn start(&self) -> Option<NaiveDate> {
        self.bounds().map(|(start, _)| start)
    }

    pub fn end(&self) -> Option<NaiveDate> {
        self.bounds().map(|(_, end)| end)
    }

    /// The year if the whole interval lies within one calendar year.
    pub fn single_year(&self) -> Option<i32> {
        let (start, end) = self.bounds()?;
        (start.year() == end.year()).then_some(start.year())
    }

    pub fn parse(text: &str) -> Result<FuzzyDate, DateError> {
        let trimmed = text.trim();
        let fail = |reason: Wording| DateError {
            text: text.to_string(),
            reason,
        };
        if trimmed.is_empty() {
            return Err(fail(Wording::new(
                "it is empty; write 'unknown' if the date is not known",
                "비어 있습니다; 날짜를 모르면 '미상'이라고 적으세요",
            )));
        }
        if let Some((from, to)) = trimmed.split_once("..") {
            let from = parse_range_end(from).map_err(fail)?;
            let to = parse_range_end(to).map_err(fail)?;
            let (Some((from_start, _)), Some((_, to_end))) = (bounds_of(&from), bounds_of(&to))
            else {
                return Err(fail(Wording::new(
                    "a range needs known ends",
                    "기간의 양 끝을 알아야 합니다",
                )));
            };
            if from_start > to_end {
                return Err(fail(Wording::new(
                    "the range ends before it starts",
                    "기간이 시작하기 전에 끝납니다",
                )));
            }
            return Ok(FuzzyDate(Statement::Range(Box::new(from), Box::new(to))));
        }
        parse_single(trimmed).map(FuzzyDate).map_err(fail)
    }
}

fn parse_range_end(text: &str) -> Result<Statement, Wording> {
    match parse_single(text.trim())? {
        end @ (Statement::Day(_) | Statement::Month { .. } | Statement::Year(_)) => Ok(end),
        _ => Err(Wording::new(
            format!(
                "'{}' cannot be the end of a range; use a day, month or year",
                text.trim()
            ),
            format!(
                "'{}'은(는) 기간의 끝이 될 수 없습니다; 일, 월 또는 연도를 쓰세요",
                text.trim()
            ),
        )),
    }
}

fn parse_single(text: &str) -> Result<Statement, Wording> {
    let lower = text.to_lowercase();
    if matches!(lower.as_str(), "unknown" | "미상" | "모름" | "알 수 없음") {
        return Ok(Statement::Unknown);
    }
    if let Some(statement) = parse_numeric(&lower)? {
        return Ok(statement);
    }
    if let Some(statement) = parse_korean(&lower)? {
        return Ok(statement);
    }
    if let Some(statement) = parse_english(&lower)? {
        return Ok(statement);
    }
    if let Ok(term) = vocab::builtin(VocabKind::Period).resolve(text) {
        let range = FuzzyDate::parse(term.extra("bounds").unwrap_or_default()).map_err(|e| {
            Wording::new(
                format!("period '{}' has bad bounds: {}", term.key, e.reason),
                format!(
                    "기간 '{}'의 경계가 잘못되었습니다: {}",
                    term.key,
                    e.reason.korean()
                ),
            )
        })?;
        let (start, end) = range.bounds().ok_or_else(|| {
            Wording::new(
                format!("period '{}' has no bounds", term.key),
                format!("기간 '{}'에 경계가 없습니다", term.key),
            )
        })?;
        return Ok(Statement::Period {
            key: term.key.clone(),
            start,
            end,
        });
    }
    Err(Wording::new(
        "no known pattern matches",
        "아는 형식과 맞지 않습니다",
    ))
}

fn year_from(text: &str) -> Result<Option<i32>, Wording> {
    if text.len() != 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let year: i32 = text
        .parse()
        .map_err(|_| Wording::new("bad year", "잘못된 연도"))?;
    if !YEARS.contains(&year) {
        let (first, last) = (YEARS.start(), YEARS.end());
        return Err(Wording::new(
            format!("year {year} is outside {first}..={last}"),
            format!("{year}년은 {first}년에서 {last}년 사이가 아닙니다"),
        ));
    }
    Ok(Some(year))
}

fn month_from(text: &str) -> Result<u32, Wording> {
    match text.parse::<u32>() {
        Ok(month @ 1..=12) => Ok(month),
        _ => Err(Wording::new(
            format!("'{text}' is not a month (1-12)"),
            format!("'{text}'은(는) 월(1-12)이 아닙니다"),
        )),
    }
}

fn not_a_day(day: &str) -> Wording {
    Wording::new(
        format!("'{day}' is not a day"),
        format!("'{day}'은(는) 일(날짜)이 아닙니다"),
    )
}

fn no_such_day(year: i32, month: u32, day: u32) -> Wording {
    Wording::new(
        format!("{year}-{month:02}-{day:02} does not exist"),
        format!("{year}년 {month}월 {day}일은 없는 날짜입니다"),
    )
}

/// `2020`, `2020-05`, `2020-05-20`, `2020.05.20`, `1990s`.
fn parse_numeric(text: &str) -> Result<Option<Statement>, Wording> {
    if let Some(decade) = text.strip_suffix('s')
        && let Some(year) = year_from(decade)?
    {
        if year % 10 != 0 {
            return Err(not_a_decade(text, year));
        }
        return Ok(Some(Statement::Decade(year)));
    }
    let parts: Vec<&str> = text.split(['-', '.', '/']).collect();
    let Some(year) = year_from(parts[0])? else {
        return Ok(None);
    };
    match parts.as_slice() {
        [_] => Ok(Some(Statement::Year(year))),
        [_, month] => Ok(Some(Statement::Month {
            year,
            month: month_from(month)?,
        })),
        [_, month, day] => {
            let month = month_from(month)?;
            let day: u32 = day.parse().map_err(|_| not_a_day(day))?;
            NaiveDate::from_ymd_opt(year, month, day)
                .map(|d| Some(Statement::Day(d)))
                .ok_or_else(|| no_such_day(year, month, day))
        }
        _ => Err(Wording::new(
            "too many parts for a date",
            "날짜로 보기에는 부분이 너무 많습니다",
        )),
    }
}

fn not_a_decade(text: &str, year: i32) -> Wording {
    Wording::new(
        format!("'{text}' is not a decade; decades start at a year ending in 0"),
        format!(
            "'{text}'은(는) 연대가 아닙니다; 연대는 0으로 끝나는 해({}년대)에 시작합니다",
            year - year % 10
        ),
    )
}

/// `2020년`, `2020년 5월`, `2020년 5월 20일`, `2019년 가을`, `1999년경`, `약 1999년`,
/// `1990년대`, `2019년 말`.
fn parse_korean(text: &str) -> Result<Option<Statement>, Wording> {
    if !text.contains('년') {
        return Ok(None);
    }
    let (around, text) = match text.strip_prefix("약") {
        Some(rest) => (true, rest.trim()),
        None => (false, text),
    };
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let Some((year_text, rest)) = compact.split_once('년') else {
        return Ok(None);
    };
    let Some(year) = year_from(year_text)? else {
        return Err(Wording::new(
            format!("'{year_text}' is not a four-digit year"),
            format!("'{year_text}'은(는) 네 자리 연도가 아닙니다"),
        ));
    };
    let rest = rest.trim_end_matches('쯤');
    let statement = match rest {
        "" if around => Statement::Around(year),
        "" => Statement::Year(year),
        "경" | "무렵" | "께" => Statement::Around(year),
        "대" => {
            if year % 10 != 0 {
                return Err(not_a_decade(&format!("{year}년대"), year));
            }
            Statement::Decade(year)
        }
        _ => {
            if let Some(season) = Season::from_word(rest) {
                Statement::Season { year, season }
            } else if let Some(part) = YearPart::from_word(rest) {
                Statement::PartOfYear { year, part }
            } else if let Some((month, day_text)) = rest.split_once('월') {
                let month = month_from(month)?;
                let day_text = day_text.trim_end_matches('일');
                if day_text.is_empty() {
                    Statement::Month { year, month }
                } else {
                    let day: u32 = day_text.parse().map_err(|_| not_a_day(day_text))?;
                    NaiveDate::from_ymd_opt(year, month, day)
                        .map(Statement::Day)
                        .ok_or_else(|| no_such_day(year, month, day))?
                }
            } else {
                return Err(Wording::new(
                    format!("'{rest}' after the year is not understood"),
                    format!("연도 뒤의 '{rest}'을(를) 알아볼 수 없습니다"),
                ));
            }
        }
    };
    Ok(Some(statement))
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month_name(word: &str) -> Option<u32> {
    let word = word.trim_end_matches('.');
    if word.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.starts_with(word))
        .map(|i| i as u32 + 1)
}

/// `spring 2021`, `around 1999`, `c. 1999`, `late 2019`, `May 2020`, `20 May 2020`.
fn parse_english(text: &str) -> Result<Option<Statement>, Wording> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let Some((last, first)) = words.split_last() else {
        return Ok(None);
    };
    let last = last.trim_end_matches(',');
    let Some(year) = year_from(last)? else {
        return Ok(None);
    };
    let statement = match first {
        [] => Statement::Year(year),
        ["around" | "about" | "circa" | "c." | "c" | "ca." | "approximately"] => {
            Statement::Around(year)
        }
        ["in"] => Statement::Year(year),
        [word] if Season::from_word(word).is_some() => Statement::Season {
            year,
            season: Season::from_word(word).unwrap_or(Season::Spring),
        },
        [word] if YearPart::from_word(word).is_some() => Statement::PartOfYear {
            year,
            part: YearPart::from_word(word).unwrap_or(YearPart::Mid),
        },
        [word] if month_name(word).is_some() => Statement::Month {
            year,
            month: month_name(word).unwrap_or(1),
        },
        [day, word] if month_name(word).is_some() => {
            let month = month_name(word).unwrap_or(1);
            let day: u32 = day
                .trim_end_matches(|c: char| c.is_ascii_alphabetic())
                .parse()
                .map_err(|_| not_a_day(day))?;
            NaiveDate::from_ymd_opt(year, month, day)
                .map(Statement::Day)
                .ok_or_else(|| no_such_day(year, month, day))?
        }
        _ => {
            let words = first.join(" ");
            return Err(Wording::new(
                format!("'{words}' before the year is not understood"),
                format!("연도 앞의 '{words}'을(를) 알아볼 수 없습니다"),
            ));
        }
    };
    Ok(Some(statement))
}

fn last_day_of_month(year: i32, month: u32) -> NaiveDate {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(next_year, next_month, 1)
        .and_then(|d| d.pred_opt())
        .unwrap_or(NaiveDate::MAX)
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    // Only called with month 1..=12 and day 1, which always exist.
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

fn bounds_of(statement: &Statement) -> Option<(NaiveDate, NaiveDate)> {
    let months =
        |year: i32, first: u32, last: u32| (ymd(year, first, 1), last_day_of_month(year, last));
    Some(match statement {
        Statement::Unknown => return None,
        Statement::Day(d) => (*d, *d),
        Statement::Month { year, month } => months(*year, *month, *month),
        Statement::Season { year, season } => match season {
            Season::Spring => months(*year, 3, 5),
            Season::Summer => months(*year, 6, 8),
            Season::Autumn => months(*year, 9, 11),
            // Winter of a year is the December that starts it and the following two months.
            Season::Winter => (ymd(*year, 12, 1), last_day_of_month(*year + 1, 2)),
        },
        Statement::PartOfYear { year, part } => match part {
            YearPart::Early => months(*year, 1, 4),
            YearPart::Mid => months(*year, 5, 8),
            YearPart::Late => months(*year, 9, 12),
        },
        Statement::Year(year) => months(*year, 1, 12),
        // "Around 1999" is read as one year either side.
        Statement::Around(year) => (ymd(*year - 1, 1, 1), last_day_of_month(*year + 1, 12)),
        Statement::Decade(year) => (ymd(*year, 1, 1), last_day_of_month(*year + 9, 12)),
        Statement::Range(from, to) => (bounds_of(from)?.0, bounds_of(to)?.1),
        Statement::Period { start, end, .. } => (*start, *end),
    })
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Unknown => f.write_str("unknown"),
            Statement::Day(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Statement::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            Statement::Season { year, season } => write!(f, "{} {year:04}", season.english()),
            Statement::PartOfYear { year, part } => write!(f, "{} {year:04}", part.english()),
            Statement::Year(year) => write!(f, "{year:04}"),
            Statement::Around(year) => write!(f, "c. {year:04}"),
            Statement::Decade(year) => write!(f, "{year:04}s"),
            Statement::Range(from, to) => write!(f, "{from}..{to}"),
            Statement::Period { key, .. } => f.write_str(key),
        }
    }
}

impl Statement {
    /// The statement as a Korean reader writes it ("2019년 가을", "1990년대");
    /// every form reads back as the same date.
    fn korean(&self) -> String {
        match self {
            Statement::Unknown => "미상".to_string(),
            Statement::Day(d) => d.format("%Y년 %-m월 %-d일").to_string(),
            Statement::Month { year, month } => format!("{year}년 {month}월"),
            Statement::Season { year, season } => format!("{year}년 {}", season.korean()),
            Statement::PartOfYear { year, part } => format!(
                "{year}년 {}",
                match part {
                    YearPart::Early => "초",
                    YearPart::Mid => "중반",
                    YearPart::Late => "말",
                }
            ),
            Statement::Year(year) => format!("{year}년"),
            Statement::Around(year) => format!("{year}년경"),
            Statement::Decade(year) => format!("{year}년대"),
            Statement::Range(from, to) => format!("{}..{}", from.korean(), to.korean()),
            Statement::Period { key, .. } => key.clone(),
        }
    }
}

impl FuzzyDate {
    /// The date in Korean, as `to_string` gives it in English.
    pub fn korean(&self) -> String {
        self.0.korean()
    }
}

impl fmt::Display for FuzzyDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for FuzzyDate {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FuzzyDate::parse(s)
    }
}

impl Default for FuzzyDate {
    fn default() -> Self {
        FuzzyDate::UNKNOWN
    }
}

/// Dates travel as their canonical text, so journal bytes stay readable and stable.
impl Serialize for FuzzyDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FuzzyDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        FuzzyDate::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(text: &str) -> (String, String, Precision) {
        let date = FuzzyDate::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let (start, end) = date.bounds().expect("known date");
        (start.to_string(), end.to_string(), date.precision())
    }

    #[test]
    fn korean_forms_read_back_as_the_same_date() {
        for (text, korean) in [
            ("2020", "2020년"),
            ("2020-05", "2020년 5월"),
            ("2020-05-20", "2020년 5월 20일"),
            ("autumn 2024", "2024년 가을"),
            ("early 2019", "2019년 초"),
            ("mid 2019", "2019년 중반"),
            ("late 2019", "2019년 말"),
            ("c. 1999", "1999년경"),
            ("1990s", "1990년대"),
            ("2020-01..2023-08", "2020년 1월..2023년 8월"),
            ("unknown", "미상"),
        ] {
            let date = FuzzyDate::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(date.korean(), korean, "{text}");
            let again = FuzzyDate::parse(korean).unwrap_or_else(|e| panic!("{korean}: {e}"));
            assert_eq!(again, date, "{korean} reads as another date");
        }
    }

    #[test]
    fn every_form_in_the_issue_parses_to_the_right_interval() {
        let cases = [
            ("2020", "2020-01-01", "2020-12-31", Precision::Year),
            ("2020-05", "2020-05-01", "2020-05-31", Precision::Month),
            ("2020-05-20", "2020-05-20", "2020-05-20", Precision::Day),
            ("spring 2021", "2021-03-01", "2021-05-31", Precision::Season),
            (
                "around 1999",
                "1998-01-01",
                "2000-12-31",
                Precision::Approximate,
            ),
            (
                "c. 1999",
                "1998-01-01",
                "2000-12-31",
                Precision::Approximate,
            ),
            (
                "late 2019",
                "2019-09-01",
                "2019-12-31",
                Precision::PartOfYear,
            ),
            ("1990s", "1990-01-01", "1999-12-31", Precision::Decade),
            ("2020년 5월", "2020-05-01", "2020-05-31", Precision::Month),
            ("2019년 가을", "2019-09-01", "2019-11-30", Precision::Season),
            (
                "2020-01..2023-08",
                "2020-01-01",
                "2023-08-31",
                Precision::Range,
            ),
            ("winter 2020", "2020-12-01", "2021-02-28", Precision::Season),
            ("2024-02", "2024-02-01", "2024-02-29", Precision::Month),
            (
                "1999년경",
                "1998-01-01",
                "2000-12-31",
                Precision::Approximate,
            ),
            ("1990년대", "1990-01-01", "1999-12-31", Precision::Decade),
            (
                "2019년 말",
                "2019-09-01",
                "2019-12-31",
                Precision::PartOfYear,
            ),
            (
                "2020년 5월 20일",
                "2020-05-20",
                "2020-05-20",
                Precision::Day,
            ),
            ("20 May 2025", "2025-05-20", "2025-05-20", Precision::Day),
            ("October 2023", "2023-10-01", "2023-10-31", Precision::Month),
            (
                "covid-border-closure",
                "2020-01-01",
                "2023-08-31",
                Precision::Period,
            ),
            (
                "코로나 국경봉쇄",
                "2020-01-01",
                "2023-08-31",
                Precision::Period,
            ),
        ];
        for (text, start, end, precision) in cases {
            assert_eq!(
                interval(text),
                (start.to_string(), end.to_string(), precision),
                "{text}"
            );
        }
    }

    #[test]
    fn unknown_is_a_value_in_both_languages() {
        for text in ["unknown", "Unknown", "미상"] {
            let date = FuzzyDate::parse(text).expect(text);
            assert!(date.is_unknown());
            assert_eq!(date.bounds(), None);
            assert_eq!(date.to_string(), "unknown");
        }
    }

    #[test]
    fn unparseable_text_is_an_error_never_a_guess() {
        for text in [
            "",
            "soon",
            "2020-13",
            "2020-02-30",
            "1995s",
            "spring",
            "20201",
            "0999",
            "2023..2020",
            "unknown..2020",
            "spring 2020..2021",
            "next year 2020",
            "2020년 13월",
            "1999-05-05-05",
        ] {
            let err = FuzzyDate::parse(text).expect_err(text);
            assert_eq!(err.text, text);
            assert!(err.to_string().contains("expected one of"), "{err}");
        }
    }

    #[test]
    fn canonical_text_round_trips() {
        for text in [
            "2020",
            "2020-05",
            "2020-05-20",
            "spring 2021",
            "c. 1999",
            "late 2019",
            "1990s",
            "2020-01..2023-08",
            "unknown",
            "covid-border-closure",
            "winter 1999",
            "early 2001",
            "mid 2002",
            "2019-11-03..2020",
        ] {
            let date = FuzzyDate::parse(text).expect(text);
            assert_eq!(date.to_string(), text);
            assert_eq!(FuzzyDate::parse(&date.to_string()), Ok(date));
        }
        let korean = FuzzyDate::parse("2019년 가을").expect("korean");
        assert_eq!(korean.to_string(), "autumn 2019");
    }

    #[test]
    fn single_year_only_when_the_interval_is_within_one_year() {
        assert_eq!(
            FuzzyDate::parse("spring 2021").unwrap().single_year(),
            Some(2021)
        );
        assert_eq!(FuzzyDate::parse("winter 2021").unwrap().single_year(), None);
        assert_eq!(FuzzyDate::parse("c. 1999").unwrap().single_year(), None);
    }
}
