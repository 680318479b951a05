//! Girok's person records as a linkage problem: the facts that identify a
//! person (names in any script, sex, birth year or age at a dated act, place
//! of origin, date and place of arrest, the sources that name them), the
//! comparisons on them and the blocking rules.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::Datelike;

use girok_korean::{
    NameKey, ParsedName, parse_name_repairing, positions_agree, positions_similarity,
};
use girok_model::vocab::builtin;
use girok_model::{Record, Sex, VocabKind};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::blocking::{BlockingRule, Groups};
use crate::generic::stable_hash;
use crate::similarity::jaro_winkler;
use crate::{Comparison, RecordIndex};

/// Acts that start a disappearance: where and when the person was taken.
const TAKEN: [&str; 4] = [
    "arrest",
    "abduction",
    "forced-repatriation",
    "enforced-disappearance",
];

/// Blocks on one given syllable are kept only this small: they catch typing
/// slips in rare names, and in common ones would compare nearly everyone.
const SYLLABLE_BLOCK: usize = 40;

/// Blocks of names one sound apart are kept this small: a mishearing or a
/// slip in a name with no birth year or origin to block on.
const SOUND_BLOCK: usize = 200;

/// Readings of a name compared by similarity (the likeliest come first).
const FUZZY_READINGS: usize = 3;

/// Gazetteer classes that count as a province when comparing origins.
const PROVINCE_CLASSES: [&str; 5] = [
    "province",
    "capital",
    "special-city",
    "foreign-region",
    "country",
];

/// Consonants a name needs for its skeleton to block or agree: shorter
/// ones (Zhao, 자오: `S`) are shared by too many names.
const MIN_SKELETON: usize = 3;

/// Names shared by more records than this corroborate nothing: the pairs
/// of sources that name them are too many to count.
const CORROBORATING_BLOCK: usize = 50;

/// Blocks on consonant skeletons are kept this small.
const SKELETON_BLOCK: usize = 100;

/// Letters of each token in the text blocking key.
const TEXT_PREFIX: usize = 4;

/// Jaro-Winkler at which two tokens of a name as text are close.
const TEXT_SIMILAR: f64 = 0.9;

/// Intervals wider than this are too vague to block on year by year.
const MAX_BLOCKING_YEARS: i32 = 5;

/// What identifies one person record, flattened (one CSV row in benchmarks).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PersonRecord {
    pub id: String,
    /// Names separated by " | ".
    pub names: String,
    /// "female", "male" or empty.
    pub sex: String,
    pub birth_from: Option<i32>,
    pub birth_to: Option<i32>,
    pub origin: String,
    pub taken_from: Option<i32>,
    pub taken_to: Option<i32>,
    pub taken_place: String,
    /// Ids of the sources that name the person, separated by ";".
    pub sources: String,
}

/// What an act says about its victim.
struct VictimAct {
    id: String,
    act_type: String,
    years: Option<(i32, i32)>,
    place: String,
    age: Option<u16>,
}

/// Collects person records from a stream of records in any order.
#[derive(Default)]
pub struct PersonRecordsBuilder {
    persons: Vec<PersonRecord>,
    index: HashMap<String, usize>,
    acts: HashMap<String, Vec<VictimAct>>,
    /// Per act: the sources that attest it.
    attested_by: HashMap<String, Vec<String>>,
    /// Per witness: their testimonies.
    witness_of: HashMap<String, Vec<String>>,
}

fn years(date: &girok_model::FuzzyDate) -> Option<(i32, i32)> {
    date.bounds().map(|(start, end)| (start.year(), end.year()))
}

impl PersonRecordsBuilder {
    pub fn add(&mut self, record: &Record) {
        match record {
            Record::Person(p) if !p.organisation => {
                let names: Vec<&str> = p.names.iter().map(|n| n.text.as_str()).collect();
                self.index.insert(p.id.to_string(), self.persons.len());
                self.persons.push(PersonRecord {
                    id: p.id.to_string(),
                    names: names.join(" | "),
                    sex: match p.sex {
                        Sex::Female => "female".into(),
                        Sex::Male => "male".into(),
                        _ => String::new(),
                    },
                    birth_from: years(&p.birth).map(|y| y.0),
                    birth_to: years(&p.birth).map(|y| y.1),
                    origin: p.origin.clone().unwrap_or_default(),
                    ..PersonRecord::default()
                });
            }
            Record::Act(a) => self
                .acts
                .entry(a.victim.to_string())
                .or_default()
                .push(VictimAct {
                    id: a.id.to_string(),
                    act_type: a.act_type.clone(),
                    years: years(&a.date),
                    place: a.place.clone().unwrap_or_default(),
                    age: a.victim_age,
                }),
            Record::Information(i) => {
                if let Some(act) = &i.act {
                    self.attested_by
                        .entry(act.to_string())
                        .or_default()
                        .push(i.source.to_string());
                }
            }
            Record::Source(s) => {
                if let Some(witness) = &s.witness {
                    self.witness_of
                        .entry(witness.to_string())
                        .or_default()
                        .push(s.id.to_string());
                }
            }
            _ => {}
        }
    }

    pub fn finish(mut self) -> Vec<PersonRecord> {
        for person in &mut self.persons {
            let mut sources = self.witness_of.remove(&person.id).unwrap_or_default();
            let acts = self.acts.remove(&person.id).unwrap_or_default();
            for act in &acts {
                sources.extend(self.attested_by.get(&act.id).into_iter().flatten().cloned());
                if person.birth_from.is_none()
                    && let (Some((from, to)), Some(age)) = (act.years, act.age)
                {
                    person.birth_from = Some(from - i32::from(age) - 1);
                    person.birth_to = Some(to - i32::from(age));
                }
                if person.taken_from.is_none() && TAKEN.contains(&act.act_type.as_str()) {
                    person.taken_from = act.years.map(|w| w.0);
                    person.taken_to = act.years.map(|w| w.1);
                    person.taken_place = act.place.clone();
                }
            }
            sources.sort();
            sources.dedup();
            person.sources = sources.join(";");
        }
        self.persons
    }
}

/// Interned candidate syllable sets and compact readings of every name.
struct Names {
    /// Per record: the range of its readings.
    offsets: Vec<u32>,
    readings: Vec<CompactReading>,
    syllables: Vec<u32>,
    sets: Vec<Box<[char]>>,
    /// Per record: each name as text, its tokens sorted.
    text: Vec<Vec<TextName>>,
    /// Records with each surname key, each given name key and each text
    /// name (by [`TextName::key`]), and all records.
    surname_count: HashMap<u64, f64>,
    given_count: HashMap<u64, f64>,
    text_count: HashMap<u64, f64>,
    total: f64,
    /// Per record: whether some name of it is written as a Korean name
    /// (with a Korean surname, without reading pinyin).
    written_korean: Vec<bool>,
}

