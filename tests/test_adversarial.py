"""Hostile model answers: nothing the article does not support survives assembly.

Each file in ``fixtures/adversarial/`` holds one answer written as a hostile or
sloppy model would write it, and what must hold once ``extractor.ground.assemble``
has checked it against the article; ``fixtures/adversarial/README.md`` gives
the expectation language. Besides each case's own expectation, every surviving
record must meet the same invariants (quotes are spans of the text, no quote is
made of stop words, every state and organisation is named in the article).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import sys
import unicodedata
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASE_DIR = ROOT / "fixtures" / "adversarial"
CASES = sorted(CASE_DIR.glob("*.json"))
PROVENANCE = "Authored by hand as an adversarial test case, not recorded from a model."
MAX_BYTES = 10_000_000

CASE_KEYS = {"document", "provenance", "case", "answer", "expect", "fabricated"}
EXPECT_KEYS = {
    "meetings",
    "status_claims",
    "kept_meetings",
    "kept_claims",
    "absent_claims",
    "participants",
    "absent_participants",
    "absent_quotes",
    "warnings",
    "null_fields",
    "min_grounding",
}
CLAIM_KEYS = {
    "subject",
    "subject_code",
    "organisation",
    "status",
    "stance",
    "claimant",
    "time_text",
}
PARTICIPANT_KEYS = {"name", "state", "organisation"}
GROUNDING_KEYS = {"records_dropped", "fields_nulled", "quotes_dropped"}

# Words that name nothing: a quote made only of these supports no field.
_STOP_TEXT = """
    a an and as at be by for from had has have he her hers him his i in is it its of on or
    our she that the their them they this those to was were which who with
    и в во на с со по о об от к а но он она оно они его ее её их это этот что как из за для
    的 了 在 和 与 是 其 该 这 那 他 她 它 也 及 并
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())

# Adjectives that name a state in the corpus ("Russian President"): accepted as naming it.
DEMONYMS = {
    "azerbaijani": "AZE",
    "belarusian": "BLR",
    "brazilian": "BRA",
    "cambodian": "KHM",
    "chinese": "CHN",
    "indian": "IND",
    "iranian": "IRN",
    "kazakh": "KAZ",
    "kyrgyz": "KGZ",
    "lao": "LAO",
    "mongolian": "MNG",
    "pakistani": "PAK",
    "russian": "RUS",
    "tajik": "TJK",
    "timorese": "TLS",
    "turkish": "TUR",
    "turkmen": "TKM",
    "uzbek": "UZB",
}


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def _article(spec: dict[str, Any]) -> str:
    return (ROOT / spec["document"]).read_text("utf-8")


def _schemas_from_source() -> ModuleType:
    """The draft schema read straight from ``schemas/``, for when ``extractor`` cannot import."""
    name = "_adversarial_schemas"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name,
            ROOT / "schemas" / "__init__.py",
            submodule_search_locations=[str(ROOT / "schemas")],
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return importlib.import_module(f"{name}.draft")


def _draft_module() -> ModuleType:
    """``extractor.schemas.draft``, or that file loaded alone while the package cannot import."""
    try:
        return importlib.import_module("extractor.schemas.draft")
    except ImportError:
        return _schemas_from_source()


