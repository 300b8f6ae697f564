"""Tests for extractor.model.providers.anthropic_messages: Anthropic's API behind the seam."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from extractor import (
    ConfigurationError,
    ExtractorError,
    ResponseError,
    Settings,
    TransportError,
    extract,
    read_document,
)
from extractor.cli import app
from extractor.ground.support import Article, review
from extractor.model.client import DraftAnswer, ModelClient, Verdict, answer_budget, build_transport
from extractor.model.providers import PROVIDERS, AnthropicMessages, Unreadable
from extractor.model.providers.anthropic_messages import (
    TOOL_PARAMS,
    parse_message,
    stored_request,
    worth_keeping,
)
from extractor.model.providers.openai_chat import TOOL_PARAMS as OPENAI_TOOL_PARAMS
from extractor.model.ratelimit import RateLimiter
from extractor.schemas import DraftExtraction, Extraction, Usage
from extractor.testing import (
    FAKE_KEY,
    Fault,
    ScriptedTransport,
    anthropic_error,
    message_body,
    scripted_settings,
)

from .conftest import CASSETTES, ROOT, SEED

ARTICLE = (
    "JAKARTA, March 3 (APP) - Indonesian Foreign Minister Retno Marsudi met Vietnamese "
    "Foreign Minister Bui Thanh Son in Jakarta on Friday. Indonesia holds the ASEAN "
    "chairmanship this year, and the two ministers agreed to hold regular consultations."
)
MEETING_QUOTE = "Retno Marsudi met Vietnamese Foreign Minister Bui Thanh Son in Jakarta on Friday"
CLAIM_QUOTE = "Indonesia holds the ASEAN chairmanship this year"
BAD_QUOTE = "Indonesia chairs ASEAN in 2023"
SYSTEM = "Extract meetings and status claims."
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": ARTICLE}]
MODEL = "claude-haiku-4-5"

GOOD: dict[str, Any] = {
    "meetings": [
        {
            "sides": [
                {"name": "Retno Marsudi", "kind": "person", "mentions": ["Retno Marsudi"]},
                {"name": "Bui Thanh Son", "kind": "person", "mentions": ["Bui Thanh Son"]},
            ],
            "quotes": [MEETING_QUOTE],
        }
    ],
    "status_claims": [
        {
            "subject": "Indonesia",
            "subject_quote": "Indonesia",
            "organisation": "ASEAN",
            "status": "chair",
            "status_quote": "ASEAN chairmanship",
            "stance": "holds",
            "stance_quote": "holds",
            "quotes": [CLAIM_QUOTE],
        }
    ],
}

SEED_SPEC = "anthropic_000_8703ce6526d76945"
LONG_SPEC = "anthropic_010_long_summit_roundup"


@pytest.fixture(autouse=True)
def no_anthropic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's Anthropic key and server out of these tests."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)


def check(draft: DraftExtraction) -> Verdict:
    """The support check the pipeline re-asks with, over ARTICLE."""
    checked = review(draft, Article(ARTICLE))
    return Verdict(checked.problems(), len(checked.meetings) + len(checked.claims))


def _ungrounded() -> dict[str, Any]:
    answer = copy.deepcopy(GOOD)
    answer["status_claims"][0]["quotes"] = [BAD_QUOTE]
    answer["status_claims"][0]["status_quote"] = "chairs ASEAN"
    return answer


def _settings(**overrides: Any) -> Settings:
    return scripted_settings(**{"provider": "anthropic", "model": MODEL, **overrides})


async def _ask_through(inner: httpx2.AsyncBaseTransport, **overrides: Any) -> DraftAnswer:
    """Ask once for MESSAGES over ARTICLE, ``inner`` as the network under the real stack."""
    settings = _settings(**overrides)
    async with ModelClient(settings, build_transport(settings, inner=inner)) as client:
        return await client.ask(MESSAGES, check)


async def _ask(script: list[Any], **overrides: Any) -> tuple[DraftAnswer, ScriptedTransport]:
    scripted = ScriptedTransport(script)
    return await _ask_through(scripted, **overrides), scripted


class _Canned(httpx2.AsyncBaseTransport):
    """A server that always sends the same answer, and keeps the bodies it was sent."""

    def __init__(self, body: dict[str, Any] | bytes, status: int = 200) -> None:
        self.body = body
        self.status = status
        self.bodies: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.bodies.append(json.loads(await request.aread()))
        if isinstance(self.body, bytes):
            return httpx2.Response(self.status, content=self.body)
        return httpx2.Response(self.status, json=self.body)


def _evidence(result: Extraction) -> list[Any]:
    spans = [e for m in result.meetings for e in m.evidence]
    spans += [e for p in result.participants for e in p.mentions]
    spans += [e for c in result.status_claims for e in c.evidence]
    return spans


def _records(result: Extraction) -> dict[str, Any]:
    """What a result says of the article, without how it was asked."""
    return result.model_dump(mode="json", include={"meetings", "participants", "status_claims"})


# --------------------------------------------------------------------------- the request


def test_the_provider_is_registered_under_its_settings_name() -> None:
    """``provider="anthropic"``, or a model named ``anthropic/...``, builds this provider."""
    assert PROVIDERS["anthropic"] is AnthropicMessages
    settings = Settings(model="anthropic/claude-sonnet-4-5", mode="replay", cassette_dir=Path("."))
    assert settings.provider == "anthropic" and settings.model == "claude-sonnet-4-5"
    client = ModelClient(settings, ScriptedTransport([]))
    assert isinstance(client.provider, AnthropicMessages)


async def test_request_puts_the_system_prompt_in_a_cached_block_and_forces_the_tool() -> None:
    """The system prompt is one text block marked for the prompt cache, outside the turns; the
    tool is forced (one call); the model, temperature and the loop's budget are sent."""
    _, scripted = await _ask([GOOD])
    (body,) = scripted.bodies
    assert body["system"] == [
        {"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}
    ]
    assert body["messages"] == [{"role": "user", "content": ARTICLE}]
    assert body["model"] == MODEL and body["temperature"] == 0.0
    assert body["max_tokens"] == answer_budget(MESSAGES, None)
    assert body["tool_choice"] == {
        "type": "tool",
        "name": "DraftExtraction",
        "disable_parallel_tool_use": True,
    }
    assert [t["name"] for t in body["tools"]] == ["DraftExtraction"]
    assert set(body) == {
        "model",
        "max_tokens",
        "system",
        "messages",
        "temperature",
        "tools",
        "tool_choice",
    }


async def test_request_goes_to_messages_with_anthropics_headers() -> None:
    """``POST {base_url}/messages`` with the key in x-api-key and the API version; no bearer."""
    _, scripted = await _ask([GOOD])
    (request,) = scripted.requests
    assert request.method == "POST"
    assert str(request.url) == "https://api.anthropic.com/v1/messages"
    assert request.headers["x-api-key"] == FAKE_KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers


async def test_a_base_url_is_where_requests_go() -> None:
    """A proxy or gateway named by base_url gets ``{base_url}/messages``."""
    _, scripted = await _ask([GOOD], base_url="https://gateway.example.test/anthropic/v1/")
    assert str(scripted.requests[0].url) == "https://gateway.example.test/anthropic/v1/messages"


async def test_max_tokens_is_always_sent_and_a_set_cap_wins() -> None:
    """The API requires max_tokens: a cap the user set is sent as it is."""
    _, scripted = await _ask([GOOD], max_tokens=777)
    assert scripted.bodies[0]["max_tokens"] == 777


def test_the_tool_schema_is_sent_compact_and_matches_openais() -> None:
    """instructor's Anthropic tool carries the same compact schema as the OpenAI tool."""
    (tool,) = TOOL_PARAMS["tools"]
    schema = tool["input_schema"]
    text = json.dumps(schema)
    assert '"title": "' not in text and '"default"' not in text
    openai = OPENAI_TOOL_PARAMS["tools"][0]["function"]["parameters"]
    assert {k: v for k, v in schema.items() if k != "description"} == openai
    assert tool["description"] == "The meetings and status claims the article reports."


def test_shorter_halves_every_list_bound() -> None:
    """After a cut-off answer the tool's schema bounds every list, at half the draft's bounds."""
    provider = AnthropicMessages(_settings(), ScriptedTransport([]))
    first = provider.request(MESSAGES, max_tokens=100)["tools"][0]["input_schema"]
    second = provider.request(MESSAGES, max_tokens=100, shorter=True)["tools"][0]["input_schema"]
    assert "maxItems" not in first["properties"]["meetings"]  # tokens only, to a hosted model
    assert second["properties"]["meetings"]["maxItems"] == 30


def test_json_schema_mode_is_refused() -> None:
    """instructor's Anthropic JSON_SCHEMA handler does not fit the installed SDK: tools only,
    refused when the settings are built, and by the provider for settings built around that."""
    with pytest.raises(ValidationError, match="tools only"):
        _settings(output_mode="json_schema")
    unchecked = _settings().model_copy(update={"output_mode": "json_schema"})
    with pytest.raises(ConfigurationError, match="anthropic supports --mode tools only"):
        AnthropicMessages(unchecked, ScriptedTransport([]))


# --------------------------------------------------------------------------- the answer


async def test_a_tool_use_answer_is_the_draft_in_one_attempt() -> None:
    """A grounded tool call is read into the draft at once, with its tokens."""
    answer, _ = await _ask([GOOD])
    assert answer.attempts == 1 and answer.warnings == []
    assert [m.quotes for m in answer.draft.meetings] == [[MEETING_QUOTE]]
    assert [c.quotes for c in answer.draft.status_claims] == [[CLAIM_QUOTE]]
    assert answer.usage == Usage(prompt_tokens=1000, completion_tokens=200, total_tokens=1200)


def test_usage_counts_the_prompt_caches_reads_and_writes() -> None:
    """The prompt is input plus cache writes plus cache reads; each cache count is kept."""
    body = message_body(GOOD, input_tokens=120, output_tokens=300, cache_write_tokens=4000)
    provider = AnthropicMessages(_settings(), ScriptedTransport([]))
    written = provider.usage(parse_message(json.dumps(body).encode()))
    assert written == Usage(
        prompt_tokens=4120, completion_tokens=300, total_tokens=4420, cache_write_tokens=4000
    )
    body = message_body(GOOD, input_tokens=120, output_tokens=300, cache_read_tokens=4000)
    read = provider.usage(parse_message(json.dumps(body).encode()))
    assert read == Usage(
        prompt_tokens=4120, completion_tokens=300, total_tokens=4420, cache_read_tokens=4000
    )
    del body["usage"]["cache_read_input_tokens"], body["usage"]["cache_creation_input_tokens"]
    bare = provider.usage(parse_message(json.dumps(body).encode()))
    assert bare == Usage(prompt_tokens=120, completion_tokens=300, total_tokens=420)


async def test_cache_tokens_are_summed_over_attempts() -> None:
    """Every attempt's cache reads count, a re-ask's included."""
    canned = _Canned(message_body(_ungrounded(), input_tokens=10, cache_read_tokens=900))
    answer = await _ask_through(canned, reasks=1)
    assert len(canned.bodies) == 2
    assert answer.usage.cache_read_tokens == 1800
    assert answer.usage.prompt_tokens == 1820


async def test_an_ungrounded_quote_is_reasked_in_a_tool_result_with_is_error() -> None:
    """The answer goes back as the assistant's turn and what is wrong as an erroneous
    tool_result for its tool_use id; the system block and the tool stay as they were."""
    answer, scripted = await _ask([_ungrounded(), GOOD])
    assert answer.attempts == 2 and answer.warnings == []
    assert [c.quotes for c in answer.draft.status_claims] == [[CLAIM_QUOTE]]
    first, second = scripted.bodies
    assert second["system"] == first["system"] and second["tools"] == first["tools"]
    user, assistant, result = second["messages"]
    assert user == {"role": "user", "content": ARTICLE}
    assert assistant == {
        "role": "assistant",
        "content": [
            {
                "type": "tool_use",
                "id": "toolu_scripted",
                "name": "DraftExtraction",
                "input": _ungrounded(),
            }
        ],
    }
    assert result["role"] == "user"
    (block,) = result["content"]
    assert block["type"] == "tool_result" and block["tool_use_id"] == "toolu_scripted"
    assert block["is_error"] is True
    assert f"status_claims[0].quotes[0]: {BAD_QUOTE!r} is not in the article" in block["content"]


async def test_an_input_outside_the_schema_is_reasked_with_the_validation_error() -> None:
    """A tool input that does not validate is Unreadable: re-asked, naming the field."""
    answer, scripted = await _ask([{"meetings": "not a list", "status_claims": []}, GOOD])
    assert answer.attempts == 2
    feedback = scripted.bodies[1]["messages"][-1]["content"][0]["content"]
    assert "meetings" in feedback and "Validation Error" in feedback


def test_parse_says_unreadable_for_an_invalid_input() -> None:
    """The provider's own parse raises Unreadable (with the pydantic cause) for a bad input."""
    provider = AnthropicMessages(_settings(), ScriptedTransport([]))
    body = message_body({"meetings": [{"sides": "nobody"}]})
    with pytest.raises(Unreadable) as caught:
        provider.parse(parse_message(json.dumps(body).encode()))
    assert caught.value.__cause__ is not None


async def test_a_cut_off_answer_is_asked_again_once_with_halved_lists() -> None:
    """stop_reason max_tokens is a cut-off: asked again afresh with halved bounds, then what is
    complete in the tool input is kept, with a warning."""
    canned = _Canned(message_body(GOOD, stop_reason="max_tokens"))
    answer = await _ask_through(canned, reasks=2)
    assert len(canned.bodies) == 2 and answer.attempts == 2
    first, second = (b["tools"][0]["input_schema"] for b in canned.bodies)
    assert "maxItems" not in first["properties"]["meetings"]
    assert second["properties"]["meetings"]["maxItems"] == 30
    assert "cut off" in canned.bodies[1]["messages"][-1]["content"]
    assert len(canned.bodies[1]["messages"]) == 2  # the article, then the ask to be shorter
    assert any("attempt 2 was cut off at its token limit" in w for w in answer.warnings)
    assert [m.quotes for m in answer.draft.meetings] == [[MEETING_QUOTE]]


async def test_an_answer_without_a_tool_call_is_a_response_error_at_once() -> None:
    """Text instead of the forced tool call fails at once, quoting what the model said."""
    canned = _Canned(message_body("I would rather not."))
    with pytest.raises(ResponseError, match=r"without calling the tool.*I would rather not"):
        await _ask_through(canned, reasks=2)
    assert len(canned.bodies) == 1


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"<html>bad gateway</html>", "not JSON"),
        (b'{"type": "message"}', "not an Anthropic message"),
    ],
)
async def test_an_answer_that_is_no_message_is_a_response_error(content: bytes, match: str) -> None:
    """A 200 whose body is not JSON, or not a message, is a ResponseError saying which."""
    with pytest.raises(ResponseError, match=match):
        await _ask_through(_Canned(content))


