"""DNS for proofs, through dnspython with the resolver named in the settings.

``VERIFICATION_DNS_NAMESERVERS`` and ``VERIFICATION_DNS_PORT`` choose the servers (none: the
system's ``resolv.conf``). Scheduled re-checks share one cache that honours each record's
TTL (RFC 1035 §3.2.1); a check a person or moderator asked for ("check now") asks the
servers afresh, so a record just published or just removed is seen at once.
"""

from __future__ import annotations

import ipaddress
import threading

import dns.exception
import dns.name
import dns.resolver
from django.conf import settings

from directory.verification.errors import ProofUnreachable

_cache = dns.resolver.LRUCache(max_size=10_000)
_lock = threading.Lock()

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def get_resolver(*, fresh: bool) -> dns.resolver.Resolver:
    """Return a dnspython resolver configured from the settings.

    Input: ``fresh`` — ``True`` for a resolver without cache ("check now"). Output: a
    :class:`dns.resolver.Resolver` whose lifetime is ``VERIFICATION_TIMEOUT_MS``.
    """
    servers = settings.VERIFICATION_DNS_NAMESERVERS
    try:
        resolver = dns.resolver.Resolver(configure=not servers)
    except dns.exception.DNSException:
        raise ProofUnreachable("no DNS resolver is configured on this server") from None
    if servers:
        resolver.nameservers = list(servers)
    resolver.port = settings.VERIFICATION_DNS_PORT
    resolver.lifetime = settings.VERIFICATION_TIMEOUT_MS / 1000
    resolver.timeout = resolver.lifetime
    if not fresh:
        with _lock:
            resolver.cache = _cache
    return resolver


def _query(name: str, rdtype: str, *, fresh: bool):
    try:
        return get_resolver(fresh=fresh).resolve(name, rdtype, search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return None
    except dns.resolver.NoNameservers:
        # Every server answered SERVFAIL or refused: the zone is broken for now.
        raise ProofUnreachable(f"the DNS servers failed to answer for {name} (SERVFAIL)") from None
    except dns.exception.Timeout:
        raise ProofUnreachable(f"the DNS lookup of {name} timed out") from None
    except (dns.name.LabelTooLong, dns.name.NameTooLong, dns.name.EmptyLabel):
        return None
    except dns.exception.DNSException as exc:
        # No resolver configured, a malformed answer …: nothing the handle's owner did.
        raise ProofUnreachable(f"the DNS lookup of {name} failed ({type(exc).__name__})") from None


def txt_records(name: str, *, fresh: bool) -> list[str]:
    """Return the TXT records at ``name``, each one's strings joined (RFC 7208 §3.3 style).

    Input: a domain name in A-label form; ``fresh`` as for :func:`get_resolver`. Output: a
    list of text values, ``[]`` when the name or its TXT records do not exist. Raises
    :class:`ProofUnreachable` on SERVFAIL or timeout (a transient failure).
    """
    answer = _query(name, "TXT", fresh=fresh)
    if answer is None:
        return []
    return [b"".join(record.strings).decode("utf-8", errors="replace") for record in answer]


def addresses(host: str, *, fresh: bool) -> list[IPAddress]:
    """Return the IPv4 (A) and IPv6 (AAAA) addresses of ``host``, IPv4 first.

    Raises :class:`ProofUnreachable` when the lookup fails transiently; an empty list means
    the name has no address.
    """
    found: list[IPAddress] = []
    for rdtype in ("A", "AAAA"):
        answer = _query(host, rdtype, fresh=fresh)
        if answer is not None:
            found.extend(ipaddress.ip_address(record.address) for record in answer)
    return found


def clear_cache() -> None:
    """Forget every cached answer (the cache scheduled re-checks share)."""
    with _lock:
        _cache.flush()
