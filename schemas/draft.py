"""What the model fills: flat records in the article's own words, one quote per field.

This layer is sent to the model as the response model's JSON Schema, so every
field description is an instruction the model reads; they are kept short
because they travel with every request, and the prompt does not repeat them.

Two choices shape it:

- **Sides are written inline.** A meeting lists its sides as objects (name,
  title, organisation, state, mentions), not as references into a separate
  list: small models fill the flat shape and leave referenced participants
  nameless. The pipeline merges the same person met twice
  (``extractor.normalise.identity``).
- **The evidence comes first.** A record opens with its sentences, and every
  key is required in the schema sent (null where the article says nothing):
  under constrained decoding a small model otherwise skips the optional keys
  it most needs to write, such as a side's name.
- **Every checked field has its own verbatim quote.** A claim carries the words
  naming its subject, the words stating the status and the words carrying the
  stance, besides the sentence that states it, so ``extractor.ground.support`` can
  check each field against its own evidence instead of trusting that a quote
  merely occurs somewhere.

Validation here is structural only (types, vocabularies, list bounds). Whether
the quotes are in the article and support their fields depends on the article,
so ``extractor.ground.support`` checks it and the model client re-asks with what it
found.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .vocab import MeetingFormat, MeetingStatus, ParticipantKind, Stance, Status

# Bounds a weak model's worst answer (a record repeated until the token limit).
MAX_SIDES = 20
MAX_MENTIONS = 8
MAX_QUOTES = 4
MAX_RECORDS = 60
MAX_PHRASES = 8
MAX_SKIP_NOTES = 5  # malformed records named one by one in a lenient parse; the rest counted

_VERBATIM = "Verbatim."


class _Draft(BaseModel):
    model_config = ConfigDict(extra="ignore", use_enum_values=False)


class DraftParticipant(_Draft):
    """A person, organisation or state: a side of a meeting, or who made or backed a claim."""

    name: str | None = Field(
        default=None, description="Personal name without title, as written; null if none."
    )
    title: str | None = Field(default=None, description="Role or office, in English (not checked).")
    organisation: str | None = Field(
        default=None, description="Organisation it acts for, as written; null for a state's envoy."
    )
    state: str | None = Field(
        default=None,
        description="State it represents, as written (the ambassador OF this state, not the host).",
    )
    kind: ParticipantKind = Field(default=ParticipantKind.person, description="Not checked.")
    mentions: list[str] = Field(
        min_length=1,
        max_length=MAX_MENTIONS,
        description="Every way the article refers to it ('Zhang Ming', 'the Secretary-General'). "
        + _VERBATIM,
    )


class DraftMeeting(_Draft):
    """One meeting, call or talk between two or more sides."""

    quotes: list[str] = Field(
        min_length=1,
        max_length=MAX_QUOTES,
        description="The sentences reporting it, naming at least one side. " + _VERBATIM,
    )
    sides: list[DraftParticipant] = Field(min_length=2, max_length=MAX_SIDES)
    status: MeetingStatus = Field(
        default=MeetingStatus.held, description="held, or planned if only announced."
    )
    format: MeetingFormat = Field(default=MeetingFormat.unknown, description="Not checked.")
    date_text: str | None = Field(
        default=None, description="Words dating it ('on Thursday'), as written; else null."
    )
    place: str | None = Field(default=None, description="Where, as written; else null.")
    topics: list[str] = Field(
        default_factory=list,
        max_length=MAX_PHRASES,
        description="What was discussed: short English phrases (not checked).",
    )
    outcomes: list[str] = Field(
        default_factory=list,
        max_length=MAX_PHRASES,
        description="Agreements or decisions: short English phrases (not checked).",
    )


class DraftStatusClaim(_Draft):
    """A statement about an entity's standing with an organisation or office."""

    quotes: list[str] = Field(
        min_length=1, max_length=MAX_QUOTES, description="The sentence stating it. " + _VERBATIM
    )
    subject: str = Field(description="Whose standing: a state, organisation or person, by name.")
    subject_quote: str = Field(
        description="Words in the claim naming or referring to the subject "
        "('Myanmar', 'his country'). " + _VERBATIM
    )
    organisation: str = Field(description="The organisation, as written ('SCO', 'ASEAN').")
    status: Status = Field(
        description="chair: a rotating chairmanship; office_holder: an office such as "
        "Secretary-General."
    )
    status_quote: str = Field(
        description="Words stating the standing ('dialogue partner status'). " + _VERBATIM
    )
    stance: Stance = Field(
        description="holds, seeks, applied, memorandum_signed, granted, welcomed or "
        "supported (backs another's bid), declined, left."
    )
    stance_quote: str | None = Field(
        default=None,
        description="Words carrying the stance ('was seeking', 'applied for'); "
        "null for holds when no word says it. " + _VERBATIM,
    )
    upgrade: bool = Field(default=False, description="True if it moves up to it (not checked).")
    from_status: Status | None = Field(
        default=None, description="The status it moves from, only if named (not checked)."
    )
    claimant: DraftParticipant | None = Field(default=None, description="Who said it, if anyone.")
    supporters: list[DraftParticipant] = Field(
        default_factory=list, max_length=MAX_SIDES, description="Who welcomed or backed the bid."
    )
    time_text: str | None = Field(
        default=None, description="When it applies ('this year'), as written; else null."
    )


class DraftExtraction(_Draft):
    """Every meeting and status claim the article reports."""

    meetings: list[DraftMeeting] = Field(default_factory=list, max_length=MAX_RECORDS)
    status_claims: list[DraftStatusClaim] = Field(default_factory=list, max_length=MAX_RECORDS)


def parse_leniently(data: object) -> tuple[DraftExtraction, list[str]]:
    """Keep every well-formed record of a failed answer, and say what was skipped.

    Used when the re-ask budget is spent: one malformed record must not cost the
    good ones. Support is checked afterwards, as for any answer.
    """
    if not isinstance(data, dict):
        return DraftExtraction(), ["the model's last answer was not a JSON object"]
    skipped: list[str] = []

    def keep(name: str, model: type[_Draft]) -> list[Any]:
        items = data.get(name)
        kept: list[Any] = []
        malformed = 0
        for i, item in enumerate(items if isinstance(items, list) else []):
            # Bounded work and warnings, whatever a runaway answer holds.
            if len(kept) >= MAX_RECORDS or i >= 4 * MAX_RECORDS:
                skipped.append(f"dropped {name}[{i}:]: more than the {MAX_RECORDS} records kept")
                break
            try:
                kept.append(model.model_validate(item))
            except ValueError as exc:
                malformed += 1
                if malformed <= MAX_SKIP_NOTES:
                    first = str(exc).splitlines()[1:2] or [str(exc)]
                    skipped.append(f"dropped malformed {name}[{i}]: {first[0].strip()}")
        if malformed > MAX_SKIP_NOTES:
            skipped.append(f"dropped {malformed - MAX_SKIP_NOTES} more malformed {name}")
        return kept

    draft = DraftExtraction.model_construct(
        meetings=keep("meetings", DraftMeeting),
        status_claims=keep("status_claims", DraftStatusClaim),
    )
    return draft, skipped


def combine(drafts: list[DraftExtraction]) -> DraftExtraction:
    """One draft from the drafts of several chunks.

    Duplicates across chunks are expected (chunks overlap); the assembly step
    merges participants, meetings and claims that are the same.
    """
    if len(drafts) == 1:
        return drafts[0]
    return DraftExtraction.model_construct(
        meetings=[m for d in drafts for m in d.meetings],
        status_claims=[c for d in drafts for c in d.status_claims],
    )
