//! Reading romanized text back into Hangul: every way a syllable is spelled
//! in the wild, and the syllables a spelling may stand for.
//!
//! The table is generated from per-jamo alternatives rather than listed, so it
//! covers all 11,172 syllables in Revised Romanization, McCune-Reischauer
//! (breves and apostrophes dropped by [`fold`]), the DPRK system and
//! South Korean passport habits. Ambiguity is kept: "song" reads as 송 and as
//! 성, because once the breve of "sŏng" is gone nothing tells them apart.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::{FINALS, Syllable, VOWELS, all_syllables};

/// Spellings of each initial consonant, in jamo order (ㄱ ㄲ ㄴ ㄷ ㄸ ㄹ ㅁ ㅂ ㅃ
/// ㅅ ㅆ ㅇ ㅈ ㅉ ㅊ ㅋ ㅌ ㅍ ㅎ). MR's aspiration apostrophes are gone after
/// folding, so ㅊ ㅋ ㅌ ㅍ share plain spellings with ㅈ ㄱ ㄷ ㅂ.
const INITIALS: [&[&str]; 19] = [
    &["g", "k"],
    &["kk", "gg"],
    &["n"],
    &["d", "t"],
    &["tt", "dd"],
    &["r", "l"],
    &["m"],
    &["b", "p"],
    &["pp", "bb"],
    &["s", "sh"],
    &["ss"],
    &[""],
    &["j", "ch"],
    &["jj", "tch"],
    &["ch"],
    &["k", "kh"],
    &["t", "th"],
    &["p", "ph"],
    &["h"],
];

/// Spellings of each vowel, in jamo order (ㅏ ㅐ ㅑ ㅒ ㅓ ㅔ ㅕ ㅖ ㅗ ㅘ ㅙ ㅚ ㅛ ㅜ ㅝ
/// ㅞ ㅟ ㅠ ㅡ ㅢ ㅣ). Passport spellings: ㅓ as "u" (Jung) or "ea" (Sean), ㅜ as "oo" (Joo),
/// ㅕ as "you"/"yu" (Young, Hyun), ㅢ and ㅣ as "ee" (Hee, Lee).
const VOWEL_SPELLINGS: [&[&str]; 21] = [
    &["a", "ah"],
    &["ae", "ai"],
    &["ya"],
    &["yae"],
    &["eo", "o", "u", "uh", "ea"],
    &["e"],
    &["yeo", "yo", "you", "yu"],
    &["ye"],
    &["o", "oh"],
    &["wa"],
    &["wae"],
    &["oe", "oi", "we"],
    &["yo"],
    &["u", "oo", "ou"],
    &["wo", "weo"],
    &["we"],
    &["wi", "wee"],
    &["yu", "yoo", "you"],
    &["eu", "u"],
    &["ui", "eui", "ee", "i"],
    &["i", "ee"],
];

/// Spellings of each final, in jamo order (none, ㄱ ㄲ ㄳ ㄴ ㄵ ㄶ ㄷ ㄹ ㄺ ㄻ ㄼ ㄽ ㄾ
/// ㄿ ㅀ ㅁ ㅂ ㅄ ㅅ ㅆ ㅇ ㅈ ㅊ ㅋ ㅌ ㅍ ㅎ): the sound at the end of a name
/// syllable, plus the voiced or letter-by-letter spellings people also use.
const FINAL_SPELLINGS: [&[&str]; 28] = [
    &[""],
    &["k", "g"],
    &["k"],
    &["k"],
    &["n"],
    &["n"],
    &["n"],
    &["t", "d"],
    &["l", "r"],
    &["k"],
    &["m"],
    &["l"],
    &["l"],
    &["l"],
    &["p"],
    &["l"],
    &["m"],
    &["p", "b"],
    &["p"],
    &["t", "s"],
    &["t", "ss"],
    &["ng"],
    &["t"],
    &["t"],
    &["k"],
    &["t"],
    &["p"],
    &["t"],
];

