"""Tests for extractor.model.client: the model call, its re-asks, retries and errors."""

from __future__ import annotations

import copy
import json
import logging
import re
from pathlib import Path
from typing import Any

import httpx2
import pytest
from openai._utils._transform import async_maybe_transform
from openai.types.chat import completion_create_params

from extractor import (
    ConfigurationError,
    ReplayMissError,
    ResponseError,
    Settings,
    TransportError,
)
from extractor.ground.support import Article, review
from extractor.model.client import DraftAnswer, ModelClient, Verdict, build_transport
from extractor.model.providers import OpenAIChat, Unreadable
from extractor.schemas import DraftExtraction, Usage
from extractor.testing import (
    FAKE_KEY,
    Fault,
    ScriptedTransport,
    completion_body,
    run_scripted,
    scripted_settings,
)

ARTICLE = (
    "JAKARTA, March 3 (APP) - Indonesian Foreign Minister Retno Marsudi met Vietnamese "
    "Foreign Minister Bui Thanh Son in Jakarta on Friday. Indonesia holds the ASEAN "
    "chairmanship this year, and the two ministers agreed to hold regular consultations."
)
MEETING_QUOTE = "Retno Marsudi met Vietnamese Foreign Minister Bui Thanh Son in Jakarta on Friday"
CLAIM_QUOTE = "Indonesia holds the ASEAN chairmanship this year"
BAD_QUOTE = "Indonesia chairs ASEAN in 2023"
MESSAGES = [
    {"role": "system", "content": "Extract meetings and status claims."},
    {"role": "user", "content": ARTICLE},
]

RETNO: dict[str, Any] = {
    "name": "Retno Marsudi",
    "title": "Foreign Minister",
    "state": "Indonesia",
    "kind": "person",
    "mentions": ["Retno Marsudi"],
}
BUI: dict[str, Any] = {
    "name": "Bui Thanh Son",
    "title": "Foreign Minister",
    "state": "Vietnam",
    "kind": "person",
    "mentions": ["Bui Thanh Son"],
}
GOOD: dict[str, Any] = {
    "meetings": [{"sides": [RETNO, BUI], "quotes": [MEETING_QUOTE]}],
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


def check(draft: DraftExtraction) -> Verdict:
    """The support check the pipeline re-asks with (``runner._checker``), over ARTICLE."""
    checked = review(draft, Article(ARTICLE))
    return Verdict(checked.problems(), len(checked.meetings) + len(checked.claims))


def _ungrounded() -> dict[str, Any]:
    """GOOD with the status claim invented: neither its sentence nor its status words are in
    the article, so nothing supports it."""
    answer = copy.deepcopy(GOOD)
    answer["status_claims"][0]["quotes"] = [BAD_QUOTE]
    answer["status_claims"][0]["status_quote"] = "chairs ASEAN"
    return answer


async def _ask_through(inner: httpx2.AsyncBaseTransport, **overrides: Any) -> DraftAnswer:
    """Ask once for MESSAGES over ARTICLE, with ``inner`` as the network under the real stack."""
    settings = scripted_settings(**overrides)
    async with ModelClient(settings, build_transport(settings, inner=inner)) as client:
        return await client.ask(MESSAGES, check)


async def _ask(script: list[Any], **overrides: Any) -> tuple[DraftAnswer, ScriptedTransport]:
    scripted = ScriptedTransport(script)
    return await _ask_through(scripted, **overrides), scripted


def _tool_messages(body: dict[str, Any]) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "tool"]


