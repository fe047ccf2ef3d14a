"""The shared cache's Redis backend: Django's own, with one client for the process.

Django's :class:`~django.core.cache.backends.redis.RedisCache` builds a new redis-py client
object for every cache call (its connection pool is kept, the client is not). On the
resolve path that cost more than the Redis round trip itself, so this backend keeps one
client per connection pool for the life of the process. redis-py clients are thread-safe
and their pools reconnect after a fork, so gthread workers and ``--preload`` are fine.

:func:`redis_client` hands the same client to code that needs a Redis command the cache API
lacks (the throttles' script, :mod:`accounts.throttling`).
"""

from __future__ import annotations

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache as _DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as _DjangoRedisCacheClient


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
    cache = caches[alias]
    if not isinstance(cache, _DjangoRedisCache):
        return None
    return cache._cache.get_client(write=True)
