//! Personal names: any spelling into candidate Hangul readings, and the
//! comparison key under which the spellings of one name collapse.
//!
//! "Kim Eun-joo", "Eunju Kim", "KIM Ŭn-ju" and "김은주" all parse to readings
//! whose keys are equal; "김은자" does not. A reading keeps every syllable a
//! spelling may stand for, so nothing is decided that the text did not say.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

use crate::spelling::{fold, table};
use crate::text::{Hanja, hanja_readings, longest_mandarin, mandarin_readings};
use crate::{Syllable, surnames};

/// Longer input is not a personal name (a pasted paragraph, an attack).
pub const MAX_NAME_CHARS: usize = 200;
/// Longer runs of letters without a break are not one Korean name part.
const MAX_RUN_LETTERS: usize = 40;
const MAX_SYLLABLES: usize = 12;
const MAX_SEGMENTATIONS: usize = 8;
const MAX_READINGS: usize = 8;
/// A repaired name may be any of several names; keep a few more readings.
const MAX_REPAIRED_READINGS: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the name is empty or has no letters")]
    Empty,
    #[error("the name is {chars} characters long; a personal name has at most {MAX_NAME_CHARS}")]
    TooLong { chars: usize },
    #[error("'{part}' cannot be read as a Korean name: {why}")]
    NotKorean { part: String, why: &'static str },
}

/// The syllables one position of a name may be, sorted.
pub type Candidates = Box<[char]>;

/// One way to read a name: which part is the surname, and the candidate
/// syllables of each part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// Index of the surname class in [`surnames`], when the surname is in the table.
    pub surname_class: Option<u16>,
    pub surname: Vec<Candidates>,
    pub given: Vec<Candidates>,
}

/// All readings of a name, the most likely first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedName {
    pub readings: Vec<Reading>,
}

/// The comparison key: the surname class and a coarse class of each given
/// syllable (consonants without aspiration or tension, ㅓ/ㅗ/ㅜ/ㅡ together,
/// ㅐ/ㅔ together...), which is what survives every romanization system.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NameKey {
    surname: Surname,
    given: Vec<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Surname {
    Class(u16),
    /// A surname outside the table, by the coarse classes of its syllables.
    Other(Vec<u16>),
}

/// Parses a name written in Hangul or in any romanization, in either order.
/// Chinese characters are read from the first version of the reading
/// table: blind indexes are made from these readings.
pub fn parse_name(text: &str) -> Result<ParsedName, NameError> {
    parse_with(text, Hanja::Sealed)
}

fn parse_with(text: &str, hanja: Hanja) -> Result<ParsedName, NameError> {
    let chars = text.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(NameError::TooLong { chars });
    }
    // Composes jamo typed apart and maps compatibility ideographs to the
    // characters the reading table lists.
    let text: String = text.nfc().collect();
    let text = text.as_str();
    // "Kim, Eun-ju": a comma puts the surname first explicitly.
    let (surname_text, given_text) = match text.split_once(',') {
        Some((surname, given)) => (Some(surname), given),
        None => (None, text),
    };
    let given_groups = groups(given_text, hanja)?;
    let readings = match surname_text {
        Some(surname_text) => {
            let surname_groups = groups(surname_text, hanja)?;
            if surname_groups.is_empty() {
                return Err(NameError::Empty);
            }
            readings_with_surname(&surname_groups, &given_groups)
        }
        None => readings_in_either_order(&given_groups),
    };
    finish(readings)
}

/// Readings without repeats, the likeliest few, each followed by its South
/// Korean form.
fn finish(readings: Vec<Reading>) -> Result<ParsedName, NameError> {
    let mut readings: Vec<Reading> = readings.into_iter().fold(Vec::new(), |mut kept, r| {
        if !kept.contains(&r) {
            kept.push(r);
        }
        kept
    });
    readings.truncate(MAX_READINGS);
    if readings.is_empty() {
        return Err(NameError::Empty);
    }
    // Each reading is followed by its South Korean form, if that differs.
    let mut with_south: Vec<Reading> = Vec::with_capacity(readings.len() * 2);
    for reading in readings {
        let south = south_reading(&reading);
        for r in std::iter::once(reading).chain(south) {
            if !with_south.contains(&r) {
                with_south.push(r);
            }
        }
    }
    Ok(ParsedName {
        readings: with_south,
    })
}

/// The initial-sound rule (두음법칙) of South Korean orthography, articles
/// 10 to 12: a word-initial ㄹ becomes ㄴ before ㅏ ㅐ ㅗ ㅚ ㅜ ㅡ (락 낙, 로 노),
/// and ㄹ or ㄴ becomes ㅇ before ㅣ and the y-vowels (리 이, 룡 용, 녀 여).
/// North Korean usage keeps the ㄹ and ㄴ. The rule is applied by coarse
/// vowel class (so ㅔ goes with ㅐ, ㅓ with ㅗ): the South form of every
/// syllable a spelling may stand for then has one coarse class too.
fn south_initial(c: char) -> char {
    const NIEUN: u8 = 2;
    const RIEUL: u8 = 5;
    const IEUNG: u8 = 11;
    let Some(syllable) = Syllable::decompose(c) else {
        return c;
    };
    let initial = match (syllable.initial, coarse_vowel(syllable.vowel)) {
        // ㅑ; ㅒ ㅖ; ㅕ ㅛ ㅠ; ㅢ ㅣ
        (RIEUL | NIEUN, 2 | 3 | 5 | 10) => IEUNG,
        // ㅏ; ㅐ ㅔ; ㅓ ㅗ ㅜ ㅡ; ㅙ ㅚ ㅞ
        (RIEUL, 0 | 1 | 4 | 7) => NIEUN,
        _ => return c,
    };
    Syllable {
        initial,
        ..syllable
    }
    .compose()
    .unwrap_or(c)
}

