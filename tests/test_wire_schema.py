"""Tests for extractor.model.providers.schema: the draft schema as it travels."""

from __future__ import annotations

from typing import Any

from extractor.model.providers.openai_chat import _SHORTER, JSON_SCHEMA_PARAMS, TOOL_PARAMS
from extractor.model.providers.schema import compact, shortened, strict, unbounded
from extractor.schemas import DraftExtraction


def _walk(node: Any) -> list[dict[str, Any]]:
    """Every object node of a schema."""
    if isinstance(node, list):
        return [n for v in node for n in _walk(v)]
    if not isinstance(node, dict):
        return []
    return [node, *(n for v in node.values() for n in _walk(v))]


def test_strict_closes_every_object_and_requires_every_key() -> None:
    """Every object is closed and lists all its properties as required, as strict mode demands."""
    schema = strict(compact(DraftExtraction.model_json_schema()))
    objects = [n for n in _walk(schema) if n.get("type") == "object" or "properties" in n]
    assert objects
    for node in objects:
        assert node["additionalProperties"] is False
        assert node["required"] == list(node["properties"])


def test_strict_drops_defaults_and_refs_with_siblings() -> None:
    """No default survives, and no $ref keeps a sibling key (strict validators refuse both)."""
    schema = strict(compact(DraftExtraction.model_json_schema()))
    for node in _walk(schema):
        assert "default" not in node
        if "$ref" in node:
            assert set(node) == {"$ref"}, node
    status = schema["properties"]["meetings"]["items"]["properties"]["status"]
    assert status["enum"] == ["held", "planned"] and "description" in status


def test_strict_leaves_its_input_unchanged() -> None:
    """The tools-mode schema is not altered by building the strict one from it."""
    before = compact(DraftExtraction.model_json_schema())
    snapshot = repr(before)
    strict(before)
    assert repr(before) == snapshot


def test_shortened_halves_every_list_bound_but_not_below_its_minimum() -> None:
    """maxItems 60 becomes 30, 4 becomes 2, and sides keep their minimum of two."""
    schema = compact(DraftExtraction.model_json_schema())
    short = shortened(schema)
    assert short["properties"]["meetings"]["maxItems"] == 30
    meeting = short["properties"]["meetings"]["items"]["properties"]
    assert meeting["quotes"]["maxItems"] == 2
    assert meeting["sides"]["maxItems"] == 10 and meeting["sides"]["minItems"] == 2
    assert schema["properties"]["meetings"]["maxItems"] == 60  # a copy: the input stays


def _arrays(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in _walk(schema) if n.get("type") == "array"]


def test_every_list_under_constrained_decoding_is_bounded() -> None:
    """A weak model decoding against the schema cannot write an unbounded list: every array of
    the json_schema mode, and of both modes' shorter re-ask, has maxItems."""
    for schema in (
        JSON_SCHEMA_PARAMS["response_format"]["json_schema"]["schema"],
        _SHORTER["json_schema"]["response_format"]["json_schema"]["schema"],
        _SHORTER["tools"]["tools"][0]["function"]["parameters"],
    ):
        arrays = _arrays(schema)
        assert len(arrays) == 9 and all(isinstance(n.get("maxItems"), int) for n in arrays)


def test_the_hosted_tool_schema_leaves_the_bounds_out() -> None:
    """Tools mode, which hosted models decode freely, carries no maxItems (tokens only), and
    keeps every minimum (two sides at least)."""
    arrays = _arrays(TOOL_PARAMS["tools"][0]["function"]["parameters"])
    assert len(arrays) == 9 and not any("maxItems" in n for n in arrays)
    assert sum(n.get("minItems") == 2 for n in arrays) == 1


def test_unbounded_keeps_a_property_named_maxitems() -> None:
    """Only the keyword goes: a property that happens to be called maxItems stays."""
    schema = {"type": "object", "properties": {"maxItems": {"type": "integer"}}, "maxItems": 3}
    assert unbounded(schema) == {"type": "object", "properties": {"maxItems": {"type": "integer"}}}


def test_compact_writes_a_definition_used_once_where_it_is_used() -> None:
    """The meeting and claim (one use each) are inline; the participant (three uses) and the
    status (two) stay definitions, and an inlined enum keeps its field's description."""
    schema = compact(DraftExtraction.model_json_schema())
    assert set(schema["$defs"]) == {"DraftParticipant", "Status"}
    meeting = schema["properties"]["meetings"]["items"]
    assert meeting["properties"]["sides"]["items"] == {"$ref": "#/$defs/DraftParticipant"}
    stance = schema["properties"]["status_claims"]["items"]["properties"]["stance"]
    assert "enum" in stance and stance["description"] == "supported: backs another's bid."
    assert "#/$defs/DraftMeeting" not in repr(schema)


def test_json_schema_mode_asks_for_strict_output() -> None:
    """The response format is json_schema, named for the draft, with strict on."""
    response_format = JSON_SCHEMA_PARAMS["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "DraftExtraction"
    assert response_format["json_schema"]["strict"] is True
