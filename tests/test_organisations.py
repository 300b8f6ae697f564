"""Tests for extractor.normalise.organisations: organisation names as written -> canonical names."""

# Literal Cyrillic and Chinese names are the point of these tests, so the
# confusable-character rules are off for this file.

from __future__ import annotations

import dataclasses
import json
from importlib.resources import files

import pytest

from extractor.normalise.organisations import OrganisationInfo, resolve_organisation

SCO = OrganisationInfo("SCO", "Shanghai Cooperation Organisation")
ICRC = OrganisationInfo("ICRC", "International Committee of the Red Cross")


@pytest.mark.parametrize(
    "written",
    [
        "Shanghai Cooperation Organization",
        "Shanghai Cooperation Organisation",
        "SCO",
        "the SCO",
        "the SCO’s",
        "the SCO Secretariat",
        "SCO secretariat",
        "Secretary-General of Shanghai Cooperation Organization (SCO)",
        "ШОС",
        "Шанхайская организация сотрудничества",
        "Секретариат ШОС",
        "上海合作组织",
        "上合组织",
        "上海合作组织秘书处",
    ],
)
def test_sco_names_and_organs_resolve_to_sco(written: str) -> None:
    """Every way the seed and other wire copy write the SCO, or its secretariat, gives SCO."""
    assert resolve_organisation(written) == SCO


@pytest.mark.parametrize(
    "written",
    [
        "International Committee of the Red Cross",
        "ICRC",
        "the ICRC’s",
        "the Regional East Asia Delegation of the International Committee of the Red Cross",
    ],
)
def test_icrc_and_its_delegations_resolve_to_icrc(written: str) -> None:
    """The ICRC and a delegation of it give ICRC."""
    assert resolve_organisation(written) == ICRC


@pytest.mark.parametrize(
    ("written", "short"),
    [
        ("ASEAN", "ASEAN"),
        ("Association of South-East Asian Nations", "ASEAN"),
        ("АСЕАН", "ASEAN"),
        ("东盟", "ASEAN"),
        ("BRICS", "BRICS"),
        ("БРИКС", "BRICS"),
        ("金砖国家", "BRICS"),
        ("United Nations", "UN"),
        ("the U.N.", "UN"),
        ("ООН", "UN"),
        ("联合国", "UN"),
        ("UN Security Council", "UNSC"),
        ("United Nations Security Council", "UNSC"),
        ("UN General Assembly", "UNGA"),
        ("European Union", "EU"),
        ("African Union", "AU"),
        ("CSTO", "CSTO"),
        ("Collective Security Treaty Organisation", "CSTO"),
        ("Commonwealth of Independent States", "CIS"),
        ("EAEU", "EAEU"),
        ("EAEC", "EAEU"),
        ("OSCE", "OSCE"),
        ("Organisation for Security and Co-operation in Europe", "OSCE"),
        ("NATO", "NATO"),
        ("G-20", "G20"),
        ("G7", "G7"),
        ("APEC", "APEC"),
        ("OIC", "OIC"),
        ("GCC", "GCC"),
        ("WHO", "WHO"),
        ("WTO", "WTO"),
        ("IMF", "IMF"),
        ("the World Bank", "World Bank"),
        ("CICA", "CICA"),
    ],
)
def test_other_organisations_resolve(written: str, short: str) -> None:
    """Names, acronyms, spellings and Russian/Chinese names give the canonical short name."""
    info = resolve_organisation(written)
    assert info is not None
    assert info.short == short


@pytest.mark.parametrize(
    "written",
    [
        "SCO RATS",
        "SCO Regional Anti-Terrorist Structure",
        "Executive Committee of the SCO Regional Anti-Terrorist Structure",
        "Regional Anti-Terrorist Structure of the Shanghai Cooperation Organisation",
    ],
)
def test_rats_is_its_own_entry(written: str) -> None:
    """The SCO's anti-terrorist structure resolves to RATS, not to the SCO, though it names it."""
    info = resolve_organisation(written)
    assert info is not None
    assert info.short == "RATS"


@pytest.mark.parametrize(
    "written",
    [
        "the Embassy of Cambodia",
        "the Embassy of Cambodia in Beijing",
        "SCO-ICRC cooperation",
        "SCO and ASEAN",
        "who",
        "the man who met them",
        "Sco",
        "Red Cross",
        "Security Council",
        "Council of Europe",
        "Eurasian Economic Community",
        "UNESCO",
        "G77",
        "Cambodia",
        "河北约有",  # "Hebei has about": contains 北约 (NATO) by accident
        "",
        None,
    ],
)
def test_unknown_ambiguous_and_non_organisations_give_none(written: str | None) -> None:
    """Embassies, phrases naming two organisations, lower-case words and unknowns give None."""
    assert resolve_organisation(written) is None


def test_organisation_info_is_frozen() -> None:
    """OrganisationInfo is immutable, so a shared instance cannot be changed by one record."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        SCO.short = "X"  # type: ignore[misc]


def test_every_listed_name_resolves_to_its_entry() -> None:
    """Each short name, full name and alias in the data file resolves to its own entry."""
    raw = json.loads((files("extractor") / "data" / "organisations.json").read_text("utf-8"))
    assert raw["_note"]
    wrong = {}
    for entry in raw["organisations"]:
        expected = OrganisationInfo(entry["short"], entry["full"])
        for name in [entry["short"], entry["full"], *entry["aliases"]]:
            if resolve_organisation(name) != expected:
                wrong[name] = resolve_organisation(name)
    assert wrong == {}
