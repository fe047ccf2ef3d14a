"""From a parsed vCard to what the directory should hold, without touching the database.

Mapping (vCard 2.1 / RFC 2426 / RFC 6350 properties to Worldbook):

- nickname: ``FN``, else ``N`` (given, additional, family names), else the first
  ``NICKNAME``, else the local part of the first email address;
- ``TEL``: a ``tel:`` endpoint in E.164 (RFC 3966, extension kept as ``;ext=`` in
  whatever spelling the card uses, see :mod:`directory.vcard_tel`), audience
  ``contacts``: a phone number is never public by default. National numbers are read in
  the ``region`` given; only numbers libphonenumber calls valid are kept, others are
  skipped with the reason; vanity numbers (``+1-800-MYFAX``) and names
  (``BusinessPhone``) are skipped, never turned into digits; fax-only numbers are
  skipped;
- ``EMAIL``: an unverified ``email`` handle and a ``mailto:`` endpoint;
- ``IMPP`` (RFC 4770; the service may be the URI scheme, ``X-SERVICE-TYPE`` or a ``TYPE``
  such as ``IMPP;TYPE=MATRIX:matrix@example.com``) and the older ``X-JABBER``,
  ``X-SKYPE``, ``X-SIP``, ``X-MATRIX`` … properties: XMPP gives an ``xmpp`` handle and an
  ``xmpp:`` endpoint, SIP a ``sip`` handle and a ``sip:`` endpoint, Matrix a ``matrix``
  handle and a matrix.to endpoint, Telegram a ``telegram`` handle and a t.me endpoint,
  Skype a ``skype`` handle only (Worldbook has no Skype endpoint scheme);
- ``X-SOCIALPROFILE`` (Apple) for X/Twitter, GitHub, Telegram, Mastodon and Bluesky:
  a handle of that kind;
- ``URL``: a ``web`` handle (``www.example.com`` is read as https).

Endpoint labels come from the property group's ``X-ABLabel`` or from ``TYPE`` (home,
work, cell …); endpoints marked ``PREF`` come first. A value that cannot be read, or a
service Worldbook has no handle kind for (AIM, ICQ, QQ, IRC …), is skipped and counted
with its reason. Other properties (addresses, notes, photos, dates) are not imported.

The import key (``Entry.import_key``) is the card's ``UID``, or else a SHA-256 of its
normalized content (see :func:`card_import_key`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

import disarm

from directory.exceptions import NormalizationError
from directory.models import Endpoint
from directory.normalization import (
    DIRECTORY_HANDLE_MAX,
    HandleKind,
    clean_display,
    normalize_directory_handle,
    normalize_endpoint_uri,
    normalize_handle,
)
from directory.services import NICKNAME_MAX
from directory.vcard_tel import read_tel
from directory.vcards import VCard, VCardProperty

LABEL_MAX = 64

# TYPE values that say what a number or address is for, shown as the endpoint's label.
_LABEL_TYPES = (
    "home",
    "work",
    "cell",
    "mobile",
    "iphone",
    "main",
    "car",
    "pager",
    "other",
    "personal",
    "business",
    "school",
)
# TYPE values that are not a service name when they appear on IMPP.
_NOT_A_SERVICE = frozenset(
    _LABEL_TYPES + ("pref", "voice", "video", "text", "msg", "internet", "uri", "x-uri")
)
_APPLE_LABEL = re.compile(r"^_\$!<(.+)>!\$_$")
_URI_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(.+)$", re.DOTALL)

# Legacy one-service properties written by Apple, Google, Evolution, KAddressBook.
_SERVICE_PROPERTIES = {
    "X-JABBER": "xmpp",
    "X-XMPP": "xmpp",
    "X-SIP": "sip",
    "X-MATRIX": "matrix",
    "X-SKYPE": "skype",
    "X-SKYPE-USERNAME": "skype",
    "X-TELEGRAM": "telegram",
    "X-AIM": "AIM",
    "X-ICQ": "ICQ",
    "X-QQ": "QQ",
    "X-MSN": "MSN",
    "X-YAHOO": "Yahoo",
    "X-GTALK": "Google Talk",
    "X-GOOGLE-TALK": "Google Talk",
    "X-GADUGADU": "Gadu-Gadu",
    "X-GROUPWISE": "GroupWise",
    "X-IRC": "IRC",
    "X-WECHAT": "WeChat",
    "X-LINE": "LINE",
}
# Service names (IMPP scheme, X-SERVICE-TYPE, TYPE) Worldbook has a handle kind for.
_SERVICE_KINDS = {
    "xmpp": HandleKind.XMPP,
    "jabber": HandleKind.XMPP,
    "sip": HandleKind.SIP,
    "sips": HandleKind.SIP,
    "matrix": HandleKind.MATRIX,
    "skype": HandleKind.SKYPE,
    "telegram": HandleKind.TELEGRAM,
}
# URI schemes an IMPP value may carry that name one of those services.
_IMPP_SCHEMES = {"xmpp", "sip", "sips", "matrix", "skype", "telegram"}
_SOCIAL_KINDS = {
    "twitter": HandleKind.X,
    "x": HandleKind.X,
    "github": HandleKind.GITHUB,
    "telegram": HandleKind.TELEGRAM,
    "mastodon": HandleKind.FEDIVERSE,
    "fediverse": HandleKind.FEDIVERSE,
    "bluesky": HandleKind.ATPROTO,
}
# Scripts a directory handle keeps rather than transliterates (see handle_base_for).
_SCRIPTS_KEPT = frozenset(
    {
        disarm.Script.HAN,
        disarm.Script.ARABIC,
        disarm.Script.HEBREW,
        disarm.Script.SYRIAC,
        disarm.Script.THAANA,
    }
)
# Properties that change on every export without changing the card.
_NOT_CONTENT = frozenset({"REV", "PRODID", "X-ABLABEL"})


class CardSkipped(Exception):
    """The card is deliberately not imported; ``reason`` is the summary line."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail or reason


