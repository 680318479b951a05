//! One parser per kind of field value, shared by every door. Each takes the
//! text as typed and returns the value or what to say, in both languages, of
//! what was given and what was expected; empty text is the caller's to
//! handle ([`given`]).

use girok_model::change::not_an_id;
use girok_model::vocab::normalize_spelling;
use girok_model::{
    CREDIBILITY, ConsentScope, FuzzyDate, Knowledge, Name, RecordId, Reliability, Romanization,
    Sex, SourceKind, VocabKind, Vocabularies, Wording,
};

/// The text of a field, trimmed, or `None` when nothing was typed.
pub fn given(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|t| !t.is_empty())
}

/// A record id: 1 to 64 letters, digits or `- _ . :`.
pub fn id(text: &str) -> Result<RecordId, Wording> {
    let id = RecordId::new(text.trim());
    if id.is_well_formed() {
        Ok(id)
    } else {
        Err(not_an_id(text.trim()))
    }
}

/// A keyword by its key, its Korean label or one of `more` spellings,
/// compared without case, spaces, hyphens or underscores.
fn keyword<K: Copy + PartialEq>(
    text: &str,
    all: &[K],
    key: fn(K) -> &'static str,
    ko: fn(K) -> &'static str,
    more: &[(K, &[&str])],
) -> Result<K, Wording> {
    let wanted = normalize_spelling(text);
    let spellings = |k: K| {
        let extra = more
            .iter()
            .filter(move |(m, _)| *m == k)
            .flat_map(|(_, s)| s.iter().copied());
        [key(k), ko(k)].into_iter().chain(extra)
    };
    all.iter()
        .copied()
        .find(|&k| spellings(k).any(|s| normalize_spelling(s) == wanted))
        .ok_or_else(|| {
            let keys: Vec<&str> = all.iter().map(|&k| key(k)).collect();
            let others: Vec<&str> = all
                .iter()
                .flat_map(|&k| spellings(k).skip(1))
                .filter(|s| !keys.contains(s))
                .collect();
            let (also, also_ko) = if others.is_empty() {
                (String::new(), String::new())
            } else {
                (
                    format!(" (or {})", others.join(", ")),
                    format!(" (또는 {})", others.join(", ")),
                )
            };
            let (text, keys) = (text.trim(), keys.join(", "));
            Wording::new(
                format!("'{text}' is not one of {keys}{also}"),
                format!("'{text}'은(는) {keys}{also_ko} 중 하나가 아닙니다"),
            )
        })
}

const SEX_SPELLINGS: &[(Sex, &[&str])] = &[
    (Sex::Female, &["f", "woman", "여", "여자"]),
    (Sex::Male, &["m", "man", "남", "남자"]),
];

pub fn sex(text: &str) -> Result<Sex, Wording> {
    keyword(text, Sex::ALL, Sex::as_str, Sex::ko, SEX_SPELLINGS)
}

pub fn consent(text: &str) -> Result<ConsentScope, Wording> {
    keyword(
        text,
        ConsentScope::ALL,
        ConsentScope::as_str,
        ConsentScope::ko,
        &[],
    )
}

pub fn source_kind(text: &str) -> Result<SourceKind, Wording> {
    keyword(
        text,
        SourceKind::ALL,
        SourceKind::as_str,
        SourceKind::ko,
        &[],
    )
}

pub fn reliability(text: &str) -> Result<Reliability, Wording> {
    keyword(
        text,
        Reliability::ALL,
        Reliability::as_str,
        Reliability::ko,
        &[],
    )
}

/// The credibility of the information: its grade 1 to 6 or the grade's
/// name in English or Korean ("probably true", "사실일 가능성 높음").
pub fn credibility(text: &str) -> Result<u8, Wording> {
    let wanted = normalize_spelling(text);
    CREDIBILITY
        .iter()
        .find(|(grade, en, ko)| {
            [grade.to_string().as_str(), en, ko]
                .iter()
                .any(|name| normalize_spelling(name) == wanted)
        })
        .map(|(grade, ..)| *grade)
        .ok_or_else(|| {
            let text = text.trim();
            Wording::new(
                format!(
                    "'{text}' is not a credibility grade: 1 (confirmed) to 6 (cannot be judged)"
                ),
                format!(
                    "'{text}'은(는) 신빙성 등급이 아닙니다: 1 (확인됨)에서 6 (판단할 수 없음)까지"
                ),
            )
        })
}

pub fn knowledge(text: &str) -> Result<Knowledge, Wording> {
    keyword(text, Knowledge::ALL, Knowledge::as_str, Knowledge::ko, &[])
}

/// A fuzzy date; empty text is unknown, as "unknown" is.
pub fn date(text: &str) -> Result<FuzzyDate, Wording> {
    match given(text) {
        None => Ok(FuzzyDate::UNKNOWN),
        Some(text) => FuzzyDate::parse(text).map_err(|e| e.wording()),
    }
}

/// The most years the model accepts as an age.
pub const MAX_AGE: u16 = 130;

