//! Demo data and a seeded generator of realistic testimonies with ground truth.
//!
//! The generator draws a hidden population of people (households with Korean
//! names, origins, birth years), then writes testimonies: each witness reports
//! relatives and others, and each report is a new person record spelled the
//! way that source would spell it (Hangul, Revised Romanization,
//! McCune-Reischauer, DPRK or passport style, name order swapped, typos).
//! Popular victims are reported by several sources, as in real documentation.
//! The ground truth maps every person record to the hidden person it stands for.

use std::collections::BTreeMap;
use std::io::{self, Write};

use girok_korean::{System, passport_syllable, romanize_syllable, surnames};
use girok_model::*;
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;

/// The demo dataset: the UN General Assembly high-level meeting of 20 May 2025
/// with its two testimonies, press coverage spelling the witnesses differently,
/// the TJWG report of 31 October 2024 and the Foreign Ministry directive of 2017.
pub const DEMO_JSON: &str = include_str!("../data/demo.json");

/// Organisations whose sources form the lists of capture-recapture estimation.
const ORGANISATIONS: [&str; 5] = ["TJWG", "NKDB", "OHCHR Seoul", "Citizens' Alliance", "KINU"];

/// Given-name syllables common in North and South Korea.
const GIVEN: [char; 177] = [
    '가', '강', '건', '경', '계', '고', '공', '광', '교', '구', '국', '군', '권', '귀', '규', '균',
    '근', '금', '기', '길', '나', '남', '녀', '다', '단', '달', '담', '대', '덕', '도', '동', '두',
    '란', '래', '련', '렬', '령', '례', '로', '록', '룡', '류', '륜', '리', '림', '립', '마', '만',
    '매', '명', '모', '목', '무', '문', '미', '민', '반', '배', '백', '범', '별', '병', '보', '복',
    '봉', '부', '분', '비', '빈', '산', '삼', '상', '새', '서', '석', '선', '설', '섭', '성', '세',
    '소', '송', '수', '숙', '순', '술', '승', '시', '식', '신', '실', '심', '아', '안', '애', '양',
    '언', '여', '연', '열', '염', '엽', '영', '예', '옥', '온', '완', '요', '용', '우', '욱', '운',
    '웅', '원', '월', '위', '유', '윤', '율', '은', '을', '의', '이', '익', '인', '일', '임', '자',
    '장', '재', '전', '정', '제', '조', '종', '주', '준', '중', '지', '진', '찬', '창', '채', '천',
    '철', '청', '초', '춘', '충', '치', '태', '택', '평', '표', '필', '하', '학', '한', '함', '항',
    '해', '향', '혁', '현', '형', '혜', '호', '홍', '화', '환', '황', '회', '효', '훈', '휘', '흥',
    '희',
];

/// Approximate shares of the most common surnames (Kim, Lee, Park about 45% together).
const SURNAME_WEIGHTS: [u32; 10] = [215, 147, 84, 47, 43, 24, 21, 20, 20, 19];

/// Places of origin and of acts, weighted toward the northern border provinces.
const PLACES: [&str; 24] = [
    "hoeryong",
    "musan",
    "onsong",
    "hyesan",
    "chongjin",
    "saebyol",
    "undok",
    "kimchaek",
    "hamhung",
    "sinuiju",
    "pyongyang",
    "kanggye",
    "manpo",
    "samjiyon",
    "kimjongsuk",
    "pochon",
    "taehongdan",
    "sinpo",
    "tanchon",
    "wonsan",
    "haeju",
    "sariwon",
    "nampo",
    "pyongsong",
];
const FOREIGN_PLACES: [&str; 6] = ["china", "yanji", "tumen", "dandong", "shenyang", "russia"];

/// Act chains a testimony may tell about one victim.
const CHAINS: [&[&str]; 8] = [
    &["arrest", "detention", "enforced-disappearance"],
    &["arrest", "interrogation", "torture"],
    &["forced-repatriation", "detention", "torture"],
    &["arrest", "public-execution"],
    &["enforced-disappearance"],
    &["trafficking", "forced-repatriation"],
    &["arrest", "detention", "death-in-custody"],
    &["family-punishment", "forced-relocation"],
];
const AGENCIES: [&str; 6] = [
    "mss",
    "mps",
    "border-guard",
    "dsb",
    "china-public-security",
    "unknown",
];
const FACILITIES: [&str; 5] = [
    "kwanliso",
    "kyohwaso",
    "rodong-danryondae",
    "jipkyulso",
    "kuryujang",
];

