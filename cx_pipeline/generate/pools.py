"""Value pools (names, companies, postcodes, partners, comments), built once per run.

Faker is only used here, a few thousand calls at most; rows are later sampled from these arrays
with numpy, which is what keeps a million-person run fast.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from faker import Faker
from faker.providers.person.ja_JP import Provider as JaPerson

FAKER_LOCALES = {"JP": "ja_JP", "US": "en_US", "GB": "en_GB", "DE": "de_DE"}
COMPANY_POOL_SIZE = 1500
POSTCODE_POOL_SIZE = 2000

# Faker's ja_JP lists are short (50 family names); these common names widen the pool.
# (kanji, katakana reading, romaji)
_EXTRA_JA_FAMILY = [
    ("小松", "コマツ", "Komatsu"),
    ("中野", "ナカノ", "Nakano"),
    ("原田", "ハラダ", "Harada"),
    ("小野", "オノ", "Ono"),
    ("田村", "タムラ", "Tamura"),
    ("竹内", "タケウチ", "Takeuchi"),
    ("金子", "カネコ", "Kaneko"),
    ("和田", "ワダ", "Wada"),
    ("中山", "ナカヤマ", "Nakayama"),
    ("石田", "イシダ", "Ishida"),
    ("上田", "ウエダ", "Ueda"),
    ("森田", "モリタ", "Morita"),
    ("原", "ハラ", "Hara"),
    ("柴田", "シバタ", "Shibata"),
    ("酒井", "サカイ", "Sakai"),
    ("工藤", "クドウ", "Kudo"),
    ("横山", "ヨコヤマ", "Yokoyama"),
    ("宮崎", "ミヤザキ", "Miyazaki"),
    ("宮本", "ミヤモト", "Miyamoto"),
    ("内田", "ウチダ", "Uchida"),
    ("高木", "タカギ", "Takagi"),
    ("安藤", "アンドウ", "Ando"),
    ("谷口", "タニグチ", "Taniguchi"),
    ("大野", "オオノ", "Ono"),
    ("丸山", "マルヤマ", "Maruyama"),
    ("今井", "イマイ", "Imai"),
    ("高田", "タカダ", "Takada"),
    ("藤本", "フジモト", "Fujimoto"),
    ("武田", "タケダ", "Takeda"),
    ("村田", "ムラタ", "Murata"),
    ("上野", "ウエノ", "Ueno"),
    ("杉山", "スギヤマ", "Sugiyama"),
    ("増田", "マスダ", "Masuda"),
    ("平野", "ヒラノ", "Hirano"),
    ("大塚", "オオツカ", "Otsuka"),
    ("千葉", "チバ", "Chiba"),
    ("久保", "クボ", "Kubo"),
    ("松井", "マツイ", "Matsui"),
    ("小島", "コジマ", "Kojima"),
    ("岩崎", "イワサキ", "Iwasaki"),
    ("桜井", "サクライ", "Sakurai"),
    ("野口", "ノグチ", "Noguchi"),
    ("松尾", "マツオ", "Matsuo"),
    ("野村", "ノムラ", "Nomura"),
    ("木下", "キノシタ", "Kinoshita"),
    ("菊地", "キクチ", "Kikuchi"),
    ("佐野", "サノ", "Sano"),
    ("大西", "オオニシ", "Onishi"),
    ("杉本", "スギモト", "Sugimoto"),
    ("新井", "アライ", "Arai"),
    ("浜田", "ハマダ", "Hamada"),
    ("高野", "タカノ", "Takano"),
    ("吉川", "ヨシカワ", "Yoshikawa"),
    ("広瀬", "ヒロセ", "Hirose"),
    ("沢田", "サワダ", "Sawada"),
    ("島田", "シマダ", "Shimada"),
    ("辻", "ツジ", "Tsuji"),
    ("渡部", "ワタナベ", "Watanabe"),
    ("高山", "タカヤマ", "Takayama"),
    ("長野", "ナガノ", "Nagano"),
]
_EXTRA_JA_GIVEN = [
    ("大輔", "ダイスケ", "Daisuke"),
    ("健太", "ケンタ", "Kenta"),
    ("誠", "マコト", "Makoto"),
    ("哲也", "テツヤ", "Tetsuya"),
    ("剛", "ツヨシ", "Tsuyoshi"),
    ("隆", "タカシ", "Takashi"),
    ("大樹", "ダイキ", "Daiki"),
    ("蓮", "レン", "Ren"),
    ("悠斗", "ユウト", "Yuto"),
    ("陽翔", "ハルト", "Haruto"),
    ("湊", "ミナト", "Minato"),
    ("拓也", "タクヤ", "Takuya"),
    ("雄一", "ユウイチ", "Yuichi"),
    ("慎也", "シンヤ", "Shinya"),
    ("浩二", "コウジ", "Koji"),
    ("俊介", "シュンスケ", "Shunsuke"),
    ("亮", "リョウ", "Ryo"),
    ("達也", "タツヤ", "Tatsuya"),
    ("正樹", "マサキ", "Masaki"),
    ("恵", "メグミ", "Megumi"),
    ("美咲", "ミサキ", "Misaki"),
    ("由美", "ユミ", "Yumi"),
    ("愛", "アイ", "Ai"),
    ("真由美", "マユミ", "Mayumi"),
    ("智子", "トモコ", "Tomoko"),
    ("陽菜", "ヒナ", "Hina"),
    ("さくら", "サクラ", "Sakura"),
    ("葵", "アオイ", "Aoi"),
    ("彩", "アヤ", "Aya"),
    ("麻衣", "マイ", "Mai"),
    ("奈々", "ナナ", "Nana"),
    ("千尋", "チヒロ", "Chihiro"),
    ("優子", "ユウコ", "Yuko"),
    ("理恵", "リエ", "Rie"),
    ("沙織", "サオリ", "Saori"),
    ("美穂", "ミホ", "Miho"),
    ("綾香", "アヤカ", "Ayaka"),
    ("真理", "マリ", "Mari"),
]
# first part of Japanese company names: place and brand words (kanji/katakana, romaji for domains)
_JA_COMPANY_WORDS = [
    ("東京", "tokyo"),
    ("大阪", "osaka"),
    ("名古屋", "nagoya"),
    ("横浜", "yokohama"),
    ("京都", "kyoto"),
    ("神戸", "kobe"),
    ("札幌", "sapporo"),
    ("福岡", "fukuoka"),
    ("仙台", "sendai"),
    ("広島", "hiroshima"),
    ("日本", "nihon"),
    ("東洋", "toyo"),
    ("関西", "kansai"),
    ("北海道", "hokkaido"),
    ("九州", "kyushu"),
    ("中部", "chubu"),
    ("大和", "yamato"),
    ("富士", "fuji"),
    ("三和", "sanwa"),
    ("平和", "heiwa"),
    ("アクア", "aqua"),
    ("ネクスト", "next"),
    ("グローバル", "global"),
    ("サン", "sun"),
    ("エコ", "eco"),
    ("スマート", "smart"),
    ("ブルー", "blue"),
    ("ミライ", "mirai"),
]
_JA_COMPANY_CATEGORIES = [
    ("水産", "suisan"),
    ("農林", "norin"),
    ("鉱業", "kogyo"),
    ("建設", "kensetsu"),
    ("食品", "shokuhin"),
    ("印刷", "insatsu"),
    ("電気", "denki"),
    ("ガス", "gas"),
    ("情報", "joho"),
    ("通信", "tsushin"),
    ("運輸", "unyu"),
    ("保険", "hoken"),
    ("商事", "shoji"),
    ("工業", "kogyo"),
    ("製作所", "seisakusho"),
    ("物産", "bussan"),
    ("システム", "system"),
    ("ソリューションズ", "solutions"),
    ("テクノロジー", "tech"),
    ("精機", "seiki"),
    ("化学", "kagaku"),
    ("製薬", "seiyaku"),
    ("不動産", "fudosan"),
    ("商会", "shokai"),
    ("電機", "denki"),
    ("物流", "butsuryu"),
    ("ホールディングス", "hd"),
    ("コンサルティング", "consulting"),
]
JA_LEGAL_FORMS = np.array(["株式会社", "有限会社", "合同会社"])
JA_LEGAL_FORM_SHARES = np.array([0.8, 0.12, 0.08])

_PARTNER_SUFFIXES_JA = [
    "システムズ株式会社",
    "ソリューションズ株式会社",
    "テクノロジーズ株式会社",
    "コンサルティング株式会社",
]
_PARTNER_SUFFIXES_EN = [" Consulting", " Partners", " Digital", " Integration"]

# NPS comments by language and score band (detractor 0-6, passive 7-8, promoter 9-10)
COMMENTS = {
    ("ja", "promoter"): [
        "使いやすく、チーム全体で活用しています。",
        "サポートの対応が迅速で助かりました。",
        "導入してから業務効率が大きく改善しました。",
        "他部署にも勧めたいと思います。",
    ],
    ("ja", "passive"): [
        "概ね満足ですが、価格がやや高いと感じます。",
        "機能は十分ですが、設定が少し分かりにくいです。",
        "モバイルアプリの改善を期待しています。",
    ],
    ("ja", "detractor"): [
        "動作が遅く、ストレスを感じます。",
        "問い合わせへの回答に時間がかかりました。",
        "解約を検討しています。",
        "必要な機能が足りません。",
    ],
    ("en", "promoter"): [
        "Great product, the whole team uses it daily.",
        "Support was fast and helpful.",
        "Saved us hours every week.",
        "Would recommend to other teams.",
    ],
    ("en", "passive"): [
        "Good overall, but pricing is a bit high.",
        "Does the job; setup could be simpler.",
        "Mobile app needs work.",
    ],
    ("en", "detractor"): [
        "Too slow and buggy.",
        "Took days to get an answer from support.",
        "We are considering cancelling.",
        "Missing features we need.",
    ],
}

_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
_LEGAL_SUFFIX = re.compile(
    r"\b(inc|llc|ltd|plc|group|gmbh|ag|kg|kgaa|ohg|gbr|co|and|und|sons|mbh|e\.?v|ug)\b\.?", re.IGNORECASE
)


def ascii_fold(text: str) -> str:
    """'Müller' -> 'Mueller', 'José' -> 'Jose' (for e-mail local parts and logins)."""
    folded = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    return "".join(ch for ch in folded if ch.isascii())


def _slug(company: str, max_words: int = 2) -> str:
    words = re.findall(r"[a-z]+", _LEGAL_SUFFIX.sub(" ", ascii_fold(company).lower()))
    return "-".join(words[:max_words]) or "company"


def _names_and_weights(values) -> tuple[list[str], np.ndarray]:
    """Faker name lists are either tuples or {name: weight} dicts."""
    if isinstance(values, dict):
        names = list(values)
        return names, np.array([float(values[k]) for k in names])
    names = list(dict.fromkeys(values))
    return names, np.ones(len(names))


@dataclass(frozen=True)
class NamePool:
    family: np.ndarray  # native script (kanji for Japanese)
    family_kana: np.ndarray | None
    family_latin: np.ndarray  # romaji or ASCII-folded
    family_weight: np.ndarray
    given: np.ndarray
    given_kana: np.ndarray | None
    given_latin: np.ndarray


@dataclass(frozen=True)
class CompanyPool:
    names: np.ndarray
    slugs: np.ndarray  # ASCII base for the e-mail domain


@dataclass(frozen=True)
class Pools:
    names: dict[str, NamePool]  # by country
    companies: dict[str, CompanyPool]  # western countries; Japanese names are composed in population
    ja_company_words: tuple[np.ndarray, np.ndarray]  # (kanji/kana, romaji), family names added
    ja_company_categories: tuple[np.ndarray, np.ndarray]
    postcodes: dict[str, np.ndarray]
    partners: np.ndarray
    comments: dict[tuple[str, str], np.ndarray]


def _japanese_names() -> NamePool:
    family = [(*k, float(w)) for k, w in JaPerson.last_name_pairs.items()]
    known = {f[0] for f in family}
    # extra names weighted like the tail of Faker's list
    tail_weight = min(f[3] for f in family)
    family += [(*f, tail_weight) for f in _EXTRA_JA_FAMILY if f[0] not in known]
    given = list(dict.fromkeys([*JaPerson.first_name_male_pairs, *JaPerson.first_name_female_pairs, *_EXTRA_JA_GIVEN]))
    return NamePool(
        family=np.array([f[0] for f in family]),
        family_kana=np.array([f[1] for f in family]),
        family_latin=np.array([f[2] for f in family]),
        family_weight=np.array([f[3] for f in family]),
        given=np.array([g[0] for g in given]),
        given_kana=np.array([g[1] for g in given]),
        given_latin=np.array([g[2] for g in given]),
    )


def _western_names(locale: str) -> NamePool:
    provider = Faker(locale).factories[0].provider("faker.providers.person")
    family, weight = _names_and_weights(provider.last_names)
    male, _ = _names_and_weights(provider.first_names_male)
    female, _ = _names_and_weights(provider.first_names_female)
    given = list(dict.fromkeys(male + female))
    return NamePool(
        family=np.array(family),
        family_kana=None,
        family_latin=np.array([ascii_fold(n) for n in family]),
        family_weight=weight,
        given=np.array(given),
        given_kana=None,
        given_latin=np.array([ascii_fold(n) for n in given]),
    )


def build_pools(seed: int) -> Pools:
    fakers = {}
    for i, (country, locale) in enumerate(FAKER_LOCALES.items()):
        fake = Faker(locale)
        fake.seed_instance(seed * 100 + i)
        fakers[country] = fake

    names = {"JP": _japanese_names()}
    companies: dict[str, CompanyPool] = {}
    for country in ("US", "GB", "DE"):
        names[country] = _western_names(FAKER_LOCALES[country])
        raw = sorted({fakers[country].company() for _ in range(COMPANY_POOL_SIZE)})
        companies[country] = CompanyPool(names=np.array(raw), slugs=np.array([_slug(c) for c in raw]))

    postcodes = {c: np.array(sorted({f.postcode() for _ in range(POSTCODE_POOL_SIZE)})) for c, f in fakers.items()}

    jp = names["JP"]
    word_text = np.concatenate([np.array([w[0] for w in _JA_COMPANY_WORDS]), jp.family])
    word_latin = np.concatenate(
        [np.array([w[1] for w in _JA_COMPANY_WORDS]), np.char.lower(jp.family_latin.astype(str))]
    )
    partners = [w[0] + s for w, s in zip(_JA_COMPANY_WORDS[:12], _PARTNER_SUFFIXES_JA * 3, strict=True)]
    partners += [
        companies[c].slugs[(i * 311) % len(companies[c].slugs)].split("-")[0].title() + s
        for c in ("US", "GB", "DE")
        for i, s in enumerate(_PARTNER_SUFFIXES_EN)
    ]
    return Pools(
        names=names,
        companies=companies,
        ja_company_words=(word_text, word_latin),
        ja_company_categories=(
            np.array([c[0] for c in _JA_COMPANY_CATEGORIES]),
            np.array([c[1] for c in _JA_COMPANY_CATEGORIES]),
        ),
        postcodes=postcodes,
        partners=np.array(partners),
        comments={k: np.array(v) for k, v in COMMENTS.items()},
    )
