"""Whether the article supports each field of a draft, field by field.

A quote that merely occurs in the text proves nothing: "The" occurs in every
article, and a real sentence about Cambodia's SCO bid does not support a claim
that Iran joined BRICS. So every field a user gets must be carried by its own
evidence, and these are the rules, in one place:

- A quote made only of stop words, or too short to name anything, supports
  nothing; nor does a quote the article does not contain. A quote that occurs
  several times is placed at the occurrence nearest the record's other
  evidence.
- A participant needs a mention in the article. Its name must be one of its
  mentions or share a name token with one (case-, diacritic- and
  script-blind). The state or organisation it represents must be named in the
  article, and the state must be the one the words say it represents: in
  "Ambassador of Mongolia to the People's Republic of China" that is Mongolia.
  A participant with no name, state or organisation left is unsupported.
- A meeting needs at least two supported sides, and a quote reporting it that
  names at least one of them, in a sentence that says they met or talked
  ("met", "talks", "received", "встреча", "会见"). It is "planned" only when
  the sentence of its date (of its quotes, when it has no date) holds words
  of a plan ("will", "next", "состоится", "将"); otherwise it is reported as
  held. Both word lists are data, in ``extractor/data/meeting_words.json``.
- A claim's subject quote must name the subject (the same country code or
  organisation) or refer to it ("his country", "the Kingdom") when the subject
  is named earlier or is the claimant's state. Its status quote must contain a
  surface form of the status, and its stance quote a cue of the stance (the
  cue words are data, in ``extractor/data/status_vocabularies.json``). Both
  must sit in the claim's own passage: the sentences of its quotes and the one
  before. The organisation must be named in the article, and is never a status
  subject of itself.

What fails is handled by its weight: a core field (a meeting's sides; a
claim's subject, organisation or status) drops the record; any other field is
set to null; a bad quote is dropped alone when the rest still supports the
record. Each of these is a ``Finding``, which is both the re-ask message the
model reads and the warning the user reads. Fields no rule can check (topics,
outcomes, a stance of "holds" that no word states) are listed as unchecked on
the record instead of being passed off as supported.
"""

from __future__ import annotations

import json
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from importlib.resources import files
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from extractor.normalise.countries import country_code, country_mentions, country_name
from extractor.normalise.organisations import (
    OrganisationInfo,
    defined_acronyms,
    organisations_named,
    resolve_with_local,
)
from extractor.normalise.statuses import (
    only_stopwords,
    stance_checkable,
    stance_cue,
    status_checkable,
    status_cue,
)
from extractor.schemas import MeetingStatus, ParticipantKind, Stance
from extractor.schemas.draft import (
    DraftExtraction,
    DraftMeeting,
    DraftParticipant,
    DraftStatusClaim,
)
from extractor.text.align import Aligner, Match

__all__ = ["Article", "Finding", "Proof", "Review", "Side", "review"]

Outcome = Literal["dropped", "nulled", "quote dropped", "changed"]


@dataclass(frozen=True, slots=True)
class Proof:
    """A passage of the article that supports one field: offsets, how it aligned, which field."""

    start: int
    end: int
    how: str
    field: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One unsupported thing in an answer: what the model is told, and what the user is told."""

    where: str  # the place in the answer, as the model wrote it: "status_claims[0].subject_quote"
    record: str  # the record, as a user finds it: "status claim 1 (Atlantis)"
    field: str
    problem: str
    outcome: Outcome

    def reask(self) -> str:
        return f"{self.where}: {self.problem}"

    def warning(self) -> str:
        if self.outcome == "dropped":
            return f"dropped {self.record}: {self.field} not supported: {self.problem}"
        if self.outcome == "nulled":
            return f"{self.record}: {self.field} set to null: {self.problem}"
        if self.outcome == "changed":
            return f"{self.record}: {self.field} changed: {self.problem}"
        return f"{self.record}: dropped a {self.field} quote: {self.problem}"


@dataclass
class Side:
    """A participant as the article supports it: unsupported fields already null."""

    name: str | None
    title: str | None
    organisation: str | None
    state: str | None
    kind: ParticipantKind
    proofs: list[Proof]


@dataclass
class CheckedMeeting:
    """A meeting whose sides and report the article supports; unsupported details nulled."""

    draft: DraftMeeting
    sides: list[Side]
    proofs: list[Proof]
    date_text: str | None
    place: str | None
    status: MeetingStatus
    unchecked: list[str]


@dataclass
class CheckedClaim:
    """A claim whose subject, organisation and status the article supports."""

    draft: DraftStatusClaim
    stance: Stance | None
    claimant: Side | None
    supporters: list[Side]
    time_text: str | None
    proofs: list[Proof]
    unchecked: list[str]


@dataclass
class _Passage:
    """One claim's place in the article: its sentences, and where its field quotes must be."""

    where: str
    record: str
    anchors: list[Proof]
    window: list[tuple[int, int]]
    near: int | None


