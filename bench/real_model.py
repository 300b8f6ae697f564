"""The gold set through a real local model: ours, and optionally LangExtract, on one server.

Why: the tests and ``extractor eval`` run on recorded or scripted answers, so they
say nothing about what a real small model makes of the pipeline, nor how the
pipeline compares with an off-the-shelf extractor given the same model. This
bench runs the dev corpus (``fixtures/gold``, 16 articles) through one llama.cpp
server and prints, per system, precision/recall/F1 per record type (and per
field), grounding and drop rates, seconds and tokens per article, and the
server's own prompt and generation speed, so the share of the wall time that is
not the model is visible.

    python bench/real_model.py --gguf /work/models/SmolLM2-135M-Instruct.Q4_1.gguf --only 000,002
    python bench/real_model.py --gguf MODEL.gguf --peer langextract --out results.json
    python bench/real_model.py --base-url http://127.0.0.1:8089/v1 --peer langextract --skip-ours

Never part of the tests or CI: a 1.5B model takes one to four minutes an article
on two cores, and the figures depend on the machine.

**The server.** ``--gguf FILE`` starts one llama.cpp server (``xllamacpp``, with
``--server-python``, in a subprocess; the settings of ``/work/models/serve.py``:
context 8,192, 2 threads, one slot, ``/metrics`` on), with llama.cpp's
``n_predict`` at 8,192 for a request that names no limit (a request's own
``max_tokens`` overrides it, so it bounds nothing else). It refuses to start
while another model server runs on the machine (``--allow-concurrent``
overrides). ``--base-url`` uses a running server instead. Both systems use the
same server, one after the other, never at once.

**Ours** is the CLI, one process per article (so each article's server figures
are its own): ``python -m extractor extract FILE --base-url URL/v1 -f jsonl -o
OUT --no-cache --concurrency 1 --timeout T --model ID`` plus any ``--ours-arg``,
with no ``EXTRACTOR_*``/``OPENAI_*`` variable from the environment. Its output
mode is ``--mode json_schema`` when the CLI has the option (``--ours-mode``),
else whatever it picks; each answer's token limit is the CLI's own (1,024 plus
one per two characters of article, at most 8,192). The CLI's start-up (the
best of three ``python -c "import extractor.cli"``: interpreter and imports) is
inside its seconds per article and is shown separately; "pipeline s / article,
start aside" subtracts it, a difference of two noisy figures that can come out
below zero when the pipeline's own work is smaller than the start's spread.
Tokens come from each ``Extraction.run.usage`` (the server's counters when the
article failed).

**The peer** (``--peer langextract``) is ``bench/peer_langextract.py``, run with
``--peer-python`` (default ``/work/models/lxvenv/bin/python``: LangExtract 1.7.1
cannot share the project's pinned venv, ``google-genai`` wants
``tenacity<9.2``). Its docstring says how LangExtract is set up: its OpenAI
provider on the same server, schema constraints from the one few-shot example
(a strict ``json_schema`` response format, as ours uses), the project's own
example article, temperature 0, its default 1,000-character chunks, and each
request's ``max_tokens`` sized by ours' rule for the chunk it reads (1,024 plus
one per two characters: 1,524; ``--max-tokens`` sets it). Tokens and speeds
come from each response's ``usage`` and llama.cpp ``timings``.

**Converting LangExtract's extractions** into ``extractor.schemas.Extraction``
(``convert_peer``): the example teaches three classes.

- ``participant`` (text: the words naming or describing it; attributes ``name``,
  ``title``, ``organisation``, ``state``, ``kind``) becomes a ``Participant``:
  organisation and state normalised by the project's own tables (canonical
  names, ISO codes, the article's own acronyms; a ``state`` kind without a state
  gets its name's code, as in our assembly), people merged by the project's
  identity rules. Only participants a meeting or claim refers to are kept, as
  in our records.
- ``meeting`` (text: the words naming it; ``sides``: names as written,
  ``status``, ``format``, ``date``, ``place``) becomes a ``Meeting``; each side is
  resolved to a participant extraction by its text or name (same words, or the
  words of one name inside the other's), else becomes a bare participant of that
  name (a state when the name is one). The date is resolved against the dateline,
  which dates a held meeting the text leaves undated, as in our assembly.
- ``status_claim`` (``subject``, ``organisation``, ``status``, ``stance``,
  ``claimant``, ``supporters``) becomes a ``StatusClaim``; subject code and
  organisation normalised as ours are.

A meeting or claim whose text LangExtract could not align to the article (no
character interval) is dropped, since our records carry only evidence found in
the text, and so is one that cannot be a record (fewer than two distinct sides,
no organisation, a status outside the vocabulary); a stance outside the
vocabulary becomes null. Claims and meetings reported twice become one record,
as ours do. ``peer (all)`` scores the same conversion with the unaligned records
kept, to show what that rule costs. Grounding counts for the peer: quotes
returned = extractions, grounded = extractions with an interval (a fuzzy or
partial match counts, as LangExtract returns it), records dropped as above,
fields nulled = stances nulled, quotes dropped = unaligned participants kept
without a mention.

**The figures.** P/R/F1 are ``extractor.scoring`` micro-averages over the
articles (a failed article scores as nothing found), as ``extractor eval``
prints them. Grounding rate = quotes grounded / returned; record drop rate =
records dropped / (kept + dropped); quote drop rate = quotes dropped / returned.
Seconds per article are wall time; model seconds are the server's prompt plus
generation time; pipeline share = 1 - model / wall. Prompt tokens count the
whole prompt (cached prefix included); "processed" leaves out what llama.cpp
reused from its prompt cache. Speeds are the server's, over the system's whole
run. ``--out`` writes everything, per article too, as JSON; ``--workdir``
keeps every output, stderr and the server log.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from extractor.evaluation import GoldCase, load_gold
from extractor.ground.assemble import document_info, organisation, stable_id
from extractor.normalise.countries import country_code
from extractor.normalise.identity import Profile, group_same
from extractor.normalise.organisations import defined_acronyms
from extractor.read.document import Document, read_document
from extractor.schemas import (
    ErrorRecord,
    Evidence,
    Extraction,
    Grounding,
    Meeting,
    MeetingFormat,
    MeetingStatus,
    Participant,
    ParticipantKind,
    RunInfo,
    Stance,
    Status,
    StatusClaim,
    Usage,
)
from extractor.scoring import FIELDS, RECORD_TYPES, Score, normalise_name, score, total
from extractor.settings import Settings
from extractor.text.dates import resolve_date

REPO = Path(__file__).resolve().parents[1]
PEER_SCRIPT = Path(__file__).resolve().parent / "peer_langextract.py"
MAX_INPUT_BYTES = Settings.model_fields["max_input_bytes"].default

# The settings of /work/models/serve.py, plus the cap on one answer's tokens.
_LAUNCHER = """
import signal, sys, threading
import xllamacpp as xlc
model, port, ctx, threads, n_predict = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:6])
p = xlc.CommonParams()
p.model.path = model
p.hostnames = ["127.0.0.1"]
p.port = port
p.n_ctx = ctx
p.n_parallel = 1
p.cpuparams.n_threads = threads
p.cpuparams_batch.n_threads = threads
p.n_gpu_layers = 0
p.n_predict = n_predict
p.warmup = True
p.endpoint_metrics = True
server = xlc.Server(p)
print("serving", model, "at", server.listening_address, flush=True)
stop = threading.Event()
for sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, lambda *_: stop.set())
while not stop.is_set():
    stop.wait(1.0)