class _Canned(httpx2.AsyncBaseTransport):
    """A server that always sends the same completion body."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.calls = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.calls += 1
        await request.aread()
        return httpx2.Response(200, json=self.body)


# --------------------------------------------------------------------------- answers


async def test_good_answer_satisfies_the_support_check() -> None:
    """GOOD, the answer the other tests expect to be kept, has nothing unsupported."""
    assert check(DraftExtraction.model_validate(GOOD)).problems == []
    assert check(DraftExtraction.model_validate(_ungrounded())).problems


async def test_valid_first_answer_takes_one_attempt() -> None:
    """A grounded first answer is returned as it is, with one attempt and its usage."""
    answer, scripted = await _ask([GOOD])
    assert answer.attempts == 1
    assert answer.usage == Usage(prompt_tokens=1000, completion_tokens=200, total_tokens=1200)
    assert answer.warnings == []
    assert [m.quotes for m in answer.draft.meetings] == [[MEETING_QUOTE]]
    assert [c.quotes for c in answer.draft.status_claims] == [[CLAIM_QUOTE]]
    assert len(scripted.bodies) == 1


async def test_request_carries_model_messages_and_tool() -> None:
    """The request names the settings' model, sends our messages and asks for the draft tool."""
    _, scripted = await _ask([GOOD], model="some-local-model", temperature=0.0)
    (body,) = scripted.bodies
    assert body["model"] == "some-local-model"
    assert body["messages"] == MESSAGES
    assert [t["function"]["name"] for t in body["tools"]] == ["DraftExtraction"]
    assert body["temperature"] == 0.0


async def test_request_body_is_what_the_sdk_would_send() -> None:
    """Posting past the SDK's param transform changes nothing: the transform keeps our body."""
    _, scripted = await _ask([_ungrounded(), GOOD])  # a re-ask adds tool-call messages
    for body in scripted.bodies:
        walked = await async_maybe_transform(
            body, completion_create_params.CompletionCreateParamsNonStreaming
        )
        assert walked == body
    assert scripted.requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert scripted.requests[0].headers["content-type"] == "application/json"
    assert scripted.requests[0].url.path.endswith("/chat/completions")


async def test_a_loosely_shaped_completion_is_still_read() -> None:
    """An OpenAI-compatible server's answer that strict parsing refuses is read leniently."""
    body = completion_body(GOOD, finish_reason="eos")  # not a finish reason OpenAI sends
    del body["created"], body["object"]
    answer = await _ask_through(_Canned(body))
    assert [c.quotes for c in answer.draft.status_claims] == [[CLAIM_QUOTE]]


async def test_ungrounded_quote_is_reasked_naming_it() -> None:
    """A quote not in the article is sent back in a tool message; the fixed answer is kept."""
    answer, scripted = await _ask([_ungrounded(), GOOD])
    assert answer.attempts == 2
    assert answer.warnings == []
    assert [c.quotes for c in answer.draft.status_claims] == [[CLAIM_QUOTE]]
    first, second = scripted.bodies
    assert _tool_messages(first) == []
    (feedback,) = _tool_messages(second)
    assert f"status_claims[0].quotes[0]: {BAD_QUOTE!r} is not in the article" in feedback
    assert "word for word" in feedback
    assert second["messages"][: len(MESSAGES)] == MESSAGES


async def test_usage_is_summed_over_reasks() -> None:
    """Every attempt's tokens count, not only the last one's."""
    answer, _ = await _ask([_ungrounded(), GOOD])
    assert answer.usage == Usage(prompt_tokens=2000, completion_tokens=400, total_tokens=2400)


async def test_spent_reask_budget_returns_a_warning_not_an_error() -> None:
    """When every answer is ungrounded, ``ask`` stops after ``reasks`` re-asks and warns.

    The warning says the budget ran out; what is unsupported is named by the support
    step's own warnings in the pipeline (next tests).
    """
    answer, scripted = await _ask([_ungrounded(), _ungrounded()], reasks=1)
    assert len(scripted.bodies) == 2
    assert answer.attempts == 2
    assert answer.usage.total_tokens == 2400
    assert answer.warnings == [
        "no answer was fully supported after 2 attempts; "
        "kept what attempt 2 has supported (the best of 2)"
    ]
    # The structurally valid answer is kept whole; the pipeline drops what is not supported.
    assert len(answer.draft.meetings) == 1
    assert [c.quotes for c in answer.draft.status_claims] == [[BAD_QUOTE]]


