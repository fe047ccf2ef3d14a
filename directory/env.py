"""Typed readers for settings that come from the environment.

Each helper fails loudly (``ImproperlyConfigured``) on a value it cannot read, so a
typo in a deployment never turns into a silent default.
"""

from __future__ import annotations

import os
import re

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def envbool(name: str, default: bool) -> bool:
    """Read a boolean variable.

    Accepts ``1/0``, ``true/false``, ``yes/no``, ``on/off`` (any case). Unset or empty gives
    ``default``. Anything else raises ``ImproperlyConfigured``.
    """
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def envint(name: str, default: int, *, minimum: int | None = None) -> int:
    """Read an integer variable; raise ``ImproperlyConfigured`` when it is not one."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def envstr(name: str, default: str = "") -> str:
    """Read a string variable, stripped; unset or empty gives ``default``."""
    return os.environ.get(name, "").strip() or default


RATE_UNITS = ("s", "sec", "second", "m", "min", "minute", "h", "hour", "d", "day")
_RATE = re.compile(r"^([1-9][0-9]*)/(" + "|".join(RATE_UNITS) + r")s?$")


def is_rate(value: str) -> bool:
    """Whether ``value`` is a request rate both DRF throttles and django-ratelimit read
    the same way: ``N/unit`` with N ≥ 1 and unit one of :data:`RATE_UNITS` (``300/min``,
    ``30/hour``, ``5/s``)."""
    return bool(_RATE.match(value))


def envrate(name: str, default: str) -> str:
    """Read a request rate (``N/s``, ``N/min``, ``N/hour``, ``N/day``); raise
    ``ImproperlyConfigured`` naming ``name`` when it is not one."""
    value = envstr(name, default)
    if not is_rate(value):
        raise ImproperlyConfigured(
            f"{name} must be a rate such as 60/min (N/s, N/min, N/hour or N/day), not {value!r}"
        )
    return value


def envlist(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated list; blank items are dropped."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def envchoice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """Read a variable that must be one of ``choices``; raise ``ImproperlyConfigured`` if not."""
    value = envstr(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value