/// A reading as South Korean civil registration writes it: the first
/// syllable of the given name under the initial-sound rule, as if it began
/// a word. Later syllables keep their ㄹ and ㄴ, as both Koreas write them
/// inside a word (리룡남 is 이용남, 김정렬 stays 김정렬), even when a
/// romanization writes the syllables apart ("Ri Yong Ryol"). The surname
/// needs nothing here: 리 and 이 are one surname class already.
fn south_reading(reading: &Reading) -> Option<Reading> {
    let first = reading.given.first()?;
    let mut south: Vec<char> = first.iter().map(|&c| south_initial(c)).collect();
    south.sort_unstable();
    south.dedup();
    if south[..] == first[..] {
        return None;
    }
    let mut given = reading.given.clone();
    given[0] = south.into();
    Some(Reading {
        given,
        ..reading.clone()
    })
}

/// Like [`parse_name`], but a name that does not parse is read as the
/// names one typing slip away that do (a letter dropped, doubled or two
/// swapped: "Kiim" as Kim, "Pko" as Pok, "Sn" as Son or Sun). The second
/// value tells whether the name was repaired.
pub fn parse_name_repairing(text: &str) -> Result<(ParsedName, bool), NameError> {
    // A surname outside the table, or a letter typed twice where no
    // romanization doubles it, is more often a slip than a rare name.
    let slipped = looks_slipped(text);
    let known_surname = |readings: &[Reading]| readings.iter().any(|r| r.surname_class.is_some());
    let mandarin = mandarin_name(text);
    let (unrepaired, error) = match parse_with(text, Hanja::All) {
        Ok(parsed) if !slipped && known_surname(&parsed.readings) => {
            return Ok((parsed.followed_by(mandarin), false));
        }
        Ok(parsed) => (parsed, None),
        Err(error @ NameError::NotKorean { .. }) => (
            ParsedName {
                readings: Vec::new(),
            },
            Some(error),
        ),
        Err(other) => return Err(other),
    };
    // Pinyin that reads as no Korean name ("Piao Jinshan"), or as one
    // without a Korean surname ("Wang Jianguo" as 왕 지안구오).
    if let Some(mandarin) = mandarin {
        return Ok((mandarin.followed_by(Some(unrepaired)), false));
    }
    let chars: Vec<char> = text.chars().collect();
    let letter = |i: usize| chars.get(i).is_some_and(|c| c.is_ascii_alphabetic());
    let letters: Vec<usize> = (0..chars.len()).filter(|&i| letter(i)).collect();
    // A doubled letter undone, swaps, dropped letters, missing vowels:
    // likeliest slips first.
    let mut variants: Vec<String> = Vec::new();
    for &i in &letters {
        if chars
            .get(i + 1)
            .is_some_and(|next| next.eq_ignore_ascii_case(&chars[i]))
        {
            let mut undone = chars.clone();
            undone.remove(i);
            variants.push(undone.into_iter().collect());
        }
    }
    for &i in letters.iter().filter(|&&i| letter(i + 1)) {
        let mut swapped = chars.clone();
        swapped.swap(i, i + 1);
        variants.push(swapped.into_iter().collect());
    }
    // A letter no romanization uses is a slip inside a word ("Eun-jxoo"),
    // but not at its start ("Xiaoming", "Zhang").
    let word_start = |i: usize| i == 0 || !chars[i - 1].is_alphabetic();
    for &i in letters
        .iter()
        .filter(|&&i| romanization_letter(chars[i]) || !word_start(i))
    {
        let mut dropped = chars.clone();
        dropped.remove(i);
        variants.push(dropped.into_iter().collect());
    }
    for &i in &letters {
        for vowel in ['a', 'e', 'i', 'o', 'u'] {
            let mut inserted = chars.clone();
            inserted.insert(i + 1, vowel);
            variants.push(inserted.into_iter().collect());
        }
    }
    let mut found: Vec<Reading> = Vec::new();
    for reading in variants
        .iter()
        .filter_map(|v| parse_with(v, Hanja::All).ok())
        .flat_map(|p| p.readings)
    {
        if !found.contains(&reading) {
            found.push(reading);
        }
    }
    // Repairs that find a known surname win; others only when nothing else reads.
    if found.iter().any(|r| r.surname_class.is_some()) {
        found.retain(|r| r.surname_class.is_some());
    } else if error.is_none() {
        return Ok((unrepaired, false));
    }
    found.truncate(MAX_REPAIRED_READINGS);
    // A doubled letter may be a real name after all: keep its own readings too.
    for reading in unrepaired.readings {
        if slipped
            && found.len() < MAX_REPAIRED_READINGS + MAX_READINGS
            && !found.contains(&reading)
        {
            found.push(reading);
        }
    }
    match error {
        Some(error) if found.is_empty() => Err(error),
        _ => Ok((ParsedName { readings: found }, true)),
    }
}

impl ParsedName {
    /// These readings, then those of `other` not among them.
    fn followed_by(mut self, other: Option<ParsedName>) -> ParsedName {
        for reading in other.into_iter().flat_map(|o| o.readings) {
            if self.readings.len() < MAX_REPAIRED_READINGS && !self.readings.contains(&reading) {
                self.readings.push(reading);
            }
        }
        self
    }
}

