"""Characters that models, wire services and web pages swap for one another.

One table for every comparison in the project (quote alignment, state and
organisation lookup, cue words), so that a look-alike folded in one place is
folded in all of them. Escaped so the look-alikes stay visible in the source.
"""

from __future__ import annotations

__all__ = ["DASHES", "DOUBLE_QUOTES", "INVISIBLE", "PUNCTUATION", "SINGLE_QUOTES"]

# Curly, low-9 and reversed quotes, angle and full-width quotes, primes,
# modifier-letter apostrophes, the acute and grave accents.
SINGLE_QUOTES = (
    "'\u2018\u2019\u201a\u201b\u2032\u2035\u2039\u203a`\u00b4\u02b9\u02bb\u02bc\u02bd\u02c8\uff07"
)
DOUBLE_QUOTES = '"\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb\u3003\uff02\u275d\u275e'
# Hyphen, non-breaking hyphen, figure, en and em dashes, bar, minus, hyphen
# bullet, small and full-width hyphens (the ASCII hyphen-minus is not listed).
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d"
# Characters that carry no text: soft hyphen, zero-width space and joiners,
# word joiner, BOM. Articles scraped from the web are full of them.
INVISIBLE = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")

PUNCTUATION = str.maketrans(
    {
        **{c: "'" for c in SINGLE_QUOTES},
        **{c: '"' for c in DOUBLE_QUOTES},
        **{c: "-" for c in DASHES},
    }
)
"""A ``str.translate`` table: every quote to ``'`` or ``"``, every dash to ``-``."""