/// Lower-cases and removes the marks romanization adds (breves, apostrophes,
/// accents), leaving the ASCII letters people type. Other characters are kept.
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\'' | '’' | 'ʼ' | '‘' | '`' | '´' | '\u{0306}' | '\u{030C}' | '\u{0301}' => {}
            'ŏ' | 'Ŏ' | 'ǒ' | 'Ǒ' | 'ò' | 'ó' | 'ô' | 'ö' | 'Ò' | 'Ó' | 'Ô' | 'Ö' => {
                folded.push('o')
            }
            'ŭ' | 'Ŭ' | 'ǔ' | 'Ǔ' | 'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => {
                folded.push('u')
            }
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => folded.push('e'),
            'á' | 'à' | 'â' | 'ä' | 'Á' | 'À' | 'Â' | 'Ä' => folded.push('a'),
            'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Ì' | 'Î' | 'Ï' => folded.push('i'),
            other => folded.extend(other.to_lowercase()),
        }
    }
    folded
}

/// The syllables one spelling may stand for, sorted.
pub struct SpellingTable {
    readings: HashMap<Box<str>, Box<[char]>>,
    longest: usize,
}

impl SpellingTable {
    /// The syllables `spelling` (folded, lower-case ASCII) may stand for.
    pub fn syllables(&self, spelling: &str) -> &[char] {
        self.readings.get(spelling).map(|s| &s[..]).unwrap_or(&[])
    }

    /// The longest spelling of any syllable, in bytes.
    pub fn longest(&self) -> usize {
        self.longest
    }
}

/// Every spelling of one syllable this crate reads.
pub fn spellings_of(c: char) -> Vec<String> {
    let Some(s) = Syllable::decompose(c) else {
        return Vec::new();
    };
    let mut spellings = Vec::new();
    for initial in INITIALS[s.initial as usize] {
        for vowel in VOWEL_SPELLINGS[s.vowel as usize] {
            for final_ in FINAL_SPELLINGS[s.final_ as usize] {
                spellings.push(format!("{initial}{vowel}{final_}"));
            }
        }
    }
    spellings
}

/// The table of all spellings of all syllables, built once.
pub fn table() -> &'static SpellingTable {
    static TABLE: OnceLock<SpellingTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut readings: HashMap<String, Vec<char>> = HashMap::new();
        for c in all_syllables() {
            for spelling in spellings_of(c) {
                readings.entry(spelling).or_default().push(c);
            }
        }
        let longest = readings.keys().map(String::len).max().unwrap_or(0);
        let readings = readings
            .into_iter()
            .map(|(spelling, mut syllables)| {
                syllables.sort_unstable();
                syllables.dedup();
                (spelling.into_boxed_str(), syllables.into_boxed_slice())
            })
            .collect();
        SpellingTable { readings, longest }
    })
}

// The sizes the tables above are written for.
const _: () = assert!(VOWEL_SPELLINGS.len() == VOWELS as usize);
const _: () = assert!(FINAL_SPELLINGS.len() == FINALS as usize);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{System, passport_syllable, romanize_syllable};

    #[test]
    fn every_syllable_reads_back_from_every_system() {
        let table = table();
        for c in all_syllables() {
            for system in [
                System::Revised,
                System::McCuneReischauer,
                System::McCuneReischauerPlain,
                System::Dprk,
            ] {
                let spelled = fold(&romanize_syllable(c, system).expect("syllable"));
                assert!(
                    table.syllables(&spelled).contains(&c),
                    "{c} in {system:?} is {spelled}"
                );
            }
            let passport = passport_syllable(&romanize_syllable(c, System::Revised).expect("rr"));
            assert!(table.syllables(&passport).contains(&c), "{c} {passport}");
        }
    }

    #[test]
    fn ambiguity_is_kept() {
        let song = table().syllables("song");
        assert!(song.contains(&'송') && song.contains(&'성'));
        assert!(table().syllables("joo").contains(&'주'));
        assert!(table().syllables("hee").contains(&'희'));
        assert!(table().syllables("young").contains(&'영'));
        assert!(table().syllables("x").is_empty());
    }

    #[test]
    fn folding_removes_marks() {
        assert_eq!(fold("Ch'ŏl-ho Pak"), "chol-ho pak");
        assert_eq!(fold("Ŭn\u{0306}"), "un");
        assert_eq!(fold("KIM Jŏng"), "kim jong");
    }
}
