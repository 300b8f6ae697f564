"""What the model fills: lean records in the article's own words.

This layer is sent to the model as the response model's JSON Schema, so every
field description is an instruction the model reads. It holds nothing the code
can compute better (offsets, ISO codes, resolved dates): those are added by the
pipeline when it turns a draft into ``extractor.schemas.records``.

The validator below is the grounding gate of DESIGN.md: while an aligner is
set in ``GROUNDING`` (or passed as ``context={"aligner": ...}`` to
``model_validate``) every quote must align to the article, and every
reference must point at a listed participant. The pipeline uses the context
variable rather than instructor's ``context=``, because instructor also renders
every message as a Jinja template with that context, which would let an
article's ``{{ ... }}`` run as a template and change the text the model sees. Its error message is
what the model reads on a re-ask, so it names each failing quote and says how
to fix it. Without that context (lenient parsing of a last failed attempt) only
the structural checks run; the pipeline then drops ungrounded records itself.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from .vocab import MeetingFormat, MeetingStatus, ParticipantKind, Stance, Status

GROUNDING: ContextVar[Any] = ContextVar("GROUNDING", default=None)
"""The aligner of the document being validated (an ``extractor.grounding.Aligner``)."""

_QUOTE = (
    "Verbatim: copy the words exactly as they appear in the article, "
    "a phrase or a sentence, never paraphrased or translated."
)


class _Draft(BaseModel):
    model_config = ConfigDict(extra="ignore", use_enum_values=False)


class DraftParticipant(_Draft):
    """A person, organisation or state taking part in a meeting or making a claim."""

    ref: str = Field(
        description="Short local label such as 'p1', unique in this answer; "
        "meetings and claims point at participants by this label."
    )
    name: str | None = Field(
        default=None,
        description="Personal name as written, without title (e.g. 'Zhang Ming'); "
        "null for an organisation or state speaking as such.",
    )
    title: str | None = Field(
        default=None,
        description="Role or office in English (e.g. 'Secretary-General', "
        "'Ambassador Extraordinary and Plenipotentiary', 'Head of the Regional "
        "East Asia Delegation').",
    )
    organisation: str | None = Field(
        default=None,
        description="The international organisation the participant acts for, as written "
        "(e.g. 'Shanghai Cooperation Organization', 'ICRC'); null for a state's envoy.",
    )
    state: str | None = Field(
        default=None,
        description="The state the participant represents, as written (e.g. 'the Republic "
        "of the Union of Myanmar'); null when acting for an organisation.",
    )
    kind: ParticipantKind = Field(default=ParticipantKind.person)
    mentions: list[str] = Field(
        min_length=1,
        description="Every distinct way the article refers to this participant "
        "(e.g. 'Zhang Ming', 'The SCO Secretary-General'). " + _QUOTE,
    )


class DraftMeeting(_Draft):
    """One meeting, call or talk between two or more sides."""

    participants: list[str] = Field(
        min_length=2, description="Refs of the participants, at least two sides."
    )
    status: MeetingStatus = Field(
        default=MeetingStatus.held,
        description="'held' if the article reports it happened, 'planned' if announced.",
    )
    format: MeetingFormat = Field(default=MeetingFormat.unknown)
    date_text: str | None = Field(
        default=None,
        description="The words that date the meeting, as written (e.g. 'on Thursday'); "
        "null if the article gives none for this meeting.",
    )
    place: str | None = Field(default=None, description="Where it took place, as written.")
    topics: list[str] = Field(
        default_factory=list, description="What was discussed, short English phrases."
    )
    outcomes: list[str] = Field(
        default_factory=list,
        description="Agreements or decisions reached, short English phrases; "
        "not what was merely discussed.",
    )
    quotes: list[str] = Field(
        min_length=1, description="The sentences that report this meeting. " + _QUOTE
    )


class DraftStatusClaim(_Draft):
    """A statement about an entity's standing with an organisation or office."""

    subject: str = Field(
        description="Whose standing it is, as written (a state such as 'Myanmar', "
        "or a person for an office)."
    )
    subject_ref: str | None = Field(
        default=None, description="Ref of the participant who is the subject, if one is."
    )
    organisation: str = Field(
        description="The organisation the standing is with, as written (e.g. 'SCO', 'ASEAN')."
    )
    status: Status = Field(
        description="The standing: member, observer, dialogue_partner, partner, chair "
        "(a rotating chairmanship), office_holder (an office such as Secretary-General), "
        "or other."
    )
    status_text: str = Field(
        description="The words naming the standing, as written (e.g. 'dialogue partner status')."
    )
    stance: Stance = Field(
        description="holds (has it now), seeks (wants it), applied (formally applied), "
        "memorandum_signed (signed a memorandum or document on the way to it), "
        "granted (was given it), welcomed / supported (a party backs another's bid), "
        "declined, left."
    )
    upgrade: bool = Field(
        default=False,
        description="True when the text says the subject moves up to this status "
        "from a lower one (e.g. 'upgrading to observer status').",
    )
    from_status: Status | None = Field(
        default=None, description="The status it moves from, only when the text names it."
    )
    claimant_ref: str | None = Field(
        default=None, description="Ref of the participant who made the statement, if any."
    )
    supporter_refs: list[str] = Field(
        default_factory=list,
        description="Refs of participants who welcomed or supported the bid.",
    )
    time_text: str | None = Field(
        default=None, description="When the standing applies, as written (e.g. 'this year')."
    )
    quotes: list[str] = Field(min_length=1, description="The words that state the claim. " + _QUOTE)


