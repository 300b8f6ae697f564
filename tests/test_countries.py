"""Tests for extractor.countries: state names as written -> ISO 3166-1 alpha-3."""

# Literal Cyrillic and Chinese names are the point of these tests, so the
# confusable-character rules are off for this file.

from __future__ import annotations

import json
from importlib.resources import files

import pycountry
import pytest

from extractor.countries import country_code, country_name


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
