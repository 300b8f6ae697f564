"""The draft schema as it travels: compact always, strict where an API asks for it.

Every request carries the schema, so it is sent in as few tokens as carry
what a model learns from (``compact``). Constrained decoding and strict
structured output want more of it: every object closed, every key required,
no defaults, and no ``$ref`` with sibling keys (``strict``); and the list
bounds (``maxItems``), which a server decoding against the schema enforces:
they stop a weak model repeating a record until the token limit. A hosted
model in tools mode decodes freely, so there the bounds are only tokens and
are left out (``unbounded``); the answer's token budget and the draft models'
own bounds still hold. A cut-off answer is asked again with every list bound
halved (``shortened``), in both modes, since any model reads them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any


def compact(node: Any) -> Any:
    """The same JSON Schema in fewer tokens: nothing a model learns from is lost.

    Per-field titles ("Date Text" for ``date_text``) repeat the key; a default
    tells a model nothing it must write (the draft models keep theirs); an
    enum's docstring repeats its field's description; ``anyOf`` a type or
    null is one ``type`` list; a definition used once is written where it is
    used, which spares its name and the reference (the participant, used
    three times, stays a definition).
    A property that is named "title" or "default" stays.

    The keys listed as required are the draft's own (the evidence, the
    sides, a claim's subject, status and stance), and an empty list goes: a
    hosted model in tools mode writes what it has. ``strict``, for constrained
    decoding, requires every key.
    """
    return _compact(node, {}, set())


def _ref_name(ref: str) -> str:
    """The definition a ``$ref`` names: "DraftParticipant" for "#/$defs/DraftParticipant"."""
    return ref.rsplit("/", 1)[-1]


def _single_use(schema: dict[str, Any]) -> set[str]:
    """The definitions of ``schema`` that one reference alone uses."""
    uses: dict[str, int] = {}

    def count(sub: Any) -> None:
        if isinstance(sub, list):
            for v in sub:
                count(v)
        elif isinstance(sub, dict):
            ref = sub.get("$ref")
            if isinstance(ref, str):
                uses[_ref_name(ref)] = uses.get(_ref_name(ref), 0) + 1
            for v in sub.values():
                count(v)

    count(schema)
    return {name for name in schema["$defs"] if uses.get(name, 0) == 1}


def _compact(node: Any, defs: dict[str, Any], inline: set[str], *, names: bool = False) -> Any:
    if isinstance(node, list):
        return [_compact(v, defs, inline) for v in node]
    if not isinstance(node, dict):
        return node
    if names:
        return {k: _compact(v, defs, inline) for k, v in node.items()}
    if isinstance(node.get("$defs"), dict):
        defs, inline = node["$defs"], _single_use(node)
        node = {k: v for k, v in node.items() if k != "$defs"}
        kept = {k: v for k, v in defs.items() if k not in inline}
        if kept:
            node["$defs"] = kept
    own_description = False
    ref = node.get("$ref")
    if isinstance(ref, str) and _ref_name(ref) in inline:
        # The field's own description, not the definition's docstring, goes with it.
        target = {k: v for k, v in defs[_ref_name(ref)].items() if k != "description"}
        own_description = "description" in node
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("title", "default") and not isinstance(value, dict):
            continue
        if key == "description" and "enum" in node and not own_description:
            continue
        if key == "required" and value == []:
            continue
        out[key] = _compact(value, defs, inline, names=key in ("properties", "$defs"))
    options = out.get("anyOf")
    if (
        isinstance(options, list)
        and len(options) == 2
        and {"type": "null"} in options
        and all(set(o) == {"type"} and isinstance(o["type"], str) for o in options)
    ):
        del out["anyOf"]
        kinds = [o["type"] for o in options if o["type"] != "null"]
        out = {"type": [*kinds, "null"], **out}
    return out


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` as strict structured output accepts it (OpenAI's rules, which servers share).

    Objects are closed (``additionalProperties: false``) with every key
    required; defaults go (every key is written anyway); a ``$ref`` with a
    description beside it is replaced by what it refers to, since strict
    validators refuse the pair. The input is not changed.
    """
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node and len(node) > 1:
            target = defs[_ref_name(node["$ref"])]
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "default":
                continue
            if key in ("properties", "$defs"):
                out[key] = {name: walk(sub) for name, sub in value.items()}
            else:
                out[key] = walk(value)
        if out.get("type") == "object" or "properties" in out:
            out["additionalProperties"] = False
            out["required"] = list(out.get("properties", {}))
        return out

    result: dict[str, Any] = walk(schema)
    return result


def unbounded(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` without ``maxItems`` (see the module docstring for when)."""
    return _rebound(schema, lambda node: None)


def shortened(schema: dict[str, Any], factor: float = 0.5) -> dict[str, Any]:
    """A copy of ``schema`` with every ``maxItems`` scaled by ``factor`` (not below its minimum)."""

    def half(node: dict[str, Any]) -> int:
        floor = max(1, int(node.get("minItems", 1)))
        return max(floor, int(node["maxItems"] * factor))

    return _rebound(schema, half)


def _rebound(
    schema: dict[str, Any], bound: Callable[[dict[str, Any]], int | None]
) -> dict[str, Any]:
    """A copy of ``schema``, each list's ``maxItems`` set to ``bound(node)`` (dropped for None).

    Only the keyword is touched: a property that happens to be named "maxItems"
    has a schema (a dict) for its value, not a number.
    """
    result = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for v in node:
                walk(v)
        elif isinstance(node, dict):
            if isinstance(node.get("maxItems"), int):
                if (new := bound(node)) is None:
                    del node["maxItems"]
                else:
                    node["maxItems"] = new
            for v in node.values():
                walk(v)

    walk(result)
    return result