/// A name as text tokens in any order ("Petrov Aleksandr" is "Aleksandr Petrov").
struct TextName {
    tokens: Box<[Box<str>]>,
    /// The consonant skeleton of the tokens in written order, and with the
    /// last token first (given name first or last), hashed: none when too
    /// short to tell names apart.
    sounds: Vec<u64>,
    /// Written as a Korean name: its skeleton is shared by too many others.
    korean: bool,
}

impl TextName {
    fn new(text: &str, korean: bool) -> Option<TextName> {
        let mut tokens = girok_korean::text_tokens(text).ok()?;
        let skeletons: Vec<String> = tokens
            .iter()
            .map(|t| girok_korean::consonant_skeleton(t))
            .collect();
        let mut sounds = Vec::new();
        if skeletons.iter().map(String::len).sum::<usize>() >= MIN_SKELETON {
            let mut last_first = skeletons.clone();
            last_first.rotate_right(1);
            sounds.push(stable_hash(&skeletons.concat()));
            sounds.push(stable_hash(&last_first.concat()));
            sounds.dedup();
        }
        tokens.sort_unstable();
        Some(TextName {
            tokens: tokens.into_iter().map(Into::into).collect(),
            sounds,
            korean,
        })
    }

    /// Whether the two names sound alike to a Korean ear (Vladimir Morozov,
    /// 블라디미르 모로조프).
    fn sounds_alike(&self, other: &TextName) -> bool {
        self.sounds.iter().any(|s| other.sounds.contains(s))
    }

    fn key(&self) -> u64 {
        self.tokens
            .iter()
            .fold(0x7f4a_7c15_9e37_79b9, |h, t| mix(h, stable_hash(t)))
    }

    /// The first letters of every token: "Dmitry" and "Dmitri" block together.
    fn prefix_key(&self) -> u64 {
        self.tokens.iter().fold(0x2545_f491_4f6c_dd1d, |h, t| {
            let prefix: String = t.chars().take(TEXT_PREFIX).collect();
            mix(h, stable_hash(&prefix))
        })
    }

    /// 1 the same tokens, 4 every token close to one of the other's or the
    /// same sounds, 5 different.
    fn level(&self, other: &TextName) -> u8 {
        if self.tokens == other.tokens {
            return 1;
        }
        if self.tokens.len() != other.tokens.len() {
            return if self.sounds_alike(other) { 4 } else { 5 };
        }
        let mut unused: Vec<&str> = other.tokens.iter().map(|t| &t[..]).collect();
        for token in &self.tokens {
            let best = unused
                .iter()
                .enumerate()
                .map(|(i, t)| (i, jaro_winkler(token, t)))
                .max_by(|x, y| x.1.total_cmp(&y.1));
            match best {
                Some((i, similarity)) if similarity >= TEXT_SIMILAR => {
                    unused.swap_remove(i);
                }
                _ => return if self.sounds_alike(other) { 4 } else { 5 },
            }
        }
        4
    }
}

struct CompactReading {
    surname_key: u64,
    given_key: u64,
    full_key: u64,
    /// Coarse classes of the given syllables (initial, vowel and final as
    /// the hundreds, tens and units).
    given_classes: Box<[u16]>,
    surname: (u32, u8),
    given: (u32, u8),
    /// The given name in Revised Romanization (first candidate of each syllable).
    given_romanized: Box<str>,
}

impl CompactReading {
    /// The coarse class of given syllable `i`, or a class no syllable has.
    fn given_class(&self, i: usize) -> u16 {
        self.given_classes.get(i).copied().unwrap_or(u16::MAX)
    }

    /// Keys under which given names one coarse sound apart meet (김학진 and
    /// 김학징, 권오희 and 권옥희): the surname with the given name, each
    /// sound (initial, vowel or final of a syllable) left out in turn.
    fn one_sound_masked(&self, keys: &mut Vec<u64>) {
        for (i, &class) in self.given_classes.iter().enumerate() {
            let masked = [class - class % 10];
            for (sound, masked) in masked.into_iter().enumerate() {
                let mut key = mix(self.surname_key, (i as u64) << 8 | sound as u64);
                for (j, &other) in self.given_classes.iter().enumerate() {
                    key = mix(key, u64::from(if j == i { masked } else { other }));
                }
                keys.push(key);
            }
        }
    }
}

