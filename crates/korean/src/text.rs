//! Names compared as text, in any script: Unicode-normalised, accents
//! folded, Cyrillic transliterated, lower-cased and split into tokens, so
//! "Dmitry Ivanov", "IVANOV, Dmitry" and "Дмитрий Иванов" become tokens a
//! comparison can match in any order. Letters of scripts without a rule here
//! are kept as they are: compared as text, never dropped.
//!
//! Also the readings of common Chinese characters of Korean names (金恩珠
//! is 김은주), used by the name parser.

use std::collections::HashMap;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::Syllable;
use crate::name::{MAX_NAME_CHARS, NameError};

/// The tokens of a name as text, in written order.
pub fn text_tokens(text: &str) -> Result<Vec<String>, NameError> {
    let chars = text.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(NameError::TooLong { chars });
    }
    let mut tokens = Vec::new();
    let mut token = String::new();
    for c in text.nfc() {
        if Syllable::decompose(c).is_some() {
            // Decomposing would turn a Hangul syllable into its jamo.
            token.push(c);
            continue;
        }
        for lower in c.to_lowercase() {
            // Transliterated before decomposing: й is not и with a breve.
            if let Some(latin) = latin_of(lower) {
                token.push_str(latin);
                continue;
            }
            for d in lower.nfkd().flat_map(char::to_lowercase) {
                match d {
                    // "O'Brien", "Ch'oe": apostrophes join a word.
                    '\'' | '’' | 'ʼ' | '‘' | '`' | '´' => {}
                    d if is_combining_mark(d) => {}
                    d => match latin_of(d) {
                        Some(latin) => token.push_str(latin),
                        None if d.is_alphanumeric() => token.push(d),
                        None if !token.is_empty() => tokens.push(std::mem::take(&mut token)),
                        None => {}
                    },
                }
            }
        }
    }
    if !token.is_empty() {
        tokens.push(token);
    }
    if tokens.is_empty() {
        return Err(NameError::Empty);
    }
    Ok(tokens)
}

/// The consonants of a name token as a Korean ear takes them, from Latin
/// letters or Hangul alike, so that a foreign name and its Hangul
/// transcription meet: "vladimir" and 블라디미르 are both `PLTML`, "zhao" and
/// 자오 `S`, "elizabeth" and 엘리자베스 `LSPS`. Vowels, glides and h are left
/// out (Korean writes them too differently), a consonant repeated without a
/// vowel between counts once, and letters of other scripts are skipped.
pub fn consonant_skeleton(token: &str) -> String {
    let mut letters: Vec<char> = Vec::with_capacity(token.len());
    for c in token.chars() {
        match crate::romanize_syllable(c, crate::System::Revised) {
            Some(latin) => letters.extend(latin.chars()),
            None => letters.push(c),
        }
    }
    let mut skeleton = String::new();
    let mut previous = None;
    let mut i = 0;
    while i < letters.len() {
        let next = letters.get(i + 1).copied();
        let (sound, len) = match (letters[i], next) {
            // English th: ㅌ at the start (Thomas), ㅅ after (Smith, Elizabeth).
            ('t', Some('h')) if i == 0 => (Some('T'), 2),
            ('t', Some('h')) => (Some('S'), 2),
            ('n', Some('g')) => (Some('N'), 2),
            ('p', Some('h')) => (Some('P'), 2),
            // Russian х is heard as ㅎ, which is left out like h.
            ('k', Some('h')) => (None, 2),
            ('c' | 's' | 'z', Some('h')) | ('t', Some('s')) => (Some('S'), 2),
            ('c', Some('e' | 'i' | 'y')) => (Some('S'), 1),
            ('c' | 'g' | 'k', _) => (Some('K'), 1),
            ('s' | 'z' | 'j' | 'x' | 'q', _) => (Some('S'), 1),
            ('b' | 'p' | 'f' | 'v', _) => (Some('P'), 1),
            ('d' | 't', _) => (Some('T'), 1),
            ('l' | 'r', _) => (Some('L'), 1),
            ('m', _) => (Some('M'), 1),
            ('n', _) => (Some('N'), 1),
            ('h', _) => (None, 1),
            (c, _) if c.is_ascii_alphabetic() => {
                // A vowel or glide: what follows is a new consonant.
                previous = None;
                (None, 1)
            }
            _ => (None, 1),
        };
        if let Some(sound) = sound
            && previous != Some(sound)
        {
            skeleton.push(sound);
            previous = Some(sound);
        }
        i += len;
    }
    skeleton
}

