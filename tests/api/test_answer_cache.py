"""The answer cache never changes an answer: a property test over random writes and reads.

Hypothesis draws sequences of the services' writes (edit, rename, reorder, change an
audience, add/verify/revoke/remove handles, suspend/restore, contacts, findable by
number, retire a number, delete and create again) interleaved with resolves, entry reads
and WebFinger queries by anonymous, signed-in, verified, contact and owner callers. Every
read is made twice, with the answer cache on (Redis) and off, and the two answers must be
the same bytes. It needs PostgreSQL and Redis: the writes commit for real, so the cache is
dropped by the on-commit hooks exactly as in production.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from accounts.contacts import contact_remove, contact_save
from directory import services
from directory.exceptions import WorldbookError
from directory.models import Endpoint, Entry, Handle
from directory.numbers import services as numbers
from directory.numbers.hashing import HashKey
from directory.numbers.models import LinkedNumber
from directory.numbers.sms import locmem
from tests.api.conftest import UserFactory
from tests.sites import DOMAIN, SITE_URL

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

CALLERS = ("anonymous", "signed_in", "verified", "contact", "owner")
AUDIENCES = [a.value for a in Endpoint.Audience]


@pytest.fixture
def redis_site(settings):
    """A Redis answer cache of the test's own (fresh key prefix), rates out of the way."""
    from rest_framework.throttling import SimpleRateThrottle

    settings.SITE_URL = SITE_URL
    settings.WORLDBOOK_DOMAIN = DOMAIN
    settings.ALLOWED_HOSTS = ["testserver", DOMAIN]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {
        "default": {
            "BACKEND": "directory.cache.RedisCache",
            "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "KEY_PREFIX": f"answers-test-{uuid.uuid4().hex}",
        }
    }
    settings.ANSWER_CACHE = True
    settings.NUMBER_SMS_BACKEND = "directory.numbers.sms.locmem.LocmemSmsBackend"
    settings.NUMBER_HASH_KEYS = (HashKey(1, b"answer-cache-test-key"),)
    settings.NUMBER_LOOKUPS_PER_DAY = 1_000_000
    # The entry page, vCard and WebFinger count per address too (django-ratelimit).
    settings.PUBLIC_RATE_LIMIT = "1000000/s"
    rates = SimpleRateThrottle.THROTTLE_RATES
    saved = dict(rates)
    rates.update({scope: "1000000/s" for scope in rates})
    yield
    rates.clear()
    rates.update(saved)
    from django.core.cache import cache

    try:
        cache.clear()
    except Exception:
        pass  # a test that pointed the cache at a dead server


@dataclass
class World:
    """One example's people and entries, names suffixed so examples do not meet."""

    tag: str
    users: dict = field(default_factory=dict)
    clients: dict = field(default_factory=dict)
    names: list = field(default_factory=list)
    values: list = field(default_factory=list)
    number: str = ""

    def entry(self, who: str) -> Entry | None:
        return Entry.objects.filter(owner=self.users[who]).order_by("pk").first()


def _number(tag: str) -> str:
    return "+1415555" + str(int(tag, 16) % 10_000).zfill(4)


def make_world() -> World:
    tag = uuid.uuid4().hex[:6]
    world = World(tag=tag)
    world.names = [f"al{tag}", f"alice{tag}", f"vi{tag}", f"free{tag}"]
    world.values = [
        ("email", f"al{tag}@example.org"),
        ("email", f"x{tag}@example.org"),
        ("fediverse", f"@al{tag}@social.example"),
        ("github", f"gh{tag}"),
    ]
    for who in ("owner", "verified", "contact", "signed_in"):
        world.users[who] = UserFactory(username=f"{who}{tag}")
    alice = services.entry_create(
        nickname="Alice", handle=world.names[0], owner=world.users["owner"]
    )
    vic = services.entry_create(
        nickname="Vic", handle=world.names[2], owner=world.users["verified"]
    )
    cara = services.entry_create(nickname="Cara", handle=f"ca{tag}", owner=world.users["contact"])
    services.handle_mark_verified(
        handle=services.handle_add(entry=vic, kind="github", raw=f"v{tag}")
    )
    contact_save(owner=alice, saved=cara)
    for n, audience in enumerate(AUDIENCES):
        services.endpoint_add(
            entry=alice,
            uri=f"sip:{audience}{tag}@sip.example.org",
            audience=audience,
            preference=10 * (n + 1),
        )
    kind, value = world.values[0]
    services.handle_mark_verified(handle=services.handle_add(entry=alice, kind=kind, raw=value))
    world.number = _number(tag)
    locmem.outbox.clear()
    try:
        numbers.number_send_code(entry=alice, raw=world.number)
        code = next(m for m in locmem.outbox if m.to == world.number).body
        import re

        numbers.number_verify(
            entry=alice, raw=world.number, code=re.search(r"\b(\d{6})\b", code).group(1)
        )
    except WorldbookError:
        pass
    for who in CALLERS:
        client = APIClient()
        if who != "anonymous":
            client.force_login(world.users[who])
        world.clients[who] = client
    return world


