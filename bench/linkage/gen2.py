"""Second, independent generator of person records for the linkage benchmark (version 1, frozen).

    python3 bench/linkage/gen2.py --persons 30000 --seed 101 --out target/bench-linkage/gen2-60k

writes OUT.csv (the columns of `linkage-bench flatten`) and OUT.truth.tsv (record, entity,
homonym_group). The specification, with every rate and which seeds are for tuning and which for
scoring, is SECOND-GENERATOR.md beside this file. Standard library only; deterministic per seed.
"""

import argparse
import bisect
import csv
import itertools
import os
import random
import re
import unicodedata

ROOT = os.path.dirname(os.path.abspath(__file__))
SURNAME_SPELLINGS = os.path.join(ROOT, "..", "..", "..", "shared", "data", "korean-surnames.tsv")
GAZETTEER = os.path.join(ROOT, "..", "..", "crates", "model", "vocab", "places.tsv")

# --- Hangul -----------------------------------------------------------------------------------

INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
VOWELS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
FINALS = " ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"
Y_VOWELS = set("ㅑㅒㅕㅖㅛㅠㅣ")


def decompose(syllable):
    code = ord(syllable) - 0xAC00
    return INITIALS[code // 588], VOWELS[code % 588 // 28], FINALS[code % 28]


def compose(initial, vowel, final=" "):
    return chr(
        0xAC00 + INITIALS.index(initial) * 588 + VOWELS.index(vowel) * 28 + FINALS.index(final)
    )


def southern(syllable):
    """The South's initial-sound rule (두음법칙) on a word-initial syllable: 룡 → 용, 락 → 낙."""
    initial, vowel, final = decompose(syllable)
    if initial == "ㄹ":
        initial = "ㅇ" if vowel in Y_VOWELS else "ㄴ"
    if initial == "ㄴ" and vowel in Y_VOWELS:
        initial = "ㅇ"
    return compose(initial, vowel, final)


# --- Romanization, jamo by jamo from the published tables --------------------------------------

RR_INITIAL = dict(zip(INITIALS, "g kk n d tt r m b pp s ss - j jj ch k t p h".split()))
RR_VOWEL = dict(zip(VOWELS, "a ae ya yae eo e yeo ye o wa wae oe yo u wo we wi yu eu ui i".split()))
MR_INITIAL = dict(zip(INITIALS, "k kk n t tt r m p pp s ss - ch tch ch' k' t' p' h".split()))
MR_VOICED = {"k": "g", "t": "d", "p": "b", "ch": "j"}
MR_VOWEL = dict(zip(VOWELS, "a ae ya yae ŏ e yŏ ye o wa wae oe yo u wŏ we wi yu ŭ ŭi i".split()))
DPRK_INITIAL = dict(zip(INITIALS, "k kk n t tt r m p pp s ss - j jj ch kh th ph h".split()))
# Finals as pronounced at the end of a syllable (the same in all three systems).
FINAL = dict(zip(FINALS, "- k k k n n n t l k m l l l p l m p p t t ng t t k t p t".split()))
VOICED_FINALS = set(" ㄴㄹㅁㅇ")


def romanize_syllable(syllable, system, previous):
    """One syllable in `rr`, `mr` (with breves) or `dprk`; `previous` is the syllable before it in
    the same name part (None at its start), which decides voicing and ㄹ after ㄹ."""
    initial, vowel, final = decompose(syllable)
    previous_final = decompose(previous)[2] if previous else None
    if system == "rr":
        head = RR_INITIAL[initial]
        vowel_text = RR_VOWEL[vowel]
    else:
        head = (MR_INITIAL if system == "mr" else DPRK_INITIAL)[initial]
        if previous_final in VOICED_FINALS:
            head = MR_VOICED.get(head, head)
        if system == "mr" and initial == "ㅅ" and vowel in "ㅣㅟ":
            head = "sh"
        vowel_text = MR_VOWEL[vowel]
        if system == "dprk":
            vowel_text = vowel_text.replace("ŏ", "o").replace("ŭ", "u")
    if initial == "ㄹ" and previous_final in ("ㄹ", "ㄴ"):
        head = "l"
    return head.replace("-", "") + vowel_text + FINAL[final].replace("-", "")


def strip_breves(text):
    text = text.replace("'", "")
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def passport_habits(syllables, rng, english):
    """Rewrites Revised Romanization syllables of a given name by South Korean passport habits,
    chosen once per name (a writer's habit); `english` (Western press) chooses them per syllable
    and adds two habits of English writers."""
    chosen = {}

    def habit(name, rate):
        if english or name not in chosen:
            chosen[name] = rng.random() < rate
        return chosen[name]

    out = []
    for i, s in enumerate(syllables):
        # Before eo → u, so that 석 becomes Suk, not Sook.
        if habit("oo", 0.5):
            s = re.sub(r"(?<![eoy])u(?![i])", "oo", s)
        if s == "yeong" and habit("young", 0.7):
            s = "young"
        elif s in ("seong", "jeong", "hyeon", "seon", "seok", "cheol", "cheon") and habit(
            "eo-u", 0.6
        ):
            s = s.replace("eo", "u")
        if s == "hui" and habit("hee", 0.8):
            s = "hee"
        if s.startswith("si") and habit("shi", 0.7):
            s = "sh" + s[1:]
        if i == 0 and s.startswith("g") and habit("k", 0.4):
            s = "k" + s[1:]
        if english:
            if "ae" in s and habit("ay", 0.1):
                s = s.replace("ae", "ay")
            if s.startswith("eu") and habit("eu-u", 0.2):
                s = s[1:]
        out.append(s)
    return out


# --- Tables ------------------------------------------------------------------------------------

# Surnames, Northern form where the North keeps an initial ㄹ: Hangul, Hanja, pinyin of the Hanja,
# thousands of bearers in the 2015 South Korean census (Statistics Korea, rounded).
SURNAMES = [
    ("김", "金", "Jin", 10690), ("리", "李", "Li", 7307), ("박", "朴", "Piao", 4192),
    ("최", "崔", "Cui", 2334), ("정", "鄭", "Zheng", 2152), ("강", "姜", "Jiang", 1177),
    ("조", "趙", "Zhao", 1056), ("윤", "尹", "Yin", 1021), ("장", "張", "Zhang", 993),
    ("림", "林", "Lin", 824), ("한", "韓", "Han", 773), ("오", "吳", "Wu", 763),
    ("서", "徐", "Xu", 752), ("신", "申", "Shen", 741), ("권", "權", "Quan", 706),
    ("황", "黃", "Huang", 697), ("안", "安", "An", 686), ("송", "宋", "Song", 683),
    ("류", "柳", "Liu", 960), ("전", "全", "Quan", 560), ("홍", "洪", "Hong", 559),
    ("고", "高", "Gao", 471), ("문", "文", "Wen", 464), ("량", "梁", "Liang", 461),
    ("손", "孫", "Sun", 457), ("배", "裵", "Pei", 400), ("백", "白", "Bai", 382),
    ("허", "許", "Xu", 327), ("남", "南", "Nan", 276), ("심", "沈", "Shen", 272),
    ("로", "盧", "Lu", 220), ("하", "河", "He", 231), ("주", "朱", "Zhu", 230),
    ("구", "具", "Ju", 208), ("곽", "郭", "Guo", 201), ("성", "成", "Cheng", 199),
    ("차", "車", "Che", 190), ("우", "禹", "Yu", 190), ("라", "羅", "Luo", 173),
    ("민", "閔", "Min", 168), ("진", "陳", "Chen", 167), ("지", "池", "Chi", 166),
    ("엄", "嚴", "Yan", 146), ("채", "蔡", "Cai", 131), ("원", "元", "Yuan", 131),
    ("천", "千", "Qian", 120), ("방", "方", "Fang", 118), ("공", "孔", "Kong", 93),
    ("현", "玄", "Xuan", 93), ("함", "咸", "Xian", 78), ("변", "卞", "Bian", 75),
    ("렴", "廉", "Lian", 70), ("려", "呂", "Lü", 70), ("추", "秋", "Qiu", 60),
    ("도", "都", "Du", 56), ("석", "石", "Shi", 50), ("선", "宣", "Xuan", 45),
    ("설", "薛", "Xue", 44), ("마", "馬", "Ma", 40), ("길", "吉", "Ji", 39),
    ("연", "延", "Yan", 35), ("위", "魏", "Wei", 33), ("표", "表", "Biao", 30),
    ("명", "明", "Ming", 28), ("기", "奇", "Qi", 28), ("왕", "王", "Wang", 26),
    ("륙", "陸", "Lu", 25), ("남궁", "南宮", "Nangong", 18), ("황보", "皇甫", "Huangfu", 10),
    ("제갈", "諸葛", "Zhuge", 6), ("선우", "鮮于", "Xianyu", 4), ("독고", "獨孤", "Dugu", 2),
]

# Given-name syllables: Hangul (Northern form), Hanja, pinyin, weight among men, among women.
GIVEN = [
    ("영", "英", "ying", 10, 8), ("철", "哲", "zhe", 9, 0), ("수", "秀", "xiu", 8, 2),
    ("성", "成", "cheng", 8, 2), ("호", "浩", "hao", 7, 0), ("민", "民", "min", 6, 2),
    ("진", "珍", "zhen", 5, 4), ("광", "光", "guang", 6, 0), ("명", "明", "ming", 7, 3),
    ("남", "男", "nan", 5, 1), ("일", "日", "ri", 6, 0), ("국", "國", "guo", 5, 0),
    ("혁", "革", "ge", 6, 0), ("준", "俊", "jun", 4, 0), ("정", "正", "zheng", 5, 6),
    ("동", "東", "dong", 5, 0), ("상", "相", "xiang", 5, 0), ("기", "基", "ji", 5, 0),
    ("용", "勇", "yong", 4, 0), ("룡", "龍", "long", 6, 0), ("석", "石", "shi", 4, 0),
    ("훈", "勳", "xun", 3, 0), ("식", "植", "zhi", 4, 0), ("환", "煥", "huan", 3, 0),
    ("복", "福", "fu", 3, 2), ("학", "學", "xue", 4, 0), ("춘", "春", "chun", 3, 4),
    ("만", "萬", "wan", 3, 0), ("길", "吉", "ji", 3, 0), ("범", "範", "fan", 2, 0),
    ("현", "賢", "xian", 4, 2), ("재", "在", "zai", 4, 0), ("원", "元", "yuan", 3, 0),
    ("근", "根", "gen", 3, 0), ("덕", "德", "de", 3, 1), ("봉", "鳳", "feng", 3, 1),
    ("송", "松", "song", 2, 1), ("경", "京", "jing", 3, 5), ("락", "樂", "le", 2, 0),
    ("량", "良", "liang", 1, 1), ("순", "順", "shun", 0, 9), ("숙", "淑", "shu", 0, 7),
    ("희", "姬", "ji", 0, 8), ("자", "子", "zi", 0, 4), ("미", "美", "mei", 0, 6),
    ("옥", "玉", "yu", 0, 8), ("은", "恩", "en", 0, 6), ("선", "善", "shan", 1, 5),
    ("화", "花", "hua", 0, 7), ("혜", "惠", "hui", 0, 5), ("지", "智", "zhi", 0, 4),
    ("련", "蓮", "lian", 0, 7), ("주", "珠", "zhu", 1, 5), ("향", "香", "xiang", 0, 6),
    ("금", "金", "jin", 1, 7), ("실", "實", "shi", 0, 3), ("애", "愛", "ai", 0, 4),
    ("심", "心", "xin", 0, 3), ("월", "月", "yue", 0, 3), ("림", "林", "lin", 1, 3),
    ("란", "蘭", "lan", 0, 4), ("녀", "女", "nü", 0, 2), ("례", "禮", "li", 0, 3),
    ("리", "利", "li", 0, 2), ("로", "魯", "lu", 1, 0), ("분", "粉", "fen", 0, 3),
    ("아", "娥", "e", 0, 3), ("연", "延", "yan", 0, 2), ("설", "雪", "xue", 0, 3),
]
SURNAME_HANJA = {h: (c, p) for h, c, p, _ in SURNAMES}
GIVEN_HANJA = {h: (c, p) for h, c, p, _, _ in GIVEN}

WESTERN_GIVEN = {
    "male": ["Daniel", "Sean", "David", "Joseph", "John", "Paul", "Peter", "Timothy", "Michael"],
    "female": ["Grace", "Esther", "Sarah", "Ruth", "Joy", "Hannah", "Stephanie", "Michelle"],
}

# Chinese names: simplified characters, pinyin, Sino-Korean reading, Korean transliteration.
CHINESE_SURNAMES = [
    ("王", "Wang", "왕", "왕"), ("李", "Li", "이", "리"), ("张", "Zhang", "장", "장"),
    ("刘", "Liu", "유", "류"), ("陈", "Chen", "진", "천"), ("杨", "Yang", "양", "양"),
    ("赵", "Zhao", "조", "자오"), ("黄", "Huang", "황", "황"), ("周", "Zhou", "주", "저우"),
    ("吴", "Wu", "오", "우"), ("徐", "Xu", "서", "쉬"), ("孙", "Sun", "손", "쑨"),
    ("胡", "Hu", "호", "후"), ("朱", "Zhu", "주", "주"), ("高", "Gao", "고", "가오"),
    ("林", "Lin", "임", "린"), ("何", "He", "하", "허"), ("郭", "Guo", "곽", "궈"),
    ("马", "Ma", "마", "마"), ("罗", "Luo", "나", "뤄"),
]
CHINESE_GIVEN = [
    ("建国", "Jianguo", "건국", "젠궈"), ("伟", "Wei", "위", "웨이"), ("华", "Hua", "화", "화"),
    ("明", "Ming", "명", "밍"), ("磊", "Lei", "뢰", "레이"), ("军", "Jun", "군", "쥔"),
    ("勇", "Yong", "용", "융"), ("杰", "Jie", "걸", "제"), ("涛", "Tao", "도", "타오"),
    ("强", "Qiang", "강", "창"), ("晓明", "Xiaoming", "효명", "샤오밍"),
    ("宏伟", "Hongwei", "굉위", "훙웨이"), ("冬梅", "Dongmei", "동매", "둥메이"),
    ("丽", "Li", "려", "리"), ("芳", "Fang", "방", "팡"), ("娜", "Na", "나", "나"),
    ("静", "Jing", "정", "징"), ("海", "Hai", "해", "하이"), ("刚", "Gang", "강", "강"),
    ("平", "Ping", "평", "핑"), ("辉", "Hui", "휘", "후이"), ("春生", "Chunsheng", "춘생", "춘성"),
    ("玉兰", "Yulan", "옥란", "위란"), ("国强", "Guoqiang", "국강", "궈창"),
]

# Russian names: Cyrillic, usual Latin transliterations, Hangul.
RUSSIAN_GIVEN = {
    "male": [
        ("Иван", ["Ivan"], "이반"), ("Сергей", ["Sergei", "Sergey"], "세르게이"),
        ("Алексей", ["Aleksei", "Alexey", "Alexei"], "알렉세이"),
        ("Дмитрий", ["Dmitry", "Dmitri", "Dmitriy"], "드미트리"),
        ("Александр", ["Aleksandr", "Alexander", "Alexandr"], "알렉산드르"),
        ("Николай", ["Nikolai", "Nikolay"], "니콜라이"),
        ("Евгений", ["Yevgeny", "Evgeny", "Evgeniy"], "예브게니"),
        ("Андрей", ["Andrei", "Andrey"], "안드레이"), ("Михаил", ["Mikhail"], "미하일"),
        ("Владимир", ["Vladimir"], "블라디미르"),
    ],
    "female": [
        ("Ольга", ["Olga"], "올가"), ("Наталья", ["Natalya", "Natalia"], "나탈리야"),
        ("Елена", ["Yelena", "Elena"], "옐레나"), ("Татьяна", ["Tatyana", "Tatiana"], "타티야나"),
    ],
}
RUSSIAN_SURNAMES = [
    ("Петров", ["Petrov", "Petroff"], "페트로프"), ("Иванов", ["Ivanov"], "이바노프"),
    ("Смирнов", ["Smirnov"], "스미르노프"), ("Кузнецов", ["Kuznetsov"], "쿠즈네초프"),
    ("Попов", ["Popov"], "포포프"), ("Соколов", ["Sokolov"], "소콜로프"),
    ("Волков", ["Volkov"], "볼코프"), ("Козлов", ["Kozlov"], "코즐로프"),
    ("Морозов", ["Morozov"], "모로조프"), ("Новиков", ["Novikov"], "노비코프"),
    ("Фёдоров", ["Fyodorov", "Fedorov"], "표도로프"), ("Лебедев", ["Lebedev"], "레베데프"),
]
PATRONYMIC_INITIALS = "AIMNPSV"

# Western staff: Latin spellings, Hangul transliteration.
WESTERN_STAFF_GIVEN = [
    ("John", "존"), ("Maria", "마리아"), ("David", "데이비드"), ("Sarah", "세라"),
    ("Michael", "마이클"), ("Anna", "안나"), ("James", "제임스"), ("Elizabeth", "엘리자베스"),
    ("Thomas", "토머스"), ("Sophie", "소피"), ("Marie", "마리"), ("Kenji", "겐지"),
]
WESTERN_STAFF_SURNAMES = [
    (["Smith"], "스미스"), (["Gonzalez", "González"], "곤살레스"),
    (["Müller", "Mueller", "Muller"], "뮐러"), (["Johnson"], "존슨"), (["Martin"], "마르탱"),
    (["Dubois"], "뒤부아"), (["Rossi"], "로시"), (["Brown"], "브라운"),
    (["Andersen"], "안데르센"), (["Nakamura"], "나카무라"), (["Garcia", "García"], "가르시아"),
    (["O'Brien", "OBrien"], "오브라이언"),
]

QWERTY = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
DUBEOLSIK = ["ㅂㅈㄷㄱㅅㅛㅕㅑㅐㅔ", "ㅁㄴㅇㄹㅎㅗㅓㅏㅣ", "ㅋㅌㅊㅍㅠㅜㅡ"]


def key_neighbours(rows):
    neighbours = {}
    for r, row in enumerate(rows):
        for c, key in enumerate(row):
            near = [row[c - 1]] if c > 0 else []
            near += [row[c + 1]] if c + 1 < len(row) else []
            for other in (r - 1, r + 1):
                if 0 <= other < len(rows) and c < len(rows[other]):
                    near.append(rows[other][c])
            neighbours[key] = near
    return neighbours


LATIN_NEIGHBOURS = key_neighbours(QWERTY)
JAMO_NEIGHBOURS = key_neighbours(DUBEOLSIK)

# Sound confusions of a listener, in both directions.
ASPIRATION = [("ㄱ", "ㅋ"), ("ㄷ", "ㅌ"), ("ㅂ", "ㅍ"), ("ㅈ", "ㅊ")]
TENSENESS = [("ㄱ", "ㄲ"), ("ㅅ", "ㅆ"), ("ㅈ", "ㅉ"), ("ㄷ", "ㄸ"), ("ㅂ", "ㅃ")]
VOWEL_CONFUSIONS = [("ㅓ", "ㅗ"), ("ㅕ", "ㅛ"), ("ㅡ", "ㅜ"), ("ㅐ", "ㅔ"), ("ㅢ", "ㅣ"), ("ㅚ", "ㅙ")]
FINAL_CONFUSIONS = [("ㄴ", "ㅇ"), ("ㅁ", "ㄴ"), ("ㄱ", " ")]
# (confusions, jamo slot: initial 0, vowel 1, final 2, weight)
MISHEARD_SOUNDS = [(ASPIRATION, 0, 0.3), (TENSENESS, 0, 0.1), (VOWEL_CONFUSIONS, 1, 0.4),
                   (FINAL_CONFUSIONS, 2, 0.2)]

# Source habits: share of sources, then the rates of SECOND-GENERATOR.md.
HABITS = {
    "ngo-hangul": 0.28,
    "north-hangul": 0.10,
    "un-transcript": 0.20,
    "press-english": 0.12,
    "passport": 0.08,
    "dprk-official": 0.07,
    "foreign-press": 0.11,
    "chinese-record": 0.04,
}
HANGUL_HABITS = {"ngo-hangul", "north-hangul"}
MISHEARING = {"ngo-hangul": 0.02, "un-transcript": 0.06, "foreign-press": 0.03}
TYPING_SLIP = {
    "ngo-hangul": 0.025, "north-hangul": 0.015, "un-transcript": 0.02, "press-english": 0.01,
    "passport": 0.01, "dprk-official": 0.005, "foreign-press": 0.02,
}
GIVEN_FIRST = {"un-transcript": 0.10, "press-english": 0.05, "passport": 0.5, "foreign-press": 0.4}
# Ways of writing a romanized given name: (hyphen, space, joined) shares.
GIVEN_JOINING = {
    "un-transcript": (0.80, 0.15, 0.05),
    "press-english": (0.90, 0.0, 0.10),
    "passport": (0.30, 0.20, 0.50),
    "dprk-official": (0.05, 0.95, 0.0),
    "foreign-press": (0.40, 0.20, 0.40),
}

RECORDS_PER_PERSON = [(1, 0.53), (2, 0.24), (3, 0.11), (4, 0.06), (5, 0.03), ((6, 10), 0.024),
                      ((11, 25), 0.006)]
PERSON_KINDS = [("civilian", 0.85), ("official", 0.08), ("chinese", 0.045), ("russian", 0.012),
                ("staff", 0.013)]
FAMILY_SIZES = [(1, 0.4), (2, 0.3), (3, 0.2), (4, 0.1)]
RELATIONS = [("sibling", 0.45), ("child", 0.20), ("parent", 0.15), ("spouse", 0.20)]
HOME_PROVINCES = [("north-hamgyong", 0.45), ("ryanggang", 0.15), ("south-hamgyong", 0.10),
                  ("pyongyang", 0.05), (None, 0.25)]


class Weighted:
    """Draws from (value, weight) pairs."""

    def __init__(self, pairs):
        self.values = [v for v, _ in pairs]
        self.cumulative = list(itertools.accumulate(w for _, w in pairs))

    def draw(self, rng):
        return self.values[bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])]


