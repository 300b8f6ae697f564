"""Tests for extractor.read.dateline: the table of wire dateline shapes and the parser."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from extractor.read.dateline import Dateline, _Table, parse_dateline, shapes
from extractor.read.document import read_document

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_8703ce6526d76945.txt"
LINES = ROOT / "fixtures" / "datelines" / "lines.jsonl"
TABLE = ROOT / "extractor" / "data" / "datelines.json"


def test_seed_dateline() -> None:
    """The seed's dateline gives the date from its prefix, the title-cased place and the outlet."""
    text = SEED.read_text(encoding="utf-8")
    dateline = parse_dateline(text)
    assert dateline == Dateline(date(2022, 7, 14), "Beijing", "APP", 1, 39)
    assert text[dateline.start : dateline.end] == "date 2022-07-14 BEIJING, July 14 APP):"


@pytest.mark.parametrize(
    ("text", "expected", "covered"),
    [
        (
            "BEIJING, July 14 (Xinhua) -- China and the SCO",
            Dateline(None, "Beijing", "Xinhua", 0, 28),
            "BEIJING, July 14 (Xinhua) --",
        ),
        (
            "MOSCOW, Nov 3 (Reuters) - Russia said",
            Dateline(None, "Moscow", "Reuters", 0, 25),
            "MOSCOW, Nov 3 (Reuters) -",
        ),
        (
            "NEW DELHI, 3 March 2023 (PTI) \u2014 India said",
            Dateline(date(2023, 3, 3), "New Delhi", "PTI", 0, 31),
            "NEW DELHI, 3 March 2023 (PTI) \u2014",
        ),
        (
            "Beijing, 14 July 2022 /TASS/. The SCO",
            Dateline(date(2022, 7, 14), "Beijing", "TASS", 0, 29),
            "Beijing, 14 July 2022 /TASS/.",
        ),
        (
            "\n  RIO DE JANEIRO, Nov. 3, 2021 (AFP) - Brazil",
            Dateline(date(2021, 11, 3), "Rio de Janeiro", "AFP", 3, 39),
            "RIO DE JANEIRO, Nov. 3, 2021 (AFP) -",
        ),
    ],
)
def test_wire_datelines(text: str, expected: Dateline, covered: str) -> None:
    """Wire dateline forms give place, outlet, offsets, and a date when the year is written."""
    dateline = parse_dateline(text)
    assert dateline == expected
    assert text[dateline.start : dateline.end] == covered


def test_date_prefix_wins_over_dateline_year() -> None:
    """An explicit ``date YYYY-MM-DD`` prefix decides the date even when the dateline has a year."""
    dateline = parse_dateline("date 2022-07-15 BEIJING, 14 July 2022 (Xinhua) -- text")
    assert dateline is not None
    assert dateline.date == date(2022, 7, 15)


def test_date_prefix_on_its_own_line() -> None:
    """A date prefix followed by a newline still reaches the dateline below it."""
    dateline = parse_dateline("date 2022-07-14\nBEIJING, July 14 (Xinhua) -- text")
    assert dateline == Dateline(date(2022, 7, 14), "Beijing", "Xinhua", 0, 44)


def test_date_prefix_without_dateline() -> None:
    """A date prefix alone still gives the date, with no place or outlet."""
    text = " date 2022-07-14 The SCO said"
    dateline = parse_dateline(text)
    assert dateline == Dateline(date(2022, 7, 14), None, None, 1, 16)


@pytest.mark.parametrize(
    "text",
    [
        "Meanwhile, Zhang Ming had a meeting with the Ambassador.",
        "On Thursday, July 14 (local time), the sides met.",
        "In Moscow, May 5 (Reuters) is what the note said.",
        "Paris, May 5 - a sentence in mixed case without an outlet.",
        "The SCO Secretary-General noted the ICRC's role.",
        "Secretary-General of Shanghai Cooperation Organization (SCO), Zhang Ming had",
        "",
    ],
)
def test_sentences_are_not_datelines(text: str) -> None:
    """Ordinary sentence openings are not taken for datelines."""
    assert parse_dateline(text) is None


# --------------------------------------------------------------------------- the table


def test_every_shape_reads_its_examples() -> None:
    """Each shape's examples parse to a place with that shape (an earlier shape may not steal them
    with a worse reading)."""
    for shape in shapes():
        for example in shape.examples:
            found = parse_dateline(example, published=date(2023, 3, 3))
            assert found is not None and found.place, (shape.name, example)
            assert found.shape == shape.name, (shape.name, example, found.shape)


def _table_with(**change: Any) -> dict[str, Any]:
    data = json.loads(TABLE.read_text("utf-8"))
    data["shapes"][0] = {**data["shapes"][0], **change}
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pattern": "{PLACE}(unclosed"}, "missing"),
        ({"pattern": "{PLACES}, {DATE}"}, "unknown dateline part"),
        ({"examples": ["not a dateline at all"]}, "does not match"),
        ({"pattern": "(?P<plaec>x)", "examples": ["x"]}, "unknown groups"),
        ({"colour": "red"}, "Extra inputs"),
    ],
)
def test_a_typo_in_the_table_fails_on_load(change: dict[str, Any], message: str) -> None:
    """A broken pattern, an unknown part or group, or an example its shape misses is refused."""
    with pytest.raises(ValidationError, match=message):
        _Table.model_validate(_table_with(**change))


# --------------------------------------------------------------------------- where and when


def test_dateline_after_headline_and_byline() -> None:
    """A dateline on the third line, under a headline and a byline, is found with its offsets."""
    text = "Ministers meet in Beijing\nBy John Smith\nBEIJING, July 14 (Xinhua) -- Text."
    found = parse_dateline(text)
    assert found == Dateline(None, "Beijing", "Xinhua", 40, 68)
    assert text[found.start : found.end] == "BEIJING, July 14 (Xinhua) --"


