"""From the model's draft to grounded, normalised records.

Pure and deterministic: given a document and a draft it always yields the same
``Extraction``. This is where the trust rules are enforced a second time, after
the re-ask loop: every quote is aligned to offsets in the original text, and a
meeting or claim with a quote that does not align is dropped with a warning, so
nothing ungrounded can leave the pipeline even when the re-ask budget ran out.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .countries import country_code
from .dates import resolve_date
from .document import Document, english
from .grounding import Aligner
from .identity import Profile, group_same
from .organisations import resolve_organisation
from .schemas import (
    DocumentInfo,
    DraftExtraction,
    DraftParticipant,
    Evidence,
    Extraction,
    Grounding,
    Meeting,
    MeetingFormat,
    MeetingStatus,
    Organisation,
    Participant,
    ParticipantKind,
    RunInfo,
    Status,
    StatusClaim,
)
from .statuses import is_known, level_below, levels

# Standings that are not rungs of a membership ladder, so no vocabulary lists them.
_NOT_LEVELS = {Status.chair, Status.office_holder, Status.other}


def stable_id(prefix: str, *parts: object) -> str:
    """An id that is the same on every run for the same document and record."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()
    return f"{prefix}-{digest[:12]}"


# "Organization of Turkic States (OTS)": a name the article abbreviates itself.
_DEFINED_ACRONYM = re.compile(
    r"\b((?:[A-Z][\w'\u2019-]*)(?:\s+(?:(?:of|for|and|the|on|in|de|du|des)\s+)*"
    r"[A-Z][\w'\u2019-]*){1,8})\s+\(([A-Z][A-Z0-9]{1,9})\)"
)

_ACRONYM_IN_PARENS = re.compile(r"\([A-Z][A-Z0-9]{1,9}\)")


def defined_acronyms(text: str) -> dict[str, str]:
    """Acronyms the article defines, each with the full name it gives (first definition wins).

    The full name is the run of words ending before the parenthesis whose capitals
    spell the acronym ("the Secretary-General of the Organization of Turkic States
    (OTS)" gives "Organization of Turkic States").
    """
    found: dict[str, str] = {}
    for paren in _ACRONYM_IN_PARENS.finditer(text):
        # A definition holds no parenthesis before its own, so only the stretch since the
        # last one is searched: the same matches as over the whole text, at a fraction of
        # the cost (the full pattern is tried at every capital letter).
        before = paren.start()
        stretch = max(text.rfind("(", 0, before), text.rfind(")", 0, before)) + 1
        match = _DEFINED_ACRONYM.search(text, stretch, paren.end())
        if match is None:
            continue
        words, acronym = match.group(1).split(), match.group(2)
        capitals = 0
        for start in range(len(words) - 1, -1, -1):
            capitals += words[start][0].isupper()
            if capitals == len(acronym):
                initials = "".join(w[0] for w in words[start:] if w[0].isupper())
                if initials == acronym:
                    found.setdefault(acronym, " ".join(words[start:]))
                break
    return found


def organisation(
    as_written: str | None, local: dict[str, str] | None = None
) -> Organisation | None:
    """Canonical short and full name where known, the words as written otherwise.

    ``local`` holds the acronyms the article itself defines, so an organisation
    missing from the data table is still named one way however the text refers to it.
    """
    if not as_written or not as_written.strip():
        return None
    known = resolve_organisation(as_written)
    if known is not None:
        return Organisation(short=known.short, full=known.full, as_written=as_written)
    written = " ".join(as_written.split()).removeprefix("the ").removeprefix("The ")
    for acronym, full in (local or {}).items():
        if written == acronym or written.casefold() == full.casefold():
            return Organisation(short=acronym, full=full, as_written=as_written)
    return Organisation(short=None, full=as_written.strip(), as_written=as_written)


def document_info(document: Document) -> DocumentInfo:
    dateline = document.dateline
    return DocumentInfo(
        id=document.id,
        source=document.source,
        sha256=document.sha256,
        chars=len(document.text),
        dateline_date=dateline.date if dateline else None,
        dateline_place=dateline.place if dateline else None,
        outlet=dateline.outlet if dateline else None,
        content_type="html" if document.content_type == "html" else "text",
        text_extractor=document.text_extractor,
        text=document.text if document.content_type == "html" else None,
    )


