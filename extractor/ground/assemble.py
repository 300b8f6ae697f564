"""From the model's draft to supported, normalised records.

Pure and deterministic: given a document and a draft it always yields the same
``Extraction``. The support check (``extractor.ground.support``) runs here a last time,
after the re-ask loop, so nothing unsupported leaves the pipeline even when the
re-ask budget ran out; what it keeps is then normalised (countries,
organisations, statuses, dates) and merged (one participant per person, one
record per meeting or claim reported twice).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from extractor.ground.support import Article, CheckedClaim, CheckedMeeting, Proof, Side, review
from extractor.normalise.countries import country_code, country_mentions, country_name
from extractor.normalise.identity import Profile, group_same
from extractor.normalise.names import nominative
from extractor.normalise.organisations import resolve_with_local
from extractor.normalise.places import resolve_place
from extractor.normalise.statuses import (
    NOT_LEVELS,
    agreed_level_below,
    ever_known,
    is_known,
    level_below,
    levels,
)
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
from extractor.schemas.records import DateBasis
from extractor.text.dates import (
    DateSpan,
    EventReference,
    Window,
    event_reference,
    mentions_event,
    resolve_span,
    resolve_window,
    window_words,
)

# How far a metadata date may stray from the dateline's and still be the same report's:
# published the day before (time zones) to two days after (a late upload or a weekend).
_METADATA_BEFORE_DATELINE = dt.timedelta(days=1)
_METADATA_AFTER_DATELINE = dt.timedelta(days=2)


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


def state_code(as_written: str | None) -> str | None:
    """The ISO code of the state a side's words name, in a Russian case too ("России").

    ``country_code`` reads names, not inflected words; a model copying a Russian
    article hands on "России" or "Республики Казахстан", which name one state
    when the whole of the words is that state's name in some case.
    """
    code = country_code(as_written)
    if code is not None or not as_written:
        return code
    written = as_written.strip()
    found = country_mentions(written)
    if len(found) == 1:
        ((code, spans),) = found.items()
        if spans == [(0, len(written))]:
            return code
    return None


def document_info(document: Document) -> DocumentInfo:
    dateline, meta = document.dateline, document.meta
    return DocumentInfo(
        id=document.id,
        source=document.source,
        sha256=document.sha256,
        chars=len(document.text),
        dateline_date=dateline.date if dateline else None,
        dateline_place=dateline.place if dateline else None,
        outlet=(dateline.outlet if dateline else None) or meta.outlet,
        content_type="html" if document.content_type == "html" else "text",
        text_extractor=document.text_extractor,
        text=document.text if document.content_type == "html" else None,
        input_id=meta.input_id,
        url=meta.url,
        title=meta.title,
        language=meta.language,
        published=meta.published,
        body_start=meta.body_start,
        offsets_refer_to="body" if meta.body else "file",
    )


@dataclass(frozen=True)
class Anchor:
    """The date an article's relative dates count from ("on Tuesday"), and where it came from."""

    date: dt.date | None
    basis: Literal["dateline", "metadata"] | None
    warning: str | None = None


