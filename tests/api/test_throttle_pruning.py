"""The throttles' sorted sets are pruned of requests older than their window now and then
(accounts.throttling.PRUNE_EVERY), not on every request, yet count only the window."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from accounts import throttling

pytestmark = [pytest.mark.redis]


@pytest.fixture
def rates(settings):
    from rest_framework.throttling import SimpleRateThrottle

    settings.CACHES = {
        "default": {
            "BACKEND": "directory.cache.RedisCache",
            "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "KEY_PREFIX": f"pruning-test-{uuid.uuid4().hex}",
        }
    }
    saved = dict(SimpleRateThrottle.THROTTLE_RATES)
    yield SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES.clear()
    SimpleRateThrottle.THROTTLE_RATES.update(saved)


def members(ident: str) -> int:
    from django.core.cache import cache

    from directory.cache import redis_client

    return redis_client().zcard(cache.make_key(f"throttle_anon_{ident}"))


def test_requests_older_than_the_window_are_pruned(rates):
    rates["anon"] = "100000/s"
    ident = uuid.uuid4().hex
    batch = 4 * throttling.PRUNE_EVERY
    for _ in range(batch):
        assert throttling.take([("anon", ident)]) is None
    assert members(ident) == batch
    time.sleep(1.1)  # the whole first batch is now older than the one-second window
    for _ in range(batch):
        assert throttling.take([("anon", ident)]) is None
    # A prune ran among the second batch: the first one is gone (kept, the set would hold
    # twice the batch); a slow machine can only have pruned more.
    assert members(ident) <= batch


def test_the_count_looks_at_the_window_only(rates, monkeypatch):
    from django.core.cache import cache

    from directory.cache import redis_client

    # No request prunes here: only the count's own window can leave the old ones out.
    monkeypatch.setattr(throttling, "PRUNE_EVERY", 10**12)
    next(throttling._members)  # the next member's number is not 0, which would prune

    rates["anon"] = "3/s"
    ident = uuid.uuid4().hex
    # Three requests two seconds old, not pruned yet: they are outside the window.
    stale = time.time() - 2
    key = cache.make_key(f"throttle_anon_{ident}")
    redis_client().zadd(key, {f"old-{n}": stale for n in range(3)})
    assert throttling.take([("anon", ident)]) is None
    # Counted on Redis (not let through by a failing script): the old three stay, unpruned.
    assert redis_client().zcard(key) == 4


def test_a_forked_process_draws_members_of_its_own():
    """Two processes adding the same member to a counter would count two requests as one."""
    import os

    reader, writer = os.pipe()
    parent_prefix = throttling._script_args([])[1].rsplit("-", 1)[0]
    pid = os.fork()
    if pid == 0:  # the child reports its first member and leaves at once
        os.write(writer, throttling._script_args([])[1].encode())
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        child_member = pipe.read()
    os.waitpid(pid, 0)
    assert child_member and child_member.rsplit("-", 1)[0] != parent_prefix


def test_the_script_decides_as_drfs_sliding_window_to_the_microsecond(monkeypatch):
    """The counting script against DRF's SimpleRateThrottle, step by step on a clock the
    test sets: requests a microsecond apart, at the window's edge and long after it. Each
    verdict and each wait must be DRF's (a wait to the microsecond)."""
    import random
    import types

    import redis

    clock = types.SimpleNamespace(now=1_777_000_000.123456)
    monkeypatch.setattr(throttling, "time", types.SimpleNamespace(time=lambda: clock.now))
    client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    script = client.register_script(throttling._SCRIPT)
    keys = [f"window-test-{uuid.uuid4().hex}-{n}" for n in range(2)]
    limits = [(3, 1), (5, 60)]  # 3/s and 5/min
    histories: list[list[float]] = [[], []]
    rng = random.Random(1)
    try:
        for step in range(3000):
            clock.now += rng.choice([0.0, 1e-6, 0.013, 0.3, 0.999999, 1.0, 2.5])
            now = clock.now
            expected = []
            for history, (limit, period) in zip(histories, limits, strict=True):
                history[:] = [t for t in history if t > now - period]  # DRF's window
                if len(history) >= limit:
                    expected.append(min(history) + period - now)  # DRF's wait()
                else:
                    history.append(now)
                    expected.append(None)
            args = throttling._script_args([(lim, per, per * 1000) for lim, per in limits])
            verdicts = [float(v) for v in script(keys=keys, args=args)]
            for want, got in zip(expected, verdicts, strict=True):
                if want is None:
                    assert got == -1, (step, expected, verdicts)
                else:
                    assert got >= 0 and abs(got - want) < 1e-6, (step, expected, verdicts)
    finally:
        client.delete(*keys)
