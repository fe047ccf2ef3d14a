"""The shared cache's Redis backend: Django's own, with one client for the process.

Django's :class:`~django.core.cache.backends.redis.RedisCache` builds a new redis-py client
object for every cache call (its connection pool is kept, the client is not). On the
resolve path that cost more than the Redis round trip itself, so this backend keeps one
client per connection pool for the life of the process. redis-py clients are thread-safe
and their pools reconnect after a fork, so gthread workers and ``--preload`` are fine.

:func:`redis_client` hands the same client to code that needs a Redis command the cache API
lacks (the throttles' script, :mod:`accounts.throttling`).

When Redis is down, :func:`with_local_fallback` runs rate limits and counters on a
per-process cache instead, and :data:`outage` logs the outage once, not per request.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache as _DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as _DjangoRedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

T = TypeVar("T")


class RedisCacheClient(_DjangoRedisCacheClient):
    """Django's Redis cache client that builds each redis-py client once."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(_DjangoRedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with :class:`RedisCacheClient`."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient


def redis_client(alias: str = "default"):
    """The redis-py client of cache ``alias`` when it is a Redis cache, else ``None``.

    Output: the process's client for writes (the first server), shared with the cache.
    """
    return redis_client_of(caches[alias])


def redis_client_of(cache) -> object | None:
    """:func:`redis_client` for a cache object already in hand (``caches[alias]``)."""
    if not isinstance(cache, _DjangoRedisCache):
        return None
    return cache._cache.get_client(write=True)


# ------------------------------------------------------------------ when Redis is down

# What redis-py raises when the server cannot be reached or does not answer in time.
REDIS_ERRORS: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError)

_outage_logger = logging.getLogger("directory.cache.outage")


class _Outage:
    """Logs a Redis outage once when it starts and once when Redis answers again, however
    many requests meet it in between (every process logs its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.since: float | None = None

    def failed(self, what: str, exc: BaseException) -> None:
        """Note that ``what`` failed on Redis with ``exc``; logs a warning only for the
        first failure of an outage."""
        with self._lock:
            if self.since is not None:
                return
            self.since = time.monotonic()
        _outage_logger.warning(
            "Redis unreachable (%s: %s): answers come from the database and rate limits are "
            "counted per process until it answers again",
            what,
            exc,
        )

    def recovered(self) -> None:
        """Note that Redis answered; logs once when that ends an outage."""
        if self.since is None:
            return
        with self._lock:
            since, self.since = self.since, None
        if since is not None:
            _outage_logger.warning(
                "Redis answers again after %.0f s; shared counters resume",
                time.monotonic() - since,
            )


outage = _Outage()

# The per-process stand-in for the shared cache while Redis is down (rate limits, counters,
# the Meilisearch circuit breaker). Never used for the answer cache, whose records must be
# dropped in every process at once: during an outage answers come from the database.
_local = LocMemCache("worldbook-redis-fallback", {"OPTIONS": {"MAX_ENTRIES": 100_000}})
# Read-modify-write counting on the local cache is made atomic by this lock.
local_lock = threading.RLock()


@contextlib.contextmanager
def local_cache():
    """Within the block, this thread's default cache is the per-process local-memory
    cache, and one thread at a time runs the block (so read-modify-write counting on it
    is atomic)."""
    previous = caches[DEFAULT_CACHE_ALIAS]
    with local_lock:
        caches[DEFAULT_CACHE_ALIAS] = _local  # this thread's handle only (asgiref Local)
        try:
            yield _local
        finally:
            caches[DEFAULT_CACHE_ALIAS] = previous


def with_local_fallback(function: Callable[..., T]) -> Callable[..., T]:
    """Wrap ``function``, which uses the default cache, so that when Redis fails it runs
    again, in this thread only, on the per-process :func:`local_cache` (the outage logged
    once by :data:`outage`). Only for what may be counted per process for a while: rate
    limits, operational counters, the Meilisearch circuit breaker."""

    @functools.wraps(function)
    def wrapped(*args, **kwargs):
        try:
            result = function(*args, **kwargs)
        except REDIS_ERRORS as exc:
            outage.failed(getattr(function, "__qualname__", "cache"), exc)
        else:
            if isinstance(caches[DEFAULT_CACHE_ALIAS], _DjangoRedisCache):
                outage.recovered()
            return result
        with local_cache():
            return function(*args, **kwargs)

    return wrapped