async def test_spent_budget_on_a_malformed_answer_salvages_it() -> None:
    """A last answer that never validates is parsed leniently, with a warning naming the fault."""
    malformed = copy.deepcopy(GOOD)
    malformed["status_claims"][0]["status"] = "associate"  # not in the vocabulary
    answer, _ = await _ask([malformed, malformed], reasks=1)
    assert answer.attempts == 2
    first, *skipped = answer.warnings
    assert first.startswith("attempt 2 failed validation") and "status" in first
    assert "<failed_attempts>" not in first
    assert len(skipped) == 1 and "attempt 2: dropped malformed status_claims[0]" in skipped[0]
    # The well-formed meeting is kept.
    assert [m.quotes for m in answer.draft.meetings] == [[MEETING_QUOTE]]
    assert answer.draft.status_claims == []


async def test_zero_reasks_means_one_attempt() -> None:
    """``reasks=0`` asks once and salvages at once."""
    answer, scripted = await _ask([_ungrounded()], reasks=0)
    assert len(scripted.bodies) == 1
    assert answer.attempts == 1
    assert answer.warnings


async def test_pipeline_drops_the_record_left_ungrounded(tmp_path: Path) -> None:
    """After a spent budget the final Extraction holds no record with the bad quote, and says so."""
    article = tmp_path / "asean.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    script: list[dict[str, Any] | str | Fault] = [_ungrounded()] * 3
    result, scripted = await run_scripted(article, script, scripted_settings(reasks=2))
    assert len(scripted.bodies) == 3
    assert result.run.attempts == 3
    assert result.run.usage.total_tokens == 3600
    quotes = [e.quote for c in result.status_claims for e in c.evidence]
    quotes += [e.quote for m in result.meetings for e in m.evidence]
    assert BAD_QUOTE not in quotes
    assert result.status_claims == []
    assert [e.quote for m in result.meetings for e in m.evidence] == [MEETING_QUOTE]
    dropped = [w for w in result.warnings if "dropped" in w and BAD_QUOTE in w]
    assert dropped, result.warnings
    assert any(w.startswith("dropped status claim 1 (Indonesia)") for w in result.warnings)
    assert result.grounding.records_dropped == 1 and result.grounding.records_kept == 1


async def test_malformed_json_arguments_are_reasked() -> None:
    """Arguments that are not JSON are sent back as an error, and the next answer is used."""
    answer, scripted = await _ask(["{not json", GOOD])
    assert answer.attempts == 2
    assert answer.warnings == []
    assert len(answer.draft.status_claims) == 1
    (feedback,) = _tool_messages(scripted.bodies[1])
    assert "json" in feedback.lower()


async def test_side_the_article_does_not_mention_is_reasked() -> None:
    """A meeting side the article never mentions is re-asked like a bad quote, at its place."""
    broken = copy.deepcopy(GOOD)
    broken["meetings"][0]["sides"][1] = {**BUI, "name": "Pham Minh", "mentions": ["Pham Minh"]}
    answer, scripted = await _ask([broken, GOOD])
    assert answer.attempts == 2
    assert answer.warnings == []
    (feedback,) = _tool_messages(scripted.bodies[1])
    assert "meetings[0].sides[1].mentions[0]: 'Pham Minh' is not in the article" in feedback
    assert "meetings[0]: fewer than two sides" in feedback


# --------------------------------------------------------------------------- transport faults


async def test_429_is_retried_below_the_reask_loop() -> None:
    """A 429 with Retry-After: 0 is retried by the transport, not re-asked: same body, 1 attempt."""
    answer, scripted = await _ask([Fault(429, {"Retry-After": "0"}), GOOD])
    assert answer.attempts == 1
    assert answer.warnings == []
    assert len(answer.draft.status_claims) == 1
    assert len(scripted.bodies) == 2
    first, second = scripted.requests
    assert first.content == second.content
    assert _tool_messages(scripted.bodies[1]) == []