_Span = tuple[int, int]
"""A passage as ``(start, end)`` offsets into the document text."""


@dataclass
class _Grounder:
    """Aligns quotes and remembers why records were dropped.

    Passages stay plain spans, and the counts plain ints, until records are
    built: a validated pydantic object per quote (and a model attribute per
    count) cost more than the records themselves.
    """

    text: str
    aligner: Aligner
    warnings: list[str] = field(default_factory=list)
    acronyms: dict[str, str] = field(default_factory=dict)
    returned: int = 0
    grounded: int = 0
    dropped: int = 0

    def span(self, quote: str, hint: int = 0, *, whole_word: bool = False) -> _Span | None:
        self.returned += 1
        span = self.aligner.find(quote, start_hint=hint, whole_word=whole_word)
        if span is not None:
            self.grounded += 1
        return span

    def evidence(self, spans: Iterable[_Span]) -> list[Evidence]:
        """Evidence for the passages, in text order, without repeats or passages inside another."""
        text = self.text
        return [Evidence(quote=text[s:e], start=s, end=e) for s, e in _unique_spans(spans)]

    def stats(self) -> Grounding:
        return Grounding(
            quotes_returned=self.returned,
            quotes_grounded=self.grounded,
            records_dropped=self.dropped,
        )

    def drop(self, warning: str) -> None:
        self.dropped += 1
        self.warnings.append(warning)

    def mentions(self, quote: str, name: str | None, hint: int) -> list[_Span]:
        """Passages of one mention of a participant.

        A mention carrying the person's name ("Putin", "Mr. Sarybay") is theirs
        wherever it occurs, so every occurrence is kept; one by title only
        ("the Ambassador") may mean someone else elsewhere, so only the first
        occurrence at or after the participant's name is taken.
        """
        name_words = {w.casefold() for w in (name or "").split()}
        if name_words & {w.casefold().strip(".,") for w in quote.split()}:
            self.returned += 1
            spans = self.aligner.find_all(quote, whole_word=True) or self.aligner.find_all(quote)
            if not spans:
                return []
            self.grounded += 1
            return spans
        span = self.span(quote, hint, whole_word=True)
        return [span] if span else []

    def all_or_nothing(self, quotes: Iterable[str], what: str) -> list[Evidence] | None:
        """Evidence for every quote, or None (and a warning) if any fails to align."""
        found: list[_Span] = []
        for quote in quotes:
            span = self.span(quote)
            if span is None:
                self.drop(f"dropped {what}: quote not found in the text: {quote!r}")
                return None
            found.append(span)
        return self.evidence(found)


def _unique_spans(spans: Iterable[_Span]) -> list[_Span]:
    """Spans in text order, without repeats or passages inside another one."""
    kept: list[_Span] = []
    for start, end in sorted(set(spans), key=lambda span: (span[0], -span[1])):
        if kept and start >= kept[-1][0] and end <= kept[-1][1]:
            continue
        kept.append((start, end))
    return kept


def _unique(evidence: Iterable[Evidence]) -> list[Evidence]:
    """Evidence in text order, without repeats or passages inside another one."""
    by_span = {(e.start, e.end): e for e in evidence}
    return [by_span[span] for span in _unique_spans(by_span)]


