"""Tests for extractor.normalise.countries: state names as written -> ISO 3166-1 alpha-3."""

# Literal Cyrillic and Chinese names are the point of these tests, so the
# confusable-character rules are off for this file.

from __future__ import annotations

import json
from importlib.resources import files

import pycountry
import pytest

from extractor.normalise.countries import (
    _Mentions,
    country_code,
    country_mentions,
    country_name,
    demonym_code,
)


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("the Republic of the Union of Myanmar", "MMR"),
        ("Republic of the Union of Myanmar", "MMR"),
        ("Myanmar", "MMR"),
        ("Burma", "MMR"),
        ("Kingdom of Cambodia", "KHM"),
        ("the Kingdom of Cambodia", "KHM"),
        ("Cambodia", "KHM"),
        ("the People’s Republic of China", "CHN"),
        ("People's Republic of China", "CHN"),
        ("PRC", "CHN"),
        ("China", "CHN"),
        ("Russia", "RUS"),
        ("Russian Federation", "RUS"),
        ("Republic of Korea", "KOR"),
        ("South Korea", "KOR"),
        ("North Korea", "PRK"),
        ("Laos", "LAO"),
        ("Vietnam", "VNM"),
        ("Turkey", "TUR"),
        ("Türkiye", "TUR"),
        ("UK", "GBR"),
        ("Britain", "GBR"),
        ("USA", "USA"),
        ("US", "USA"),
        ("U.S.", "USA"),
        ("the United States", "USA"),
        ("Brunei", "BRN"),
        ("Palestine", "PSE"),
        ("Taiwan", "TWN"),
        ("Cote d'Ivoire", "CIV"),
        ("the Democratic Republic of the Congo", "COD"),
        ("The Gambia", "GMB"),
    ],
)
def test_english_names_resolve(written: str, code: str) -> None:
    """Common, official, former and short English names give the ISO code."""
    assert country_code(written) == code


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Россия", "RUS"),
        ("Китай", "CHN"),
        ("Индия", "IND"),
        ("Казахстан", "KAZ"),
        ("Мьянма", "MMR"),
        ("Камбоджа", "KHM"),
        ("Российская Федерация", "RUS"),
        ("中国", "CHN"),
        ("俄罗斯", "RUS"),
        ("印度", "IND"),
        ("哈萨克斯坦", "KAZ"),
        ("缅甸", "MMR"),
        ("柬埔寨", "KHM"),
        ("乌兹别克斯坦", "UZB"),
    ],
)
def test_russian_and_chinese_names_resolve(written: str, code: str) -> None:
    """Russian and Chinese names of SCO, ASEAN and BRICS states give the ISO code."""
    assert country_code(written) == code


def test_yo_and_ye_spellings_meet() -> None:
    """Russian names match whether written with "ё" or "е"."""
    assert country_code("Объединенные Арабские Эмираты") == "ARE"


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Myanmar’s", "MMR"),
        ("Cambodia's", "KHM"),
        ("the Philippines'", "PHL"),
        ("  the   Kingdom  of Cambodia. ", "KHM"),
        ("“Burma”", "MMR"),
    ],
)
def test_possessives_spacing_and_punctuation_are_tolerated(written: str, code: str) -> None:
    """Possessives, stray whitespace, quotes and trailing punctuation do not hide the state."""
    assert country_code(written) == code


@pytest.mark.parametrize(
    "written",
    [
        "Embassy of Cambodia in Beijing",
        "the Embassy of the Republic of the Union of Myanmar to the PRC",
        "ASEAN",
        "SCO",
        "AU",
        "Cambodian",
        "Chinese",
        "Korea",
        "Kosovo",
        "Soviet Union",
        "us",
        "in",
        "",
        "   ",
        None,
    ],
)
def test_non_states_and_unknowns_give_none(written: str | None) -> None:
    """Phrases around a state, organisations, adjectives, ambiguous and unknown names give None."""
    assert country_code(written) is None


def test_non_string_input_gives_none() -> None:
    """A value of the wrong type gives None instead of raising."""
    assert country_code(42) is None  # type: ignore[arg-type]


def test_every_alias_resolves_to_its_code() -> None:
    """Every name in the alias file resolves to the code it is listed under."""
    raw = json.loads((files("extractor") / "data" / "country_aliases.json").read_text("utf-8"))
    assert raw["_note"]
    wrong = {
        name: (code, country_code(name))
        for code, names in raw["aliases"].items()
        for name in names
        if country_code(name) != code
    }
    assert wrong == {}


def test_names_round_trip_for_every_iso_state() -> None:
    """The name country_name gives for any ISO code resolves back to that code."""
    wrong = [
        c.alpha_3 for c in pycountry.countries if country_code(country_name(c.alpha_3)) != c.alpha_3
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("MMR", "Myanmar"),
        ("khm", "Cambodia"),
        ("KOR", "South Korea"),
        ("IRN", "Iran"),
        ("GB", "United Kingdom"),
        ("XKX", None),
        ("", None),
        ("Myanmar", None),
        (None, None),
    ],
)
def test_country_name(code: str | None, name: str | None) -> None:
    """Codes give a readable English name, preferring the common one; unknown codes give None."""
    assert country_name(code) == name


