"""The cost of a run: the price table, token counting, the estimate before any call."""

from __future__ import annotations

import hashlib
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from extractor.model import cost
from extractor.model.cost import (
    CALIBRATION,
    PriceTable,
    TokenCounter,
    cost_of,
    estimate_run,
    format_estimate,
    load_prices,
    price_for,
    token_counter,
)
from extractor.read.chunking import split
from extractor.read.document import document_from_text, read_document
from extractor.schemas import Usage
from extractor.settings import OutputMode, Settings
from tests.conftest import CASSETTES, SEED

# Round numbers, so every expected price below is worked out by hand.
ROUND: dict[str, Any] = {
    "date": "2026-01-01",
    "providers": {
        "openai": {
            "batch_discount": 0.5,
            "automatic_cache": True,
            "source": "test",
            "models": {
                "round": {
                    "input": 1.0,
                    "cached_input": 0.5,
                    "output": 4.0,
                    "cache_min_tokens": 100,
                    "checked": "2026-01-01",
                    "source": "test",
                }
            },
        },
        "anthropic": {
            "batch_discount": 0.5,
            "automatic_cache": False,
            "source": "test",
            "models": {
                "round": {
                    "input": 2.0,
                    "cached_input": 0.2,
                    "cache_write": 2.5,
                    "output": 10.0,
                    "cache_min_tokens": 100,
                    "checked": "2026-01-01",
                    "source": "test",
                }
            },
        },
    },
}
TABLE = PriceTable.model_validate(ROUND)

# The seed's first request in fixtures/cassettes/000_8703ce6526d76945, counted with o200k_base
# (bpe-openai, as in CALIBRATION's docstring): system prompt 683, tool schema 754, user
# message 453, plus 9 of chat framing (3 a message, 3 a request); its first answer 1,330.
# The cassette's own usage (1,000 prompt, 200 completion) is a placeholder, not a count.
SEED_PROMPT_O200K = 683 + 754 + 453 + 9
SEED_ANSWER_O200K = 1330


def _fixed(tokens: int) -> TokenCounter:
    """A counter that gives every counted part the same number of tokens."""
    return TokenCounter(method="fixed", encode=lambda _text: tokens)


# --------------------------------------------------------------------------- the table


def test_the_packaged_table_loads_dated_with_a_source_for_every_price() -> None:
    table = load_prices()
    for name, group in table.providers.items():
        assert group.batch_discount == 0.5, name  # both providers' batch APIs: half price
        for model, price in group.models.items():
            assert price.source.startswith("https://"), model
            assert price.checked <= table.date, model
            assert price.cached_input is not None and price.cached_input < price.input, model
    assert price_for("openai", "gpt-4o-mini") is not None  # the defaults are priced
    assert price_for("anthropic", "claude-haiku-4-5") is not None


@pytest.mark.parametrize(
    "change",
    [
        {"inptu": 1.0},  # a misspelt key
        {"input": -1.0},  # a negative price
        {"checked": "yesterday"},
    ],
)
def test_a_typo_in_the_table_fails_on_load(change: dict[str, Any]) -> None:
    data = json.loads(json.dumps(ROUND))
    data["providers"]["openai"]["models"]["round"].update(change)
    with pytest.raises(ValidationError):
        PriceTable.model_validate(data)


def test_a_file_path_is_read_and_validated(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(ROUND), "utf-8")
    assert load_prices(path).date.isoformat() == "2026-01-01"


def test_a_dated_snapshot_takes_its_models_price() -> None:
    assert TABLE.lookup("openai", "round-2025-04-14") == TABLE.lookup("openai", "round")
    assert TABLE.lookup("anthropic", "round-20251001") == TABLE.lookup("anthropic", "round")
    assert load_prices().lookup("anthropic", "claude-haiku-4-5-20251001") is not None
    assert load_prices().lookup("anthropic", "claude-3-5-haiku-latest") is not None


# --------------------------------------------------------------------------- cost_of