@dataclass
class Review:
    """What of a draft the article supports, and every finding on the way."""

    meetings: list[CheckedMeeting] = field(default_factory=list)
    claims: list[CheckedClaim] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    quotes_returned: int = 0
    quotes_grounded: int = 0

    def problems(self) -> list[str]:
        """The re-ask messages, one per finding the rules could not settle themselves.

        A "planned" meeting with no words of a plan is reported as held without
        asking again: an attempt costs a weak model more than the slip does.
        """
        return [f.reask() for f in self.findings if f.outcome != "changed"]

    def warnings(self) -> list[str]:
        return [f.warning() for f in self.findings]

    def count(self, outcome: Outcome) -> int:
        return sum(f.outcome == outcome for f in self.findings)


# Sentence ends: a stop followed by space, a CJK stop, or a line break.
_SENTENCE_END = re.compile(r"(?:[.!?;:](?=\s)|[\u3002\uff01\uff1f\uff1b]|\n)\s*")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTERS = re.compile(r"[^\W_]")
_ACRONYM = re.compile(r"\b[A-Z]{2,}\b")
# A state right after "to" or "в": a destination or a host, not the state a side represents.
_TO_BEFORE = re.compile(r"(?:^|\W)(?:to|в)\s+(?:the\s+)?$", re.IGNORECASE)
# An envoy "to" a state, or "в" it in Russian, is accredited there: that state is the host.
# "Ambassador of Mongolia to the People's Republic of China" also names the envoy's own state.
_ACCREDITED = re.compile(
    r"\b(?:ambassador|envoy|representative|consul|charg[ée] d'affaires|посол|послом|посла|"
    r"полпред\w*|представител\w*)\b(?P<between>[^.;\n]{0,80}?)(?:\bto|\sв)\s+(?:the\s+)?"
    r"(?P<to>[^,;.()\n]{2,60})",
    re.IGNORECASE,
)
_BESIDE = 3  # characters between a name and its title: "U Myo Thant Pe, Ambassador"
_OF = re.compile(r"\b(?:of|from)\s+(?:the\s+)?(?P<of>.+)$", re.IGNORECASE)


class _Words(BaseModel):
    """Referring words of one script family (see the data file's note)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    entity: frozenset[str] = Field(min_length=1)
    sides: frozenset[str] = Field(min_length=1)


class _WordsFile(_Words):
    """``extractor/data/referring_words.json``, validated so a typo fails on first use."""

    note: list[str] = Field(alias="_note")
    cjk: _Words


class _Cues(BaseModel):
    """Words of one kind, Latin and Cyrillic on word boundaries, Chinese as substrings."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    words: list[str] = Field(min_length=1)
    cjk: list[str] = Field(min_length=1)

    def pattern(self) -> re.Pattern[str]:
        words = (
            re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w) for w in self.words
        )
        latin = r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)"
        return re.compile(latin + "|" + "|".join(map(re.escape, self.cjk)), re.IGNORECASE)


class _MeetingWords(BaseModel):
    """``extractor/data/meeting_words.json``: words that report a meeting, and a plan."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    note: list[str] = Field(alias="_note")
    report: _Cues
    plan: _Cues


@cache
def _meeting_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    raw = (files("extractor") / "data" / "meeting_words.json").read_text("utf-8")
    data = _MeetingWords.model_validate(json.loads(raw))
    return data.report.pattern(), data.plan.pattern()


def _reports_meeting(sentence: str) -> bool:
    """Whether a sentence says people met, talked or will."""
    return _meeting_patterns()[0].search(sentence) is not None


def _plans(sentence: str) -> bool:
    """Whether a sentence says something is yet to happen."""
    return _meeting_patterns()[1].search(sentence) is not None


@cache
def _words() -> _WordsFile:
    raw = (files("extractor") / "data" / "referring_words.json").read_text("utf-8")
    return _WordsFile.model_validate(json.loads(raw))


def _state_in(phrase: str) -> str | None:
    """The state a short phrase names first ("the People's Republic of China, Mr. X")."""
    found = country_mentions(phrase)
    return min(found, key=lambda code: found[code][0]) if found else None


def _fold(text: str) -> str:
    """Case- and diacritic-blind form for comparing names ("Gusmão" ~ "gusmao")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=8192)