# --------------------------------------------------------------------------------------
# Planning: from a card to what the entry should hold (no database access)


@dataclass(frozen=True)
class PlannedHandle:
    kind: str
    raw: str
    key: str


@dataclass(frozen=True)
class PlannedEndpoint:
    uri: str
    capabilities: frozenset[str]
    preference: int
    label: str
    audience: str


@dataclass(frozen=True)
class SkippedProperty:
    line: int
    reason: str
    detail: str


@dataclass
class CardPlan:
    """What one card asks the directory to hold.

    ``import_key`` identifies the card across imports; ``nickname`` is the display name;
    ``handle_base`` the directory handle to try first (``""``: use ``contact-<n>``);
    ``handles`` and ``endpoints`` are normalized and free of repeats; ``skipped`` lists
    the properties left out, with reasons.
    """

    import_key: str
    nickname: str
    handle_base: str
    handles: list[PlannedHandle] = field(default_factory=list)
    endpoints: list[PlannedEndpoint] = field(default_factory=list)
    skipped: list[SkippedProperty] = field(default_factory=list)


@dataclass
class _Candidate:
    """An endpoint before preferences are assigned: ``rank`` is 1–100 for ``PREF``,
    101 otherwise; ``order`` is its place in the card."""

    uri: str
    capabilities: frozenset[str] | None
    label: str
    audience: str
    rank: int
    order: int