def test_openai_cost_splits_cached_and_uncached_prompt_tokens() -> None:
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=500_000, cache_read_tokens=200_000)
    # 800,000 uncached at $1 + 200,000 cached at $0.50 + 500,000 out at $4 = 0.8 + 0.1 + 2.0
    assert cost_of(usage, "openai", "round", table=TABLE) == pytest.approx(2.9)
    assert cost_of(usage, "openai", "round", batch=True, table=TABLE) == pytest.approx(1.45)


def test_anthropic_cost_bills_cache_reads_and_writes_apart() -> None:
    usage = Usage(
        prompt_tokens=1_000_000,  # input + cache reads + cache writes, as the provider sums it
        completion_tokens=100_000,
        cache_read_tokens=300_000,
        cache_write_tokens=100_000,
    )
    # 600,000 at $2 + 300,000 at $0.20 + 100,000 at $2.50 + 100,000 out at $10
    expected = 1.2 + 0.06 + 0.25 + 1.0
    assert cost_of(usage, "anthropic", "round", table=TABLE) == pytest.approx(expected)
    assert cost_of(usage, "anthropic", "round", batch=True, table=TABLE) == pytest.approx(
        expected / 2
    )


def test_an_unknown_model_has_no_cost_and_a_local_one_costs_nothing() -> None:
    usage = Usage(prompt_tokens=1000, completion_tokens=1000)
    assert cost_of(usage, "openai", "mystery-1", table=TABLE) is None
    assert cost_of(usage, "openai", "mystery-1", local=True, table=TABLE) == 0.0


def test_the_users_prices_replace_the_tables() -> None:
    given = price_for("openai", "mystery-1", price_in=3.0, price_out=6.0, table=TABLE)
    assert given is not None and given.table_date is None
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=1_000_000, cache_read_tokens=500_000)
    assert given.cost(usage) == pytest.approx(9.0)  # no cache discount assumed for it
    assert price_for("openai", "mystery-1", price_in=3.0, table=TABLE) is None  # both needed


# --------------------------------------------------------------------------- tokens


def test_cjk_text_counts_more_tokens_a_character_than_latin() -> None:
    counter = token_counter("openai", "gpt-4o-mini")
    n = 1200
    latin = counter.article(("The delegation met in Astana. " * 100)[:n]) / n
    cyrillic = counter.article(("Делегация встретилась в Астане. " * 100)[:n]) / n
    cjk = counter.article(("上合组织秘书长会见了代表团。" * 100)[:n]) / n
    assert latin < cyrillic < cjk
    assert cjk == pytest.approx(CALIBRATION.cjk_tokens_per_char, rel=0.01)


def test_without_a_cached_encoding_tiktoken_is_not_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """tiktoken would download its encoding: it is used only when the file is already cached."""
    fake = types.ModuleType("tiktoken")
    fake.encoding_name_for_model = lambda model: "o200k_base"  # type: ignore[attr-defined]
    fake.get_encoding = lambda name: types.SimpleNamespace(  # type: ignore[attr-defined]
        encode=lambda text, disallowed_special=(): text.split()
    )
    monkeypatch.setitem(sys.modules, "tiktoken", fake)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert token_counter("openai", "gpt-4o-mini").method.startswith("estimate")
    url = cost._TIKTOKEN_FILES["o200k_base"]
    (tmp_path / hashlib.sha1(url.encode()).hexdigest()).write_bytes(b"cached")
    counter = token_counter("openai", "gpt-4o-mini")
    assert counter.method == "tiktoken o200k_base"
    assert counter.article("three words here") == 3
    assert token_counter("anthropic", "claude-haiku-4-5").method.startswith("estimate")


# --------------------------------------------------------------------------- the estimate