def _name_tokens(text: str) -> frozenset[str]:
    """Name-like words of a phrase, folded, with German digraphs undone ("ue" ~ "ü")."""
    words = re.findall(r"[^\W_](?:[\w'\u2019-]*[^\W_])?", _fold(text))
    tokens = set()
    for word in words:
        if len(word) < 3 and not _CJK.search(word):
            continue
        if only_stopwords(word):
            continue
        tokens.add(word.replace("ae", "a").replace("oe", "o").replace("ue", "u"))
    return frozenset(tokens)


def _shares_name(a: str, b: str) -> bool:
    """Whether two phrases share a name token, or (Chinese) one contains the other."""
    if _CJK.search(a) or _CJK.search(b):
        fa, fb = _fold(a), _fold(b)
        return bool(fa and fb) and (fa in fb or fb in fa)
    return bool(_name_tokens(a) & _name_tokens(b))


def weak_quote(quote: str) -> str | None:
    """Why a quote cannot support anything on its own, or None if it can."""
    if len(_CJK.findall(quote)) >= 2:
        return "is only stop words" if only_stopwords(quote) else None
    if len(_LETTERS.findall(quote)) < 2:
        return "is too short to name anything"
    if _ACRONYM.search(quote):  # "the UN": an acronym names something, whatever the stop list says
        return None
    if only_stopwords(quote) and not any(c.isdigit() for c in quote):
        return "is only stop words"
    return None


def _refers_to_sides(quote: str) -> bool:
    """Whether a sentence speaks of a meeting's sides without naming them ("the two sides")."""
    words = _words()
    if any(w in quote for w in words.cjk.sides):
        return True
    return any(w in words.sides for w in re.findall(r"[^\W_]+", _fold(quote)))


def _referring(quote: str) -> bool:
    """Whether a short phrase refers to something without naming it ("his country")."""
    vocabulary = _words()
    if any(word in quote for word in vocabulary.cjk.entity):
        return True
    words = re.findall(r"[^\W_]+", _fold(quote))
    return 0 < len(words) <= 5 and any(w in vocabulary.entity for w in words)


class Article:
    """One text and what the checks look up in it, each built once, when first needed."""

    def __init__(self, text: str, aligner: Aligner | None = None) -> None:
        self.text = text
        self.aligner = aligner or Aligner(text)

    @cached_property
    def acronyms(self) -> dict[str, str]:
        """The acronyms the article defines ("Organization of Turkic States (OTS)")."""
        return defined_acronyms(self.text)

    @cached_property
    def countries(self) -> dict[str, list[tuple[int, int]]]:
        return country_mentions(self.text)

    @cached_property
    def organisations(self) -> frozenset[str]:
        return organisations_named(self.text)

    @cached_property
    def _ends(self) -> list[int]:
        return [m.end() for m in _SENTENCE_END.finditer(self.text)]

    def passage(self, start: int, end: int, before: int = 1, after: int = 0) -> tuple[int, int]:
        """The sentence(s) around a span, with ``before`` and ``after`` sentences beside it."""
        ends = self._ends
        i = bisect_right(ends, start) - 1 - before
        first = ends[i] if i >= 0 else 0
        j = bisect_left(ends, end) + after
        last = ends[j] if j < len(ends) else len(self.text)
        return first, last

    def organisation(self, as_written: str) -> OrganisationInfo | None:
        """The organisation a name refers to, from the data or the article's own acronyms."""
        return resolve_with_local(as_written, self.acronyms)

    def place(
        self,
        quote: str,
        field: str,
        near: int | None = None,
        *,
        whole_word: bool = False,
        within: list[tuple[int, int]] | None = None,
        after: int | None = None,
    ) -> tuple[Proof | None, str | None]:
        """The quote's passage as a proof of ``field``, or why it supports nothing.

        With ``within``, an occurrence inside those passages is preferred (the
        nearest to ``near``): the same word may occur in another paragraph.
        With ``after``, the first occurrence at or after that offset is: "the
        Ambassador" after a person's name is that person, not an earlier envoy.
        """
        weak = weak_quote(quote)
        if weak is not None:
            return None, f"{quote!r} {weak}"
        match: Match | None = None
        if after is not None:
            later = [
                m for m in self.aligner.locate_all(quote, whole_word=whole_word) if m.start >= after
            ]
            match = later[0] if later else None
            near = after if near is None else near
        if within:
            inside = [
                m
                for m in self.aligner.locate_all(quote)
                if any(s <= m.start and m.end <= e for s, e in within)
            ]
            if inside:
                match = min(inside, key=lambda m: abs(m.start - (near or within[0][0])))
        if match is None:
            match = self.aligner.locate(quote, near=near, whole_word=whole_word)
        if match is None:
            return None, f"{quote!r} is not in the article"
        return Proof(match.start, match.end, match.how, field), None

    def words_around(self, proof: Proof) -> str:
        """The whole sentence(s) a proof lies in."""
        start, end = self.passage(proof.start, proof.end, before=0)
        return self.text[start:end]

    def words(self, proof: Proof) -> str:
        return self.text[proof.start : proof.end]