/// A name in pinyin read through the Chinese characters it may stand for:
/// Chinese papers write Korean names so (金恩珠, "Jin Enzhu"), and Korean
/// sources read Chinese names so (王建國, 왕건국). `None` unless every word
/// splits into Mandarin syllables of the reading table.
fn mandarin_name(text: &str) -> Option<ParsedName> {
    let folded = fold(&text.nfc().collect::<String>());
    let mut groups = Vec::new();
    for word in folded.split(|c: char| !c.is_alphabetic()) {
        if word.is_empty() {
            continue;
        }
        if !word.chars().all(|c| c.is_ascii_lowercase()) {
            return None;
        }
        let sequences: Vec<Vec<Candidates>> = mandarin_segmentations(word)
            .iter()
            .flat_map(|syllables| {
                // One sequence per choice of coarse class at each syllable,
                // so that each has a comparison key of its own.
                syllables.iter().fold(vec![Vec::new()], |acc, syllable| {
                    cross(&acc, &by_class(mandarin_readings(syllable).unwrap_or(&[])))
                })
            })
            .take(MAX_SEGMENTATIONS)
            .collect();
        if sequences.is_empty() {
            return None;
        }
        groups.push(Group {
            letters: word.to_string(),
            sequences,
        });
    }
    if groups.is_empty() {
        return None;
    }
    finish(readings_in_either_order(&groups)).ok()
}

/// Every way to split letters into Mandarin syllables of the table, fewest
/// syllables first ("xian" before "xi an").
fn mandarin_segmentations(letters: &str) -> Vec<Vec<&str>> {
    fn split<'a>(rest: &'a str, path: &mut Vec<&'a str>, found: &mut Vec<Vec<&'a str>>) {
        if found.len() == MAX_SEGMENTATIONS {
            return;
        }
        if rest.is_empty() {
            found.push(path.clone());
            return;
        }
        for end in (1..=rest.len().min(longest_mandarin())).rev() {
            if rest.is_char_boundary(end) && mandarin_readings(&rest[..end]).is_some() {
                path.push(&rest[..end]);
                split(&rest[end..], path, found);
                path.pop();
            }
        }
    }
    let mut found = Vec::new();
    split(letters, &mut Vec::new(), &mut found);
    found.sort_by_key(Vec::len);
    found
}

/// Syllables grouped by coarse class, in the order they come: one position
/// of a sequence for each class.
fn by_class(syllables: &[char]) -> Vec<Vec<Candidates>> {
    let mut classes: Vec<(Option<u16>, Vec<char>)> = Vec::new();
    for &syllable in syllables {
        let class = coarse_class(syllable);
        match classes.iter_mut().find(|(c, _)| *c == class) {
            Some((_, members)) => members.push(syllable),
            None => classes.push((class, vec![syllable])),
        }
    }
    classes
        .into_iter()
        .map(|(_, mut members)| {
            members.sort_unstable();
            vec![members.into()]
        })
        .collect()
}

/// Whether a letter occurs in some spelling of a syllable or a surname.
fn romanization_letter(c: char) -> bool {
    static LETTERS: OnceLock<Vec<char>> = OnceLock::new();
    LETTERS
        .get_or_init(|| {
            let mut letters: Vec<char> = crate::all_syllables()
                .flat_map(crate::spellings_of)
                .chain(surname_spellings().keys().cloned())
                .flat_map(|spelling| spelling.chars().collect::<Vec<_>>())
                .collect();
            letters.sort_unstable();
            letters.dedup();
            letters
        })
        .binary_search(&c.to_ascii_lowercase())
        .is_ok()
}

/// Letters no romanization doubles ("Juun", "Siil", "Haae"), or a word
/// that starts with a capital typed twice ("KKim", "AAe").
fn looks_slipped(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["aa", "ii", "uu", "yy", "ww", "eee", "ooo"]
        .iter()
        .any(|pair| lower.contains(pair))
        || text.split(|c: char| !c.is_alphabetic()).any(|word| {
            let mut chars = word.chars();
            matches!(
                (chars.next(), chars.next(), chars.next()),
                (Some(a), Some(b), Some(c)) if a == b && a.is_uppercase() && c.is_lowercase()
            )
        })
}

/// A run of name text between spaces: its folded letters and the syllable
/// sequences it may be.
struct Group {
    letters: String,
    sequences: Vec<Vec<Candidates>>,
}

fn groups(text: &str, hanja: Hanja) -> Result<Vec<Group>, NameError> {
    let folded = fold(text);
    let mut groups = Vec::new();
    for word in folded.split(|c: char| !(c.is_alphabetic() || c == '-')) {
        let letters: String = word.chars().filter(|c| *c != '-').collect();
        if letters.is_empty() {
            continue;
        }
        let sequences = match word_sequences(word, hanja) {
            Ok(sequences) => sequences,
            // "Park", "Rhee": surname spellings that are not syllable spellings.
            Err(error) => match surname_spellings().get(&letters) {
                Some(classes) => classes.iter().map(|&c| class_syllables(c)).collect(),
                None => return Err(error),
            },
        };
        if sequences.iter().all(|s| s.len() > MAX_SYLLABLES) {
            return Err(NameError::NotKorean {
                part: word.to_string(),
                why: "too many syllables for a name",
            });
        }
        groups.push(Group { letters, sequences });
    }
    if groups.is_empty() {
        return Err(NameError::Empty);
    }
    Ok(groups)
}