# ------------------------------------------------------------------------------ writes


def _alice(world):
    return world.entry("owner")


def w_edit(world, data):
    entry = _alice(world)
    if entry:
        services.entry_update(
            entry=entry, nickname=data.draw(st.sampled_from(["Alice", "Al", "Ms A"]))
        )


def w_rename(world, data):
    entry = _alice(world)
    if entry:
        services.entry_update(
            entry=entry, handle=data.draw(st.sampled_from(world.names[:2] + world.names[3:]))
        )


def w_findable(world, data):
    entry = _alice(world)
    if entry:
        services.entry_update(entry=entry, findable_by_number=data.draw(st.booleans()))


def _endpoint(world, data):
    endpoints = list(Endpoint.objects.filter(entry__owner=world.users["owner"]).order_by("pk"))
    return data.draw(st.sampled_from(endpoints)) if endpoints else None


def w_reorder(world, data):
    if (endpoint := _endpoint(world, data)) is not None:
        services.endpoint_update(endpoint=endpoint, preference=data.draw(st.integers(1, 90)))


def w_audience(world, data):
    if (endpoint := _endpoint(world, data)) is not None:
        services.endpoint_update(endpoint=endpoint, audience=data.draw(st.sampled_from(AUDIENCES)))


def w_endpoint_add_remove(world, data):
    entry = _alice(world)
    if entry is None:
        return
    if data.draw(st.booleans()) and (endpoint := _endpoint(world, data)) is not None:
        services.endpoint_remove(endpoint=endpoint)
    else:
        services.endpoint_add(
            entry=entry,
            uri=f"xmpp:n{data.draw(st.integers(0, 5))}{world.tag}@xmpp.example",
            audience=data.draw(st.sampled_from(AUDIENCES)),
        )


def _handles(world):
    return list(Handle.objects.filter(entry__owner__username__endswith=world.tag).order_by("pk"))


def w_handle_add(world, data):
    who = data.draw(st.sampled_from(["owner", "verified"]))
    entry = world.entry(who)
    if entry:
        kind, value = data.draw(st.sampled_from(world.values))
        services.handle_add(entry=entry, kind=kind, raw=value)


def w_handle_change(world, data):
    handles = _handles(world)
    if not handles:
        return
    handle = data.draw(st.sampled_from(handles))
    action = data.draw(st.sampled_from(["verify", "revoke", "remove"]))
    if action == "verify":
        services.handle_mark_verified(handle=handle)
    elif action == "revoke":
        services.handle_revoke(handle=handle)
    else:
        services.handle_remove(handle=handle)


def w_status(world, data):
    who = data.draw(st.sampled_from(["owner", "verified", "contact"]))
    entry = world.entry(who)
    if entry:
        status = data.draw(st.sampled_from([Entry.Status.SUSPENDED, Entry.Status.ACTIVE]))
        services.entry_set_status(entry=entry, status=status)


def w_contact(world, data):
    alice, cara = _alice(world), world.entry("contact")
    if alice and cara:
        if data.draw(st.booleans()):
            contact_save(owner=alice, saved=cara)
        else:
            contact_remove(owner=alice, handle=cara.handle)


