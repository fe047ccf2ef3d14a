"""One normalization module for every identifier Worldbook stores or compares.

Standards followed:

- phone numbers: libphonenumber (``phonenumbers``) to E.164 (ITU-T E.164); the extension is
  kept apart because E.164 has none; ``tel:`` URIs per RFC 3966;
- domain names: IDNA 2008 with UTS #46 mapping (``idna``), stored as the lower-case A-label;
- email addresses: RFC 5321/6531, local part kept as given, compared case-insensitively;
- fediverse accounts: ``acct:`` URIs (RFC 7565) resolved through WebFinger (RFC 7033);
- Matrix user IDs (Matrix spec, "Identifier Grammar"): the server name is a host and
  compares case-insensitively, the local part is case-sensitive;
- AT Protocol handles (atproto "Handle" spec): a lower-case hostname; reserved TLDs refused;
- hosts of domain, web, email, fediverse, Matrix and AT Protocol handles: a domain name,
  never an IP address nor a name that "ends in a number" (WHATWG URL Standard), which a
  browser reads as an IPv4 address;
- display strings: NFKC, default-ignorable code points removed; confusable skeletons per
  Unicode Technical Standard #39 (via ``disarm``).

Every public function raises :class:`NormalizationError` (a ``ValueError``) with a message a
person can act on.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urlsplit

import disarm
import idna
import phonenumbers
import regex
from django.utils.translation import gettext as _

from directory.exceptions import NormalizationError


class HandleKind:
    """The namespaces an external handle can live in (``Handle.kind``)."""

    EMAIL = "email"
    DOMAIN = "domain"
    FEDIVERSE = "fediverse"
    ATPROTO = "atproto"
    MATRIX = "matrix"
    XMPP = "xmpp"
    GITHUB = "github"
    X = "x"
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    SIGNAL = "signal"
    SIP = "sip"
    SKYPE = "skype"
    WEB = "web"

    CHOICES = [
        (EMAIL, "Email address"),
        (DOMAIN, "Domain name"),
        (FEDIVERSE, "Fediverse account"),
        (ATPROTO, "Bluesky / AT Protocol handle"),
        (MATRIX, "Matrix ID"),
        (XMPP, "XMPP address (JID)"),
        (GITHUB, "GitHub username"),
        (X, "X (Twitter) username"),
        (TELEGRAM, "Telegram username"),
        (WHATSAPP, "WhatsApp number"),
        (SIGNAL, "Signal number or username"),
        (SIP, "SIP address"),
        (SKYPE, "Skype name"),
        (WEB, "Website"),
    ]
    ALL = tuple(k for k, _ in CHOICES)


# --------------------------------------------------------------------------------------
# Display strings and skeletons


def clean_display(text: str) -> str:
    """Return ``text`` in NFKC with default-ignorable and control characters removed.

    Input: any string. Output: the string people should see, whitespace collapsed.
    Default-ignorable code points (zero-width spaces and joiners, variation selectors,
    bidi controls: Unicode ``Default_Ignorable_Code_Point``) are removed because they are
    invisible and only serve to make two identical-looking strings differ.
    """
    text = unicodedata.normalize("NFKC", text)
    text = disarm.strip_zero_width_chars(text)
    text = disarm.strip_bidi(text)
    text = disarm.strip_variation_selectors(text)
    text = "".join(
        ch for ch in text if not _is_default_ignorable(ch) and unicodedata.category(ch) != "Cc"
    )
    return " ".join(text.split())


def _is_default_ignorable(ch: str) -> bool:
    cp = ord(ch)
    return (
        unicodedata.category(ch) == "Cf"
        or 0x115F <= cp <= 0x1160
        or cp in (0x034F, 0x17B4, 0x17B5, 0x3164, 0xFFA0)
        or 0x180B <= cp <= 0x180F
        or 0xFE00 <= cp <= 0xFE0F
        or 0xE0000 <= cp <= 0xE0FFF
    )


# Prototypes of Unicode's confusables.txt that ``disarm``'s bundled table leaves out or
# reads otherwise (it takes the Cyrillic palochka for ``l``; confusables.txt maps it to
# ``i``). Applied before ``disarm`` (so it never sees these characters) and again on its
# case-folded output (so capital forms meet the same prototype). The test built from
# confusables.txt (directory/tests/test_confusables.py) finds any prototype missing here.
_SKELETON_SUPPLEMENT = str.maketrans(
    {
        "\u00e6": "ae",  # LATIN SMALL LETTER AE
        "\u0153": "oe",  # LATIN SMALL LIGATURE OE
        "\u017f": "f",  # LATIN SMALL LETTER LONG S
        "\u01c1": "ll",  # LATIN LETTER LATERAL CLICK
        "\u04cf": "i",  # CYRILLIC SMALL LETTER PALOCHKA
        "\u13a5": "i",  # CHEROKEE LETTER V
        "\ua733": "aa",  # LATIN SMALL LETTER AA
        "\ua735": "ao",  # LATIN SMALL LETTER AO
        "\ua737": "au",  # LATIN SMALL LETTER AU
        "\ua739": "av",  # LATIN SMALL LETTER AV
        "\ua73b": "av",  # LATIN SMALL LETTER AV WITH HORIZONTAL BAR
        "\ua73d": "ay",  # LATIN SMALL LETTER AY
        "\ua74f": "oo",  # LATIN SMALL LETTER OO
        "\ua777": "tf",  # LATIN SMALL LETTER TUM
        "\uab63": "uo",  # LATIN SMALL LETTER UO
    }
)


def skeleton(text: str) -> str:
    """Return the UTS #39 confusable skeleton of ``text``, case-folded.

    Two strings with the same skeleton look alike: ``skeleton("eIonmusk")`` (capital I),
    ``skeleton("еlonmusk")`` (Cyrillic е) and ``skeleton("elonmusk")`` are all
    ``"elonmusk"``. Invisible characters are dropped first. The digit classes of UTS #39
    (``1``≡``l``, ``0``≡``O``) apply, as they should for identifiers. The result is a
    comparison key, never shown to people.

    The skeleton of a string keeps some case distinctions (``I`` reads as ``l``, ``i`` as
    ``i``), so a directory handle is compared by the skeletons of both its display and its
    case-folded forms (:attr:`DirectoryHandle.skeletons`).

    ``disarm`` leaves out some prototypes of Unicode's confusables.txt that matter for
    Latin names: ``m`` → ``rn`` (so ``elonrnusk`` looks like ``elonmusk``), applied after
    the fold, when every m-like character has become ``m``; ``æ`` → ``ae`` and a few more
    (``_SKELETON_SUPPLEMENT``).
    """
    text = clean_display(text).translate(_SKELETON_SUPPLEMENT)
    key = disarm.skeleton_key(text, digit_policy="tr39").translate(_SKELETON_SUPPLEMENT)
    return key.replace("m", "rn")


# --------------------------------------------------------------------------------------
# Directory handles (@alice)

DIRECTORY_HANDLE_MIN = 2
DIRECTORY_HANDLE_MAX = 30
_DIRECTORY_HANDLE_PUNCT = set("._-")


@dataclass(frozen=True)
class DirectoryHandle:
    """A directory handle in its forms.

    ``display`` is what the owner typed, cleaned (NFKC, invisibles removed, no ``@``);
    ``canonical`` is its case-folded form, unique case-insensitively; ``skeleton`` is the
    UTS #39 skeleton of the display form and ``folded_skeleton`` that of the case-folded
    form. Two handles look alike when their :attr:`skeletons` meet.
    """

    display: str
    canonical: str
    skeleton: str
    folded_skeleton: str = ""

    @property
    def skeletons(self) -> frozenset[str]:
        """The UTS #39 skeletons of the display and case-folded forms (one or two keys):
        ``KIM`` reads as ``klrn`` and, lower-cased, as ``kirn``; both are compared."""
        return frozenset(k for k in (self.skeleton, self.folded_skeleton) if k)


# UAX #31 Table 5, "Recommended Scripts" (Unicode 15.1), by ISO 15924 code. A handle in
# any other script (Cherokee, Runic, Old Italic, …, many of whose letters are shaped
# like Latin ones) is refused: UTS #39's identifier profile keeps to these.
RECOMMENDED_SCRIPTS = (
    "Arab", "Armn", "Beng", "Bopo", "Cyrl", "Deva", "Ethi", "Geor", "Grek", "Gujr", "Guru",
    "Hang", "Hani", "Hebr", "Hira", "Kana", "Khmr", "Knda", "Laoo", "Latn", "Mlym", "Mymr",
    "Orya", "Sinh", "Taml", "Telu", "Thaa", "Thai", "Tibt",
)  # fmt: skip
_SCRIPT_PATTERNS = {code: regex.compile(rf"\p{{scx={code}}}") for code in RECOMMENDED_SCRIPTS}
_ANY_SCRIPT = regex.compile(r"[\p{scx=Zyyy}\p{scx=Zinh}]")
# The generic combining marks, shared by every script that writes with accents.
_GENERIC_MARKS = regex.compile(
    r"[\p{Block=Combining_Diacritical_Marks}\p{Block=Combining_Diacritical_Marks_Extended}"
    r"\p{Block=Combining_Diacritical_Marks_Supplement}"
    r"\p{Block=Combining_Diacritical_Marks_For_Symbols}\p{Block=Combining_Half_Marks}"
    r"\p{scx=Zinh}]"
)
# UTS #39 §5.1: the augmented script sets, so that Han beside kana is one writing system
# (Jpan), Han beside Hangul another (Kore), Han beside Bopomofo a third (Hanb).
_AUGMENTED = {
    "Hani": ("Hanb", "Jpan", "Kore"),
    "Hira": ("Jpan",),
    "Kana": ("Jpan",),
    "Hang": ("Kore",),
    "Bopo": ("Hanb",),
}
_SCRIPT_NAMES = {
    "Arab": "Arabic", "Armn": "Armenian", "Beng": "Bengali", "Bopo": "Bopomofo",
    "Cyrl": "Cyrillic", "Deva": "Devanagari", "Ethi": "Ethiopic", "Geor": "Georgian",
    "Grek": "Greek", "Gujr": "Gujarati", "Guru": "Gurmukhi", "Hang": "Hangul", "Hani": "Han",
    "Hebr": "Hebrew", "Hira": "Hiragana", "Kana": "Katakana", "Khmr": "Khmer",
    "Knda": "Kannada", "Laoo": "Lao", "Latn": "Latin", "Mlym": "Malayalam",
    "Mymr": "Myanmar", "Orya": "Odia", "Sinh": "Sinhala", "Taml": "Tamil", "Telu": "Telugu",
    "Thaa": "Thaana", "Thai": "Thai", "Tibt": "Tibetan",
}  # fmt: skip


@lru_cache(maxsize=8192)
def _script_set(ch: str) -> frozenset[str] | None:
    """The augmented script set of ``ch`` (UTS #39 §5.1, from ``Script_Extensions``),
    restricted to the Recommended scripts: ``None`` for a Common or Inherited character
    (it goes with every script), an empty set for a character of no Recommended script."""
    if _ANY_SCRIPT.match(ch):
        return None
    found = {code for code, pattern in _SCRIPT_PATTERNS.items() if pattern.match(ch)}
    for code in list(found):
        found.update(_AUGMENTED.get(code, ()))
    return frozenset(found)


def _resolved(sets: list[frozenset[str]]) -> frozenset[str] | None:
    """The resolved script set (UTS #39 §5.1): the intersection of the characters'
    augmented sets; ``None`` when every character goes with every script."""
    result: frozenset[str] | None = None
    for found in sets:
        result = found if result is None else result & found
    return result


def check_restriction_level(text: str) -> None:
    """Refuse ``text`` unless it meets UTS #39 §5.2 "Moderately Restrictive".

    Input: a cleaned string (NFKC). Every letter must belong to a Recommended script
    (UAX #31 Table 5), and the string must be single-script; or covered by Latin + Han +
    Hiragana + Katakana, Latin + Han + Bopomofo or Latin + Han + Hangul; or by Latin and
    any one other Recommended script except Cyrillic and Greek (the two whose letters are
    most often shaped like Latin ones). Scripts are read from ``Script_Extensions``
    (``regex``), so a character shared by several scripts goes with each of them.
    Raises :class:`NormalizationError` naming the character or the scripts.
    """
    sets: list[frozenset[str]] = []
    for ch in text:
        found = _script_set(ch)
        if found is None:
            continue
        if not found:
            raise NormalizationError(
                _("A handle may hold letters of widely used scripts only; %(char)r is not one.")
                % {"char": ch}
            )
        sets.append(found)
    resolved = _resolved(sets)
    if resolved is None or resolved:
        return  # single script
    without_latin = _resolved([found for found in sets if "Latn" not in found])
    if without_latin and (
        without_latin & {"Jpan", "Kore", "Hanb"} or not without_latin & {"Cyrl", "Grek"}
    ):
        return
    scripts = sorted({_SCRIPT_NAMES[c] for found in sets for c in found if c in _SCRIPT_NAMES})
    raise NormalizationError(
        _(
            "A handle cannot mix %(scripts)s letters: use one script, or Latin with one "
            "other script (not Cyrillic or Greek), so it cannot pass for someone else's."
        )
        % {"scripts": " and ".join(scripts)}
    )


def _check_marks(text: str) -> None:
    """Refuse combining marks that could hide beside a taken handle.

    After NFKC every letter that has a precomposed form (``é``, ``ç``, ``ṭ``, ``ż``) is
    one code point; the combining marks left are stacked on letters that have none. The
    UTS #39 skeleton keeps marks (it maps confusable characters, it does not strip
    accents), so ``alic̣e`` (dot below) or ``ali̶ce`` (overlay) has a skeleton of its
    own though it reads as ``alice``. Folding marks away instead would make ``René`` and
    ``Rene`` one handle, which UTS #39 does not call confusable; so the generic marks
    (the Combining Diacritical Marks blocks, overlays, and any other mark whose
    ``Script_Extensions`` is Inherited)
    are refused, as UTS #39 §5.4 allows. A script's own marks (Devanagari vowel signs,
    Thai, Arabic harakat) are kept, but must follow a letter of their script and not
    repeat (UTS #39 §5.4: no sequence of the same nonspacing mark).
    """
    previous = ""
    for index, ch in enumerate(text):
        if unicodedata.category(ch)[0] != "M":
            previous = ch
            continue
        if _GENERIC_MARKS.match(ch):
            raise NormalizationError(
                _(
                    "A handle cannot hold a separate accent or mark (%(mark)s): use a letter "
                    "that has it built in, such as é, or leave it out."
                )
                % {"mark": unicodedata.name(ch, f"U+{ord(ch):04X}").lower()}
            )
        base = _script_set(previous) if previous else None
        mark = _script_set(ch)
        if (
            not previous
            or base is None
            or (mark is not None and not base & mark)
            or (index and text[index - 1] == ch)
        ):
            raise NormalizationError(
                _(
                    "A handle cannot hold the mark %(mark)s there: it belongs on a letter "
                    "of its script."
                )
                % {"mark": unicodedata.name(ch, f"U+{ord(ch):04X}").lower()}
            )


def normalize_directory_handle(raw: str) -> DirectoryHandle:
    """Validate and normalize a directory handle such as ``@alice`` or ``alice``.

    Rules: 2–30 characters after cleaning; letters and decimal digits, plus ``.``, ``_``
    and ``-`` (not first or last); not ending in ``.vcf``; not digits alone (that reads as
    a phone number). A handle made only of invisible characters is refused. Scripts are
    limited as UTS #39 §5.2 "Moderately Restrictive" (:func:`check_restriction_level`);
    separate combining accents are refused (:func:`_check_marks` says why). The skeletons
    ignore the separators, so ``elon.musk`` and ``elon_musk`` collide with ``elonmusk``.
    Raises :class:`NormalizationError` with the reason.
    """
    text = clean_display(raw.strip())
    if text.startswith("@"):
        text = text[1:]
    if not text:
        raise NormalizationError(_("A handle needs at least one visible letter or digit."))
    if len(text) < DIRECTORY_HANDLE_MIN or len(text) > DIRECTORY_HANDLE_MAX:
        raise NormalizationError(
            _("A handle has %(min)d to %(max)d characters; %(handle)r has %(length)d.")
            % {
                "min": DIRECTORY_HANDLE_MIN,
                "max": DIRECTORY_HANDLE_MAX,
                "handle": text,
                "length": len(text),
            }
        )
    for ch in text:
        if ch in _DIRECTORY_HANDLE_PUNCT:
            continue
        category = unicodedata.category(ch)
        if category[0] not in ("L", "M") and category != "Nd":
            raise NormalizationError(
                _("A handle may hold letters, digits, '.', '_' and '-'; %(char)r is not allowed.")
                % {"char": ch}
            )
    if text[0] in _DIRECTORY_HANDLE_PUNCT or text[-1] in _DIRECTORY_HANDLE_PUNCT:
        raise NormalizationError(_("A handle cannot start or end with '.', '_' or '-'."))
    if text.casefold().endswith(".vcf"):
        # /@alice.vcf is the address of alice's vCard, so no handle may end that way.
        raise NormalizationError(_("A handle cannot end in '.vcf'."))
    if unicodedata.category(text[0])[0] == "M":
        raise NormalizationError(_("A handle cannot start with a combining mark."))
    _check_marks(text)
    check_restriction_level(text)
    bare = "".join(ch for ch in text if ch not in _DIRECTORY_HANDLE_PUNCT)
    if all(unicodedata.category(ch) == "Nd" for ch in bare):
        raise NormalizationError(_("A handle needs a letter: digits alone read as a phone number."))
    canonical = text.casefold()
    folded_bare = "".join(ch for ch in canonical if ch not in _DIRECTORY_HANDLE_PUNCT)
    return DirectoryHandle(
        display=text,
        canonical=canonical,
        skeleton=skeleton(bare),
        folded_skeleton=skeleton(folded_bare),
    )


# --------------------------------------------------------------------------------------
# Phone numbers


@dataclass(frozen=True)
class PhoneNumber:
    """A phone number in E.164 (``+390656851242``) with its extension kept apart."""

    e164: str
    extension: str | None = None

    @property
    def tel_uri(self) -> str:
        """The number as an RFC 3966 ``tel:`` URI (``tel:+445555555555;ext=5555``)."""
        return f"tel:{self.e164}" + (f";ext={self.extension}" if self.extension else "")


_VANITY_LETTERS = re.compile(r"[A-Za-z]")
_TEL_PARAMS = re.compile(r";(?!ext=)[^;]*", re.IGNORECASE)


def normalize_phone(raw: str, region: str | None = None) -> PhoneNumber:
    """Parse a phone number as people and address books write it into E.164.

    Input: ``raw`` such as ``"0656851242"``, ``"+44 20 7946 0000"``,
    ``"tel:+44-555-555-5555;ext=5555"`` or ``"(905) 555-1234 x12"``; ``region``, an ISO
    3166-1 alpha-2 code used only for numbers written without ``+`` (national numbers).
    Output: :class:`PhoneNumber`. Italian leading zeros are kept (libphonenumber).

    Raises :class:`NormalizationError` when the text is not a number (``BusinessPhone``),
    holds vanity letters (``1-800-MYFAX`` is not silently turned into digits), is national
    with no region to read it in, or is not a possible number for its country.
    """
    text = clean_display(raw).strip()
    if text.lower().startswith("tel:"):
        text = _TEL_PARAMS.sub("", text[4:])
        text = text.replace(";ext=", " ext. ").replace(";EXT=", " ext. ")
    if _has_vanity(text):
        raise NormalizationError(
            f"{raw!r} holds letters: vanity numbers and names are not phone numbers."
        )
    if not any(ch.isdigit() for ch in text):
        raise NormalizationError(f"{raw!r} is not a phone number.")
    try:
        number = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise NormalizationError(
                f"{raw!r} is a national number: give a region (such as US or IT) to read it."
            ) from None
        raise NormalizationError(f"{raw!r} is not a phone number: {exc._msg}.") from None
    if phonenumbers.is_possible_number_with_reason(number) not in (
        phonenumbers.ValidationResult.IS_POSSIBLE,
    ):
        raise NormalizationError(f"{raw!r} is not a possible phone number for its country.")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return PhoneNumber(e164=e164, extension=number.extension or None)


def _has_vanity(text: str) -> bool:
    stripped = re.sub(r"(?i)(ext\.?|extn\.?|extension|x)\s*\d+\s*$", "", text)
    return bool(_VANITY_LETTERS.search(stripped))


# --------------------------------------------------------------------------------------
# Domains and hosts

_RESERVED_ATPROTO_TLDS = {
    "alt",
    "arpa",
    "example",
    "internal",
    "invalid",
    "local",
    "localhost",
    "onion",
    "test",
}


def normalize_domain(raw: str) -> str:
    """Return a domain name as its lower-case IDNA 2008 A-label form.

    ``bücher.example`` and ``xn--bcher-kva.example`` both give ``xn--bcher-kva.example``.
    A trailing dot is dropped. Raises :class:`NormalizationError` for a string that is not
    a valid domain name (IDNA 2008 with UTS #46 mapping; at least two labels).
    """
    text = clean_display(raw).strip().rstrip(".")
    if not text or any(ch in text for ch in "/:@ ?#"):
        raise NormalizationError(f"{raw!r} is not a domain name.")
    try:
        alabel = idna.encode(text, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError) as exc:
        raise NormalizationError(f"{raw!r} is not a valid domain name ({exc}).") from None
    if "." not in alabel:
        raise NormalizationError(f"{raw!r} is not a full domain name (it has no dot).")
    return alabel


def host_ends_in_number(host: str) -> bool:
    """Whether ``host`` ends in a number (WHATWG URL Standard): its last label (after
    dropping one empty label left by a trailing dot) is all digits or a ``0x`` hex number,
    so a browser reads the whole host as an IPv4 address (``127.1``, ``0x7f.1``,
    ``0177.0.0.1``)."""
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    last = labels[-1]
    if last and last.isascii() and last.isdigit():
        return True
    return last[:2].lower() == "0x" and all(ch in "0123456789abcdefABCDEF" for ch in last[2:])


def _refuse_ip_host(host: str, raw: str) -> None:
    """Refuse a handle whose host is an IP address or reads as one: such a handle cannot
    be verified, and it would be shown publicly as if it named someone."""
    bare = host.strip("[]")
    if _ip(bare) is not None or host_ends_in_number(bare):
        raise NormalizationError(
            f"{raw!r} names its host by an IP address (or a name ending in a number, "
            "which reads as one): a handle needs a domain name."
        )


def domain_for_display(alabel: str) -> str:
    """Return the Unicode U-label form of an A-label domain, for display only."""
    try:
        return idna.decode(alabel)
    except (idna.IDNAError, UnicodeError):
        return alabel


# --------------------------------------------------------------------------------------
# External handles


@dataclass(frozen=True)
class CanonicalHandle:
    """An external handle in normal form.

    ``canonical`` is the stored normal form (shown to people after U-label conversion of
    hosts); ``key`` is the comparison key: two handles of one kind are the same identity
    exactly when their keys are equal (email local parts compare case-insensitively,
    Matrix local parts do not).
    """

    kind: str
    canonical: str
    key: str


_EMAIL_LOCAL = re.compile(r"^[^\s@\"(),:;<>\[\]\\]{1,64}$")
_USERNAME = {
    HandleKind.GITHUB: re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$"),
    HandleKind.X: re.compile(r"^[A-Za-z0-9_]{1,15}$"),
    HandleKind.TELEGRAM: re.compile(r"^[A-Za-z][A-Za-z0-9_]{4,31}$"),
    HandleKind.SKYPE: re.compile(r"^(live:)?[A-Za-z0-9][A-Za-z0-9._,:-]{1,100}$"),
}
_MATRIX_LOCALPART = re.compile(r"^[A-Za-z0-9._=\-/+]{1,255}$")
_FEDI_USER = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def _split_at(raw: str, what: str) -> tuple[str, str]:
    local, sep, host = raw.rpartition("@")
    if not sep or not local or not host:
        raise NormalizationError(f"{raw!r} is not {what} (expected user@host).")
    return local, host


def _email(raw: str) -> CanonicalHandle:
    text = raw.strip()
    if text.lower().startswith("mailto:"):
        text = unquote(text[7:].split("?", 1)[0])
    local, host = _split_at(text, "an email address")
    if not _EMAIL_LOCAL.match(local):
        raise NormalizationError(f"{raw!r} is not an email address.")
    host = normalize_domain(host)
    _refuse_ip_host(host, raw)
    canonical = f"{local}@{host}"
    return CanonicalHandle(HandleKind.EMAIL, canonical, canonical.lower())


def _urlsplit(url: str):
    """``urllib.parse.urlsplit`` that reports a malformed URL (an unclosed IPv6
    bracket) as a :class:`NormalizationError`, not a bare ``ValueError``."""
    try:
        return urlsplit(url)
    except ValueError:
        raise NormalizationError(f"{url!r} is not a well-formed URL.") from None


def _fediverse(raw: str) -> CanonicalHandle:
    text = raw.strip()
    if text.lower().startswith("acct:"):
        text = text[5:]
    if text.startswith("https://"):
        parts = _urlsplit(text)
        path = parts.path.strip("/")
        if not parts.hostname or not path.startswith("@") or "/" in path:
            raise NormalizationError(
                f"{raw!r} is not a fediverse profile URL (https://host/@user)."
            )
        text = f"{path[1:]}@{parts.hostname}"
    text = text.lstrip("@")
    user, host = _split_at(text, "a fediverse account")
    if not _FEDI_USER.match(user):
        raise NormalizationError(f"{raw!r} is not a fediverse account.")
    host = normalize_domain(host)
    _refuse_ip_host(host, raw)
    # The user part keeps the case its owner typed, because the remote server's WebFinger
    # may match it exactly (RFC 7033 leaves acct: comparison to the host); the key is
    # case-folded, so two case spellings remain one claim.
    canonical = f"{user}@{host}"
    return CanonicalHandle(HandleKind.FEDIVERSE, canonical, canonical.lower())


def _matrix(raw: str) -> CanonicalHandle:
    text = raw.strip()
    if text.startswith("https://matrix.to/#/"):
        text = unquote(text[len("https://matrix.to/#/") :]).split("?", 1)[0]
    elif text.lower().startswith("matrix:u/"):
        text = "@" + unquote(text[9:]).split("?", 1)[0]
    if not text.startswith("@") or ":" not in text:
        raise NormalizationError(f"{raw!r} is not a Matrix ID (expected @user:server).")
    local, _, server = text[1:].partition(":")
    host, _, port = server.partition(":")
    if not _MATRIX_LOCALPART.match(local):
        raise NormalizationError(f"{raw!r} has characters a Matrix user ID cannot hold.")
    if port and not port.isdigit():
        raise NormalizationError(f"{raw!r} has a bad port in its server name.")
    host = normalize_domain(host)
    _refuse_ip_host(host, raw)
    canonical = f"@{local}:{host}" + (f":{port}" if port else "")
    return CanonicalHandle(HandleKind.MATRIX, canonical, canonical)


def _xmpp(raw: str) -> CanonicalHandle:
    text = raw.strip()
    if text.lower().startswith("xmpp:"):
        text = text[5:].lstrip("/").split("?", 1)[0]
    text = text.split("/", 1)[0]  # the resource part is not part of the bare JID
    local, host = _split_at(unquote(text), "an XMPP address")
    canonical = f"{local.lower()}@{normalize_domain(host)}"
    return CanonicalHandle(HandleKind.XMPP, canonical, canonical)


def _sip(raw: str) -> CanonicalHandle:
    text = raw.strip()
    if text.lower().startswith(("sip:", "sips:")):
        text = text.split(":", 1)[1]
    text = text.split(";", 1)[0].split("?", 1)[0]
    user, host = _split_at(text, "a SIP address")
    host, _, port = host.partition(":")
    canonical = f"{user}@{normalize_domain(host)}" + (f":{port}" if port else "")
    return CanonicalHandle(HandleKind.SIP, canonical, canonical.lower())


def _atproto(raw: str) -> CanonicalHandle:
    text = raw.strip().lstrip("@")
    if text.lower().startswith("at://"):
        text = text[5:].split("/", 1)[0]
    host = normalize_domain(text)
    _refuse_ip_host(host, raw)
    if host.rsplit(".", 1)[-1] in _RESERVED_ATPROTO_TLDS:
        raise NormalizationError(f"{raw!r} uses a reserved top-level domain.")
    return CanonicalHandle(HandleKind.ATPROTO, host, host)


def _domain(raw: str) -> CanonicalHandle:
    host = normalize_domain(raw)
    _refuse_ip_host(host, raw)
    return CanonicalHandle(HandleKind.DOMAIN, host, host)


def _web(raw: str) -> CanonicalHandle:
    """A website handle: an https URL without user name or password.

    ``http://`` is upgraded to ``https://`` (a website is only verified over https), and a
    URL carrying credentials (``https://user:pw@host/``) is refused rather than stored.
    """
    text = clean_display(raw).strip()
    if text[:7].lower() == "http://":
        text = "https://" + text[7:]
    parts = _urlsplit(text if "://" in text else "https://" + text)
    if parts.username is not None or parts.password is not None:
        raise NormalizationError(
            f"{_without_userinfo(parts)!r} must not hold a user name or password."
        )
    url = normalize_url(text)
    _refuse_ip_host(_urlsplit(url).hostname or "", raw)
    return CanonicalHandle(HandleKind.WEB, url, url)


def _without_userinfo(parts) -> str:
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=host).geturl()


def _username(kind: str, prefixes: tuple[str, ...]):
    def parse(raw: str) -> CanonicalHandle:
        text = raw.strip()
        for prefix in prefixes:
            if text.lower().startswith(prefix):
                text = text[len(prefix) :].split("/", 1)[0].split("?", 1)[0]
                break
        text = text.lstrip("@")
        if not _USERNAME[kind].match(text):
            raise NormalizationError(f"{raw!r} is not a valid {kind} username.")
        # These platforms compare usernames case-insensitively.
        return CanonicalHandle(kind, text.lower(), text.lower())

    return parse


def _phone_account(kind: str):
    def parse(raw: str) -> CanonicalHandle:
        text = raw.strip()
        for prefix in ("https://wa.me/", "https://signal.me/#p/", "whatsapp:", "signal:"):
            if text.lower().startswith(prefix):
                text = text[len(prefix) :]
        if kind == HandleKind.SIGNAL and not text.lstrip("+").replace(" ", "").isdigit():
            # Signal usernames: nickname.NN
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]{2,31}\.\d{2,9}$", text):
                raise NormalizationError(f"{raw!r} is not a Signal number or username.")
            return CanonicalHandle(kind, text.lower(), text.lower())
        if not text.startswith("+"):
            text = "+" + text
        number = normalize_phone(text)
        return CanonicalHandle(kind, number.e164, number.e164)

    return parse


_PARSERS = {
    HandleKind.EMAIL: _email,
    HandleKind.DOMAIN: _domain,
    HandleKind.FEDIVERSE: _fediverse,
    HandleKind.ATPROTO: _atproto,
    HandleKind.MATRIX: _matrix,
    HandleKind.XMPP: _xmpp,
    HandleKind.SIP: _sip,
    HandleKind.WEB: _web,
    HandleKind.GITHUB: _username(HandleKind.GITHUB, ("https://github.com/",)),
    HandleKind.X: _username(HandleKind.X, ("https://x.com/", "https://twitter.com/")),
    HandleKind.TELEGRAM: _username(HandleKind.TELEGRAM, ("https://t.me/",)),
    HandleKind.SKYPE: _username(HandleKind.SKYPE, ("skype:",)),
    HandleKind.WHATSAPP: _phone_account(HandleKind.WHATSAPP),
    HandleKind.SIGNAL: _phone_account(HandleKind.SIGNAL),
}


def normalize_handle(kind: str, raw: str) -> CanonicalHandle:
    """Normalize ``raw`` as a handle of ``kind`` (one of :class:`HandleKind`).

    Examples: ``("fediverse", "@Alice@Mastodon.Social")`` and
    ``("fediverse", "acct:alice@mastodon.social")`` give one canonical
    ``alice@mastodon.social``; ``("matrix", "@alice:Matrix.org")`` gives
    ``@alice:matrix.org`` while ``@Alice:matrix.org`` stays distinct.
    Raises :class:`NormalizationError` for an unknown kind or a malformed value.
    """
    parser = _PARSERS.get(kind)
    if parser is None:
        raise NormalizationError(f"{kind!r} is not a handle kind Worldbook knows.")
    text = clean_display(raw)
    if not text:
        raise NormalizationError("The handle is empty.")
    return parser(text)


@dataclass(frozen=True)
class LookupQuery:
    """What a free-form lookup string names: a directory handle, or external handles.

    ``directory_handle`` is set for ``@alice`` or ``acct:alice@<our domain>`` (and for a
    dotted ``alice.smith``, which may also be a domain); ``candidates`` lists the external
    handles the string may be, most likely first (``user@host`` may be an email address
    or a fediverse account). A resolver tries the directory handle, then the candidates.
    """

    directory_handle: DirectoryHandle | None
    candidates: tuple[CanonicalHandle, ...]


_PROFILE_HOSTS = {
    "github.com": HandleKind.GITHUB,
    "x.com": HandleKind.X,
    "twitter.com": HandleKind.X,
    "t.me": HandleKind.TELEGRAM,
    "bsky.app": HandleKind.ATPROTO,
}


def _directory_handle_or_none(text: str) -> DirectoryHandle | None:
    """``text`` read as a directory handle too, when it can be one."""
    try:
        return normalize_directory_handle(text)
    except NormalizationError:
        return None


def parse_lookup(raw: str, *, local_domain: str) -> LookupQuery:
    """Read any handle form a caller may send to resolve.

    Accepts ``@nick``, ``nick``, ``acct:user@host``, ``user@host``, ``@user@host``,
    ``@user:server``, a bare domain, an https profile URL, ``tel:`` URIs and ``+E.164``.
    ``local_domain`` is this directory's own acct: host, so ``acct:alice@<it>`` means the
    directory handle ``@alice``. Raises :class:`NormalizationError` when the string can be
    none of these.
    """
    text = clean_display(raw).strip()
    if not text:
        raise NormalizationError("Give a handle to look up.")
    lowered = text.lower()
    candidates: list[CanonicalHandle] = []

    def attempt(kind: str, value: str) -> None:
        try:
            candidates.append(normalize_handle(kind, value))
        except NormalizationError:
            pass

    if lowered.startswith("tel:") or re.fullmatch(r"\+[\d\s().\-]{6,}", text):
        number = normalize_phone(text)
        for kind in (HandleKind.WHATSAPP, HandleKind.SIGNAL):
            candidates.append(CanonicalHandle(kind, number.e164, number.e164))
        return LookupQuery(None, tuple(candidates))
    if lowered.startswith("mailto:"):
        return LookupQuery(None, (normalize_handle(HandleKind.EMAIL, text),))
    if lowered.startswith(("xmpp:",)):
        return LookupQuery(None, (normalize_handle(HandleKind.XMPP, text),))
    if lowered.startswith(("sip:", "sips:")):
        return LookupQuery(None, (normalize_handle(HandleKind.SIP, text),))
    if lowered.startswith("at://"):
        return LookupQuery(None, (normalize_handle(HandleKind.ATPROTO, text),))
    if lowered.startswith(("https://", "http://")):
        parts = _urlsplit(text)
        path = parts.path.strip("/")
        if (parts.hostname or "").lower() == local_domain.lower() and path.startswith("@"):
            # This directory's own entry page: https://<our domain>/@alice
            return LookupQuery(normalize_directory_handle(unquote(path)), ())
        return LookupQuery(None, tuple(_profile_candidates(text)))
    if text.startswith("@") and ":" in text and "@" not in text[1:]:
        return LookupQuery(None, (normalize_handle(HandleKind.MATRIX, text),))
    if text.startswith("@") and "@" not in text[1:] and "." in text.strip("@.")[1:]:
        # ``@name.bsky.social`` is how Bluesky shows an AT Protocol handle; it may also be
        # a dotted directory handle, tried after the verified AT Protocol handle.
        attempt(HandleKind.ATPROTO, text)
        if candidates:
            return LookupQuery(_directory_handle_or_none(text), tuple(candidates))
    if lowered.startswith("acct:") or ("@" in text.lstrip("@")):
        bare = text[5:] if lowered.startswith("acct:") else text
        user, _, host = bare.lstrip("@").rpartition("@")
        try:
            host_a = normalize_domain(host)
        except NormalizationError:
            host_a = None
        if host_a == local_domain.lower():
            # acct: URIs percent-encode a user part outside ASCII (RFC 7565 §7).
            return LookupQuery(normalize_directory_handle(unquote(user)), ())
        if lowered.startswith("acct:") or text.startswith("@"):
            attempt(HandleKind.FEDIVERSE, bare)
            attempt(HandleKind.EMAIL, bare.lstrip("@"))
        else:
            attempt(HandleKind.EMAIL, bare)
            attempt(HandleKind.FEDIVERSE, bare)
            attempt(HandleKind.XMPP, bare)
            attempt(HandleKind.SIP, bare)
        if not candidates:
            raise NormalizationError(f"{raw!r} is not a handle Worldbook can read.")
        return LookupQuery(None, tuple(candidates))
    if "." in text.strip(".") and not text.startswith("@"):
        # ``alice.smith`` may be a directory handle or a domain: both are tried, the
        # directory handle first.
        attempt(HandleKind.DOMAIN, text)
        attempt(HandleKind.ATPROTO, text)
        if candidates:
            return LookupQuery(_directory_handle_or_none(text), tuple(candidates))
    return LookupQuery(normalize_directory_handle(text), ())


def _profile_candidates(url: str) -> list[CanonicalHandle]:
    parts = _urlsplit(url)
    host = (parts.hostname or "").lower()
    path = parts.path.strip("/")
    found: list[CanonicalHandle] = []
    if host in _PROFILE_HOSTS and path:
        kind = _PROFILE_HOSTS[host]
        name = path.split("/")[-1] if kind == HandleKind.ATPROTO else path.split("/")[0]
        try:
            found.append(normalize_handle(kind, name))
        except NormalizationError:
            pass
    elif host == "matrix.to":
        found.append(normalize_handle(HandleKind.MATRIX, url))
    elif path.startswith("@") and "/" not in path:
        try:
            found.append(normalize_handle(HandleKind.FEDIVERSE, url))
        except NormalizationError:
            pass
    found.append(normalize_handle(HandleKind.WEB, url))
    return found


# --------------------------------------------------------------------------------------
# URLs and endpoints


def normalize_url(raw: str) -> str:
    """Return an http(s) URL in the one normal form Worldbook compares.

    Scheme and host lower-cased (host as A-label; an IP address in its compressed form,
    IPv6 in brackets), user name and password dropped, default port dropped, an empty path
    written ``/``, one trailing slash on a longer path removed; query kept, fragment
    dropped. Raises :class:`NormalizationError` for a non-http(s) or host-less URL.
    """
    text = clean_display(raw).strip()
    if "://" not in text:
        text = "https://" + text
    parts = _urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise NormalizationError(f"{raw!r} is not a web address (http or https).")
    address = _ip(parts.hostname)
    if address is None:
        if parts.netloc.rpartition("@")[2].startswith("["):
            raise NormalizationError(f"{raw!r} has a bad IPv6 address in brackets.")
        host = normalize_domain(parts.hostname)
    else:
        # An IPv6 literal keeps its brackets (RFC 3986 section 3.2.2).
        host = f"[{address.compressed}]" if address.version == 6 else address.compressed
    try:
        port = parts.port
    except ValueError:
        raise NormalizationError(f"{raw!r} has a bad port.") from None
    netloc = host if port in (None, 80 if scheme == "http" else 443) else f"{host}:{port}"
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return f"{scheme}://{netloc}{path}" + (f"?{parts.query}" if parts.query else "")


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


class EndpointScheme:
    """URI schemes an endpoint may use (``Endpoint.scheme``)."""

    SIP = "sip"
    SIPS = "sips"
    XMPP = "xmpp"
    MATRIX = "matrix"
    MAILTO = "mailto"
    TEL = "tel"
    HTTPS = "https"
    FACETIME = "facetime"
    FACETIME_AUDIO = "facetime-audio"

    CHOICES = [
        (SIP, "SIP"),
        (SIPS, "SIP over TLS"),
        (XMPP, "XMPP"),
        (MATRIX, "Matrix"),
        (MAILTO, "Email"),
        (TEL, "Telephone (legacy)"),
        (HTTPS, "Web link"),
        (FACETIME, "FaceTime"),
        (FACETIME_AUDIO, "FaceTime Audio"),
    ]
    ALL = tuple(k for k, _ in CHOICES)


# Services reached through https links, recognised by host.
LINK_SERVICES = {
    "matrix.to": "matrix",
    "wa.me": "whatsapp",
    "api.whatsapp.com": "whatsapp",
    "signal.me": "signal",
    "t.me": "telegram",
    "meet.jit.si": "jitsi",
    "zoom.us": "zoom",
    "teams.microsoft.com": "teams",
    "meet.google.com": "google-meet",
    "facetime.apple.com": "facetime",
}


@dataclass(frozen=True)
class NormalizedEndpoint:
    """An endpoint URI in normal form with what it is for.

    ``service`` names the network (``sip``, ``matrix``, ``whatsapp``, ``email`` …);
    ``capabilities`` is the default subset of ``{"voice", "video", "text"}`` the scheme
    offers, which an owner may narrow.
    """

    uri: str
    scheme: str
    service: str
    capabilities: frozenset[str]


_SCHEME_DEFAULTS: dict[str, tuple[str, frozenset[str]]] = {
    EndpointScheme.SIP: ("sip", frozenset({"voice", "video"})),
    EndpointScheme.SIPS: ("sip", frozenset({"voice", "video"})),
    EndpointScheme.XMPP: ("xmpp", frozenset({"text", "voice", "video"})),
    EndpointScheme.MATRIX: ("matrix", frozenset({"text", "voice", "video"})),
    EndpointScheme.MAILTO: ("email", frozenset({"text"})),
    EndpointScheme.TEL: ("phone", frozenset({"voice", "text"})),
    EndpointScheme.FACETIME: ("facetime", frozenset({"voice", "video"})),
    EndpointScheme.FACETIME_AUDIO: ("facetime", frozenset({"voice"})),
}


def normalize_endpoint_uri(raw: str, *, region: str | None = None) -> NormalizedEndpoint:
    """Normalize an endpoint URI and say which scheme and service it uses.

    ``sip:``/``sips:`` user@host (host lower-cased); ``xmpp:`` bare JID; ``matrix:u/…``
    (MSC2312) and ``https://matrix.to/#/@user:server`` (kept as matrix.to links, the form
    every client opens); ``mailto:``; ``tel:`` in E.164 with ``;ext=`` kept (RFC 3966);
    ``facetime:``/``facetime-audio:``; ``https:`` call links (wa.me, signal.me, t.me,
    Jitsi, …). ``region`` reads national ``tel:`` numbers. Raises
    :class:`NormalizationError` for an unsupported scheme or a malformed URI, and for a
    control character (CR, LF, tab, NUL, …) inside it: a URI never holds one (RFC 3986 §2),
    and dropping it would join two pieces into a URI the person never wrote.
    """
    if re.search(r"[\x00-\x1f\x7f-\x9f]", raw.strip()):
        raise NormalizationError(
            f"{raw!r} is not a URI: it holds a line break or another control character."
        )
    text = clean_display(raw).strip()
    scheme, sep, rest = text.partition(":")
    scheme = scheme.lower()
    if not sep or not rest:
        raise NormalizationError(f"{raw!r} is not a URI (it has no scheme such as sip: or https:).")
    if scheme in (EndpointScheme.SIP, EndpointScheme.SIPS):
        handle = normalize_handle(HandleKind.SIP, text)
        uri = f"{scheme}:{handle.canonical}"
    elif scheme == EndpointScheme.XMPP:
        uri = f"xmpp:{normalize_handle(HandleKind.XMPP, text).canonical}"
    elif scheme == EndpointScheme.MATRIX:
        mxid = normalize_handle(HandleKind.MATRIX, text).canonical
        uri = f"matrix:u/{mxid[1:]}"
    elif scheme == EndpointScheme.MAILTO:
        uri = f"mailto:{normalize_handle(HandleKind.EMAIL, text).canonical}"
    elif scheme == EndpointScheme.TEL:
        uri = normalize_phone(text, region).tel_uri
    elif scheme in (EndpointScheme.FACETIME, EndpointScheme.FACETIME_AUDIO):
        target = rest.lstrip("/")
        try:
            target = normalize_phone(target).e164
        except NormalizationError:
            target = normalize_handle(HandleKind.EMAIL, target).canonical
        uri = f"{scheme}:{target}"
    elif scheme in ("https", "http"):
        uri = normalize_url(text)
        if uri.startswith("http://"):
            raise NormalizationError(f"{raw!r}: call links must use https.")
        host = urlsplit(uri).hostname or ""
        if host == "matrix.to":
            uri = "https://matrix.to/#/" + normalize_handle(HandleKind.MATRIX, text).canonical
        elif host == "signal.me":
            # Signal links carry the number or username in the fragment (#p/+…, #eu/…),
            # which the URL normal form drops.
            fragment = _urlsplit(text).fragment
            if not fragment:
                raise NormalizationError(f"{raw!r}: a signal.me link names its account after '#'.")
            uri = f"https://signal.me/#{fragment}"
        service = LINK_SERVICES.get(host) or next(
            (svc for h, svc in LINK_SERVICES.items() if host.endswith("." + h)), "web"
        )
        caps = {
            "whatsapp": {"voice", "video", "text"},
            "signal": {"voice", "video", "text"},
            "telegram": {"voice", "video", "text"},
            "matrix": {"voice", "video", "text"},
        }.get(service, {"voice", "video"})
        _check_uri_characters(uri, raw)
        return NormalizedEndpoint(uri, EndpointScheme.HTTPS, service, frozenset(caps))
    else:
        raise NormalizationError(
            f"{scheme!r} is not an endpoint scheme Worldbook supports "
            f"({', '.join(EndpointScheme.ALL)})."
        )
    service, caps = _SCHEME_DEFAULTS[scheme]
    _check_uri_characters(uri, raw)
    return NormalizedEndpoint(uri, scheme, service, caps)


# Characters RFC 3986 never allows unencoded in a URI (space, quotes, angle brackets,
# backslash, caret, backquote, braces, bar) and control characters. Non-ASCII letters
# are let through: RFC 3987 IRIs and RFC 6531 addresses hold them.
_NOT_IN_URI = re.compile(r'[\s"<>\\^`{|}\x00-\x1f\x7f]')


def _check_uri_characters(uri: str, raw: str) -> None:
    bad = _NOT_IN_URI.search(uri)
    if bad:
        raise NormalizationError(
            f"{raw!r} is not a valid URI: {bad.group()!r} must be percent-encoded."
        )


def endpoint_href(uri: str) -> str:
    """Return the link a browser should open for an endpoint URI.

    ``matrix:u/alice:matrix.org`` becomes ``https://matrix.to/#/@alice:matrix.org``, which
    every Matrix client handles; other URIs are returned unchanged.
    """
    if uri.startswith("matrix:u/"):
        return "https://matrix.to/#/@" + uri[len("matrix:u/") :]
    return uri