# --------------------------------------------------------------------------- HTTP errors


async def test_401_is_a_configuration_error_naming_the_key_variable() -> None:
    """A refused key names ANTHROPIC_API_KEY, is not retried, and never shows the key."""
    body = anthropic_error("invalid x-api-key", "authentication_error")
    scripted = ScriptedTransport([Fault(401, body=body), GOOD])
    with pytest.raises(ConfigurationError, match=r"HTTP 401.*ANTHROPIC_API_KEY") as caught:
        await _ask_through(scripted)
    assert len(scripted.bodies) == 1
    assert FAKE_KEY not in str(caught.value)


async def test_404_is_a_configuration_error_naming_the_model() -> None:
    """An unknown model is named in the error, with Anthropic's message."""
    body = anthropic_error(f"model: {MODEL}-nope", "not_found_error")
    with pytest.raises(ConfigurationError, match=rf"model '{MODEL}-nope'.*HTTP 404.*not_found"):
        await _ask_through(ScriptedTransport([Fault(404, body=body)]), model=f"{MODEL}-nope")


async def test_400_is_a_transport_error_with_anthropics_message_not_retried() -> None:
    """A refused request carries Anthropic's own message; it is not retried."""
    body = anthropic_error("max_tokens: must be at most 64000", "invalid_request_error")
    scripted = ScriptedTransport([Fault(400, body=body), GOOD])
    with pytest.raises(TransportError) as caught:
        await _ask_through(scripted)
    assert str(caught.value) == (
        "the server answered HTTP 400: max_tokens: must be at most 64000 (invalid_request_error)"
    )
    assert len(scripted.bodies) == 1


