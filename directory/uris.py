"""URIs, not IRIs, in what Worldbook answers: hosts in IDNA A-labels (RFC 5891), paths and
acct: user parts percent-encoded UTF-8 (RFC 3986 §2.1, RFC 7565 §7)."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote, urlsplit

import idna
from django.conf import settings


@lru_cache(maxsize=64)
def ascii_host(host: str) -> str:
    """``host`` as ASCII: IDNA A-labels (UTS #46 mapping) for a name with non-ASCII letters,
    unchanged otherwise (ASCII names, IP literals). Raises nothing: a name IDNA refuses is
    percent-encoded instead (RFC 3986 §3.2.2)."""
    if host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        return quote(host, safe="")


@lru_cache(maxsize=8)
def _site_uri(site_url: str) -> str:
    parts = urlsplit(site_url)
    if parts.netloc.isascii():
        return site_url
    netloc = ascii_host(parts.hostname or "")
    if parts.port:
        netloc += f":{parts.port}"
    return f"{parts.scheme}://{netloc}{quote(parts.path, safe='/%')}"


def site_uri() -> str:
    """``settings.SITE_URL`` as a URI (its host in IDNA A-labels), without a final slash."""
    return _site_uri(settings.SITE_URL)


def acct_uri(user: str, host: str) -> str:
    """The ``acct:`` URI (RFC 7565) of ``user`` at ``host``: the user part percent-encoded
    except its unreserved characters, the host in A-labels."""
    return f"acct:{quote(user, safe='')}@{ascii_host(host)}"
