//! Sentences for people, in both of Girok's languages.
//!
//! A refusal is worded where it is decided, by the code that knows what was
//! wrong; the door that shows it picks the reader's language. Keeping the
//! Korean beside the English at that one place is what lets every door say
//! the same thing in both.

use std::fmt;

/// One sentence (or clause) in English and in Korean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wording {
    english: String,
    korean: String,
}

impl Wording {
    pub fn new(english: impl Into<String>, korean: impl Into<String>) -> Wording {
        Wording {
            english: english.into(),
            korean: korean.into(),
        }
    }

    pub fn english(&self) -> &str {
        &self.english
    }

    pub fn korean(&self) -> &str {
        &self.korean
    }

    /// The Korean when `korean`, else the English.
    pub fn in_language(&self, korean: bool) -> &str {
        if korean { &self.korean } else { &self.english }
    }
}

/// Shows the English: logs, the command line and the API speak English.
impl fmt::Display for Wording {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english)
    }
}

/// A wording is what a refusal says, so it can be one.
impl std::error::Error for Wording {}

/// The object particle (을/를) that follows `noun` in Korean: 을 after a
/// final consonant, 를 after a vowel or anything that is not Hangul.
pub fn object_particle(noun: &str) -> &'static str {
    match noun.chars().last().map(u32::from) {
        Some(c @ 0xAC00..=0xD7A3) if (c - 0xAC00) % 28 != 0 => "을",
        _ => "를",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wording_shows_english_and_gives_korean_when_asked() {
        let said = Wording::new("must not be empty", "비어 있으면 안 됩니다");
        assert_eq!(said.to_string(), "must not be empty");
        assert_eq!(said.in_language(true), "비어 있으면 안 됩니다");
        assert_eq!(said.in_language(false), "must not be empty");
    }

    #[test]
    fn the_object_particle_follows_the_last_syllable() {
        assert_eq!(object_particle("이름"), "을");
        assert_eq!(object_particle("나이"), "를");
        assert_eq!(object_particle("ID"), "를");
    }
}
