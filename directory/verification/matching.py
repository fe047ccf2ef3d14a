"""The normal forms proofs are compared in: equality, never "appears somewhere".

- URLs (rel="me" links, profile pages): :func:`directory.normalization.normalize_url` —
  scheme and host lower-cased (host as IDNA A-label), default port dropped, one trailing
  slash dropped, fragment dropped; two URLs match when their normal forms are equal.
- Tokens in a TXT record or a ``.well-known`` file: the whole value, surrounding
  whitespace stripped, equals the token.
- Tokens in free text (a profile bio, a gist, a post): after NFKC, the text split on
  whitespace holds one word equal to the token (``xwb-…`` or ``wb-…!`` do not match).
- AT Protocol: ``alsoKnownAs`` holds ``at://<handle>`` with the handle lower-cased.
"""

from __future__ import annotations

import unicodedata
from html.parser import HTMLParser
from urllib.parse import urljoin

from directory.exceptions import NormalizationError
from directory.normalization import normalize_url


def same_url(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` have one normal form (see the module docstring)."""
    try:
        return normalize_url(a) == normalize_url(b)
    except NormalizationError:
        return False


def url_normal_form(url: str) -> str | None:
    """The normal form of ``url``, or ``None`` when it is not an http(s) URL."""
    try:
        return normalize_url(url)
    except NormalizationError:
        return None


def value_is_token(value: str, token: str) -> bool:
    """True when a whole TXT value or file body (stripped) equals ``token``."""
    return value.strip() == token


def text_holds_token(text: str, token: str) -> bool:
    """True when ``text`` (NFKC) split on whitespace has a word equal to ``token``."""
    return token in unicodedata.normalize("NFKC", text).split()


class _PageParser(HTMLParser):
    """Collects rel="me" links and description meta tags; copes with a cut-off page
    (the 1 MiB cap) because it only acts on complete start tags."""

    def __init__(self, base: str):
        super().__init__(convert_charrefs=True)
        self.base = base
        self.rel_me: list[str] = []
        self.descriptions: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "") for name, value in attrs}
        if tag in ("a", "link"):
            rels = values.get("rel", "").lower().split()
            if "me" in rels and values.get("href"):
                self.rel_me.append(urljoin(self.base, values["href"].strip()))
        elif tag == "base" and values.get("href"):
            self.base = urljoin(self.base, values["href"].strip())
        elif tag == "meta":
            key = (values.get("property") or values.get("name") or "").lower()
            if key in ("og:description", "twitter:description", "description"):
                self.descriptions.append(values.get("content", ""))

    handle_startendtag = handle_starttag


def parse_page(html: str, base: str) -> tuple[list[str], list[str]]:
    """Read an HTML page (possibly cut off) for proofs.

    Inputs: the page text and its URL (to resolve relative links). Output:
    ``(rel_me_links, descriptions)``: absolute URLs of ``<a>``/``<link>`` elements whose
    ``rel`` holds ``me`` (HTML Living Standard, microformats rel="me"), in page order, and
    the contents of ``og:description``, ``twitter:description`` and ``description`` meta
    tags. Never raises on malformed or truncated HTML.
    """
    parser = _PageParser(base)
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):
        # html.parser gives up on some broken markup; what it read so far stands.
        pass
    return parser.rel_me, parser.descriptions