def _verbatim(answer: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, text) of every string the draft schema says is copied from the article."""
    found: list[tuple[str, str]] = []

    def side(p: dict[str, Any], where: str) -> None:
        found.extend((f"{where}.mentions[{j}]", q) for j, q in enumerate(p.get("mentions", [])))

    for i, m in enumerate(answer.get("meetings", [])):
        for k, p in enumerate(m.get("sides", [])):
            side(p, f"meetings[{i}].sides[{k}]")
        found.extend((f"meetings[{i}].quotes[{j}]", q) for j, q in enumerate(m.get("quotes", [])))
    for i, c in enumerate(answer.get("status_claims", [])):
        where = f"status_claims[{i}]"
        found.extend((f"{where}.quotes[{j}]", q) for j, q in enumerate(c.get("quotes", [])))
        for field in ("subject_quote", "status_quote", "stance_quote"):
            if c.get(field):
                found.append((f"{where}.{field}", c[field]))
        if c.get("claimant"):
            side(c["claimant"], f"{where}.claimant")
        for k, p in enumerate(c.get("supporters", [])):
            side(p, f"{where}.supporters[{k}]")
    return found


def _unknown_keys(answer: dict[str, Any], draft: ModuleType) -> list[str]:
    """Keys the draft schema does not have (pydantic would ignore them silently)."""
    bad: list[str] = []

    def check(obj: dict[str, Any], model: Any, where: str) -> None:
        bad.extend(f"{where}.{key}" for key in obj if key not in model.model_fields)

    check(answer, draft.DraftExtraction, "answer")
    for i, m in enumerate(answer.get("meetings", [])):
        check(m, draft.DraftMeeting, f"meetings[{i}]")
        for k, p in enumerate(m.get("sides", [])):
            check(p, draft.DraftParticipant, f"meetings[{i}].sides[{k}]")
    for i, c in enumerate(answer.get("status_claims", [])):
        check(c, draft.DraftStatusClaim, f"status_claims[{i}]")
        for k, p in enumerate(
            ([c["claimant"]] if c.get("claimant") else []) + c.get("supporters", [])
        ):
            check(p, draft.DraftParticipant, f"status_claims[{i}].participant[{k}]")
    return bad


# --------------------------------------------------------------------------- the set itself


def test_the_set_has_at_least_thirty_cases_over_six_articles() -> None:
    """At least 30 cases over at least six articles, the Russian and Chinese ones among them."""
    documents = {_load(path)["document"] for path in CASES}
    assert len(CASES) >= 30
    assert len(documents) >= 6
    assert any(Path(d).name.startswith("011_") for d in documents)
    assert any(Path(d).name.startswith("012_") for d in documents)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_answer_validates_against_the_draft_schema(path: Path) -> None:
    """The hostile answer is well-formed, so it reaches the support check instead of a re-ask."""
    draft = _draft_module()
    answer = _load(path)["answer"]
    draft.DraftExtraction.model_validate(answer)
    assert _unknown_keys(answer, draft) == []


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case_file_is_well_formed(path: Path) -> None:
    """The case names a real article, says it is authored, and uses only the documented keys."""
    spec = _load(path)
    assert set(spec) <= CASE_KEYS and {"document", "provenance", "case", "answer", "expect"} <= set(
        spec
    )
    assert (ROOT / spec["document"]).is_file()
    assert spec["provenance"] == PROVENANCE
    assert spec["case"].strip() and "\n" not in spec["case"]
    expect = spec["expect"]
    assert set(expect) <= EXPECT_KEYS
    assert {"meetings", "status_claims"} <= set(expect)
    assert expect.get("warnings") or expect.get("null_fields"), "a hostile case must warn"
    for want in expect.get("kept_claims", []) + expect.get("absent_claims", []):
        assert set(want) <= CLAIM_KEYS
    for want in expect.get("participants", []):
        assert "name" in want and set(want) <= PARTICIPANT_KEYS
    assert set(expect.get("min_grounding", {})) <= GROUNDING_KEYS


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_only_the_listed_strings_are_fabricated(path: Path) -> None:
    """Every copied string is in the article, except the ones the case lists as invented."""
    spec = _load(path)
    text = _article(spec)
    fabricated = set(spec.get("fabricated", []))
    assert [f for f in fabricated if f in text] == []
    missing = [
        (w, q) for w, q in _verbatim(spec["answer"]) if q not in text and q not in fabricated
    ]
    assert missing == []


# --------------------------------------------------------------------------- assembly


@cache
def _assembled(path: Path) -> tuple[Any, str]:
    from extractor.ground.assemble import assemble
    from extractor.read.document import read_document
    from extractor.schemas import DraftExtraction, RunInfo, Usage

    spec = _load(path)
    document = read_document(ROOT / spec["document"], max_bytes=MAX_BYTES)
    draft = DraftExtraction.model_validate(spec["answer"])
    run = RunInfo(
        model="adversarial", prompt_version="test", mode="replay", attempts=1, usage=Usage()
    )
    result = assemble(document, draft, run)
    text = result.document.text if result.document.text is not None else document.text
    return result, text


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", _fold(text))


def _is_cjk(word: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in word)


def _word_in(word: str, words: list[str]) -> bool:
    """A word among others, allowing for case endings ("Пхомвихан" in "Пхомвиханом")."""
    if _is_cjk(word):
        return any(word in w for w in words)
    return any(w == word or (len(word) >= 4 and w.startswith(word)) for w in words)


def _name_matches(expected: str, name: str | None) -> bool:
    """Every word of the expected name is a word of the participant's name."""
    have = _words(name or "")
    return bool(have) and all(_word_in(w, have) for w in _words(expected))


def _label(label: str) -> re.Pattern[str]:
    """A record label in a warning: "meeting 1" must not match "meeting 12"."""
    return re.compile(re.escape(_fold(label)) + r"(?!\d)")


def _participant(result: Any, pid: str | None) -> Any:
    return result.participant(pid) if pid else None


def _claim_value(result: Any, claim: Any, key: str) -> Any:
    if key == "organisation":
        return claim.organisation.short
    if key in ("status", "stance"):
        value = getattr(claim, key)
        return value.value if value is not None else None
    if key == "claimant":
        return _participant(result, claim.claimant)
    return getattr(claim, key)