def test_the_seed_estimate_is_within_2_percent_of_o200k_on_its_recorded_request() -> None:
    """The calibrated estimate against a real tokenizer's count of the seed cassette's request."""
    first = next(
        json.loads(p.read_text("utf-8"))
        for p in sorted((CASSETTES / "000_8703ce6526d76945").glob("*.json"))
        if len(json.loads(p.read_text("utf-8"))["request"]["body"]["messages"]) == 2
    )
    estimate = estimate_run([SEED], Settings())
    assert estimate.requests == 1
    assert estimate.method.startswith("estimate")
    assert estimate.prompt_tokens == pytest.approx(SEED_PROMPT_O200K, rel=0.02)
    # The estimate builds the request the cassette recorded (replay depends on it).
    body = cost._provider(Settings()).request(first["request"]["body"]["messages"], max_tokens=4096)
    assert body == first["request"]["body"]
    # Answers vary from 0.3 to 3.4 times their article's tokens: the median figure is
    # within half of the seed's answer, no closer.
    assert estimate.completion_tokens == pytest.approx(SEED_ANSWER_O200K, rel=0.5)


@pytest.mark.parametrize(
    ("mode", "cassette"),
    [("tools", "000_8703ce6526d76945"), ("json_schema", "json_schema_000_8703ce6526d76945")],
)
def test_the_dry_run_counts_the_request_the_live_path_sent_in_each_mode(
    mode: OutputMode, cassette: str
) -> None:
    """What the estimate counts is, byte for byte, the first request the live path recorded
    for the seed in that output mode: its own system prompt, schema and token limit."""
    settings = Settings(api_key="sk-test", output_mode=mode)
    document = read_document(SEED, max_bytes=settings.max_input_bytes)
    (body, _budget), *rest = cost._bodies(document, settings, cost._provider(settings))
    recorded = [
        json.loads(p.read_text("utf-8"))["request"]["body"]
        for p in sorted((CASSETTES / cassette).glob("*.json"))
    ]
    first = [b for b in recorded if len(b["messages"]) == 2]
    assert rest == [] and first == [body]


def test_json_schema_mode_counts_its_longer_system_prompt() -> None:
    """The dry run prices json_schema mode with that mode's fuller prompt, not tools mode's."""
    tools = estimate_run([SEED], Settings(api_key="sk-test", output_mode="tools"))
    constrained = estimate_run([SEED], Settings(api_key="sk-test", output_mode="json_schema"))
    assert constrained.prompt_tokens > tools.prompt_tokens + 300


def test_a_long_document_counts_a_request_for_each_chunk() -> None:
    paragraph = "The ministers met in Astana on Monday and discussed trade and security. " * 8
    text = "\n\n".join([paragraph] * 60)
    settings = Settings()
    chunks = split(text, settings.chunk_chars, settings.chunk_overlap)
    assert len(chunks) >= 3
    short = estimate_run([document_from_text(paragraph, "short.txt")], settings)
    long = estimate_run([document_from_text(text, "long.txt")], settings)
    assert long.requests == len(chunks) == long.per_document[0].chunks
    assert long.prefix_tokens == len(chunks) * short.prefix_tokens
    assert long.prompt_tokens > len(chunks) * short.prefix_tokens + len(text) / 6


def test_the_estimate_prices_by_hand() -> None:
    """Every part counted as 100 tokens: two documents, one request each."""
    docs = [document_from_text(f"Article {i}.", f"{i}.txt") for i in range(2)]
    openai = estimate_run(docs, Settings(model="round"), table=TABLE, counter=_fixed(100))
    # prompt: system 100 + schema 100 + user 100 + framing (3 x 2 messages + 3) = 309 a request
    assert (openai.requests, openai.prompt_tokens, openai.prefix_tokens) == (2, 618, 400)
    assert openai.completion_tokens == 2 * round(100 * CALIBRATION.completion_per_article_token)
    out = openai.completion_tokens * 4.0
    # OpenAI caches 100 (its minimum here) + whole steps of 128 of the 200-token prefix: 100,
    # read by the second request at $0.50.
    assert openai.cached_tokens == 100 and openai.cache_write_tokens == 0
    assert openai.price_live == pytest.approx((518 * 1.0 + 100 * 0.5 + out) / 1e6)
    assert openai.price_live_uncached == pytest.approx((618 * 1.0 + out) / 1e6)
    assert openai.price_batch == pytest.approx((618 * 1.0 + out) / 2e6)

    anthropic = estimate_run(
        docs, Settings(provider="anthropic", model="round"), table=TABLE, counter=_fixed(100)
    )
    # The first request writes the 200-token prefix, the second reads it.
    assert (anthropic.cache_write_tokens, anthropic.cached_tokens) == (200, 200)
    prompt = anthropic.prompt_tokens
    out = anthropic.completion_tokens * 10.0
    expected = ((prompt - 400) * 2.0 + 200 * 0.2 + 200 * 2.5 + out) / 1e6
    assert anthropic.price_live == pytest.approx(expected)
    assert anthropic.price_batch == pytest.approx((prompt * 2.0 + out) / 2e6)


