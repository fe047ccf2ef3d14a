"""Rates for the numbers pages, counted in the cache like the API's throttles.

The API views name a ``throttle_scope``; a page calls :func:`page_throttle_wait` with the
same scope, so the page and the API share one rate per account (``<scope>``) and one per
address (``<scope>_ip``). Like the API's throttles these keep one client from starving the
others; the limits that must hold are kept in the database.
"""

from __future__ import annotations

import math

from django.http import HttpRequest
from rest_framework.throttling import SimpleRateThrottle


class _PageRateThrottle(SimpleRateThrottle):
    def __init__(self, scope: str, ident: str | None) -> None:
        self.scope = scope
        self.ident = ident
        super().__init__()

    def get_cache_key(self, request, view) -> str:
        ident = self.ident or f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


def page_throttle_wait(request: HttpRequest, scope: str) -> int | None:
    """Count one request of a signed-in person against ``scope`` (per account, the API's
    ``user-<id>`` key) and ``<scope>_ip`` (per address) of ``DEFAULT_THROTTLE_RATES``.

    Output: ``None`` when both allow it, else the seconds to wait before the next try.
    """
    for name, ident in ((scope, f"user-{request.user.pk}"), (f"{scope}_ip", None)):
        throttle = _PageRateThrottle(name, ident)
        if not throttle.allow_request(request, None):
            return max(1, math.ceil(throttle.wait() or 1))
    return None
