"""States as written in an article -> ISO 3166-1 alpha-3 codes, and back.

Articles (and the model reading them) name a state in many ways: "the Republic
of the Union of Myanmar", "Myanmar's", "PRC", "Россия", "中国". Records carry the
ISO code so that one state is one key across articles and languages.

The rule is *exact lookup after light normalisation, never a guess*: a wrong
code is worse than no code, because it silently attaches a claim to the wrong
state, while ``None`` stays visible. So ``country_code`` has no fuzzy matching,
no substring search and no adjective demonyms ("Cambodian"); a phrase that
merely *contains* a state ("Embassy of Cambodia in Beijing") is not a state and
gives ``None``; picking the state out of such a phrase is the extractor's job.

Finding where an article names or refers to a state is a different question,
answered by ``country_mentions``: it reads names in running text, Russian names
in any case ("Республики Казахстан"), and demonyms ("Russian President", "the
Kazakh side", "российской стороны"), which ``demonym_code`` looks up one at a time.

Names come from pycountry (name, official_name, common_name, plus the natural
order of its inverted names such as "Korea, Republic of"); what pycountry misses
(short forms, former names, Russian and Chinese names) lives in
``extractor/data/country_aliases.json``, with the demonyms. Behind both, for
``country_code`` only, come the names maintained data gives in Russian and
Chinese: pycountry's ISO 3166 translations ("Республика Таджикистан",
"白俄罗斯共和国") and CLDR's short names through Babel ("Мьянма", "老挝"). They
are not searched for in running text: short names such as "Того" or "中非"
begin sentences and name other things ("中非合作" is China-Africa), so finding
them in prose stays with the hand-checked alias table.
"""

# Russian case endings are written out below, one or two letters each, which the
# confusable-character rules would read as Latin look-alikes.
# ruff: noqa: RUF001, RUF002

from __future__ import annotations

import gettext
import json
import re
import unicodedata
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any, NamedTuple

import pycountry

from extractor.text.lookalikes import PUNCTUATION

__all__ = ["country_code", "country_mentions", "country_name", "demonym_code"]

_ALIASES_FILE = "country_aliases.json"

# Quote and dash look-alikes that models and wire services swap freely.


def _key(text: str) -> str:
    """Fold a name to the form both sides of every lookup are compared in.

    Folding case, accents (so "Cote d'Ivoire" meets "Côte d'Ivoire", and Russian
    "yo" meets "ye"), quote and dash variants, whitespace, edge punctuation and a
    leading "the" removes the differences that carry no meaning in a state's
    name, and nothing else.
    """
    text = unicodedata.normalize("NFKC", text).translate(PUNCTUATION)
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = " ".join(unicodedata.normalize("NFC", text).split())
    text = _strip_edge_punctuation(text)
    if text.startswith("the "):
        text = _strip_edge_punctuation(text[4:].lstrip())
    return text


def _strip_edge_punctuation(text: str) -> str:
    """Drop punctuation at both ends ("Myanmar.", "“Burma”", "Philippines'")."""
    start, end = 0, len(text)
    while start < end and unicodedata.category(text[start]).startswith("P"):
        start += 1
    while end > start and unicodedata.category(text[end - 1]).startswith("P"):
        end -= 1
    return text[start:end].strip()


def _natural_order(name: str) -> str | None:
    """Turn ISO's inverted names ("Korea, Republic of") into running text.

    Articles write "the Republic of Korea", never the catalogue form, so the
    natural order is indexed too. Only the unambiguous shapes are inverted:
    a tail ending in "of"/"of the", or a single qualifying word ("British").
    """
    head, sep, tail = name.partition(", ")
    if not sep or ", " in tail:
        return None
    if tail.endswith((" of", " of the")) or " " not in tail:
        return f"{tail} {head}"
    return None