def _participants(
    draft: DraftExtraction, g: _Grounder, doc_sha: str
) -> tuple[list[Participant], dict[str, str]]:
    """Grounded, merged participants, and each draft ref's participant id."""
    grounded: list[tuple[DraftParticipant, list[_Span]]] = []
    for p in draft.participants:
        label = p.name or p.title or p.ref
        name_span = g.span(p.name) if p.name else None
        if p.name and name_span is None:
            g.drop(f"dropped participant {label!r}: name not found in the text")
            continue
        hint = name_span[0] if name_span else 0
        mentions: list[_Span] = []
        for quote in p.mentions:
            found = g.mentions(quote, p.name, hint)
            if not found:
                g.warnings.append(f"dropped mention {quote!r} of {label!r}: not found in the text")
            mentions += found
        if name_span:
            mentions.append(name_span)
        if not mentions:
            g.drop(f"dropped participant {label!r}: no mention found in the text")
            continue
        grounded.append((p, mentions))

    # Each draft's organisation is resolved once, for its profile and for the record.
    orgs = [organisation(p.organisation, g.acronyms) for p, _ in grounded]
    profiles = [
        Profile(
            name=p.name,
            title=p.title,
            organisation=(org.short or org.full) if org else None,
            state=country_code(p.state) or p.state,
            is_person=p.kind is ParticipantKind.person,
        )
        for (p, _), org in zip(grounded, orgs, strict=True)
    ]
    groups = group_same(profiles)

    members: dict[int, list[int]] = {}
    for i, g_root in enumerate(groups):
        members.setdefault(g_root, []).append(i)
    ref_to_id: dict[str, str] = {}
    result: list[Participant] = []
    for indices in members.values():
        drafts = [grounded[i][0] for i in indices]
        spans = _unique_spans(span for i in indices for span in grounded[i][1])
        named = max(drafts, key=lambda d: len(d.name or ""))
        name = named.name
        # The title given with the fullest name, not the longest description.
        title = named.title or next((d.title for d in drafts if d.title), None)
        org = next((orgs[i] for i in indices if grounded[i][0].organisation), None)
        state_written = next((d.state for d in drafts if d.state), None)
        kind = drafts[0].kind
        state = country_code(state_written)
        if kind is ParticipantKind.state and state is None:
            state = country_code(name) or next(
                (c for c in (country_code(g.text[s:e]) for s, e in spans) if c), None
            )
        pid = stable_id("p", doc_sha, name or "", title or "", spans[0][0])
        for d in drafts:
            ref_to_id[d.ref] = pid
        result.append(
            Participant(
                id=pid,
                kind=kind,
                name=name,
                title=title,
                organisation=org,
                state=state,
                state_as_written=state_written,
                mentions=g.evidence(spans),
            )
        )
    result.sort(key=lambda p: p.mentions[0].start)
    return result, ref_to_id


def _meetings(
    draft: DraftExtraction, g: _Grounder, ids: dict[str, str], document: Document
) -> list[Meeting]:
    dateline = document.dateline
    anchor = dateline.date if dateline else None
    found: list[Meeting] = []
    for i, m in enumerate(draft.meetings):
        what = f"meeting {i + 1}"
        evidence = g.all_or_nothing(m.quotes, what)
        if evidence is None:
            continue
        sides = list(dict.fromkeys(ids[r] for r in m.participants if r in ids))
        if len(sides) < 2:
            g.drop(f"dropped {what}: fewer than two grounded participants")
            continue
        planned = m.status is MeetingStatus.planned
        from_dateline: list[str] = []
        date = resolve_date(m.date_text, anchor, planned=planned) if m.date_text else None
        if m.date_text is None and not planned and anchor is not None:
            date = anchor
            from_dateline.append("date")
        place = english("places", m.place.strip()) if m.place else None
        remote = m.format in (MeetingFormat.phone, MeetingFormat.video)
        if place is None and not planned and not remote and dateline and dateline.place:
            place = dateline.place
            from_dateline.append("place")
        found.append(
            Meeting(
                id=stable_id("m", document.sha256, *sides, m.status, date, evidence[0].start),
                participants=sides,
                status=m.status,
                format=m.format,
                date=date,
                date_text=m.date_text,
                place=place,
                from_dateline=from_dateline,  # type: ignore[arg-type]
                topics=m.topics,
                outcomes=m.outcomes,
                evidence=evidence,
            )
        )
    merged: list[Meeting] = []
    for meeting in sorted(found, key=lambda m: m.evidence[0].start):
        twin = next((k for k, m in enumerate(merged) if _same_meeting(m, meeting)), None)
        if twin is None:
            merged.append(meeting)
        else:  # the same meeting reported twice (or in two chunks): one record
            merged[twin] = _merge_meetings(merged[twin], meeting)
    return merged


def _same_meeting(a: Meeting, b: Meeting) -> bool:
    """Same sides and status, and dates that do not contradict each other."""
    if set(a.participants) != set(b.participants) or a.status != b.status:
        return False
    return (
        a.date == b.date
        or None in (a.date, b.date)
        or "date" in a.from_dateline
        or "date" in b.from_dateline
    )