impl Names {
    fn of(&self, record: RecordIndex) -> &[CompactReading] {
        let i = record as usize;
        &self.readings[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    fn positions(&self, (start, len): (u32, u8)) -> impl ExactSizeIterator<Item = &[char]> {
        self.syllables[start as usize..start as usize + len as usize]
            .iter()
            .map(|&s| &self.sets[s as usize][..])
    }
}

/// The identifying facts of all records, prepared for comparison.
pub struct PersonFeatures {
    names: Names,
    sex: Vec<u8>,
    birth: Vec<Option<(i32, i32)>>,
    origin: Vec<Option<u32>>,
    origin_province: Vec<Option<u32>>,
    taken: Vec<Option<(i32, i32)>>,
    taken_place: Vec<Option<u32>>,
    pub groups: Groups,
    corroboration: Corroboration,
}

/// Which sources name persons alike: two testimonies about one family name
/// its other members too, and two about different families seldom do.
struct Corroboration {
    /// Per source: the records it names.
    names: Vec<u32>,
    /// Per pair of sources (smaller first): pairs of records across them
    /// with the same name key.
    alike: HashMap<(u32, u32), u32>,
    /// Records with each name key (of any reading).
    key_records: HashMap<u64, usize>,
}

impl Corroboration {
    fn new(names: &Names, groups: &Groups) -> Corroboration {
        let records = names.offsets.len() - 1;
        let mut sources = 0;
        let mut by_key: HashMap<u64, Vec<RecordIndex>> = HashMap::new();
        for record in 0..records as RecordIndex {
            sources = groups
                .of(record)
                .iter()
                .map(|&s| s + 1)
                .fold(sources, u32::max);
            let mut keys: Vec<u64> = names.of(record).iter().map(|r| r.full_key).collect();
            keys.sort_unstable();
            keys.dedup();
            for key in keys {
                by_key.entry(key).or_default().push(record);
            }
        }
        let mut count = vec![0u32; sources as usize];
        for record in 0..records as RecordIndex {
            groups
                .of(record)
                .iter()
                .for_each(|&s| count[s as usize] += 1);
        }
        let mut pairs: Vec<(RecordIndex, RecordIndex)> = by_key
            .values()
            .filter(|block| block.len() <= CORROBORATING_BLOCK)
            .flat_map(|block| {
                block.iter().enumerate().flat_map(move |(i, &a)| {
                    block[i + 1..]
                        .iter()
                        .filter(move |&&b| !groups.share(a, b))
                        .map(move |&b| (a, b))
                })
            })
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        let mut alike: HashMap<(u32, u32), u32> = HashMap::new();
        for (a, b) in pairs {
            for &x in groups.of(a) {
                for &y in groups.of(b) {
                    *alike.entry((x.min(y), x.max(y))).or_default() += 1;
                }
            }
        }
        Corroboration {
            names: count,
            alike,
            key_records: by_key.into_iter().map(|(k, v)| (k, v.len())).collect(),
        }
    }
}

impl PersonFeatures {
    pub fn new(records: &[PersonRecord]) -> PersonFeatures {
        let names = prepare_names(records);
        let mut places: HashMap<String, u32> = HashMap::new();
        let mut place_id = |key: &str| -> Option<u32> {
            let key = key.trim();
            if key.is_empty() {
                return None;
            }
            let next = places.len() as u32;
            Some(*places.entry(key.to_string()).or_insert(next))
        };
        let gazetteer = builtin(VocabKind::Place);
        // The narrowest enclosing province (a district's parent is its city).
        let province = |key: &str| -> Option<String> {
            gazetteer.ancestry(key.trim()).into_iter().find(|ancestor| {
                gazetteer
                    .get(ancestor)
                    .and_then(|term| term.class.as_deref())
                    .is_some_and(|class| PROVINCE_CLASSES.contains(&class))
            })
        };
        let mut source_ids: HashMap<&str, u32> = HashMap::new();
        let groups = Groups::from_sets(records.iter().map(|r| {
            r.sources
                .split(';')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    let next = source_ids.len() as u32;
                    *source_ids.entry(s).or_insert(next)
                })
                .collect()
        }));
        PersonFeatures {
            sex: records
                .iter()
                .map(|r| match r.sex.as_str() {
                    "female" => 1,
                    "male" => 2,
                    _ => 0,
                })
                .collect(),
            birth: records
                .iter()
                .map(|r| r.birth_from.zip(r.birth_to))
                .collect(),
            origin: records.iter().map(|r| place_id(&r.origin)).collect(),
            origin_province: records
                .iter()
                .map(|r| province(&r.origin).and_then(|p| place_id(&p)))
                .collect(),
            taken: records
                .iter()
                .map(|r| r.taken_from.zip(r.taken_to))
                .collect(),
            taken_place: records.iter().map(|r| place_id(&r.taken_place)).collect(),
            corroboration: Corroboration::new(&names, &groups),
            names,
            groups,
        }
    }

    pub fn len(&self) -> usize {
        self.sex.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sex.is_empty()
    }
}

fn prepare_names(records: &[PersonRecord]) -> Names {
    // Names repeat a great deal; parse each distinct text once, in parallel.
    let mut distinct: Vec<&str> = records
        .iter()
        .flat_map(|r| r.names.split(" | "))
        .filter(|n| !n.trim().is_empty())
        .collect();
    distinct.sort_unstable();
    distinct.dedup();
    let parsed: HashMap<&str, ParsedName> = distinct
        .par_iter()
        .filter_map(|&text| parse_name_repairing(text).ok().map(|(p, _)| (text, p)))
        .collect();
    let written_korean: HashSet<&str> = distinct
        .par_iter()
        .copied()
        .filter(|text| {
            girok_korean::parse_name(text)
                .is_ok_and(|p| p.readings.iter().any(|r| r.surname_class.is_some()))
        })
        .collect();
    let mut names = Names {
        offsets: vec![0],
        readings: Vec::new(),
        syllables: Vec::new(),
        sets: Vec::new(),
        text: Vec::with_capacity(records.len()),
        surname_count: HashMap::new(),
        given_count: HashMap::new(),
        text_count: HashMap::new(),
        total: records.len().max(1) as f64,
        written_korean: Vec::with_capacity(records.len()),
    };
    let mut set_ids: HashMap<Box<[char]>, u32> = HashMap::new();
    let mut intern = |names: &mut Names, positions: &[Box<[char]>]| -> (u32, u8) {
        let start = names.syllables.len() as u32;
        for set in positions {
            let id = match set_ids.get(set) {
                Some(&id) => id,
                None => {
                    let id = set_ids.len() as u32;
                    set_ids.insert(set.clone(), id);
                    names.sets.push(set.clone());
                    id
                }
            };
            names.syllables.push(id);
        }
        (start, positions.len() as u8)
    };
    for record in records {
        let mut keys: Vec<NameKey> = Vec::new();
        for text in record.names.split(" | ") {
            let Some(name) = parsed.get(text) else {
                continue;
            };
            for reading in &name.readings {
                let key = reading.key();
                if keys.contains(&key) {
                    continue;
                }
                let given = key.given();
                let surname = intern(&mut names, &reading.surname);
                let given_range = intern(&mut names, &reading.given);
                names.readings.push(CompactReading {
                    surname_key: key.surname_hash(),
                    given_key: given
                        .iter()
                        .fold(0x9e37_79b9_7f4a_7c15u64, |h, &c| mix(h, u64::from(c))),
                    full_key: key.hash64(),
                    given_classes: given.into(),
                    surname,
                    given: given_range,
                    given_romanized: reading
                        .given
                        .iter()
                        .filter_map(|set| set.first())
                        .filter_map(|&c| {
                            girok_korean::romanize_syllable(c, girok_korean::System::Revised)
                        })
                        .collect::<String>()
                        .into(),
                });
                keys.push(key);
            }
        }
        names.offsets.push(names.readings.len() as u32);
        let texts = record.names.split(" | ");
        names
            .written_korean
            .push(texts.clone().any(|t| written_korean.contains(t)));
        names.text.push(
            texts
                .filter_map(|t| TextName::new(t, written_korean.contains(t)))
                .collect(),
        );
    }
    for i in 0..records.len() {
        let readings = names.of(i as RecordIndex);
        let (mut surnames, mut givens): (Vec<u64>, Vec<u64>) = readings
            .iter()
            .map(|r| (r.surname_key, r.given_key))
            .unzip();
        let mut texts: Vec<u64> = names.text[i].iter().map(TextName::key).collect();
        for (keys, counts) in [
            (&mut surnames, &mut names.surname_count),
            (&mut givens, &mut names.given_count),
            (&mut texts, &mut names.text_count),
        ] {
            keys.sort_unstable();
            keys.dedup();
            for &key in keys.iter() {
                *counts.entry(key).or_default() += 1.0;
            }
        }
    }
    names
}