/// Settings of one generated dataset.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    pub testimonies: u64,
    pub seed: u64,
}

/// What was generated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub records: u64,
    pub persons: u64,
    pub acts: u64,
    pub sources: u64,
    /// Hidden people behind the person records.
    pub entities: u64,
}

/// One hidden person.
struct Entity {
    surname: usize,
    given: [char; 2],
    sex: Sex,
    birth_year: i32,
    origin: &'static str,
    /// What happened to them (if they are a victim): every witness tells
    /// of the same acts, in the same year, starting at the same place.
    chain: usize,
    year: i32,
    first_place: &'static str,
}

struct Generator {
    rng: ChaCha8Rng,
    entities: Vec<Entity>,
    /// Entities that have already been reported, so later testimonies re-report them.
    reported: Vec<usize>,
}

impl Generator {
    fn new_entity(&mut self, household_surname: Option<usize>) -> usize {
        let surname = household_surname.unwrap_or_else(|| {
            let total: u32 = SURNAME_WEIGHTS.iter().sum::<u32>() + 300;
            let mut pick = self.rng.random_range(0..total);
            for (index, weight) in SURNAME_WEIGHTS.iter().enumerate() {
                if pick < *weight {
                    return index;
                }
                pick -= weight;
            }
            self.rng
                .random_range(SURNAME_WEIGHTS.len()..surnames().len())
        });
        let entity = Entity {
            surname,
            given: [
                *GIVEN.choose(&mut self.rng).unwrap_or(&'영'),
                *GIVEN.choose(&mut self.rng).unwrap_or(&'수'),
            ],
            sex: if self.rng.random_bool(0.5) {
                Sex::Female
            } else {
                Sex::Male
            },
            birth_year: 0,
            origin: PLACES.choose(&mut self.rng).copied().unwrap_or("hoeryong"),
            chain: self.rng.random_range(0..CHAINS.len()),
            year: 0,
            first_place: if self.rng.random_bool(0.2) {
                FOREIGN_PLACES
                    .choose(&mut self.rng)
                    .copied()
                    .unwrap_or("china")
            } else {
                PLACES.choose(&mut self.rng).copied().unwrap_or("musan")
            },
        };
        let birth_year = self.rng.random_range(1940..2015);
        let entity = Entity {
            birth_year,
            year: self
                .rng
                .random_range((birth_year + 12).max(1995)..=2025.max(birth_year + 13)),
            ..entity
        };
        self.entities.push(entity);
        self.entities.len() - 1
    }

    /// Someone already reported, the recently reported more likely.
    fn reported_again(&mut self) -> Option<usize> {
        let pool = self.reported.len();
        if pool == 0 {
            return None;
        }
        let back = (self.rng.random_range(0.0f64..1.0).powi(3) * pool as f64) as usize;
        Some(self.reported[pool - 1 - back.min(pool - 1)])
    }

    /// The entity's name as one source writes it.
    fn spelling(&mut self, entity: usize) -> Name {
        let Entity { surname, given, .. } = self.entities[entity];
        let surname = &surnames()[surname];
        let hangul_surname = surname.hangul.first().cloned().unwrap_or_default();
        let style = self.rng.random_range(0..100);
        if style < 30 {
            return Name::detect(
                &format!("{hangul_surname}{}{}", given[0], given[1]),
                Romanization::Unknown,
            );
        }
        let (system, family, romanize): (Romanization, String, fn(char) -> String) = match style {
            30..=49 => (
                Romanization::RevisedRomanization,
                surname.variants[0].clone(),
                |c| rr(c),
            ),
            50..=64 => (Romanization::McCuneReischauer, surname.mr.clone(), |c| {
                romanize_syllable(c, System::McCuneReischauerPlain).unwrap_or_default()
            }),
            65..=79 => (Romanization::Dprk, surname.dprk.clone(), |c| {
                girok_korean::strip_marks(&romanize_syllable(c, System::Dprk).unwrap_or_default())
            }),
            _ => (Romanization::Passport, surname.variants[0].clone(), |c| {
                passport_syllable(&rr(c))
            }),
        };
        let (first, second) = (capitalize(&romanize(given[0])), romanize(given[1]));
        let given_name = match (system, self.rng.random_range(0..3)) {
            (Romanization::Dprk, _) => format!("{first} {}", capitalize(&second)),
            (_, 0) => format!("{first}-{second}"),
            (_, 1) => format!("{first}{second}"),
            _ => format!("{first} {}", capitalize(&second)),
        };
        let mut text = if self.rng.random_bool(0.3) {
            format!("{given_name} {family}")
        } else {
            format!("{family} {given_name}")
        };
        if self.rng.random_bool(0.05) {
            text = typo(&text, &mut self.rng);
        }
        Name::detect(&text, system)
    }
}