@cache
def _tables() -> tuple[dict[str, str], frozenset[str]]:
    """Build the folded-name -> alpha-3 table and the never-a-state set once.

    Names that fold to the same key for two different codes would make the
    lookup guess, so such a clash in the alias file fails loudly here instead.
    """
    index: dict[str, str] = {}
    ambiguous: set[str] = set()
    for country in pycountry.countries:
        code = country.alpha_3
        for field in ("name", "official_name", "common_name"):
            value = getattr(country, field, None)
            if not value:
                continue
            for form in (value, _natural_order(value)):
                if not form:
                    continue
                key = _key(form)
                if index.setdefault(key, code) != code:
                    ambiguous.add(key)  # two states fold to one name: never guess
    for key in ambiguous:
        del index[key]

    raw = json.loads((files("extractor") / "data" / _ALIASES_FILE).read_text("utf-8"))
    for code, names in raw["aliases"].items():
        if pycountry.countries.get(alpha_3=code) is None:
            raise ValueError(f"{_ALIASES_FILE}: {code!r} is not an ISO 3166-1 alpha-3 code")
        for name in names:
            key = _key(name)
            if not key:
                raise ValueError(f"{_ALIASES_FILE}: alias {name!r} of {code} is empty")
            if index.get(key, code) != code:
                raise ValueError(
                    f"{_ALIASES_FILE}: alias {name!r} of {code} already names {index[key]}"
                )
            index[key] = code
    not_states = frozenset(_key(name) for name in raw.get("not_states", []))
    return index, not_states


# Languages the articles come in besides English: pycountry's gettext locales for
# ISO 3166 names, and CLDR locales (simplified and traditional Chinese) for short names.
_ISO_LOCALES = ("ru", "zh_CN", "zh_TW", "zh_HK")
_CLDR_LOCALES = ("ru", "zh", "zh_Hant")
_PARENTHESIS = re.compile(r"\s*\([^)]*\)\s*")


@cache
def _translated() -> dict[str, str]:
    """Folded Russian and Chinese names -> alpha-3, from pycountry's locales and CLDR.

    Built once, on the first name the English and alias tables do not know.
    Those tables win: a key they hold is never taken from here, and a key two
    states' translations share is dropped rather than guessed. CLDR's
    "Мьянма (Бирма)" is indexed without its parenthesis too.
    """
    index, not_states = _tables()
    found: dict[str, str] = {}
    ambiguous: set[str] = set()

    def add(name: str, code: str) -> None:
        for form in {name, _PARENTHESIS.sub(" ", name).strip()}:
            key = _key(form)
            if not key or key in index or key in not_states:
                continue
            if found.setdefault(key, code) != code:
                ambiguous.add(key)

    for locale in _ISO_LOCALES:
        translation = gettext.translation(
            "iso3166-1", pycountry.LOCALES_DIR, languages=[locale], fallback=True
        )
        for country in pycountry.countries:
            for field in ("name", "official_name", "common_name"):
                value = getattr(country, field, None)
                if value and (translated := translation.gettext(value)) != value:
                    add(translated, country.alpha_3)
    from babel import Locale  # only here: loading CLDR costs time no English article needs

    for locale in _CLDR_LOCALES:
        for region, name in Locale.parse(locale).territories.items():
            state = pycountry.countries.get(alpha_2=region) if len(region) == 2 else None
            if state is not None:
                add(name, state.alpha_3)
    for key in ambiguous:
        del found[key]
    return found


def _code_as_written(text: str) -> str | None:
    """Accept an ISO code only when written in capitals ("US", "MMR").

    Lower-case two- and three-letter words ("in", "me", "can") are ordinary
    words, not codes, so they are never read as one.
    """
    if not (text.isascii() and text.isalpha() and text.isupper()):
        return None
    if len(text) == 2:
        country = pycountry.countries.get(alpha_2=text)
    elif len(text) == 3:
        country = pycountry.countries.get(alpha_3=text)
    else:
        return None
    return country.alpha_3 if country is not None else None


def country_code(name: str | None) -> str | None:
    """Return the ISO 3166-1 alpha-3 code of the state ``name`` names, or ``None``.

    ``None`` means "not a state we can name with certainty" (unknown, empty,
    an organisation, a phrase around a state); it never raises, because the
    pipeline normalises whatever the model wrote and must keep going.
    """
    if not isinstance(name, str):
        return None
    return _code(name)