async def test_the_key_is_never_in_an_error_message() -> None:
    """Should the server echo the key, the message shows it redacted."""
    body = anthropic_error(f"key {FAKE_KEY} is not allowed here", "permission_error")
    with pytest.raises(TransportError) as caught:
        await _ask_through(ScriptedTransport([Fault(403, body=body)]))
    assert FAKE_KEY not in str(caught.value) and "[redacted]" in str(caught.value)


async def test_529_overloaded_is_retried_then_reported_with_anthropics_message() -> None:
    """Overloaded (529) is retried like a 503; past the budget it is a TransportError."""
    overloaded = Fault(529, body=anthropic_error("Overloaded", "overloaded_error"))
    answer, scripted = await _ask([overloaded, GOOD])
    assert answer.attempts == 1 and len(scripted.bodies) == 2
    scripted = ScriptedTransport([overloaded] * 3)
    with pytest.raises(TransportError, match=r"HTTP 529 after 3 tries: Overloaded"):
        await _ask_through(scripted, transport_retries=2)
    assert len(scripted.bodies) == 3


async def test_a_default_fault_answers_in_anthropics_error_shape() -> None:
    """A scripted 500 to /messages comes as Anthropic's error body, read into the message."""
    with pytest.raises(TransportError, match=r"HTTP 500 after 2 tries: scripted fault"):
        await _ask_through(ScriptedTransport([Fault(500)] * 2), transport_retries=1)


