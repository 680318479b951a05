//! Controlled vocabularies: bilingual (English/Korean) terms shipped inside the
//! binary as versioned TSV files under `vocab/`, extendable at run time by
//! journaled `add-term` changes (see [`crate::Change::AddTerm`]).
//!
//! File format: `#` comment lines (one of them `# version: N`), a header row whose
//! first five columns are `key en ko parent class`, then any number of extra
//! columns (for places: `rr mr dprk aliases`). Values of the spelling columns
//! (`aliases`, `rr`, `mr`, `dprk`), split on `,`, are accepted spellings of the term.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The vocabularies Girok knows. Each is a file under `vocab/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VocabKind {
    ActType,
    ViolationCategory,
    Agency,
    FacilityType,
    ActStatus,
    Relation,
    Place,
    Period,
    /// Documenting organisations: the lists of every estimate.
    Organisation,
}

impl VocabKind {
    pub const ALL: [VocabKind; 9] = [
        VocabKind::ActType,
        VocabKind::ViolationCategory,
        VocabKind::Agency,
        VocabKind::FacilityType,
        VocabKind::ActStatus,
        VocabKind::Relation,
        VocabKind::Place,
        VocabKind::Period,
        VocabKind::Organisation,
    ];

    pub fn name(self) -> &'static str {
        match self {
            VocabKind::ActType => "act-types",
            VocabKind::ViolationCategory => "violation-categories",
            VocabKind::Agency => "agencies",
            VocabKind::FacilityType => "facility-types",
            VocabKind::ActStatus => "act-statuses",
            VocabKind::Relation => "relations",
            VocabKind::Place => "places",
            VocabKind::Period => "periods",
            VocabKind::Organisation => "organisations",
        }
    }

    /// The vocabulary's name in Korean, as a reader of the Korean pages sees it.
    pub fn korean_name(self) -> &'static str {
        match self {
            VocabKind::ActType => "행위 유형",
            VocabKind::ViolationCategory => "침해 범주",
            VocabKind::Agency => "기관",
            VocabKind::FacilityType => "시설 유형",
            VocabKind::ActStatus => "행위 상태",
            VocabKind::Relation => "관계",
            VocabKind::Place => "장소",
            VocabKind::Period => "기간",
            VocabKind::Organisation => "기록 단체",
        }
    }

    pub fn from_name(name: &str) -> Option<VocabKind> {
        VocabKind::ALL.into_iter().find(|k| k.name() == name)
    }

    fn source(self) -> &'static str {
        match self {
            VocabKind::ActType => include_str!("../vocab/act-types.tsv"),
            VocabKind::ViolationCategory => include_str!("../vocab/violation-categories.tsv"),
            VocabKind::Agency => include_str!("../vocab/agencies.tsv"),
            VocabKind::FacilityType => include_str!("../vocab/facility-types.tsv"),
            VocabKind::ActStatus => include_str!("../vocab/act-statuses.tsv"),
            VocabKind::Relation => include_str!("../vocab/relations.tsv"),
            VocabKind::Place => include_str!("../vocab/places.tsv"),
            VocabKind::Period => include_str!("../vocab/periods.tsv"),
            VocabKind::Organisation => include_str!("../vocab/organisations.tsv"),
        }
    }
}

impl fmt::Display for VocabKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The class of an organisation term that is another spelling merged into
/// the organisation its `parent` names.
pub const MERGED_SPELLING: &str = "merged";

/// Extra columns whose values are other spellings of a term; the rest is data.
const SPELLING_COLUMNS: [&str; 4] = ["aliases", "rr", "mr", "dprk"];

/// One term: a stable key and its labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Term {
    pub key: String,
    pub en: String,
    pub ko: String,
    /// The broader term (a county's province, an act type's violation category).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// A free classification (for places: province, city, county, district, country).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// Further named columns: spellings (see `SPELLING_COLUMNS`) and data such as a period's bounds.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

impl Term {
    pub fn extra(&self, column: &str) -> Option<&str> {
        self.extra.get(column).map(String::as_str)
    }

