"""Tests for extractor.grounding: quotes to offsets in the original text."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from extractor.grounding import Aligner, _fold_each, _fold_only, _fold_text, align

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_8703ce6526d76945.txt"


def span(quote: str, text: str, **kwargs: int) -> str | None:
    found = Aligner(text).find(quote, **kwargs)
    return None if found is None else text[found[0] : found[1]]


def test_exact_match_returns_offsets() -> None:
    """An exact quote returns offsets whose slice equals the quote."""
    text = "Zhang Ming had a meeting with the Ambassador."
    assert align("had a meeting", text) == (11, 24)


def test_whitespace_runs_match_single_spaces() -> None:
    """Newlines, NBSP and other Unicode spaces in the text match one space in the quote."""
    text = "The sides\n\n agreed\u00a0to\u2009continue\tmaintaining contacts."
    assert span("sides agreed to continue maintaining", text) == (
        "sides\n\n agreed\u00a0to\u2009continue\tmaintaining"
    )


def test_whitespace_runs_in_quote_match_single_space_in_text() -> None:
    """A quote with line breaks matches text with single spaces."""
    assert span("agreed\n  to   continue", "They agreed to continue.") == "agreed to continue"


def test_curly_quote_in_text_straight_in_quote() -> None:
    """A straight apostrophe in the quote matches a curly one in the text."""
    assert span("People's Republic", "the People\u2019s Republic of China") == (
        "People\u2019s Republic"
    )


def test_straight_quote_in_text_curly_in_quote() -> None:
    """Curly double quotes in the quote match straight ones in the text."""
    text = 'He called it "a new stage" of ties.'
    assert span("called it \u201ca new stage\u201d", text) == 'called it "a new stage"'


def test_guillemets_and_dashes() -> None:
    """Guillemets match double quotes and an em dash matches a hyphen."""
    text = "the \u00abSCO family\u00bb \u2014 and more"
    assert span('"SCO family" - and', text) == "\u00abSCO family\u00bb \u2014 and"


def test_case_insensitive() -> None:
    """Case differences are tolerated and the original casing is returned."""
    assert span("the sco secretary-general", "The SCO Secretary-General noted") == (
        "The SCO Secretary-General"
    )


def test_nfd_text_nfc_quote() -> None:
    """A precomposed letter in the quote matches a decomposed one in the text."""
    text = "Caf\u0065\u0301 de Flore"
    assert span("Caf\u00e9 de", text) == text[:8]


def test_nfc_text_nfd_quote() -> None:
    """A decomposed letter in the quote matches a precomposed one in the text."""
    assert span("Cafe\u0301", "le Caf\u00e9.") == "Caf\u00e9"


def test_accent_is_not_dropped() -> None:
    """A bare letter does not match the same letter with an accent."""
    assert align("Cafe", "le Caf\u00e9.") is None
    assert align("Cafe", "le Cafe\u0301.") is None


def test_quote_marks_in_the_text_are_kept_in_the_span() -> None:
    """Quote marks at the edges of the quote stay in the span when the text has them too."""
    assert span("\u201cSCO family\u201d", 'the "SCO family" and') == '"SCO family"'


def test_surrounding_quote_marks_and_whitespace_are_ignored() -> None:
    """Wrapping quote marks and whitespace on the quote do not prevent a match."""
    assert span("  \u201cagreed to continue\u201d \n", "They agreed to continue.") == (
        "agreed to continue"
    )


def test_cyrillic() -> None:
    """Cyrillic text aligns case-insensitively with the right offsets."""
    text = "Посол \u00abподтвердил\u00bb, что его страна стремится к статусу партнёра."
    assert span("ЕГО СТРАНА стремится", text) == "его страна стремится"


def test_chinese_full_width_punctuation() -> None:
    """Full-width CJK punctuation in the text matches ASCII punctuation in the quote."""
    text = "上合组织秘书长张明表示，欢迎缅甸加入上合组织大家庭。"
    assert span("张明表示,欢迎缅甸", text) == "张明表示，欢迎缅甸"


def test_emoji_before_quote_keeps_offsets() -> None:
    """Astral characters before the quote do not shift the offsets."""
    text = "\U0001f600\U0001f1e8\U0001f1f3 \U0001f44d\U0001f3fd Myanmar\u2019s intention"
    start, end = align("myanmar's intention", text)  # type: ignore[misc]
    assert (start, end) == (7, 26)
    assert text[start:end] == "Myanmar\u2019s intention"


def test_not_found() -> None:
    """A quote that is not in the text returns None."""
    assert align("observer status", "dialogue partner status") is None


@pytest.mark.parametrize("quote", ["", "   ", "\n\t", '""', "\u201c \u201d"])
def test_empty_quote(quote: str) -> None:
    """An empty, whitespace-only or quote-marks-only quote returns None."""
    assert align(quote, "some text") is None


def test_span_has_no_surrounding_whitespace() -> None:
    """The span starts and ends on matched characters, never on whitespace."""
    text = "  \n agreed   to continue \n"
    start, end = align(" agreed to continue ", text)  # type: ignore[misc]
    assert text[start] == "a"
    assert text[end - 1] == "e"


def test_match_inside_ligature_is_rejected() -> None:
    """A match that would split one original character is not returned."""
    assert align("i", "\ufb01") is None
    assert span("fin", "\ufb01nd") == "\ufb01n"


def test_first_occurrence_is_preferred() -> None:
    """Without a hint, the first occurrence is returned."""
    assert align("SCO", "SCO and SCO") == (0, 3)


def test_start_hint_prefers_later_match() -> None:
    """A start hint picks the first match at or after it."""
    assert Aligner("SCO and SCO").find("SCO", start_hint=1) == (8, 11)


def test_start_hint_falls_back_to_first_match() -> None:
    """A start hint past the last match falls back to the first match."""
    assert Aligner("SCO and SCO").find("SCO", start_hint=9) == (0, 3)


@pytest.mark.parametrize(
    ("quote", "expected"),
    [
        ("Zhang Ming", "Zhang Ming"),
        ("myanmar\u2019s INTENTION", "Myanmar's intention"),
        ("people's  republic", "People's Republic"),
        ("state\u2014owned", "state-owned"),
    ],
)
def test_every_span_reads_as_expected(quote: str, expected: str) -> None:
    """Each returned slice of the original text is the expected passage."""
    text = "Zhang Ming welcomed Myanmar's intention; the People's Republic; state-owned."
    assert span(quote, text) == expected


def test_megabyte_text_with_hints_finds_the_right_occurrence() -> None:
    """On a megabyte of repeated text, each hint finds the occurrence at or after it.

    Speed is measured by bench/align_bench.py, not here: timed unit tests flake.
    """
    text = (SEED.read_text(encoding="utf-8") * 500)[:1_000_000]
    aligner = Aligner(text)
    for i in range(0, 200):
        hint = i * 4000
        start, end = aligner.find("upcoming events in Uzbekistan", start_hint=hint)
        assert start >= hint and text[start:end] == "upcoming events in Uzbekistan"


def test_find_all_lists_every_occurrence() -> None:
    """Every occurrence, in order, each slicing back to the words."""
    text = "Putin met Xi. Later Putin spoke; PUTIN left."
    spans = Aligner(text).find_all("putin")
    assert [text[a:b] for a, b in spans] == ["Putin", "Putin", "PUTIN"]
    assert Aligner(text).find_all("Medvedev") == []


def test_seed_quotes() -> None:
    """Quotes from the seed article align, including a straight apostrophe against a curly one."""
    text = SEED.read_text(encoding="utf-8")
    aligner = Aligner(text)
    found = aligner.find("his country was seeking dialogue partner status")
    assert found is not None
    assert text[found[0] : found[1]] == "his country was seeking dialogue partner status"
    found = aligner.find("Myanmar's intention")
    assert found is not None
    assert text[found[0] : found[1]] == "Myanmar\u2019s intention"


def test_whole_word_skips_matches_inside_words() -> None:
    """A short mention prefers a whole word, in Latin or Cyrillic, and falls back if none."""
    text = "Встреча с посольством. Посол подтвердил."
    start, end = Aligner(text).find("Посол", whole_word=True)
    assert text[start:end] == "Посол" and start == text.index("Посол ")
    assert Aligner("the Ambassadorship").find("ambassador", whole_word=True) == (4, 14)


def test_whole_word_does_not_apply_to_chinese() -> None:
    """Chinese has no spaces between words, so a match inside a run of Han counts."""
    text = "上海合作组织秘书长张明会见大使"
    start, end = Aligner(text).find("张明", whole_word=True)
    assert text[start:end] == "张明"


@pytest.mark.parametrize(
    "alphabet",
    [
        "ab  \n\t\r\"'`\u2018\u2019\u201c\u201d\u00ab\u00bb"
        "\u2014\u2013-\u2010E\u0416\u044f\u4e2d\u3000.,\x0b",
        "ab  \n\u00e9\ufb01\u0419\u200b\u00ad\u00b4\u3000E",  # folds to several characters or none
    ],
)
def test_fast_fold_equals_the_character_loop(alphabet: str) -> None:
    """The translate-and-regex folds give the same text (and offsets) as the character loop."""
    rnd = random.Random(7)
    for _ in range(3000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 50)))
        fast, fast_index = _fold_text(text)
        slow, slow_index = _fold_each(text)
        assert (fast, list(fast_index)) == (slow, list(slow_index)), repr(text)
        assert _fold_only(text) == slow, repr(text)
