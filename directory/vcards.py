"""Reading vCard files as address books really write them.

Standards: vCard 2.1 (versit, 1996), vCard 3.0 (RFC 2425/2426), vCard 4.0 (RFC 6350) with
RFC 6868 caret escapes in parameter values; quoted-printable per RFC 2045 §6.7.

``vobject`` parses every content line (group, name, parameters with their quoting, value).
This module does what real files need around it:

- the file's character set is found per file: a byte-order mark, else UTF-8 if the bytes
  are valid UTF-8, else the encoding ``disarm.detect_encoding`` (chardetng, Firefox's
  detector) names; in a file that is not UTF-8, a line with a ``CHARSET=`` parameter is
  read in that character set;
- the file is split into cards on ``BEGIN:VCARD``/``END:VCARD`` lines first, keeping each
  card's line number, so that one bad card cannot spoil the others;
- lines are unfolded here, quoted-printable values are decoded here (soft line breaks are
  joined even though the next line is not indented, as vCard 2.1 writers do; bytes that
  are not valid in the declared ``CHARSET`` become U+FFFD instead of failing the card);
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
    """A card, or a line in it, cannot be read. ``line`` is the 1-based line in the file;
    ``lost_card`` says whether a card is lost because of it (``False`` for stray text)."""

    slug = "invalid-vcard"
    title = "The vCard cannot be read"

    def __init__(self, reason: str, *, line: int, lost_card: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.lost_card = lost_card


@dataclass(frozen=True)
class CardBlock:
    """The lines of one card as found in the file, ``BEGIN:VCARD`` to ``END:VCARD``.

    ``line`` is the 1-based line number of ``BEGIN:VCARD``; ``lines`` holds
    ``(line_number, text)`` pairs, line breaks removed.
    """

    line: int
    lines: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class VCardFile:
    """A vCard file split into cards.

    ``encoding`` names the character set the file was read in (``utf-8``,
    ``windows-1252`` …); ``blocks`` are the cards, in file order, not yet parsed;
    ``problems`` lists what could not be a card (a card with no ``END:VCARD``, text outside
    any card), each with its line.
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
    line of its ``BEGIN:VCARD`` and its properties in file order (binary ones dropped)."""

    line: int
    version: str
    properties: tuple[VCardProperty, ...] = field(default_factory=tuple)

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
# Files: character set, lines, cards


def _known_codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_lines(data: bytes) -> tuple[str, list[str]]:
    """Decode a vCard file into its lines.

    Input: the file's bytes. Output: ``(encoding, lines)``, line breaks (CRLF, LF, CR and
    the CR CR LF some iPhone exports hold) removed, one entry per physical line. A UTF-8
    or UTF-16 byte-order mark decides the encoding and is dropped; otherwise valid UTF-8
    is read as UTF-8, and anything else in the encoding chardetng detects (windows-1252
    when it cannot tell), with each ``CHARSET=``-labelled line read in its own character
    set. Undecodable bytes become U+FFFD; this function never raises.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8", _LINE_BREAK_TEXT.split(data[3:].decode("utf-8", errors="replace"))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", _LINE_BREAK_TEXT.split(data.decode("utf-16", errors="replace"))
    try:
        return "utf-8", _LINE_BREAK_TEXT.split(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    detected, _confidence = disarm.detect_encoding(data)
    encoding = _known_codec(detected or "") or "cp1252"
    if encoding.startswith("utf-16"):
        return encoding, _LINE_BREAK_TEXT.split(data.decode(encoding, errors="replace"))
    lines: list[str] = []
    for raw_line in _LINE_BREAK_BYTES.split(data):
        lines.append(_decode_legacy_line(raw_line, encoding))
    return encoding, lines


def _decode_legacy_line(raw_line: bytes, encoding: str) -> str:
    if raw_line.isascii():
        return raw_line.decode("ascii")
    declared = _HEAD_CHARSET.match(raw_line)
    head = raw_line.split(b":", 1)[0].decode("ascii", errors="replace")
    if declared and not _HEAD_QP.search(head):
        charset = _known_codec(declared.group(1).decode("ascii"))
        if charset:
            try:
                return raw_line.decode(charset)
            except UnicodeDecodeError:
                pass
    return raw_line.decode(encoding, errors="replace")


def split_cards(lines: list[str]) -> tuple[list[CardBlock], list[VCardSyntaxError]]:
    """Split decoded lines into cards.

    A card runs from a ``BEGIN:VCARD`` line to its ``END:VCARD``. A ``BEGIN:VCARD`` right
    after an empty ``AGENT:`` property opens an embedded vCard 2.1 agent card, kept inside
    its card; any other ``BEGIN:VCARD`` inside a card means the card lost its end: it is
    reported and the new card is read. Text outside cards is reported once per run.
    Output: ``(blocks, problems)``; line numbers are 1-based.
    """
    blocks: list[CardBlock] = []
    problems: list[VCardSyntaxError] = []
    current: list[tuple[int, str]] | None = None
    depth = 0
    stray_from: int | None = None
    for number, text in enumerate(lines, start=1):
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
                        "the card has no END:VCARD before the next BEGIN:VCARD; it was not read",
                        line=current[0][0],
                    )
                )
                current, depth = [(number, text)], 1
                continue
        elif _END.fullmatch(text):
            depth -= 1
            if depth == 0:
                current.append((number, text))
                blocks.append(CardBlock(line=current[0][0], lines=tuple(current)))
                current = None
                continue
        current.append((number, text))
    if current is not None:
        problems.append(
            VCardSyntaxError(
                "the card has no END:VCARD before the end of the file; it was not read",
                line=current[0][0],
            )
        )
    if stray_from is not None:
        problems.append(_stray(stray_from))
    return blocks, problems