fn mix(hash: u64, value: u64) -> u64 {
    (hash ^ value)
        .wrapping_mul(0x0100_0000_01b3)
        .rotate_left(23)
}

fn overlap(a: (i32, i32), b: (i32, i32)) -> bool {
    a.0 <= b.1 && b.0 <= a.1
}

fn gap(a: (i32, i32), b: (i32, i32)) -> i32 {
    (b.0 - a.1).max(a.0 - b.1).max(0)
}

fn labels(levels: &[&str]) -> Vec<String> {
    levels.iter().map(|l| l.to_string()).collect()
}

/// Below this many person records, EM has too little to learn from and the
/// shipped model is used.
pub const MIN_TRAINING_RECORDS: usize = 5_000;

/// The person model trained on 100,000 synthetic records
/// (`bench/linkage/run.sh` writes it), for small databases. The comparison
/// of the other persons the sources name came later: its m and u are as
/// `linkage-bench run` trains them on `girok synth`'s 10,000 records.
pub fn shipped_model(records: usize) -> crate::Model {
    serde_json::from_str::<crate::Model>(include_str!("../data/person-model.json"))
        .expect("the shipped person model is valid JSON (a test holds this)")
        .for_small_data(records)
}

/// The comparisons for person records, in the order they are explained.
pub fn comparisons(features: &Arc<PersonFeatures>) -> Vec<Box<dyn Comparison>> {
    vec![
        Box::new(SurnameComparison(features.clone())),
        Box::new(GivenNameComparison(features.clone())),
        Box::new(SexComparison(features.clone())),
        Box::new(BirthComparison(features.clone())),
        Box::new(OriginComparison(features.clone())),
        Box::new(TakenComparison(features.clone())),
        Box::new(SourcesComparison(features.clone())),
    ]
}

struct SurnameComparison(Arc<PersonFeatures>);

impl Comparison for SurnameComparison {
    fn name(&self) -> &str {
        "surname"
    }
    fn levels(&self) -> Vec<String> {
        labels(&["missing", "same surname", "similar jamo", "different"])
    }
    fn level(&self, a: RecordIndex, b: RecordIndex) -> u8 {
        let names = &self.0.names;
        let (x, y) = (names.of(a), names.of(b));
        if x.is_empty() || y.is_empty() {
            return 0;
        }
        if x.iter()
            .any(|r| y.iter().any(|s| r.surname_key == s.surname_key))
        {
            return 1;
        }
        let (x, y) = (
            &x[..x.len().min(FUZZY_READINGS)],
            &y[..y.len().min(FUZZY_READINGS)],
        );
        let similar = x.iter().any(|r| {
            y.iter().any(|s| {
                positions_similarity(names.positions(r.surname), names.positions(s.surname)) >= 0.66
            })
        });
        if similar { 2 } else { 3 }
    }
    // The commonest surname the two share: a record read several ways
    // shares only one of them, not necessarily its first.
    fn term_frequency(
        &self,
        a: RecordIndex,
        b: RecordIndex,
        level: u8,
        known: usize,
    ) -> Option<f64> {
        let names = &self.0.names;
        if level != 1 {
            return None;
        }
        let (x, y) = (names.of(a), names.of(b));
        x.iter()
            .filter(|r| y.iter().any(|s| r.surname_key == s.surname_key))
            .filter_map(|r| names.surname_count.get(&r.surname_key))
            .map(|&n| (n - known as f64).max(1.0) / names.total)
            .reduce(f64::max)
    }
}

struct GivenNameComparison(Arc<PersonFeatures>);

impl Comparison for GivenNameComparison {
    fn name(&self) -> &str {
        "given name"
    }
    fn levels(&self) -> Vec<String> {
        labels(&[
            "missing",
            "same Hangul possible",
            "same name key",
            "jamo similarity >= 0.75",
            "romanized jaro-winkler >= 0.9",
            "different",
        ])
    }
    fn level(&self, a: RecordIndex, b: RecordIndex) -> u8 {
        let names = &self.0.names;
        let (x, y) = (names.of(a), names.of(b));
        // A name that is no Korean name is compared as text, tokens in any order.
        let as_text = || {
            let (p, q) = (&names.text[a as usize], &names.text[b as usize]);
            p.iter()
                .flat_map(|n| q.iter().map(|m| n.level(m)))
                .min()
                .unwrap_or(0)
        };
        if x.is_empty() || y.is_empty() {
            return as_text();
        }
        let korean = self.korean_level(x, y);
        // A foreign name in Hangul reads as Korean syllables that mean
        // nothing (블라디미르 모로조프); its text still sounds like the original.
        let foreign = !names.written_korean[a as usize] || !names.written_korean[b as usize];
        if korean == 5 && foreign {
            return match as_text() {
                0 => 5,
                text => text,
            };
        }
        korean
    }
    // The commonest of the given names the two records agree on, over the
    // readings with the same key (or failing those, the readings that agree)
    // of either record, or of the text they share.
    fn term_frequency(
        &self,
        a: RecordIndex,
        b: RecordIndex,
        level: u8,
        known: usize,
    ) -> Option<f64> {
        let names = &self.0.names;
        if level != 1 && level != 2 {
            return None;
        }
        let (x, y) = (names.of(a), names.of(b));
        let share = |n: f64| (n - known as f64).max(1.0) / names.total;
        let frequency = |r: &CompactReading| names.given_count.get(&r.given_key).map(|&n| share(n));
        // Readings with the same key first: comparing every pair of
        // positions of names read many ways is what scoring spends most on.
        let mut agreeing = self.agreeing(x, y, 2);
        if agreeing.is_empty() && level == 1 {
            agreeing = self.agreeing(x, y, 1);
        }
        let korean = agreeing
            .into_iter()
            .flat_map(|(r, s)| [frequency(r), frequency(s)]);
        let (p, q) = (&names.text[a as usize], &names.text[b as usize]);
        let text = p
            .iter()
            .filter(|n| level == 1 && q.iter().any(|m| m.tokens == n.tokens))
            .map(|n| names.text_count.get(&n.key()).map(|&n| share(n)));
        korean.chain(text).flatten().reduce(f64::max)
    }
}