def _claim_matches(result: Any, claim: Any, want: dict[str, Any]) -> bool:
    for key, value in want.items():
        got = _claim_value(result, claim, key)
        if key == "claimant" and value is not None:
            if got is None or not _name_matches(value, got.name):
                return False
        elif got != value:
            return False
    return True


def _side_matches(expected: str, p: Any) -> bool:
    org = p.organisation.short if p.organisation else None
    return _name_matches(expected, p.name) or expected in (p.state, org)


def _meeting_matches(result: Any, meeting: Any, sides: list[str]) -> bool:
    """The meeting has exactly these sides, one participant each."""
    people = [result.participant(pid) for pid in meeting.participants]
    if len(people) != len(sides):
        return False
    return any(
        all(_side_matches(s, p) for s, p in zip(sides, order, strict=True))
        for order in itertools.permutations(people)
    )


def _distinct_matches(found: list[Any], wanted: list[Any], matches: Any) -> list[Any]:
    """The wanted entries that cannot each be given a different found record."""
    unused = list(found)
    missing = []
    for want in wanted:
        hit = next((r for r in unused if matches(r, want)), None)
        if hit is None:
            missing.append(want)
        else:
            unused.remove(hit)
    return missing


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_expectation_holds(path: Path) -> None:
    """What the case expects holds: counts, kept and absent records, nulled fields and warnings."""
    expect = _load(path)["expect"]
    result, _ = _assembled(path)
    warnings = [_fold(w) for w in result.warnings]
    report = "\n".join(result.warnings)

    assert len(result.meetings) == expect["meetings"], report
    assert len(result.status_claims) == expect["status_claims"], report
    assert not _distinct_matches(
        result.meetings,
        expect.get("kept_meetings", []),
        lambda m, want: _meeting_matches(result, m, want["sides"]),
    ), report
    assert not _distinct_matches(
        result.status_claims,
        expect.get("kept_claims", []),
        lambda c, want: _claim_matches(result, c, want),
    ), report
    for want in expect.get("absent_claims", []):
        assert not any(_claim_matches(result, c, want) for c in result.status_claims), want
    for want in expect.get("participants", []):
        assert any(
            _name_matches(want["name"], p.name)
            and all(
                (p.state if key == "state" else (p.organisation.short if p.organisation else None))
                == value
                for key, value in want.items()
                if key != "name"
            )
            for p in result.participants
        ), (want, [(p.name, p.state, p.organisation) for p in result.participants])
    for name in expect.get("absent_participants", []):
        folded = _fold(name)
        for p in result.participants:
            assert folded not in _fold(p.name or ""), p
            assert not any(folded in _fold(e.quote) for e in p.mentions), p
    kept_quotes = {
        e.quote.strip() for r in [*result.meetings, *result.status_claims] for e in r.evidence
    }
    for quote in expect.get("absent_quotes", []):
        assert quote.strip() not in kept_quotes, quote
    for label in expect.get("warnings", []):
        assert any(_label(label).search(w) for w in warnings), (label, report)
    for label, field in expect.get("null_fields", []):
        assert any(_label(label).search(w) and _fold(field) in w for w in warnings), (
            label,
            field,
            report,
        )
    for key, least in expect.get("min_grounding", {}).items():
        assert getattr(result.grounding, key) >= least, (key, result.grounding)


# --------------------------------------------------------------------------- invariants


def _meaningless(quote: str) -> bool:
    """Only stop words, or shorter than the shortest name ("Xi", "张明")."""
    words = _words(quote)
    if not words:
        return True
    if len("".join(words)) < 2:
        return True
    return all(w in STOP_WORDS for w in words)


@cache
def _states_named(text: str) -> frozenset[str]:
    """ISO codes of every state the text names, in any language the corpus uses."""
    from extractor.normalise.countries import country_code

    found: set[str] = set()
    tokens = re.findall(r"[\w'\u2019-]+", text)
    for n in range(1, 7):
        for i in range(len(tokens) - n + 1):
            code = country_code(" ".join(tokens[i : i + n]))
            if code:
                found.add(code)
    for token in tokens:
        folded = _fold(token)
        if folded in DEMONYMS:
            found.add(DEMONYMS[folded])
        if re.fullmatch(r"[\u0400-\u04ff]+", token):  # Russian case endings: "Лаосской"
            for cut in (1, 2, 3):
                if len(token) - cut >= 4 and (code := country_code(token[:-cut])):
                    found.add(code)
    for run in re.findall(r"[\u4e00-\u9fff]+", text):
        for size in range(2, 7):
            for i in range(len(run) - size + 1):
                if code := country_code(run[i : i + size]):
                    found.add(code)
    return frozenset(found)


@cache
def _organisations_named(text: str) -> frozenset[str]:
    """Short names of every organisation the text names, the acronyms it defines included."""
    from extractor.normalise.organisations import defined_acronyms, organisations_named

    return organisations_named(text) | frozenset(defined_acronyms(text))


