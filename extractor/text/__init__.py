"""Text as every stage compares it: look-alike characters, quote alignment, dates.

The bottom layer: it imports nothing from the project but its own modules, so
reading, normalising and grounding can all build on it.
"""