impl GivenNameComparison {
    /// The pairs of readings that agree at `level` (1 or 2), as
    /// [`Self::korean_level`] pairs them.
    fn agreeing<'r>(
        &self,
        x: &'r [CompactReading],
        y: &'r [CompactReading],
        level: u8,
    ) -> Vec<(&'r CompactReading, &'r CompactReading)> {
        let names = &self.0.names;
        let same_surname = |r: &CompactReading, s: &CompactReading| r.surname_key == s.surname_key;
        let surnames_agree = x.iter().any(|r| y.iter().any(|s| same_surname(r, s)));
        x.iter()
            .flat_map(|r| y.iter().map(move |s| (r, s)))
            .filter(|(r, s)| !surnames_agree || same_surname(r, s))
            .filter(|(r, s)| match level {
                1 => positions_agree(names.positions(r.given), names.positions(s.given)),
                _ => r.given_key == s.given_key,
            })
            .collect()
    }

    fn korean_level(&self, x: &[CompactReading], y: &[CompactReading]) -> u8 {
        let names = &self.0.names;
        // One reading of each name for the surname and the given name
        // together: where the surnames can agree, only readings whose
        // surnames agree (Sok Ri Ri is not Chang Ee Lee read both ways).
        let same_surname = |r: &CompactReading, s: &CompactReading| r.surname_key == s.surname_key;
        let surnames_agree = x.iter().any(|r| y.iter().any(|s| same_surname(r, s)));
        let paired = |r: &CompactReading, s: &CompactReading| !surnames_agree || same_surname(r, s);
        // Exact levels over every pair of readings; a shared Hangul reading ends it.
        let mut best = 5;
        for r in x {
            for s in y.iter().filter(|s| paired(r, s)) {
                if positions_agree(names.positions(r.given), names.positions(s.given)) {
                    return 1;
                }
                if r.given_key == s.given_key {
                    best = 2;
                }
            }
        }
        if best == 2 {
            return 2;
        }
        // Fuzzy levels over the likeliest readings only: repaired names have
        // many readings, and the far ones only add cost.
        let (x, y) = (
            &x[..x.len().min(FUZZY_READINGS)],
            &y[..y.len().min(FUZZY_READINGS)],
        );
        let alike = x.iter().any(|r| {
            y.iter().any(|s| {
                positions_similarity(names.positions(r.given), names.positions(s.given)) >= 0.75
            })
        });
        if alike {
            return 3;
        }
        // Typos survive in the letters: compare the given names as romanized.
        let close = x.iter().any(|r| {
            y.iter()
                .any(|s| jaro_winkler(&r.given_romanized, &s.given_romanized) >= 0.9)
        });
        if close { 4 } else { 5 }
    }
}

struct SexComparison(Arc<PersonFeatures>);

impl Comparison for SexComparison {
    fn name(&self) -> &str {
        "sex"
    }
    fn levels(&self) -> Vec<String> {
        labels(&["missing", "same", "different"])
    }
    fn level(&self, a: RecordIndex, b: RecordIndex) -> u8 {
        match (self.0.sex[a as usize], self.0.sex[b as usize]) {
            (0, _) | (_, 0) => 0,
            (x, y) if x == y => 1,
            _ => 2,
        }
    }
}

struct BirthComparison(Arc<PersonFeatures>);

impl Comparison for BirthComparison {
    fn name(&self) -> &str {
        "birth year"
    }
    fn levels(&self) -> Vec<String> {
        labels(&[
            "missing",
            "same year",
            "overlapping",
            "within 3 years",
            "different",
        ])
    }
    fn level(&self, a: RecordIndex, b: RecordIndex) -> u8 {
        let (Some(x), Some(y)) = (self.0.birth[a as usize], self.0.birth[b as usize]) else {
            return 0;
        };
        if x.0 == x.1 && x == y {
            1
        } else if overlap(x, y) {
            2
        } else if gap(x, y) <= 3 {
            3
        } else {
            4
        }
    }
}

struct OriginComparison(Arc<PersonFeatures>);

impl Comparison for OriginComparison {
    fn name(&self) -> &str {
        "place of origin"
    }
    fn levels(&self) -> Vec<String> {
        labels(&["missing", "same place", "same province", "different"])
    }
    fn level(&self, a: RecordIndex, b: RecordIndex) -> u8 {
        let f = &self.0;
        let (Some(x), Some(y)) = (f.origin[a as usize], f.origin[b as usize]) else {
            return 0;
        };
        if x == y {
            1
        } else if f.origin_province[a as usize].is_some()
            && f.origin_province[a as usize] == f.origin_province[b as usize]
        {
            2
        } else {
            3
        }
    }
}

struct TakenComparison(Arc<PersonFeatures>);

impl Comparison for TakenComparison {
    fn name(&self) -> &str {
        "arrest date and place"
    }
    fn levels(&self) -> Vec<String> {
        labels(&[
            "missing",
            "same place, overlapping dates",
            "overlapping dates",
            "same place",
            "different",
        ])
    }
    fn level(&self, a: RecordIndex, b: RecordIndex) -> u8 {
        let f = &self.0;
        let (when_a, when_b) = (f.taken[a as usize], f.taken[b as usize]);
        let (where_a, where_b) = (f.taken_place[a as usize], f.taken_place[b as usize]);
        let same_time = match (when_a, when_b) {
            (Some(x), Some(y)) => Some(overlap(x, y)),
            _ => None,
        };
        let same_place = match (where_a, where_b) {
            (Some(x), Some(y)) => Some(x == y),
            _ => None,
        };
        match (same_time, same_place) {
            (None, None) => 0,
            (Some(true), Some(true)) => 1,
            (Some(true), _) => 2,
            (_, Some(true)) => 3,
            _ => 4,
        }
    }
}

struct SourcesComparison(Arc<PersonFeatures>);