@lru_cache(maxsize=4096)
def _code(name: str) -> str | None:
    """``country_code`` for a string; cached, as articles name the same states again and again."""
    stripped = name.strip()
    index, not_states = _tables()
    key = _key(stripped)
    if not key or key in not_states:
        return None
    code = _code_as_written(stripped)
    if code is not None:
        return code
    if key in index:
        return index[key]
    # A possessive names the state too: "Myanmar's intention", "Cambodia's Chairmanship".
    if key.endswith("'s"):
        return index.get(_strip_edge_punctuation(key[:-2]))
    if key.isascii():
        return None  # the translations are Russian and Chinese names only
    return _translated().get(key)


def country_name(code: str | None) -> str | None:
    """Return the English name for an ISO 3166-1 alpha-2 or alpha-3 code, or ``None``.

    pycountry's common name ("Iran", "South Korea", "Taiwan") is preferred over
    the ISO short name ("Iran, Islamic Republic of") when it has one: the name
    is shown to people, and both are unambiguous for the code.
    """
    if not isinstance(code, str):
        return None
    code = code.strip().upper()
    if len(code) == 2 and code.isalpha():
        country = pycountry.countries.get(alpha_2=code)
    elif len(code) == 3 and code.isalpha():
        country = pycountry.countries.get(alpha_3=code)
    else:
        return None
    if country is None:
        return None
    return getattr(country, "common_name", None) or country.name


# A word: letters and digits, with apostrophes and hyphens inside ("People's",
# "Timor-Leste", "российско-китайских"). Runs of Chinese characters are words
# too, and are searched again by substrings, since Chinese has no spaces.
_WORD = re.compile(r"[^\W_](?:[\w'\u2019-]*[^\W_])?")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")

# Russian case endings, and the nominative endings that may replace them:
# "Казахстана" -> "Казахстан", "России" -> "Россия", "Беларуси" -> "Беларусь",
# "Китаем" -> "Китай", "Республики" -> "Республика", "Российской" -> "Российская",
# "Соединённых Штатов" -> "Соединённые Штаты". A replacement counts only when it
# is exactly a word of a Russian name in the table, so nothing is guessed.
_RU_CASE_ENDINGS = frozenset(
    "а у ю е и ы я о ь ом ем ой ей ою ею ую юю ию ии ью ам ям ах ях ов ев ами ями "  # noqa: SIM905
    "ого его ому ему ым им ых их ыми ими".split()
)
_RU_NOMINATIVE_ENDINGS = ("", *"а я ь й о ы и ый ий ой ая яя ое ее ые ие".split())  # noqa: SIM905
_RU_MIN_STEM = 3
_MIN_DEMONYM_STEM = 4

# A match found in running text: its rank (words covered; 0.5 for part of a
# hyphenated word), its offsets, and its code (None for a not-mention).
_Candidate = tuple[float, int, int, str | None]


