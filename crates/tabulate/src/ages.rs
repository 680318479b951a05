//! Victims' ages at the act and the bands a table groups them in.

use std::fmt;
use std::str::FromStr;

use girok_model::Wording;

/// An age at the act in whole years, known exactly (`youngest ==
/// oldest`) or only as an interval, as when a birth decade meets an act
/// dated to a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgeRange {
    pub youngest: u16,
    pub oldest: u16,
}

/// The key of ages known only as an interval that no single band holds.
pub const SPANS_BANDS: &str = "spans bands";

/// The key of ages below the first band or above the last.
pub const OUTSIDE_BANDS: &str = "outside bands";

/// Age bands: each from a first to a last year of age, the last possibly
/// open ("60-"), contiguous and in ascending order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgeBands {
    /// (first, last) years of each band; `None`: no upper end.
    bands: Vec<(u16, Option<u16>)>,
}

/// Age bands that cannot be read: which band, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "age bands '{text}': {reason}; expected bands such as 0-9,10-19,20-39,40- (ascending, each starting the year after the previous one ends, only the last open)"
)]
pub struct AgeBandsError {
    pub text: String,
    pub reason: Wording,
}

impl AgeBandsError {
    pub fn korean(&self) -> String {
        format!(
            "연령대 '{}': {}; 0-9,10-19,20-39,40- 처럼 적으십시오 (오름차순, 각 구간은 앞 구간이 끝난 다음 해에 시작하고, 마지막 구간만 끝이 열려 있습니다)",
            self.text,
            self.reason.korean()
        )
    }
}

impl Default for AgeBands {
    /// The groups of a table no one chose bands for.
    fn default() -> AgeBands {
        AgeBands {
            bands: vec![
                (0, Some(17)),
                (18, Some(29)),
                (30, Some(44)),
                (45, Some(59)),
                (60, None),
            ],
        }
    }
}

impl FromStr for AgeBands {
    type Err = AgeBandsError;

    fn from_str(text: &str) -> Result<AgeBands, AgeBandsError> {
        let fail = |reason: Wording| AgeBandsError {
            text: text.to_string(),
            reason,
        };
        let year = |band: &str, part: &str| {
            part.trim().parse::<u16>().map_err(|_| {
                fail(Wording::new(
                    format!("'{band}' does not start and end with whole years"),
                    format!("'{band}'의 처음과 끝이 정수 나이가 아닙니다"),
                ))
            })
        };
        let mut bands: Vec<(u16, Option<u16>)> = Vec::new();
        for band in text.split(',').map(str::trim) {
            // "60+" (as tables name the band) reads as "60-".
            let (first, last) = band
                .split_once('-')
                .or_else(|| band.strip_suffix('+').map(|first| (first, "")))
                .ok_or_else(|| {
                    fail(Wording::new(
                        format!("'{band}' is not a band FIRST-LAST or FIRST-"),
                        format!("'{band}'은(는) '처음-끝' 또는 '처음-' 꼴의 구간이 아닙니다"),
                    ))
                })?;
            let first = year(band, first)?;
            let last = match last.trim() {
                "" => None,
                last => Some(year(band, last)?),
            };
            if last.is_some_and(|last| last < first) {
                return Err(fail(Wording::new(
                    format!("'{band}' ends before it starts"),
                    format!("'{band}'은(는) 시작하기 전에 끝납니다"),
                )));
            }
            match bands.last() {
                Some((_, None)) => {
                    return Err(fail(Wording::new(
                        format!("'{band}' follows an open band"),
                        format!("'{band}'이(가) 끝이 열린 구간 뒤에 있습니다"),
                    )));
                }
                Some((_, Some(end))) if first != end + 1 => {
                    let start = end + 1;
                    return Err(fail(Wording::new(
                        format!("'{band}' does not start at {start}"),
                        format!("'{band}'이(가) {start}세에서 시작하지 않습니다"),
                    )));
                }
                _ => {}
            }
            bands.push((first, last));
        }
        Ok(AgeBands { bands })
    }
}

impl fmt::Display for AgeBands {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self.bands.iter().map(|&band| key(band)).collect();
        f.write_str(&keys.join(","))
    }
}

impl AgeBands {
    /// The key of the band that holds the whole range, or of the row for
    /// ranges no band holds.
    pub fn band_of(&self, age: AgeRange) -> String {
        let holds = |(first, last): (u16, Option<u16>), year: u16| {
            first <= year && last.is_none_or(|last| year <= last)
        };
        if let Some(&band) = self
            .bands
            .iter()
            .find(|&&band| holds(band, age.youngest) && holds(band, age.oldest))
        {
            return key(band);
        }
        let touches = self.bands.iter().any(|&(first, last)| {
            first <= age.oldest && last.is_none_or(|last| age.youngest <= last)
        });
        if touches { SPANS_BANDS } else { OUTSIDE_BANDS }.to_string()
    }
}

/// "20-39" for a closed band, "60+" for an open one.
fn key((first, last): (u16, Option<u16>)) -> String {
    match last {
        Some(last) => format!("{first}-{last}"),
        None => format!("{first}+"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(youngest: u16, oldest: u16) -> AgeRange {
        AgeRange { youngest, oldest }
    }

    #[test]
    fn an_interval_counts_in_a_band_only_when_the_band_holds_all_of_it() {
        let bands: AgeBands = "0-9,10-19,20-39,40-".parse().expect("bands");
        assert_eq!(bands.band_of(age(9, 9)), "0-9");
        assert_eq!(bands.band_of(age(10, 10)), "10-19");
        assert_eq!(bands.band_of(age(21, 30)), "20-39");
        assert_eq!(bands.band_of(age(35, 44)), SPANS_BANDS);
        assert_eq!(bands.band_of(age(85, 95)), "40+");
        let adults: AgeBands = "18-29,30-".parse().expect("bands");
        assert_eq!(adults.band_of(age(5, 12)), OUTSIDE_BANDS);
        assert_eq!(adults.band_of(age(15, 20)), SPANS_BANDS);
        assert_eq!(
            AgeBands::default().to_string(),
            "0-17,18-29,30-44,45-59,60+"
        );
        assert_eq!(
            AgeBands::default().to_string().parse::<AgeBands>(),
            Ok(AgeBands::default())
        );
    }

    #[test]
    fn bands_with_gaps_overlaps_or_no_years_are_refused_with_the_band() {
        for (text, named) in [
            ("0-9,11-19", "'11-19' does not start at 10"),
            ("0-9,5-19", "'5-19' does not start at 10"),
            ("0-,10-19", "'10-19' follows an open band"),
            ("9-0", "'9-0' ends before it starts"),
            ("0-9,ten-19", "'ten-19' does not start and end"),
            ("0-9,20", "'20' is not a band"),
        ] {
            let error = text.parse::<AgeBands>().expect_err(text).to_string();
            assert!(error.contains(named), "{text}: {error}");
        }
    }
}
