"""From the model's draft to supported, normalised records.

Pure and deterministic: given a document and a draft it always yields the same
``Extraction``. The support check (``extractor.ground.support``) runs here a last time,
after the re-ask loop, so nothing unsupported leaves the pipeline even when the
re-ask budget ran out; what it keeps is then normalised (countries,
organisations, statuses, dates) and merged (one participant per person, one
record per meeting or claim reported twice).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from extractor.ground.support import Article, CheckedClaim, CheckedMeeting, Proof, Side, review
from extractor.normalise.countries import country_code
from extractor.normalise.identity import Profile, group_same
from extractor.normalise.organisations import resolve_with_local
from extractor.normalise.statuses import NOT_LEVELS, is_known, level_below, levels
from extractor.read.dateline import english
from extractor.read.document import Document
from extractor.schemas import (
    DocumentInfo,
    DraftExtraction,
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
    StatusClaim,
)
from extractor.text.dates import resolve_date


def stable_id(prefix: str, *parts: object) -> str:
    """An id that is the same on every run for the same document and record."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()
    return f"{prefix}-{digest[:12]}"


def organisation(
    as_written: str | None, local: dict[str, str] | None = None
) -> Organisation | None:
    """Canonical short and full name where known, the words as written otherwise.

    ``local`` holds the acronyms the article itself defines, so an organisation
    missing from the data table is still named one way however the text refers to it.
    """
    if not as_written or not as_written.strip():
        return None
    known = resolve_with_local(as_written, local or {})
    if known is not None:
        return Organisation(short=known.short, full=known.full, as_written=as_written)
    return Organisation(short=None, full=as_written.strip(), as_written=as_written)


def document_info(document: Document) -> DocumentInfo:
    dateline, meta = document.dateline, document.meta
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
        input_id=meta.input_id,
        url=meta.url,
        title=meta.title,
        language=meta.language,
        published=meta.published,
        offsets_refer_to="body" if meta.body else "file",
    )


def _evidence(text: str, proofs: Iterable[Proof]) -> list[Evidence]:
    """Evidence for the passages, in text order."""
    return _unique(
        Evidence(
            quote=text[p.start : p.end], start=p.start, end=p.end, field=p.field, aligned=p.how
        )  # type: ignore[arg-type]
        for p in proofs
    )


def _unique(evidence: Iterable[Evidence]) -> list[Evidence]:
    """Evidence in text order, without repeats or passages inside another of the same field.

    Where two fields claim the same passage the first is kept, so a claim's
    sentence stays "claim" even when it also carries the stance.
    """
    by_span: dict[tuple[int, int], Evidence] = {}
    for e in evidence:
        by_span.setdefault((e.start, e.end), e)
    kept: list[Evidence] = []
    for e in sorted(by_span.values(), key=lambda e: (e.start, -e.end)):
        if any(k.field == e.field and k.start <= e.start and e.end <= k.end for k in kept):
            continue
        kept.append(e)
    return kept


def _participants(
    sides: list[Side], text: str, acronyms: dict[str, str], doc_sha: str
) -> tuple[list[Participant], dict[int, str]]:
    """Merged participants, and each side's participant id (keyed by ``id(side)``)."""
    orgs = [organisation(s.organisation, acronyms) for s in sides]
    profiles = [
        Profile(
            name=s.name,
            title=s.title,
            organisation=(org.short or org.full) if org else None,
            state=country_code(s.state) or s.state,
            is_person=s.kind is ParticipantKind.person,
        )
        for s, org in zip(sides, orgs, strict=True)
    ]
    groups = group_same(profiles)
    members: dict[int, list[int]] = {}
    for i, root in enumerate(groups):
        members.setdefault(root, []).append(i)
    side_to_id: dict[int, str] = {}
    by_id: dict[str, Participant] = {}
    for indices in members.values():
        group = [sides[i] for i in indices]
        evidence = _evidence(text, (p for s in group for p in s.proofs))
        named = max(group, key=lambda d: len(d.name or ""))
        name = named.name
        # The title given with the fullest name, not the longest description.
        title = named.title or next((d.title for d in group if d.title), None)
        org = next((orgs[i] for i in indices if sides[i].organisation), None)
        state_written = next((d.state for d in group if d.state), None)
        kind = group[0].kind
        state = country_code(state_written)
        if kind is ParticipantKind.state and state is None:
            state = country_code(name) or next(
                (c for c in (country_code(e.quote) for e in evidence) if c), None
            )
        pid = stable_id("p", doc_sha, name or "", title or "", evidence[0].start)
        for d in group:
            side_to_id[id(d)] = pid
        if (same := by_id.get(pid)) is not None:
            # Same name, title and first mention, kept apart only by a field one side
            # lacks (a weak model's "kind" or organisation): one participant, not two.
            by_id[pid] = same.model_copy(
                update={
                    "mentions": _unique([*same.mentions, *evidence]),
                    "organisation": same.organisation or org,
                    "state": same.state or state,
                    "state_as_written": same.state_as_written or state_written,
                }
            )
            continue
        by_id[pid] = Participant(
            id=pid,
            kind=kind,
            name=name,
            title=title,
            organisation=org,
            state=state,
            state_as_written=state_written,
            mentions=evidence,
            unchecked=["title", "kind"],
        )
    result = sorted(by_id.values(), key=lambda p: p.mentions[0].start)
    return result, side_to_id