class _Mentions:
    """The tables ``country_mentions`` matches words against, built once.

    Names, demonyms and not-mentions are held as tuples of folded words, with
    every leading part of each, so a run of words is extended only while it can
    still become one; Russian stems are indexed by their first letters and
    Chinese names by their first character.
    """

    def __init__(self, raw: dict[str, Any] | None = None) -> None:
        """Build from the alias file's content (read from the package when not given)."""
        index, _ = _tables()
        if raw is None:
            raw = json.loads((files("extractor") / "data" / _ALIASES_FILE).read_text("utf-8"))
        self.names: set[tuple[str, ...]] = set()
        self.name_parts: set[tuple[str, ...]] = set()
        self.cjk: dict[str, list[tuple[str, str]]] = {}
        cyrillic_words: set[str] = set()
        for key, code in index.items():
            if _CJK.fullmatch(key):
                self.cjk.setdefault(key[0], []).append((key, code))
                continue
            tokens = tuple(_WORD.findall(key))
            if not tokens:
                continue
            self.names.add(tokens)
            self.name_parts.update(tokens[:n] for n in range(1, len(tokens) + 1))
            cyrillic_words.update(t for t in tokens if _CYRILLIC.match(t))
        self.name_length = max(len(t) for t in self.names)
        # Each name word under every stem a nominative ending leaves: "россия" under
        # "росси", which "России" and "Россией" reach by dropping their case ending.
        self.ru_stems: dict[str, set[str]] = {}
        # Folded as names are ("й" -> "и"), so endings meet the folded words.
        self.case_endings = frozenset(_key(e) for e in _RU_CASE_ENDINGS)
        nominatives = {_key(e) for e in _RU_NOMINATIVE_ENDINGS}
        for word in cyrillic_words:
            for ending in nominatives:
                stem = word[: len(word) - len(ending)]
                if word.endswith(ending) and len(stem) >= _RU_MIN_STEM:
                    self.ru_stems.setdefault(stem, set()).add(word)

        self.demonyms: dict[tuple[str, ...], str] = {}
        self.demonym_parts: set[tuple[str, ...]] = set()
        self.stems: dict[str, list[tuple[str, str]]] = {}
        stem_codes: dict[str, str] = {}
        for code, forms in raw.get("demonyms", {}).items():
            if pycountry.countries.get(alpha_3=code) is None:
                raise ValueError(
                    f"{_ALIASES_FILE}: demonym code {code!r} is not ISO 3166-1 alpha-3"
                )
            for form in forms:
                key = _key(form.removesuffix("*"))
                if form.endswith("*"):
                    if len(key) < _MIN_DEMONYM_STEM or not _WORD.fullmatch(key):
                        raise ValueError(f"{_ALIASES_FILE}: stem {form!r} of {code} is not a word")
                    for other, other_code in stem_codes.items():
                        if other_code != code and (other.startswith(key) or key.startswith(other)):
                            raise ValueError(
                                f"{_ALIASES_FILE}: stem {form!r} of {code} overlaps"
                                f" {other!r}* of {other_code}"
                            )
                    stem_codes[key] = code
                    self.stems.setdefault(key[:_MIN_DEMONYM_STEM], []).append((key, code))
                    continue
                tokens = tuple(_WORD.findall(key))
                if not tokens or " ".join(tokens) != key:
                    raise ValueError(f"{_ALIASES_FILE}: demonym {form!r} of {code} is not words")
                if key in index:
                    raise ValueError(
                        f"{_ALIASES_FILE}: demonym {form!r} of {code} is a name of {index[key]}"
                    )
                if self.demonyms.get(tokens, code) != code:
                    raise ValueError(
                        f"{_ALIASES_FILE}: demonym {form!r} of {code} already names"
                        f" {self.demonyms[tokens]}"
                    )
                self.demonyms[tokens] = code
                self.demonym_parts.update(tokens[:n] for n in range(1, len(tokens) + 1))
        # A stem must not swallow another state's single-word name or demonym.
        for words, word_code in (
            *((tuple(k.split()), c) for k, c in index.items()),
            *self.demonyms.items(),
        ):
            clash = self._stem_code(words[0]) if len(words) == 1 else None
            if clash is not None and clash != word_code:
                raise ValueError(
                    f"{_ALIASES_FILE}: a stem of {clash} matches {words[0]!r} of {word_code}"
                )
        self.demonym_length = max((len(t) for t in self.demonyms), default=0)

        self.not_mentions_by_word: dict[str, list[tuple[str, ...]]] = {}
        self.not_mentions_by_stem: list[tuple[str, ...]] = []
        self.not_mentions_cjk: dict[str, list[str]] = {}
        for phrase in raw.get("not_mentions", []):
            key = _key(phrase)
            if _CJK.fullmatch(key):
                self.not_mentions_cjk.setdefault(key[0], []).append(key)
                continue
            # Folded word by word: _key would take a final "*" for punctuation.
            words = tuple(_key(w.removesuffix("*")) + "*" * w.endswith("*") for w in phrase.split())
            if not words or not all(_WORD.fullmatch(w.removesuffix("*")) for w in words):
                raise ValueError(f"{_ALIASES_FILE}: not_mentions entry {phrase!r} is not words")
            if words[0].endswith("*"):
                self.not_mentions_by_stem.append(words)
            else:
                self.not_mentions_by_word.setdefault(words[0], []).append(words)

    def _stem_code(self, key: str, hyphenated: bool = False) -> str | None:
        """The state whose demonym stem the folded word starts with ("российской" -> RUS).

        With ``hyphenated``, only a stem that itself has a hyphen counts
        ("шри-ланкийск*"): the parts of "российско-китайских" are looked up
        one by one instead, or the whole word would go to its first part.
        """
        for stem, code in self.stems.get(key[:_MIN_DEMONYM_STEM], ()):
            if key.startswith(stem) and (not hyphenated or "-" in stem):
                return code
        return None

    def stem_code(self, key: str) -> str | None:
        """``_stem_code`` for a whole written word, hyphenated or not."""
        return self._stem_code(key, hyphenated="-" in key)

    def not_mentions_from(self, key: str) -> tuple[tuple[str, ...], ...]:
        """The not-mentions whose first word is this folded word."""
        exact = self.not_mentions_by_word.get(key, ())
        return (*exact, *(p for p in self.not_mentions_by_stem if _fits(p[0], key)))

    @staticmethod
    def blocked(words: list[_Word], i: int) -> int:
        """How many words from ``words[i]`` a not-mention covers (0 if none starts there)."""
        longest = 0
        for pattern in words[i].not_mentions:
            if (
                len(pattern) > longest
                and i + len(pattern) <= len(words)
                and all(_fits(p, words[i + n].key) for n, p in enumerate(pattern))
            ):
                longest = len(pattern)
        return longest


