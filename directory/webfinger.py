"""WebFinger (RFC 7033) for directory handles: reading the resource, building the JRD.

A query names an entry by its acct: URI (RFC 7565, ``acct:alice@WORLDBOOK_DOMAIN``) or by
its entry page URL. The answer is a JSON Resource Descriptor that tells a calling app
where the entry's page and vCard are and which endpoints anyone may use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings

from directory.display import entry_api_url, entry_page_url, entry_vcard_url
from directory.exceptions import NormalizationError, NotFound
from directory.models import Entry
from directory.normalization import normalize_domain
from directory.policy import visible_endpoints

JRD_CONTENT_TYPE = "application/jrd+json"
PROFILE_PAGE_REL = "http://webfinger.net/rel/profile-page"
# rel="alternate" is the IANA link relation for another representation of the subject.
ALTERNATE_REL = "alternate"
ENDPOINT_PATH = "/ns/endpoint"
# RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


def endpoint_rel() -> str:
    """The link relation URI of an endpoint link (``{SITE_URL}/ns/endpoint``)."""
    return settings.SITE_URL + ENDPOINT_PATH


def endpoint_property(name: str) -> str:
    """The URI of an endpoint link property, e.g. ``{SITE_URL}/ns/endpoint#capabilities``."""
    return f"{endpoint_rel()}#{name}"


class MalformedResource(NormalizationError):
    """The ``resource`` parameter is absent or not a URI (RFC 7033 §4.2: 400)."""


def resource_handle(resource: str | None) -> str:
    """Read the directory handle a WebFinger ``resource`` names.

    Input: the ``resource`` query parameter: ``acct:alice@WORLDBOOK_DOMAIN`` (the user
    part may be percent-encoded, RFC 7565 §7; the host compares as an IDNA domain) or
    the entry page URL ``{SITE_URL}/@alice``. Output: the handle as written (``alice``),
    to be looked up. Raises :class:`MalformedResource` when the parameter is missing or
    not a URI, and :class:`NotFound` for a URI this server holds nothing about (another
    domain, another site, another kind of URI): RFC 7033 §4.2 answers 400 and 404.
    """
    if resource is None or not resource.strip():
        raise MalformedResource("The resource parameter is required (RFC 7033 §4.1).")
    text = resource.strip()
    scheme, sep, rest = text.partition(":")
    if not sep or not rest or not _URI_SCHEME.fullmatch(scheme):
        raise MalformedResource(f"{text[:200]!r} is not a URI.")
    scheme = scheme.lower()
    if scheme == "acct":
        user, at, host = rest.rpartition("@")
        if not at or not user or not host:
            raise MalformedResource(f"{text[:200]!r} is not an acct: URI (acct:user@host).")
        # The directory's own host as it is written first: "localhost" (./deploy/run's
        # site) is no full domain name, which normalize_domain refuses.
        same_domain = host.lower() == settings.WORLDBOOK_DOMAIN
        if not same_domain:
            try:
                same_domain = normalize_domain(host) == settings.WORLDBOOK_DOMAIN
            except NormalizationError:
                same_domain = False
        if not same_domain:
            raise NotFound("This server holds no information about that resource.")
        return unquote(user)
    if scheme in ("http", "https"):
        try:
            parts = urlsplit(text)
        except ValueError:  # an unclosed IPv6 bracket: https://[::1
            raise MalformedResource(f"{text[:200]!r} is not a well-formed URL.") from None
        site = urlsplit(settings.SITE_URL)
        same_site = (parts.scheme.lower(), parts.netloc.lower()) == (
            site.scheme.lower(),
            site.netloc.lower(),
        )
        path = unquote(parts.path)
        if same_site and path.startswith("/@") and "/" not in path[2:]:
            return path[2:]
    raise NotFound("This server holds no information about that resource.")


def entry_jrd(entry: Entry, rels: Iterable[str] = ()) -> dict[str, Any]:
    """Build the JRD (RFC 7033 §4.4) of ``entry`` for an anonymous caller.

    Output: a dict with ``subject`` (the acct: URI), ``aliases`` (the entry page URL)
    and ``links``: the profile page (``http://webfinger.net/rel/profile-page``,
    text/html), the vCard and the API's JSON (``alternate``), then one link per endpoint
    anyone may use, in preference order, with ``rel`` = ``{SITE_URL}/ns/endpoint``,
    ``href`` (the URI a client opens), ``titles`` (the owner's label) and ``properties``
    (capabilities as space-separated words, service, scheme, preference rank; property
    values are strings as §4.4.4 requires). ``rels``, when given, keeps only links whose
    ``rel`` is among them (§4.3); ``subject`` and ``aliases`` stay.
    """
    page_url = entry_page_url(entry)
    links: list[dict[str, Any]] = [
        {
            "rel": PROFILE_PAGE_REL,
            "type": "text/html",
            "href": page_url,
            "titles": {"und": entry.nickname},
        },
        {"rel": ALTERNATE_REL, "type": "text/vcard", "href": entry_vcard_url(entry)},
        {
            "rel": ALTERNATE_REL,
            "type": "application/json",
            "href": entry_api_url(entry),
        },
    ]
    for rank, endpoint in enumerate(visible_endpoints(entry, None), start=1):
        link: dict[str, Any] = {"rel": endpoint_rel(), "href": endpoint.href}
        if endpoint.href.startswith("https://"):
            link["type"] = "text/html"
        if endpoint.label:
            link["titles"] = {"und": endpoint.label}
        link["properties"] = {
            endpoint_property("capabilities"): " ".join(endpoint.capabilities),
            endpoint_property("service"): endpoint.service,
            endpoint_property("uri"): endpoint.uri,
            endpoint_property("preference"): str(rank),
        }
        links.append(link)
    wanted = set(rels)
    if wanted:
        links = [link for link in links if link["rel"] in wanted]
    return {"subject": entry.acct_uri, "aliases": [page_url], "links": links}