# --------------------------------------------------------------------------- the stack


async def test_rate_limit_headers_are_anthropics_and_their_reset_is_a_timestamp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The limit is learned from anthropic-ratelimit-requests-limit; a spent quota waits
    until the RFC 3339 reset."""
    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    monkeypatch.setattr("extractor.model.ratelimit.asyncio.sleep", fake_sleep)
    limiter = RateLimiter(
        clock=lambda: now[0], safety=1.0, headers=AnthropicMessages.rate_limit_headers
    )
    limiter.observe(httpx2.Response(200, headers={"anthropic-ratelimit-requests-limit": "50"}))
    assert limiter.interval == pytest.approx(1.2)
    reset = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)).isoformat()
    headers = {
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "0",
        "anthropic-ratelimit-requests-reset": reset,
    }
    limiter.observe(httpx2.Response(200, headers=headers))
    await limiter.acquire()
    assert 29.0 <= now[0] <= 30.0


def test_what_the_response_cache_keeps() -> None:
    """Complete tool calls are kept; cut-off, text-only or odd answers are not."""
    assert worth_keeping(message_body(GOOD))
    assert worth_keeping(message_body(GOOD, stop_reason="end_turn"))
    assert not worth_keeping(message_body(GOOD, stop_reason="max_tokens"))
    assert not worth_keeping(message_body("no tool"))
    assert not worth_keeping({"type": "error", "error": {}})
    assert not worth_keeping([])
    request = {"method": "POST", "path": "messages", "body": {"model": MODEL, **TOOL_PARAMS}}
    stored = stored_request(request)
    assert stored["body"]["tools"] == ["DraftExtraction"]
    assert stored["body"]["tool_choice"] == TOOL_PARAMS["tool_choice"]
    assert stored_request({"body": "raw"}) == {"body": "raw"}


async def test_a_rerun_is_answered_from_the_response_cache(tmp_path: Path) -> None:
    """A complete answer is cached: the same request again never reaches the server."""
    scripted = ScriptedTransport([GOOD])
    settings = _settings(cache=True, cache_path=tmp_path / "responses.sqlite")
    for _ in range(2):
        async with ModelClient(settings, inner=scripted) as client:
            answer = await client.ask(MESSAGES, check)
        assert answer.attempts == 1
    assert len(scripted.bodies) == 1


async def test_the_network_fault_left_after_retries_is_a_transport_error() -> None:
    """A connection the server refuses every time ends as TransportError, not an httpx2 error."""

    class _Refusing(httpx2.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            raise httpx2.ConnectError("refused", request=request)

    with pytest.raises(TransportError, match="cannot reach the server"):
        await _ask_through(_Refusing(), transport_retries=0)


# --------------------------------------------------------------------------- replay


@pytest.mark.parametrize(
    ("spec", "openai_spec", "attempts", "meetings", "claims"),
    [
        (SEED_SPEC, "000_8703ce6526d76945", 2, 3, 4),
        (LONG_SPEC, "010_long_summit_roundup", 5, 14, 15),
    ],
)
def test_authored_anthropic_cassettes_replay_through_the_whole_pipeline(
    spec: str, openai_spec: str, attempts: int, meetings: int, claims: int
) -> None:
    """The authored Anthropic exchanges replay to the same records as the OpenAI ones scripted
    with the same answers, re-asks included, every evidence span cut from the text."""
    document_path = (
        ROOT
        / json.loads((ROOT / "fixtures" / "authored" / f"{spec}.json").read_text("utf-8"))[
            "document"
        ]
    )
    document = read_document(document_path, max_bytes=10**7)
    settings = Settings(provider="anthropic", mode="replay", cassette_dir=CASSETTES / spec)
    result = extract(document, settings=settings)
    assert result.run.attempts == attempts
    assert (len(result.meetings), len(result.status_claims)) == (meetings, claims)
    assert _evidence(result)
    for span in _evidence(result):
        assert document.text[span.start : span.end] == span.quote
    openai = extract(
        document, settings=Settings(mode="replay", cassette_dir=CASSETTES / openai_spec)
    )
    assert _records(result) == _records(openai)
    assert result.warnings == openai.warnings
    assert result.run.usage.total_tokens == attempts * 1200


def test_the_seed_cassettes_hold_the_reask_turn() -> None:
    """The authored seed's re-ask is a tool_result with is_error naming the misquote."""
    exchanges = [
        json.loads(p.read_text("utf-8")) for p in sorted((CASSETTES / SEED_SPEC).glob("*.json"))
    ]
    assert {e["request"]["path"] for e in exchanges} == {"messages"}
    assert all(e["provenance"]["source"] == "authored" for e in exchanges)
    results = [
        block
        for e in exchanges
        for m in e["request"]["body"]["messages"]
        if isinstance(m["content"], list)
        for block in m["content"]
        if block.get("type") == "tool_result"
    ]
    (result,) = results
    assert result["is_error"] is True
    assert "Myanmar was seeking dialogue partner status" in result["content"]


