"""Provider batch runs: ``extractor batch submit / status / collect`` and their state file.

Owns the batch run's state (``state``: documents, requests, batches in one
SQLite file, every step a transaction), the engine that drives a run
(``engine``: the live path's requests built by replaying each document over
the answers held so far, submitted through ``extractor.model.batch_api``;
answers collected, put in the response cache, grounded and assembled by the
live path's own code; re-asks and resubmissions in further rounds) and the
typer sub-app (``cli``). A top layer, beside ``extractor.batch`` and the
CLI: it may import the runner, the live batch engine's reading of inputs,
the model layer (client, cache keys, batch APIs), the readers, the writers,
the schemas and the settings; nothing below it imports it.
"""

from extractor.batches.engine import MAX_TRIES, AnswerPending, Engine, HeldAnswers, Report
from extractor.batches.state import DOCUMENT_STATES, BatchStateFile

__all__ = [
    "DOCUMENT_STATES",
    "MAX_TRIES",
    "AnswerPending",
    "BatchStateFile",
    "Engine",
    "HeldAnswers",
    "Report",
]
