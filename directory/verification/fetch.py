"""The SSRF-safe HTTPS fetcher every verifier reads proofs through (httpx).

Rules (each one a test in ``tests/verification/test_ssrf.py``):

- ``https`` only; user-info in the URL refused;
- the host is resolved through :mod:`directory.verification.resolver`, every address is
  checked (:func:`check_address`) and the connection goes to the checked address, with the
  name sent as ``Host`` and TLS SNI and the certificate verified for the name; so a second
  DNS answer (rebinding) cannot move the connection elsewhere;
- hosts that end in a number (``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``127.1``) are
  refused as the WHATWG URL Standard's "ends in a number" would read them as IPv4;
- at most :data:`MAX_REDIRECTS` redirects, each target checked like the first URL;
- :data:`MAX_BYTES` read at most (the rest is dropped and ``truncated`` set);
- ``VERIFICATION_TIMEOUT_MS`` for the whole fetch; no cookies kept or sent; the
  User-Agent ``Worldbook-Verifier/<version> (+<SITE_URL>)``; no proxy from the environment.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
import time
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urljoin, urlsplit

import certifi
import httpx
from django.conf import settings

from directory.exceptions import NormalizationError
from directory.normalization import normalize_domain
from directory.verification import resolver
from directory.verification.errors import ProofRefused, ProofUnreachable

MAX_REDIRECTS = 3
MAX_BYTES = 1024 * 1024
_ENDS_IN_NUMBER = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")
# RFC 6052 NAT64 well-known prefix: the last 32 bits are an IPv4 address.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_REDIRECTS = (301, 302, 303, 307, 308)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def user_agent() -> str:
    """``Worldbook-Verifier/<version> (+<SITE_URL>)``, the User-Agent of every fetch."""
    try:
        release = version("worldbook")
    except PackageNotFoundError:
        release = "0"
    return f"Worldbook-Verifier/{release} (+{settings.SITE_URL})"


@dataclass
class FetchResult:
    """What one fetch read.

    ``url`` is the final URL (after redirects), ``status`` its HTTP status, ``body`` at
    most :data:`MAX_BYTES` bytes (``truncated`` when more was sent), ``address`` the IP
    address connected to, ``redirects`` the URLs that answered with a redirect.
    """

    url: str
    status: int
    content_type: str
    body: bytes
    truncated: bool
    address: str
    redirects: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def evidence(self) -> dict:
        """A JSON-ready summary for a check's evidence (no body)."""
        return {
            "url": self.url,
            "status": self.status,
            "content_type": self.content_type,
            "address": self.address,
            "bytes": len(self.body),
            "truncated": self.truncated,
            "redirects": self.redirects,
        }


@lru_cache(maxsize=32)
def _allowed(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in entries)


def check_address(address: IPAddress) -> None:
    """Refuse an address a verifier must never connect to.

    Input: an IPv4 or IPv6 address. Refused (``ProofRefused``): loopback, private
    (RFC 1918, RFC 4193), link-local, multicast, reserved, unspecified (``0.0.0.0``,
    ``::``), shared (RFC 6598) and every other non-global address (IANA special-purpose
    registries), and IPv6 forms that carry such an IPv4 address (IPv4-mapped, 6to4,
    Teredo, NAT64 ``64:ff9b::/96``). Addresses inside ``VERIFICATION_ALLOWED_ADDRESSES`` pass.
    """
    if any(address in net for net in _allowed(tuple(settings.VERIFICATION_ALLOWED_ADDRESSES))):
        return
    inner: IPAddress | None = None
    if isinstance(address, ipaddress.IPv6Address):
        inner = (
            address.ipv4_mapped
            or address.sixtofour
            or (address.teredo[1] if address.teredo else None)
        )
        if inner is None and address in _NAT64:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    for candidate in (address, inner):
        if candidate is None:
            continue
        if (
            not candidate.is_global
            or candidate.is_loopback
            or candidate.is_private
            or candidate.is_link_local
            or candidate.is_multicast
            or candidate.is_reserved
            or candidate.is_unspecified
        ):
            raise ProofRefused(f"{address} is not a public internet address")