def _fits(pattern: str, key: str) -> bool:
    """Whether a folded word is a not-mention's word: equal to it, or starting with its stem."""
    return key.startswith(pattern[:-1]) if pattern.endswith("*") else key == pattern


@cache
def _mention_tables() -> _Mentions:
    """The matching tables, built on first use (and validating the data file)."""
    return _Mentions()


class _Word(NamedTuple):
    """One written word, as ``country_mentions`` sees it (computed once per distinct word)."""

    key: str  # folded
    forms: tuple[str, ...]  # the name words it may stand for (see ``_word``)
    lower: bool  # begins with a lower-case letter
    latin: bool  # begins with a Latin letter
    stem: str | None  # the state a demonym stem at its start refers to
    hyphenated: bool
    code_like: bool  # two or three capitals that may be a code as written
    not_mentions: tuple[tuple[str, ...], ...]  # the not-mentions that may start here
    starts: bool  # whether anything at all can start at this word


@lru_cache(maxsize=65536)
def _word(word: str) -> _Word:
    """Fold one written word and look up everything that can start at it.

    Its forms are the key itself, the key without a possessive "'s", and, for
    a Russian word, each nominative its case ending may replace.
    """
    tables = _mention_tables()
    key = word.lower() if word.isascii() else _key(word)  # the same, for an ASCII word
    forms = [key]
    if key.endswith("'s"):
        forms.append(key[:-2])
    if _CYRILLIC.match(key):
        for cut in range(len(key) - _RU_MIN_STEM + 1):
            if cut == 0 or key[len(key) - cut :] in tables.case_endings:
                for form in tables.ru_stems.get(key[: len(key) - cut], ()):
                    if form not in forms:
                        forms.append(form)
    lower = word[:1].islower()
    latin = bool(_LATIN.match(word))
    stem = tables.stem_code(key)
    hyphenated = "-" in key
    code_like = (
        word.isascii() and word.isupper() and (len(word) == 3 or word in _TWO_LETTER_CODES_IN_PROSE)
    )
    not_mentions = tables.not_mentions_from(key)
    starts = (
        (not lower and any((f,) in tables.name_parts for f in forms))
        or (not (lower and latin) and (key,) in tables.demonym_parts)
        or bool(not_mentions)
        or stem is not None
        or hyphenated
        or code_like
    )
    return _Word(key, tuple(forms), lower, latin, stem, hyphenated, code_like, not_mentions, starts)