    fn spellings(&self) -> impl Iterator<Item = &str> {
        self.spellings_by_field().map(|(_, spelling)| spelling)
    }

    /// Every spelling that finds the term, with the field that holds it.
    fn spellings_by_field(&self) -> impl Iterator<Item = (&str, &str)> {
        let listed = self
            .extra
            .iter()
            .filter(|(column, _)| SPELLING_COLUMNS.contains(&column.as_str()))
            .flat_map(|(column, values)| values.split(',').map(move |v| (column.as_str(), v)));
        [
            ("key", self.key.as_str()),
            ("en", self.en.as_str()),
            ("ko", self.ko.as_str()),
        ]
        .into_iter()
        .chain(listed)
        .map(|(field, spelling)| (field, spelling.trim()))
        .filter(|(_, s)| !s.is_empty())
    }
}

/// A text that names no term, or more than one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TermError {
    #[error("'{text}' is not a term of {vocabulary}{}", close_hint(.close))]
    Unknown {
        vocabulary: VocabKind,
        text: String,
        close: Vec<String>,
    },
    #[error("'{text}' is ambiguous in {vocabulary}: it may be any of {}; use the key", .candidates.join(", "))]
    Ambiguous {
        vocabulary: VocabKind,
        text: String,
        candidates: Vec<String>,
    },
}

fn close_hint(close: &[String]) -> String {
    if close.is_empty() {
        "; `girok terms` lists them".to_string()
    } else {
        format!("; did you mean {}?", close.join(", "))
    }
}

impl TermError {
    /// The same refusal in Korean.
    pub fn korean(&self) -> String {
        match self {
            TermError::Unknown {
                vocabulary,
                text,
                close,
            } if close.is_empty() => format!(
                "'{text}'은(는) {} 목록에 없는 용어입니다; 용어 목록에서 확인하세요",
                vocabulary.korean_name()
            ),
            TermError::Unknown {
                vocabulary,
                text,
                close,
            } => format!(
                "'{text}'은(는) {} 목록에 없는 용어입니다; 혹시 {} 중 하나입니까?",
                vocabulary.korean_name(),
                close.join(", ")
            ),
            TermError::Ambiguous {
                vocabulary,
                text,
                candidates,
            } => format!(
                "'{text}'은(는) {} 목록에서 여러 용어일 수 있습니다: {}; 키로 적으세요",
                vocabulary.korean_name(),
                candidates.join(", ")
            ),
        }
    }

    /// The refusal in both languages.
    pub fn wording(&self) -> crate::Wording {
        crate::Wording::new(self.to_string(), self.korean())
    }
}

/// Spellings compare without case, spaces, hyphens, apostrophes or breves, so
/// "Ch'ŏngjin", "Chongjin" and "chong-jin" find the same place.
pub fn normalize_spelling(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '\'' | '’' | '‘' | '_' | '.' | '`'))
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'ŏ' | 'ǒ' | 'ö' => 'o',
            'ŭ' | 'ǔ' | 'ü' => 'u',
            'ă' => 'a',
            other => other,
        })
        .collect()
}

/// Hangul syllables as their letters (Unicode's canonical decomposition).
fn jamo(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfd().collect()
}

/// A vocabulary: ordered terms and an index of every accepted spelling.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    pub kind: VocabKind,
    pub version: u32,
    terms: Vec<Term>,
    by_spelling: HashMap<String, Vec<usize>>,
    by_key: HashMap<String, usize>,
}

/// A vocabulary file that cannot be read. Shipped files are tested, so this
/// only reaches users through files they supply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("vocabulary {vocabulary}, line {line}: {message}")]
pub struct VocabFileError {
    pub vocabulary: String,
    pub line: usize,
    pub message: String,
}

