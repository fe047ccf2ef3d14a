"""Reading vCard files as address books really write them.

Standards: vCard 2.1 (versit, 1996), vCard 3.0 (RFC 2425/2426), vCard 4.0 (RFC 6350) with
RFC 6868 caret escapes in parameter values; quoted-printable per RFC 2045 §6.7.

``vobject`` parses every content line (group, name, parameters with their quoting, value).
This module does what real files need around it:

- the file is split into lines, then into cards on ``BEGIN:VCARD``/``END:VCARD`` lines,
  keeping each card's line number, so that one bad card cannot spoil the others;
- lines are unfolded while still bytes, before decoding, since a fold may split a
  multi-byte UTF-8 character (quoted-printable soft line breaks are joined even though
  the next line is not indented, as vCard 2.1 writers do);
- the file's character set is found after unfolding: a byte-order mark, else UTF-8 if
  the content is valid UTF-8, else (reported) the 8-bit encoding
  ``disarm.detect_encoding`` (chardetng, Firefox's detector) names; in a file that is
  not UTF-8, a line with a ``CHARSET=`` parameter is read in that character set;
- quoted-printable values are decoded here in their ``CHARSET`` (bytes not valid in it
  become U+FFFD, reported, instead of failing the card);
- a line that does not follow the vCard grammar costs only its own property, reported
  with its line;
- binary properties (``PHOTO``, ``LOGO``, ``SOUND``, ``KEY`` and anything base64-encoded)
  are dropped before parsing: the directory imports none of them, and a broken photo must
  not cost a card;
- values are unescaped here rather than by vobject's vCard behaviour, which keeps only the
  first element of any comma-separated value (``FN:Doe, John`` would become ``Doe``) and
  does not report the line numbers of the file it was given.

Why not ``vobject.readComponents`` on the whole file: on the real exports the tests use,
it stops at the first quoted-printable soft line break (Android and Outlook vCard 2.1)
and at the CR CR LF line ends of an iOS export (the blank line cuts its folded photo);
with ``allowQP=True`` it reads those but fails the Android file on its base64 photo; and
any error ends the whole file, not one card. It also leaves ``http\\://`` escapes in
Google's URLs, reads ``NICKNAME:Nick1,Nick2`` as ``Nick1`` and does not decode RFC 6868
carets.
"""

from __future__ import annotations

import codecs
import quopri
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import disarm
from django.utils.translation import gettext as _
from vobject.base import VObjectError, textLineToContentLine

from directory.exceptions import WorldbookError

BINARY_PROPERTIES = frozenset({"PHOTO", "LOGO", "SOUND", "KEY"})

_LINE_BREAK_BYTES = re.compile(rb"\r*\n|\r")
_LINE_BREAK_TEXT = re.compile(r"\r*\n|\r")
_BEGIN = re.compile(r"\s*BEGIN\s*:\s*VCARD\s*", re.IGNORECASE)
_END = re.compile(r"\s*END\s*:\s*VCARD\s*", re.IGNORECASE)
_HEAD_CHARSET = re.compile(rb"^[^:]*?;\s*CHARSET\s*=\s*\"?([A-Za-z0-9_.-]+)", re.IGNORECASE)
_HEAD_QP = re.compile(r";\s*(?:ENCODING\s*=\s*)?QUOTED-PRINTABLE\s*(?=;|$)", re.IGNORECASE)
_HEAD_BASE64 = re.compile(r";\s*(?:ENCODING\s*=\s*(?:B|BASE64)|BASE64)\s*(?=;|$)", re.IGNORECASE)
_HEAD_NAME = re.compile(r"^\s*(?:[A-Za-z0-9_-]+\.)?([A-Za-z0-9_-]+)")
_DROP_ON_QP_DECODE = re.compile(
    r";\s*(?:(?:ENCODING\s*=\s*)?QUOTED-PRINTABLE|CHARSET\s*=\s*\"?[^;:\"]*\"?)\s*(?=;|$)",
    re.IGNORECASE,
)
_CARET = re.compile(r"\^(.)", re.DOTALL)
_CARET_ESCAPES = {"n": "\n", "N": "\n", "'": '"', "^": "^"}
_UNESCAPES = {"n": "\n", "N": "\n", "\\": "\\", ",": ",", ";": ";", ":": ":"}