def _inside(proof: Proof, window: list[tuple[int, int]]) -> bool:
    return any(s <= proof.start and proof.end <= e for s, e in window)


class _Reviewer:
    """Checks one draft against one article, collecting findings as it goes."""

    def __init__(self, article: Article) -> None:
        self.a = article
        self.out = Review()
        self.sides: list[Side] = []  # every supported participant so far, for references

    def find(self, where: str, record: str, field: str, problem: str, outcome: Outcome) -> None:
        self.out.findings.append(Finding(where, record, field, problem, outcome))

    def placed(
        self,
        quote: str,
        field: str,
        where: str,
        record: str,
        near: int | None = None,
        *,
        whole_word: bool = False,
        within: list[tuple[int, int]] | None = None,
        after: int | None = None,
    ) -> Proof | None:
        """A quote placed, counted, and a dropped-quote finding when it supports nothing."""
        self.out.quotes_returned += 1
        proof, problem = self.a.place(
            quote, field, near, whole_word=whole_word, within=within, after=after
        )
        if proof is None:
            self.find(where, record, field, problem or "", "quote dropped")
            return None
        self.out.quotes_grounded += 1
        return proof

    # -- participants ---------------------------------------------------------------

    def side(self, p: DraftParticipant, where: str, record: str) -> Side | None:
        """A participant with its unsupported fields nulled, or None if nothing of it holds."""
        label = f"{record}, {p.name or p.title or p.state or p.organisation or 'a participant'}"
        name = p.name
        named = self.a.aligner.locate(name, whole_word=True) if name else None
        if named is not None and weak_quote(name or "") is not None:
            named = None
        if named is not None and named.how == "diacritics":
            name = self.a.text[named.start : named.end]  # the name as the article spells it
        proofs: list[Proof] = [Proof(named.start, named.end, named.how, "mention")] if named else []
        for j, quote in enumerate(p.mentions):
            at = f"{where}.mentions[{j}]"
            if name and _shares_name(quote, name):
                proof = self.placed(quote, "mention", at, label, whole_word=True)
                if proof is not None:  # a mention carrying the name is theirs wherever it occurs
                    proofs += [
                        Proof(m.start, m.end, m.how, "mention")
                        for m in self.a.aligner.locate_all(quote, whole_word=True)
                    ] or [proof]
                continue
            anchor = named.start if named else None
            proof = self.placed(quote, "mention", at, label, whole_word=True, after=anchor)
            if proof is not None:
                proofs.append(proof)
        if (
            name
            and named is None
            and proofs
            and not any(_shares_name(self.a.words(pr), name) for pr in proofs)
        ):
            self.find(
                f"{where}.name",
                label,
                "name",
                f"{name!r} is not in the article and shares no word with a mention",
                "nulled",
            )
            name = None
        if not proofs:
            self.find(where, label, "mentions", "no mention of it is in the article", "dropped")
            return None
        organisation = p.organisation
        if organisation and not self._org_named(organisation):
            self.find(
                f"{where}.organisation",
                label,
                "organisation",
                f"{organisation!r} is not named in the article",
                "nulled",
            )
            organisation = None
        state = p.state
        if state:
            problem = self._state_problem(state, proofs)
            if problem:
                self.find(f"{where}.state", label, "state", problem, "nulled")
                state = None
        if not (name or state or organisation):
            self.find(
                where,
                label,
                "participant",
                "it has no name, state or organisation that the article states",
                "dropped",
            )
            return None
        side = Side(name, p.title, organisation, state, p.kind, proofs)
        self.sides.append(side)
        return side

    def _org_named(self, as_written: str) -> bool:
        """Whether the article names the organisation, however the model spelt it.

        The names themselves are looked for first; the scan for every known
        alias runs only when none of them is in the text.
        """
        info = self.a.organisation(as_written)
        if info is None and country_code(as_written) is not None:
            return False  # "India" is a state, not an organisation
        names = [as_written] + ([info.short, info.full] if info else [])
        if any(weak_quote(n) is None and self.a.aligner.locate(n) is not None for n in names):
            return True
        return info is not None and info.short in self.a.organisations

    def _state_problem(self, state: str, mentions: list[Proof]) -> str | None:
        """Why the article does not support that a participant represents ``state``.

        The cheap test comes first (the state as written is in the text); the
        scan of every state the article names runs only when it fails.
        """
        code = country_code(state)
        written = weak_quote(state) is None and self.a.aligner.locate(state) is not None
        if code is None and self.a.organisation(state) is not None:
            return f"{state!r} is an organisation, not a state"
        if code is None:
            return None if written else f"{state!r} is not a state named in the article"
        if not written and not self.a.countries.get(code):
            return f"{state!r} is not named in the article"
        text = self.a.text
        for mention in mentions[:3]:
            start, end = self.a.passage(mention.start, mention.end, before=0)
            for match in _ACCREDITED.finditer(text, start, end):
                # Only the envoy's own words: "U Myo Thant Pe, Ambassador of Myanmar to ..."
                # or "Ambassador of India to Uzbekistan Smita Pant", not the minister who
                # meets the envoy in the same sentence.
                near = (
                    match.start() <= mention.end + _BESIDE
                    and mention.start <= match.end() + _BESIDE
                )
                if not near or _state_in(match.group("to")) != code:
                    continue
                of = _OF.search(match.group("between"))
                envoy_of = _state_in(of.group("of")) if of else None
                if envoy_of not in (None, code):
                    return (
                        f"the words say it represents {country_name(envoy_of) or envoy_of}, "
                        f"not {state!r}, the host"
                    )
                return f"the words say {state!r} is the host it is accredited to"
        return None

    # -- meetings -------------------------------------------------------------------

    def meeting(self, i: int, m: DraftMeeting) -> CheckedMeeting | None:
        where = f"meetings[{i}]"
        names = ", ".join(s.name or s.title or s.state or "?" for s in m.sides[:3])
        record = f"meeting {i + 1} ({names})"
        sides = []
        for k, p in enumerate(m.sides):
            side = self.side(p, f"{where}.sides[{k}]", record)
            if side is not None:
                sides.append(side)
        if len(sides) < 2:
            self.find(
                where, record, "sides", "fewer than two sides the article supports", "dropped"
            )
            return None
        placed: list[tuple[int, Proof]] = []
        near: int | None = None
        for j, quote in enumerate(m.quotes):
            proof = self.placed(quote, "meeting", f"{where}.quotes[{j}]", record, near)
            if proof is not None:
                placed.append((j, proof))
                near = proof.start if near is None else near
        naming = [p for _, p in placed if any(self._names_side(p, s) for s in sides)]
        if not naming:
            self.find(
                f"{where}.quotes", record, "meeting", "no quote reports it naming a side", "dropped"
            )
            return None
        if not any(_reports_meeting(self.a.words_around(p)) for p in naming):
            self.find(
                f"{where}.quotes",
                record,
                "meeting",
                "no sentence of a quote naming a side says they met or talked "
                "(met, talks, received, call, visit...)",
                "dropped",
            )
            return None
        # A quote that names no side belongs to the report only beside one that does.
        reach = [self.a.passage(p.start, p.end, before=2, after=2) for p in naming]
        proofs: list[Proof] = []
        for j, proof in placed:
            if proof in naming or _inside(proof, reach):
                proofs.append(proof)
            else:
                self.find(
                    f"{where}.quotes[{j}]",
                    record,
                    "meeting",
                    f"{m.quotes[j]!r} names none of its sides and is far from words that do",
                    "quote dropped",
                )
        near = naming[0].start
        date_text = self._optional(m.date_text, "date", f"{where}.date_text", record, near, proofs)
        # "Planned" moves the date: it must be said where the date is, else where the report is.
        planned_where = proofs[-1:] if date_text else proofs
        place = self._optional(m.place, "place", f"{where}.place", record, near, proofs)
        status, unchecked = m.status, ["format", "topics", "outcomes"]
        if status is MeetingStatus.planned and not any(
            _plans(self.a.words_around(p)) for p in planned_where
        ):
            status = MeetingStatus.held
            self.find(
                f"{where}.status",
                record,
                "status",
                "'planned', but no word of its date's sentence (of its quotes' sentences "
                "when undated) says it is yet to happen (will, to hold, next...): "
                "reported as held",
                "changed",
            )
        if status is MeetingStatus.held:
            unchecked.insert(0, "status")  # the default: no words are needed, none are checked
        return CheckedMeeting(m, sides, proofs, date_text, place, status, unchecked)

    def _names_side(self, proof: Proof, side: Side) -> bool:
        """Whether a passage names a side: one of its mentions lies in it, or its name does.

        "The two ministers" names both sides when one is mentioned in the two
        sentences before it.
        """
        if any(proof.start <= p.start and p.end <= proof.end for p in side.proofs):
            return True
        if _refers_to_sides(self.a.words(proof)):
            start, _ = self.a.passage(proof.start, proof.end, before=2)
            if any(start <= p.start < proof.start for p in side.proofs):
                return True
        words = self.a.words(proof)
        folded = _fold(words)
        if side.name and _shares_name(words, side.name):
            return True
        if any(value and _fold(value) in folded for value in (side.state, side.organisation)):
            return True
        # A mention elsewhere counts when it names, not when it only refers ("the organization").
        return any(_fold(m) in folded and not _referring(m) for m in map(self.a.words, side.proofs))

    def _optional(
        self,
        quote: str | None,
        field: str,
        where: str,
        record: str,
        near: int | None,
        proofs: list[Proof],
    ) -> str | None:
        """A field as written, kept (and its passage added) only if the article has it."""
        if not quote:
            return None
        proof, problem = self.a.place(quote, field, near)
        if proof is None:
            self.find(where, record, field, problem or "", "nulled")
            return None
        proofs.append(proof)
        return quote

    # -- claims ---------------------------------------------------------------------

    def claim(self, i: int, c: DraftStatusClaim) -> CheckedClaim | None:
        at = self._passage(i, c)
        if at is None:
            return None
        where, record = at.where, at.record
        proofs = list(at.anchors)
        unchecked = ["upgrade", "from_status"]

        def drop(field: str, problem: str) -> None:
            self.find(f"{where}.{field}_quote", record, field, problem, "dropped")

        # Status: a surface form of it in its own quote, or in the claim's sentence.
        checkable = status_checkable(c.status)
        status = self._carried(
            at, "status", c.status_quote, lambda t: status_cue(t, c.status), checkable
        )
        if checkable and status is None:
            drop("status", f"no words in the claim's passage state {c.status.value!r}")
            return None
        if not checkable:
            unchecked.append("status")
        proofs += [status] if status else []

        problem = self._organisation_problem(c, at, proofs)
        if problem is not None:
            drop("organisation", problem)
            return None

        claimant = self.side(c.claimant, f"{where}.claimant", record) if c.claimant else None
        if c.claimant and claimant is None:
            self.find(
                f"{where}.claimant", record, "claimant", "not supported by the article", "nulled"
            )
        subject = self.placed(
            c.subject_quote, "subject", f"{where}.subject_quote", record, at.near, within=at.window
        )
        problem = (
            "its quote is not in the claim's passage"
            if subject is None or not _inside(subject, at.window)
            else self._subject_problem(c.subject, subject)
        )
        if problem is not None:
            drop("subject", problem)
            return None
        assert subject is not None
        proofs.append(subject)

        # Stance: a cue in its own quote or the claim's sentence; else null.
        stance: Stance | None = c.stance
        checkable = stance_checkable(c.stance)
        backing = self._carried(
            at, "stance", c.stance_quote, lambda t: stance_cue(t, c.stance), checkable
        )
        if checkable and backing is None:
            if not at.anchors:
                # Without its sentence, only quotes carrying every field hold a claim up.
                drop("stance", f"no sentence of it is in the article to carry {c.stance.value!r}")
                return None
            self.find(
                f"{where}.stance",
                record,
                "stance",
                f"no words in the claim's passage carry {c.stance.value!r}",
                "nulled",
            )
            stance = None
        if not checkable:
            unchecked.append("stance")
        proofs += [backing] if backing else []

        supporters = []
        for k, p in enumerate(c.supporters):
            side = self.side(p, f"{where}.supporters[{k}]", record)
            if side is None:
                self.find(
                    f"{where}.supporters[{k}]", record, "supporter", "not supported", "nulled"
                )
            else:
                supporters.append(side)
        time_text = self._optional(
            c.time_text, "time", f"{where}.time_text", record, at.near, proofs
        )
        return CheckedClaim(c, stance, claimant, supporters, time_text, proofs, unchecked)

    def _passage(self, i: int, c: DraftStatusClaim) -> _Passage | None:
        """Where a claim sits: its sentences as placed, or its status words without them."""
        where, record = f"status_claims[{i}]", f"status claim {i + 1} ({c.subject})"
        anchors: list[Proof] = []
        for j, quote in enumerate(c.quotes):
            near = anchors[0].start if anchors else None
            proof = self.placed(quote, "claim", f"{where}.quotes[{j}]", record, near)
            if proof is not None:
                anchors.append(proof)
        if anchors:
            window = [self.a.passage(p.start, p.end) for p in anchors]
            return _Passage(where, record, anchors, window, anchors[0].start)
        status, _ = self.a.place(c.status_quote, "status")  # only to find the passage
        if status is None:
            self.find(where, record, "status", "no quote of the claim is in the article", "dropped")
            return None
        return _Passage(where, record, [], [self.a.passage(status.start, status.end)], status.start)

    def _carried(
        self,
        at: _Passage,
        field: str,
        quote: str | None,
        cue: Callable[[str], str | None],
        checkable: bool,
    ) -> Proof | None:
        """The passage carrying a field: its own quote, in the claim's passage, with a cue.

        Failing that, the cue in one of the claim's sentences, and the field's
        own quote is dropped alone. A field no rule can check keeps its quote
        as evidence (if it is in the passage) and nothing more.
        """
        where = f"{at.where}.{field}_quote"
        own = (
            self.placed(quote, field, where, at.record, at.near, within=at.window)
            if quote
            else None
        )
        if own is not None and not _inside(own, at.window):
            self.find(where, at.record, field, "is outside the claim's passage", "quote dropped")
            own = None
        if not checkable:
            return own
        backing = self._cue(own, at.anchors, cue, field)
        if own is not None and backing is not None and backing is not own:
            problem = f"{quote!r} does not carry the {field}"
            self.find(where, at.record, field, problem, "quote dropped")
        return backing

    def _organisation_problem(
        self, c: DraftStatusClaim, at: _Passage, proofs: list[Proof]
    ) -> str | None:
        """Why the article does not support the claim's organisation (its proof joins ``proofs``).

        It must be named in the article, must not be the subject itself, and the
        claim's passage must not name another organisation instead.
        """
        if not self._org_named(c.organisation):
            return f"{c.organisation!r} is not named in the article"
        org = self.a.organisation(c.organisation)
        subject_org = self.a.organisation(c.subject)
        if (org is not None and subject_org is not None and org.short == subject_org.short) or (
            _fold(c.subject.strip()) == _fold(c.organisation.strip())
        ):
            return f"{c.subject!r} cannot hold a status in itself"
        proof = self._org_proof(c.organisation, org, at.near)
        if proof is not None:
            proofs.append(proof)
        here = organisations_named(" ".join(self.a.text[s:e] for s, e in at.window))
        if (
            here
            and (org is None or org.short not in here)
            and not (proof is not None and _inside(proof, at.window))
        ):
            return f"the claim's passage names {', '.join(sorted(here))}, not {c.organisation!r}"
        return None

    def _cue(
        self,
        own: Proof | None,
        anchors: list[Proof],
        find: Callable[[str], str | None],
        field: str,
    ) -> Proof | None:
        """What backs a field: its own quote if that has the cue, else the cue in a sentence."""
        if own is not None and find(self.a.words(own)):
            return own
        for anchor in anchors:
            words = self.a.words(anchor)
            cue = find(words)
            if cue:
                at = _fold(words).find(_fold(cue))
                if at >= 0 and len(_fold(words)) == len(words):
                    start = anchor.start + at
                    return Proof(start, start + len(cue), anchor.how, field)
                return Proof(anchor.start, anchor.end, anchor.how, field)
        return None

    def _org_proof(
        self, as_written: str, info: OrganisationInfo | None, near: int | None
    ) -> Proof | None:
        candidates = [as_written] + ([info.short, info.full] if info else [])
        for name in candidates:
            if weak_quote(name) is None:
                match = self.a.aligner.locate(name, near=near, whole_word=True)
                if match is not None:
                    return Proof(match.start, match.end, match.how, "organisation")
        return None

    def _antecedent(self, before: int) -> str | None:
        """The state "his country" or "the Kingdom" stands for, just before an offset.

        A participant mentioned in the same passage comes first ("The Ambassador
        reaffirmed that his country..." is the ambassador's state); else the
        state named nearest before it, except a host state after "to" ("the
        Ambassador of Myanmar to China": his country is not China).
        """
        start, _ = self.a.passage(before, before)
        best: tuple[int, str] | None = None
        for side in self.sides:
            code = country_code(side.state) if side.state else None
            if code is None:
                continue
            for p in side.proofs:
                if start <= p.start < before and (best is None or p.start > best[0]):
                    best = (p.start, code)
        if best is not None:
            return best[1]
        text = self.a.text
        for code, spans in self.a.countries.items():
            for s, _ in spans:
                host = _TO_BEFORE.search(text[max(0, s - 12) : s])
                if s < before and not host and (best is None or s > best[0]):
                    best = (s, code)
        return best[1] if best else None

    def _subject_problem(self, subject: str, proof: Proof) -> str | None:
        """Why the subject quote does not name or refer to the subject, or None if it does."""
        words = self.a.words(proof)
        code = country_code(subject)
        if code is not None:
            named = country_code(words)
            if named == code:
                return None
            if named is not None:
                return f"{words!r} names another state than {subject!r}"
            spans = self.a.countries.get(code, [])
            if not spans:
                return f"{subject!r} is not named in the article"
            if any(proof.start <= s and e <= proof.end for s, e in spans):
                return None
            if _referring(words):
                antecedent = self._antecedent(proof.start)
                if antecedent == code:
                    return None
                if antecedent is not None:
                    name = country_name(antecedent) or antecedent
                    return f"{words!r} refers to {name}, the state named just before it"
            return f"{words!r} does not name or refer to {subject!r}"
        info = self.a.organisation(subject)
        if info is not None:
            if not self._org_named(subject):
                return f"{subject!r} is not named in the article"
            quoted = self.a.organisation(words)
            if (quoted is not None and quoted.short == info.short) or _referring(words):
                return None
            return f"{words!r} does not name or refer to {subject!r}"
        # A person or an entity no table knows: the name itself must be in the article.
        if weak_quote(subject) is not None or not (
            self.a.aligner.locate(subject) is not None
            or any(self.a.aligner.locate(t) is not None for t in _name_tokens(subject))
        ):
            return f"{subject!r} is not named in the article"
        if _shares_name(words, subject) or _referring(words):
            return None
        return f"{words!r} does not name or refer to {subject!r}"


def review(draft: DraftExtraction, article: Article) -> Review:
    """Check every record of a draft against the article; cheap enough to run on every answer."""
    reviewer = _Reviewer(article)
    for i, m in enumerate(draft.meetings):
        checked = reviewer.meeting(i, m)
        if checked is not None:
            reviewer.out.meetings.append(checked)
    for i, c in enumerate(draft.status_claims):
        claim = reviewer.claim(i, c)
        if claim is not None:
            reviewer.out.claims.append(claim)
    return reviewer.out