def test_cli_replays_the_anthropic_cassettes_with_an_anthropic_model_name() -> None:
    """``extractor extract SEED --replay DIR --model anthropic/<model>`` picks Anthropic."""
    result = CliRunner().invoke(
        app,
        [
            "extract",
            str(SEED),
            "--replay",
            str(CASSETTES / SEED_SPEC),
            "--model",
            f"anthropic/{MODEL}",
        ],
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["meetings"]) == 3 and len(data["status_claims"]) == 4
    assert data["run"]["attempts"] == 2


def test_replay_with_another_model_misses_naming_it() -> None:
    """A replay for a model the cassettes were not made with is a clear miss, not a guess."""
    settings = Settings(
        provider="anthropic",
        model="claude-other",
        mode="replay",
        cassette_dir=CASSETTES / SEED_SPEC,
    )
    with pytest.raises(ExtractorError, match="'claude-other'"):
        extract(read_document(SEED, max_bytes=10**7), settings=settings)


async def test_a_tool_use_of_another_tool_is_re_asked_and_never_kept() -> None:
    """A tool_use named anything but DraftExtraction is an invalid answer: re-asked with a
    tool_result that names the tool to use; with the budget spent, it is not salvaged."""
    wrong = message_body(GOOD, tool_name="get_weather")
    canned = _Canned(wrong)
    with pytest.raises(ResponseError, match="used a tool named 'get_weather'"):
        await _ask_through(canned, reasks=1)
    assert len(canned.bodies) == 2
    result = canned.bodies[1]["messages"][-1]["content"][0]
    assert result["type"] == "tool_result" and result["is_error"] is True
    assert "get_weather" in result["content"] and "DraftExtraction" in result["content"]
    assert not worth_keeping(wrong)