def _aliases_file() -> dict:
    """The alias file's content, as shipped in the package."""
    return json.loads((files("extractor") / "data" / "country_aliases.json").read_text("utf-8"))


def _named(text: str) -> dict[str, list[str]]:
    """country_mentions with each span shown as the text it covers."""
    return {code: [text[s:e] for s, e in spans] for code, spans in country_mentions(text).items()}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Russian President Vladimir Putin arrived.", {"RUS": [(0, 7)]}),
        ("He thanked the Russian side.", {"RUS": [(15, 22)]}),
        ("Talks with Kazakh and Uzbek officials", {"KAZ": [(11, 17)], "UZB": [(22, 27)]}),
        ("A South Korean delegation", {"KOR": [(2, 14)]}),
        ("Sino-Russian ties", {"CHN": [(0, 4)], "RUS": [(5, 12)]}),
        ("the Kyrgyz and Tajik sides", {"KGZ": [(4, 10)], "TJK": [(15, 20)]}),
    ],
)
def test_demonyms_are_mentions_with_exact_spans(
    text: str, expected: dict[str, list[tuple[int, int]]]
) -> None:
    """Demonyms in running text refer to their state, with the offsets of the demonym."""
    assert country_mentions(text) == expected


def test_names_outrank_the_demonyms_inside_them() -> None:
    """A name that contains a demonym gives the name's state, over the whole name."""
    assert _named("the Russian Federation and Chinese Taipei") == {
        "RUS": ["Russian Federation"],
        "TWN": ["Chinese Taipei"],
    }


@pytest.mark.parametrize("word", ["Russian", "Cambodian", "Chinese", "American", "российский"])
def test_country_code_still_ignores_demonyms(word: str) -> None:
    """country_code gives None for a demonym: only country_mentions reads them."""
    assert country_code(word) is None


def test_no_demonym_is_a_name() -> None:
    """Every demonym and stem in the alias file gives None from country_code."""
    raw = _aliases_file()
    named = [f for forms in raw["demonyms"].values() for f in forms if country_code(f) is not None]
    assert named == []


@pytest.mark.parametrize(
    ("word", "code"),
    [
        ("Cambodian", "KHM"),
        ("cambodian", "KHM"),
        ("South Korean", "KOR"),
        ("Kazakhstani", "KAZ"),
        ("Türkiye", None),
        ("российской", "RUS"),
        ("Узбекистанская", "UZB"),
        ("киргизский", "KGZ"),
        ("Russia", None),
        ("Korean", None),
        ("", None),
    ],
)
def test_demonym_code(word: str, code: str | None) -> None:
    """demonym_code gives the state of an adjective or demonym, and None for names and unknowns."""
    assert demonym_code(word) == code


def test_every_demonym_is_found_in_running_text() -> None:
    """Every demonym in the alias file, written in a sentence, is a mention of its state."""
    raw = _aliases_file()
    missed = {}
    for code, forms in raw["demonyms"].items():
        for form in forms:
            word = form.replace("*", "ий") if form.endswith("*") else form
            text = f"Talks with the {word} side."
            if country_mentions(text) != {code: [(15, 15 + len(word))]}:
                missed[form] = _named(text)
    assert missed == {}


def test_every_alias_is_found_in_running_text() -> None:
    """Every alias in the alias file, written in a sentence, is a mention of its state."""
    raw = _aliases_file()
    missed = {}
    for code, names in raw["aliases"].items():
        for name in names:
            text = f"Talks with {name} began." if name[0].isascii() else f"Переговоры с {name}."
            if code not in country_mentions(text):
                missed[name] = _named(text)
    assert missed == {}


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Казахстана", "KAZ"),
        ("Казахстаном", "KAZ"),
        ("Казахстане", "KAZ"),
        ("России", "RUS"),
        ("Россией", "RUS"),
        ("Россию", "RUS"),
        ("Индии", "IND"),
        ("Китаем", "CHN"),
        ("Китая", "CHN"),
        ("Монголии", "MNG"),
        ("Кыргызстану", "KGZ"),
        ("Таджикистана", "TJK"),
        ("Беларуси", "BLR"),
        ("Беларусью", "BLR"),
        ("Ирана", "IRN"),
        ("Мьянмы", "MMR"),
        ("Камбоджи", "KHM"),
        ("Шри-Ланки", "LKA"),
        ("Мальдивах", "MDV"),
        ("Республики Казахстан", "KAZ"),
        ("Российской Федерации", "RUS"),
        ("Китайской Народной Республикой", "CHN"),
        ("Соединённых Штатов Америки", "USA"),
        ("Объединённых Арабских Эмиратов", "ARE"),
        ("Лаосской Народно-Демократической Республики", "LAO"),
        ("Королевства Камбоджа", "KHM"),
    ],
)
def test_russian_case_forms_are_mentions(written: str, code: str) -> None:
    """A Russian name in any case is a mention of its state, over the whole name."""
    text = f"Переговоры: {written}, 2024."
    assert country_mentions(text) == {code: [(12, 12 + len(written))]}


