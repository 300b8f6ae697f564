"""Tests for extractor.text.align: quotes to offsets in the original text."""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import pytest

from extractor.text.align import (
    Aligner,
    Match,
    _fold_blind,
    _fold_each,
    _fold_only,
    _fold_text,
    _fold_text_by,
    _is_mark,
    align,
)

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


def located(quote: str, text: str, **kwargs: object) -> tuple[str, str] | None:
    found = Aligner(text).locate(quote, **kwargs)  # type: ignore[arg-type]
    return None if found is None else (text[found.start : found.end], found.how)


def test_locate_dropped_diacritics() -> None:
    """A name with its accent dropped is found, with offsets of the accented original."""
    text = "President Xanana Gusm\u00e3o said"
    assert Aligner(text).locate("Gusmao") == Match(17, 23, "diacritics")
    assert text[17:23] == "Gusm\u00e3o"


def test_locate_spelt_out_umlauts() -> None:
    """Umlauts spelt out as "ae"/"ue" find the letters, and the other way round."""
    text = "UNRWA chief Pierre Kr\u00e4henb\u00fchl said"
    assert located("Kraehenbuehl", text) == ("Kr\u00e4henb\u00fchl", "diacritics")
    assert located("Pierre KRAEHENBUEHL", text) == ("Pierre Kr\u00e4henb\u00fchl", "diacritics")
    assert located("Kr\u00e4henb\u00fchl", "Pierre Kraehenbuehl") == ("Kraehenbuehl", "diacritics")


def test_locate_decomposed_umlaut_spelt_out() -> None:
    """A decomposed umlaut (a letter, then a combining diaeresis) is spelt out as well."""
    text = "Pierre Kra\u0308henbu\u0308hl said"
    assert located("Kraehenbuehl", text) == ("Kra\u0308henbu\u0308hl", "diacritics")


def test_locate_exact_and_normalised() -> None:
    """A byte-identical passage is "exact"; one found through a curly apostrophe is "normalised"."""
    text = "the People\u2019s Republic of China"
    assert Aligner(text).locate("People\u2019s Republic") == Match(4, 21, "exact")
    assert Aligner(text).locate("  People\u2019s Republic\n") == Match(4, 21, "exact")
    assert Aligner(text).locate("People's Republic") == Match(4, 21, "normalised")
    assert Aligner(text).locate("people\u2019s republic") == Match(4, 21, "normalised")


def test_locate_agrees_with_find() -> None:
    """Where the first fold finds a quote, locate returns the span find returns."""
    text = (
        "Zhang Ming welcomed Myanmar\u2019s intention; \u201cSCO family\u201d \u2014 state-owned."
    )
    aligner = Aligner(text)
    for quote in ["zhang ming", "Myanmar's intention", '"SCO family" - state', "\u201cstate\u201d"]:
        found = aligner.locate(quote)
        assert found is not None and (found.start, found.end) == aligner.find(quote)


def test_locate_near_picks_the_nearest_occurrence() -> None:
    """With near, the occurrence nearest the offset wins, one containing it at distance 0."""
    text = "SCO and SCO then SCO"  # at 0, 8 and 17
    aligner = Aligner(text)
    assert aligner.locate("SCO") == Match(0, 3, "exact")
    assert aligner.locate("SCO", near=9) == Match(8, 11, "exact")  # inside the second
    assert aligner.locate("SCO", near=13) == Match(8, 11, "exact")  # 3 after it, 4 before the third
    assert aligner.locate("SCO", near=14) == Match(17, 20, "exact")
    assert aligner.locate("SCO", near=5) == Match(0, 3, "exact")  # a tie goes to the earlier
    assert aligner.locate("SCO", near=10_000) == Match(17, 20, "exact")
    assert aligner.locate("sco", near=-5) == Match(0, 3, "normalised")


def test_locate_near_with_diacritics() -> None:
    """The nearest occurrence is also chosen among matches found with diacritics ignored."""
    text = "Gusm\u00e3o met Horta; later Gusm\u00e3o spoke."
    assert Aligner(text).locate("Gusmao", near=30) == Match(24, 30, "diacritics")
    assert Aligner(text).locate("Gusmao", near=10) == Match(0, 6, "diacritics")


