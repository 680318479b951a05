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

/// The Hangul readings of a Chinese character of Korean names, the usual first.
pub(crate) fn hanja_readings(c: char) -> Option<&'static [char]> {
    static TABLE: OnceLock<HashMap<char, Vec<char>>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            include_str!("../data/hanja.tsv")
                .lines()
                .filter(|line| !line.starts_with('#'))
                .filter_map(|line| {
                    let (hanja, readings) = line.split_once('\t')?;
                    let mut chars = hanja.chars();
                    let (Some(hanja), None) = (chars.next(), chars.next()) else {
                        return None;
                    };
                    let readings: Vec<char> = readings
                        .split(',')
                        .filter_map(|r| r.trim().chars().next())
                        .collect();
                    Some((hanja, readings))
                })
                .collect()
        })
        .get(&c)
        .map(Vec::as_slice)
}

/// How many characters the reading table covers.
pub fn hanja_coverage() -> usize {
    include_str!("../data/hanja.tsv")
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.chars().next())
        .filter(|&c| hanja_readings(c).is_some())
        .count()
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
        assert!(hanja_coverage() >= 350, "{}", hanja_coverage());
        for line in include_str!("../data/hanja.tsv")
            .lines()
            .filter(|l| !l.starts_with('#'))
        {
            let c = line.chars().next().expect("a character");
            let readings = hanja_readings(c).expect(line);
            assert!(!readings.is_empty(), "{line}");
            assert!(
                readings.iter().all(|&r| coarse_class(r).is_some()),
                "{line}"
            );
        }
        assert_eq!(hanja_readings('金'), Some(&['김', '금'][..]));
        assert_eq!(
            hanja_readings('\u{F90A}'),
            None,
            "compatibility forms are normalised first"
        );
    }
}