def _stray(line: int) -> VCardSyntaxError:
    return VCardSyntaxError(
        "text outside BEGIN:VCARD … END:VCARD was ignored", line=line, lost_card=False
    )


def read_vcard_file(data: bytes) -> VCardFile:
    """Decode a vCard file and split it into cards (see :func:`decode_lines` and
    :func:`split_cards`). Never raises: what cannot be read is in ``problems``."""
    encoding, lines = decode_lines(data)
    blocks, problems = split_cards(lines)
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


def _logical_lines(lines: Iterable[tuple[int, str]]) -> list[tuple[int, str]]:
    """Unfold physical lines into content lines, each with the line it starts on.

    Folding (RFC 6350 §3.2): a line starting with a space or tab continues the previous
    one, less that one character. Quoted-printable soft line breaks (RFC 2045 §6.7 rule 5):
    a QP value ending in ``=`` continues on the next line as written, indented or not.
    Base64 values of vCard 2.1 run until a blank line; some writers do not indent their
    lines, so a line without a colon after a base64 property continues it.
    Blank lines are dropped.
    """
    out: list[tuple[int, str]] = []
    soft_break = False
    in_base64 = False
    for number, text in lines:
        if soft_break:
            start, previous = out[-1]
            out[-1] = (start, previous[:-1] + text)
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
    return out


def _decode_quoted_printable(line: str) -> str:
    """Rewrite a quoted-printable content line as a plain one.

    The bytes are decoded in the line's ``CHARSET`` (UTF-8 when none is given, as
    Android and others mean), invalid bytes replaced; line breaks and backslashes in the
    decoded text are escaped so the value reads back exactly (RFC 6350 §3.4).
    """
    head, value = _split_head(line) or (line, "")
    charset_match = re.search(r";\s*CHARSET\s*=\s*\"?([^;:\"]+)", head, re.IGNORECASE)
    charset = _known_codec(charset_match.group(1).strip()) if charset_match else None
    decoded = quopri.decodestring(value.encode("utf-8")).decode(
        charset or DEFAULT_QP_CHARSET, errors="replace"
    )
    decoded = decoded.replace("\\", "\\\\")
    decoded = _LINE_BREAK_TEXT.sub("\\\\n", decoded)
    return _DROP_ON_QP_DECODE.sub("", head) + ":" + decoded


def _is_binary(head: str) -> bool:
    name = _HEAD_NAME.match(head)
    return bool((name and name.group(1).upper() in BINARY_PROPERTIES) or _HEAD_BASE64.search(head))


def parse_card(block: CardBlock) -> VCard:
    """Parse one card.

    Input: a :class:`CardBlock` from :func:`read_vcard_file`. Output: a :class:`VCard`.
    Raises :class:`VCardSyntaxError` (with the line of the bad line) when a content line
    does not follow the vCard grammar (RFC 6350 §3.3), or when ``VERSION`` names a version
    other than 2.1, 3.0 and 4.0 (a card without ``VERSION`` is read); the card is then not
    read at all, so nothing of it is imported half-read.
    """
    content_lines = _logical_lines(block.lines[1:-1])
    parsed = []
    for number, text in content_lines:
        parts = _split_head(text)
        if parts is None:
            raise VCardSyntaxError(
                f"line has no ':' between property name and value: {text[:60]!r}", line=number
            )
        head = parts[0]
        if _is_binary(head):
            continue
        if _HEAD_QP.search(head):
            text = _decode_quoted_printable(text)
        try:
            parsed.append((number, textLineToContentLine(text, number)))
        except VObjectError as exc:
            raise VCardSyntaxError(
                f"line does not follow the vCard grammar: {text[:60]!r}", line=number
            ) from exc
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
                    f"VERSION {version!r} is not a vCard version this import reads "
                    f"({', '.join(KNOWN_VERSIONS)})",
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
    return VCard(line=block.line, version=version, properties=tuple(properties))