fn word_sequences(word: &str, hanja: Hanja) -> Result<Vec<Vec<Candidates>>, NameError> {
    let mut sequences: Vec<Vec<Candidates>> = vec![Vec::new()];
    for part in word.split('-').filter(|p| !p.is_empty()) {
        sequences = cross(&sequences, &part_sequences(part, hanja)?);
    }
    Ok(sequences)
}

/// The syllable sequences one hyphen-free part may be: Hangul as written,
/// romanized letters by every way of splitting them into syllables.
fn part_sequences(part: &str, hanja: Hanja) -> Result<Vec<Vec<Candidates>>, NameError> {
    let mut sequences: Vec<Vec<Candidates>> = vec![Vec::new()];
    let mut latin = String::new();
    for c in part.chars() {
        if Syllable::decompose(c).is_some() {
            if !latin.is_empty() {
                sequences = cross(&sequences, &segmentations(&latin)?);
                latin.clear();
            }
            for sequence in &mut sequences {
                sequence.push(Box::new([c]));
            }
        } else if c.is_ascii_lowercase() {
            latin.push(c);
        } else if let Some(readings) = hanja_readings(c, hanja) {
            if !latin.is_empty() {
                sequences = cross(&sequences, &segmentations(&latin)?);
                latin.clear();
            }
            let each: Vec<Vec<Candidates>> =
                readings.iter().map(|&r| vec![Box::from([r])]).collect();
            sequences = cross(&sequences, &each);
        } else {
            return Err(NameError::NotKorean {
                part: part.to_string(),
                why: "it has letters that are neither Hangul, Latin nor Chinese characters of Korean names",
            });
        }
    }
    if !latin.is_empty() {
        sequences = cross(&sequences, &segmentations(&latin)?);
    }
    Ok(sequences)
}

fn cross(heads: &[Vec<Candidates>], tails: &[Vec<Candidates>]) -> Vec<Vec<Candidates>> {
    let mut out = Vec::new();
    for head in heads {
        for tail in tails {
            if out.len() == MAX_SEGMENTATIONS {
                return out;
            }
            let mut joined = head.clone();
            joined.extend(tail.iter().cloned());
            out.push(joined);
        }
    }
    out
}

/// Every way to split romanized letters into syllable spellings, the most
/// natural first (consonants start the next syllable: "gyuri" is gyu-ri).
fn segmentations(letters: &str) -> Result<Vec<Vec<Candidates>>, NameError> {
    let not_korean = |why| NameError::NotKorean {
        part: letters.to_string(),
        why,
    };
    if letters.len() > MAX_RUN_LETTERS {
        return Err(not_korean("too long for one part of a name"));
    }
    let table = table();
    let bytes = letters.len();
    // completes[i]: the letters from i on split into syllables somehow.
    let mut completes = vec![false; bytes + 1];
    completes[bytes] = true;
    for start in (0..bytes).rev() {
        completes[start] = (start + 1..=bytes.min(start + table.longest()))
            .any(|end| completes[end] && !table.syllables(&letters[start..end]).is_empty());
    }
    if !completes[0] {
        return Err(not_korean("the letters do not split into Korean syllables"));
    }
    let mut found = Vec::new();
    let mut path = Vec::new();
    split_from(letters, 0, &completes, &mut path, &mut found);
    found.sort_by_key(|splits: &Vec<(usize, usize)>| {
        let vowel_starts = splits
            .iter()
            .filter(|&&(start, _)| {
                matches!(letters.as_bytes()[start], b'a' | b'e' | b'i' | b'o' | b'u')
            })
            .count();
        (vowel_starts, splits.len())
    });
    Ok(found
        .into_iter()
        .map(|splits| {
            splits
                .into_iter()
                .map(|(start, end)| table.syllables(&letters[start..end]).into())
                .collect()
        })
        .collect())
}

fn split_from(
    letters: &str,
    start: usize,
    completes: &[bool],
    path: &mut Vec<(usize, usize)>,
    found: &mut Vec<Vec<(usize, usize)>>,
) {
    if found.len() == MAX_SEGMENTATIONS {
        return;
    }
    if start == letters.len() {
        found.push(path.clone());
        return;
    }
    let table = table();
    for end in start + 1..=letters.len().min(start + table.longest()) {
        if completes[end] && !table.syllables(&letters[start..end]).is_empty() {
            path.push((start, end));
            split_from(letters, end, completes, path, found);
            path.pop();
        }
    }
}

/// Surname spellings that are not read syllable by syllable ("Park", "Rhee",
/// "Choi"), folded, to the classes they belong to.
fn surname_spellings() -> &'static HashMap<String, Vec<u16>> {
    static SPELLINGS: OnceLock<HashMap<String, Vec<u16>>> = OnceLock::new();
    SPELLINGS.get_or_init(|| {
        let mut spellings: HashMap<String, Vec<u16>> = HashMap::new();
        for (index, surname) in surnames().iter().enumerate() {
            let written = [&surname.rr, &surname.mr, &surname.dprk]
                .into_iter()
                .chain(&surname.variants);
            for spelling in written {
                let folded: String = fold(spelling).chars().filter(|c| *c != '-').collect();
                let classes = spellings.entry(folded).or_default();
                if !classes.contains(&(index as u16)) {
                    classes.push(index as u16);
                }
            }
        }
        spellings
    })
}

/// The surname readings of a group: one per surname class it may be, or
/// none when it is no known surname.
/// A way to read a surname: its class, if in the table, and its syllables.
type SurnameChoice = (Option<u16>, Vec<Candidates>);

