"""Splitting long articles into overlapping chunks."""

from __future__ import annotations

import itertools

import pytest

from extractor.read.chunking import split

PARAGRAPHS = "\n\n".join(
    f"Paragraph {i} says that minister number {i} met envoy number {i}. It went well."
    for i in range(40)
)


def test_short_text_is_one_chunk() -> None:
    """A text within the budget is not split."""
    assert [(c.start, c.end, c.count) for c in split("A met B.", 100)] == [(0, 8, 1)]


@pytest.mark.parametrize(("budget", "overlap"), [(300, 0), (300, 100), (1000, 250), (97, 40)])
def test_chunks_cover_the_text_within_budget(budget: int, overlap: int) -> None:
    """Every character is in some chunk, chunks keep order, and none exceeds the budget."""
    chunks = split(PARAGRAPHS, budget, overlap)
    assert chunks[0].start == 0 and chunks[-1].end == len(PARAGRAPHS)
    for before, after in itertools.pairwise(chunks):
        assert after.start <= before.end  # no gap
        assert after.start > before.start  # progress
    assert all(c.end - c.start <= budget for c in chunks)
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_cuts_fall_on_paragraphs_when_they_can() -> None:
    """With room for whole paragraphs, each chunk ends at a paragraph break."""
    for chunk in split(PARAGRAPHS, 400)[:-1]:
        assert PARAGRAPHS[chunk.end - 2 : chunk.end] == "\n\n"


def test_overlap_repeats_whole_sentences() -> None:
    """The next chunk starts earlier than the cut, at a sentence or paragraph start."""
    chunks = split(PARAGRAPHS, 400, overlap=120)
    second = chunks[1]
    assert second.start < chunks[0].end
    assert PARAGRAPHS[second.start] in "PI"  # "Paragraph ..." or "It went well."


def test_cjk_text_splits_on_full_stops() -> None:
    """Chinese text without spaces is cut after a full stop."""
    text = "上海合作组织秘书长会见了大使。" * 60
    chunks = split(text, 100)
    assert all(text[c.end - 1] == "。" for c in chunks[:-1])


def test_bad_budget_is_refused() -> None:
    """A budget of zero cannot make progress."""
    with pytest.raises(ValueError):
        split("text", 0)
