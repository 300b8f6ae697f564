"""The batch run's state file: documents, requests, batches, all in one SQLite file.

A batch run lasts hours and spans several commands (``submit``, ``status``,
``collect``, any of them killed and run again), so everything it knows lives
here and nothing only in memory:

* ``documents``: every input once (by source and text hash), the document
  itself (so ``collect`` needs no inputs), its round, and once finished its
  output line (``record``) and whether that line is in the output yet.
* ``requests``: every request a document needs, keyed by the response cache's
  key (also the batch ``custom_id``), its body, the round it belongs to, its
  state (``pending`` to submit, ``sending`` while its batch is being created,
  ``submitted`` in a batch, ``answered`` with the provider's answer kept, or
  ``failed`` once resubmitting gave up), how often it was submitted.
* ``wants``: which requests a document waits for now (a shared text's requests
  are shared too).
* ``batches``: each batch, from the intent to create it (written before the
  call) to its handle (written after), its last progress, and whether its
  results are in.

Each step is one transaction, so a kill leaves the file as it was before or
after the step. Bodies and answers are stored zlib-compressed: every body
repeats the same static instructions and schema, most of its bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

import orjson

from extractor._exceptions import ConfigurationError
from extractor.read.document import Dateline, Document, Metadata

SCHEMA_VERSION = "1"

_SCHEMA = """
create table if not exists meta (key text primary key, value text not null);
create table if not exists documents (
    id integer primary key,
    source text not null,
    sha256 text not null,
    document text,
    round integer not null default 1,
    state text not null,
    record text,
    written integer not null default 0,
    unique (source, sha256)
);
create table if not exists requests (
    key text primary key,
    body blob not null,
    round integer not null,
    state text not null,
    batch integer,
    tries integer not null default 0,
    answer blob,
    error text
);
create index if not exists requests_state on requests (state, round);
create index if not exists requests_batch on requests (batch);
create table if not exists wants (
    doc integer not null,
    key text not null,
    primary key (doc, key)
);
create index if not exists wants_key on wants (key);
create table if not exists batches (
    id integer primary key,
    round integer not null,
    state text not null,
    handle text,
    requests integer not null,
    progress text,
    created_at text not null
);
"""

DOCUMENT_STATES = ("pending", "submitted", "answered", "needs re-ask", "failed", "done")
"""What ``document_states`` counts: waiting for requests not yet submitted; with every request
it waits for in a batch; with every answer in, to be assembled; waiting for a re-ask (its
first answers are in and one needs asking again); ended in an error record; extracted."""


@dataclass(frozen=True)
class Wanted:
    """A request a document waits for: its key (the batch custom id) and its body."""

    key: str
    body: dict[str, Any]


@dataclass(frozen=True)
class StoredBatch:
    """One row of ``batches``."""

    id: int
    round: int
    state: str
    """``intent`` (being created), ``created``, ``collected`` (results in), ``lost``."""
    handle: dict[str, Any] | None
    requests: int
    progress: dict[str, Any] | None


def pack(value: Any) -> bytes:
    """JSON, compressed (fast level: the state is written as the run goes)."""
    return zlib.compress(orjson.dumps(value), 1)


def unpack(blob: bytes) -> Any:
    return orjson.loads(zlib.decompress(blob))


def document_json(document: Document) -> str:
    """A document as JSON, every field of it (dates as ISO strings)."""
    return orjson.dumps(asdict(document)).decode()


def document_from_json(text: str) -> Document:
    """The document ``document_json`` wrote; a ``ConfigurationError`` if this code cannot."""
    try:
        data = orjson.loads(text)
        line = data.get("dateline")
        dateline = None
        if line is not None:
            dateline = Dateline(**{**line, "date": _date(line.get("date"))})
        meta = data.get("meta") or {}
        metadata = Metadata(**{**meta, "published": _date(meta.get("published"))})
        return Document(**{**data, "dateline": dateline, "meta": metadata})
    except (TypeError, ValueError, AttributeError) as exc:
        raise ConfigurationError(
            f"a document in the batch state cannot be read by this version ({exc})"
        ) from exc


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class BatchStateFile:
    """The state file of one batch run (see the module docstring); one connection."""

    def __init__(self, path: Path, *, exclusive: bool = False) -> None:
        """``exclusive``: refuse to open while another command holds the file so (two
        collects at once would both download and submit the same requests)."""
        self.path = Path(path)
        self._lock: IO[str] | None = None
        if exclusive:
            self._lock = _lock(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self.db.execute("pragma journal_mode=wal")
            self.db.execute("pragma synchronous=full")  # a committed step survives power loss
            self.db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigurationError(f"cannot open the batch state {self.path}: {exc}") from exc
        version = self.get_meta("schema")
        if version is None:
            self.set_meta("schema", SCHEMA_VERSION)
        elif version != SCHEMA_VERSION:
            raise ConfigurationError(
                f"{self.path} is a batch state of another version ({version}); "
                "collect it with that version or start a new one"
            )

    def close(self) -> None:
        self.db.close()
        if self._lock is not None:
            self._lock.close()  # releases the lock

    @contextmanager
    def step(self) -> Iterator[sqlite3.Connection]:
        """One transaction: all of it is written, or none (a kill midway rolls it back)."""
        self.db.execute("begin immediate")
        try:
            yield self.db
        except BaseException:
            self.db.execute("rollback")
            raise
        self.db.execute("commit")

    # ----------------------------------------------------------------- meta

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("select value from meta where key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str, db: sqlite3.Connection | None = None) -> None:
        (db or self.db).execute("insert or replace into meta values (?, ?)", (key, value))

    # ----------------------------------------------------------------- documents

    def known(self, source: str, sha256: str) -> bool:
        row = self.db.execute(
            "select 1 from documents where source = ? and sha256 = ?", (source, sha256)
        ).fetchone()
        return row is not None

    def known_sources(self) -> set[tuple[str, str]]:
        """Every (source, sha256) registered: what a resumed submit skips."""
        return {(s, h) for s, h in self.db.execute("select source, sha256 from documents")}

    def add_finished(
        self, db: sqlite3.Connection, source: str, sha256: str, state: str, record: str
    ) -> None:
        """A document that needs no batch: found in the caches, or unreadable."""
        db.execute(
            "insert or ignore into documents (source, sha256, state, record) values (?, ?, ?, ?)",
            (source, sha256, state, record),
        )

    def add_waiting(
        self, db: sqlite3.Connection, document: Document, wanted: Iterable[Wanted]
    ) -> None:
        """A document and the first requests it waits for (round 1)."""
        cursor = db.execute(
            "insert or ignore into documents (source, sha256, document, state) "
            "values (?, ?, ?, 'open')",
            (document.source, document.sha256, document_json(document)),
        )
        if cursor.rowcount:
            self._want(db, int(cursor.lastrowid or 0), wanted, 1)

    def rewant(
        self, db: sqlite3.Connection, doc: int, wanted: Iterable[Wanted], round_: int
    ) -> None:
        """A document's next requests (a re-ask round): they replace the ones it had."""
        db.execute("delete from wants where doc = ?", (doc,))
        db.execute("update documents set round = ? where id = ?", (round_, doc))
        self._want(db, doc, wanted, round_)

    @staticmethod
    def _want(db: sqlite3.Connection, doc: int, wanted: Iterable[Wanted], round_: int) -> None:
        for request in wanted:
            db.execute(
                "insert or ignore into requests (key, body, round, state) "
                "values (?, ?, ?, 'pending')",
                (request.key, pack(request.body), round_),
            )
            db.execute("insert or ignore into wants values (?, ?)", (doc, request.key))

    def finish(self, db: sqlite3.Connection, doc: int, state: str, record: str) -> None:
        db.execute("update documents set state = ?, record = ? where id = ?", (state, record, doc))
        db.execute("delete from wants where doc = ?", (doc,))

    def ready(self) -> list[tuple[int, int]]:
        """Open documents none of whose requests is still to come: ``(id, round)``."""
        rows = self.db.execute(
            """
            select d.id, d.round from documents d
            where d.state = 'open' and not exists (
                select 1 from wants w join requests r on r.key = w.key
                where w.doc = d.id and r.state in ('pending', 'sending', 'submitted')
            )
            order by d.id
            """
        ).fetchall()
        return [(int(i), int(r)) for i, r in rows]

    def document(self, doc: int) -> Document:
        row = self.db.execute("select document from documents where id = ?", (doc,)).fetchone()
        return document_from_json(str(row[0]))

    def failed_request(self, doc: int) -> tuple[int, str] | None:
        """A request the document waits for that was given up: its tries and last error."""
        row = self.db.execute(
            "select r.tries, r.error from wants w join requests r on r.key = w.key "
            "where w.doc = ? and r.state = 'failed' limit 1",
            (doc,),
        ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def open_documents(self) -> int:
        row = self.db.execute("select count(*) from documents where state = 'open'").fetchone()
        return int(row[0])

    def unwritten(self) -> list[tuple[int, str]]:
        rows = self.db.execute(
            "select id, record from documents where record is not null and written = 0 order by id"
        ).fetchall()
        return [(int(i), str(r)) for i, r in rows]

    def document_states(self) -> dict[str, int]:
        """How many documents are in each of ``DOCUMENT_STATES``."""
        counts = dict.fromkeys(DOCUMENT_STATES, 0)
        for state, n in self.db.execute(
            "select state, count(*) from documents where state != 'open' group by state"
        ):
            counts["done" if state == "done" else "failed"] += int(n)
        rows = self.db.execute(
            """
            select d.round,
                   sum(r.state in ('pending', 'sending')),
                   sum(r.state = 'submitted')
            from documents d join wants w on w.doc = d.id join requests r on r.key = w.key
            where d.state = 'open' group by d.id
            """
        )
        for round_, pending, submitted in rows:
            if pending:
                counts["needs re-ask" if round_ > 1 else "pending"] += 1
            elif submitted:
                counts["submitted"] += 1
            else:
                counts["answered"] += 1
        return counts

    def batches_of(self, doc: int) -> list[int]:
        """The batches holding the requests a document waits for (``submitted in batch B``)."""
        rows = self.db.execute(
            "select distinct r.batch from wants w join requests r on r.key = w.key "
            "where w.doc = ? and r.batch is not null order by r.batch",
            (doc,),
        )
        return [int(b) for (b,) in rows]

    # ----------------------------------------------------------------- requests

    def answer(self, key: str) -> bytes | None:
        """The provider's answer to the request, as JSON bytes, if it is in."""
        row = self.db.execute(
            "select answer from requests where key = ? and state = 'answered'", (key,)
        ).fetchone()
        return None if row is None else zlib.decompress(row[0])

    def pending(self) -> Iterator[tuple[str, int, dict[str, Any]]]:
        """Requests to submit, by round then key: ``(key, round, body)``."""
        rows = self.db.execute(
            "select key, round, body from requests where state = 'pending' order by round, key"
        )
        for key, round_, body in rows.fetchall():
            yield str(key), int(round_), unpack(body)

    def request_counts(self) -> dict[str, int]:
        return {
            str(s): int(n)
            for s, n in self.db.execute("select state, count(*) from requests group by state")
        }

    def rounds(self) -> dict[int, int]:
        """Requests per round: round 2 and on are re-asks."""
        return {
            int(r): int(n)
            for r, n in self.db.execute("select round, count(*) from requests group by round")
        }

    # ----------------------------------------------------------------- batches

    def intend(self, round_: int, keys: list[str]) -> int:
        """Record a batch about to be created, and its requests as being sent (one step)."""
        with self.step() as db:
            cursor = db.execute(
                "insert into batches (round, state, requests, created_at) "
                "values (?, 'intent', ?, ?)",
                (round_, len(keys), _now()),
            )
            batch = int(cursor.lastrowid or 0)
            db.executemany(
                "update requests set state = 'sending', batch = ? where key = ?",
                [(batch, key) for key in keys],
            )
        return batch

    def created(self, batch: int, handle: dict[str, Any]) -> None:
        """The provider created the batch: its handle, and its requests submitted once more."""
        with self.step() as db:
            db.execute(
                "update batches set state = 'created', handle = ? where id = ?",
                (orjson.dumps(handle).decode(), batch),
            )
            db.execute(
                "update requests set state = 'submitted', tries = tries + 1 "
                "where batch = ? and state = 'sending'",
                (batch,),
            )

    def abandon(self, batch: int) -> int:
        """A batch whose creation was cut short: its requests are pending again; how many."""
        with self.step() as db:
            db.execute("update batches set state = 'lost' where id = ?", (batch,))
            cursor = db.execute(
                "update requests set state = 'pending', batch = null "
                "where batch = ? and state = 'sending'",
                (batch,),
            )
        return cursor.rowcount

    def batches(self, *states: str) -> list[StoredBatch]:
        query = "select id, round, state, handle, requests, progress from batches"
        params: tuple[str, ...] = ()
        if states:
            query += f" where state in ({', '.join('?' * len(states))})"
            params = states
        return [
            StoredBatch(
                int(i),
                int(r),
                str(s),
                orjson.loads(h) if h else None,
                int(n),
                orjson.loads(p) if p else None,
            )
            for i, r, s, h, n, p in self.db.execute(query + " order by id", params)
        ]

    def keys_of(self, batch: int) -> list[str]:
        rows = self.db.execute(
            "select key from requests where batch = ? and state = 'submitted'", (batch,)
        )
        return [str(k) for (k,) in rows]

    def note_progress(self, batch: int, progress: dict[str, Any]) -> None:
        self.db.execute(
            "update batches set progress = ? where id = ?",
            (orjson.dumps(progress).decode(), batch),
        )


def _lock(path: Path) -> IO[str]:
    """An exclusive lock beside the state file, held while the returned file is open."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, as before
        return open(os.devnull, "w")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.with_name(path.name + ".lock"), "w")  # noqa: SIM115
    except OSError as exc:
        raise ConfigurationError(f"cannot open the batch state {path}: {exc}") from exc
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise ConfigurationError(
            f"another batch command is running on {path}; wait for it to end"
        ) from None
    return handle


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
