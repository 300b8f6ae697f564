"""Inputs to documents: files, stdin and web pages read, datelines found, long texts chunked.

Everything before the model. Imports ``extractor.text``, the exceptions and the
settings; never the model, grounding or writers.
"""