DEFAULT_QP_CHARSET = "utf-8"
# VERSION values read: vCard 2.1 (versit), 3.0 (RFC 2426 §3.6.9) and 4.0 (RFC 6350 §6.7.9).
KNOWN_VERSIONS = ("2.1", "3.0", "4.0")


class VCardSyntaxError(WorldbookError):
    """A card, or a line in it, cannot be read (or is read with a loss). ``line`` is the
    1-based line in the file; ``lost_card`` says whether a card is lost because of it
    (``False`` for stray text, a line left out, a character set fallback);
    ``lost_line`` whether the line's property is left out of a card otherwise read."""

    slug = "invalid-vcard"
    title = "The vCard cannot be read"

    def __init__(self, reason: str, *, line: int, lost_card: bool = True, lost_line: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.lost_card = lost_card
        self.lost_line = lost_line


@dataclass(frozen=True)
class CardBlock:
    """The content lines of one card, between its ``BEGIN:VCARD`` and ``END:VCARD``.

    ``line`` is the 1-based line number of ``BEGIN:VCARD``; ``lines`` holds
    ``(line_number, text)`` pairs: each content line unfolded, decoded, quoted-printable
    values rewritten as plain text, binary properties left out, numbered by the line it
    starts on. ``problems`` lists the lines whose bytes could not all be decoded;
    ``absorbed`` the ``(line_number, text)`` of lines that look like a property of their
    own but were joined to the value before them by a quoted-printable soft line break.
    """

    line: int
    lines: tuple[tuple[int, str], ...]
    problems: tuple[VCardSyntaxError, ...] = ()
    absorbed: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class VCardFile:
    """A vCard file split into cards.

    ``encoding`` names the character set the file was read in (``utf-8``, ``utf-16``,
    ``cp1252`` …); ``blocks`` are the cards, in file order, not yet parsed; ``problems``
    lists, in line order, what could not be a card (a card with no ``END:VCARD``, text
    outside any card) and the fallback to an 8-bit character set, each with its line.
    """

    encoding: str
    blocks: tuple[CardBlock, ...]
    problems: tuple[VCardSyntaxError, ...]

    @property
    def cards_found(self) -> int:
        """Cards in the file: each ``BEGIN:VCARD`` that opens a card (not an embedded
        vCard 2.1 agent card), whether or not it has its ``END:VCARD``."""
        return len(self.blocks) + sum(1 for problem in self.problems if problem.lost_card)


@dataclass(frozen=True)
class VCardProperty:
    """One property of a card, its value as written (escapes kept, transfer encoding removed).

    ``name`` is upper-case without its group (``TEL``, ``X-JABBER``); ``group`` the group
    name as written (``item1``) or ``""``; ``params`` maps upper-case parameter names to
    their values, RFC 6868 caret escapes decoded and comma lists split; ``types`` lists the
    lower-case ``TYPE`` values, then vCard 2.1's bare parameters (``TEL;CELL;PREF``), in
    the order written, without repeats;
    ``label`` is the ``X-ABLabel`` given to the property's group (Apple, Google), or ``""``;
    ``line`` is the 1-based line in the file where the property starts.
    """

    name: str
    raw: str
    params: dict[str, tuple[str, ...]]
    types: tuple[str, ...]
    group: str
    label: str
    line: int

    @property
    def text(self) -> str:
        """The value as one text (RFC 6350 §3.4 escapes ``\\n \\, \\; \\\\`` decoded)."""
        return unescape(self.raw)

    @property
    def values(self) -> list[str]:
        """The value as a comma-separated list (``NICKNAME:Nick1,Nick2``), unescaped."""
        return [unescape(part) for part in split_unescaped(self.raw, ",")]

    @property
    def components(self) -> list[str]:
        """The components of a structured value (``N:Family;Given;…``), unescaped."""
        return [unescape(part) for part in split_unescaped(self.raw, ";")]

    def param(self, name: str) -> str:
        """The first value of parameter ``name`` (upper-case), or ``""``."""
        values = self.params.get(name.upper(), ())
        return values[0] if values else ""


@dataclass(frozen=True)
class VCard:
    """One parsed card: its ``VERSION`` (``"2.1"``, ``"3.0"``, ``"4.0"`` or ``""``), the
    line of its ``BEGIN:VCARD``, its properties in file order (binary ones dropped) and
    ``problems``, the lines left out or read with a loss, in line order (each
    ``lost_card=False``: the rest of the card is read)."""

    line: int
    version: str
    properties: tuple[VCardProperty, ...] = field(default_factory=tuple)
    problems: tuple[VCardSyntaxError, ...] = field(default_factory=tuple)

    def all(self, name: str) -> list[VCardProperty]:
        """The properties called ``name`` (upper-case, no group), in file order."""
        return [prop for prop in self.properties if prop.name == name]

    def first_text(self, name: str) -> str:
        """The unescaped, stripped text of the first non-empty ``name`` property, or ``""``."""
        for prop in self.all(name):
            text = prop.text.strip()
            if text:
                return text
        return ""


# --------------------------------------------------------------------------------------
# Values


def split_unescaped(raw: str, separator: str) -> list[str]:
    """Split ``raw`` on ``separator`` where it is not backslash-escaped; escapes are kept."""
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for ch in raw:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            current.append(ch)
            escaped = True
        elif ch == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def unescape(raw: str) -> str:
    """Decode vCard text escapes (RFC 6350 §3.4; RFC 2426 §5): ``\\n``, ``\\,``, ``\\;``,
    ``\\\\``, and ``\\:``, which Apple and Google write in URLs (``http\\://…``).
    A backslash before any other character is kept."""
    out: list[str] = []
    chars = iter(raw)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, None)
        if nxt is None:
            out.append("\\")
        elif nxt in _UNESCAPES:
            out.append(_UNESCAPES[nxt])
        else:
            out.append("\\" + nxt)
    return "".join(out)