def card_import_key(card: VCard) -> str:
    """The stable key of a card (at most 128 characters, ``Entry.import_key``).

    ``uid:<UID>`` when the card has a ``UID`` (hashed when longer than the column);
    otherwise ``sha256:<hex>`` of its content: every property but ``REV``, ``PRODID``, the
    ``X-ABLabel`` lines and binary data (photos, never imported; see
    :mod:`directory.vcards`), each with its label, parameters and value, in a sorted
    order, so neither export time, a new photo, nor the order or group names of
    properties change the key.
    """
    uid = card.first_text("UID")
    if uid:
        key = f"uid:{uid}"
        if len(key) <= 128:
            return key
        return "uid-sha256:" + hashlib.sha256(uid.encode("utf-8")).hexdigest()
    content = sorted(
        json.dumps(
            [prop.name, prop.label, sorted((k, list(v)) for k, v in prop.params.items()), prop.raw],
            ensure_ascii=False,
        )
        for prop in card.properties
        if prop.name not in _NOT_CONTENT
    )
    digest = hashlib.sha256("\n".join(content).encode("utf-8")).hexdigest()
    return f"sha256:{digest}"


def card_nickname(card: VCard) -> str:
    """The display name for a card: ``FN``, else ``N`` (given, additional and family
    names), else the first ``NICKNAME``, else the first email's local part; ``""`` when
    the card has none of them. NFKC-cleaned and cut to the nickname limit."""
    candidates: list[str] = [card.first_text("FN")]
    for prop in card.all("N"):
        parts = prop.components + [""] * 5
        # Each N component may be a comma list ("Richter,James" additional names).
        names = (parts[1], parts[2], parts[0])
        candidates.append(" ".join(n.replace(",", " ").strip() for n in names if n.strip()))
    for prop in card.all("NICKNAME"):
        candidates += prop.values
    for prop in card.all("EMAIL"):
        local, at, _host = prop.text.strip().removeprefix("mailto:").rpartition("@")
        if at and local:
            candidates.append(local)
    for candidate in candidates:
        name = clean_display(candidate)
        if name:
            return name[:NICKNAME_MAX]
    return ""


def handle_base_for(nickname: str) -> str:
    """The directory handle to try first for ``nickname``, or ``""`` when none fits.

    Transliterated to ASCII (``disarm.slugify``: ``Zoë O’Brien`` → ``zoe-o-brien``,
    ``Дмитрий Иванов`` → ``dmitriy-ivanov``) so handles can be typed anywhere. Names in
    scripts that do not write what a romanization needs keep their letters: Han (the
    reading depends on the language, Japanese or Chinese, which a card does not say:
    ``山田-花子``) and the abjads, which leave vowels out (``عمر-حداد``, not ``mr-hdad``).
    """
    keep_letters = bool(set(disarm.detect_scripts(nickname)) & _SCRIPTS_KEPT)
    slug = disarm.slugify(nickname, allow_unicode=keep_letters) or ""
    slug = slug[:DIRECTORY_HANDLE_MAX].strip("-._")
    try:
        return normalize_directory_handle(slug).display
    except NormalizationError:
        return ""


