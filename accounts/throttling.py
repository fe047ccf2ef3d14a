"""Quotas on the API, counted in the Django cache (Redis in production).

A client is the OAuth2 application for a bearer caller, the account for a signed-in
person, the address for anyone else. Every API view has one general rate per client
(``anon`` for callers who are no one, ``user`` for apps and accounts); a view that names a
``throttle_scope`` ("resolve", "search") adds that scope's rate per client and the
``<scope>_ip`` rate per address, whoever calls from it. They keep one client from starving
the others; they are not a security control (see ``REST_FRAMEWORK`` in the settings).

All the rates of a request are counted together by :func:`take`: on Redis in one round
trip (a Lua script over one sorted set per counter, through the process's client,
:func:`directory.cache.redis_client`); on another cache (the file cache of a single
machine, the tests' local memory) with DRF's own algorithm, one counter after another.
Both keep DRF's sliding window: a request is refused when the counter holds ``N`` requests
younger than the period, and a refused request is not counted against that rate.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import secrets
import time
from functools import lru_cache

from django.core.cache import cache
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from accounts.oauth import is_bearer_request

logger = logging.getLogger(__name__)

# A Lua function counting one request against the sorted sets KEYS[1..n]. ARGV: now (the
# score of this request), a member id unique to this request, '1' to prune the sets of
# requests older than their window ('0' leaves them: the count looks at the window only,
# and pruning now and then bounds the sets' size), then per key its limit, its period in
# milliseconds (the set's expiry) and the window's exclusive lower bound ('(' and now less
# the period; worked out by the caller, since formatting numbers in Lua cost Redis more
# than the counting). Returns per key '-1' (counted) or the seconds until the oldest
# request in the window leaves it (refused, not counted). Shared by the throttles' script
# and the resolve fast path's (directory.fastpath), which goes on to read the answer cache
# in the same call.
COUNT_LUA = """
local function count(n)
  local now = ARGV[1]
  local member = ARGV[2]
  local prune = ARGV[3] == '1'
  local out = {}
  for i = 1, n do
    local key = KEYS[i]
    local a = 1 + 3 * i
    local after = ARGV[a + 2]
    if prune then
      redis.call('ZREMRANGEBYSCORE', key, '-inf', after)
    end
    if redis.call('ZCOUNT', key, after, '+inf') < tonumber(ARGV[a]) then
      redis.call('ZADD', key, now, member .. ':' .. i)
      redis.call('PEXPIRE', key, ARGV[a + 1])
      out[i] = '-1'
    else
      local oldest = redis.call('ZRANGEBYSCORE', key, after, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
      out[i] = tostring(tonumber(oldest[2]) + tonumber(ARGV[a + 1]) / 1000 - tonumber(now))
    end
  end
  return out
end
"""
# One request in this many prunes the sets it counts against.
PRUNE_EVERY = 16
_SCRIPT = COUNT_LUA + "return count(#KEYS)\n"
_scripts: dict[int, object] = {}


def _rate(scope: str) -> tuple[int, int] | None:
    rate = SimpleRateThrottle.THROTTLE_RATES.get(scope)
    if not rate:
        return None
    return SimpleRateThrottle.parse_rate(None, rate)


def _wanted(counts: list[tuple[str, str]]) -> list[tuple[str, int, int]]:
    wanted = []
    for scope, ident in counts:
        rate = _rate(scope)
        if rate is not None:
            wanted.append((f"throttle_{scope}_{ident}", *rate))
    return wanted


# Members of the counters' sorted sets: unique per request in this process (the counter
# below) and across processes (a random prefix drawn when the module loads and again in
# each child a fork makes, such as gunicorn's workers after --preload: two processes
# adding the same member would count two requests as one).
_MEMBER_PREFIX = secrets.token_hex(6) + "-"
_members = itertools.count()


def _new_member_prefix() -> None:
    global _MEMBER_PREFIX, _members
    _MEMBER_PREFIX = secrets.token_hex(6) + "-"
    _members = itertools.count()


os.register_at_fork(after_in_child=_new_member_prefix)


@lru_cache(maxsize=4096)
def _planned(counts: tuple, rates: tuple, cache_, prefix: str, version) -> tuple[tuple, tuple]:
    keys: list[str] = []
    limits: list[tuple[int, int, int]] = []
    for (scope, ident), rate in zip(counts, rates, strict=True):
        if rate:
            limit, period = SimpleRateThrottle.parse_rate(None, rate)
            keys.append(cache_.make_key(f"throttle_{scope}_{ident}"))
            limits.append((limit, period, math.ceil(period * 1000)))
    return tuple(keys), tuple(limits)


def count_arguments(
    counts: tuple[tuple[str, str], ...], cache_=None
) -> tuple[list[str], list[object]]:
    """The KEYS and ARGV of :data:`COUNT_LUA`'s ``count`` for ``counts`` (``(scope,
    ident)`` pairs; scopes without a rate are left out), for a script of the caller's own
    that calls it. Read the verdicts with :func:`waits_from`. The keys and rates of a
    set of counts are worked out once per process (again when a rate or the cache
    changes). ``cache_``: the default cache when the caller holds it already."""
    from django.core.cache import caches

    default = caches["default"] if cache_ is None else cache_
    rates = SimpleRateThrottle.THROTTLE_RATES
    keys, limits = _planned(
        counts,
        tuple([rates.get(scope) for scope, _ident in counts]),
        default,
        default.key_prefix,
        default.version,
    )
    return list(keys), _script_args(limits)


def _script_args(limits) -> list[object]:
    """ARGV of :data:`COUNT_LUA` for ``limits``, one ``(limit, period in seconds, period
    in milliseconds)`` per key."""
    number = next(_members)
    now = time.time()
    prune = "0" if number % PRUNE_EVERY else "1"
    args: list[object] = [repr(now), f"{_MEMBER_PREFIX}{number}", prune]
    for limit, period, milliseconds in limits:
        args += (limit, milliseconds, f"({now - period!r}")
    return args


def waits_from(answers) -> float | None:
    """The wait (as :func:`take` returns it) from the script's answer."""
    waits = [float(answer) for answer in answers if float(answer) >= 0]
    return max(waits) if waits else None