fn surname_readings(group: &Group) -> Vec<SurnameChoice> {
    let mut found: Vec<SurnameChoice> = Vec::new();
    let mut add = |class: u16, syllables: Vec<Candidates>| {
        if !found.iter().any(|(c, _)| *c == Some(class)) {
            found.push((Some(class), syllables));
        }
    };
    for sequence in &group.sequences {
        for class in classes_of(sequence) {
            add(class, sequence.clone());
        }
    }
    if let Some(classes) = surname_spellings().get(&group.letters) {
        for &class in classes {
            add(class, class_syllables(class));
        }
    }
    found
}

/// Hangul surnames by their first syllable: (class, all syllables).
type SurnameIndex = HashMap<char, Vec<(u16, Vec<char>)>>;

fn surname_index() -> &'static SurnameIndex {
    static INDEX: OnceLock<SurnameIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index = SurnameIndex::new();
        for (class, surname) in surnames().iter().enumerate() {
            for hangul in &surname.hangul {
                let chars: Vec<char> = hangul.chars().collect();
                if let Some(&first) = chars.first() {
                    index.entry(first).or_default().push((class as u16, chars));
                }
            }
        }
        index
    })
}

/// The surname classes a syllable sequence may be.
fn classes_of(sequence: &[Candidates]) -> Vec<u16> {
    let Some(first) = sequence.first() else {
        return Vec::new();
    };
    let mut classes: Vec<u16> = first
        .iter()
        .filter_map(|c| surname_index().get(c))
        .flatten()
        .filter(|(_, chars)| {
            chars.len() == sequence.len()
                && chars.iter().zip(sequence).all(|(c, cs)| cs.contains(c))
        })
        .map(|(class, _)| *class)
        .collect();
    classes.sort_unstable();
    classes.dedup();
    classes
}

/// The Hangul of a surname class, position by position.
fn class_syllables(class: u16) -> Vec<Candidates> {
    let forms = &surnames()[class as usize].hangul;
    let length = forms.first().map(|f| f.chars().count()).unwrap_or(0);
    (0..length)
        .map(|i| {
            let mut at: Vec<char> = forms.iter().filter_map(|f| f.chars().nth(i)).collect();
            at.sort_unstable();
            at.dedup();
            at.into()
        })
        .collect()
}

fn readings_with_surname(surname_groups: &[Group], given_groups: &[Group]) -> Vec<Reading> {
    let joined = Group {
        letters: surname_groups.iter().map(|g| g.letters.as_str()).collect(),
        sequences: sequences_of(surname_groups.iter()),
    };
    let (choices, _) = surname_choices(&joined);
    let mut readings = Vec::new();
    for given in sequences_of(given_groups.iter()) {
        push_readings(&mut readings, &choices, given);
    }
    readings
}

/// A name with no comma: the surname is the first or the last group, or
/// the first syllables of a single group ("김은주", "Kimeunju").
fn readings_in_either_order(groups: &[Group]) -> Vec<Reading> {
    let mut readings = Vec::new();
    if let [only] = groups {
        for sequence in &only.sequences {
            let two_syllable_surname =
                sequence.len() >= 3 && !classes_of(&sequence[..2]).is_empty();
            let split = if two_syllable_surname { 2 } else { 1 }.min(sequence.len());
            let surname = Group {
                letters: String::new(),
                sequences: vec![sequence[..split].to_vec()],
            };
            let (choices, _) = surname_choices(&surname);
            push_readings(&mut readings, &choices, sequence[split..].to_vec());
        }
        return readings;
    }
    let (first, first_is_surname) = surname_choices(&groups[0]);
    let (last, last_is_surname) = surname_choices(&groups[groups.len() - 1]);
    if first_is_surname || !last_is_surname {
        for given in sequences_of(groups[1..].iter()) {
            push_readings(&mut readings, &first, given);
        }
    }
    if last_is_surname {
        for given in sequences_of(groups[..groups.len() - 1].iter()) {
            push_readings(&mut readings, &last, given);
        }
    }
    readings
}

/// The syllable sequences of groups read one after another.
fn sequences_of<'a>(groups: impl Iterator<Item = &'a Group>) -> Vec<Vec<Candidates>> {
    groups.fold(vec![Vec::new()], |acc, g| cross(&acc, &g.sequences))
}

/// The ways a group may be a surname: each surname class it may be or, if it
/// is no known surname, its own syllables without a class. The flag tells
/// whether it is a known surname.
fn surname_choices(group: &Group) -> (Vec<SurnameChoice>, bool) {
    let known = surname_readings(group);
    if known.is_empty() {
        let unknown = group.sequences.iter().map(|s| (None, s.clone())).collect();
        (unknown, false)
    } else {
        (known, true)
    }
}

fn push_readings(
    readings: &mut Vec<Reading>,
    surname_choices: &[SurnameChoice],
    given: Vec<Candidates>,
) {
    for (class, syllables) in surname_choices {
        readings.push(Reading {
            surname_class: *class,
            surname: syllables.clone(),
            given: given.clone(),
        });
    }
}

/// The coarse class of a syllable: what no romanization system changes.
pub fn coarse_class(c: char) -> Option<u16> {
    // ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ
    const INITIAL: [u16; 19] = [1, 1, 2, 3, 3, 4, 5, 6, 6, 7, 7, 0, 8, 8, 8, 1, 3, 6, 9];
    // none ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ
    const FINAL: [u16; 28] = [
        0, 1, 1, 1, 2, 2, 2, 3, 4, 1, 5, 4, 4, 4, 6, 4, 5, 6, 6, 3, 3, 7, 3, 3, 1, 3, 6, 3,
    ];
    let s = Syllable::decompose(c)?;
    Some(INITIAL[s.initial as usize] * 100 + coarse_vowel(s.vowel) * 10 + FINAL[s.final_ as usize])
}

