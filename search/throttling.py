"""Rates for the search pages, shared with ``/api/v1/search``.

The results page (and its ``partial=1`` fragment for search-as-you-type) counts against the
API's ``search`` rate per client (``THROTTLE_SEARCH``: the signed-in account, else the
address) and its ``search_ip`` rate per address (``THROTTLE_SEARCH_IP``), under the same
cache keys as :class:`accounts.throttling.ClientRateThrottle` and
:class:`accounts.throttling.AddressRateThrottle`, so a client has one budget for the page
and the API. Like the API's throttles these keep one client from starving the others.
"""

from __future__ import annotations

import math

from django.http import HttpRequest
from rest_framework.throttling import SimpleRateThrottle

SCOPE = "search"


class _SearchPageThrottle(SimpleRateThrottle):
    def __init__(self, scope: str, ident: str) -> None:
        self.scope = scope
        self.ident = ident
        super().__init__()

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.ident}


def search_page_wait(request: HttpRequest) -> int | None:
    """Count one search page request against ``search`` (per account, else per address)
    and ``search_ip`` (per address) of ``DEFAULT_THROTTLE_RATES``.

    Output: ``None`` when both allow it, else the seconds to wait before the next try.
    """
    per_client = _SearchPageThrottle(SCOPE, "")
    address = per_client.get_ident(request)  # honours NUM_PROXIES like the API
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    per_client.ident = f"user-{user.pk}" if signed_in else f"ip-{address}"
    for throttle in (per_client, _SearchPageThrottle(f"{SCOPE}_ip", address)):
        if not throttle.allow_request(request, None):
            return max(1, math.ceil(throttle.wait() or 1))
    return None