def date_anchor(document: Document) -> Anchor:
    """The dateline's date, else the input's publication date, else none.

    The dateline is the report's own word on when it was filed; a metadata date
    may be a crawl, an update or a time zone away, so it only stands in when the
    text has no date. When both exist and are days apart, one of them is wrong
    and the reader should know which one the dates were resolved from.
    """
    written = document.dateline.date if document.dateline else None
    published = document.meta.published
    if isinstance(published, dt.datetime):  # a datetime does not compare with a date
        published = published.date()
    if written is None:
        return Anchor(published, "metadata") if published else Anchor(None, None)
    if published is None or (
        written - _METADATA_BEFORE_DATELINE <= published <= written + _METADATA_AFTER_DATELINE
    ):
        return Anchor(written, "dateline")
    return Anchor(
        written,
        "dateline",
        f"the dateline says {written.isoformat()}, the metadata {published.isoformat()}; "
        "dates resolved from the dateline",
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


def _named_person(side: Side, acronyms: dict[str, str]) -> bool:
    """Whether a side is a person for identity: said so, or a name that is no state or body.

    Small models call a president "organisation" or "state"; "Russian President
    Vladimir Putin" and a later part's "Putin" must still be one person.
    """
    if side.kind is ParticipantKind.person:
        return True
    name = side.name
    return bool(
        name
        and side.title
        and country_code(name) is None
        and (known := organisation(name, acronyms)) is not None
        and known.short is None  # not a body the tables or the article's acronyms know
    )


def _participants(
    sides: list[Side], text: str, acronyms: dict[str, str], doc_sha: str
) -> tuple[list[Participant], dict[int, str]]:
    """Merged participants, and each side's participant id (keyed by ``id(side)``)."""
    orgs = [organisation(s.organisation, acronyms) for s in sides]
    # A person named in another case ("Константином Косачевым") is compared, and
    # recorded, by the nominative, so the declined and the nominative mention are one.
    names = [nominative(s.name) if s.kind is ParticipantKind.person else s.name for s in sides]
    profiles = [
        Profile(
            name=name,
            title=s.title,
            organisation=(org.short or org.full) if org else None,
            state=state_code(s.state) or s.state,
            is_person=_named_person(s, acronyms),
        )
        for s, org, name in zip(sides, orgs, names, strict=True)
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
        name_written = named.name
        name = names[indices[group.index(named)]]
        # The title given with the fullest name, not the longest description.
        title = named.title or next((d.title for d in group if d.title), None)
        org = next((orgs[i] for i in indices if sides[i].organisation), None)
        state_written = next((d.state for d in group if d.state), None)
        kind = group[0].kind
        state = state_code(state_written)
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
            name_as_written=name_written,
            unchecked=["title", "kind"],
        )
    result = sorted(by_id.values(), key=lambda p: p.mentions[0].start)
    return result, side_to_id


@dataclass
class _Dated:
    """A meeting's date as resolved so far, and what it was resolved from."""

    position: int
    participants: int
    span: DateSpan | None = None
    basis: DateBasis | None = None
    reference: EventReference | None = None
    fallback: bool = False
    """No date words of its own: the anchor's date, unless a reference dates it."""
    assumed: bool = False
    """The date is the anchor's, taken for want of date words."""
    window: Window | None = None
    """No single day, but the days the words allow ("later that week")."""


def _meetings(
    checked: list[CheckedMeeting],
    ids: dict[int, str],
    document: Document,
    stats: _Stats,
    anchor: Anchor,
) -> list[Meeting]:
    dateline = document.dateline
    kept: list[tuple[CheckedMeeting, list[str], list[Evidence], _Dated]] = []
    for i, c in enumerate(checked):
        sides = list(dict.fromkeys(ids[id(s)] for s in c.sides))
        if len(sides) < 2:
            stats.drop(f"dropped meeting {i + 1}: its sides are one participant")
            continue
        evidence = _evidence(document.text, c.proofs)
        kept.append((c, sides, evidence, _own_date(c, evidence, anchor, len(sides))))
    _date_by_other_events([d for *_, d in kept], [e for _, _, e, _ in kept])
    _windows([(c.date_text, d) for c, _, _, d in kept], anchor)
    for *_, dated in kept:
        if dated.span is None and dated.fallback:
            _assume_anchor(dated, anchor)
    found: list[Meeting] = []
    for c, sides, evidence, dated in kept:
        m = c.draft
        planned = c.status is MeetingStatus.planned
        from_dateline: list[str] = []
        span = dated.span
        if dated.assumed and anchor.basis == "dateline":
            from_dateline.append("date")
        place_written = c.place.strip() if c.place and c.place.strip() else None
        place, venue = _place(place_written)
        remote = m.format in (MeetingFormat.phone, MeetingFormat.video)
        if place is None and not planned and not remote and dateline and dateline.place:
            place = dateline.place
            from_dateline.append("place")
        date = span.start if span else None
        found.append(
            Meeting(
                id=stable_id("m", document.sha256, *sides, c.status, date, evidence[0].start),
                participants=sides,
                status=c.status,
                format=m.format,
                date=date,
                date_end=span.end if span else None,
                date_earliest=dated.window.earliest if dated.window else None,
                date_latest=dated.window.latest if dated.window else None,
                date_basis=dated.basis if span or dated.window else None,
                date_text=c.date_text,
                place=place,
                place_as_written=place_written,
                venue=venue,
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


def _place(written: str | None) -> tuple[str | None, str | None]:
    """The English city and venue a meeting's place names, the place as written otherwise.

    "Секретариат ШОС" gives Beijing and the SCO Secretariat, "北京钓鱼台国宾馆"
    Beijing and the Diaoyutai State Guesthouse; a city alone ("Пекин") its
    English name; a place in Latin script, or naming nothing known, stays as written.
    """
    if written is None:
        return None, None
    found = resolve_place(written)
    if found is None or found.city is None:
        return english("places", written), found.venue if found else None
    return found.city, found.venue


def _own_date(
    c: CheckedMeeting, evidence: list[Evidence], anchor: Anchor, participants: int
) -> _Dated:
    """What a meeting's own words date it by: a date, a reference to another event, or nothing.

    Words that name a day ("on Wednesday, on the sidelines of the summit") win
    over a reference. A meeting without date words may still be placed by its
    passage ("On the same day, Lavrov met ..."); failing that, a meeting already
    held takes the anchor's date, as wire reports are filed on the day.
    """
    planned = c.status is MeetingStatus.planned
    said = [e for e in evidence if e.field == "date"]
    dated = _Dated(position=(said or evidence)[0].start, participants=participants)
    if c.date_text:
        span = resolve_span(c.date_text, anchor.date, planned=planned)
        if span is not None:
            dated.span = span
            dated.basis = "stated" if span.stated else anchor.basis
        else:
            dated.reference = event_reference(c.date_text)
        return dated
    dated.reference = next(
        (r for e in evidence if e.field == "meeting" and (r := event_reference(e.quote))), None
    )
    dated.fallback = not planned
    if dated.reference is None and dated.fallback:
        _assume_anchor(dated, anchor)
    return dated


def _assume_anchor(dated: _Dated, anchor: Anchor) -> None:
    """Date a held meeting without date words by the anchor: wire reports are filed on the day."""
    if anchor.date is not None:
        dated.span, dated.basis, dated.assumed = DateSpan(anchor.date), anchor.basis, True


def _date_by_other_events(dated: list[_Dated], evidence: list[list[Evidence]]) -> None:
    """Date the meetings that refer to another event, in text order so references chain.

    "On the same day" and "the next day" count from the nearest dated meeting
    told before them; "on the sidelines of the summit" from the meeting that
    speaks of the summit (the nearest before it, else after it), or failing
    that from a meeting of three or more sides. A reference that finds no
    single day (no such meeting, or a summit over several days for "on the
    sidelines") dates nothing, and the meeting keeps what its own words give.
    """
    for k in sorted(range(len(dated)), key=lambda k: dated[k].position):
        ref = dated[k].reference
        if ref is None or dated[k].span is not None:
            continue
        here = dated[k].position
        others = [j for j in range(len(dated)) if j != k and dated[j].span is not None]
        if ref.event is None:
            earlier = [j for j in others if dated[j].position < here]
            chosen = max(earlier, key=lambda j: dated[j].position, default=None)
        else:
            kind = ref.event
            named = [
                j
                for j in others
                if any(mentions_event(e.quote, kind) for e in evidence[j])
                and not _on_the_sidelines(evidence[j], kind)
            ]
            crowd = [j for j in others if dated[j].participants >= 3]
            pool = named or crowd
            chosen = min(
                pool,
                key=lambda j: (dated[j].position > here, abs(dated[j].position - here)),
                default=None,
            )
        if chosen is None:
            continue
        event = dated[chosen].span
        assert event is not None
        if event.end is not None and ref.days == 0:
            continue  # a day of a summit over several days: not one day
        base = event.end if event.end is not None and ref.days > 0 else event.start
        dated[k].span = DateSpan(base + dt.timedelta(days=ref.days))
        dated[k].basis = "event"


def _windows(meetings: list[tuple[str | None, _Dated]], anchor: Anchor) -> None:
    """The days "later that week" or "earlier this month" allow, for meetings still undated.

    "That" counts from the nearest dated meeting told before (else the
    anchor); "this" from the anchor, the report's own date.
    """
    for text, dated in meetings:
        if dated.span is not None or not (kind := window_words(text)):
            continue
        base: dt.date | None = anchor.date
        basis: DateBasis | None = anchor.basis
        if kind == "event":
            before = [d for _, d in meetings if d.span is not None and d.position < dated.position]
            if before:
                event = max(before, key=lambda d: d.position).span
                assert event is not None
                base, basis = event.end or event.start, "event"
        dated.window = resolve_window(text, base)
        if dated.window is not None:
            dated.basis = basis


def _on_the_sidelines(evidence: list[Evidence], kind: str) -> bool:
    """Whether a meeting's passages place it beside an event of that kind, not as that event."""
    return any((r := event_reference(e.quote)) is not None and r.event == kind for e in evidence)


def _same_meeting(a: Meeting, b: Meeting) -> bool:
    """Same sides and status, and dates that do not contradict each other."""
    if set(a.participants) != set(b.participants) or a.status != b.status:
        return False
    return a.date == b.date or None in (a.date, b.date) or _assumed(a) or _assumed(b)


def _assumed(m: Meeting) -> bool:
    """Whether a meeting's date is the anchor's, for want of any date words of its own."""
    return "date" in m.from_dateline or (m.date_basis == "metadata" and m.date_text is None)


def _merge_meetings(a: Meeting, b: Meeting) -> Meeting:
    """One record from two reports of a meeting; what a text states beats the dateline."""

    def stated(field: str) -> Meeting:
        return b if field in a.from_dateline and field not in b.from_dateline else a

    date_from, place_from = (b if _assumed(a) and not _assumed(b) else a), stated("place")
    dated = date_from if date_from.date else (a if a.date else b)
    return a.model_copy(
        update={
            "format": a.format if a.format is not MeetingFormat.unknown else b.format,
            "date": dated.date,
            "date_end": dated.date_end,
            "date_basis": dated.date_basis,
            "date_text": date_from.date_text or a.date_text or b.date_text,
            "place": place_from.place or a.place or b.place,
            "place_as_written": (place_from.place_as_written if place_from.place else None)
            or a.place_as_written
            or b.place_as_written,
            "venue": (place_from.venue if place_from.place else None) or a.venue or b.venue,
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
    anchor: dt.date | None,
) -> list[StatusClaim]:
    """Normalised, merged claims, checked against the status vocabulary of the article's date.

    An article with no date at all is checked against every vocabulary the
    organisation ever had: a status none of them has is worth a warning, one
    that is simply not today's is not, and a lower status is inferred only
    where all of them agree on it.
    """
    merged: dict[tuple[object, ...], StatusClaim] = {}
    for i, checked_claim in enumerate(checked):
        c = checked_claim.draft
        org = organisation(c.organisation, acronyms)
        assert org is not None  # support keeps only claims whose organisation is named
        subject_code = country_code(c.subject)
        subject_participant = _person(c.subject, participants) if subject_code is None else None
        subject = _subject_english(c.subject, subject_code, subject_participant, participants)
        from_status, inferred = c.from_status, False
        if from_status is None and c.upgrade and org.short:
            if anchor is None:
                from_status = agreed_level_below(org.short, c.status)
            else:
                from_status = level_below(org.short, c.status, anchor)
            inferred = from_status is not None
        if (
            c.status not in NOT_LEVELS
            and org.short
            and levels(org.short, anchor)
            and not (
                ever_known(org.short, c.status)
                if anchor is None
                else is_known(org.short, c.status, anchor)
            )
        ):
            stats.warnings.append(
                f"status claim {i + 1}: {org.short} has no {c.status.value!r} status "
                f"{'on ' + anchor.isoformat() if anchor else 'at any date'}; "
                "kept as the text says it"
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
            subject=subject,
            subject_as_written=c.subject,
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


_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
# "и", commas (and the Chinese enumeration comma), and "和"/"及"/"与" but not the
# "和" of "共和国" (republic).
_JOINED = re.compile(r"\s+и\s+|\s*(?:[,\u3001\uff0c及与]|(?<!共)和)\s*")


def _subject_english(
    subject: str, code: str | None, person: str | None, participants: list[Participant]
) -> str:
    """A claim's subject in English where the code knows it, beside the subject as written.

    A subject written in Latin script is the model's English already and stays;
    one in another script becomes the state's English name when its code is
    known, the organisation's short name when it is one, and the person's
    nominative when it names a participant (there is no English for "Чжан Мин"
    that the code could vouch for).
    """
    if _LATIN.search(subject):
        return subject
    if code is not None:
        return country_name(code) or subject
    # "Камбоджа и Мьянма", "柬埔寨和缅甸": states named together, each in English.
    parts = [p for p in _JOINED.split(subject) if p.strip()]
    codes = [country_code(p) for p in parts]
    if len(parts) > 1 and all(codes):
        return " and ".join(country_name(c) or c for c in codes if c)
    known = resolve_with_local(subject, {})
    if known is not None:
        return known.short or known.full
    if person is not None:
        name = next((p.name for p in participants if p.id == person), None)
        return name or subject
    return nominative(subject) or subject


def _person(subject: str, participants: list[Participant]) -> str | None:
    """The participant a subject names, when one person's name is the subject's.

    The nominative of a Russian name counts too ("Косачевым" names "Константин Косачев").
    """
    words = {w.casefold() for w in f"{subject} {nominative(subject) or ''}".split()}
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
    anchor = date_anchor(document)
    stats = _Stats(warnings=[*warnings, *([anchor.warning] if anchor.warning else [])])
    stats.warnings += checked.warnings()
    sides = [s for m in checked.meetings for s in m.sides]
    for c in checked.claims:
        sides += ([c.claimant] if c.claimant else []) + c.supporters
    participants, ids = _participants(sides, document.text, acronyms, document.sha256)
    meetings = _meetings(checked.meetings, ids, document, stats, anchor)
    claims = _claims(checked.claims, ids, participants, document, stats, acronyms, anchor.date)
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
