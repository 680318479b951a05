//! Korean names: Hangul syllables, romanization systems and surname classes.
//!
//! Personal names are romanized syllable by syllable (Revised Romanization
//! rule 3.3 and the DPRK practice of writing syllables apart), so this crate
//! romanizes per syllable and leaves sound changes across syllables out.

use std::sync::OnceLock;

mod name;
mod spelling;
mod text;

pub use name::{
    NameError, NameKey, ParsedName, Reading, parse_name, parse_name_repairing, positions_agree,
    positions_similarity, syllable_similarity,
};
pub use spelling::{fold, spellings_of, table as spelling_table};
pub use text::{consonant_skeleton, hanja_coverage, text_tokens};

const SYLLABLE_BASE: u32 = 0xAC00;
const SYLLABLE_LAST: u32 = 0xD7A3;
pub(crate) const VOWELS: u32 = 21;
pub(crate) const FINALS: u32 = 28;

/// A Hangul syllable split into its initial, vowel and final (0 = none) indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Syllable {
    pub initial: u8,
    pub vowel: u8,
    pub final_: u8,
}

impl Syllable {
    pub fn decompose(c: char) -> Option<Syllable> {
        let code = c as u32;
        if !(SYLLABLE_BASE..=SYLLABLE_LAST).contains(&code) {
            return None;
        }
        let index = code - SYLLABLE_BASE;
        Some(Syllable {
            initial: (index / (VOWELS * FINALS)) as u8,
            vowel: ((index % (VOWELS * FINALS)) / FINALS) as u8,
            final_: (index % FINALS) as u8,
        })
    }

    pub fn compose(self) -> Option<char> {
        if self.initial >= 19 || self.vowel as u32 >= VOWELS || self.final_ as u32 >= FINALS {
            return None;
        }
        char::from_u32(
            SYLLABLE_BASE
                + (self.initial as u32 * VOWELS + self.vowel as u32) * FINALS
                + self.final_ as u32,
        )
    }
}

/// Every Hangul syllable, in code point order (11,172 of them).
pub fn all_syllables() -> impl Iterator<Item = char> {
    (SYLLABLE_BASE..=SYLLABLE_LAST).filter_map(char::from_u32)
}

/// Romanization systems Girok writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum System {
    /// Revised Romanization of Korean (South Korea, 2000).
    Revised,
    /// McCune-Reischauer with breves and apostrophes.
    McCuneReischauer,
    /// McCune-Reischauer as typed without breves or apostrophes.
    McCuneReischauerPlain,
    /// The DPRK's official system (1992), as in "Kim Jong Un", "Pak Pong Ju".
    Dprk,
}

const RR_INITIALS: [&str; 19] = [
    "g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p",
    "h",
];
const MR_INITIALS: [&str; 19] = [
    "k", "kk", "n", "t", "tt", "r", "m", "p", "pp", "s", "ss", "", "ch", "tch", "ch'", "k'", "t'",
    "p'", "h",
];
const DPRK_INITIALS: [&str; 19] = [
    "k", "kk", "n", "t", "tt", "r", "m", "p", "pp", "s", "ss", "", "j", "jj", "ch", "kh", "th",
    "ph", "h",
];
const RR_VOWELS: [&str; 21] = [
    "a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we",
    "wi", "yu", "eu", "ui", "i",
];
const MR_VOWELS: [&str; 21] = [
    "a", "ae", "ya", "yae", "ŏ", "e", "yŏ", "ye", "o", "wa", "wae", "oe", "yo", "u", "wŏ", "we",
    "wi", "yu", "ŭ", "ŭi", "i",
];
const RR_FINALS: [&str; 28] = [
    "", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p",
    "t", "t", "ng", "t", "t", "k", "t", "p", "t",
];

/// Romanizes one syllable in a system, as the start of a name part.
pub fn romanize_syllable(c: char, system: System) -> Option<String> {
    let s = Syllable::decompose(c)?;
    let (initials, vowels) = match system {
        System::Revised => (&RR_INITIALS, &RR_VOWELS),
        System::McCuneReischauer | System::McCuneReischauerPlain => (&MR_INITIALS, &MR_VOWELS),
        System::Dprk => (&DPRK_INITIALS, &MR_VOWELS),
    };
    let mut text = String::new();
    text.push_str(initials[s.initial as usize]);
    text.push_str(vowels[s.vowel as usize]);
    text.push_str(RR_FINALS[s.final_ as usize]);
    if system == System::McCuneReischauerPlain {
        text = strip_marks(&text);
    }
    Some(text)
}

