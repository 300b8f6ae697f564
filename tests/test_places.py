"""Meeting places as written -> the English city, and the venue beside it."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest

from extractor.normalise.places import Place, resolve_place


@pytest.mark.parametrize(
    ("written", "city", "venue"),
    [
        ("Секретариат ШОС", "Beijing", "SCO Secretariat"),
        ("в Секретариате ШОС", "Beijing", "SCO Secretariat"),
        ("北京钓鱼台国宾馆", "Beijing", "Diaoyutai State Guesthouse"),
        ("钓鱼台国宾馆", "Beijing", "Diaoyutai State Guesthouse"),
        ("上合组织秘书处", "Beijing", "SCO Secretariat"),
        # "上海合作组织" names the SCO, not Shanghai.
        ("上海合作组织秘书处", "Beijing", "SCO Secretariat"),
        ("人民大会堂", "Beijing", "Great Hall of the People"),
        ("в Кремле", "Moscow", "Kremlin"),
        ("Дом приёмов МИД России", "Moscow", "Russian Foreign Ministry Reception House"),
        ("посольство Лаоса в Пекине", "Beijing", None),  # the city named, no known venue
        ("Пекин", "Beijing", None),
        ("в Нью-Йорке", "New York", None),
        ("Астане", "Astana", None),
        ("上海", "Shanghai", None),
        ("臺北", "Taipei", None),
    ],
)
def test_a_place_gives_its_english_city_and_venue(
    written: str, city: str, venue: str | None
) -> None:
    assert resolve_place(written) == Place(city=city, venue=venue)


@pytest.mark.parametrize("written", ["Beijing", "the SCO Secretariat", "Какое-то место", "", None])
def test_a_latin_or_unknown_place_gives_nothing(written: str | None) -> None:
    assert resolve_place(written) is None


def test_every_venue_has_an_english_name_and_a_city_of_the_table() -> None:
    data = json.loads((files("extractor") / "data" / "places.json").read_text("utf-8"))
    cities = set(data["places"].values())
    for name, venue in data["venues"].items():
        if name.startswith("_"):
            continue
        assert venue["name"].isascii() and venue["city"] in cities, name