def test_near_matches_brute_force() -> None:
    """The nearest occurrence agrees with a search over every occurrence, on random texts."""
    rnd = random.Random(11)
    for _ in range(400):
        text = "".join(rnd.choice("ab \u00e9A\u2019'") for _ in range(rnd.randint(1, 30)))
        aligner = Aligner(text)
        a = rnd.randrange(len(text))
        quote = text[a : a + rnd.randint(1, 3)].strip(" '\u2019")
        if not quote:
            continue
        spans = {aligner.find(quote, start_hint=h) for h in range(len(text) + 1)} - {None}
        near = rnd.randint(-1, len(text) + 1)

        def distance(span: tuple[int, int], near: int = near) -> int:
            return max(span[0] - near, near - span[1] + 1, 0)

        expected = min(spans, key=lambda s: (distance(s), s[0]), default=None)  # type: ignore[arg-type]
        found = aligner.locate(quote, near=near)
        if expected is None:
            assert found is None or found.how == "diacritics", (text, quote)
        else:
            assert found is not None and (found.start, found.end) == expected, (text, quote, near)


def test_locate_cyrillic_combining_accent() -> None:
    """A stress mark written as a combining acute does not hide a Russian name."""
    text = "Сергей Ла\u0301вров заявил"
    assert Aligner(text).locate("Лавров") == Match(7, 14, "diacritics")
    assert located("Лавров", "Лавро\u0301в заявил") == ("Лавро\u0301в", "diacritics")
    assert located("Петр", "Пётр Толстой") == ("Пётр", "diacritics")


def test_locate_cjk_is_unaffected() -> None:
    """Chinese aligns in the first fold, and kana voicing marks are letters, not diacritics."""
    text = "上海合作组织秘书长张明会见大使，欢迎缅甸加入。"
    aligner = Aligner(text)
    assert aligner.locate("张明") == Match(9, 11, "exact")
    assert aligner.locate("大使,欢迎") == Match(13, 18, "normalised")
    assert aligner._blind is None
    assert Aligner("ガス").locate("カス") is None  # NFKD: カ plus a voicing mark, kept
    assert Aligner("か\u3099す").locate("か") is None


def test_locate_whole_word() -> None:
    """whole_word skips a match inside a word, even for a looser whole-word one, and falls back."""
    text = "Лавровский проспект; Ла\u0301вров сказал"
    assert located("Лавров", text) == ("Лавров", "exact")
    assert located("Лавров", text, whole_word=True) == ("Ла\u0301вров", "diacritics")
    assert located("Gusmao", "the Gusm\u00e3oist line", whole_word=True) == (
        "Gusm\u00e3o",
        "diacritics",
    )
    assert Aligner("the Gusm\u00e3oist line").locate_all("Gusmao", whole_word=True) == []


def test_whole_word_after_a_decomposed_accent() -> None:
    """A combining mark ending a match belongs to its word, so the letter after it continues it."""
    aligner = Aligner("les cafe\u0301s et le cafe\u0301")
    assert aligner.locate("cafe", whole_word=True) == Match(17, 22, "diacritics")
    assert aligner.locate("cafe") == Match(4, 9, "diacritics")


def test_lazy_folds_are_not_built_when_the_first_fold_finds_the_quote() -> None:
    """The diacritic-blind folds are built only for a quote the first fold cannot find."""
    aligner = Aligner("Xanana Gusm\u00e3o met Pierre Kr\u00e4henb\u00fchl.")
    assert aligner.locate("gusm\u00e3o") is not None
    assert aligner.locate_all("met") != []
    assert aligner._blind is None and aligner._spelt is None
    assert aligner.locate("Gusmao") is not None
    assert aligner._blind is not None and aligner._spelt is None
    assert aligner.locate("Kraehenbuehl") is not None
    assert aligner._spelt is not None


def test_spelt_out_fold_is_shared_when_nothing_is_spelt_out() -> None:
    """A text without umlauts needs no second blind index: the first one serves both."""
    aligner = Aligner("Sergey Lavrov and Pierre Kraehenbuehl")
    assert aligner.locate("Kr\u00e4henb\u00fchl") == Match(25, 37, "diacritics")
    assert aligner._spelt is aligner._blind


