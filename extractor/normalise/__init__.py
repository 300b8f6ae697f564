"""Names, codes and vocabularies, as data: states, organisations, statuses, identity.

Turns what an article writes ("Myanmar's", "ШОС", "dialogue partner") into the
codes records carry. Imports only ``extractor.text`` and ``extractor.schemas``;
its tables live in ``extractor/data/``.
"""
