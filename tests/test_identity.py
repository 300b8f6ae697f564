"""Which participants of a document are the same person."""

from __future__ import annotations

from extractor.normalise.identity import Profile, group_same


def person(
    name: str | None, title: str | None = None, org: str | None = None, state: str | None = None
) -> Profile:
    return Profile(name=name, title=title, organisation=org, state=state, is_person=True)


def test_surname_joins_full_name_on_the_same_side() -> None:
    """'Zhang' of the SCO is 'Zhang Ming' of the SCO."""
    groups = group_same([person("Zhang Ming", org="SCO"), person("Zhang", org="SCO")])
    assert groups == [0, 0]


def test_same_name_on_different_sides_stays_apart() -> None:
    """Two Wangs for different states are two people."""
    groups = group_same([person("Wang", state="CHN"), person("Wang", state="SGP")])
    assert groups == [0, 1]


def test_title_only_joins_the_single_named_holder() -> None:
    """'the Secretary-General' of the SCO is the one named SCO Secretary-General."""
    groups = group_same(
        [
            person("Zhang Ming", "Secretary-General", "SCO"),
            person(None, "Secretary-General", "SCO"),
            person("U Myo Thant Pe", "Ambassador", state="MMR"),
        ]
    )
    assert groups == [0, 0, 2]


def test_title_only_with_two_holders_stays_apart() -> None:
    """With two named ambassadors, 'the Ambassador' cannot be assigned to either."""
    groups = group_same(
        [person("A B", "Ambassador"), person("C D", "Ambassador"), person(None, "Ambassador")]
    )
    assert groups == [0, 1, 2]


def test_organisations_are_not_merged_by_name() -> None:
    """Only persons are merged by name words."""
    org = Profile(name="SCO", title=None, organisation="SCO", state=None, is_person=False)
    assert group_same([org, org]) == [0, 1]