/// Removes breves and apostrophes: what MR becomes on a keyboard.
pub fn strip_marks(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\'' | '’'))
        .map(|c| match c {
            'ŏ' => 'o',
            'ŭ' => 'u',
            'Ŏ' => 'O',
            'Ŭ' => 'U',
            other => other,
        })
        .collect()
}

/// Romanizes a run of syllables as one word (each syllable in initial form).
pub fn romanize_word(hangul: &str, system: System) -> Option<String> {
    hangul
        .chars()
        .map(|c| romanize_syllable(c, system))
        .collect()
}

/// South Korean passport habits applied to a Revised Romanization syllable:
/// eo after a consonant as u (정 jung), u as oo (주 joo), ui as ee (희 hee),
/// yeong as young (영 young).
pub fn passport_syllable(rr: &str) -> String {
    if let Some(stem) = rr.strip_suffix("yeong") {
        format!("{stem}young")
    } else if rr.contains("eo") && !rr.starts_with("eo") {
        rr.replacen("eo", "u", 1)
    } else if let Some(stem) = rr.strip_suffix("ui") {
        format!("{stem}ee")
    } else if let Some(stem) = rr
        .strip_suffix('u')
        .filter(|s| !s.ends_with('e') && !s.ends_with('y'))
    {
        format!("{stem}oo")
    } else {
        rr.to_string()
    }
}

/// One surname class: the Hangul forms and every spelling of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Surname {
    pub hangul: Vec<String>,
    pub rr: String,
    pub mr: String,
    pub dprk: String,
    pub variants: Vec<String>,
}

/// The surname classes shipped with Girok.
pub fn surnames() -> &'static [Surname] {
    static TABLE: OnceLock<Vec<Surname>> = OnceLock::new();
    TABLE.get_or_init(|| {
        include_str!("../data/surnames.tsv")
            .lines()
            .filter(|line| {
                !line.starts_with('#') && !line.starts_with("hangul\t") && !line.trim().is_empty()
            })
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('\t').collect();
                let list = |i: usize| -> Vec<String> {
                    cells
                        .get(i)
                        .map(|c| c.split(',').map(|s| s.trim().to_string()).collect())
                        .unwrap_or_default()
                };
                let first = |i: usize| list(i).into_iter().next().unwrap_or_default();
                Some(Surname {
                    hangul: list(0),
                    rr: first(1),
                    mr: first(2),
                    dprk: first(3),
                    variants: list(4),
                })
                .filter(|s| !s.hangul.is_empty() && !s.variants.is_empty())
            })
            .collect()
    })
}

/// The surname class of a Hangul surname, if it is in the table.
pub fn surname_of(hangul: &str) -> Option<&'static Surname> {
    surnames()
        .iter()
        .find(|s| s.hangul.iter().any(|h| h == hangul))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_syllable_decomposes_and_composes_back() {
        let mut count = 0;
        for c in all_syllables() {
            let syllable = Syllable::decompose(c).expect("syllable");
            assert_eq!(syllable.compose(), Some(c));
            count += 1;
        }
        assert_eq!(count, 11_172);
        assert_eq!(Syllable::decompose('A'), None);
    }

    #[test]
    fn names_romanize_in_each_system() {
        let cases = [
            ("은주", System::Revised, "eunju"),
            ("은주", System::McCuneReischauer, "ŭnchu"),
            ("은주", System::McCuneReischauerPlain, "unchu"),
            ("정은", System::Dprk, "jŏngŭn"),
            ("철", System::McCuneReischauer, "ch'ŏl"),
            ("규리", System::Revised, "gyuri"),
            ("봉", System::Dprk, "pong"),
            ("평", System::Dprk, "phyŏng"),
        ];
        for (hangul, system, expected) in cases {
            assert_eq!(
                romanize_word(hangul, system).as_deref(),
                Some(expected),
                "{hangul} {system:?}"
            );
        }
    }

    #[test]
    fn passport_habits() {
        for (rr, passport) in [
            ("jeong", "jung"),
            ("ju", "joo"),
            ("hui", "hee"),
            ("yeong", "young"),
            ("eun", "eun"),
            ("gyu", "gyu"),
        ] {
            assert_eq!(passport_syllable(rr), passport, "{rr}");
        }
    }

    #[test]
    fn surname_table_loads_with_north_and_south_forms_in_one_class() {
        let lee = surname_of("리").expect("리");
        assert_eq!(lee, surname_of("이").expect("이"));
        assert!(lee.variants.iter().any(|v| v == "Lee"));
        assert!(surnames().len() >= 50);
        for surname in surnames() {
            for hangul in &surname.hangul {
                assert!(
                    hangul.chars().all(|c| Syllable::decompose(c).is_some()),
                    "{hangul}"
                );
            }
        }
    }
}