del server
"""

_SERVER_PATTERN = re.compile(r"serve\.py|xllamacpp|--gguf|llama-server")


# --------------------------------------------------------------------------- the server


def _get(url: str, timeout: float = 10.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return bytes(response.read())


def _root(base_url: str) -> str:
    url = base_url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


@dataclass
class ServerCounters:
    """llama.cpp's ``/metrics`` counters (or the sum of responses' ``timings``)."""

    prompt_tokens: float = 0.0  # processed, the prompt cache left out
    prompt_cached: float = 0.0
    prompt_seconds: float = 0.0
    predicted_tokens: float = 0.0
    predicted_seconds: float = 0.0

    def __sub__(self, other: ServerCounters) -> ServerCounters:
        return ServerCounters(*(a - b for a, b in zip(self._t(), other._t(), strict=True)))

    def __add__(self, other: ServerCounters) -> ServerCounters:
        return ServerCounters(*(a + b for a, b in zip(self._t(), other._t(), strict=True)))

    def _t(self) -> tuple[float, ...]:
        return (
            self.prompt_tokens,
            self.prompt_cached,
            self.prompt_seconds,
            self.predicted_tokens,
            self.predicted_seconds,
        )

    @property
    def model_seconds(self) -> float:
        return self.prompt_seconds + self.predicted_seconds

    @classmethod
    def from_timings(cls, timings: dict[str, Any] | None) -> ServerCounters:
        t = timings or {}
        return cls(
            prompt_tokens=float(t.get("prompt_n", 0)),
            prompt_cached=float(t.get("cache_n", 0)),
            prompt_seconds=float(t.get("prompt_ms", 0.0)) / 1000,
            predicted_tokens=float(t.get("predicted_n", 0)),
            predicted_seconds=float(t.get("predicted_ms", 0.0)) / 1000,
        )


_METRICS = {
    "llamacpp:prompt_tokens_total": "prompt_tokens",
    "llamacpp:prompt_tokens_cached_total": "prompt_cached",
    "llamacpp:prompt_seconds_total": "prompt_seconds",
    "llamacpp:tokens_predicted_total": "predicted_tokens",
    "llamacpp:tokens_predicted_seconds_total": "predicted_seconds",
}


def read_metrics(base_url: str) -> ServerCounters | None:
    """The server's counters now, or None when it has no ``/metrics`` endpoint."""
    try:
        text = _get(_root(base_url) + "/metrics").decode()
    except OSError:
        return None
    values: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in _METRICS:
            values[_METRICS[parts[0]]] = float(parts[1])
    return ServerCounters(**values) if values else None