impl Vocabulary {
    pub fn parse(kind: VocabKind, text: &str) -> Result<Vocabulary, VocabFileError> {
        let fail = |line: usize, message: String| VocabFileError {
            vocabulary: kind.name().to_string(),
            line,
            message,
        };
        let mut version = None;
        let mut header: Option<Vec<&str>> = None;
        let mut vocabulary = Vocabulary {
            kind,
            version: 0,
            terms: Vec::new(),
            by_spelling: HashMap::new(),
            by_key: HashMap::new(),
        };
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            if let Some(comment) = line.strip_prefix('#') {
                if let Some(v) = comment.trim().strip_prefix("version:") {
                    version = Some(v.trim().parse().map_err(|_| {
                        fail(number, format!("version '{}' is not a number", v.trim()))
                    })?);
                }
                continue;
            }
            if line.trim().is_empty() {
                continue;
            }
            let cells: Vec<&str> = line.split('\t').collect();
            let Some(columns) = &header else {
                if cells.get(..5) != Some(&["key", "en", "ko", "parent", "class"]) {
                    return Err(fail(
                        number,
                        "the header must start with key, en, ko, parent, class".to_string(),
                    ));
                }
                header = Some(cells);
                continue;
            };
            if cells.len() > columns.len() {
                return Err(fail(
                    number,
                    format!("{} cells but the header has {}", cells.len(), columns.len()),
                ));
            }
            let cell = |i: usize| cells.get(i).map(|s| s.trim()).unwrap_or("");
            let optional = |i: usize| Some(cell(i).to_string()).filter(|s| !s.is_empty());
            let term = Term {
                key: cell(0).to_string(),
                en: cell(1).to_string(),
                ko: cell(2).to_string(),
                parent: optional(3),
                class: optional(4),
                extra: columns[5..]
                    .iter()
                    .enumerate()
                    .filter_map(|(i, name)| optional(5 + i).map(|v| (name.to_string(), v)))
                    .collect(),
            };
            vocabulary
                .add(term)
                .map_err(|message| fail(number, message.to_string()))?;
        }
        vocabulary.version = version.ok_or_else(|| fail(1, "no '# version: N' line".into()))?;
        Ok(vocabulary)
    }

    /// Whether `term` could be added: why not, if it cannot.
    pub fn check_new(&self, term: &Term) -> Result<(), crate::Wording> {
        use crate::Wording;
        let key = &term.key;
        if !is_term_key(key) {
            return Err(Wording::new(
                format!("key '{key}' must be lower-case letters, digits and hyphens"),
                format!("키 '{key}'에는 소문자, 숫자, 하이픈만 쓸 수 있습니다"),
            ));
        }
        if term.en.trim().is_empty() || term.ko.trim().is_empty() {
            return Err(Wording::new(
                format!("term '{key}' needs both an English and a Korean label"),
                format!("용어 '{key}'에는 영어와 한국어 이름이 모두 필요합니다"),
            ));
        }
        if self.by_key.contains_key(key) {
            return Err(Wording::new(
                format!("key '{key}' is already a term of {}", self.kind),
                format!(
                    "키 '{key}'은(는) 이미 {} 목록의 용어입니다",
                    self.kind.korean_name()
                ),
            ));
        }
        Ok(())
    }

    /// The first spelling of `term` that already finds another term, with
    /// its field and that term described: a new term that shares a spelling
    /// would make every text with that spelling ambiguous.
    pub fn spelling_taken(&self, term: &Term) -> Option<(&'static str, crate::Wording)> {
        term.spellings_by_field().find_map(|(field, spelling)| {
            let taken = self.by_spelling.get(&normalize_spelling(spelling))?;
            let other = taken
                .iter()
                .map(|&i| &self.terms[i])
                .find(|t| t.key != term.key)?;
            let field = ["key", "en", "ko"]
                .into_iter()
                .chain(SPELLING_COLUMNS)
                .find(|f| *f == field)?;
            let other = self.describe(other);
            Some((
                field,
                crate::Wording::new(
                    format!(
                        "'{spelling}' already names {other} in {}; a new term needs spellings of its own",
                        self.kind
                    ),
                    format!(
                        "'{spelling}'은(는) 이미 {} 목록의 {other}을(를) 가리킵니다; 새 용어에는 고유한 표기가 필요합니다",
                        self.kind.korean_name()
                    ),
                ),
            ))
        })
    }

    /// Adds a term; keys must be new and lower-case kebab words, labels non-empty.
    pub fn add(&mut self, term: Term) -> Result<(), crate::Wording> {
        self.check_new(&term)?;
        let index = self.terms.len();
        self.by_key.insert(term.key.clone(), index);
        for spelling in term.spellings() {
            let slot = self
                .by_spelling
                .entry(normalize_spelling(spelling))
                .or_default();
            if !slot.contains(&index) {
                slot.push(index);
            }
        }
        self.terms.push(term);
        Ok(())
    }

    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    pub fn get(&self, key: &str) -> Option<&Term> {
        self.by_key.get(key).map(|&i| &self.terms[i])
    }

    /// The key and its broader terms, narrowest first (a county, its
    /// province, the country). A cycle in added terms ends the chain.
    pub fn ancestry(&self, key: &str) -> Vec<String> {
        let mut chain: Vec<String> = Vec::new();
        let mut next = Some(key.to_string());
        while let Some(key) = next {
            if chain.contains(&key) || chain.len() > 16 {
                break;
            }
            next = self.get(&key).and_then(|term| term.parent.clone());
            chain.push(key);
        }
        chain
    }

    /// Finds the term a text names: its key, a label, or any listed spelling.
    pub fn resolve(&self, text: &str) -> Result<&Term, TermError> {
        if let Some(term) = self.get(text) {
            return Ok(term);
        }
        match self
            .by_spelling
            .get(&normalize_spelling(text))
            .map(Vec::as_slice)
        {
            Some([one]) => Ok(&self.terms[*one]),
            Some(many) if !many.is_empty() => Err(TermError::Ambiguous {
                vocabulary: self.kind,
                text: text.to_string(),
                candidates: many
                    .iter()
                    .map(|&i| self.describe(&self.terms[i]))
                    .collect(),
            }),
            _ => Err(self.unknown(text)),
        }
    }

    /// The error for a key that is not in this vocabulary, with the closest terms.
    pub fn unknown(&self, text: &str) -> TermError {
        let wanted = normalize_spelling(text);
        let wanted_jamo = jamo(&wanted);
        let mut scored: Vec<(f64, usize)> = self
            .by_spelling
            .iter()
            .filter_map(|(spelling, terms)| {
                // Hangul is also compared letter by letter (회룡 is one jamo from 회령,
                // but a whole syllable apart).
                let score = strsim::jaro_winkler(&wanted, spelling)
                    .max(strsim::jaro_winkler(&wanted_jamo, &jamo(spelling)));
                (score >= 0.8).then(|| terms.iter().map(move |&t| (score, t)))
            })
            .flatten()
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut close: Vec<String> = Vec::new();
        for (_, index) in scored {
            let described = self.describe(&self.terms[index]);
            if !close.contains(&described) {
                close.push(described);
            }
            if close.len() == 3 {
                break;
            }
        }
        TermError::Unknown {
            vocabulary: self.kind,
            text: text.to_string(),
            close,
        }
    }

    fn describe(&self, term: &Term) -> String {
        match term.parent.as_deref().and_then(|p| self.get(p)) {
            Some(parent) => format!("{} ({} / {}, in {})", term.key, term.en, term.ko, parent.en),
            None => format!("{} ({} / {})", term.key, term.en, term.ko),
        }
    }
}