/// Latin letters for letters that have no decomposition: Cyrillic (BGN/PCGN
/// for Russian, with the Ukrainian and Belarusian letters) and the Latin
/// letters that are not a base letter with an accent.
fn latin_of(c: char) -> Option<&'static str> {
    Some(match c {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' | 'ґ' => "g",
        'д' => "d",
        'е' | 'ё' | 'э' => "e",
        'є' => "ye",
        'ж' => "zh",
        'з' => "z",
        'и' | 'і' => "i",
        'ї' => "yi",
        'й' | 'ы' => "y",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' | 'ў' => "u",
        'ф' => "f",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' | 'ь' => "",
        'ю' => "yu",
        'я' => "ya",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'ø' => "o",
        'ł' => "l",
        'đ' | 'ð' => "d",
        'þ' => "th",
        'ı' => "i",
        _ => return None,
    })
}

/// The characters of the reading table a parse may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hanja {
    /// The first version's, from which blind indexes are made.
    Sealed,
    /// Every version's, for linkage.
    All,
}

struct HanjaEntry {
    hangul: Vec<char>,
    version: u8,
}

/// The reading table: per character its Sino-Korean readings and version,
/// and per Mandarin syllable the readings of its characters in table order.
struct HanjaTable {
    characters: HashMap<char, HanjaEntry>,
    mandarin: HashMap<Box<str>, Vec<char>>,
    longest_mandarin: usize,
}

fn hanja_table() -> &'static HanjaTable {
    static TABLE: OnceLock<HanjaTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = HanjaTable {
            characters: HashMap::new(),
            mandarin: HashMap::new(),
            longest_mandarin: 0,
        };
        for line in include_str!("../data/hanja.tsv")
            .lines()
            .filter(|line| !line.starts_with('#'))
        {
            let fields: Vec<&str> = line.split('\t').collect();
            let [hanja, hangul, mandarin, version] = fields[..] else {
                continue;
            };
            let mut chars = hanja.chars();
            let (Some(hanja), None) = (chars.next(), chars.next()) else {
                continue;
            };
            let hangul: Vec<char> = hangul
                .split(',')
                .filter_map(|r| r.trim().chars().next())
                .collect();
            for syllable in mandarin.split(',').map(str::trim) {
                let readings = table.mandarin.entry(syllable.into()).or_default();
                for &h in &hangul {
                    if !readings.contains(&h) {
                        readings.push(h);
                    }
                }
                table.longest_mandarin = table.longest_mandarin.max(syllable.len());
            }
            let version = version.trim().parse().unwrap_or(u8::MAX);
            table
                .characters
                .insert(hanja, HanjaEntry { hangul, version });
        }
        table
    })
}

/// The Hangul readings of a Chinese character of names, the usual first.
pub(crate) fn hanja_readings(c: char, hanja: Hanja) -> Option<&'static [char]> {
    let entry = hanja_table().characters.get(&c)?;
    (hanja == Hanja::All || entry.version == 1).then_some(entry.hangul.as_slice())
}

/// The Sino-Korean readings of the characters a Mandarin syllable (pinyin
/// without tones) may stand for, in table order: "jin" is 김, 금 or 진.
pub(crate) fn mandarin_readings(syllable: &str) -> Option<&'static [char]> {
    hanja_table().mandarin.get(syllable).map(Vec::as_slice)
}

/// The longest Mandarin syllable in the table, in letters.
pub(crate) fn longest_mandarin() -> usize {
    hanja_table().longest_mandarin
}