def _org_named(org: Any, text: str) -> bool:
    if org.short is not None:
        return org.short in _organisations_named(text)
    return _fold(org.as_written) in _fold(text)


def _names_a_side(quote: str, sides: list[Any]) -> bool:
    """The quote holds a side's mention, a word of its name, or its state or organisation."""
    words = _words(quote)
    folded = _fold(quote)
    for p in sides:
        if any(_fold(m.quote) in folded for m in p.mentions):
            return True
        if any(_word_in(w, words) for w in _words(p.name or "") if len(w) >= 2):
            return True
        org = p.organisation
        if org and any(n and _fold(n) in folded for n in (org.short, org.full, org.as_written)):
            return True
        if p.state and p.state in _states_named(quote):
            return True
    return False


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph: the runs of text between blank lines."""
    spans, start = [], 0
    for gap in re.finditer(r"\n\s*\n", text):
        spans.append((start, gap.start()))
        start = gap.end()
    spans.append((start, len(text)))
    return spans


def _paragraph_of(spans: list[tuple[int, int]], offset: int) -> int:
    return next((i for i, (s, e) in enumerate(spans) if s <= offset <= e), len(spans) - 1)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_every_surviving_record_is_supported(path: Path) -> None:
    """Whatever survives is made of article spans naming real states and bodies, with warnings."""
    result, text = _assembled(path)
    assert_supported(result, text)
    assert result.warnings, "every case holds something unsupported, so it must warn"


def assert_supported(result: Any, text: str) -> None:
    """The invariants any emitted extraction keeps, checked without ``extractor.ground.support``
    (also used on a real model's output, in test_real_model.py).

    Every span is its quote and means something; every state and organisation
    is named in the article; every meeting has two sides its sentences name;
    every claim has a sentence stating it, field words near it, a subject that
    is a state, body or person of the article and not its own organisation;
    and whatever was dropped or nulled left a warning.
    """
    from extractor.ground.assemble import organisation
    from extractor.normalise.organisations import defined_acronyms

    acronyms = defined_acronyms(text)
    paragraphs = _paragraphs(text)
    evidence = [
        *(e for m in result.meetings for e in m.evidence),
        *(e for c in result.status_claims for e in c.evidence),
        *(e for p in result.participants for e in p.mentions),
    ]
    for e in evidence:
        assert text[e.start : e.end] == e.quote, e
        assert not _meaningless(e.quote), e

    ids = {p.id for p in result.participants}
    for p in result.participants:
        if p.state is not None:
            assert p.state in _states_named(text), (p.name, p.state)
        if p.organisation is not None:
            assert _org_named(p.organisation, text), (p.name, p.organisation)
        if p.name is not None:
            mention_words = [w for m in p.mentions for w in _words(m.quote)]
            assert any(_word_in(w, mention_words) for w in _words(p.name)), (p.name, p.mentions)

    for m in result.meetings:
        assert len(set(m.participants)) >= 2 and set(m.participants) <= ids, m
        sides = [result.participant(pid) for pid in m.participants]
        assert any(e.field in (None, "meeting") for e in m.evidence), "no sentence reports it"
        for e in m.evidence:
            if e.field in (None, "meeting"):  # the sentences reporting it, not its date or place
                assert _names_a_side(e.quote, sides), (e.quote, [s.name for s in sides])

    for c in result.status_claims:
        stated = [e for e in c.evidence if e.field in (None, "claim")]
        assert stated, f"{c.subject}: no sentence of the article states the claim"
        # A field's words sit in the claim's paragraph or the one before it.
        near = {
            i - back
            for e in stated
            for i in range(_paragraph_of(paragraphs, e.start), _paragraph_of(paragraphs, e.end) + 1)
            for back in (0, 1)
        }
        for e in c.evidence:
            if e.field in ("subject", "status", "stance"):
                assert _paragraph_of(paragraphs, e.start) in near, (c.subject, e)
        subject_org = organisation(c.subject, acronyms)
        subject_short = subject_org.short if subject_org else None
        assert c.subject_code or c.subject_participant or subject_short, c.subject
        if c.subject_code is not None:
            assert c.subject_code in _states_named(text), c
        if c.subject_participant is not None:
            assert c.subject_participant in ids, c
        if c.subject_code is None and subject_short is not None:
            assert subject_short != c.organisation.short, f"{c.subject} made a status of itself"
        assert _org_named(c.organisation, text), c.organisation
        for pid in [c.claimant, *c.supporters]:
            assert pid is None or pid in ids, c

    g = result.grounding
    if g.records_dropped + g.fields_nulled + g.quotes_dropped > 0:
        assert result.warnings, "something was dropped or nulled without a warning"