def test_diacritics_fold_keeps_character_boundaries() -> None:
    """Accents aside, "cafe" finds "café", but no match ends inside a letter or before its mark."""
    assert located("cafe", "les caf\u00e9s") == ("caf\u00e9", "diacritics")
    assert located("cafe", "les cafe\u0301s") == ("cafe\u0301", "diacritics")  # with its accent
    assert located("caf", "le caf\u00e9") == ("caf", "exact")  # whole characters, "é" left out
    assert located("caf", "le cafe\u0301") == ("caf", "exact")
    assert Aligner("Pierre Kr\u00e4henb\u00fchl").locate("Kraehenbu") is None  # half of "ü"
    assert Aligner("\ufb01").locate("i") is None  # half of a ligature


def test_accent_is_still_not_dropped_by_find() -> None:
    """find keeps its strictness; only locate ignores diacritics, and says so."""
    aligner = Aligner("le Caf\u00e9.")
    assert aligner.find("Cafe") is None and aligner.find_all("Cafe") == []
    assert aligner.locate("Cafe") == Match(3, 7, "diacritics")


def test_locate_all_uses_the_strictest_fold_that_finds_any() -> None:
    """Every occurrence, each with how it matched, from the first fold with any match."""
    text = "Gusm\u00e3o, GUSM\u00c3O and Gusmao"
    assert Aligner(text).locate_all("gusmao") == [Match(19, 25, "normalised")]
    assert Aligner(text).locate_all("Gusmao") == [Match(19, 25, "exact")]
    assert Aligner(text).locate_all("Gusmão") == [
        Match(0, 6, "exact"),
        Match(8, 14, "normalised"),
    ]
    assert Aligner("Gusm\u00e3o, GUSM\u00c3O").locate_all("Gusmao") == [
        Match(0, 6, "diacritics"),
        Match(8, 14, "diacritics"),
    ]
    assert Aligner(text).locate_all("Horta") == []
    assert Aligner(text).locate_all(" \u201c\u201d ") == []


def test_locate_nordic_and_stroked_letters() -> None:
    """Stroked and Nordic letters match their plain and spelt-out spellings."""
    text = "S\u00f8ren S\u00f8rensen visited \u00c5rhus and \u0141\u00f3d\u017a"
    assert located("Sorensen", text) == ("S\u00f8rensen", "diacritics")
    assert located("Soerensen", text) == ("S\u00f8rensen", "diacritics")
    assert located("Aarhus", text) == ("\u00c5rhus", "diacritics")
    assert located("Lodz", text) == ("\u0141\u00f3d\u017a", "diacritics")


@pytest.mark.parametrize("quote", ["", "   ", '""', "\u0301"])
def test_locate_empty_or_mark_only_quote(quote: str) -> None:
    """A quote with nothing to find returns None, even once its accents are dropped."""
    assert Aligner("some text \u00e9").locate(quote) is None


def test_diacritic_spans_never_split_a_letter() -> None:
    """On random accented texts, a quote with accents dropped lands on whole letters."""
    rnd = random.Random(5)
    alphabet = "ae\u00e4\u00f6\u00fc\u00e3\u0301\u0308 \ufb01\u00df\u00f8Lx"
    for _ in range(2000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 30)))
        starts = [i for i in range(len(text)) if not _is_mark(text[i])]
        if not starts:
            continue
        a = rnd.choice(starts)
        b = min(len(text), a + rnd.randint(1, 6))
        while b < len(text) and _is_mark(text[b]):
            b += 1
        quote = "".join(
            ch for ch in unicodedata.normalize("NFD", text[a:b]) if not unicodedata.combining(ch)
        )
        found = Aligner(text).locate(quote)
        if not quote.strip():
            continue
        assert found is not None, (text, quote)
        assert found.start == 0 or not _is_mark(text[found.start]), (text, quote)
        assert found.end == len(text) or not _is_mark(text[found.end]), (text, quote)
        if found.how == "diacritics":
            got = _fold_text_by(text[found.start : found.end], _fold_blind)[0]
            assert got.strip() == _fold_text_by(quote, _fold_blind)[0].strip(), (text, quote)