def _other_servers() -> list[str]:
    """Command lines of model servers running on this machine, this process's children aside."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if _SERVER_PATTERN.search(cmd) and "real_model.py" not in cmd:
            found.append(f"{entry.name}: {cmd.strip()[:160]}")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def llama_server(args: argparse.Namespace, log: Path) -> Iterator[str]:
    """A base URL: of the server started for ``--gguf`` (stopped on exit), or ``--base-url``."""
    if args.base_url:
        yield args.base_url.rstrip("/")
        return
    if not args.allow_concurrent and (others := _other_servers()):
        sys.exit(
            "another model server is running (2 cores: one at a time):\n  "
            + "\n  ".join(others)
            + "\nstop it, or pass --allow-concurrent"
        )
    port = args.port or _free_port()
    command = [
        args.server_python,
        "-c",
        _LAUNCHER,
        str(args.gguf),
        str(port),
        str(args.ctx),
        str(args.threads),
        "8192",
    ]
    with open(log, "wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            if server.poll() is not None:
                sys.exit(f"the server exited ({server.returncode}); see {log}")
            try:
                if b"ok" in _get(url + "/health", timeout=2):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit(f"the server did not come up in 600 s; see {log}")
            time.sleep(0.5)
        print(
            f"server: {args.gguf} on {url} (pid {server.pid}, log {log})",
            flush=True,
        )
        yield url + "/v1"
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _model_id(base_url: str) -> str:
    try:
        models = json.loads(_get(base_url + "/models"))
        return str(models["data"][0]["id"])
    except (OSError, KeyError, IndexError, ValueError):
        return "local"


# --------------------------------------------------------------------------- runs


@dataclass
class ArticleRun:
    """One article through one system."""

    name: str
    extraction: Extraction
    error: str | None
    seconds: float
    requests: int
    prompt_tokens: int
    completion_tokens: int
    server: ServerCounters | None
    detail: dict[str, Any] = field(default_factory=dict)


def _empty(document: Document, model: str, prompt_version: str) -> Extraction:
    return Extraction(
        document=document_info(document),
        run=RunInfo(
            model=model, prompt_version=prompt_version, mode="live", attempts=0, usage=Usage()
        ),
        participants=[],
        meetings=[],
        status_claims=[],
    )


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("EXTRACTOR_", "OPENAI_"))}


def cli_start_seconds() -> float:
    """Wall time of the CLI's start-up alone (interpreter and imports): best of three."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "import extractor.cli"],
            env=_clean_env(),
            capture_output=True,
            check=False,
        )
        times.append(time.perf_counter() - started)
    return min(times)