def demonym_code(word: str) -> str | None:
    """Return the alpha-3 code of the state a demonym or adjective refers to, or ``None``.

    "Cambodian", "South Korean", "российской" and "Kazakhstani" give KHM, KOR,
    RUS and KAZ. These are kept apart from ``country_code`` on purpose: the
    adjective names people, languages and companies as often as it names the
    state, so only the caller who asks for a reference gets one. Case is
    ignored here; ``country_mentions`` also requires English ones to be capitalised.
    """
    if not isinstance(word, str):
        return None
    tables = _mention_tables()
    key = _key(word)
    code = tables.demonyms.get(tuple(key.split()))
    return code if code is not None else tables.stem_code(key) if " " not in key else None


def country_mentions(text: str) -> dict[str, list[tuple[int, int]]]:
    """Every state the text names or refers to, with the offsets of each.

    For the support check, which must know whether a state is named in the
    article at all (however the model wrote it) and where. A run of words counts
    when it is exactly a name ``country_code`` knows, a Russian name in another
    case ("Республики Казахстан", "Россией"), or a demonym ("Russian President",
    "the Kazakh side", "российской стороны"); each part of a hyphenated word
    counts on its own ("Sino-Russian", "российско-китайских"). Runs of Chinese
    characters are searched by substrings. The longest naming wins where two
    overlap. Names and English demonyms must be capitalised ("turkey" and
    "polish" are ordinary words), and a state inside a phrase such as "Indian
    Ocean" or "New Mexico" is not referred to at all.
    """
    tables = _mention_tables()
    found: dict[str, list[tuple[int, int]]] = {}
    taken: list[tuple[int, int]] = []

    def add(code: str | None, start: int, end: int) -> None:
        if any(s <= start and end <= e for s, e in taken):
            return  # inside a longer naming already found ("Republic of Korea")
        taken.append((start, end))
        if code is not None:  # None: a not-mention, taken so that nothing inside counts
            found.setdefault(code, []).append((start, end))

    words = list(_WORD.finditer(text))
    info = [_word(w.group()) for w in words]
    candidates: list[_Candidate] = []
    for i, word in enumerate(info):
        if not word.starts:
            continue
        if word.not_mentions:
            blocked = tables.blocked(info, i)
            if blocked:
                add(None, words[i].start(), words[i + blocked - 1].end())
        if not word.lower:
            match = _name_at(text, words, info, i, tables)
            if match is not None:
                candidates.append(match)
        if not (word.lower and word.latin):
            match = _demonym_at(text, words, info, i, tables)
            if match is not None:
                candidates.append(match)
        if word.stem is not None:
            candidates.append((1, words[i].start(), words[i].end(), word.stem))
        if word.hyphenated:
            candidates.extend(_hyphen_parts(words[i], tables))
    candidates.sort(key=lambda c: -c[0])
    for _, start, end, code in candidates:
        add(code, start, end)

    for run in _CJK.finditer(text):
        chars = unicodedata.normalize("NFKC", run.group())
        if len(chars) != len(run.group()):
            chars = run.group()
        cjk: list[tuple[int, int, str]] = []
        for i, char in enumerate(chars):
            for phrase in tables.not_mentions_cjk.get(char, ()):
                if chars.startswith(phrase, i):
                    add(None, run.start() + i, run.start() + i + len(phrase))
            for name, code in tables.cjk.get(char, ()):
                if chars.startswith(name, i):
                    cjk.append((len(name), i, code))
        for size, i, code in sorted(cjk, key=lambda c: -c[0]):
            add(code, run.start() + i, run.start() + i + size)
    for spans in found.values():
        spans.sort()
    return found