def decode_param_value(value: str) -> str:
    """Decode RFC 6868 caret escapes: ``^n`` newline, ``^'`` double quote, ``^^`` caret.
    A caret before any other character is kept, as RFC 6868 §3.2 asks."""
    return _CARET.sub(lambda m: _CARET_ESCAPES.get(m.group(1), m.group(0)), value)


# --------------------------------------------------------------------------------------
# Files: lines, cards, unfolding, character set
#
# Lines are split, grouped into cards and unfolded while they are still bytes, and only
# then decoded. Folding (RFC 6350 §3.2, RFC 2425 §5.8.1) counts octets, so a writer may
# fold a line in the middle of a multi-byte UTF-8 character: decoding each physical line
# first would find invalid UTF-8 in a valid file. vobject only takes text, so this work
# happens before it. The byte lines are held as Latin-1 text, which maps each byte to
# the code point of the same number and back: the structure (":", ";", "=", quotes,
# spaces) is ASCII, and no byte of a multi-byte UTF-8 character is ASCII.


def _known_codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _as_bytes(line: str) -> bytes:
    return line.encode("latin-1")


def _strip_bom(data: bytes) -> tuple[str | None, bytes]:
    """A byte-order mark's encoding and the file as bytes unfolding can read (UTF-16 is
    re-encoded as UTF-8: its line breaks and separators are not single bytes)."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8", data[len(codecs.BOM_UTF8) :]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", data.decode("utf-16", errors="replace").encode("utf-8")
    return None, data


def _split_cards(
    lines: list[tuple[int, str]],
) -> tuple[list[tuple[tuple[int, str], ...]], list[VCardSyntaxError]]:
    """Split physical lines into cards, ``BEGIN:VCARD`` to ``END:VCARD`` both included.

    A ``BEGIN:VCARD`` right after an empty ``AGENT:`` property opens an embedded vCard
    2.1 agent card, kept inside its card; any other ``BEGIN:VCARD`` inside a card means
    the card lost its end: it is reported and the new card is read. Text outside cards
    is reported once per run. Line numbers are 1-based.
    """
    cards: list[tuple[tuple[int, str], ...]] = []
    problems: list[VCardSyntaxError] = []
    current: list[tuple[int, str]] | None = None
    depth = 0
    stray_from: int | None = None
    for number, text in lines:
        if current is None:
            if _BEGIN.fullmatch(text):
                if stray_from is not None:
                    problems.append(_stray(stray_from))
                    stray_from = None
                current, depth = [(number, text)], 1
            elif text.strip() and stray_from is None:
                stray_from = number
            continue
        if _BEGIN.fullmatch(text):
            previous = next((t for _, t in reversed(current) if t.strip()), "")
            if re.fullmatch(r"(?i)\s*AGENT[^:]*:\s*", previous):
                depth += 1
            else:
                problems.append(
                    VCardSyntaxError(
                        _("the card has no END:VCARD before the next BEGIN:VCARD; it was not read"),
                        line=current[0][0],
                    )
                )
                current, depth = [(number, text)], 1
                continue
        elif _END.fullmatch(text):
            depth -= 1
            if depth == 0:
                current.append((number, text))
                cards.append(tuple(current))
                current = None
                continue
        current.append((number, text))
    if current is not None:
        problems.append(
            VCardSyntaxError(
                _("the card has no END:VCARD before the end of the file; it was not read"),
                line=current[0][0],
            )
        )
    if stray_from is not None:
        problems.append(_stray(stray_from))
    return cards, problems


def _stray(line: int) -> VCardSyntaxError:
    return VCardSyntaxError(
        _("text outside BEGIN:VCARD … END:VCARD was ignored"), line=line, lost_card=False
    )


def _first_invalid_utf8(lines: Iterable[tuple[int, str]]) -> int | None:
    for number, text in lines:
        try:
            _as_bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            return number
    return None


def _legacy_encoding(lines: list[tuple[int, str]]) -> str:
    """The 8-bit character set chardetng (Firefox's detector) names for the unfolded
    content, windows-1252 when it names none or a Unicode encoding."""
    detected, _confidence = disarm.detect_encoding(b"\n".join(_as_bytes(t) for _, t in lines))
    encoding = _known_codec(detected or "")
    if encoding is None or encoding.startswith("utf"):
        return "cp1252"
    return encoding


def _decode_value(data: bytes, charset: str, line: int) -> tuple[str, VCardSyntaxError | None]:
    try:
        return data.decode(charset), None
    except UnicodeDecodeError:
        return data.decode(charset, errors="replace"), VCardSyntaxError(
            _("bytes that are not %(charset)s were replaced by U+FFFD") % {"charset": charset},
            line=line,
            lost_card=False,
        )


def _decode_line(
    number: int, text: str, encoding: str, legacy: bool
) -> tuple[str, VCardSyntaxError | None]:
    """Decode one unfolded content line (bytes held as Latin-1) in ``encoding``.

    In a file that is not UTF-8 (``legacy``), a line with a ``CHARSET=`` parameter is read
    in that character set when its bytes are valid in it (vCard 2.1). A valid UTF-8 file
    is read as UTF-8 whatever a line declares: a label that disagrees with valid UTF-8
    bytes is the label's mistake far more often than not.
    """
    if _is_quoted_printable(text):
        return _decode_quoted_printable(number, text, encoding if legacy else None)
    raw = _as_bytes(text)
    if raw.isascii():
        return text, None
    declared = _HEAD_CHARSET.match(raw) if legacy else None
    if declared:
        charset = _known_codec(declared.group(1).decode("ascii"))
        if charset:
            try:
                return raw.decode(charset), None
            except UnicodeDecodeError:
                pass
    return _decode_value(raw, encoding, number)


def read_vcard_file(data: bytes) -> VCardFile:
    """Read a vCard file into cards of unfolded, decoded content lines.

    Input: the file's bytes. Output: a :class:`VCardFile`. Never raises: what cannot be
    read is in its ``problems`` (the file's) and in each block's ``problems`` (a line's).

    Line breaks may be CRLF, LF, CR or the CR CR LF some iPhone exports hold. The file
    is split into cards (so that one bad card cannot spoil the others) and unfolded
    (:func:`_logical_lines`) as bytes; binary properties are dropped. Then the character
    set: a UTF-8 or UTF-16 byte-order mark decides it; otherwise the file is UTF-8 when
    its unfolded content is valid UTF-8, and only when it is not, the 8-bit character
    set chardetng detects (windows-1252 when it cannot tell), with each ``CHARSET=``
    line read in its own: that fallback is reported at the first line that is not
    UTF-8. Bytes invalid in the character set chosen become U+FFFD, reported per line.
    """
    bom, data = _strip_bom(data)
    physical = [
        (number, line.decode("latin-1"))
        for number, line in enumerate(_LINE_BREAK_BYTES.split(data), start=1)
    ]
    raw_cards, problems = _split_cards(physical)
    unfolded = []
    for card_lines in raw_cards:
        content, absorbed = _logical_lines(card_lines[1:-1])
        content = [(n, t) for n, t in content if not _is_binary((_split_head(t) or (t, ""))[0])]
        unfolded.append((card_lines[0][0], content, absorbed))
    all_content = [line for _, content, _ in unfolded for line in content]
    invalid_at = _first_invalid_utf8(all_content)
    encoding, legacy = "utf-8", False
    if bom == "utf-16":
        encoding = "utf-16"
    elif invalid_at is not None and bom is None:
        encoding, legacy = _legacy_encoding(all_content), True
        problems.append(
            VCardSyntaxError(
                _(
                    "the file is not valid UTF-8 (this is its first line that is not); "
                    "it was read as %(encoding)s"
                )
                % {"encoding": encoding},
                line=invalid_at,
                lost_card=False,
            )
        )
    blocks = []
    for begin, content, absorbed in unfolded:
        decoded, line_problems = [], []
        for number, text in content:
            line, problem = _decode_line(number, text, "utf-8" if not legacy else encoding, legacy)
            decoded.append((number, line))
            if problem is not None:
                line_problems.append(problem)
        blocks.append(
            CardBlock(
                line=begin,
                lines=tuple(decoded),
                problems=tuple(line_problems),
                absorbed=tuple(
                    (n, _as_bytes(t).decode("utf-8" if not legacy else encoding, "replace"))
                    for n, t in absorbed
                ),
            )
        )
    problems.sort(key=lambda problem: problem.line)
    return VCardFile(encoding=encoding, blocks=tuple(blocks), problems=tuple(problems))


# --------------------------------------------------------------------------------------
# Cards


def _split_head(line: str) -> tuple[str, str] | None:
    """Split a content line at the first colon outside double quotes (RFC 6350 §3.3)."""
    quoted = False
    for index, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            return line[:index], line[index + 1 :]
    return None


def _is_quoted_printable(line: str) -> bool:
    parts = _split_head(line)
    return parts is not None and bool(_HEAD_QP.search(parts[0]))


def _logical_lines(
    lines: Iterable[tuple[int, str]],
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Unfold physical lines into content lines, each with the line it starts on.

    Works on bytes held as Latin-1 text (see above), before any decoding. Folding
    (RFC 6350 §3.2): a line starting with a space or tab continues the previous one, less
    that one character. Quoted-printable soft line breaks (RFC 2045 §6.7 rule 5): a QP
    value ending in ``=`` continues on the next line as written, indented or not.
    Base64 values of vCard 2.1 run until a blank line; some writers do not indent their
    lines, so a line without a colon after a base64 property continues it.
    Blank lines are dropped.

    Output: ``(content_lines, absorbed)``; ``absorbed`` lists the unindented lines a
    soft line break joined to the value before them although they look like a property
    of their own (``TEL;CELL:…``), for callers that want to say so.
    """
    out: list[tuple[int, str]] = []
    absorbed: list[tuple[int, str]] = []
    soft_break = False
    in_base64 = False
    for number, text in lines:
        if soft_break:
            start, previous = out[-1]
            out[-1] = (start, previous[:-1] + text)
            if _HEAD_NAME.match(text) and _split_head(text) is not None:
                absorbed.append((number, text))
            soft_break = out[-1][1].endswith("=") and bool(text)
            continue
        if not text.strip():
            in_base64 = False
            continue
        # Base64 holds no ':', so within a binary value a line with one (indented or
        # not) starts the next property: a broken PHOTO does not swallow the TEL after it.
        starts_property = in_base64 and _split_head(text.lstrip()) is not None
        if starts_property:
            text = text.lstrip()
        if out and not starts_property and (text[0] in " \t" or in_base64):
            start, previous = out[-1]
            out[-1] = (start, previous + (text[1:] if text[0] in " \t" else text))
        else:
            out.append((number, text))
            head = _split_head(text)
            in_base64 = head is not None and _is_binary(head[0])
        soft_break = out[-1][1].endswith("=") and _is_quoted_printable(out[-1][1])
    return out, absorbed


def _decode_quoted_printable(
    number: int, line: str, fallback: str | None
) -> tuple[str, VCardSyntaxError | None]:
    """Rewrite a quoted-printable content line (bytes held as Latin-1) as a plain one.

    The decoded bytes are read in the line's ``CHARSET``; without one, as UTF-8 (what
    Android and others mean) when they are valid UTF-8, else in ``fallback`` (the file's
    8-bit character set) or windows-1252 (Outlook's), which is reported. Line breaks and
    backslashes in the decoded text are escaped so the value reads back exactly
    (RFC 6350 §3.4).
    """
    head, value = _split_head(line) or (line, "")
    charset_match = re.search(r";\s*CHARSET\s*=\s*\"?([^;:\"]+)", head, re.IGNORECASE)
    charset = _known_codec(charset_match.group(1).strip()) if charset_match else None
    data = quopri.decodestring(_as_bytes(value))
    problem = None
    if charset:
        decoded, problem = _decode_value(data, charset, number)
    else:
        try:
            decoded = data.decode(DEFAULT_QP_CHARSET)
        except UnicodeDecodeError:
            charset = fallback or "cp1252"
            decoded, problem = _decode_value(data, charset, number)
            problem = problem or VCardSyntaxError(
                _(
                    "the quoted-printable value has no CHARSET and is not UTF-8; "
                    "it was read as %(charset)s"
                )
                % {"charset": charset},
                line=number,
                lost_card=False,
            )
    decoded = decoded.replace("\\", "\\\\")
    decoded = _LINE_BREAK_TEXT.sub("\\\\n", decoded)
    head = _as_bytes(head).decode(fallback or "utf-8", errors="replace")
    return _DROP_ON_QP_DECODE.sub("", head) + ":" + decoded, problem


def _is_binary(head: str) -> bool:
    name = _HEAD_NAME.match(head)
    return bool((name and name.group(1).upper() in BINARY_PROPERTIES) or _HEAD_BASE64.search(head))


def parse_card(block: CardBlock) -> VCard:
    """Parse one card.

    Input: a :class:`CardBlock` from :func:`read_vcard_file`. Output: a :class:`VCard`.
    A content line that does not follow the vCard grammar (RFC 6350 §3.3: no ``:``
    between name and value, a broken parameter) costs only its own property: it is left
    out and listed, with its line, in ``VCard.problems`` beside the block's own. Raises
    :class:`VCardSyntaxError` (at the ``VERSION`` line) only when ``VERSION`` names a
    version other than 2.1, 3.0 and 4.0 (a card without ``VERSION`` is read): the card is
    then not read at all, since nothing of it can be read with confidence.
    """
    parsed = []
    problems = list(block.problems)
    for number, text in block.lines:
        if _split_head(text) is None:
            problems.append(
                VCardSyntaxError(
                    _(
                        "line has no ':' between property name and value: %(text)s; "
                        "only this line was left out"
                    )
                    % {"text": repr(text[:60])},
                    line=number,
                    lost_card=False,
                    lost_line=True,
                )
            )
            continue
        try:
            parsed.append((number, textLineToContentLine(text, number)))
        except VObjectError:
            problems.append(
                VCardSyntaxError(
                    _(
                        "line does not follow the vCard grammar: %(text)s; "
                        "only this line was left out"
                    )
                    % {"text": repr(text[:60])},
                    line=number,
                    lost_card=False,
                    lost_line=True,
                )
            )
    labels = {
        (line.group or "").lower(): unescape(line.value).strip()
        for _, line in parsed
        if line.name == "X-ABLABEL" and line.group
    }
    version = ""
    properties = []
    for number, line in parsed:
        if line.name == "VERSION":
            version = line.value.strip()
            if version not in KNOWN_VERSIONS:
                raise VCardSyntaxError(
                    _("VERSION %(version)s is not a vCard version this import reads (%(known)s)")
                    % {"version": repr(version), "known": ", ".join(KNOWN_VERSIONS)},
                    line=number,
                )
            continue
        params: dict[str, tuple[str, ...]] = {}
        for key, values in line.params.items():
            split = [
                decode_param_value(part).strip()
                for value in values
                for part in (value.split(",") if key.upper() == "TYPE" else [value])
            ]
            params[key.upper()] = tuple(v for v in split if v)
        types = tuple(
            dict.fromkeys(
                [t.lower() for t in params.get("TYPE", ())]
                + [decode_param_value(p).strip().lower() for p in line.singletonparams]
            )
        )
        group = line.group or ""
        properties.append(
            VCardProperty(
                name=line.name.upper(),
                raw=line.value,
                params=params,
                types=types,
                group=group,
                label=labels.get(group.lower(), "") if group else "",
                line=number,
            )
        )
    problems.sort(key=lambda problem: problem.line)
    return VCard(
        line=block.line,
        version=version,
        properties=tuple(properties),
        problems=tuple(problems),
    )