def pick(rng, pairs):
    return Weighted(pairs).draw(rng)


# --- Places ------------------------------------------------------------------------------------


class Places:
    def __init__(self, path):
        self.parent = {}
        children = {}
        with open(path, encoding="utf-8") as f:
            rows = [line.rstrip("\n").split("\t") for line in f if not line.startswith("#")]
        header = rows[0]
        for row in rows[1:]:
            term = dict(zip(header, row))
            self.parent[term["key"]] = term["parent"]
            children.setdefault(term["parent"], []).append(term["key"])
        self.provinces = children["north-korea"]
        # Places a person lives in or is arrested at: anything below a province.
        self.towns = {}
        for province in self.provinces:
            found, queue = [], [province]
            while queue:
                for key in children.get(queue.pop(), []):
                    found.append(key)
                    queue.append(key)
            self.towns[province] = found or [province]
        self.border = self.towns["north-hamgyong"] + self.towns["ryanggang"]
        self.china = [k for k in self.parent if self.ancestor(k) == "china" and k != "china"]

    def ancestor(self, key):
        while self.parent.get(key):
            key = self.parent[key]
        return key

    def province(self, key):
        while self.parent.get(key) and self.parent[key] not in ("north-korea", ""):
            key = self.parent[key]
        return key

    def home(self, rng):
        province = pick(rng, HOME_PROVINCES) or rng.choice(self.provinces)
        return rng.choice(self.towns[province])

    def arrest(self, rng):
        if rng.random() < 0.2:
            return rng.choice(self.china) if rng.random() < 0.9 else "vladivostok"
        return rng.choice(self.border) if rng.random() < 0.7 else self.home(rng)

    def noisy(self, rng, place):
        """A place as one source gives it, or "" (rates of the home-town row)."""
        r = rng.random()
        if r < 0.35 / 0.5:
            return place
        if r < 0.45 / 0.5:
            return self.province(place)
        if r < 0.49 / 0.5:
            country = self.ancestor(place)
            if country == "north-korea":
                return rng.choice(self.towns[self.province(place)])
            return rng.choice(self.china)
        return self.home(rng)


