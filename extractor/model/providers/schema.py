"""The draft schema as it travels: compact always, strict where an API asks for it.

Every request carries the schema, so it is sent in as few tokens as carry
what a model learns from (``compact``). Constrained decoding and strict
structured output want more of it: every object closed, every key required,
no defaults, and no ``$ref`` with sibling keys (``strict``). A cut-off answer
is asked again with every list bound halved (``shortened``), which a server
decoding against the schema enforces and any model reads.
"""

from __future__ import annotations

import copy
from typing import Any


def compact(node: Any, *, in_properties: bool = False) -> Any:
    """The same JSON Schema in fewer tokens: nothing a model learns from is lost.

    Per-field titles ("Date Text" for ``date_text``) repeat the key; a null or
    empty default says nothing once every key is required; an enum's docstring
    repeats its field's description; ``anyOf`` a type or null is one ``type``
    list. A property that is named "title" or "default" stays.

    Every property is listed as required (the answer still parses without
    one: the draft models keep their defaults), so a model writes each key,
    in order, null where the article says nothing, which strict structured
    output also demands.
    """
    if isinstance(node, list):
        return [compact(v) for v in node]
    if not isinstance(node, dict):
        return node
    if in_properties:
        return {k: compact(v) for k, v in node.items()}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default" and value in (None, []):
            continue
        if key == "description" and "enum" in node:
            continue
        out[key] = compact(value, in_properties=key in ("properties", "$defs"))
    if isinstance(out.get("properties"), dict):
        out["required"] = list(out["properties"])
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
            target = defs[node["$ref"].rsplit("/", 1)[-1]]
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


def shortened(schema: dict[str, Any], factor: float = 0.5) -> dict[str, Any]:
    """A copy of ``schema`` with every ``maxItems`` scaled by ``factor`` (not below its minimum)."""
    result = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for v in node:
                walk(v)
        elif isinstance(node, dict):
            if isinstance(node.get("maxItems"), int):
                floor = max(1, int(node.get("minItems", 1)))
                node["maxItems"] = max(floor, int(node["maxItems"] * factor))
            for v in node.values():
                walk(v)

    walk(result)
    return result