_LEADING_REPR = re.compile(r"""^(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")


def _generic(message: str) -> str:
    """A reason fit for grouping: normalization messages start with the value they
    refused (``'+1-800-MYFAX' holds letters …``); it is replaced by "the value"."""
    return _LEADING_REPR.sub("the value", message)


def _label(prop: VCardProperty) -> str:
    if prop.label:
        apple = _APPLE_LABEL.match(prop.label)
        if apple:
            return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", apple.group(1)).lower()
        return prop.label
    words = [t for t in prop.types if t in _LABEL_TYPES]
    words += [t[2:] for t in prop.types if t.startswith("x-") and len(t) > 2]
    return ", ".join(dict.fromkeys(words))


def _rank(prop: VCardProperty) -> int:
    pref = prop.param("PREF")
    if pref.isdigit():
        return max(1, min(int(pref), 100))
    return 1 if "pref" in prop.types else 101


class _Planner:
    def __init__(self, card: VCard, region: str | None):
        self.card = card
        self.region = region
        self.handles: dict[tuple[str, str], PlannedHandle] = {}
        self.candidates: dict[str, _Candidate] = {}
        self.skipped: list[SkippedProperty] = []

    def skip(self, prop: VCardProperty, reason: str, detail: str = "") -> None:
        """Record a property left out; ``detail`` is a message that names the value."""
        value = prop.text.strip()
        if not detail:
            detail = f"{value[:80]!r}: {reason}" if value else reason
        self.skipped.append(
            SkippedProperty(
                line=prop.line,
                reason=f"{prop.name}: {reason}",
                detail=f"{prop.name} skipped: {detail}",
            )
        )

    def add_handle(self, kind: str, raw: str) -> str:
        """Normalize and keep a handle; returns its canonical form. Raises
        NormalizationError."""
        normal = normalize_handle(kind, raw)
        self.handles.setdefault((normal.kind, normal.key), PlannedHandle(kind, raw, normal.key))
        return normal.canonical

    def add_endpoint(
        self,
        prop: VCardProperty,
        uri: str,
        *,
        audience: str = Endpoint.Audience.EVERYONE,
        capabilities: frozenset[str] | None = None,
    ) -> None:
        normal = normalize_endpoint_uri(uri)
        if normal.uri not in self.candidates:
            self.candidates[normal.uri] = _Candidate(
                uri=normal.uri,
                capabilities=capabilities,
                label=clean_display(_label(prop))[:LABEL_MAX],
                audience=audience,
                rank=_rank(prop),
                order=len(self.candidates),
            )

    def plan(self) -> CardPlan:
        for prop in self.card.properties:
            reader = {
                "TEL": self.tel,
                "EMAIL": self.email,
                "IMPP": self.impp,
                "URL": self.url,
                "X-SOCIALPROFILE": self.social_profile,
            }.get(prop.name)
            if reader is None and prop.name in _SERVICE_PROPERTIES:
                reader = self.service_property
            if reader is None:
                continue
            if not prop.text.strip():
                self.skip(prop, "empty value")
                continue
            try:
                reader(prop)
            except NormalizationError as exc:
                self.skip(prop, _generic(exc.detail), exc.detail)
        nickname = card_nickname(self.card)
        if not nickname:
            raise CardSkipped("no FN, N, NICKNAME or email address to name the entry")
        ordered = sorted(self.candidates.values(), key=lambda c: (c.rank, c.order))
        endpoints = [
            PlannedEndpoint(
                uri=c.uri,
                capabilities=c.capabilities
                if c.capabilities is not None
                else normalize_endpoint_uri(c.uri).capabilities,
                preference=10 * (index + 1),
                label=c.label,
                audience=c.audience,
            )
            for index, c in enumerate(ordered)
        ]
        return CardPlan(
            import_key=card_import_key(self.card),
            nickname=nickname,
            handle_base=handle_base_for(nickname),
            handles=list(self.handles.values()),
            endpoints=endpoints,
            skipped=self.skipped,
        )

    # Property readers. Each raises NormalizationError or calls skip() with the reason.

    def tel(self, prop: VCardProperty) -> None:
        number = read_tel(prop.text, self.region)
        types = set(prop.types)
        capabilities: set[str] = set()
        if types & {"voice", "cell", "iphone", "mobile"}:
            capabilities.add("voice")
        if types & {"text", "msg", "cell", "iphone", "mobile", "pager", "textphone"}:
            capabilities.add("text")
        if "video" in types:
            capabilities.add("video")
        if not capabilities:
            if "fax" in types or "modem" in types or "bbs" in types:
                self.skip(prop, "fax or modem number: not a voice, video or text endpoint")
                return
            # RFC 2426 §3.3.1 and RFC 6350 §6.4.1: a TEL without a type is a voice number.
            capabilities.add("voice")
        self.add_endpoint(
            prop,
            number.tel_uri,
            audience=Endpoint.Audience.CONTACTS,
            capabilities=frozenset(capabilities),
        )

    def email(self, prop: VCardProperty) -> None:
        canonical = self.add_handle(HandleKind.EMAIL, prop.text.strip())
        self.add_endpoint(prop, f"mailto:{canonical}")

    def url(self, prop: VCardProperty) -> None:
        self.add_handle(HandleKind.WEB, prop.text.strip())

    def social_profile(self, prop: VCardProperty) -> None:
        service = next((t for t in prop.types if t in _SOCIAL_KINDS), "")
        if not service:
            named = next((t for t in prop.types if t not in _NOT_A_SERVICE), "no type")
            self.skip(prop, f"Worldbook has no handle kind for {named}")
            return
        value = prop.param("X-USER") or prop.text.strip()
        self.add_handle(_SOCIAL_KINDS[service], value)

    def service_property(self, prop: VCardProperty) -> None:
        self.im(prop, _SERVICE_PROPERTIES[prop.name], prop.text.strip())

    def impp(self, prop: VCardProperty) -> None:
        value = prop.text.strip()
        scheme_match = _URI_SCHEME.match(value) if not value.startswith("@") else None
        scheme = scheme_match.group(1).lower() if scheme_match else ""
        named = prop.param("X-SERVICE-TYPE") or next(
            (t for t in prop.types if t not in _NOT_A_SERVICE and not t.startswith("x-")), ""
        )
        if scheme in _IMPP_SCHEMES:
            self.im(prop, scheme, value)
        elif scheme in ("https", "http") and "matrix.to/" in value:
            self.im(prop, "matrix", value)
        elif scheme in ("https", "http") and "://t.me/" in value:
            self.im(prop, "telegram", value)
        elif named:
            # The service lives in a parameter (Nextcloud, Apple); "live:" Skype IDs and
            # similar look like a scheme but belong to the value.
            self.im(prop, named, value)
        elif scheme:
            self.skip(prop, f"Worldbook has no handle kind for {scheme_match.group(1)}")
        else:
            self.skip(prop, "names no service (no URI scheme, X-SERVICE-TYPE or TYPE)")

    def im(self, prop: VCardProperty, service: str, value: str) -> None:
        kind = _SERVICE_KINDS.get(service.lower())
        if kind is None:
            self.skip(prop, f"Worldbook has no handle kind for {service}")
            return
        if kind == HandleKind.MATRIX and value.lower().startswith("matrix:") and "u/" not in value:
            value = value[len("matrix:") :]
        if kind == HandleKind.MATRIX and not value.startswith(("@", "https://", "matrix:")):
            # Nextcloud and others store a Matrix ID typed as user@server, the form
            # people write for every other service; the Matrix form is @user:server.
            local, at, server = value.rpartition("@")
            if at and local and ":" not in local:
                value = f"@{local}:{server}"
        if kind == HandleKind.SIP and value.lower().startswith("sips:"):
            canonical = self.add_handle(kind, value)
            self.add_endpoint(prop, f"sips:{canonical}")
            return
        canonical = self.add_handle(kind, value)
        if kind == HandleKind.XMPP:
            self.add_endpoint(prop, f"xmpp:{canonical}")
        elif kind == HandleKind.SIP:
            self.add_endpoint(prop, f"sip:{canonical}")
        elif kind == HandleKind.MATRIX:
            self.add_endpoint(prop, f"https://matrix.to/#/{canonical}")
        elif kind == HandleKind.TELEGRAM:
            self.add_endpoint(prop, f"https://t.me/{canonical}")


def plan_card(card: VCard, *, region: str | None = None) -> CardPlan:
    """Work out what ``card`` asks the directory to hold, without touching the database.

    Inputs: a parsed card; ``region`` (ISO 3166-1 alpha-2) to read national phone
    numbers. Output: a :class:`CardPlan`. Raises :class:`CardSkipped` when the card has
    nothing to name the entry by. Properties that cannot be read are listed in
    ``plan.skipped``, never silently changed.
    """
    return _Planner(card, region).plan()