async def test_429_during_a_reask_retries_the_reask() -> None:
    """A 429 in the middle of a re-ask resends that re-ask; the conversation does not restart."""
    answer, scripted = await _ask([_ungrounded(), Fault(429, {"Retry-After": "0"}), GOOD])
    assert answer.attempts == 2
    assert answer.usage.total_tokens == 2400
    _, throttled, retried = scripted.requests
    assert throttled.content == retried.content
    assert BAD_QUOTE in _tool_messages(scripted.bodies[2])[0]


async def test_persistent_500_raises_transport_error() -> None:
    """A server failing every try exhausts the transport budget and raises TransportError."""
    with pytest.raises(TransportError, match="HTTP 500"):
        await _ask([Fault(500)] * 3, transport_retries=2)


async def test_persistent_500_uses_exactly_the_transport_budget() -> None:
    """``transport_retries`` extra tries are made, and no re-ask follows a server error."""
    scripted = ScriptedTransport([Fault(500)] * 3)
    with pytest.raises(TransportError):
        await _ask_through(scripted, transport_retries=2)
    assert len(scripted.bodies) == 3
    assert not scripted.script


async def test_401_raises_configuration_error_without_retrying() -> None:
    """A refused key is a configuration problem, reported at once, not retried."""
    scripted = ScriptedTransport([Fault(401), GOOD])
    with pytest.raises(ConfigurationError, match="401"):
        await _ask_through(scripted)
    assert len(scripted.bodies) == 1


async def test_replay_miss_surfaces_unwrapped(tmp_path: Path) -> None:
    """A request no fixture answers raises ReplayMissError itself, not the SDK's wrapper."""
    settings = Settings(mode="replay", cassette_dir=tmp_path, cache=False, model="gpt-4o-mini")
    async with ModelClient(settings) as client:
        with pytest.raises(ReplayMissError) as caught:
            await client.ask(MESSAGES, check)
    assert type(caught.value) is ReplayMissError
    message = str(caught.value)
    assert "'gpt-4o-mini'" in message
    assert "JAKARTA, March 3" in message


async def test_cut_off_answer_is_asked_again_once_with_halved_lists() -> None:
    """An answer stopped at the token limit is asked again once, afresh, with every list
    bound halved; cut off again, what is complete in it is kept and the warning says so."""
    canned = _Canned(completion_body(GOOD, finish_reason="length"))
    requests: list[dict[str, Any]] = []
    original = canned.handle_async_request

    async def spy(request: httpx2.Request) -> httpx2.Response:
        requests.append(json.loads(await request.aread()))
        return await original(request)

    canned.handle_async_request = spy  # type: ignore[method-assign]
    answer = await _ask_through(canned, reasks=2)
    assert canned.calls == 2 and answer.attempts == 2
    first, second = (r["tools"][0]["function"]["parameters"] for r in requests)
    assert "maxItems" not in first["properties"]["meetings"]  # a hosted model's first ask
    assert second["properties"]["meetings"]["maxItems"] == 30
    assert "cut off" in requests[1]["messages"][-1]["content"]
    assert len(requests[1]["messages"]) == len(MESSAGES) + 1  # afresh, not the cut-off turn
    assert any("attempt 2 was cut off at its token limit" in w for w in answer.warnings)
    assert [m.quotes for m in answer.draft.meetings] == [[MEETING_QUOTE]]


async def test_answer_without_a_tool_call_names_the_mode_to_try() -> None:
    """A reply in text instead of the forced tool call fails at once, naming json_schema mode:
    a server that ignores tool_choice does so on every re-ask too."""
    body = completion_body(GOOD)
    body["choices"][0]["message"] = {"role": "assistant", "content": "```json\n{}\n```"}
    body["choices"][0]["finish_reason"] = "stop"
    canned = _Canned(body)
    with pytest.raises(ResponseError, match="try --mode json_schema"):
        await _ask_through(canned, reasks=1)
    assert canned.calls == 1