def test_no_dateline_once_the_body_has_started() -> None:
    """A dateline-shaped line after a paragraph of the body is not the report's own."""
    body = "The ministers met on Thursday and agreed on a long list of things. " * 5
    assert parse_dateline(body + "\nBEIJING, July 14 (Xinhua) -- Text.") is None


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        (date(2022, 7, 15), date(2022, 7, 14)),
        (date(2023, 1, 3), date(2022, 12, 30)),  # filed late December, published in January
        (date(2022, 12, 28), date(2022, 12, 30)),
    ],
)
def test_year_from_published(published: date, expected: date) -> None:
    """A dateline without a year takes the year that puts it nearest the metadata date."""
    month_day = "July 14" if expected.month == 7 else "Dec. 30"
    found = parse_dateline(f"BEIJING, {month_day} (Xinhua) -- Text.", published=published)
    assert found is not None and found.date == expected


def test_written_year_wins_over_published() -> None:
    """A year written in the dateline is kept, even when the metadata date disagrees."""
    found = parse_dateline("BEIJING, July 14, 2021 (Xinhua) -- Text.", published=date(2022, 7, 14))
    assert found is not None and found.date == date(2021, 7, 14)


def test_place_without_date_keeps_no_date() -> None:
    """'UNITED NATIONS (AP) —' gives the place; the date is left to the caller."""
    found = parse_dateline("UNITED NATIONS (AP) — Text.", published=date(2023, 3, 3))
    assert found == Dateline(None, "United Nations", "AP", 0, 21)


def test_weekday_decides_a_numeric_date() -> None:
    """A numeric date is read the way its weekday agrees with, or not at all."""
    march = parse_dateline("Geneva, Switzerland | AFP | Friday 3/10/2023 - 10:15 UTC+1")
    assert march is not None and march.date == date(2023, 3, 10)
    october = parse_dateline("Geneva, Switzerland | AFP | Tuesday 3/10/2023 - 10:15 UTC+1")
    assert october is not None and october.date == date(2023, 10, 3)
    wrong = parse_dateline("Geneva, Switzerland | AFP | Sunday 3/10/2023 - 10:15 UTC+1")
    assert wrong is not None and wrong.date is None and wrong.place == "Geneva"


# --------------------------------------------------------------------------- the line set


def _records() -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in LINES.read_text("utf-8").splitlines() if line.strip()]
    assert "authored" in rows[0]["_about"].lower()
    return rows[1:]


def _id(record: dict[str, Any]) -> str:
    return f"{record['shape']}: {record.get('file') or record['text'][:40]}"


@pytest.mark.parametrize("record", _records(), ids=_id)
def test_line_set(record: dict[str, Any]) -> None:
    """Every authored line and corpus article parses to its expected date and place, or to none."""
    if "file" in record:  # as the pipeline reads it: header off, its date the year's hint
        found = read_document(ROOT / record["file"], max_bytes=10**7).dateline
    else:
        published = date.fromisoformat(record["published"]) if record.get("published") else None
        found = parse_dateline(record["text"], published=published)
    got = None if found is None else {
        "date": found.date.isoformat() if found.date else None, "place": found.place
    }  # fmt: skip
    assert got == record["expect"]


def test_line_set_covers_every_shape() -> None:
    """At least 30 dateline lines, and every shape of the table reads at least one of them."""
    records = [r for r in _records() if "text" in r]
    assert sum(1 for r in records if r["expect"]) >= 30
    used = set()
    for r in records:
        published = date.fromisoformat(r["published"]) if r.get("published") else None
        found = parse_dateline(r["text"], published=published)
        if found is not None:
            used.add(found.shape)
    assert {s.name for s in shapes()} <= used


def test_a_header_date_gives_a_yearless_dateline_its_year() -> None:
    """'MOSCOW, March 17. /TASS/.' under a header dated 2023: the 17 March 2023 dateline."""
    from extractor.read.document import document_from_text

    text = "date: 2023-03-18\n\nMOSCOW, March 17. /TASS/. Lavrov met Wang Yi on Friday."
    document = document_from_text(text, "t.txt")
    assert document.dateline is not None and document.dateline.date == date(2023, 3, 17)


def test_the_run_date_gives_a_yearless_dateline_its_year() -> None:
    """--date 2023-03-18 on a file without a header: the same year for its dateline."""
    from extractor.read.document import document_from_text, with_run_date

    document = document_from_text("MOSCOW, March 17. /TASS/. Lavrov met Wang Yi.", "t.txt")
    assert document.dateline is not None and document.dateline.date is None
    dated = with_run_date(document, date(2023, 3, 18))
    assert dated.dateline is not None and dated.dateline.date == date(2023, 3, 17)
    assert dated.meta.published == date(2023, 3, 18)


@pytest.mark.parametrize(
    ("text", "place", "outlet"),
    [
        ("中央社台北7月2日電（記者陳明）立法院今天...", "Taipei", "Central News Agency"),
        ("新華社北京7月2日電（記者 王明）", "Beijing", "Xinhua"),
        ("人民日報北京7月2日電", "Beijing", "People's Daily"),
        ("ПЕКИН, 15 янв - РИА Новости. Генсек ШОС Чжан Мин...", "Beijing", "RIA Novosti"),
    ],
)
def test_traditional_chinese_and_ria_datelines(text: str, place: str, outlet: str) -> None:
    """Traditional script ("電", "記者") and the CNA's "中央社" are read like Xinhua's."""
    found = parse_dateline(text, published=date(2024, 7, 3))
    assert found is not None
    assert (found.place, found.outlet) == (place, outlet)
    assert found.date is not None and found.date.year == 2024