def take(counts: list[tuple[str, str]]) -> float | None:
    """Count one request against each ``(scope, ident)`` of ``counts`` whose scope has a
    rate in ``DEFAULT_THROTTLE_RATES``.

    Output: ``None`` when every rate allows it, else the seconds to wait (the longest
    wait among the rates that refuse, DRF's :meth:`SimpleRateThrottle.wait` for each).
    On Redis, one round trip; when Redis cannot be reached the rates are counted by a
    per-process limiter (:func:`take_locally`) and the outage is logged once.
    """
    wanted = _wanted(counts)
    if not wanted:
        return None
    from directory.cache import REDIS_ERRORS, outage, redis_client

    client = redis_client()
    if client is None:
        return _take_in_cache(wanted)
    script = _scripts.get(id(client))
    if script is None:
        script = _scripts[id(client)] = client.register_script(_SCRIPT)
    args = _script_args([(limit, period, math.ceil(period * 1000)) for _k, limit, period in wanted])
    try:
        answers = script(keys=[cache.make_key(key) for key, _l, _p in wanted], args=args)
    except REDIS_ERRORS as exc:
        outage.failed("throttles", exc)
        return take_locally(wanted)
    except Exception:
        logger.exception("throttles: Redis failed; the request is let through")
        return None
    outage.recovered()
    return waits_from(answers)


def take_locally(wanted: list[tuple[str, int, int]]) -> float | None:
    """The per-process limiter used while Redis is down: :func:`_take_in_cache` on this
    process's local-memory cache (:func:`directory.cache.local_cache`). Each process then
    allows the full rate, so the limits hold per process until Redis is back."""
    from directory.cache import local_cache

    with local_cache():
        return _take_in_cache(wanted)


def _take_in_cache(wanted: list[tuple[str, int, int]]) -> float | None:
    """DRF's SimpleRateThrottle, counter by counter, on a cache without scripts."""
    waits = []
    for key, limit, period in wanted:
        now = time.time()
        history = [t for t in cache.get(key, []) if t > now - period]
        if len(history) >= limit:
            waits.append(period - (now - history[-1]))
            continue
        history.insert(0, now)
        cache.set(key, history, period)
    return max(waits) if waits else None


def client_ident(request) -> str | None:
    """``app-<id>`` of the OAuth2 application of a bearer caller, ``user-<id>`` of a
    signed-in account, ``None`` for a caller who is no one."""
    if is_bearer_request(request):
        return f"app-{request.auth.application_id}"
    if request.user and request.user.is_authenticated:
        return f"user-{request.user.pk}"
    return None


class RequestRateThrottle(BaseThrottle):
    """Every rate of an API request, counted at once by :func:`take`.

    - ``anon`` per address, for callers who are no one (neither signed in nor a calling
      app with a token); ``user`` per calling app or signed-in account (a
      client-credentials app is anonymous to the contact policy, yet counted as itself
      here, not by the address it shares with other apps);
    - when the view names a ``throttle_scope`` and ``scoped`` is true: the scope's rate
      per client (``app-<id>``, ``user-<id>``, else ``ip-<address>``) and ``<scope>_ip``
      per address, whatever app or account calls from it.
    """

    def __init__(self, scoped: bool = True) -> None:
        self.scoped = scoped
        self._wait: float | None = None

    def allow_request(self, request, view) -> bool:
        from directory.fastpath import THROTTLE_WAIT_KEY

        if THROTTLE_WAIT_KEY in request.META:
            # The resolve fast path counted this request already (directory.fastpath).
            self._wait = request.META[THROTTLE_WAIT_KEY]
            return self._wait is None
        client = client_ident(request)
        address = self.get_ident(request)
        counts = [("anon", address)] if client is None else [("user", client)]
        scope = getattr(view, "throttle_scope", None)
        if scope and self.scoped:
            counts += [(scope, client or f"ip-{address}"), (f"{scope}_ip", address)]
        self._wait = take(counts)
        return self._wait is None

    def get_ident(self, request) -> str:
        """The client address (:func:`directory.client_address.client_address`), never a
        forwarding header no trusted proxy wrote."""
        from directory.client_address import client_address

        return client_address(request.META)

    def wait(self) -> float | None:
        return self._wait