def test_russian_case_forms_are_not_names_for_country_code() -> None:
    """country_code stays an exact lookup: inflected Russian names give None."""
    assert country_code("Казахстана") is None
    assert country_code("Республики Казахстан") is None


@pytest.mark.parametrize(
    "text",
    [
        "Индиана и Иранец",  # inflections that reach no name in the table
        "у кита и кубы",  # inflected ordinary words, in lower case
        "Республики Сербия",  # a name the table does not have
    ],
)
def test_russian_endings_reach_only_exact_names(text: str) -> None:
    """Replacing a Russian case ending finds a state only when the result is exactly a name."""
    assert country_mentions(text) == {}


def test_russian_adjectives_and_hyphenated_compounds() -> None:
    """Russian adjective stems refer to their state, each part of a compound on its own."""
    assert _named("российско-китайских переговоров; казахстанская сторона") == {
        "RUS": ["российско"],
        "CHN": ["китайских"],
        "KAZ": ["казахстанская"],
    }


def test_chinese_text_is_searched_by_substrings() -> None:
    """Chinese names are found inside runs of characters; the longest name wins."""
    assert _named("中国和俄罗斯同印度尼西亚会谈") == {
        "CHN": ["中国"],
        "RUS": ["俄罗斯"],
        "IDN": ["印度尼西亚"],
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a turkey and polish on china", {}),
        ("Turkey and Polish officials", {"TUR": ["Turkey"], "POL": ["Polish"]}),
        ("American and Indian diplomats", {"USA": ["American"], "IND": ["Indian"]}),
        ("in the Indian Ocean, Latin American states and New Mexico", {}),
        ("Inner Mongolia; 内蒙古; в Индийском океане", {}),
        ("AI on TV at 10 AM; IT staff", {}),
        ("XI MEETS PUTIN IN ASTANA", {}),
        ("Chad and Niger", {"TCD": ["Chad"], "NER": ["Niger"]}),
        ("the US and MMR", {"USA": ["US"], "MMR": ["MMR"]}),
    ],
)
def test_ordinary_words_are_not_mentions(text: str, expected: dict[str, list[str]]) -> None:
    """Lower-case words, phrases around a state and short capitals are not mentions; names are."""
    assert _named(text) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"demonyms": {"XYZ": ["Xyzian"]}}, "not ISO"),
        ({"demonyms": {"RUS": ["Foo"], "CHN": ["Foo"]}}, "already names"),
        ({"demonyms": {"RUS": ["Russia"]}}, "is a name"),
        ({"demonyms": {"RUS": ["росс*"], "CHN": ["россий*"]}}, "overlaps"),
        ({"demonyms": {"CHN": ["росси*"]}}, "matches"),
        ({"demonyms": {"RUS": ["ро*"]}}, "not a word"),
        ({"not_mentions": ["U.S.-led"]}, "not words"),
    ],
)
def test_bad_demonym_data_fails_loudly(raw: dict, message: str) -> None:
    """Unknown codes, shared demonyms, names listed as demonyms and clashing stems fail on load."""
    with pytest.raises(ValueError, match=message):
        _Mentions(raw)


# ---------------------------------------------------------------- maintained translations


@pytest.mark.parametrize(
    ("written", "code"),
    [
        # pycountry's ISO 3166 translations (official names), simplified and traditional.
        ("白俄罗斯共和国", "BLR"),
        ("白俄羅斯共和國", "BLR"),
        ("哈萨克斯坦共和国", "KAZ"),
        ("塔吉克斯坦共和国", "TJK"),
        ("乌兹别克斯坦共和国", "UZB"),
        ("伊朗伊斯兰共和国", "IRN"),
        ("巴基斯坦伊斯兰共和国", "PAK"),
        ("印度共和国", "IND"),
        ("老挝人民民主共和国", "LAO"),
        ("Исламская Республика Иран", "IRN"),
        ("Лаосская Народно-Демократическая Республика", "LAO"),
        ("Соединённые Штаты Америки", "USA"),
        ("美利坚合众国", "USA"),
        # CLDR's short names through Babel.
        ("Мьянма", "MMR"),
        ("老挝", "LAO"),
        ("寮國", "LAO"),
        ("大韩民国", "KOR"),
    ],
)
def test_maintained_russian_and_chinese_names_resolve(written: str, code: str) -> None:
    assert country_code(written) == code


def test_translations_are_exact_lookups_not_mentions() -> None:
    """A translated short name is a code for the whole string, never a word found in prose."""
    assert country_code("Того") == "TGO"
    assert country_mentions("Того же мнения придерживается министр.") == {}
    assert "CAF" not in country_mentions("中非合作论坛部长级会议")


def test_translations_never_override_the_tables() -> None:
    """The English and alias tables win; what they hold is not taken from the translations."""
    from extractor.normalise.countries import _tables, _translated

    index, _ = _tables()
    assert not set(_translated()) & set(index)
    assert country_code("Китай") == "CHN"  # the alias table's