def cli_has(option: str) -> bool:
    """Whether ``extractor extract`` takes the option (the CLI is changing under this bench)."""
    done = subprocess.run(
        [sys.executable, "-m", "extractor", "extract", "--help"],
        env={**_clean_env(), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        check=False,
    )
    return option in done.stdout


def run_ours(
    cases: Sequence[GoldCase],
    documents: dict[str, Document],
    base_url: str,
    model: str,
    args: argparse.Namespace,
    workdir: Path,
    mode: list[str],
) -> list[ArticleRun]:
    """Each article through the CLI, one process each, with the server's counters around it."""
    runs = []
    for case in cases:
        out = workdir / f"ours_{case.name}.jsonl"
        command = [
            sys.executable,
            "-m",
            "extractor",
            "extract",
            str(case.document),
            "--base-url",
            base_url,
            "-f",
            "jsonl",
            "-o",
            str(out),
            "--no-cache",
            "--concurrency",
            "1",
            "--timeout",
            str(args.timeout),
            "--model",
            model,
            *mode,
            *args.ours_arg,
        ]
        before = read_metrics(base_url)
        started = time.perf_counter()
        done = subprocess.run(
            command, env=_clean_env(), capture_output=True, text=True, check=False
        )
        seconds = time.perf_counter() - started
        after = read_metrics(base_url)
        (workdir / f"ours_{case.name}.stderr").write_text(done.stderr, encoding="utf-8")
        server = after - before if after and before else None
        document = documents[case.name]
        result: Extraction | ErrorRecord | None = None
        lines = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
        if lines:
            record = json.loads(lines[0])
            result = (
                Extraction if record.get("kind") == "extraction" else ErrorRecord
            ).model_validate(record)
        if isinstance(result, Extraction):
            extraction, error = result, None
            usage = result.run.usage
            prompt, completion, requests = (
                usage.prompt_tokens,
                usage.completion_tokens,
                result.run.attempts,
            )
        else:
            stderr_tail = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            error = f"{result.error_type}: {result.message}" if result else stderr_tail
            extraction = _empty(document, model, "")
            prompt = int(server.prompt_tokens + server.prompt_cached) if server else 0
            completion = int(server.predicted_tokens) if server else 0
            attempts = re.search(r"after (\d+) attempts", error)
            requests = int(attempts.group(1)) if attempts else 0
        run = ArticleRun(
            case.name,
            extraction,
            error,
            seconds,
            requests,
            prompt,
            completion,
            server,
            {"exit": done.returncode},
        )
        runs.append(run)
        _print_article("ours", run, score(extraction, case.gold, case.name))
    return runs


def peer_max_tokens(args: argparse.Namespace) -> int:
    """The peer's limit on one answer: given, or ours' rule applied to the chunk it reads."""
    return int(args.max_tokens or 1024 + args.peer_chunk_chars // 2)


def run_peer(
    cases: Sequence[GoldCase],
    documents: dict[str, Document],
    base_url: str,
    model: str,
    args: argparse.Namespace,
    workdir: Path,
) -> tuple[list[dict[str, Any]], dict[str, Any], ServerCounters | None, float]:
    """LangExtract over the articles in its own interpreter; its raw output, read back."""
    given = workdir / "peer_in.json"
    raw = workdir / "peer_raw.json"
    articles = [{"name": c.name, "text": documents[c.name].text} for c in cases]
    given.write_text(json.dumps({"articles": articles}, ensure_ascii=False), encoding="utf-8")
    command = [
        args.peer_python,
        str(PEER_SCRIPT),
        str(given),
        str(raw),
        "--base-url",
        base_url,
        "--model",
        model,
        "--max-tokens",
        str(peer_max_tokens(args)),
        "--timeout",
        str(args.timeout),
        "--chunk-chars",
        str(args.peer_chunk_chars),
        "--constraint",
        args.peer_constraint,
    ]
    before = read_metrics(base_url)
    started = time.perf_counter()
    with open(workdir / "peer.stderr", "w", encoding="utf-8") as err:
        done = subprocess.run(command, env=_clean_env(), stderr=err, check=False)
    seconds = time.perf_counter() - started
    after = read_metrics(base_url)
    if not raw.exists():
        sys.exit(f"the peer wrote nothing (exit {done.returncode}); see {workdir / 'peer.stderr'}")
    out = json.loads(raw.read_text(encoding="utf-8"))
    return out["articles"], out["config"], (after - before if after and before else None), seconds


# --------------------------------------------------------------------------- conversion


@dataclass
class _Side:
    """A participant as the peer wrote it (or as a bare name a record referred to)."""

    written: str
    name: str | None
    title: str | None
    organisation: str | None
    state: str | None
    kind: ParticipantKind
    mentions: list[Evidence]


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return []


def _evidence(text: str, x: dict[str, Any], field_name: str) -> Evidence | None:
    start, end = x.get("start"), x.get("end")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        return None
    aligned = "exact" if x.get("alignment") == "match_exact" else "normalised"
    return Evidence(
        quote=text[start:end],
        start=start,
        end=end,
        field=field_name,  # type: ignore[arg-type]
        aligned=aligned,
    )  # type: ignore[arg-type]


def _enum(kind: type[Any], value: object) -> Any:
    try:
        return kind(str(value).strip().lower().replace(" ", "_")) if value is not None else None
    except ValueError:
        return None


def _resolve(ref: str, sides: list[_Side], bare: dict[str, _Side]) -> _Side:
    """The participant extraction a side's name refers to, else a bare participant of it."""
    folded = ref.casefold()
    for s in sides:
        if folded in (s.written.casefold(), (s.name or "").casefold()):
            return s
    words = set(normalise_name(ref))
    for s in sides:
        other = set(normalise_name(s.name)) or set(normalise_name(s.written))
        if words and other and (words <= other or other <= words):
            return s
    if folded not in bare:
        state = country_code(ref)
        bare[folded] = _Side(
            ref,
            None if state else ref,
            None,
            None,
            ref if state else None,
            ParticipantKind.state if state else ParticipantKind.person,
            [],
        )
    return bare[folded]


def convert_peer(
    document: Document, raw: dict[str, Any], model: str, *, keep_unaligned: bool = False
) -> tuple[Extraction, dict[str, int]]:
    """LangExtract's extractions of one article as this project's records (see the docstring)."""
    text = document.text
    count: dict[str, int] = dict.fromkeys(
        (
            "unaligned_meetings",
            "unaligned_claims",
            "unaligned_participants",
            "unknown_class",
            "meetings_one_side",
            "claims_no_subject",
            "claims_no_organisation",
            "claims_bad_status",
            "stances_nulled",
            "sides_unresolved",
            "participants_unreferenced",
            "duplicates_merged",
        ),
        0,
    )
    acronyms = defined_acronyms(text)
    extractions: list[dict[str, Any]] = raw.get("extractions") or []
    sides: list[_Side] = []
    meetings_x: list[tuple[dict[str, Any], Evidence | None]] = []
    claims_x: list[tuple[dict[str, Any], Evidence | None]] = []
    for x in extractions:
        cls = x.get("class")
        attrs = x.get("attributes") or {}
        if cls == "participant":
            evidence = _evidence(text, x, "mention")
            count["unaligned_participants"] += evidence is None
            kind = _enum(ParticipantKind, attrs.get("kind")) or ParticipantKind.person
            sides.append(
                _Side(
                    str(x.get("text", "")),
                    _text(attrs.get("name")),
                    _text(attrs.get("title")),
                    _text(attrs.get("organisation")),
                    _text(attrs.get("state")),
                    kind,
                    [evidence] if evidence else [],
                )
            )
        elif cls in ("meeting", "status_claim"):
            evidence = _evidence(text, x, "meeting" if cls == "meeting" else "claim")
            if evidence is None:
                count["unaligned_meetings" if cls == "meeting" else "unaligned_claims"] += 1
                if not keep_unaligned:
                    continue
            (meetings_x if cls == "meeting" else claims_x).append((x, evidence))
        else:
            count["unknown_class"] += 1

    # Which participants the kept records refer to, resolved before any id is made.
    bare: dict[str, _Side] = {}
    meeting_sides = [
        [_resolve(r, sides, bare) for r in _texts((x.get("attributes") or {}).get("sides"))]
        for x, _ in meetings_x
    ]
    claim_people = [
        (
            _resolve(c, sides, bare)
            if (c := _text((x.get("attributes") or {}).get("claimant")))
            else None,
            [
                _resolve(s, sides, bare)
                for s in _texts((x.get("attributes") or {}).get("supporters"))
            ],
        )
        for x, _ in claims_x
    ]
    count["sides_unresolved"] = len(bare)
    referenced: list[_Side] = []
    for s in [
        *(s for group in meeting_sides for s in group),
        *(p for c, sup in claim_people for p in ([c] if c else []) + sup),
    ]:
        if all(s is not r for r in referenced):
            referenced.append(s)
    count["participants_unreferenced"] = sum(all(s is not r for r in referenced) for s in sides)
    participants, ids = _participants(referenced, acronyms, document.sha256)

    anchor = document.dateline.date if document.dateline else None
    meetings: list[Meeting] = []
    for (x, evidence), group in zip(meetings_x, meeting_sides, strict=True):
        attrs = x.get("attributes") or {}
        members = list(dict.fromkeys(ids[id(s)] for s in group))
        if len(members) < 2:
            count["meetings_one_side"] += 1
            continue
        status = _enum(MeetingStatus, attrs.get("status")) or MeetingStatus.held
        fmt = _enum(MeetingFormat, attrs.get("format")) or MeetingFormat.unknown
        date_text = _text(attrs.get("date"))
        planned = status is MeetingStatus.planned
        date = resolve_date(date_text, anchor, planned=planned) if date_text else None
        from_dateline = []
        if date_text is None and not planned and anchor is not None:
            date, from_dateline = anchor, ["date"]
        if any(
            set(m.participants) == set(members)
            and m.status == status
            and (m.date == date or None in (m.date, date))
            for m in meetings
        ):
            count["duplicates_merged"] += 1
            continue
        values = {
            "id": stable_id(
                "m", document.sha256, *members, status, date, evidence.start if evidence else -1
            ),
            "participants": members,
            "status": status,
            "format": fmt,
            "date": date,
            "date_text": date_text,
            "place": _text(attrs.get("place")),
            "from_dateline": from_dateline,
            "topics": [],
            "outcomes": [],
            "evidence": [evidence] if evidence else [],
            "unchecked": [],
        }
        meetings.append(Meeting(**values) if evidence else Meeting.model_construct(**values))

    claims: dict[tuple[object, ...], StatusClaim] = {}
    for (x, evidence), (claimant, supporters) in zip(claims_x, claim_people, strict=True):
        attrs = x.get("attributes") or {}
        subject = _text(attrs.get("subject"))
        org = organisation(_text(attrs.get("organisation")), acronyms)
        status = _enum(Status, attrs.get("status"))
        if subject is None:
            count["claims_no_subject"] += 1
            continue
        if org is None:
            count["claims_no_organisation"] += 1
            continue
        if status is None:
            count["claims_bad_status"] += 1
            continue
        stance = _enum(Stance, attrs.get("stance"))
        count["stances_nulled"] += stance is None and attrs.get("stance") is not None
        subject_code = country_code(subject)
        key = (subject_code or subject.casefold(), org.short or org.full, status, stance)
        if key in claims:
            count["duplicates_merged"] += 1
            continue
        values = {
            "id": stable_id("c", document.sha256, *key, evidence.start if evidence else -1),
            "subject": subject,
            "subject_code": subject_code,
            "subject_participant": None,
            "organisation": org,
            "status": status,
            "status_text": str(x.get("text", "")),
            "stance": stance,
            "from_status": None,
            "claimant": ids[id(claimant)] if claimant else None,
            "supporters": sorted({ids[id(s)] for s in supporters}),
            "time_text": None,
            "evidence": [evidence] if evidence else [],
            "unchecked": [],
        }
        claims[key] = StatusClaim(**values) if evidence else StatusClaim.model_construct(**values)

    requests = raw.get("requests") or []
    usage = Usage(
        prompt_tokens=sum(r["usage"].get("prompt_tokens", 0) for r in requests),
        completion_tokens=sum(r["usage"].get("completion_tokens", 0) for r in requests),
        total_tokens=sum(r["usage"].get("total_tokens", 0) for r in requests),
    )
    dropped = (
        count["meetings_one_side"]
        + count["claims_no_subject"]
        + count["claims_no_organisation"]
        + count["claims_bad_status"]
    )
    if not keep_unaligned:
        dropped += count["unaligned_meetings"] + count["unaligned_claims"]
    extraction = Extraction(
        document=document_info(document),
        run=RunInfo(
            model=model,
            prompt_version="langextract-1.7.1",
            mode="live",
            attempts=len(requests),
            usage=usage,
            chunks=max(len(requests), 1),
        ),
        participants=participants,
        meetings=meetings,
        status_claims=list(claims.values()),
        grounding=Grounding(
            quotes_returned=len(extractions),
            quotes_grounded=sum(_evidence(text, x, "claim") is not None for x in extractions),
            records_kept=len(meetings) + len(claims),
            records_dropped=dropped,
            fields_nulled=count["stances_nulled"],
            quotes_dropped=sum(not s.mentions for s in referenced if s in sides),
        ),
    )
    return extraction, count


def _participants(
    sides: list[_Side], acronyms: dict[str, str], doc_sha: str
) -> tuple[list[Participant], dict[int, str]]:
    """One participant per person (the project's identity rules); each side's id by ``id()``."""
    orgs = [organisation(s.organisation, acronyms) for s in sides]
    profiles = [
        Profile(
            name=s.name,
            title=s.title,
            organisation=(o.short or o.full) if o else None,
            state=country_code(s.state) or s.state,
            is_person=s.kind is ParticipantKind.person,
        )
        for s, o in zip(sides, orgs, strict=True)
    ]
    groups: dict[int, list[int]] = {}
    for i, root in enumerate(group_same(profiles)):
        groups.setdefault(root, []).append(i)
    ids: dict[int, str] = {}
    result = []
    for n, members in enumerate(groups.values()):
        group = [sides[i] for i in members]
        named = max(group, key=lambda s: len(s.name or ""))
        mentions = sorted(
            {(e.start, e.end): e for s in group for e in s.mentions}.values(), key=lambda e: e.start
        )
        state_written = next((s.state for s in group if s.state), None)
        state = country_code(state_written)
        if state is None and group[0].kind is ParticipantKind.state:  # as our assembly does
            state = country_code(named.name) or country_code(named.written)
        pid = stable_id("p", doc_sha, named.name or "", named.written, n)
        for i in members:
            ids[id(sides[i])] = pid
        result.append(
            Participant(
                id=pid,
                kind=group[0].kind,
                name=named.name,
                title=named.title or next((s.title for s in group if s.title), None),
                organisation=next((orgs[i] for i in members if orgs[i]), None),
                state=state,
                state_as_written=state_written,
                mentions=mentions,
                unchecked=["title", "kind"],
            )
        )
    return result, ids


def peer_runs(
    cases: Sequence[GoldCase],
    documents: dict[str, Document],
    raws: list[dict[str, Any]],
    model: str,
    *,
    keep_unaligned: bool,
) -> list[ArticleRun]:
    by_name = {r["name"]: r for r in raws}
    runs = []
    for case in cases:
        raw = by_name.get(case.name)
        document = documents[case.name]
        if raw is None:
            runs.append(
                ArticleRun(
                    case.name,
                    _empty(document, model, "langextract-1.7.1"),
                    "not run",
                    0.0,
                    0,
                    0,
                    0,
                    None,
                )
            )
            continue
        extraction, counts = convert_peer(document, raw, model, keep_unaligned=keep_unaligned)
        requests = raw.get("requests") or []
        server = sum(
            (ServerCounters.from_timings(r.get("timings")) for r in requests), ServerCounters()
        )
        detail = {
            "conversion": counts,
            "chunks_omitted": raw.get("chunks_omitted", 0),
            "answers_cut_at_limit": sum(r.get("finish_reason") == "length" for r in requests),
            "extractions": len(raw.get("extractions") or []),
        }
        runs.append(
            ArticleRun(
                case.name,
                extraction,
                raw.get("error"),
                float(raw["seconds"]),
                len(requests),
                extraction.run.usage.prompt_tokens,
                extraction.run.usage.completion_tokens,
                server,
                detail,
            )
        )
    return runs


# --------------------------------------------------------------------------- figures


def _rate(a: float, b: float) -> float | None:
    return a / b if b else None


def summarise(
    runs: Sequence[ArticleRun],
    cases: Sequence[GoldCase],
    whole_run: ServerCounters | None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every figure of one system, overall and per article."""
    gold = {c.name: c.gold for c in cases}
    scores = [score(r.extraction, gold[r.name], r.name) for r in runs]
    overall = total(scores)
    n = max(len(runs), 1)
    wall = sum(r.seconds for r in runs)
    per_article_server = [r.server for r in runs if r.server is not None]
    served = sum(per_article_server, ServerCounters()) if per_article_server else None
    speed = whole_run or served
    figures: dict[str, Any] = {}
    for kind in RECORD_TYPES:
        prf = overall.records[kind]
        figures[f"{kind} P"], figures[f"{kind} R"], figures[f"{kind} F1"] = (
            prf.precision,
            prf.recall,
            prf.f1,
        )
    for key in FIELDS:
        figures[f"field {key} F1"] = overall.fields[key].f1
    returned = overall.quotes_returned
    figures |= {
        "grounding rate": overall.grounding_rate,
        "record drop rate": _rate(
            overall.records_dropped, overall.records_kept + overall.records_dropped
        ),
        "quote drop rate": _rate(overall.quotes_dropped, returned),
        "records kept": overall.records_kept,
        "records dropped": overall.records_dropped,
        "fields nulled": overall.fields_nulled,
        "quotes returned": returned,
        "articles failed": sum(r.error is not None for r in runs),
        "s / article": wall / n,
        "model s / article": served.model_seconds / n if served else None,
        "pipeline share of wall": 1 - served.model_seconds / wall if served and wall else None,
        "pipeline s / article": (wall - served.model_seconds) / n if served else None,
        "requests / article": sum(r.requests for r in runs) / n,
        "prompt tokens / article": sum(r.prompt_tokens for r in runs) / n,
        "processed prompt tokens / article": served.prompt_tokens / n if served else None,
        "completion tokens / article": sum(r.completion_tokens for r in runs) / n,
        "generation tok/s (server)": _rate(speed.predicted_tokens, speed.predicted_seconds)
        if speed
        else None,
        "prompt tok/s (server)": _rate(speed.prompt_tokens, speed.prompt_seconds)
        if speed
        else None,
    }
    return {
        "figures": figures,
        "overall": overall.as_dict(),
        "server_whole_run": asdict(whole_run) if whole_run else None,
        "articles": [
            {
                "name": r.name,
                "error": r.error,
                "seconds": round(r.seconds, 3),
                "requests": r.requests,
                "prompt_tokens": r.prompt_tokens,
                "completion_tokens": r.completion_tokens,
                "server": asdict(r.server) if r.server else None,
                "detail": r.detail,
                "score": s.as_dict(),
            }
            for r, s in zip(runs, scores, strict=True)
        ],
        **(extra or {}),
    }


def _print_article(system: str, run: ArticleRun, s: Score) -> None:
    f1 = "  ".join(f"{s.records[k].f1:4.2f}" for k in RECORD_TYPES)
    g = run.extraction.grounding
    print(
        f"{system:5} {run.name:34} F1 {f1}  {run.seconds:7.1f} s  prompt {run.prompt_tokens:6d}"
        f"  compl. {run.completion_tokens:5d}  req {run.requests:2d}  kept {g.records_kept:2d}"
        f"  dropped {g.records_dropped:2d}  grounded {g.quotes_grounded}/{g.quotes_returned}"
        f"  {run.error or ''}",
        flush=True,
    )


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
    return str(value)


def side_by_side(systems: dict[str, dict[str, Any]]) -> tuple[str, dict[str, float | None]]:
    """The figures of every system in columns, and ours / peer per figure."""
    names = list(systems)
    keys = list(systems[names[0]]["figures"])
    ratios: dict[str, float | None] = {}
    with_ratio = "ours" in systems and "peer" in systems
    head = f"{'figure':36}" + "".join(f"{n:>12}" for n in names)
    head += f"{'ours/peer':>12}" if with_ratio else ""
    lines = [head, "-" * len(head)]
    for key in keys:
        values = [systems[n]["figures"].get(key) for n in names]
        line = f"{key:36}" + "".join(f"{_fmt(v):>12}" for v in values)
        if with_ratio:
            a, b = systems["ours"]["figures"].get(key), systems["peer"]["figures"].get(key)
            ratio = (
                a / b if isinstance(a, int | float) and isinstance(b, int | float) and b else None
            )
            ratios[key] = ratio
            line += f"{_fmt(ratio):>12}"
        lines.append(line)
    return "\n".join(lines), ratios


# --------------------------------------------------------------------------- main


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--gguf", type=Path, help="start one llama.cpp server for this GGUF")
    where.add_argument("--base-url", help="use a running OpenAI-compatible server (.../v1)")
    p.add_argument("--peer", choices=("langextract",), default=None)
    p.add_argument("--peer-python", default="/work/models/lxvenv/bin/python")
    p.add_argument(
        "--peer-chunk-chars",
        type=int,
        default=1000,
        help="LangExtract's max_char_buffer (its default: 1000)",
    )
    p.add_argument("--peer-constraint", choices=("schema", "json"), default="schema")
    p.add_argument("--skip-ours", action="store_true", help="run only the peer")
    p.add_argument(
        "--ours-mode",
        default="json_schema",
        help="--mode for 'extractor extract', passed when the CLI has it ('' to leave it out)",
    )
    p.add_argument(
        "--ours-arg",
        action="append",
        default=[],
        help="extra argument for 'extractor extract' (repeat; e.g. --ours-arg=-v)",
    )
    p.add_argument("--gold", type=Path, default=REPO / "fixtures" / "gold")
    p.add_argument("--only", default="", help="comma list of article number prefixes: 000,002")
    p.add_argument("--out", type=Path, default=None, help="write every figure here as JSON")
    p.add_argument("--workdir", type=Path, default=None, help="keep outputs here [a new temp dir]")
    p.add_argument(
        "--max-tokens",
        type=int,
        default=None,
        help="the peer's max_tokens a request [ours' rule for its chunk: 1024 + chars / 2]",
    )
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per request, both")
    p.add_argument("--server-python", default="/work/models/venv/bin/python")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--ctx", type=int, default=8192)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--allow-concurrent", action="store_true")
    return p


def code_state() -> str:
    """The commit ours runs at, and whether the pipeline's files differ from it."""

    def git(*command: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(REPO), *command], capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--", "extractor", "schemas", "prompts").splitlines()
    return f"{git('rev-parse', '--short', 'HEAD')}" + (
        f" + {len(changed)} uncommitted files in extractor/, schemas/, prompts/" if changed else ""
    )


def _write(path: Path | None, report: dict[str, Any]) -> None:
    if path:
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: Iterable[str] | None = None) -> None:
    args = _parser().parse_args(list(argv) if argv is not None else None)
    # A plain SIGTERM would end the process without the finally that stops the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.skip_ours and not args.peer:
        sys.exit("--skip-ours needs --peer")
    wanted = [w for w in args.only.split(",") if w]
    cases = [c for c in load_gold(args.gold) if not wanted or c.name.split("_")[0] in wanted]
    documents = {c.name: read_document(c.document, max_bytes=MAX_INPUT_BYTES) for c in cases}
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="real_model_"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"{len(cases)} articles; outputs in {workdir}", flush=True)
    report: dict[str, Any] = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "systems": {},
    }
    systems: dict[str, dict[str, Any]] = report["systems"]
    report["config"]["code"] = code_state()
    print(f"code: {report['config']['code']}", flush=True)
    with llama_server(args, workdir / "server.log") as base_url:
        model = _model_id(base_url)
        report["config"] |= {"model_id": model, "base_url_used": base_url}
        if not args.skip_ours:
            mode = ["--mode", args.ours_mode] if args.ours_mode and cli_has("--mode") else []
            report["config"]["ours_mode_passed"] = " ".join(mode) or "none (the CLI's default)"
            start = cli_start_seconds()
            before = read_metrics(base_url)
            runs = run_ours(cases, documents, base_url, model, args, workdir, mode)
            after = read_metrics(base_url)
            whole = after - before if after and before else None
            systems["ours"] = summarise(runs, cases, whole, {"cli_start_seconds": start})
            figures = systems["ours"]["figures"]
            figures["CLI start s (in s / article)"] = start
            if figures["model s / article"] is not None:
                figures["pipeline s / article, start aside"] = (
                    figures["s / article"] - figures["model s / article"] - start
                )
            _write(args.out, report)
        if args.peer:
            raws, peer_config, whole, seconds = run_peer(
                cases, documents, base_url, model, args, workdir
            )
            extra = {"peer_config": peer_config, "process_seconds": seconds}
            for name, keep in (("peer", False), ("peer (all)", True)):
                runs = peer_runs(cases, documents, raws, model, keep_unaligned=keep)
                if name == "peer":
                    for run in runs:
                        _print_article(
                            "peer", run, score(run.extraction, _gold(cases, run.name), run.name)
                        )
                systems[name] = summarise(runs, cases, whole, extra)
            _write(args.out, report)
    table, ratios = side_by_side(systems)
    report["ratios_ours_over_peer"] = ratios
    _write(args.out, report)
    print()
    print(f"model {model}; {len(cases)} articles; peer max_tokens {peer_max_tokens(args)}")
    print(table)
    if "peer" in systems:
        conv: dict[str, int] = {}
        for a in systems["peer"]["articles"]:
            for k, v in a["detail"].get("conversion", {}).items():
                conv[k] = conv.get(k, 0) + v
        omitted = sum(a["detail"].get("chunks_omitted", 0) for a in systems["peer"]["articles"])
        cut = sum(a["detail"].get("answers_cut_at_limit", 0) for a in systems["peer"]["articles"])
        print(
            f"\npeer conversion: {conv}; chunks LangExtract omitted: {omitted}; "
            f"answers cut at the token limit: {cut}"
        )
    for name, system in systems.items():
        for a in system["articles"]:
            if a["error"]:
                print(f"{name} error: {a['name']}: {a['error'][:300]}")


def _gold(cases: Sequence[GoldCase], name: str) -> Any:
    return next(c.gold for c in cases if c.name == name)


if __name__ == "__main__":
    main()