def _meetings(
    checked: list[CheckedMeeting], ids: dict[int, str], document: Document, stats: _Stats
) -> list[Meeting]:
    dateline = document.dateline
    anchor = dateline.date if dateline else None
    found: list[Meeting] = []
    for i, c in enumerate(checked):
        m = c.draft
        sides = list(dict.fromkeys(ids[id(s)] for s in c.sides))
        if len(sides) < 2:
            stats.drop(f"dropped meeting {i + 1}: its sides are one participant")
            continue
        planned = c.status is MeetingStatus.planned
        from_dateline: list[str] = []
        date = resolve_date(c.date_text, anchor, planned=planned) if c.date_text else None
        if c.date_text is None and not planned and anchor is not None:
            date = anchor
            from_dateline.append("date")
        place = english("places", c.place.strip()) if c.place else None
        remote = m.format in (MeetingFormat.phone, MeetingFormat.video)
        if place is None and not planned and not remote and dateline and dateline.place:
            place = dateline.place
            from_dateline.append("place")
        evidence = _evidence(document.text, c.proofs)
        found.append(
            Meeting(
                id=stable_id("m", document.sha256, *sides, c.status, date, evidence[0].start),
                participants=sides,
                status=c.status,
                format=m.format,
                date=date,
                date_text=c.date_text,
                place=place,
                from_dateline=from_dateline,  # type: ignore[arg-type]
                topics=m.topics,
                outcomes=m.outcomes,
                evidence=evidence,
                unchecked=c.unchecked,
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
    checked: list[CheckedClaim],
    ids: dict[int, str],
    participants: list[Participant],
    document: Document,
    stats: _Stats,
    acronyms: dict[str, str],
) -> list[StatusClaim]:
    anchor = document.dateline.date if document.dateline else None
    merged: dict[tuple[object, ...], StatusClaim] = {}
    for i, checked_claim in enumerate(checked):
        c = checked_claim.draft
        org = organisation(c.organisation, acronyms)
        assert org is not None  # support keeps only claims whose organisation is named
        subject_code = country_code(c.subject)
        subject_participant = _person(c.subject, participants) if subject_code is None else None
        from_status, inferred = c.from_status, False
        if from_status is None and c.upgrade and org.short:
            from_status = level_below(org.short, c.status, anchor)
            inferred = from_status is not None
        if (
            c.status not in NOT_LEVELS
            and org.short
            and levels(org.short, anchor)
            and not is_known(org.short, c.status, anchor)
        ):
            stats.warnings.append(
                f"status claim {i + 1}: {org.short} has no {c.status.value!r} status "
                f"{'on ' + anchor.isoformat() if anchor else 'today'}; kept as the text says it"
            )
        stance = checked_claim.stance
        key = (subject_code or c.subject.casefold(), org.short or org.full, c.status, stance)
        claimant = ids.get(id(checked_claim.claimant)) if checked_claim.claimant else None
        supporters = {ids[id(s)] for s in checked_claim.supporters}
        evidence = _evidence(document.text, checked_claim.proofs)
        status_words = next((e.quote for e in evidence if e.field == "status"), c.status_quote)
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
                    "time_text": old.time_text or checked_claim.time_text,
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
            status_text=status_words,
            stance=stance,
            from_status=from_status,
            from_status_inferred=inferred,
            claimant=claimant,
            supporters=sorted(supporters),
            time_text=checked_claim.time_text,
            evidence=evidence,
            unchecked=checked_claim.unchecked,
        )
    return sorted(_fold_unknown_stances(merged).values(), key=lambda c: c.evidence[0].start)