pub fn is_term_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The vocabulary as shipped in this binary.
pub fn builtin(kind: VocabKind) -> &'static Vocabulary {
    static LOADED: OnceLock<Vec<Vocabulary>> = OnceLock::new();
    let all = LOADED.get_or_init(|| {
        VocabKind::ALL
            .into_iter()
            .map(|k| match Vocabulary::parse(k, k.source()) {
                Ok(vocabulary) => vocabulary,
                // The files are compiled in and checked by the tests below.
                Err(e) => panic!("shipped vocabulary is broken: {e}"),
            })
            .collect()
    });
    &all[VocabKind::ALL
        .iter()
        .position(|k| *k == kind)
        .unwrap_or_default()]
}

/// The shipped vocabularies plus the terms a database has added.
#[derive(Debug, Clone)]
pub struct Vocabularies {
    sets: BTreeMap<VocabKind, Vocabulary>,
}

impl Default for Vocabularies {
    fn default() -> Self {
        Vocabularies {
            sets: VocabKind::ALL
                .into_iter()
                .map(|k| (k, builtin(k).clone()))
                .collect(),
        }
    }
}

impl Vocabularies {
    pub fn get(&self, kind: VocabKind) -> &Vocabulary {
        // Every kind is inserted by `default`, and nothing removes one.
        &self.sets[&kind]
    }