async def test_the_best_attempt_is_kept_not_the_last() -> None:
    """When no answer is fully supported, the one whose records the article supports most is
    kept: a re-ask that loses the first answer's supported meeting does not replace it."""
    worse = _ungrounded()
    worse["meetings"] = []
    answer, scripted = await _ask([_ungrounded(), worse], reasks=1)
    assert len(scripted.bodies) == 2
    assert [m.quotes for m in answer.draft.meetings] == [[MEETING_QUOTE]]
    assert answer.warnings == [
        "no answer was fully supported after 2 attempts; "
        "kept what attempt 1 has supported (the best of 2)"
    ]


async def test_an_empty_salvage_is_no_answer() -> None:
    """A last answer whose lenient reading keeps no record, with no earlier attempt to fall
    back on, is a ResponseError rather than an empty extraction that looks like 'nothing'."""
    body = completion_body('{"meetings": [{"quotes": ["x"')
    canned = _Canned(body)
    with pytest.raises(ResponseError, match="no usable answer after 1 attempts"):
        await _ask_through(canned, reasks=0)


async def test_sdk_retries_are_off() -> None:
    """The SDK's own retries are off, so tenacity's budget is the only one."""
    async with ModelClient(scripted_settings(), ScriptedTransport([])) as client:
        provider = client.provider  # built on first use
        assert isinstance(provider, OpenAIChat) and provider.sdk.max_retries == 0


async def test_completion_without_choices_is_a_response_error() -> None:
    """A completion with no choices at all is a ResponseError naming the answer, not a crash."""
    body = completion_body(GOOD)
    body["choices"] = []
    with pytest.raises(ResponseError):
        await _ask_through(_Canned(body), reasks=1)


async def test_tool_call_without_a_function_is_a_response_error() -> None:
    """A tool call the parser cannot even open is a ResponseError, asked once, not a crash."""
    body = completion_body(GOOD)
    body["choices"][0]["message"]["tool_calls"][0]["function"] = None
    canned = _Canned(body)
    with pytest.raises(ResponseError, match="cannot read the model's answer"):
        await _ask_through(canned, reasks=2)
    assert canned.calls == 1


def test_the_tool_schema_is_sent_compact_and_keeps_every_field() -> None:
    """No titles, defaults or enum docstrings travel; every property and minimum stays."""
    import json

    from extractor.model.providers.openai_chat import TOOL_PARAMS as _TOOL_PARAMS
    from extractor.schemas.draft import DraftParticipant

    sent = _TOOL_PARAMS["tools"][0]["function"]["parameters"]
    text = json.dumps(sent)
    assert '"title": "' not in text and '"default"' not in text
    participant = sent["$defs"]["DraftParticipant"]["properties"]
    assert set(participant) == set(DraftParticipant.model_fields)  # "title" the field stays
    assert participant["name"]["type"] == ["string", "null"]
    assert "description" not in sent["$defs"]["Status"] and sent["$defs"]["Status"]["enum"]
    assert sent["properties"]["meetings"]["items"]["properties"]["sides"]["minItems"] == 2