fn rr(c: char) -> String {
    romanize_syllable(c, System::Revised).unwrap_or_default()
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Drops, doubles or swaps one letter, as hurried transcription does.
fn typo(text: &str, rng: &mut ChaCha8Rng) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let positions: Vec<usize> = (1..chars.len().saturating_sub(1))
        .filter(|&i| chars[i].is_alphabetic() && chars[i + 1].is_alphabetic())
        .collect();
    let Some(&at) = positions.choose(rng) else {
        return text.to_string();
    };
    match rng.random_range(0..3) {
        0 => {
            chars.remove(at);
        }
        1 => chars.insert(at, chars[at]),
        _ => chars.swap(at, at + 1),
    }
    chars.into_iter().collect()
}

/// A fuzzy date around a year, at a random precision.
fn fuzzy_around(year: i32, rng: &mut ChaCha8Rng) -> FuzzyDate {
    let text = match rng.random_range(0..10) {
        0 => format!(
            "{year}-{:02}-{:02}",
            rng.random_range(1..=12),
            rng.random_range(1..=28)
        ),
        1 | 2 => format!("{year}-{:02}", rng.random_range(1..=12)),
        3 => format!(
            "{} {year}",
            ["spring", "summer", "autumn", "winter"][rng.random_range(0..4)]
        ),
        4 => format!(
            "{} {year}",
            ["early", "mid", "late"][rng.random_range(0..3)]
        ),
        5 => format!("c. {year}"),
        6 => "unknown".to_string(),
        _ => year.to_string(),
    };
    FuzzyDate::parse(&text).unwrap_or(FuzzyDate::UNKNOWN)
}

struct Writer<'a> {
    records: &'a mut dyn Write,
    truth: &'a mut dyn Write,
    summary: Summary,
}

impl Writer<'_> {
    fn record(&mut self, record: Record) -> io::Result<()> {
        match record.kind() {
            RecordKind::Person => self.summary.persons += 1,
            RecordKind::Act => self.summary.acts += 1,
            RecordKind::Source => self.summary.sources += 1,
            _ => {}
        }
        self.summary.records += 1;
        serde_json::to_writer(&mut *self.records, &record).map_err(io::Error::other)?;
        self.records.write_all(b"\n")
    }

    /// Writes a person record and its line of ground truth.
    fn person(&mut self, entity: usize, person: Person) -> io::Result<()> {
        writeln!(self.truth, "{}\te{entity}", person.id)?;
        self.record(Record::Person(person))
    }
}

/// A person record with one name and the facts a source gave.
struct Reported {
    name: Name,
    sex: Sex,
    birth: FuzzyDate,
    origin: Option<&'static str>,
    protected: bool,
}

impl Reported {
    fn into_person(self, id: RecordId) -> Person {
        Person {
            sex: self.sex,
            birth: self.birth,
            origin: self.origin.map(str::to_string),
            protected: self.protected,
            ..Person::new(id, vec![self.name])
        }
    }
}