impl Comparison for SourcesComparison {
    fn name(&self) -> &str {
        "others their sources name"
    }
    fn levels(&self) -> Vec<String> {
        labels(&["missing", "another alike", "none alike"])
    }
    fn level(&self, a: RecordIndex, b: RecordIndex) -> u8 {
        let f = &self.0;
        let c = &f.corroboration;
        let (x, y) = (f.groups.of(a), f.groups.of(b));
        let names_others = |sources: &[u32]| sources.iter().any(|&s| c.names[s as usize] > 1);
        if !names_others(x) || !names_others(y) {
            return 0;
        }
        let mut across = 0;
        let mut combinations = 0;
        for &s in x {
            for &t in y {
                combinations += 1;
                across += c.alike.get(&(s.min(t), s.max(t))).copied().unwrap_or(0);
            }
        }
        // The pair itself, if it was counted.
        let (p, q) = (f.names.of(a), f.names.of(b));
        let counted = !f.groups.share(a, b)
            && p.iter().any(|r| {
                q.iter().any(|s| {
                    r.full_key == s.full_key
                        && c.key_records.get(&r.full_key).copied().unwrap_or(0)
                            <= CORROBORATING_BLOCK
                })
            });
        let own = if counted { combinations } else { 0 };
        if across > own { 1 } else { 2 }
    }
}

/// The blocking rules for person records: the name key, and, so that a typo
/// in one part of a name does not hide a pair, the other parts together with
/// birth year or place of origin.
pub fn blocking_rules(features: &Arc<PersonFeatures>) -> Vec<BlockingRule> {
    let rule = |name: &str, part: fn(&CompactReading) -> u64, other: Other| {
        let f = features.clone();
        BlockingRule::new(name, move |record, keys| {
            let others = other_keys(&f, record, other);
            for reading in f.names.of(record) {
                let key = part(reading);
                for &o in &others {
                    keys.push(mix(key, o));
                }
            }
        })
    };
    // Comparisons by index: 0 surname, 1 given name, 2 sex, 3 birth year,
    // 4 origin, 5 arrest. m is trained on two rules that together leave
    // every comparison free at least once, and whose keys are independent of
    // the comparisons they train (a shared first syllable would make a shared
    // given name look like evidence of a match; a shared name, a shared sex).
    let f = features.clone();
    let birth_and_origin =
        BlockingRule::new("birth year, origin (training)", move |record, keys| {
            let origins = other_keys(&f, record, Other::Origin);
            for year in other_keys(&f, record, Other::BirthYear) {
                keys.extend(origins.iter().map(|&o| mix(year, o)));
            }
        })
        .training_only(&[3, 4]);
    let f = features.clone();
    let one_sound_apart = BlockingRule::new("name key, one sound apart", move |record, keys| {
        for reading in f.names.of(record) {
            reading.one_sound_masked(keys);
        }
    })
    .with_max_block(SOUND_BLOCK);
    vec![
        rule("name key", |r| r.full_key, Other::Nothing).training(&[0, 1, 2]),
        birth_and_origin,
        one_sound_apart,
        rule("given name, birth year", |r| r.given_key, Other::BirthYear),
        rule(
            "surname, first given syllable, birth year",
            |r| mix(r.surname_key, u64::from(r.given_class(0))),
            Other::BirthYear,
        )
        .with_max_block(SYLLABLE_BLOCK),
        rule(
            "surname, second given syllable, birth year",
            |r| mix(r.surname_key, u64::from(r.given_class(1)) | 1 << 20),
            Other::BirthYear,
        )
        .with_max_block(SYLLABLE_BLOCK),
        rule("given name, origin", |r| r.given_key, Other::Origin),
        rule(
            "surname, first given syllable, origin",
            |r| mix(r.surname_key, u64::from(r.given_class(0))),
            Other::Origin,
        )
        .with_max_block(SYLLABLE_BLOCK),
        rule(
            "surname, second given syllable, origin",
            |r| mix(r.surname_key, u64::from(r.given_class(1)) | 1 << 20),
            Other::Origin,
        )
        .with_max_block(SYLLABLE_BLOCK),
        text_rule("text name", features, |name, _, keys| {
            keys.push(name.prefix_key())
        }),
        sounds_rule(features),
        text_rule("text token, birth year", features, |name, years, keys| {
            for token in &name.tokens {
                keys.extend(years.iter().map(|&y| mix(stable_hash(token), y)));
            }
        })
        .with_max_block(SYLLABLE_BLOCK),
    ]
}

/// A rule on the consonant skeletons of names not written as Korean names:
/// foreign names meet their Hangul transcriptions (Sergey Volkov, 세르게이
/// 볼코프; Zhao Jianguo, 자오젠궈).
fn sounds_rule(features: &Arc<PersonFeatures>) -> BlockingRule {
    let f = features.clone();
    BlockingRule::new("consonant skeleton", move |record, keys| {
        for text in f.names.text[record as usize].iter().filter(|t| !t.korean) {
            keys.extend(&text.sounds);
        }
    })
    .with_max_block(SKELETON_BLOCK)
}

/// A rule on the names of records that have no Korean reading, as text;
/// `keys` gets each name, the record's birth years and the keys to fill.
fn text_rule(
    name: &str,
    features: &Arc<PersonFeatures>,
    keys: fn(&TextName, &[u64], &mut Vec<u64>),
) -> BlockingRule {
    let f = features.clone();
    BlockingRule::new(name, move |record, out| {
        if !f.names.of(record).is_empty() {
            return;
        }
        let years = other_keys(&f, record, Other::BirthYear);
        for text in &f.names.text[record as usize] {
            keys(text, &years, out);
        }
    })
}

#[derive(Clone, Copy)]
enum Other {
    Nothing,
    BirthYear,
    Origin,
}