class _CannedProvider:
    """A provider without HTTP: each answer is a draft dict, or a string that does not parse."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.requests: list[dict[str, Any]] = []

    def request(
        self, messages: list[dict[str, Any]], *, max_tokens: int, shorter: bool = False
    ) -> dict[str, Any]:
        return {"messages": list(messages), "max_tokens": max_tokens, "shorter": shorter}

    async def send(self, request: dict[str, Any]) -> Any:
        self.requests.append(request)
        return self.answers[len(self.requests) - 1]

    def parse(self, answer: Any) -> DraftExtraction:
        if not isinstance(answer, dict):
            raise Unreadable("not JSON")
        return DraftExtraction.model_validate(answer)

    def reask(self, request: dict[str, Any], answer: Any, failure: Exception) -> dict[str, Any]:
        return {"messages": [*request["messages"], {"role": "user", "content": str(failure)}]}

    def usage(self, answer: Any) -> Usage:
        return Usage(prompt_tokens=10, completion_tokens=1, total_tokens=11)

    def output(self, answer: Any) -> object | None:
        return answer if isinstance(answer, dict) else None

    async def aclose(self) -> None:
        pass


async def test_the_re_ask_loop_needs_only_the_provider_seam() -> None:
    """A provider with no HTTP at all is asked, re-asked with what failed, and counted."""
    empty: dict[str, Any] = {"meetings": [], "status_claims": []}
    canned = _CannedProvider(["not json", empty])
    async with ModelClient(scripted_settings(), provider=canned) as client:
        answer = await client.ask([{"role": "user", "content": "article"}], lambda d: Verdict([]))
    assert answer.attempts == 2 and answer.usage.total_tokens == 22
    assert canned.requests[1]["messages"][-1]["content"] == "not JSON"


class _Sequence(httpx2.AsyncBaseTransport):
    """A server answering each request with the next body, keeping what it was sent."""

    def __init__(self, bodies: list[dict[str, Any]]) -> None:
        self.bodies = bodies
        self.sent: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.sent.append(json.loads(await request.aread()))
        return httpx2.Response(200, json=self.bodies[len(self.sent) - 1])


async def test_a_call_of_another_function_is_re_asked() -> None:
    """A tool call named anything but DraftExtraction is an invalid answer: re-asked, and the
    re-ask names the function to call."""
    server = _Sequence([completion_body(GOOD, tool_name="get_weather"), completion_body(GOOD)])
    answer = await _ask_through(server, reasks=1)
    assert answer.attempts == 2
    assert answer.warnings == [] and len(answer.draft.meetings) == 1
    reask = json.dumps(server.sent[1]["messages"][-1])
    assert "get_weather" in reask and "DraftExtraction" in reask


async def test_a_call_of_another_function_is_never_kept() -> None:
    """With the budget spent, another function's arguments are not salvaged as the answer."""
    server = _Sequence([completion_body(GOOD, tool_name="get_weather")])
    with pytest.raises(ResponseError, match="called a function named 'get_weather'"):
        await _ask_through(server, reasks=0)
    assert not OpenAIChat.worth_keeping(completion_body(GOOD, tool_name="get_weather"))
    assert OpenAIChat.worth_keeping(completion_body(GOOD))


async def test_each_request_is_logged_at_info_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What ``-v`` shows: a line per request (a retried 503 and its retry are two) with the
    provider, the path, the status, the tokens and the seconds; never the key."""
    caplog.set_level(logging.INFO)
    await _ask([Fault(503, body={"error": {"message": f"bad {FAKE_KEY}"}}), GOOD])
    lines = [r.getMessage() for r in caplog.records if r.name == "extractor.model.requestlog"]
    assert len(lines) == 2
    first, second = lines
    assert re.fullmatch(r"openai POST api\.openai\.com/v1/chat/completions: 503, \d\.\d\d s", first)
    assert re.fullmatch(
        r"openai POST api\.openai\.com/v1/chat/completions: 200, "
        r"1000 prompt \+ 200 completion tokens, \d\.\d\d s",
        second,
    )
    assert FAKE_KEY not in caplog.text and "authorization" not in caplog.text.lower()


async def test_a_quiet_run_logs_no_request(caplog: pytest.LogCaptureFixture) -> None:
    """Without INFO enabled, the request log does nothing (and parses nothing)."""
    caplog.set_level(logging.WARNING)
    await _ask([GOOD])
    assert not [r for r in caplog.records if r.name == "extractor.model.requestlog"]


async def test_warnings_quoting_a_failed_answer_hold_no_secret() -> None:
    """A warning quotes what failed in the answer (it reaches the output): never a key in it."""
    leaky = {"meetings": [*GOOD["meetings"], {"sides": f"Bearer {FAKE_KEY}"}], "status_claims": []}
    answer, _ = await _ask([leaky], reasks=0)
    assert len(answer.draft.meetings) == 1 and answer.warnings
    assert "failed validation" in answer.warnings[0]
    assert not [w for w in answer.warnings if FAKE_KEY[:12] in w or "Bearer sk" in w]