/// Ids are zero-padded so they sort in the order they are written.
///
/// Writes `config.testimonies` testimonies as JSON Lines records, and the
/// ground truth as `person record id<TAB>hidden person id` lines.
pub fn generate(
    config: Config,
    records: &mut dyn Write,
    truth: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> io::Result<Summary> {
    let mut generator = Generator {
        rng: ChaCha8Rng::seed_from_u64(config.seed),
        entities: Vec::new(),
        reported: Vec::new(),
    };
    let mut out = Writer {
        records,
        truth,
        summary: Summary::default(),
    };
    writeln!(out.truth, "record\tentity")?;
    for t in 0..config.testimonies {
        let rng = &mut generator.rng;
        let organisation = ORGANISATIONS[rng.random_range(0..ORGANISATIONS.len())];
        let interviewed = rng.random_range(2005..2026);
        let witness_entity = generator.new_entity(None);
        let witness_id = RecordId::new(format!("w{t:07}"));
        let name = generator.spelling(witness_entity);
        let entity = &generator.entities[witness_entity];
        let (sex, birth_year, origin) = (entity.sex, entity.birth_year, entity.origin);
        let witness = Reported {
            name,
            sex,
            birth: FuzzyDate::year(birth_year),
            origin: Some(origin),
            protected: true,
        };
        out.person(witness_entity, witness.into_person(witness_id.clone()))?;
        let rng = &mut generator.rng;
        let source_id = RecordId::new(format!("t{t:07}"));
        let consent = [
            ConsentScope::Internal,
            ConsentScope::Partners,
            ConsentScope::PublicAnonymised,
        ][rng.random_range(0..3)];
        out.record(Record::Source(Source {
            id: source_id.clone(),
            kind: SourceKind::Interview,
            title: format!("Interview {t} ({organisation})"),
            obtained: FuzzyDate::parse(&format!("{interviewed}-{:02}", rng.random_range(1..=12)))
                .unwrap_or_default(),
            language: Some("ko".into()),
            organisation: Some(organisation.into()),
            provenance: "synthetic testimony generated by girok synth".into(),
            consent: Some(consent),
            witness: Some(witness_id),
            received_by: None,
            notes: String::new(),
            clarifications: BTreeMap::new(),
            sealed: None,
        }))?;
        let victims = generator.rng.random_range(1..=4);
        // One testimony names a person once: a second mention is the same record.
        let mut named: Vec<usize> = vec![witness_entity];
        for v in 0..victims {
            // Relatives share the witness's surname; others may be someone already reported.
            const OTHERS: [&str; 5] = ["friend", "neighbour", "cellmate", "colleague", "other"];
            let (entity, relation) = if generator.rng.random_bool(0.45) {
                let relation = ["parent", "child", "sibling", "spouse", "other-relative"]
                    [generator.rng.random_range(0..5)];
                let surname = generator.entities[witness_entity].surname;
                let new = generator.new_entity(if relation == "spouse" {
                    None
                } else {
                    Some(surname)
                });
                generator.reported.push(new);
                (new, relation)
            } else if let Some(again) = generator
                .rng
                .random_bool(0.55)
                .then(|| generator.reported_again())
                .flatten()
                .filter(|e| !named.contains(e))
            {
                (again, OTHERS[generator.rng.random_range(0..5)])
            } else {
                let new = generator.new_entity(None);
                generator.reported.push(new);
                (new, OTHERS[generator.rng.random_range(0..5)])
            };
            named.push(entity);
            let person_id = RecordId::new(format!("t{t:07}v{v}"));
            let name = generator.spelling(entity);
            let rng = &mut generator.rng;
            let Entity {
                sex,
                birth_year,
                origin,
                ..
            } = generator.entities[entity];
            // Witnesses often know an age at the time rather than a birth year.
            let (birth, give_age) = match rng.random_range(0..10) {
                0..=3 => (FuzzyDate::year(birth_year), false),
                4..=5 => (
                    FuzzyDate::parse(&format!("c. {birth_year}")).unwrap_or_default(),
                    false,
                ),
                6..=8 => (FuzzyDate::UNKNOWN, true),
                _ => (FuzzyDate::UNKNOWN, false),
            };
            let sex = if rng.random_bool(0.9) {
                sex
            } else {
                Sex::Unknown
            };
            let origin = rng.random_bool(0.7).then_some(origin);
            let victim = Reported {
                name,
                sex,
                birth,
                origin,
                protected: false,
            };
            out.person(entity, victim.into_person(person_id.clone()))?;
            let rng = &mut generator.rng;
            let Entity {
                chain,
                year,
                first_place,
                ..
            } = generator.entities[entity];
            let chain = CHAINS[chain];
            let abroad = FOREIGN_PLACES.contains(&first_place);
            for (a, act_type) in chain.iter().enumerate() {
                let act_id = RecordId::new(format!("t{t:07}v{v}a{a}"));
                // Witnesses do not always know where; the first place is the same for all who do.
                let place = match (a, rng.random_bool(0.25)) {
                    (_, true) => None,
                    (0, false) => Some(&first_place),
                    _ => PLACES.choose(rng),
                };
                let facility = (*act_type == "detention")
                    .then(|| FACILITIES.choose(rng).map(|f| f.to_string()))
                    .flatten();
                let age = year - birth_year;
                out.record(Record::Act(Act {
                    id: act_id.clone(),
                    act_type: act_type.to_string(),
                    victim: person_id.clone(),
                    event: None,
                    date: fuzzy_around(year, rng),
                    place: place.map(|p| p.to_string()),
                    victim_age: (give_age && a == 0 && age >= 0).then_some(age as u16),
                    status: None,
                    facility,
                    description: String::new(),
                    received_by: None,
                    clarifications: BTreeMap::new(),
                    sealed: None,
                }))?;
                if rng.random_bool(0.7) {
                    let agency = if abroad && a == 0 {
                        "china-public-security"
                    } else {
                        AGENCIES[rng.random_range(0..AGENCIES.len())]
                    };
                    out.record(Record::Involvement(Involvement {
                        id: RecordId::new(format!("t{t:07}v{v}a{a}p")),
                        act: act_id.clone(),
                        perpetrator: None,
                        agency: Some(agency.into()),
                        degree: Degree::Unknown,
                        clarifications: BTreeMap::new(),
                    }))?;
                }
                out.record(Record::Information(Information {
                    id: RecordId::new(format!("t{t:07}v{v}a{a}i")),
                    source: source_id.clone(),
                    act: Some(act_id),
                    event: None,
                    reliability: Some([Reliability::B, Reliability::C][rng.random_range(0..2)]),
                    credibility: None,
                    relation: Some(relation.into()),
                    knowledge: [
                        Knowledge::Saw,
                        Knowledge::HeardFromVictim,
                        Knowledge::HeardFromOthers,
                    ][rng.random_range(0..3)],
                    clarifications: BTreeMap::new(),
                }))?;
            }
        }
        progress(t + 1);
    }
    out.summary.entities = generator.entities.len() as u64;
    Ok(out.summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(testimonies: u64, seed: u64) -> (String, String, Summary) {
        let (mut records, mut truth) = (Vec::new(), Vec::new());
        let summary = generate(
            Config { testimonies, seed },
            &mut records,
            &mut truth,
            &mut |_| {},
        )
        .expect("generate");
        (
            String::from_utf8(records).expect("utf8"),
            String::from_utf8(truth).expect("utf8"),
            summary,
        )
    }

    #[test]
    fn the_same_seed_gives_the_same_data() {
        assert_eq!(run(50, 7).0, run(50, 7).0);
        assert_ne!(run(50, 7).0, run(50, 8).0);
    }

    #[test]
    fn every_record_is_valid_and_every_person_has_a_truth() {
        let (records, truth, summary) = run(300, 1);
        let vocabularies = Vocabularies::default();
        let mut persons = 0;
        for line in records.lines() {
            let record: Record = serde_json::from_str(line).expect("record");
            Change::Create {
                record: record.clone(),
            }
            .validate(&vocabularies)
            .unwrap_or_else(|e| panic!("{e}: {line}"));
            persons += (record.kind() == RecordKind::Person) as u64;
        }
        assert_eq!(persons, summary.persons);
        assert_eq!(truth.lines().count() as u64, summary.persons + 1);
    }

    #[test]
    fn victims_are_reported_by_several_sources_under_different_spellings() {
        let (records, truth, summary) = run(500, 3);
        let mut by_entity: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for line in truth.lines().skip(1) {
            let (record, entity) = line.split_once('\t').expect("tab");
            by_entity.entry(entity).or_default().push(record);
        }
        let repeated = by_entity
            .values()
            .filter(|records| records.len() > 1)
            .count();
        assert!(
            repeated > 50,
            "only {repeated} people reported more than once"
        );
        assert!(summary.entities < summary.persons);
        let scripts: Vec<bool> = records
            .lines()
            .filter(|l| l.contains("\"person\""))
            .map(|l| l.contains("\"hangul\""))
            .collect();
        let hangul = scripts.iter().filter(|h| **h).count();
        assert!(
            hangul > scripts.len() / 5 && hangul < scripts.len() / 2,
            "{hangul} of {}",
            scripts.len()
        );
    }
}