    pub fn add(&mut self, kind: VocabKind, term: Term) -> Result<(), crate::Wording> {
        match self.sets.get_mut(&kind) {
            Some(vocabulary) => vocabulary.add(term),
            None => Err(crate::Wording::new(
                format!("no vocabulary {kind}"),
                format!("{} 목록이 없습니다", kind.korean_name()),
            )),
        }
    }

    /// The organisation `text` names (a key or any spelling, a merged
    /// spelling followed to the organisation it was merged into), or `None`
    /// for text that names no term: free text of older databases and
    /// imports, which counts as an organisation of its own until merged.
    pub fn organisation(&self, text: &str) -> Option<&Term> {
        let organisations = self.get(VocabKind::Organisation);
        let mut term = organisations.resolve(text).ok()?;
        // Merges point at a term that is not itself merged; the bound stops a cycle.
        for _ in 0..8 {
            match (&term.class, &term.parent) {
                (Some(class), Some(parent)) if class == MERGED_SPELLING => {
                    term = organisations.get(parent)?;
                }
                _ => break,
            }
        }
        Some(term)
    }

    /// The list (estimates) or row (tables) of a source's organisation:
    /// its term's English label, or the text itself when it names no term.
    pub fn organisation_list(&self, text: &str) -> String {
        match self.organisation(text) {
            Some(term) => term.en.clone(),
            None => text.trim().to_string(),
        }
    }

