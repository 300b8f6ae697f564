"""Prompt templates and few-shot examples, shipped as package data (see extractor.model.prompting)."""