/// The coarse class of a vowel: ㅓ/ㅗ/ㅜ/ㅡ together, ㅐ/ㅔ together...
fn coarse_vowel(vowel: u8) -> u16 {
    // ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ
    const VOWEL: [u16; 21] = [
        0, 1, 2, 3, 4, 1, 5, 3, 4, 6, 7, 7, 5, 4, 8, 7, 9, 5, 4, 10, 10,
    ];
    VOWEL.get(vowel as usize).copied().unwrap_or(u16::MAX)
}

/// The smallest coarse class among candidates (all candidates of one
/// spelling share a class; a test holds this).
fn class_of_candidates(candidates: &Candidates) -> u16 {
    candidates
        .iter()
        .filter_map(|&c| coarse_class(c))
        .min()
        .unwrap_or(u16::MAX)
}

impl Reading {
    pub fn key(&self) -> NameKey {
        NameKey {
            surname: match self.surname_class {
                Some(class) => Surname::Class(class),
                None => Surname::Other(self.surname.iter().map(class_of_candidates).collect()),
            },
            given: self.given.iter().map(class_of_candidates).collect(),
        }
    }
}

/// Whether two runs of candidate syllables could be the same Hangul: as many
/// positions, and at each a syllable both allow.
pub fn positions_agree<'a>(
    a: impl ExactSizeIterator<Item = &'a [char]>,
    b: impl ExactSizeIterator<Item = &'a [char]>,
) -> bool {
    a.len() == b.len() && a.zip(b).all(|(x, y)| x.iter().any(|c| y.contains(c)))
}

/// How alike two runs of candidate syllables are, 0 to 1: the mean over the
/// longer run of [`syllable_similarity`] position by position.
pub fn positions_similarity<'a>(
    a: impl ExactSizeIterator<Item = &'a [char]>,
    b: impl ExactSizeIterator<Item = &'a [char]>,
) -> f32 {
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    let total: f32 = a.zip(b).map(|(x, y)| syllable_similarity(x, y)).sum();
    total / longest as f32
}

/// How alike two candidate sets are: 1 when they share a syllable, else the
/// share of jamo the closest pair has in common.
pub fn syllable_similarity(a: &[char], b: &[char]) -> f32 {
    // Candidate sets are sorted: a shared syllable is found by one merge.
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return 1.0,
        }
    }
    let jamo = |c: &char| {
        let index = (*c as u32).wrapping_sub(0xAC00);
        (index / 588, index % 588 / 28, index % 28)
    };
    let mut best = 0u8;
    for x in a.iter().map(jamo) {
        for y in b.iter().map(jamo) {
            let shared = u8::from(x.0 == y.0) + u8::from(x.1 == y.1) + u8::from(x.2 == y.2);
            best = best.max(shared);
            // Two of three is the most that different syllables can share.
            if best == 2 {
                return 2.0 / 3.0;
            }
        }
    }
    f32::from(best) / 3.0
}

