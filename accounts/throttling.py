"""Quotas on the lookup API, counted in the Django cache (Redis in production).

Two limits apply to each view that names a ``throttle_scope`` ("resolve", "search"):
one per client — the OAuth2 application for a bearer caller, the account for a signed-in
person, the address for anyone else — and one per address, whoever calls from it. They
keep one client from starving the others; they are not a security control (see
``REST_FRAMEWORK`` in the settings).
"""

from __future__ import annotations

from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

from accounts.oauth import is_bearer_request


class ClientRateThrottle(ScopedRateThrottle):
    """The view's scope rate (``"resolve": "600/min"``) per client: ``app-<id>`` of the
    OAuth2 application, ``user-<id>`` of a signed-in account, else ``ip-<address>``."""

    def get_cache_key(self, request, view) -> str:
        if is_bearer_request(request):
            ident = f"app-{request.auth.application_id}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
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
