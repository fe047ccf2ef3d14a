"""Rates for the numbers pages, counted in the cache like the API's throttles.

The API views name a ``throttle_scope``; a page calls :func:`page_throttle_wait` with the
same scope, so the page and the API share one rate per account (``<scope>``) and one per
address (``<scope>_ip``). Like the API's throttles these keep one client from starving the
others; the limits that must hold are kept in the database.
"""

from __future__ import annotations

import math

from django.http import HttpRequest

from accounts.throttling import take
from directory.client_address import client_address


def page_throttle_wait(request: HttpRequest, scope: str) -> int | None:
    """Count one request of a signed-in person against ``scope`` (per account, the API's
    ``user-<id>`` key) and ``<scope>_ip`` (per address) of ``DEFAULT_THROTTLE_RATES``, in
    one count (:func:`accounts.throttling.take`).

    Output: ``None`` when both allow it, else the seconds to wait before the next try.
    """
    address = client_address(request.META)
    wait = take([(scope, f"user-{request.user.pk}"), (f"{scope}_ip", address)])
    return None if wait is None else max(1, math.ceil(wait or 1))