impl ParsedName {
    /// The comparison keys of all readings, without repeats.
    pub fn keys(&self) -> Vec<NameKey> {
        let mut keys: Vec<NameKey> = self.readings.iter().map(Reading::key).collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

impl NameKey {
    /// A stable 64-bit hash for blocking (the same on every machine and run).
    pub fn hash64(&self) -> u64 {
        let mut hash = Fnv::default();
        match &self.surname {
            Surname::Class(class) => hash.write(u64::from(*class)),
            Surname::Other(classes) => {
                hash.write(0xFFFF_0000);
                classes.iter().for_each(|c| hash.write(u64::from(*c)));
            }
        }
        hash.write(0xFFFF_FFFF);
        self.given.iter().for_each(|c| hash.write(u64::from(*c)));
        hash.0
    }

    /// The surname part of the key, hashed.
    pub fn surname_hash(&self) -> u64 {
        NameKey {
            surname: self.surname.clone(),
            given: Vec::new(),
        }
        .hash64()
    }

    /// The coarse classes of the given name's syllables.
    pub fn given(&self) -> &[u16] {
        &self.given
    }
}

/// FNV-1a over 64-bit words: stable across runs, unlike the standard hasher.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, word: u64) {
        for byte in word.to_le_bytes() {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl fmt::Display for NameKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.surname {
            Surname::Class(class) => {
                let surname = &surnames()[*class as usize];
                let shown = surname.variants.first().unwrap_or(&surname.rr);
                write!(f, "{}", shown.to_lowercase())?;
            }
            Surname::Other(classes) => write_classes(f, classes)?,
        }
        f.write_str(":")?;
        write_classes(f, &self.given)
    }
}

fn write_classes(f: &mut fmt::Formatter<'_>, classes: &[u16]) -> fmt::Result {
    const INITIAL: [&str; 10] = ["", "k", "n", "t", "r", "m", "p", "s", "j", "h"];
    const VOWEL: [&str; 11] = ["a", "e", "ya", "ye", "o", "yo", "wa", "we", "wo", "wi", "i"];
    const FINAL: [&str; 8] = ["", "k", "n", "t", "l", "m", "p", "ng"];
    for (i, class) in classes.iter().enumerate() {
        if i > 0 {
            f.write_str("-")?;
        }
        let (initial, vowel, final_) = (class / 100, class / 10 % 10, class % 10);
        match (
            INITIAL.get(initial as usize),
            VOWEL.get(vowel as usize),
            FINAL.get(final_ as usize),
        ) {
            (Some(i), Some(v), Some(fin)) => write!(f, "{i}{v}{fin}")?,
            _ => f.write_str("?")?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{System, all_syllables, passport_syllable, romanize_syllable, spellings_of};

    fn key(text: &str) -> Vec<NameKey> {
        parse_name(text).expect(text).keys()
    }

    fn same(a: &str, b: &str) -> bool {
        let (a, b) = (key(a), key(b));
        a.iter().any(|k| b.contains(k))
    }

    #[test]
    fn spellings_of_one_name_collapse_to_one_key() {
        for group in [
            &[
                "김은주",
                "Kim Eun-joo",
                "Eunju Kim",
                "Kim Eun-ju",
                "KIM Ŭn-ju",
                "Kim Un Ju",
                "Kim, Eunjoo",
            ][..],
            &[
                "강규리",
                "Kang Gyuri",
                "Gyuri Kang",
                "Kang Kyu-ri",
                "Gang Gyu-ri",
            ],
            &["정선", "Sean Chung", "Jeong Seon", "Jung Sun", "Chŏng Sŏn"],
            &[
                "박동구",
                "Pak Tong Gu",
                "Park Dong-gu",
                "Bak Donggu",
                "Park Dong-koo",
            ],
            &[
                "이영희",
                "Lee Young-hee",
                "Ri Yong Hui",
                "Yi Yŏng-hŭi",
                "Rhee Yeonghui",
            ],
            &["최철호", "Choi Chul-ho", "Ch'oe Ch'ŏl-ho", "Choe Chol Ho"],
        ] {
            for pair in group.windows(2) {
                assert!(
                    same(pair[0], pair[1]),
                    "{} / {}: {:?} {:?}",
                    pair[0],
                    pair[1],
                    key(pair[0]),
                    key(pair[1])
                );
            }
        }
    }

    #[test]
    fn different_names_stay_apart() {
        for (a, b) in [
            ("김은주", "김은자"),
            ("김영수", "김영숙"),
            ("강규리", "강규린"),
            ("박동구", "박동주"),
            ("Kim Eun-ju", "Lee Eun-ju"),
            ("Kim Min-jun", "Kim Jun-min"),
            ("이영희", "이영"),
        ] {
            assert!(!same(a, b), "{a} / {b}");
        }
    }

    /// Whether some readings of two names could be the same Hangul.
    fn agree(a: &str, b: &str) -> bool {
        let (a, b) = (parse_name(a).expect(a), parse_name(b).expect(b));
        a.readings.iter().any(|r| {
            b.readings.iter().any(|s| {
                r.surname_class == s.surname_class
                    && positions_agree(
                        r.given.iter().map(|c| &c[..]),
                        s.given.iter().map(|c| &c[..]),
                    )
            })
        })
    }

    #[test]
    fn north_and_south_forms_of_a_given_name_are_one_name() {
        for (north, south) in [
            ("Choe Ryong-myong", "최용명"),
            ("최룡명", "Choe Yong-myeong"),
            ("최룡명", "최용명"),
            ("Kim Ryon-bok", "Kim Yeon-bok"),
            ("김련복", "김연복"),
            ("리락원", "이낙원"),
            ("Ri Rak Won", "Lee Nak-won"),
            ("김녀희", "김여희"),
            ("Pak Ro Myong", "박노명"),
            ("박류순", "Park Yu-soon"),
            ("김림수", "김임수"),
            ("Ryang Hye", "양혜"),
            ("정량호", "Jeong Yang-ho"),
            ("김라영", "Kim Na-young"),
        ] {
            assert!(same(north, south), "key: {north} / {south}");
            assert!(agree(north, south), "Hangul: {north} / {south}");
        }
    }

    #[test]
    fn the_initial_sound_rule_merges_no_other_names() {
        for (a, b) in [
            ("김은주", "김은자"),
            ("최룡명", "최용남"),
            // Only the first given syllable begins a word.
            ("김영렬", "김영열"),
            ("김정림", "김정임"),
            ("김룡수", "김농수"),
            ("김노명", "김오명"),
            ("Kim Ryon-bok", "Kim Yon-bok Ri"),
        ] {
            assert!(!same(a, b), "key: {a} / {b}");
            assert!(!agree(a, b), "Hangul: {a} / {b}");
        }
        // The written form keeps its own key: indexes made before still match.
        let written = parse_name("최룡명").expect("parses");
        assert_eq!(written.readings[0].given[0][..], ['룡']);
        assert_eq!(written.readings[1].given[0][..], ['용']);
    }

    /// The South form of a spelling is well defined: the South forms of
    /// every syllable a spelling may stand for share one coarse class.
    #[test]
    fn every_spelling_has_one_south_coarse_class() {
        let table = crate::spelling_table();
        for c in all_syllables() {
            let class = coarse_class(south_initial(c));
            for spelling in spellings_of(c) {
                for &other in table.syllables(&spelling) {
                    assert_eq!(
                        coarse_class(south_initial(other)),
                        class,
                        "{spelling}: {c} {other}"
                    );
                }
            }
        }
    }

    /// Romanizing any syllable as a name part, then parsing it, gives back
    /// candidates that contain the syllable: for every system.
    #[test]
    fn every_syllable_survives_romanizing_and_parsing() {
        for c in all_syllables() {
            let mut spelled: Vec<String> = [
                System::Revised,
                System::McCuneReischauer,
                System::McCuneReischauerPlain,
                System::Dprk,
            ]
            .iter()
            .filter_map(|&system| romanize_syllable(c, system))
            .collect();
            spelled.push(passport_syllable(&spelled[0]));
            for text in spelled {
                let name = parse_name(&format!("Kim {text}")).expect("parses");
                assert!(
                    name.readings
                        .iter()
                        .any(|r| r.given.len() == 1 && r.given[0].contains(&c)),
                    "{c} as {text}: {name:?}"
                );
            }
        }
    }

    /// The key is well defined: every syllable a spelling may stand for has
    /// the same coarse class.
    #[test]
    fn every_spelling_stands_for_one_coarse_class() {
        let table = crate::spelling_table();
        for c in all_syllables() {
            let class = coarse_class(c);
            for spelling in spellings_of(c) {
                for &other in table.syllables(&spelling) {
                    assert_eq!(coarse_class(other), class, "{spelling}: {c} {other}");
                }
            }
        }
    }

    #[test]
    fn ambiguity_is_kept_as_candidates() {
        let name = parse_name("Song Min").expect("parses");
        let surnames: Vec<Option<u16>> = name.readings.iter().map(|r| r.surname_class).collect();
        assert!(surnames.len() >= 2, "송 and 성: {surnames:?}");
        let gyuri = parse_name("Kang Gyuri").expect("parses");
        assert_eq!(gyuri.readings[0].given.len(), 2, "gyu-ri before gyur-i");
    }

    #[test]
    fn bad_input_is_a_clear_error_never_a_panic() {
        assert_eq!(parse_name(""), Err(NameError::Empty));
        assert_eq!(parse_name(" -- ,, ."), Err(NameError::Empty));
        assert!(matches!(
            parse_name(&"a".repeat(500)),
            Err(NameError::TooLong { chars: 500 })
        ));
        assert!(matches!(
            parse_name("Zhang Xqw"),
            Err(NameError::NotKorean { .. })
        ));
        assert!(matches!(
            parse_name("Иван Петров"),
            Err(NameError::NotKorean { .. })
        ));
        assert!(parse_name(&"ab".repeat(90)).is_err());
        assert!(parse_name("김 Eun-ju").is_ok(), "mixed scripts");
        assert!(
            parse_name("金恩𤨒").is_err(),
            "a Chinese character outside the reading table is not guessed"
        );
        assert!(
            parse_name("Wang Xiaoming").is_err(),
            "no word of a romanization starts with x: no slip"
        );
        for name in ["", "?!", "\u{0}\u{7}", "--", &"김".repeat(10_000)] {
            assert!(parse_name_repairing(name).is_err(), "{name:?}");
        }
    }

    #[test]
    fn korean_names_in_chinese_characters_are_read() {
        for (hanja, hangul) in [
            ("金恩珠", "김은주"),
            ("李英熙", "이영희"),
            ("崔龍明", "최용명"),
            ("朴 東九", "박동구"),
            ("\u{F90A}恩珠", "김은주"),
        ] {
            assert!(same(hanja, hangul), "{hanja} / {hangul}");
        }
        assert!(!same("金恩珠", "김은자"));
    }

    /// The keys linkage reads a name under (more Chinese characters, pinyin).
    fn linkage_keys(text: &str) -> Vec<NameKey> {
        parse_name_repairing(text)
            .map(|(parsed, _)| parsed.keys())
            .unwrap_or_default()
    }

    #[test]
    fn pinyin_and_later_characters_are_read_by_linkage_only() {
        for (written, hangul) in [
            ("Jin Enzhu", "김은주"),
            ("Piao Jinshan", "박금선"),
            ("Li Guangzhe", "이광철"),
            ("Cui Yuhua", "최옥화"),
            ("Jin Jinnan", "김금남"),
            ("Enzhu Jin", "김은주"),
            ("Wang Jianguo", "왕건국"),
            ("王建国", "왕건국"),
            ("Zhou Na", "주나"),
            ("金英粉", "김영분"),
            ("南宮革", "남궁혁"),
        ] {
            let hangul = key(hangul);
            assert!(
                linkage_keys(written).iter().any(|k| hangul.contains(k)),
                "{written} / {hangul:?}"
            );
        }
        for (written, other) in [("Jin Enzhu", "김은자"), ("Wang Jianguo", "왕젠궈")] {
            let other = key(other);
            assert!(
                !linkage_keys(written).iter().any(|k| other.contains(k)),
                "{written} / {other:?}"
            );
        }
        for sealed in ["Jin Enzhu", "王建国", "金英粉"] {
            assert!(
                parse_name(sealed).is_err(),
                "{sealed}: blind indexes unchanged"
            );
        }
        for korean in ["Kim Eun-joo", "Ri Yong Ho", "김은주", "金恩珠"] {
            assert_eq!(
                linkage_keys(korean),
                key(korean),
                "{korean} reads as before"
            );
        }
    }

    #[test]
    fn typing_slips_are_repaired() {
        let kim = key("김은주");
        for slip in [
            "Kiim Eun-joo",
            "Kmi Eun-joo",
            "Kim Eun-jxoo",
            "Kim Eunjo",
            "KKim Eun-joo",
            "Kim Euun-joo",
            "Kim Eun-jo",
        ] {
            let (parsed, _) = parse_name_repairing(slip).expect(slip);
            assert!(
                parsed.keys().iter().any(|k| kim.contains(k)),
                "{slip}: {:?}",
                parsed.keys()
            );
        }
        let (_, repaired) = parse_name_repairing("Kim Eun-joo").expect("parses");
        assert!(!repaired);
        assert!(parse_name_repairing("").is_err());
    }

    #[test]
    fn keys_print_for_reviewers() {
        assert_eq!(key("김은주")[0].to_string(), "kim:on-jo");
    }
}
