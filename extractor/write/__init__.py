"""Records out: JSON, JSONL and CSV, written as each document finishes.

Imports only the schemas.
"""