def _target(url: str) -> tuple[str, str, int, str]:
    """Split an https URL into (host, path-and-query, port, host header)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ProofRefused(f"{url} is not a well-formed URL") from None
    if parts.scheme.lower() != "https":
        raise ProofRefused(f"{url} is not an https URL")
    if parts.username is not None or parts.password is not None:
        raise ProofRefused(f"{url} holds a user name or password")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ProofRefused(f"{url} names no host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    port = port or settings.VERIFICATION_HTTPS_PORT
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is None:
        if _ENDS_IN_NUMBER.match(host.rsplit(".", 1)[-1]):
            raise ProofRefused(f"{host} is a numeric address spelling, not a host name")
        try:
            host = normalize_domain(host)
        except NormalizationError:
            raise ProofRefused(f"{host} is not a valid host name") from None
        header = host
    else:
        host = str(literal)
        header = f"[{host}]" if literal.version == 6 else host
    if parts.port is not None and parts.port != 443:
        header = f"{header}:{parts.port}"
    return host, path, port, header


@lru_cache(maxsize=8)
def _ssl_context(bundle: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=bundle or certifi.where())


def fetch(
    url: str,
    *,
    fresh: bool = False,
    accept: str = "text/html",
    credentials: dict[str, str] | None = None,
) -> FetchResult:
    """GET ``url`` under the rules of this module.

    Inputs: ``url`` (https), ``fresh`` (DNS without cache), ``accept`` (the Accept header),
    ``credentials`` (headers such as ``Authorization`` sent to ``url``'s host only: a
    redirect to another host drops them). Output: :class:`FetchResult` for any final status
    below 500 (404 included: verifiers read it as a missing proof). Raises
    :class:`ProofRefused` for a refused address, scheme or redirect chain and
    :class:`ProofUnreachable` for timeouts, connection failures, 5xx and 429 answers, a
    403 that says its rate limit is spent (``X-RateLimit-Remaining: 0``, as GitHub's API),
    and DNS failures (transient).
    """
    timeout = settings.VERIFICATION_TIMEOUT_MS / 1000
    deadline = time.monotonic() + timeout
    redirects: list[str] = []
    current = url
    context = _ssl_context(settings.VERIFICATION_CA_BUNDLE)
    # The transport, not a Client: no cookie jar, no redirect handling, no proxy from the
    # environment; each hop below is checked here first. No connection is kept for reuse,
    # so a hop to another name on the same address gets a TLS session of its own.
    with httpx.HTTPTransport(
        verify=context, retries=0, limits=httpx.Limits(max_keepalive_connections=0)
    ) as transport:
        while True:
            host, path, port, header = _target(current)
            if credentials and host != _target(url)[0]:
                credentials = None
            address = _pick_address(host, fresh=fresh)
            netloc = f"[{address}]" if address.version == 6 else str(address)
            request = httpx.Request(
                "GET",
                f"https://{netloc}:{port}{path}",
                headers={
                    "Host": header,
                    "User-Agent": user_agent(),
                    "Accept": accept,
                    "Accept-Encoding": "identity",
                    **(credentials or {}),
                },
                extensions={
                    "sni_hostname": host,
                    "timeout": _remaining(deadline, current),
                },
            )
            try:
                response = transport.handle_request(request)
            except httpx.TimeoutException:
                raise ProofUnreachable(f"{current} did not answer within {timeout:g} s") from None
            except httpx.HTTPError as exc:
                if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                    raise ProofRefused(
                        f"{current} did not show a valid certificate for {host}"
                    ) from None
                raise ProofUnreachable(f"{current} could not be reached ({_short(exc)})") from None
            try:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    redirects.append(current)
                    if len(redirects) > MAX_REDIRECTS:
                        raise ProofRefused(f"{url} redirected more than {MAX_REDIRECTS} times")
                    current = urljoin(current, response.headers["location"])
                    continue
                spent = (
                    response.status_code == 403
                    and response.headers.get("x-ratelimit-remaining") == "0"
                )
                if response.status_code >= 500 or response.status_code == 429 or spent:
                    raise ProofUnreachable(
                        f"{current} answered {response.status_code} {response.reason_phrase}"
                    )
                body, truncated = _read_capped(response, deadline, current)
                return FetchResult(
                    url=current,
                    status=response.status_code,
                    content_type=response.headers.get("content-type", ""),
                    body=body,
                    truncated=truncated,
                    address=str(address),
                    redirects=redirects,
                )
            finally:
                response.close()


def _pick_address(host: str, *, fresh: bool) -> IPAddress:
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    found = [literal] if literal is not None else resolver.addresses(host, fresh=fresh)
    if not found:
        raise ProofRefused(f"{host} has no address in DNS")
    # Every address is checked, not only the one used: a name that also points inside
    # the network is refused whole.
    for address in found:
        check_address(address)
    return found[0]


def _remaining(deadline: float, url: str) -> dict[str, float]:
    left = deadline - time.monotonic()
    if left <= 0:
        raise ProofUnreachable(f"{url} took too long (redirects included)")
    return {"connect": left, "read": left, "write": left, "pool": left}


def _read_capped(response: httpx.Response, deadline: float, url: str) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_raw():
            if time.monotonic() > deadline:
                raise ProofUnreachable(f"{url} sent its answer too slowly")
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_BYTES:
                return b"".join(chunks)[:MAX_BYTES], True
    except httpx.TimeoutException:
        raise ProofUnreachable(f"{url} stopped sending its answer") from None
    except httpx.HTTPError as exc:
        raise ProofUnreachable(f"{url} broke off its answer ({_short(exc)})") from None
    return b"".join(chunks), False


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "…"
