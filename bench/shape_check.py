"""Does a small real model fill the draft schema well? Gold articles through a local server.

Sends each gold article with the project's own prompt to an OpenAI-compatible
server in JSON-schema mode (constrained decoding: llama.cpp, vLLM, Ollama), the
draft schema as the response format, then grounds, checks support and scores
the answer exactly as the pipeline does (``assemble`` and ``extractor.scoring``),
one attempt, no re-ask. It runs with whichever ``extractor`` is installed, so
the same file compares two versions of the schema and prompt side by side:
install the older commit in another venv and run this file with its python.

    python bench/shape_check.py --base-url http://127.0.0.1:8089/v1 --only 000,002,003
    /path/to/old/venv/bin/python bench/shape_check.py --base-url ... --only 000,002,003

Never part of the tests: a real model takes minutes an article on two cores.
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

from extractor.evaluation import load_gold
from extractor.schemas import DraftExtraction, RunInfo, Usage
from extractor.scoring import RECORD_TYPES, score, total

try:
    from extractor.ground.assemble import assemble
    from extractor.model.prompting import load_prompt
    from extractor.read.document import read_document
except ImportError:  # an install from before the layout of stages (e5568af, for the side by side)
    from extractor.assemble import assemble  # type: ignore[import-not-found,no-redef]
    from extractor.document import read_document  # type: ignore[import-not-found,no-redef]
    from extractor.prompting import load_prompt  # type: ignore[import-not-found,no-redef]


def _schema() -> dict[str, Any]:
    """The draft schema as the model sees it in tools mode, as a response format."""
    try:
        from extractor.model.providers.openai_chat import TOOL_PARAMS
    except ImportError:  # an install from before the provider seam
        from extractor.llm import _TOOL_PARAMS as TOOL_PARAMS  # type: ignore[import-not-found,no-redef]

    tool = TOOL_PARAMS["tools"][0]["function"]
    schema = {"name": tool["name"], "schema": tool["parameters"]}
    return {"type": "json_schema", "json_schema": schema}


def _ask(base_url: str, messages: list[dict[str, Any]], max_tokens: int) -> dict[str, Any]:
    body = {
        "messages": messages,
        "temperature": 0,
        "max_tokens": max_tokens,
        "response_format": _schema(),
    }
    request = urllib.request.Request(
        base_url.rstrip("/") + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=3600) as response:
        return json.loads(response.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8089/v1")
    parser.add_argument("--gold", type=Path, default=Path("fixtures/gold"))
    parser.add_argument("--only", default="", help="comma list of article number prefixes")
    parser.add_argument("--max-tokens", type=int, default=3072)
    parser.add_argument("--json", type=Path, default=None, help="write answers and scores here")
    args = parser.parse_args()
    wanted = [w for w in args.only.split(",") if w]
    cases = [c for c in load_gold(args.gold) if not wanted or c.name.split("_")[0] in wanted]
    prompt = load_prompt()
    scores, rows, dump = [], [], []
    for case in cases:
        document = read_document(case.document, max_bytes=10_000_000)
        started = time.perf_counter()
        answer = _ask(args.base_url, prompt.messages(document, mode="json_schema"), args.max_tokens)
        seconds = time.perf_counter() - started
        content = answer["choices"][0]["message"].get("content") or ""
        usage = answer.get("usage", {})
        try:
            draft = DraftExtraction.model_validate_json(content)
            error = ""
        except ValueError as exc:
            draft, error = DraftExtraction(), str(exc).splitlines()[0]
        run = RunInfo(model="local", prompt_version=prompt.version, mode="live", attempts=1,
                      usage=Usage())  # fmt: skip
        result = assemble(document, draft, run)
        s = score(result, case.gold, case.name)
        scores.append(s)
        grounding = result.grounding.model_dump()
        rows.append((case.name, s, seconds, usage, grounding, error))
        dump.append({"name": case.name, "answer": content, "warnings": result.warnings,
                     "grounding": grounding, "scores": s.as_dict()})  # fmt: skip
        if args.json:  # written as it goes: a real model takes minutes an article
            args.json.write_text(json.dumps(dump, indent=2, ensure_ascii=False))
        f1 = "  ".join(f"{s.records[k].f1:.2f}" for k in RECORD_TYPES)
        tokens = f"prompt {usage.get('prompt_tokens')}  completion {usage.get('completion_tokens')}"
        line = f"{case.name:34} F1 {f1}  {seconds:6.1f} s  {tokens}  {grounding}  {error}"
        print(line, flush=True)
    overall = total(scores)
    print("overall F1 " + "  ".join(f"{k} {overall.records[k].f1:.2f}" for k in RECORD_TYPES))
    print(f"prompt version {prompt.version}; {len(cases)} articles; "
          f"{sum(r[2] for r in rows) / max(len(rows), 1):.0f} s an article")  # fmt: skip
    if args.json:
        dump.append({"overall": overall.as_dict()})
        args.json.write_text(json.dumps(dump, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
