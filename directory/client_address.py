"""The client's address: the one function every throttle, rate limit, sign-in lock and
audit record asks.

``REMOTE_ADDR`` is the peer of the TCP connection. Only when that peer is a proxy listed
in ``settings.TRUSTED_PROXIES`` (the environment's ``FORWARDED_ALLOW_IPS``, the list
gunicorn trusts for ``X-Forwarded-Proto``) is ``X-Forwarded-For`` read, from the right:
each address a trusted proxy appended is skipped, and the first one no trusted proxy
vouches for is the client. By default the list is empty, so no forwarding header is
trusted and a client cannot choose the address it is counted under. ``*`` trusts any
peer as one proxy: the last address of ``X-Forwarded-For`` is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[bool, tuple[Network, ...]]:
    anyone = "*" in trusted
    return anyone, tuple(
        ipaddress.ip_network(value, strict=False) for value in trusted if value != "*"
    )


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    # No address, with brackets and a port, is longer: a longer value (a hostile
    # X-Forwarded-For entry) is refused before it could fill the kept readings.
    if len(value) > 64:
        return None
    return _address_kept(value)


def _peer_text(remote: str) -> str:
    """The peer's address as text, normalized; ``remote`` itself when it is none."""
    if len(remote) > 64:
        return remote  # _address refuses it
    return _peer_text_kept(remote)


@lru_cache(maxsize=65536)
def _peer_text_kept(remote: str) -> str:
    peer = _address_kept(remote)
    return remote if peer is None else str(peer)


@lru_cache(maxsize=65536)
def _address_kept(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "192.0.2.1:443"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted_proxy(value: str) -> bool:
    """Whether ``value`` (an address as text) is a proxy of ``settings.TRUSTED_PROXIES``."""
    anyone, networks = _networks(tuple(settings.TRUSTED_PROXIES))
    address = _address(value)
    if address is None:
        return False
    return anyone or any(address in network for network in networks)


def client_address(meta: Mapping[str, str]) -> str:
    """The client's address for a request's ``META`` (or a WSGI environ).

    Input: the mapping holding ``REMOTE_ADDR`` and maybe ``HTTP_X_FORWARDED_FOR``.
    Output: the address as text, normalized (IPv4-mapped IPv6 as IPv4); ``REMOTE_ADDR``
    unchanged when no trusted proxy sent the request, ``""`` when there is none at all.
    Raises nothing. Follows RFC 7239 §5.2's reading of the de facto ``X-Forwarded-For``:
    entries are appended by each proxy, so only those right of the last trusted hop count.
    """
    remote = (meta.get("REMOTE_ADDR") or "").strip()
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if not forwarded:
        return _peer_text(remote)
    peer = _address(remote)
    if peer is None:
        return remote
    anyone, _networks_ = _networks(tuple(settings.TRUSTED_PROXIES))
    if not is_trusted_proxy(str(peer)):
        return str(peer)
    hops = [hop for hop in (part.strip() for part in forwarded.split(",")) if hop]
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # a proxy never writes garbage: what is left of it is the client's own
        client = address
        if anyone or not is_trusted_proxy(str(address)):
            break
    return str(client)


def request_client_address(request, *args) -> str:
    """:func:`client_address` of a Django request; the callable django-ratelimit
    (``RATELIMIT_IP_META_KEY``) and django-axes (``AXES_CLIENT_IP_CALLABLE``) are given."""
    return client_address(request.META)


class UntrustedForwardingMiddleware:
    """First middleware: drops ``X-Forwarded-For`` and ``X-Forwarded-Proto`` from a request
    no trusted proxy sent, so nothing after it (Django's ``SECURE_PROXY_SSL_HEADER``, which
    cannot tell who wrote the header, or any library) believes a client's own claim to
    have come over HTTPS or from another address."""

    HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO")

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        if any(name in meta for name in self.HEADERS) and not is_trusted_proxy(
            meta.get("REMOTE_ADDR") or ""
        ):
            for name in self.HEADERS:
                meta.pop(name, None)
        return self.get_response(request)