# --- Persons -----------------------------------------------------------------------------------


class Person:
    __slots__ = ("entity", "kind", "sex", "birth", "origin", "arrest", "surname", "given",
                 "western", "foreign", "records", "homonym")

    def __init__(self, entity, kind, sex, birth):
        self.entity, self.kind, self.sex, self.birth = entity, kind, sex, birth
        self.origin = self.arrest = self.western = self.foreign = None
        self.surname, self.given = "", []
        self.records, self.homonym = 0, ""

    def korean(self):
        return self.kind in ("civilian", "official")

    def identity(self):
        """What homonyms share: the name read the Southern way, and the birth year."""
        if self.korean():
            south = "".join(southern(s) for s in self.surname[:1]) + self.surname[1:]
            given = [southern(self.given[0])] + self.given[1:]
            return (south + "".join(given), self.birth)
        return (repr(self.foreign), self.birth)

    def hanja(self):
        return SURNAME_HANJA[self.surname][0] + "".join(GIVEN_HANJA[s][0] for s in self.given)

    def pinyin(self):
        """The Mandarin reading of the name's characters, as Chinese papers write it."""
        given = "".join(GIVEN_HANJA[s][1] for s in self.given)
        return f"{SURNAME_HANJA[self.surname][1]} {given.capitalize()}"


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.places = Places(GAZETTEER)
        self.surnames = Weighted([(s, n) for s, _, _, n in SURNAMES])
        self.given = {
            "male": Weighted([(h, m) for h, _, _, m, _ in GIVEN if m]),
            "female": Weighted([(h, f) for h, _, _, _, f in GIVEN if f]),
        }
        self.records_per_person = Weighted(RECORDS_PER_PERSON)
        self.spellings = read_surname_spellings(SURNAME_SPELLINGS)

    def record_count(self):
        n = self.records_per_person.draw(self.rng)
        return self.rng.randint(*n) if isinstance(n, tuple) else n

    def given_name(self, sex, shared=None):
        """A one- or two-syllable given name; `shared` is a generation syllable and its place."""
        rng = self.rng
        if shared is not None:
            syllable, position = shared
            other = self.given[sex].draw(rng)
            while other == syllable:
                other = self.given[sex].draw(rng)
            return [syllable, other] if position == 0 else [other, syllable]
        if rng.random() < 0.08:
            return [self.given[sex].draw(rng)]
        first = self.given[sex].draw(rng)
        second = self.given[sex].draw(rng)
        while second == first:
            second = self.given[sex].draw(rng)
        return [first, second]

    def civilian(self, entity, sex, birth, surname, shared=None):
        person = Person(entity, "civilian", sex, birth)
        person.surname = surname
        person.given = self.given_name(sex, shared)
        if birth > 1960 and self.rng.random() < 0.04:
            person.western = self.rng.choice(WESTERN_GIVEN[sex])
        return person

    def persons(self, count):
        rng = self.rng
        kinds = Weighted(PERSON_KINDS)
        persons, families = [], []
        counts = {kind: 0 for kind, _ in PERSON_KINDS}
        for _ in range(count):
            counts[kinds.draw(rng)] += 1

        def sex():
            return "male" if rng.random() < 0.5 else "female"

        def birth():
            return min(2012, max(1925, round(rng.gauss(1972, 15))))

        while counts["civilian"] > 0:
            size = min(pick(rng, FAMILY_SIZES), counts["civilian"])
            counts["civilian"] -= size
            head_sex, head_birth = sex(), birth()
            head = self.civilian(len(persons), head_sex, head_birth, self.surnames.draw(rng))
            head.origin = self.places.home(rng)
            head.arrest = (rng.randint(max(1995, head_birth), 2024), self.places.arrest(rng))
            family = [head]
            persons.append(head)
            generation = None
            if len(head.given) == 2 and rng.random() < 0.6:
                position = rng.randrange(2)
                generation = (head.given[position], position)
            for _ in range(size - 1):
                relation = pick(rng, RELATIONS)
                member_sex = sex()
                if relation == "sibling":
                    year = head_birth + rng.choice([-1, 1]) * rng.randint(1, 8)
                    member = self.civilian(len(persons), member_sex, year, head.surname, generation)
                elif relation in ("child", "parent"):
                    gap = rng.randint(20, 35)
                    year = head_birth + (gap if relation == "child" else -gap)
                    member = self.civilian(len(persons), member_sex, year, head.surname)
                else:
                    member_sex = "female" if head_sex == "male" else "male"
                    year = head_birth + rng.randint(-5, 5)
                    member = self.civilian(len(persons), member_sex, year, self.surnames.draw(rng))
                member.birth = min(2012, max(1915, member.birth))
                member.origin = head.origin if rng.random() < 0.8 else self.places.home(rng)
                if rng.random() < 0.3:
                    year = max(1995, member.birth, head.arrest[0] + rng.randint(-2, 2))
                    member.arrest = (min(2024, year),
                                     head.arrest[1] if rng.random() < 0.5 else self.places.arrest(rng))
                family.append(member)
                persons.append(member)
            families.append(family)

        civilians = list(persons)
        for person in civilians:
            if rng.random() < 0.025:
                model = rng.choice(civilians)
                if model is not person:
                    person.surname, person.given, person.birth = model.surname, list(model.given), model.birth
                    if rng.random() < 0.7:
                        person.sex = model.sex

        loners = []
        for kind in ("official", "chinese", "russian", "staff"):
            for _ in range(counts[kind]):
                person = self.foreigner(len(persons), kind)
                persons.append(person)
                loners.append(person)
        for person in persons:
            person.records = self.record_count()
        return persons, families, loners

    def foreigner(self, entity, kind):
        rng = self.rng
        if kind == "official":
            person = Person(entity, kind, "male" if rng.random() < 0.9 else "female",
                            rng.randint(1950, 1995))
            person.surname = self.surnames.draw(rng)
            person.given = self.given_name(person.sex)
            person.origin = self.places.home(rng)
            return person
        sex = "male" if rng.random() < (0.75 if kind == "chinese" else 0.6) else "female"
        person = Person(entity, kind, sex, rng.randint(1950, 1995))
        if kind == "chinese":
            person.foreign = (rng.choice(CHINESE_SURNAMES), rng.choice(CHINESE_GIVEN))
            person.origin = rng.choice(self.places.china)
        elif kind == "russian":
            person.foreign = (rng.choice(RUSSIAN_GIVEN[sex]), rng.choice(RUSSIAN_SURNAMES),
                              rng.choice(PATRONYMIC_INITIALS))
            person.origin = "vladivostok"
        else:
            person.foreign = (rng.choice(WESTERN_STAFF_GIVEN), rng.choice(WESTERN_STAFF_SURNAMES),
                              rng.choice("ABCDEHJKLMPRS"))
        return person

    # --- Writing one name ----------------------------------------------------------------------

    def korean_name(self, person, habit):
        rng = self.rng
        surname = list(person.surname)
        given = list(person.given)
        north = habit in ("north-hangul", "dprk-official", "chinese-record") or (
            habit == "un-transcript" and rng.random() < 0.7
        ) or (habit == "foreign-press" and rng.random() < 0.2)
        if not north:
            surname[0] = southern(surname[0])
            given[0] = southern(given[0])
        if rng.random() < MISHEARING.get(habit, 0):
            part = surname if rng.random() < 0.1 else given
            i = rng.randrange(len(part))
            part[i] = mishear(rng, part[i])
        hangul = "".join(surname) + ("" if rng.random() < 0.9 else " ") + "".join(given)
        if habit in HANGUL_HABITS:
            if habit == "north-hangul" and rng.random() < 0.04:
                return [person.hanja()]
            return [slip_hangul(rng, hangul) if rng.random() < TYPING_SLIP[habit] else hangul]
        if habit == "chinese-record":
            return [person.hanja() if rng.random() < 0.7 else person.pinyin()]
        latin = self.romanized(person, habit, surname, given)
        if rng.random() < TYPING_SLIP[habit]:
            latin = slip_latin(rng, latin)
        names = [latin]
        if (habit == "un-transcript" and rng.random() < 0.25) or (
            habit == "press-english" and rng.random() < 0.1
        ):
            names.append(hangul.replace(" ", ""))
        return names

    def romanized(self, person, habit, surname, given):
        rng = self.rng
        system = {"un-transcript": "mr", "dprk-official": "dprk"}.get(habit, "rr")
        parts = []
        previous = None
        for s in given:
            parts.append(romanize_syllable(s, system, previous))
            previous = s
        surname_text = self.surname_spelling("".join(surname), habit, system)
        if habit in ("passport", "foreign-press"):
            parts = passport_habits(parts, rng, habit == "foreign-press")
        if habit == "un-transcript" and rng.random() < 0.75:
            parts = [strip_breves(p) for p in parts]
            surname_text = strip_breves(surname_text)
        hyphen, space, _ = GIVEN_JOINING[habit]
        r = rng.random()
        if r < hyphen:
            capital_after_hyphen = rng.random() < 0.2
            given_text = "-".join(
                p.capitalize() if i == 0 or capital_after_hyphen else p for i, p in enumerate(parts)
            )
        elif r < hyphen + space:
            given_text = " ".join(p.capitalize() for p in parts)
        else:
            given_text = "".join(parts).capitalize()
        if person.western and habit in ("passport", "foreign-press", "un-transcript") and (
            rng.random() < 0.6
        ):
            given_text = person.western + (" " + given_text if rng.random() < 0.25 else "")
            return f"{given_text} {surname_text}"
        capitals = (habit == "un-transcript" and rng.random() < 0.3) or (
            habit == "passport" and rng.random() < 0.4
        )
        if capitals:
            surname_text = surname_text.upper()
            if habit == "passport":
                given_text = given_text.upper()
        if rng.random() < GIVEN_FIRST.get(habit, 0):
            return f"{given_text} {surname_text}"
        return f"{surname_text} {given_text}"

    def surname_spelling(self, surname, habit, system):
        rng = self.rng
        known = self.spellings.get(surname)
        if known:
            if habit in ("passport", "foreign-press") or (habit == "press-english" and rng.random() < 0.7):
                variants = known["variants"]
                return variants[0] if rng.random() < 0.75 else rng.choice(variants[1:] or variants)
            return known[system]
        text, previous = "", None
        for s in surname:
            text += romanize_syllable(s, system, previous)
            previous = s
        return text.capitalize()

    def foreign_name(self, person, habit):
        rng = self.rng
        hangul = habit in HANGUL_HABITS
        if person.kind == "chinese":
            (s_han, s_pin, s_ko, s_tr), (g_han, g_pin, g_ko, g_tr) = person.foreign
            if habit == "chinese-record":
                return s_han + g_han
            if hangul:
                return s_ko + g_ko if rng.random() < 0.6 else s_tr + g_tr
            r = rng.random()
            if r < 0.15:
                return s_pin
            if r < 0.85:
                return f"{s_pin} {g_pin}"
            return f"{g_pin} {s_pin}"
        if person.kind == "russian":
            (g_cyr, g_lat, g_ko), (s_cyr, s_lat, s_ko), patronymic = person.foreign
            female = person.sex == "female"
            if rng.random() < 0.3:
                return f"{g_cyr} {s_cyr}{'а' if female else ''}"
            if hangul:
                return f"{g_ko} {s_ko[:-1] + '바' if female else s_ko}"
            given = rng.choice(g_lat)
            surname = rng.choice(s_lat)
            if female:
                surname = surname.removesuffix("ff") + ("a" if not surname.endswith("ff") else "va")
            if rng.random() < 0.2:
                given += f" {patronymic}."
            return f"{surname} {given}" if rng.random() < 0.15 else f"{given} {surname}"
        (given, given_ko), (surnames, surname_ko), middle = person.foreign
        if hangul:
            return f"{given_ko} {surname_ko}"
        surname = rng.choice(surnames)
        if rng.random() < 0.15:
            given += f" {middle}."
        if habit == "un-transcript" and rng.random() < 0.2:
            return f"{surname.upper()} {given}"
        return f"{given} {surname}"

    def names(self, person, habit):
        if person.korean():
            return self.korean_name(person, habit)
        name = self.foreign_name(person, habit)
        if self.rng.random() < TYPING_SLIP.get(habit, 0):
            slip = slip_hangul if habit in HANGUL_HABITS else slip_latin
            name = slip(self.rng, name)
        return [name]

    # --- Other fields --------------------------------------------------------------------------

    def birth(self, person):
        rng = self.rng
        r = rng.random()
        if r < 0.38:
            return None
        if r < 0.78:
            return (person.birth, person.birth)
        if r < 0.88:
            year = person.birth + rng.choice([-1, 1])
            return (year, year)
        if r < 0.90:
            year = person.birth + rng.choice([-2, 2])
            return (year, year)
        if r < 0.96:
            return (person.birth - 1, person.birth) if rng.random() < 0.5 else (person.birth, person.birth + 1)
        decade = person.birth // 10 * 10
        return (decade, decade + 9)

    def record(self, person, habit):
        rng = self.rng
        row = {"names": " | ".join(self.names(person, habit)), "sex": "", "birth_from": "",
               "birth_to": "", "origin": "", "taken_from": "", "taken_to": "", "taken_place": ""}
        if rng.random() < 0.10:
            return row
        if rng.random() < (0.85 if person.kind == "civilian" else 0.7):
            wrong = rng.random() < 0.005
            row["sex"] = {"male": "female", "female": "male"}[person.sex] if wrong else person.sex
        birth = self.birth(person)
        if birth:
            row["birth_from"], row["birth_to"] = birth
        if person.origin and rng.random() < (0.5 if person.kind == "civilian" else 0.15):
            row["origin"] = self.places.noisy(rng, person.origin)
        if person.arrest:
            year, place = person.arrest
            if rng.random() < 0.55:
                r = rng.random()
                if r < 0.15:
                    year += rng.choice([-1, 1])
                low, high = (year, year + 1) if 0.15 <= r < 0.25 else (year, year)
                row["taken_from"], row["taken_to"] = low, high
            if rng.random() < 0.45:
                row["taken_place"] = self.places.noisy(rng, place)
        return row