fn other_keys(f: &PersonFeatures, record: RecordIndex, other: Other) -> Vec<u64> {
    let i = record as usize;
    match other {
        Other::Nothing => vec![0],
        Other::BirthYear => match f.birth[i] {
            Some((from, to)) if to - from < MAX_BLOCKING_YEARS => {
                (from..=to).map(|y| stable_hash(&y.to_string())).collect()
            }
            _ => Vec::new(),
        },
        Other::Origin => f.origin[i]
            .map(|o| vec![u64::from(o) | 1 << 40])
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str, names: &str, sex: &str, birth: Option<i32>, source: &str) -> PersonRecord {
        PersonRecord {
            id: id.into(),
            names: names.into(),
            sex: sex.into(),
            birth_from: birth,
            birth_to: birth,
            origin: "hoeryong".into(),
            sources: source.into(),
            ..PersonRecord::default()
        }
    }

    #[test]
    fn spellings_agree_and_strangers_do_not() {
        let records = [
            person("a", "김은주", "female", Some(1975), "s1"),
            person("b", "Kim Eun-joo", "female", Some(1975), "s2"),
            person("c", "Eunju Kim", "", None, "s3"),
            person("d", "Kim Eun-ja", "female", Some(1990), "s4"),
            person("e", "Kiim Eun-joo", "female", Some(1975), "s5"),
        ];
        let features = Arc::new(PersonFeatures::new(&records));
        let compare = comparisons(&features);
        let (surname, given, birth) = (&compare[0], &compare[1], &compare[3]);
        assert_eq!(given.level(0, 1), 1);
        assert_eq!(given.level(0, 2), 1);
        assert_eq!(surname.level(1, 2), 1);
        assert_eq!(
            given.level(0, 3),
            3,
            "은주 / 은자 share two of three jamo in one syllable"
        );
        assert_eq!(birth.level(0, 3), 4);
        assert_eq!(birth.level(0, 2), 0, "an unknown birth is no evidence");
        assert_ne!(given.level(0, 4), 5, "a typo still reads as close");
        let model = shipped_model(records.len());
        assert_eq!(model.comparisons.len(), compare.len());
        assert!(model.weight(&compare, 0, 1) > 10.0);
        assert!(model.weight(&compare, 0, 3) < 0.0);
    }

    /// The pairs `link` proposes with the shipped model, by record id.
    fn proposed(records: &[PersonRecord]) -> Vec<(String, String)> {
        let features = Arc::new(PersonFeatures::new(records));
        let (compare, rules) = (comparisons(&features), blocking_rules(&features));
        let problem = crate::Problem {
            records: records.len(),
            comparisons: &compare,
            blocking: &rules,
            groups: &features.groups,
            must_link: &[],
            cannot_link: &[],
        };
        let training = crate::Training::Given {
            model: shipped_model(records.len()),
            reason: "a test of the shipped model".into(),
        };
        let linkage = crate::link(&problem, &crate::Settings::default(), training)
            .expect("a given model needs no training");
        linkage
            .links
            .iter()
            .map(|l| {
                let (a, b) = (&records[l.a as usize].id, &records[l.b as usize].id);
                (a.min(b).clone(), a.max(b).clone())
            })
            .collect()
    }

    #[test]
    fn names_in_any_script_are_proposed_when_they_agree() {
        let proposed_pair = |a: &str, b: &str| {
            let records = [
                person("a", a, "male", Some(1970), "s1"),
                person("b", b, "male", Some(1970), "s2"),
                person("c", "김은주", "female", Some(1981), "s3"),
            ];
            proposed(&records).contains(&("a".into(), "b".into()))
        };
        for (a, b) in [
            ("Aleksandr Petrov", "Aleksandr Petrov"),
            ("Aleksandr Petrov", "Petrov Aleksandr"),
            ("Александр Петров", "Aleksandr Petrov"),
            ("Maria Fernanda Lopez", "Maria Fernanda Lopez"),
            ("María Fernanda López", "LOPEZ, Maria Fernanda"),
            ("Dmitry Ivanov", "Dmitri Ivanov"),
            ("Dmitri Ivanov", "Дмитрий Иванов"),
            ("Dmitry Ivanov", "Дмитрий Иванов"),
            ("Wang Xiaoming", "Wang Xiaoming"),
            ("Tomás Ojea Quintana", "Tomas Ojea Quintana"),
            ("محمد علي", "محمد علي"),
            ("Choe Ryong-myong", "최용명"),
            ("Kim Ryon-bok", "Kim Yeon-bok"),
            ("金恩珠", "김은주"),
            ("Vladimir Morozov", "블라디미르 모로조프"),
            ("Morozov Vladimir", "Владимир Морозов"),
        ] {
            assert!(proposed_pair(a, b), "{a} / {b}");
        }
        for (a, b) in [
            ("Aleksandr Petrov", "Dmitry Ivanov"),
            ("Maria Fernanda Lopez", "Maria Lopez Quintana"),
            ("Aleksandr Petrov", "Aleksandra Petrova Ivanova"),
            ("Aleksandr Petrov", "김은주"),
        ] {
            let records = [
                person("a", a, "", None, "s1"),
                person("b", b, "", None, "s2"),
            ];
            let features = Arc::new(PersonFeatures::new(&records));
            assert_eq!(comparisons(&features)[1].level(0, 1), 5, "{a} / {b}");
            assert!(proposed(&records).is_empty(), "{a} / {b}");
        }
    }

    /// Whether blocking makes a candidate of two records with nothing but a name.
    fn blocked_together(a: &str, b: &str) -> bool {
        let records = [
            person("a", a, "", None, "s1"),
            person("b", b, "", None, "s2"),
        ]
        .map(|r| PersonRecord {
            origin: String::new(),
            ..r
        });
        let features = Arc::new(PersonFeatures::new(&records));
        let rules = blocking_rules(&features);
        let problem = crate::Problem {
            records: records.len(),
            comparisons: &[],
            blocking: &rules,
            groups: &features.groups,
            must_link: &[],
            cannot_link: &[],
        };
        let candidates =
            crate::blocking::Candidates::build(&problem, crate::Settings::default().max_block);
        candidates.fold(&features.groups, || 0, |n, _, _, _| *n += 1, |x, y| x + y) == 1
    }

    #[test]
    fn names_alone_block_across_scripts_and_one_sound_apart() {
        for (a, b) in [
            ("김은주", "Kim Eun-joo"),
            ("김학진", "김학징"),
            ("Kwon O-hui", "권옥희"),
            ("Pak Pok-Myon", "PARK BOK-MYEONG"),
            ("Jin Enzhu", "김은주"),
            ("Piao Jinshan", "Pak Kum-son"),
            ("金英粉", "김영분"),
            ("Wang Jianguo", "王建国"),
            ("Sergey Volkov", "세르게이 볼코프"),
            ("Zhao Jianguo", "자오젠궈"),
            ("Elizabeth Smith", "엘리자베스 스미스"),
        ] {
            assert!(blocked_together(a, b), "{a} / {b}");
        }
        for (a, b) in [("김학진", "김영호"), ("김은주", "박은주")] {
            assert!(!blocked_together(a, b), "{a} / {b}");
        }
    }

    #[test]
    fn bad_names_are_compared_or_missing_never_a_panic() {
        let long = "a".repeat(10_000);
        let records: Vec<PersonRecord> = [
            "",
            "?!.",
            "\u{0}\u{1b}[31m",
            &long,
            "Ka\u{7}ren",
            "𓂀𓃾",
            "Karen",
        ]
        .iter()
        .enumerate()
        .map(|(i, name)| person(&format!("r{i}"), name, "", None, &format!("s{i}")))
        .collect();
        let features = Arc::new(PersonFeatures::new(&records));
        let given = &comparisons(&features)[1];
        assert_eq!(given.level(0, 1), 0, "no letters: missing");
        assert_eq!(given.level(3, 6), 0, "too long to be a name: missing");
        assert_eq!(
            given.level(5, 5),
            1,
            "an unknown script is compared as text"
        );
        assert_eq!(given.level(5, 6), 5);
        proposed(&records);
    }

    #[test]
    fn surname_and_given_name_are_read_together() {
        let records = [
            person("a", "Sok Ri Ri", "", None, "s1"),
            person("b", "Chang Ee Lee", "", None, "s2"),
            person("c", "Ri Sok Ri", "", None, "s3"),
        ];
        let features = Arc::new(PersonFeatures::new(&records));
        let compare = comparisons(&features);
        assert_eq!(compare[0].level(0, 1), 1, "both may be surname 리");
        assert_ne!(
            compare[1].level(0, 1),
            1,
            "under surname 리 the given names are 석리 and 장이"
        );
        assert_eq!((compare[0].level(0, 2), compare[1].level(0, 2)), (1, 1));
    }

    #[test]
    fn sources_that_name_others_alike_corroborate() {
        let records = [
            person("a", "김영철", "male", None, "s1"),
            person("b", "Kim Yong-chol", "male", None, "s2"),
            person("c", "박순희", "female", None, "s1"),
            person("d", "Pak Sun-hui", "female", None, "s2"),
            person("e", "김영철", "male", None, "s3"),
            person("f", "리철수", "male", None, "s3"),
            person("g", "김영철", "male", None, "s4"),
        ];
        let features = Arc::new(PersonFeatures::new(&records));
        let sources = &comparisons(&features)[6];
        assert_eq!(
            sources.level(0, 1),
            1,
            "박순희 and Pak Sun-hui are in s1 and s2"
        );
        assert_eq!(
            sources.level(0, 4),
            2,
            "the pair itself corroborates nothing"
        );
        assert_eq!(sources.level(0, 6), 0, "s4 names nobody else");
    }

    #[test]
    fn a_name_recorded_again_and_again_counts_less_against_a_match() {
        let records: Vec<PersonRecord> = (0..6)
            .map(|i| person(&format!("r{i}"), "김영철", "", None, &format!("s{i}")))
            .chain((0..20).map(|i| {
                person(
                    &format!("o{i}"),
                    &format!("이{}", ["순희", "철수"][i % 2]),
                    "",
                    None,
                    "",
                )
            }))
            .collect();
        let features = Arc::new(PersonFeatures::new(&records));
        let compare = comparisons(&features);
        let given = &compare[1];
        let (alone, beside) = (
            given
                .term_frequency(0, 1, 1, 0)
                .expect("a shared name has a frequency"),
            given
                .term_frequency(0, 1, 1, 4)
                .expect("a shared name has a frequency"),
        );
        assert!((alone - 6.0 / 26.0).abs() < 1e-9, "{alone}");
        assert!((beside - 2.0 / 26.0).abs() < 1e-9, "{beside}");
        assert_eq!(given.term_frequency(1, 0, 1, 0), Some(alone));
    }

    #[test]
    fn a_mixed_name_keeps_its_korean_surname() {
        let daniel = girok_korean::parse_name("Daniel Kim").expect("parses");
        let kim = girok_korean::parse_name("김").expect("parses");
        assert_eq!(
            daniel.readings[0].surname_class,
            kim.readings[0].surname_class
        );
        let records = [
            person("a", "Daniel Kim", "male", Some(1970), "s1"),
            person("b", "Kim Daniel", "male", Some(1970), "s2"),
        ];
        let features = Arc::new(PersonFeatures::new(&records));
        let compare = comparisons(&features);
        assert_eq!((compare[0].level(0, 1), compare[1].level(0, 1)), (1, 1));
    }

    #[test]
    fn origins_in_one_province_agree_on_the_province() {
        let born_in = |origin: &str| PersonRecord {
            origin: origin.into(),
            ..person("x", "김은주", "", None, "")
        };
        let records: Vec<PersonRecord> =
            ["hoeryong", "musan", "chongjin-ranam", "hyesan", "nowhere"]
                .into_iter()
                .map(born_in)
                .collect();
        let features = Arc::new(PersonFeatures::new(&records));
        let origin = &comparisons(&features)[4];
        for (a, b, level) in [
            (0, 1, 2),
            (1, 2, 2),
            (0, 0, 1),
            (0, 3, 3),
            (3, 4, 3),
            (0, 4, 3),
        ] {
            assert_eq!(
                origin.level(a, b),
                level,
                "{} / {}",
                records[a as usize].origin,
                records[b as usize].origin
            );
        }
    }

    /// A level no pair reached in training has m and u at their floors and
    /// a weight that means nothing.
    #[test]
    fn every_level_of_the_shipped_model_was_seen_in_training() {
        let model = shipped_model(100);
        for comparison in &model.comparisons {
            for (level, (m, u)) in comparison.m.iter().zip(&comparison.u).enumerate() {
                assert!(
                    *m > 1e-5 || *u > 1e-5,
                    "{}: '{}' never occurred (m {m}, u {u})",
                    comparison.name,
                    comparison.levels[level]
                );
            }
        }
    }

    #[test]
    fn a_person_is_assembled_from_acts_and_sources() {
        let records: Vec<Record> = serde_json::from_str(
            r#"[
            {"type":"person","id":"w1","names":[{"text":"Kang Gyu-ri","script":"latin"}]},
            {"type":"source","id":"s1","kind":"interview","title":"t","consent":"internal","witness":"w1"},
            {"type":"person","id":"v1","names":[{"text":"박동구","script":"hangul"}],"sex":"male"},
            {"type":"act","id":"a1","act_type":"arrest","victim":"v1","date":"2019","place":"musan","victim_age":19},
            {"type":"information","id":"i1","source":"s1","act":"a1"}
        ]"#,
        )
        .expect("records");
        let mut builder = PersonRecordsBuilder::default();
        records.iter().for_each(|r| builder.add(r));
        let persons = builder.finish();
        assert_eq!(persons[0].sources, "s1");
        let victim = &persons[1];
        assert_eq!(
            (victim.birth_from, victim.birth_to),
            (Some(1999), Some(2000))
        );
        assert_eq!(
            (victim.taken_from, victim.taken_place.as_str()),
            (Some(2019), "musan")
        );
        assert_eq!(victim.sources, "s1");
    }
}