/// An age in whole years, 0 to [`MAX_AGE`].
pub fn age(text: &str) -> Result<u16, Wording> {
    let text = text.trim();
    text.parse::<u16>()
        .ok()
        .filter(|age| *age <= MAX_AGE)
        .ok_or_else(|| {
            Wording::new(
                format!("'{text}' is not an age in whole years (0 to {MAX_AGE})"),
                format!("'{text}'은(는) 만 나이(0~{MAX_AGE}세)가 아닙니다"),
            )
        })
}

/// The key of a vocabulary term named by its key or any English, Korean or
/// romanized spelling.
pub fn term(vocabularies: &Vocabularies, kind: VocabKind, text: &str) -> Result<String, Wording> {
    vocabularies
        .get(kind)
        .resolve(text.trim())
        .map(|t| t.key.clone())
        .map_err(|e| e.wording())
}

/// Terms separated by `;`, each as [`term`].
pub fn terms(
    vocabularies: &Vocabularies,
    kind: VocabKind,
    text: &str,
) -> Result<Vec<String>, Wording> {
    text.split(';')
        .filter_map(given)
        .map(|t| term(vocabularies, kind, t))
        .collect()
}

/// The most characters a name may have.
pub const MAX_NAME: usize = 200;

/// Names separated by `;` or on lines of their own, each in any script and
/// at most [`MAX_NAME`] characters.
pub fn names(text: &str) -> Result<Vec<Name>, Wording> {
    text.split([';', '\n'])
        .filter_map(given)
        .map(|n| {
            if n.chars().count() > MAX_NAME {
                Err(Wording::new(
                    format!("a name has at most {MAX_NAME} characters"),
                    format!("이름은 {MAX_NAME}자를 넘을 수 없습니다"),
                ))
            } else {
                Ok(Name::detect(n, Romanization::Unknown))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_a_keyword_reads_as_its_value() {
        let sexes = [
            ("female", Sex::Female),
            ("Female", Sex::Female),
            (" F ", Sex::Female),
            ("woman", Sex::Female),
            ("여", Sex::Female),
            ("여성", Sex::Female),
            ("여자", Sex::Female),
            ("male", Sex::Male),
            ("M", Sex::Male),
            ("man", Sex::Male),
            ("남", Sex::Male),
            ("남성", Sex::Male),
            ("남자", Sex::Male),
            ("other", Sex::Other),
            ("기타", Sex::Other),
            ("unknown", Sex::Unknown),
            ("미상", Sex::Unknown),
        ];
        for (text, value) in sexes {
            assert_eq!(sex(text), Ok(value), "{text}");
        }
        let scopes = [
            ("internal", ConsentScope::Internal),
            ("내부", ConsentScope::Internal),
            ("Partners", ConsentScope::Partners),
            ("협력기관", ConsentScope::Partners),
            ("public-anonymised", ConsentScope::PublicAnonymised),
            ("public anonymised", ConsentScope::PublicAnonymised),
            ("public_anonymised", ConsentScope::PublicAnonymised),
            ("익명 공개", ConsentScope::PublicAnonymised),
            ("익명공개", ConsentScope::PublicAnonymised),
            ("public", ConsentScope::Public),
            ("공개", ConsentScope::Public),
        ];
        for (text, value) in scopes {
            assert_eq!(consent(text), Ok(value), "{text}");
        }
        for (text, value) in [
            ("interview", SourceKind::Interview),
            ("면담", SourceKind::Interview),
            ("Document", SourceKind::Document),
            ("언론", SourceKind::Media),
        ] {
            assert_eq!(source_kind(text), Ok(value), "{text}");
        }
        for (text, value) in [
            ("a", Reliability::A),
            ("A", Reliability::A),
            ("f", Reliability::F),
        ] {
            assert_eq!(reliability(text), Ok(value), "{text}");
        }
        for (text, value) in [
            ("saw", Knowledge::Saw),
            ("목격", Knowledge::Saw),
            ("heard-from-victim", Knowledge::HeardFromVictim),
            ("heard from others", Knowledge::HeardFromOthers),
            ("타인에게 들음", Knowledge::HeardFromOthers),
            ("unknown", Knowledge::Unknown),
        ] {
            assert_eq!(knowledge(text), Ok(value), "{text}");
        }
    }

    #[test]
    fn a_value_that_is_not_a_keyword_is_refused_with_what_was_expected() {
        let refusals: [(Result<String, Wording>, &str); 6] = [
            (
                sex("x").map(|s| s.to_string()),
                "'x' is not one of female, male, other, unknown (or 여성, f, woman, 여, 여자, 남성, m, man, 남, 남자, 기타, 미상)",
            ),
            (
                sex("fem").map(|s| s.to_string()),
                "'fem' is not one of female, male",
            ),
            (
                consent("everyone").map(|s| s.to_string()),
                "'everyone' is not one of internal, partners, public-anonymised, public (or 내부, 협력기관, 익명 공개, 공개)",
            ),
            (
                source_kind("rumour").map(|s| s.to_string()),
                "'rumour' is not one of interview, document, report, media, other",
            ),
            (
                reliability("G").map(|s| s.to_string()),
                "'G' is not one of a, b, c, d, e, f (or A, B, C, D, E, F)",
            ),
            (
                knowledge("dreamt").map(|s| s.to_string()),
                "'dreamt' is not one of saw, heard-from-victim, heard-from-others, document, unknown",
            ),
        ];
        for (result, message) in refusals {
            let refused = result.expect_err(message);
            assert!(
                refused.english().starts_with(message),
                "{refused}\nnot {message}"
            );
            assert!(
                refused.korean().contains("중 하나가 아닙니다"),
                "{}",
                refused.korean()
            );
        }
    }

    #[test]
    fn a_credibility_reads_by_grade_or_its_name_in_either_language() {
        for (text, grade) in [("2", 2), (" 6 ", 6), ("Probably true", 2), ("확인됨", 1)] {
            assert_eq!(credibility(text), Ok(grade), "{text}");
        }
        for text in ["0", "7", "B", "maybe"] {
            let refused = credibility(text).expect_err(text);
            assert!(
                refused.english().contains("1 (confirmed) to 6")
                    && refused.korean().contains("신빙성 등급이 아닙니다"),
                "{refused:?}"
            );
        }
    }

    #[test]
    fn dates_ages_and_ids_read_or_say_what_was_expected() {
        assert_eq!(date(""), Ok(FuzzyDate::UNKNOWN));
        assert_eq!(date("  "), Ok(FuzzyDate::UNKNOWN));
        for text in ["2019", "2019-03", "2020년 5월", "summer 2020", "c. 2019"] {
            assert!(date(text).is_ok(), "{text}");
        }
        let refused = date("sometime in 2020").expect_err("not a date");
        assert!(
            refused
                .english()
                .starts_with("'sometime in 2020' is not a date")
                && refused.english().contains("spring 2021"),
            "{refused}"
        );
        assert!(
            refused
                .korean()
                .starts_with("'sometime in 2020'은(는) 알아볼 수 있는 날짜가 아닙니다 (연도 앞의 'sometime in'을(를) 알아볼 수 없습니다)"),
            "{}",
            refused.korean()
        );
        for (text, value) in [("0", 0), ("19", 19), (" 130 ", 130)] {
            assert_eq!(age(text), Ok(value), "{text}");
        }
        for text in ["131", "-1", "nineteen", "19.5"] {
            let refused = age(text).expect_err(text);
            assert_eq!(
                refused.english(),
                format!("'{text}' is not an age in whole years (0 to 130)"),
            );
            assert_eq!(
                refused.korean(),
                format!("'{text}'은(는) 만 나이(0~130세)가 아닙니다"),
            );
        }
        assert_eq!(id(" p-1 "), Ok(RecordId::new("p-1")));
        assert_eq!(
            id("p 1").map_err(|refused| refused.to_string()),
            Err("'p 1' is not a valid id: use 1 to 64 letters, digits or - _ . :".to_string())
        );
    }

    #[test]
    fn terms_read_by_key_or_any_spelling_and_close_terms_are_named() {
        let vocabularies = Vocabularies::default();
        for (kind, text, key) in [
            (VocabKind::Place, "hoeryong", "hoeryong"),
            (VocabKind::Place, "Hoeryŏng", "hoeryong"),
            (VocabKind::Place, "회령", "hoeryong"),
            (VocabKind::Agency, "MSS", "mss"),
            (VocabKind::Agency, "국가보위성", "mss"),
            (VocabKind::ActType, "공개처형", "public-execution"),
            (VocabKind::ActType, "Public execution", "public-execution"),
        ] {
            assert_eq!(
                term(&vocabularies, kind, text),
                Ok(key.to_string()),
                "{text}"
            );
        }
        let refused =
            term(&vocabularies, VocabKind::ActType, "publc execution").expect_err("unknown");
        assert!(
            refused.english().contains("did you mean public-execution"),
            "{refused}"
        );
        // A Hangul slip (회룡 for 회령) is one letter off and gets its suggestion in Korean too.
        let refused = term(&vocabularies, VocabKind::Place, "회룡").expect_err("unknown");
        assert!(
            refused
                .korean()
                .contains("장소 목록에 없는 용어입니다; 혹시 hoeryong"),
            "{}",
            refused.korean()
        );
        assert_eq!(
            terms(&vocabularies, VocabKind::Agency, "MSS; border guards;"),
            Ok(vec!["mss".to_string(), "border-guard".to_string()])
        );
        assert!(terms(&vocabularies, VocabKind::Agency, "MSS;Atlantis police").is_err());
        let read = names("김은주;Kim Eun-joo\n\n Eunju Kim ").expect("names");
        let texts: Vec<&str> = read.iter().map(|n| n.text.as_str()).collect();
        assert_eq!(texts, ["김은주", "Kim Eun-joo", "Eunju Kim"]);
        assert_eq!(
            names(&"가".repeat(201)).map_err(|refused| refused.korean().to_string()),
            Err("이름은 200자를 넘을 수 없습니다".to_string())
        );
    }
}
