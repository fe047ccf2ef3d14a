"""Quotas on the API, counted in the Django cache (Redis in production).

A client is the OAuth2 application for a bearer caller, the account for a signed-in
person, the address for anyone else. Every API view has one general rate per client
(``anon`` for callers who are no one, ``user`` for apps and accounts); a view that names a
``throttle_scope`` ("resolve", "search") adds that scope's rate per client and the
``<scope>_ip`` rate per address, whoever calls from it. They keep one client from starving
the others; they are not a security control (see ``REST_FRAMEWORK`` in the settings).
"""

from __future__ import annotations

from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

from accounts.oauth import is_bearer_request


def _client(request) -> str | None:
    """``app-<id>`` of the OAuth2 application of a bearer caller, ``user-<id>`` of a
    signed-in account, ``None`` for a caller who is no one."""
    if is_bearer_request(request):
        return f"app-{request.auth.application_id}"
    if request.user and request.user.is_authenticated:
        return f"user-{request.user.pk}"
    return None


class ClientRateThrottle(ScopedRateThrottle):
    """The view's scope rate (``"resolve": "600/min"``) per client: ``app-<id>``,
    ``user-<id>``, else ``ip-<address>``."""

    def get_cache_key(self, request, view) -> str:
        ident = _client(request) or f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AddressRateThrottle(ScopedRateThrottle):
    """The rate ``<scope>_ip`` (``"resolve_ip": "1200/min"``) per client address,
    whatever app or account calls from it. Views whose scope has no such rate pass."""

    def allow_request(self, request, view) -> bool:
        scope = getattr(view, self.scope_attr, None)
        if not scope or f"{scope}_ip" not in self.THROTTLE_RATES:
            return True
        self.scope = f"{scope}_ip"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return SimpleRateThrottle.allow_request(self, request, view)

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AnonRateThrottle(SimpleRateThrottle):
    """The ``anon`` rate per address, for callers who are no one (neither signed in nor
    a calling app with a token)."""

    scope = "anon"

    def get_cache_key(self, request, view) -> str | None:
        if _client(request) is not None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class CallerRateThrottle(SimpleRateThrottle):
    """The ``user`` rate per calling app or signed-in account. A client-credentials app
    is anonymous to the contact policy, yet counted as itself here, not by the address
    it shares with other apps."""

    scope = "user"

    def get_cache_key(self, request, view) -> str | None:
        ident = _client(request)
        if ident is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}