def mishear(rng, syllable):
    """The syllable with one sound confused, by the category weights of the specification."""
    parts = list(decompose(syllable))
    options = []
    for pairs, slot, weight in MISHEARD_SOUNDS:
        heard = [y for a, b in pairs for x, y in ((a, b), (b, a)) if parts[slot] == x]
        if heard:
            options.append(((slot, heard), weight))
    if not options:
        return syllable
    slot, heard = pick(rng, options)
    parts[slot] = rng.choice(heard)
    return compose(*parts)


def slip_latin(rng, text):
    positions = [i for i, c in enumerate(text) if c.isalpha()]
    if not positions:
        return text
    i = rng.choice(positions)
    kind = rng.randrange(4)
    c = text[i]
    if kind == 0 and c.lower() in LATIN_NEIGHBOURS:
        near = rng.choice(LATIN_NEIGHBOURS[c.lower()])
        return text[:i] + (near.upper() if c.isupper() else near) + text[i + 1:]
    if kind == 1 and len(positions) > 3:
        return text[:i] + text[i + 1:]
    if kind == 2 and i + 1 < len(text) and text[i + 1].isalpha():
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text[:i] + c + text[i:]


def slip_hangul(rng, text):
    positions = [i for i, c in enumerate(text) if "가" <= c <= "힣"]
    if not positions:
        return text
    i = rng.choice(positions)
    initial, vowel, final = decompose(text[i])
    if final != " " and rng.random() < 0.25:
        final = " "
    elif rng.random() < 0.5:
        near = [j for j in JAMO_NEIGHBOURS.get(initial, []) if j in INITIALS]
        initial = rng.choice(near) if near else initial
    else:
        near = [v for v in JAMO_NEIGHBOURS.get(vowel, []) if v in VOWELS]
        vowel = rng.choice(near) if near else vowel
    return text[:i] + compose(initial, vowel, final) + text[i + 1:]