def test_the_prompt_cache_lowers_the_live_price_only_where_it_applies() -> None:
    docs = [SEED, SEED]
    openai = estimate_run(docs, Settings(model="gpt-4o-mini"))
    assert openai.cached_tokens > 0
    assert openai.price_live is not None and openai.price_live_uncached is not None
    assert openai.price_live < openai.price_live_uncached
    # Haiku 4.5 caches prefixes of 4,096 tokens or more; this prompt's is shorter.
    haiku = estimate_run(docs, Settings(provider="anthropic", model="claude-haiku-4-5"))
    assert haiku.cached_tokens == 0 and haiku.price_live == haiku.price_live_uncached
    assert any("under this model's minimum" in a for a in haiku.assumptions)
    sonnet = estimate_run(docs, Settings(provider="anthropic", model="claude-sonnet-4-5"))
    assert sonnet.cache_write_tokens == sonnet.cached_tokens > 0
    assert sonnet.price_live is not None and sonnet.price_live_uncached is not None
    assert sonnet.price_live < sonnet.price_live_uncached


def test_an_unknown_model_still_gets_tokens_and_says_how_to_price_it() -> None:
    estimate = estimate_run([SEED], Settings(model="mystery-1"))
    assert estimate.prompt_tokens > 0 and estimate.completion_tokens > 0
    assert estimate.price is None and estimate.price_live is None
    note = estimate.price_note or ""
    assert "mystery-1" in note and load_prices().date.isoformat() in note
    assert "--price-in" in note
    priced = estimate_run([SEED], Settings(model="mystery-1"), price_in=1.0, price_out=2.0)
    assert priced.price_live is not None and priced.price_live > 0


@pytest.mark.parametrize(
    "settings",
    [
        {"base_url": "http://127.0.0.1:8080/v1", "model": "gpt-4o"},
        {"gguf": "model.gguf"},
    ],
)
def test_a_local_model_costs_nothing(settings: dict[str, Any]) -> None:
    estimate = estimate_run([SEED], Settings(**settings))
    assert estimate.prompt_tokens > 0
    assert estimate.price_live == 0.0 and estimate.price_batch == 0.0


def test_reasks_add_requests_and_unreadable_files_are_listed(tmp_path: Path) -> None:
    base = estimate_run([SEED] * 10, Settings())
    more = estimate_run([SEED] * 10 + [tmp_path / "missing.txt"], Settings(), reask_rate=0.2)
    assert (base.requests, more.requests, more.reasks) == (10, 10, 2)
    assert more.prompt_tokens > base.prompt_tokens * 1.2  # a re-ask resends the answer too
    assert more.completion_tokens == pytest.approx(base.completion_tokens * 1.2, abs=2)
    assert len(more.unreadable) == 1 and "missing.txt" in more.unreadable[0]
    with pytest.raises(ValueError):
        estimate_run([SEED], Settings(), reask_rate=1.5)


def test_format_estimate_says_tokens_prices_method_and_table_date() -> None:
    text = format_estimate(estimate_run([SEED, SEED], Settings()))
    for words in (
        "requests: 2",
        "prompt tokens:",
        "static prefix",
        "completion tokens:",
        "price live (openai gpt-4o-mini): $",
        "price batch: $",
        "tokens counted by estimate",
        f"list prices of {load_prices().date.isoformat()}",
    ):
        assert words in text, words
    assert len(text.splitlines()) <= 12
    unknown = format_estimate(estimate_run([SEED], Settings(model="mystery-1")))
    assert "no price for openai model 'mystery-1'" in unknown