def _fold_unknown_stances(
    merged: dict[tuple[object, ...], StatusClaim],
) -> dict[tuple[object, ...], StatusClaim]:
    """A claim whose stance was nulled joins the one claim of that subject, body and status.

    The same claim reported in two chunks may keep its stance in one and lose
    it in the other; two claims with different stances stay apart.
    """
    for key in [k for k in merged if k[3] is None]:
        siblings = [k for k in merged if k[:3] == key[:3] and k[3] is not None]
        if len(siblings) == 1:
            into, extra = merged[siblings[0]], merged.pop(key)
            merged[siblings[0]] = into.model_copy(
                update={"evidence": _unique([*into.evidence, *extra.evidence])}
            )
    return merged


def _person(subject: str, participants: list[Participant]) -> str | None:
    """The participant a subject names, when one person's name is the subject's."""
    words = {w.casefold() for w in subject.split()}
    found = [
        p.id for p in participants if p.name and words & {w.casefold() for w in p.name.split()}
    ]
    return found[0] if len(found) == 1 else None


MAX_WARNINGS = 200


_RECORD_NUMBER = re.compile(r"\b(meeting|status claim|attempt|part) \d+(?:/\d+)?\b")


def distinct_warnings(warnings: Iterable[str], limit: int = MAX_WARNINGS) -> list[str]:
    """Each kind of warning once, in first-seen order, with how often it came; at most ``limit``.

    Warnings that differ only in the record they name ("meeting 12", "meeting
    13") are one kind. A runaway answer (10,000 copies of one bad record) must
    give a reader one line saying so, not 10,000 lines, nor an output that size.
    """
    first: dict[str, str] = {}
    counts: dict[str, int] = {}
    for w in warnings:
        kind = _RECORD_NUMBER.sub(r"\1 #", w)
        first.setdefault(kind, w)
        counts[kind] = counts.get(kind, 0) + 1
    lines = [
        first[k] if n == 1 else f"{first[k]} (and {n - 1} more like it)" for k, n in counts.items()
    ]
    if len(lines) > limit:
        rest = len(lines) - limit + 1
        lines = [*lines[: limit - 1], f"... and {rest} more warnings of other kinds"]
    return lines


@dataclass
class _Stats:
    warnings: list[str] = field(default_factory=list)
    dropped: int = 0

    def drop(self, warning: str) -> None:
        self.dropped += 1
        self.warnings.append(warning)


def assemble(
    document: Document,
    draft: DraftExtraction,
    run: RunInfo,
    *,
    article: Article | None = None,
    warnings: Iterable[str] = (),
) -> Extraction:
    """Check a draft's support, then normalise and merge what holds into the records users get.

    ``article`` is the document's text with what the checks look up in it
    (built here when not given); the pipeline hands in the one its re-asks used.
    """
    article = article or Article(document.text)
    acronyms = article.acronyms
    checked = review(draft, article)
    stats = _Stats(warnings=[*warnings, *checked.warnings()])
    sides = [s for m in checked.meetings for s in m.sides]
    for c in checked.claims:
        sides += ([c.claimant] if c.claimant else []) + c.supporters
    participants, ids = _participants(sides, document.text, acronyms, document.sha256)
    meetings = _meetings(checked.meetings, ids, document, stats)
    claims = _claims(checked.claims, ids, participants, document, stats, acronyms)
    return Extraction(
        document=document_info(document),
        run=run,
        participants=participants,
        meetings=meetings,
        status_claims=claims,
        grounding=Grounding(
            quotes_returned=checked.quotes_returned,
            quotes_grounded=checked.quotes_grounded,
            records_kept=len(meetings) + len(claims),
            records_dropped=checked.count("dropped") + stats.dropped,
            fields_nulled=checked.count("nulled"),
            quotes_dropped=checked.count("quote dropped"),
        ),
        warnings=distinct_warnings(stats.warnings),
    )