def read_surname_spellings(path):
    """Per Hangul surname (both forms): its Revised, McCune-Reischauer and DPRK spellings and the
    variants seen in the wild, conventional spelling first."""
    spellings = {}
    with open(path, encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f if not line.startswith("#")]
    for hangul, rr, mr, dprk, variants in rows[1:]:
        forms = hangul.split(",")
        for i, form in enumerate(forms):
            def nth(column):
                values = column.split(",")
                return values[min(i, len(values) - 1)]
            spellings[form] = {"rr": nth(rr), "mr": nth(mr), "dprk": dprk,
                               "variants": variants.split(",")}
    return spellings


def generate(persons_wanted, seed):
    gen = Generator(seed)
    rng = gen.rng
    persons, families, loners = gen.persons(persons_wanted)
    habits = Weighted(list(HABITS.items()))
    sources = []  # (habit, members)
    for family in families:
        first = len(sources)
        for _ in range(max(p.records for p in family)):
            sources.append((habits.draw(rng), []))
        for person in family:
            for k in rng.sample(range(first, len(sources)), person.records):
                sources[k][1].append(person)
    for person in loners:
        for k in rng.sample(range(len(sources)), min(person.records, len(sources))):
            sources[k][1].append(person)
    identities = {}
    for person in persons:
        identities.setdefault(person.identity(), []).append(person)
    for n, group in enumerate(g for g in identities.values() if len(g) > 1):
        for person in group:
            person.homonym = f"h{n}"
    rows = []
    for s, (habit, members) in enumerate(sources):
        for person in members:
            row = gen.record(person, habit)
            row["sources"] = f"s{s}"
            rows.append((row, person))
    rng.shuffle(rows)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, required=True, help="hidden persons")
    parser.add_argument("--seed", type=int, required=True, help="1-9 tuning, 101-109 scoring")
    parser.add_argument("--out", required=True, help="writes OUT.csv and OUT.truth.tsv")
    args = parser.parse_args()
    rows = generate(args.persons, args.seed)
    columns = ["id", "names", "sex", "birth_from", "birth_to", "origin", "taken_from", "taken_to",
               "taken_place", "sources"]
    with open(args.out + ".csv", "w", newline="", encoding="utf-8") as data, open(
        args.out + ".truth.tsv", "w", encoding="utf-8"
    ) as truth:
        writer = csv.DictWriter(data, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        truth.write("record\tentity\thomonym_group\n")
        for n, (row, person) in enumerate(rows):
            row["id"] = f"r{n}"
            writer.writerow(row)
            truth.write(f"r{n}\tp{person.entity}\t{person.homonym}\n")


if __name__ == "__main__":
    main()