def w_retire(world, data):
    linked = LinkedNumber.objects.filter(
        entry__owner=world.users["owner"], state=LinkedNumber.State.ACTIVE
    ).first()
    if linked:
        numbers.number_retire_start(linked=linked, audience=data.draw(st.sampled_from(AUDIENCES)))


def w_delete_create(world, data):
    who = data.draw(st.sampled_from(["owner", "verified"]))
    entry = world.entry(who)
    if entry:
        services.entry_delete(entry=entry, allow_suspended=True)
    else:
        services.entry_create(
            nickname=who, handle=data.draw(st.sampled_from(world.names)), owner=world.users[who]
        )


WRITES = [
    w_edit,
    w_rename,
    w_findable,
    w_reorder,
    w_audience,
    w_endpoint_add_remove,
    w_handle_add,
    w_handle_change,
    w_status,
    w_contact,
    w_retire,
    w_delete_create,
]


# ------------------------------------------------------------------------------- reads


def read(world, data):
    client = world.clients[data.draw(st.sampled_from(CALLERS))]
    surface = data.draw(st.sampled_from(["resolve", "entry", "webfinger"]))
    if surface == "resolve":
        query = data.draw(
            st.sampled_from(
                [f"@{name}" for name in world.names]
                + [value for _kind, value in world.values]
                + [f"https://github.com/gh{world.tag}", f"acct:{world.names[0]}@{DOMAIN}"]
                + [world.number, f"tel:{world.number}"]
            )
        )
        path, params = "/api/v1/resolve", {"handle": query}
    elif surface == "entry":
        path, params = f"/api/v1/entries/{data.draw(st.sampled_from(world.names))}", {}
    else:
        name = data.draw(st.sampled_from(world.names))
        path, params = "/.well-known/webfinger", {"resource": f"acct:{name}@{DOMAIN}"}
    cached = client.get(path, params)
    with override_settings(ANSWER_CACHE=False):
        fresh = client.get(path, params)
    assert (cached.status_code, cached.content) == (fresh.status_code, fresh.content), (
        path,
        params,
    )
    assert cached["Content-Type"] == fresh["Content-Type"]


@hsettings(
    max_examples=int(os.environ.get("ANSWER_CACHE_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_cached_answers_equal_answers_computed_afresh(redis_site, data):
    world = make_world()
    steps = data.draw(
        st.lists(st.sampled_from([*WRITES, read, read, read]), min_size=5, max_size=40)
    )
    for step in steps:
        if step is read:
            read(world, data)
            continue
        try:
            step(world, data)
        except WorldbookError:
            pass  # refused as the service refuses it (a taken name, a held handle…)
        # After each write, a few reads that the previous answers may have cached.
        for _ in range(3):
            read(world, data)


def test_a_cache_that_fails_is_not_a_failure(settings, redis_site):
    """With Redis unreachable, answers come from the database."""
    world = make_world()
    settings.CACHES = {
        "default": {
            "BACKEND": "directory.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    for who in CALLERS:
        client = APIClient()
        if who != "anonymous":
            client.force_login(world.users[who])
        response = client.get("/api/v1/resolve", {"handle": f"@{world.names[0]}"})
        assert response.status_code == 200, response.content
        assert client.get("/api/v1/resolve", {"handle": "@nobody-here"}).status_code == 404


def test_a_hit_serves_from_the_cache_and_a_write_drops_it(redis_site, django_assert_num_queries):
    """The second anonymous resolve makes no query; a committed edit is seen at once."""
    world = make_world()
    anonymous = world.clients["anonymous"]
    query = {"handle": f"@{world.names[0]}"}
    assert anonymous.get("/api/v1/resolve", query).json()["entry"]["nickname"] == "Alice"
    with django_assert_num_queries(0):
        assert anonymous.get("/api/v1/resolve", query).status_code == 200
    services.entry_update(entry=_alice(world), nickname="Renamed")
    assert anonymous.get("/api/v1/resolve", query).json()["entry"]["nickname"] == "Renamed"
    services.entry_set_status(entry=_alice(world), status=Entry.Status.SUSPENDED)
    assert anonymous.get("/api/v1/resolve", query).status_code == 404