    /// Checks that `key` is a term key of `kind`, with close terms in the error.
    pub fn check(&self, kind: VocabKind, key: &str) -> Result<(), TermError> {
        let vocabulary = self.get(kind);
        match vocabulary.get(key) {
            Some(_) => Ok(()),
            None => Err(vocabulary.unknown(key)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_vocabulary_loads_with_a_version_and_bilingual_labels() {
        for kind in VocabKind::ALL {
            let vocabulary =
                Vocabulary::parse(kind, kind.source()).unwrap_or_else(|e| panic!("{e}"));
            assert!(vocabulary.version >= 1, "{kind}");
            assert!(!vocabulary.terms().is_empty(), "{kind}");
            for term in vocabulary.terms() {
                assert!(
                    term.ko.chars().any(|c| ('가'..='힣').contains(&c)),
                    "{kind}: {} has no Korean label",
                    term.key
                );
                if let Some(parent) = &term.parent {
                    assert!(
                        vocabulary.get(parent).is_some(),
                        "{kind}: {} has unknown parent {parent}",
                        term.key
                    );
                }
            }
        }
    }

    #[test]
    fn no_released_term_key_ever_disappears() {
        for line in include_str!("../vocab/released-keys.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
        {
            let (vocabulary, key) = line.split_once('\t').expect("vocabulary<TAB>key");
            let kind = VocabKind::from_name(vocabulary).expect("known vocabulary");
            assert!(
                builtin(kind).get(key).is_some(),
                "{vocabulary}/{key} was released and must stay"
            );
        }
    }

    #[test]
    fn act_types_point_to_violation_categories() {
        let categories = builtin(VocabKind::ViolationCategory);
        for term in builtin(VocabKind::ActType).terms() {
            let category = term.class.as_deref().unwrap_or_default();
            assert!(
                categories.get(category).is_some(),
                "{} -> {category}",
                term.key
            );
        }
    }

    #[test]
    fn places_resolve_from_any_spelling() {
        let places = builtin(VocabKind::Place);
        for spelling in ["회령", "Hoeryong", "Hoeryŏng", "hoeryeong", "HOERYONG"] {
            assert_eq!(
                places.resolve(spelling).map(|t| t.key.as_str()),
                Ok("hoeryong"),
                "{spelling}"
            );
        }
        for spelling in ["청진", "Ch'ŏngjin", "Cheongjin", "Chongjin"] {
            assert_eq!(
                places.resolve(spelling).map(|t| t.key.as_str()),
                Ok("chongjin"),
                "{spelling}"
            );
        }
        assert_eq!(places.resolve("중국").map(|t| t.key.as_str()), Ok("china"));
        for spelling in ["라남구역", "라남", "Nanam", "Ranam-guyŏk"] {
            assert_eq!(
                places.resolve(spelling).map(|t| t.key.as_str()),
                Ok("chongjin-ranam"),
                "{spelling}"
            );
        }
        let north_hamgyong = places.get("north-hamgyong").expect("province");
        assert_eq!(north_hamgyong.class.as_deref(), Some("province"));
        for key in ["musan", "onsong", "hyesan", "hoeryong"] {
            assert!(places.get(key).is_some(), "{key}");
        }
    }

    #[test]
    fn agencies_have_the_names_of_the_brief() {
        let agencies = builtin(VocabKind::Agency);
        for (spelling, key) in [
            ("국가보위성", "mss"),
            ("Ministry of State Security", "mss"),
            ("사회안전성", "mps"),
            ("국경경비대", "border-guard"),
            ("보위국", "dsb"),
        ] {
            assert_eq!(
                agencies.resolve(spelling).map(|t| t.key.as_str()),
                Ok(key),
                "{spelling}"
            );
        }
    }

    #[test]
    fn an_unknown_term_lists_close_terms() {
        let error = builtin(VocabKind::ActType)
            .resolve("torure")
            .expect_err("typo");
        let message = error.to_string();
        assert!(message.contains("did you mean torture"), "{message}");
    }

    #[test]
    fn a_hangul_typo_gets_a_suggestion_by_its_letters() {
        for (typo, meant) in [
            ("회룡", "hoeryong"),
            ("청친", "chongjin"),
            ("고문읍", "torture"),
        ] {
            let kind = if meant == "torture" {
                VocabKind::ActType
            } else {
                VocabKind::Place
            };
            let message = builtin(kind).resolve(typo).expect_err(typo).to_string();
            assert!(
                message.contains(&format!("did you mean {meant}")),
                "{typo}: {message}"
            );
        }
    }

    #[test]
    fn ambiguous_spellings_are_refused_with_the_candidates() {
        let places = builtin(VocabKind::Place);
        let mut seen: HashMap<String, Vec<&str>> = HashMap::new();
        for term in places.terms() {
            seen.entry(normalize_spelling(&term.en))
                .or_default()
                .push(&term.key);
        }
        if let Some((spelling, _)) = seen.iter().find(|(_, keys)| keys.len() > 1) {
            match places.resolve(spelling) {
                Err(TermError::Ambiguous { candidates, .. }) => assert!(candidates.len() > 1),
                other => panic!("{spelling}: {other:?}"),
            }
        }
    }

    #[test]
    fn added_terms_follow_the_same_rules() {
        let mut vocabularies = Vocabularies::default();
        let term = |key: &str, en: &str, ko: &str| Term {
            key: key.into(),
            en: en.into(),
            ko: ko.into(),
            parent: None,
            class: Some("liberty".into()),
            extra: BTreeMap::new(),
        };
        vocabularies
            .add(
                VocabKind::ActType,
                term("forced-marriage", "Forced marriage", "강제 결혼"),
            )
            .expect("new term");
        assert!(
            vocabularies
                .check(VocabKind::ActType, "forced-marriage")
                .is_ok()
        );
        assert!(
            vocabularies
                .add(VocabKind::ActType, term("torture", "T", "고문"))
                .is_err()
        );
        assert!(
            vocabularies
                .add(VocabKind::ActType, term("Bad Key", "T", "고문"))
                .is_err()
        );
        assert!(
            vocabularies
                .add(VocabKind::ActType, term("no-korean", "T", ""))
                .is_err()
        );
    }
}