def _merge_meetings(a: Meeting, b: Meeting) -> Meeting:
    """One record from two reports of a meeting; what a text states beats the dateline."""

    def stated(field: str) -> Meeting:
        return b if field in a.from_dateline and field not in b.from_dateline else a

    date_from, place_from = stated("date"), stated("place")
    return a.model_copy(
        update={
            "format": a.format if a.format is not MeetingFormat.unknown else b.format,
            "date": date_from.date if date_from.date else (a.date or b.date),
            "date_text": date_from.date_text or a.date_text or b.date_text,
            "place": place_from.place or a.place or b.place,
            "from_dateline": [
                f
                for f, src in (("date", date_from), ("place", place_from))
                if f in src.from_dateline
            ],
            "topics": list(dict.fromkeys([*a.topics, *b.topics])),
            "outcomes": list(dict.fromkeys([*a.outcomes, *b.outcomes])),
            "evidence": _unique([*a.evidence, *b.evidence]),
        }
    )


def _claims(
    draft: DraftExtraction, g: _Grounder, ids: dict[str, str], document: Document
) -> list[StatusClaim]:
    anchor = document.dateline.date if document.dateline else None
    merged: dict[tuple[object, ...], StatusClaim] = {}
    for i, c in enumerate(draft.status_claims):
        evidence = g.all_or_nothing(c.quotes, f"status claim {i + 1} ({c.subject})")
        if evidence is None:
            continue
        org = organisation(c.organisation, g.acronyms)
        if org is None:
            g.drop(f"dropped status claim {i + 1}: no organisation")
            continue
        subject_participant = ids.get(c.subject_ref) if c.subject_ref else None
        subject_code = country_code(c.subject)
        from_status, inferred = c.from_status, False
        if from_status is None and c.upgrade and org.short:
            from_status = level_below(org.short, c.status, anchor)
            inferred = from_status is not None
        if (
            c.status not in _NOT_LEVELS
            and org.short
            and levels(org.short, anchor)
            and not is_known(org.short, c.status, anchor)
        ):
            g.warnings.append(
                f"status claim {i + 1}: {org.short} has no {c.status.value!r} status "
                f"{'on ' + anchor.isoformat() if anchor else 'today'}; kept as the text says it"
            )
        key = (subject_code or c.subject.casefold(), org.short or org.full, c.status, c.stance)
        claimant = ids.get(c.claimant_ref) if c.claimant_ref else None
        supporters = {ids[r] for r in c.supporter_refs if r in ids}
        if key in merged:  # the same claim twice (or in two chunks): one record
            old = merged[key]
            merged[key] = old.model_copy(
                update={
                    "evidence": _unique([*old.evidence, *evidence]),
                    "subject_participant": old.subject_participant or subject_participant,
                    "claimant": old.claimant or claimant,
                    "supporters": sorted({*old.supporters, *supporters}),
                    "from_status": old.from_status or from_status,
                    "from_status_inferred": (
                        old.from_status_inferred if old.from_status else inferred
                    ),
                    "time_text": old.time_text or c.time_text,
                }
            )
            continue
        merged[key] = StatusClaim(
            id=stable_id("c", document.sha256, *key, evidence[0].start),
            subject=c.subject,
            subject_code=subject_code,
            subject_participant=subject_participant,
            organisation=org,
            status=c.status,
            status_text=c.status_text,
            stance=c.stance,
            from_status=from_status,
            from_status_inferred=inferred,
            claimant=claimant,
            supporters=sorted(supporters),
            time_text=c.time_text,
            evidence=evidence,
        )
    return sorted(merged.values(), key=lambda c: c.evidence[0].start)


def assemble(
    document: Document,
    draft: DraftExtraction,
    run: RunInfo,
    *,
    aligner: Aligner | None = None,
    warnings: Iterable[str] = (),
) -> Extraction:
    """Ground, normalise and merge a draft into the records users get."""
    g = _Grounder(
        document.text,
        aligner or Aligner(document.text),
        list(warnings),
        acronyms=defined_acronyms(document.text),
    )
    participants, ids = _participants(draft, g, document.sha256)
    meetings = _meetings(draft, g, ids, document)
    claims = _claims(draft, g, ids, document)
    return Extraction(
        document=document_info(document),
        run=run,
        participants=participants,
        meetings=meetings,
        status_claims=claims,
        grounding=g.stats(),
        warnings=g.warnings,
    )
