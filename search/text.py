"""How search reads text: folding, words, query parsing, matching and highlighting.

The same rules apply to what is indexed and to what is searched, so the database backend's
SQL, the highlighting on the results page and the tests all agree on what "matches" means.

Folding: compatibility decomposition (NFKD, Unicode Standard Annex #15), nonspacing marks
(General_Category ``Mn``) removed, then full case folding (Unicode Standard §3.13, "default
caseless matching"). "José" and "JOSE" both fold to ``jose``, "Straße" to ``strasse``;
letters of other scripts (Cyrillic, Han, kana, Hangul…) are kept.

Words: maximal runs of letters, marks and digits (``\\p{L}\\p{M}\\p{N}``); everything else
separates them. Scripts written without spaces between words (Han, Hiragana, Katakana,
Hangul) also index every suffix of a run, so "小明" finds "王小明".

Matching a query word ``q`` against an indexed word ``w``, best first: ``w == q`` (exact),
``w`` starts with ``q`` (prefix; ``q`` of two letters or more, or one Han/kana/Hangul
character), one edit apart (typo: ``q`` of five letters or more and a Damerau–Levenshtein
distance of 1 — one insertion, deletion, substitution or transposition of adjacent letters),
two edits apart (``q`` of nine letters or more). These are Meilisearch's default typo
tolerance thresholds (``minWordSizeForTypos``: ``oneTypo`` 5, ``twoTypos`` 9).
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

import regex
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from rapidfuzz.distance import DamerauLevenshtein

from directory.exceptions import WorldbookError
from directory.normalization import clean_display

# Match classes, best (lowest) first. A multi-word query scores the sum of its words' classes.
RANK_HANDLE = 0  # the whole query is the directory handle
RANK_VERIFIED_HANDLE = 1  # the whole query is a verified external handle
RANK_EXACT = 2  # a query word equals an indexed word
RANK_PREFIX = 3  # an indexed word (or the directory handle) starts with the query word
RANK_TYPO = 4  # an indexed word is one edit away from the query word
RANK_TYPO2 = 5  # an indexed word is two edits away from the query word

TYPO_MIN_LENGTH = 5
TYPO2_MIN_LENGTH = 9
PREFIX_MIN_LENGTH = 2
# Longer words are cut to this length, alike when indexed and when searched.
WORD_MAX_LENGTH = 64
# Suffixes indexed per run of a space-less script; names are far shorter.
SUFFIXES_MAX = 12
# Runs of digits this long are phone numbers far more often than names: never indexed, so
# the search is never a reverse number lookup.
DIGITS_MAX = 6
QUERY_MAX_LENGTH = 200
QUERY_MAX_WORDS = 8

_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")
_NONSPACING = regex.compile(r"\p{Mn}+")
_SPACELESS = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]")


@functools.lru_cache(maxsize=65536)
def fold_char(ch: str) -> str:
    """Fold one character (see the module docstring); may return "" or several characters.
    Cached: names use a few thousand distinct characters, and indexing folds millions."""
    text = unicodedata.normalize("NFKD", ch).casefold()
    return _NONSPACING.sub("", unicodedata.normalize("NFKD", text))


def fold(text: str) -> str:
    """Return ``text`` folded: NFKD, nonspacing marks removed, case-folded.

    Folding works character by character (decomposition and case folding have no context
    here), so ``fold(a + b) == fold(a) + fold(b)``; :func:`highlight` relies on that.
    """
    return "".join(fold_char(ch) for ch in text)


def _folded_with_origins(text: str) -> tuple[str, list[int]]:
    """``fold(text)`` and, for each folded character, the index of the source character."""
    parts: list[str] = []
    origins: list[int] = []
    for index, ch in enumerate(text):
        folded = fold_char(ch)
        parts.append(folded)
        origins.extend([index] * len(folded))
    return "".join(parts), origins


def _is_spaceless(word: str) -> bool:
    return bool(_SPACELESS.search(word))


def _word_runs(folded: str) -> list[tuple[int, str]]:
    """``(start, run)`` for each run of letters, marks and digits in folded text."""
    return [(m.start(), m.group()) for m in _WORD.finditer(folded)]


def _words_of_run(run: str) -> list[tuple[int, str]]:
    """The indexed words a run yields, each with its offset in the run."""
    if _is_spaceless(run):
        return [(i, run[i:][:WORD_MAX_LENGTH]) for i in range(min(len(run), SUFFIXES_MAX))]
    return [(0, run[:WORD_MAX_LENGTH])]


def index_words(text: str) -> list[str]:
    """The words under which ``text`` is found, folded, in order, without repeats.

    Input: any display string (nickname, handle, external handle). Output: e.g.
    ``index_words("José Núñez-Ortiz")`` is ``["jose", "nunez", "ortiz"]``. Digit runs longer
    than ``DIGITS_MAX`` are left out.
    """
    seen: dict[str, None] = {}
    for _, run in _word_runs(fold(text)):
        if run.isdigit() and len(run) > DIGITS_MAX:
            continue
        for _, word in _words_of_run(run):
            seen.setdefault(word, None)
    return list(seen)


def handle_name(canonical: str) -> str:
    """The part of an external handle that names its holder.

    ``alice`` for ``alice@mastodon.social`` (and email, XMPP, SIP addresses),
    ``@alice:matrix.org``, ``alice.bsky.social``, ``www.alice.dev`` and
    ``https://alice.dev/about``; a username (``ada-l``, ``live:ada.l``) is returned whole.
    Only this part is indexed word by word: a search for a server's name (``mastodon``)
    must not list everyone on that server. The whole handle is still found as typed.
    """
    value = canonical
    if "://" in value:
        value = urlsplit(value).hostname or ""
    if value.startswith("@") and ":" in value:
        return value[1:].split(":", 1)[0]
    if "@" in value:
        return value.split("@", 1)[0]
    labels = [label for label in value.split(".") if label and label != "www"]
    return labels[0] if len(labels) > 1 and ":" not in value else value


def deletions(word: str) -> set[str]:
    """The one-deletion variants of ``word`` (SymSpell symmetric deletion, distance 1).

    Two words are at most one insertion, deletion, substitution or adjacent transposition
    apart only if one equals the other or a variant of it, or both share a variant; the
    converse does not hold, so candidates found this way are confirmed with a real
    Damerau–Levenshtein distance (:func:`is_one_typo`). Empty for words shorter than
    ``TYPO_MIN_LENGTH``.
    """
    if len(word) < TYPO_MIN_LENGTH:
        return set()
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def is_one_typo(query_word: str, word: str) -> bool:
    """True when ``word`` is exactly one Damerau–Levenshtein edit from ``query_word`` and the
    query word is long enough (``TYPO_MIN_LENGTH`` letters) to forgive a typo."""
    if len(query_word) < TYPO_MIN_LENGTH or query_word == word:
        return False
    return DamerauLevenshtein.distance(query_word, word, score_cutoff=1) == 1


def typo_budget(query_word: str) -> int:
    """How many typos a query word forgives: 0 below ``TYPO_MIN_LENGTH`` characters, 1 below
    ``TYPO2_MIN_LENGTH``, 2 from there on (Meilisearch's ``minWordSizeForTypos`` defaults)."""
    if len(query_word) >= TYPO2_MIN_LENGTH:
        return 2
    return 1 if len(query_word) >= TYPO_MIN_LENGTH else 0


def typo_distance(query_word: str, word: str) -> int | None:
    """The Damerau–Levenshtein distance from ``query_word`` to
    ``word`` (transpositions of adjacent letters count as one edit) when it is 1 or 2 and
    within :func:`typo_budget`; ``None`` otherwise."""
    budget = typo_budget(query_word)
    if not budget or query_word == word:
        return None
    distance = DamerauLevenshtein.distance(query_word, word, score_cutoff=budget)
    return distance if distance <= budget else None


def prefix_allowed(query_word: str) -> bool:
    """Whether ``query_word`` may match as a prefix: two letters or more, or one character of
    a script where one character is already a syllable or a word (Han, kana, Hangul)."""
    return len(query_word) >= PREFIX_MIN_LENGTH or _is_spaceless(query_word)


def word_rank(query_word: str, word: str, *, prefix: bool = True) -> int | None:
    """How ``word`` (indexed, folded) matches ``query_word`` (folded): ``RANK_EXACT``,
    ``RANK_PREFIX`` (only when ``prefix``: the query word is :attr:`ParsedQuery.prefix`),
    ``RANK_TYPO``, ``RANK_TYPO2`` or ``None``."""
    if word == query_word:
        return RANK_EXACT
    if prefix and prefix_allowed(query_word) and word.startswith(query_word):
        return RANK_PREFIX
    distance = typo_distance(query_word, word)
    if distance == 1:
        return RANK_TYPO
    if distance == 2:
        return RANK_TYPO2
    return None


@dataclass(frozen=True)
class ParsedQuery:
    """A search query as the backends read it.

    ``whole``: the folded query as one string, and without a leading ``@``, to compare with
    whole handles (``"@Alice"`` gives ``("@alice", "alice")``). ``words``: its folded words,
    in order, without repeats; every one must match (AND). ``prefix``: the word that may
    also match as the start of a longer word — the last one typed, as in Meilisearch
    ("prefix search is only performed on the last word in a search query"), when
    :func:`prefix_allowed`; ``None`` otherwise. Earlier words match whole or with typos.
    """

    whole: tuple[str, ...]
    words: tuple[str, ...]
    prefix: str | None = None

    @property
    def is_empty(self) -> bool:
        return not self.words and not any(self.whole)


def parse_query(raw: str) -> ParsedQuery:
    """Read a search query typed by a person.

    Input: free text such as ``"José Núñez"``, ``"@alice"`` or ``"alice@mastodon.social"``.
    Output: :class:`ParsedQuery` (empty for blank input). Invisible characters are dropped
    first (:func:`directory.normalization.clean_display`). Raises :class:`WorldbookError`
    (HTTP 400) for a query longer than ``QUERY_MAX_LENGTH`` characters or with more than
    ``QUERY_MAX_WORDS`` words.
    """
    if len(raw) > QUERY_MAX_LENGTH * 4:
        raise WorldbookError(f"Search for at most {QUERY_MAX_LENGTH} characters.")
    text = clean_display(raw)
    if len(text) > QUERY_MAX_LENGTH:
        raise WorldbookError(f"Search for at most {QUERY_MAX_LENGTH} characters.")
    folded = fold(text).strip()
    words: dict[str, None] = {}
    last = None
    for _, run in _word_runs(folded):
        last = run[:WORD_MAX_LENGTH]
        words.setdefault(last, None)
    if len(words) > QUERY_MAX_WORDS:
        raise WorldbookError(f"Search for at most {QUERY_MAX_WORDS} words.")
    whole = [folded] if folded else []
    if folded.startswith("@") and len(folded) > 1:
        whole.append(folded[1:])
    prefix = last if last is not None and prefix_allowed(last) else None
    return ParsedQuery(whole=tuple(whole), words=tuple(words), prefix=prefix)


def _marked_spans(text: str, query: ParsedQuery, *, whole: bool) -> list[tuple[int, int]]:
    """Spans of ``text`` (source indices, end exclusive) that match ``query``."""
    folded, origins = _folded_with_origins(text)
    if not folded:
        return []
    folded_spans: list[tuple[int, int]] = []
    if whole:
        # Handles are shown with or without a leading "@" (``@alice@host``); either way the
        # query may start the handle.
        starts = (0, 1) if folded.startswith("@") else (0,)
        for key in query.whole:
            for start in starts:
                if len(key) >= PREFIX_MIN_LENGTH and folded.startswith(key, start):
                    folded_spans.append((start, start + len(key)))
    for start, run in _word_runs(folded):
        for offset, word in _words_of_run(run):
            for query_word in query.words:
                rank = word_rank(query_word, word, prefix=query_word == query.prefix)
                begin = start + offset
                if rank in (RANK_EXACT, RANK_PREFIX):
                    folded_spans.append((begin, begin + len(query_word)))
                elif rank in (RANK_TYPO, RANK_TYPO2):
                    folded_spans.append((begin, begin + len(word)))
    spans: list[tuple[int, int]] = []
    for begin, end in sorted(folded_spans):
        source_begin = origins[begin]
        # The span ends after the source character that gave its last folded character,
        # together with any marks that folded away after it.
        source_end = origins[end - 1] + 1
        while source_end < len(text) and not fold_char(text[source_end]):
            source_end += 1
        if spans and source_begin <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], source_end))
        else:
            spans.append((source_begin, source_end))
    return spans


def highlight(text: str, query: ParsedQuery, *, whole: bool = False) -> SafeString:
    """Return ``text`` as HTML, escaped, with the parts that match ``query`` in ``<mark>``.

    Inputs: the display string as stored (nickname, handle…); the parsed query; ``whole``
    also marks a handle the whole query starts (``"@ali"`` in ``alice``). Output: a
    :class:`SafeString`; every character of ``text`` passes through
    :func:`django.utils.html.escape`, so nothing in it can become markup.
    """
    pieces: list[str] = []
    cursor = 0
    for begin, end in _marked_spans(text, query, whole=whole):
        pieces.append(escape(text[cursor:begin]))
        pieces.append(f"<mark>{escape(text[begin:end])}</mark>")
        cursor = end
    pieces.append(escape(text[cursor:]))
    return mark_safe("".join(pieces))