def _name_at(
    text: str,
    words: list[re.Match[str]],
    info: list[_Word],
    i: int,
    tables: _Mentions,
) -> _Candidate | None:
    """The longest state name starting at word ``i``, as written or with Russian case endings.

    A run as written is checked by ``_code`` on its text (so punctuation inside
    a name, "Korea, Republic of", counts as for ``country_code``); a run that
    needed a case ending replaced must be whitespace-separated words whose
    nominatives join to exactly a name in the table.
    """
    index, not_states = _tables()
    partials: list[tuple[str, ...]] = [()]
    best: _Candidate | None = None
    start = words[i].start()
    for j in range(i, min(i + tables.name_length, len(words))):
        if j > i and "\n" in text[words[j - 1].end() : words[j].start()]:
            break
        partials = [
            (*p, f) for p in partials for f in info[j].forms if (*p, f) in tables.name_parts
        ]
        if not partials:
            break
        end = words[j].end()
        for partial in partials:
            if partial not in tables.names:
                continue
            code = _code(text[start:end])
            if code is None and _spaced(text, words, i, j):
                joined = " ".join(partial)
                code = index.get(joined) if joined not in not_states else None
            if code is not None:
                best = (j - i + 1, start, end, code)
                break
    if best is None and info[i].code_like:
        code = _code(words[i].group())  # a code as written: "US", "MMR"
        if code is not None and not _shouting(text, start):
            best = (1, start, words[i].end(), code)
    return best


# Two-letter codes are common abbreviations in running text ("AI", "TV", "IT",
# "10 AM", "ID card"), so in an article only these are read as a state.
_TWO_LETTER_CODES_IN_PROSE = frozenset({"US"})


def _shouting(text: str, at: int) -> bool:
    """Whether the line around ``at`` is in capitals ("SCO SUMMIT IN ASTANA").

    There every short word looks like a code ("IN", "CAN", "AND"), so codes as
    written are not read; names still are.
    """
    line = text[text.rfind("\n", 0, at) + 1 : (text.find("\n", at) + 1 or len(text) + 1) - 1]
    return len(line.split()) >= 3 and not any(c.islower() for c in line)


def _spaced(text: str, words: list[re.Match[str]], i: int, j: int) -> bool:
    """Whether words ``i`` to ``j`` are separated by spaces only (one line)."""
    return all(
        not text[words[k - 1].end() : words[k].start()].strip(" \t\u00a0")
        for k in range(i + 1, j + 1)
    )


def _demonym_at(
    text: str, words: list[re.Match[str]], info: list[_Word], i: int, tables: _Mentions
) -> _Candidate | None:
    """The longest demonym starting at word ``i`` ("South Korean", "Russian"), as written."""
    best: _Candidate | None = None
    run: tuple[str, ...] = ()
    for j in range(i, min(i + tables.demonym_length, len(words))):
        run = (*run, info[j].key)
        if run not in tables.demonym_parts or (j > i and not _spaced(text, words, j - 1, j)):
            break
        code = tables.demonyms.get(run)
        if code is not None:
            best = (j - i + 1, words[i].start(), words[j].end(), code)
    return best


def _hyphen_parts(word: re.Match[str], tables: _Mentions) -> list[_Candidate]:
    """Each part of a hyphenated word as a word of its own ("Sino-Russian", "US-China").

    Ranked below every whole word, so a hyphenated name ("Timor-Leste",
    "Шри-Ланка") or a name it is part of keeps the whole word.
    """
    index, not_states = _tables()
    found: list[_Candidate] = []
    offset = word.start()
    for part in word.group().split("-"):
        start, end = offset, offset + len(part)
        offset = end + 1
        if not part:
            continue
        w = _word(part)
        code = None
        if not w.lower:
            code = next(
                (index[f] for f in w.forms if (f,) in tables.names and f in index),
                None,
            )
            if code is not None and w.key in not_states:
                code = None
            if code is None and w.code_like:
                code = _code(part)
        if code is None and not (w.lower and w.latin):
            code = tables.demonyms.get((w.key,))
        if code is None:
            code = tables.stem_code(w.key)
        if code is not None:
            found.append((0.5, start, end, code))
    return found
