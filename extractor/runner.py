"""One document through the stages: prompt, model, grounding and assembly."""

from __future__ import annotations

from .assemble import assemble
from .document import Document
from .grounding import Aligner
from .llm import ModelClient
from .prompting import load_prompt
from .schemas import Extraction, RunInfo


async def extract_document(document: Document, client: ModelClient) -> Extraction:
    """Extract one document through an open client (shared by every entry point)."""
    prompt = load_prompt()
    aligner = Aligner(document.text)
    answer = await client.ask(prompt.messages(document), aligner)
    run = RunInfo(
        model=client.settings.model,
        prompt_version=prompt.version,
        mode=client.settings.mode,
        attempts=answer.attempts,
        usage=answer.usage,
    )
    return assemble(document, answer.draft, run, aligner=aligner, warnings=answer.warnings)