/// How many characters the reading table covers.
pub fn hanja_coverage() -> usize {
    hanja_table().characters.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::coarse_class;

    #[test]
    fn names_fold_to_tokens_in_any_script() {
        let cases: [(&str, &[&str]); 14] = [
            ("Aleksandr Petrov", &["aleksandr", "petrov"]),
            ("Александр Петров", &["aleksandr", "petrov"]),
            ("Дмитрий Иванов", &["dmitriy", "ivanov"]),
            ("Tomás Ojea Quintana", &["tomas", "ojea", "quintana"]),
            ("LÓPEZ, María-Fernanda", &["lopez", "maria", "fernanda"]),
            ("Ｋｉｍ\u{3000}Ｅｕｎ", &["kim", "eun"]),
            ("Nguyễn Thị Minh", &["nguyen", "thi", "minh"]),
            ("O'Brien", &["obrien"]),
            ("Straße Øster", &["strasse", "oster"]),
            ("김은주", &["김은주"]),
            ("\u{1100}\u{1175}\u{11B7}", &["김"]),
            ("محمد علي", &["محمد", "علي"]),
            ("王小明", &["王小明"]),
            ("Ka\u{0}ren\u{7}", &["ka", "ren"]),
        ];
        for (written, tokens) in cases {
            assert_eq!(
                text_tokens(written),
                Ok(tokens.iter().map(|t| t.to_string()).collect()),
                "{written}"
            );
        }
    }

    #[test]
    fn foreign_names_and_their_hangul_have_one_skeleton() {
        for (written, hangul) in [
            ("vladimir", "블라디미르"),
            ("morozov", "모로조프"),
            ("petrova", "페트로바"),
            ("sergey", "세르게이"),
            ("aleksandr", "알렉산드르"),
            ("mikhail", "미하일"),
            ("natalya", "나탈리야"),
            ("elizabeth", "엘리자베스"),
            ("smith", "스미스"),
            ("thomas", "토머스"),
            ("gonzalez", "곤살레스"),
            ("zhao", "자오"),
            ("hongwei", "훙웨이"),
            ("jianguo", "젠궈"),
            ("dongmei", "둥메이"),
        ] {
            assert_eq!(
                consonant_skeleton(written),
                consonant_skeleton(hangul),
                "{written} / {hangul}"
            );
        }
        assert_eq!(consonant_skeleton("vladimir"), "PLTML");
        assert_eq!(
            consonant_skeleton("tatyana"),
            "TTN",
            "a vowel between: twice"
        );
        assert_ne!(consonant_skeleton("petrov"), consonant_skeleton("popov"));
        assert_eq!(consonant_skeleton("王"), "", "other scripts are skipped");
    }

    #[test]
    fn bad_text_is_refused_with_the_reason() {
        assert_eq!(text_tokens(""), Err(NameError::Empty));
        assert_eq!(text_tokens(" .,;-- \u{0}\t"), Err(NameError::Empty));
        assert_eq!(
            text_tokens(&"x".repeat(10_000)),
            Err(NameError::TooLong { chars: 10_000 })
        );
    }

    #[test]
    fn the_hanja_table_reads_to_hangul_syllables() {
        let lines: Vec<&str> = include_str!("../data/hanja.tsv")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect();
        assert_eq!(hanja_coverage(), lines.len(), "every line is read once");
        assert!(hanja_coverage() >= 500, "{}", hanja_coverage());
        for line in lines {
            let c = line.chars().next().expect("a character");
            let readings = hanja_readings(c, Hanja::All).expect(line);
            assert!(!readings.is_empty(), "{line}");
            assert!(
                readings.iter().all(|&r| coarse_class(r).is_some()),
                "{line}"
            );
        }
        assert_eq!(hanja_readings('金', Hanja::Sealed), Some(&['김', '금'][..]));
        assert_eq!(
            hanja_readings('\u{F90A}', Hanja::All),
            None,
            "compatibility forms are normalised first"
        );
        assert_eq!(
            (
                hanja_readings('国', Hanja::Sealed),
                hanja_readings('国', Hanja::All)
            ),
            (None, Some(&['국'][..])),
            "characters added after version 1 leave blind indexes as they were"
        );
        assert_eq!(mandarin_readings("jin"), Some(&['김', '금', '진'][..]));
        assert_eq!(mandarin_readings("piao"), Some(&['박'][..]));
        for line in include_str!("../data/hanja.tsv")
            .lines()
            .filter(|l| !l.starts_with('#'))
        {
            let mandarin = line.split('\t').nth(2).expect(line);
            assert!(
                mandarin.split(',').all(|syllable| !syllable.is_empty()
                    && syllable.chars().all(|c| c.is_ascii_lowercase())),
                "pinyin without tones or marks: {line}"
            );
        }
    }
}
