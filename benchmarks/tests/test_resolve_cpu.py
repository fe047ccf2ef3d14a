"""The per-layer CPU tool counts what each call sends to the database and to Redis."""

from __future__ import annotations

import pytest
from django.core.cache import caches

from benchmarks.resolve_cpu import measure
from directory.models import Entry


@pytest.mark.django_db
def test_it_counts_the_queries_of_each_call():
    row = measure("two queries", lambda n: (Entry.objects.exists(), Entry.objects.count()), 40, 4)
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[0] == "two queries"
    assert float(cells[1]) > 0 and float(cells[2]) > 0
    assert cells[3:] == ["2.00", "0.00"]


@pytest.mark.redis
def test_it_counts_the_redis_commands_of_each_call(settings):
    from conftest import redis_url

    settings.CACHES = {
        "bench": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url(),
            "KEY_PREFIX": "bench-test",
        }
    }
    cache = caches["bench"]
    row = measure("get and set", lambda n: cache.set("k", cache.get("k", 0) + 1, 5), 20, 2)
    assert row.rstrip().endswith("| 0.00 | 2.00 |")
