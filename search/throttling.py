"""Rates for the search pages, shared with ``/api/v1/search``.

The results page (and its ``partial=1`` fragment for search-as-you-type) counts against the
API's ``search`` rate per client (``THROTTLE_SEARCH``: the signed-in account, else the
address) and its ``search_ip`` rate per address (``THROTTLE_SEARCH_IP``), under the same
counters as :class:`accounts.throttling.RequestRateThrottle`, so a client has one budget
for the page and the API. Like the API's throttles these keep one client from starving the others.
"""

from __future__ import annotations

import math

from django.http import HttpRequest

from accounts.throttling import take
from directory.client_address import client_address

SCOPE = "search"


def search_page_wait(request: HttpRequest) -> int | None:
    """Count one search page request against ``search`` (per account, else per address)
    and ``search_ip`` (per address) of ``DEFAULT_THROTTLE_RATES``, in one count
    (:func:`accounts.throttling.take`).

    Output: ``None`` when both allow it, else the seconds to wait before the next try.
    """
    address = client_address(request.META)
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    client = f"user-{user.pk}" if signed_in else f"ip-{address}"
    wait = take([(SCOPE, client), (f"{SCOPE}_ip", address)])
    return None if wait is None else max(1, math.ceil(wait or 1))
