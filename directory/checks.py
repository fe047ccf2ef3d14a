"""System checks of the directory's settings that apply to values however they were set
(``manage.py check``, ``migrate`` and ``runserver`` run them)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from directory.env import is_rate


@register()
def check_throttle_rates(app_configs=None, **kwargs) -> list[Error]:
    """Every rate of ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` and
    ``PUBLIC_RATE_LIMIT`` must read as ``N/s``, ``N/min``, ``N/hour`` or ``N/day`` (``None``
    turns a DRF scope off). Output: one error per unreadable rate, naming the
    ``THROTTLE_<SCOPE>`` variable it usually comes from."""
    rates = dict(getattr(settings, "REST_FRAMEWORK", {}).get("DEFAULT_THROTTLE_RATES", {}))
    rates["public"] = getattr(settings, "PUBLIC_RATE_LIMIT", "1/s")
    return [
        Error(
            f"The throttle rate {scope!r} is {rate!r}, which is not a rate.",
            hint=f"Set THROTTLE_{scope.upper()} to N/s, N/min, N/hour or N/day, e.g. 60/min.",
            id="directory.E001",
        )
        for scope, rate in rates.items()
        if rate is not None and not (isinstance(rate, str) and is_rate(rate))
    ]