class DraftExtraction(_Draft):
    """Every meeting and status claim reported in the article, with their participants."""

    participants: list[DraftParticipant] = Field(default_factory=list)
    meetings: list[DraftMeeting] = Field(default_factory=list)
    status_claims: list[DraftStatusClaim] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_refs_and_quotes(self, info: ValidationInfo) -> DraftExtraction:
        problems = self.reference_problems()
        aligner = (info.context or {}).get("aligner") or GROUNDING.get()
        if aligner is not None:
            problems += [
                f"{where}: {quote!r} is not in the article"
                for where, quote in self.quotes()
                if aligner.find(quote) is None
            ]
        if problems:
            raise ValueError(
                "Fix these and answer again:\n- "
                + "\n- ".join(problems)
                + "\nEvery quote, mention and name must be copied word for word from the "
                "article; correct each one listed or remove the record it belongs to. "
                "Every ref must be the ref of a listed participant."
            )
        return self

    def quotes(self) -> list[tuple[str, str]]:
        """Every string that must occur in the article, with where it sits in the answer."""
        found: list[tuple[str, str]] = []
        for i, p in enumerate(self.participants):
            if p.name:
                found.append((f"participants[{i}].name", p.name))
            found += [(f"participants[{i}].mentions[{j}]", q) for j, q in enumerate(p.mentions)]
        for i, m in enumerate(self.meetings):
            found += [(f"meetings[{i}].quotes[{j}]", q) for j, q in enumerate(m.quotes)]
        for i, c in enumerate(self.status_claims):
            found += [(f"status_claims[{i}].quotes[{j}]", q) for j, q in enumerate(c.quotes)]
        return found

    def reference_problems(self) -> list[str]:
        """Refs that point nowhere, named so the model can fix them."""
        refs = {p.ref for p in self.participants}
        bad: list[str] = []
        for i, m in enumerate(self.meetings):
            bad += [
                f"meetings[{i}].participants: unknown ref {r!r}"
                for r in m.participants
                if r not in refs
            ]
        for i, c in enumerate(self.status_claims):
            named: list[tuple[str, Any]] = [
                ("subject_ref", c.subject_ref),
                ("claimant_ref", c.claimant_ref),
                *(("supporter_refs", r) for r in c.supporter_refs),
            ]
            bad += [
                f"status_claims[{i}].{field}: unknown ref {r!r}"
                for field, r in named
                if r is not None and r not in refs
            ]
        return bad


def parse_leniently(data: object) -> tuple[DraftExtraction, list[str]]:
    """Keep every well-formed record of a failed answer, and say what was skipped.

    Used when the re-ask budget is spent: one bad record must not cost the good
    ones. Grounding is not checked here; the pipeline drops ungrounded records.
    """
    if not isinstance(data, dict):
        return DraftExtraction(), ["the model's last answer was not a JSON object"]
    skipped: list[str] = []

    def keep(name: str, model: type[_Draft]) -> list[Any]:
        items = data.get(name)
        kept = []
        for i, item in enumerate(items if isinstance(items, list) else []):
            try:
                kept.append(model.model_validate(item))
            except ValueError as exc:
                first = str(exc).splitlines()[1:2] or [str(exc)]
                skipped.append(f"dropped malformed {name}[{i}]: {first[0].strip()}")
        return kept

    participants: list[DraftParticipant] = keep("participants", DraftParticipant)
    refs = {p.ref for p in participants}
    meetings = []
    for i, m in enumerate(keep("meetings", DraftMeeting)):
        m.participants = [r for r in m.participants if r in refs]
        if len(m.participants) < 2:
            skipped.append(f"dropped meetings[{i}]: fewer than two known participants")
            continue
        meetings.append(m)
    claims = keep("status_claims", DraftStatusClaim)
    for c in claims:
        c.subject_ref = c.subject_ref if c.subject_ref in refs else None
        c.claimant_ref = c.claimant_ref if c.claimant_ref in refs else None
        c.supporter_refs = [r for r in c.supporter_refs if r in refs]
    draft = DraftExtraction.model_construct(
        participants=participants, meetings=meetings, status_claims=claims
    )
    return draft, skipped


def combine(drafts: list[DraftExtraction]) -> DraftExtraction:
    """One draft from the drafts of several chunks, refs kept apart by a chunk prefix.

    Duplicates across chunks are expected (chunks overlap); the assembly step
    merges participants, meetings and claims that are the same.
    """
    if len(drafts) == 1:
        return drafts[0]
    participants, meetings, claims = [], [], []
    for n, draft in enumerate(drafts, start=1):

        def ref(r: str | None, n: int = n) -> str | None:
            return f"c{n}.{r}" if r is not None else None

        participants += [p.model_copy(update={"ref": ref(p.ref)}) for p in draft.participants]
        meetings += [
            m.model_copy(update={"participants": [ref(r) for r in m.participants]})
            for m in draft.meetings
        ]
        claims += [
            c.model_copy(
                update={
                    "subject_ref": ref(c.subject_ref),
                    "claimant_ref": ref(c.claimant_ref),
                    "supporter_refs": [ref(r) for r in c.supporter_refs],
                }
            )
            for c in draft.status_claims
        ]
    return DraftExtraction.model_construct(
        participants=participants, meetings=meetings, status_claims=claims
    )
