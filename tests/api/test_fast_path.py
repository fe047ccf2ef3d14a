"""The resolve fast path (directory.fastpath) answers exactly as Django would, only faster.

Each test calls the WSGI application the way gunicorn does: the fast path in front of
Django's handler, against Django's handler alone.
"""

from __future__ import annotations

import os
import uuid

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_started
from django.test import RequestFactory

from directory import services
from directory.fastpath import ResolveFastPath
from tests.api.conftest import UserFactory, claim, reach
from tests.sites import DOMAIN, SITE_URL

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def no_fast_path_failure(caplog):
    """The fast path hands a request to Django when it fails; no test may pass that way."""
    yield
    failures = [r for r in caplog.records if r.name == "directory.fastpath"]
    assert not failures, [r.getMessage() for r in failures]


@pytest.fixture
def redis_site(settings):
    from rest_framework.throttling import SimpleRateThrottle

    settings.SITE_URL = SITE_URL
    settings.WORLDBOOK_DOMAIN = DOMAIN
    settings.ALLOWED_HOSTS = ["testserver", DOMAIN]
    settings.CACHES = {
        "default": {
            "BACKEND": "directory.cache.RedisCache",
            "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "KEY_PREFIX": f"fast-path-test-{uuid.uuid4().hex}",
        }
    }
    rates = SimpleRateThrottle.THROTTLE_RATES
    saved = dict(rates)
    rates.update({scope: "1000000/s" for scope in rates})
    yield rates
    rates.clear()
    rates.update(saved)


def call(app, handle: str | None = "@alice", **headers) -> tuple[str, list, bytes]:
    data = {} if handle is None else {"handle": handle}
    environ = RequestFactory().get("/api/v1/resolve", data, HTTP_HOST=DOMAIN, **headers).environ
    seen = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"], seen["headers"] = status, sorted(response_headers)

    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


@pytest.fixture
def alice(redis_site):
    entry = services.entry_create(nickname="Alice", handle="alice", owner=UserFactory())
    claim(entry, "fediverse", "@alice@social.example")
    reach(entry, "sip:alice@sip.example.org")
    reach(entry, "xmpp:alice@xmpp.example", audience="signed_in")
    return entry


@pytest.fixture
def started():
    """How many requests went through Django's request cycle."""
    count = []

    def receiver(**kwargs):
        count.append(1)

    request_started.connect(receiver)
    yield count
    request_started.disconnect(receiver)


def test_a_hit_is_answered_without_django_and_byte_for_byte(alice, started):
    fast, django = ResolveFastPath(WSGIHandler()), WSGIHandler()
    for handle in ("@alice", "alice@social.example", "@alice@social.example"):
        call(fast, handle)  # Django answers and fills the cache
        before = len(started)
        answer = call(fast, handle)
        assert len(started) == before, "a hit went through Django"
        assert answer == call(django, handle)
        assert answer[0] == "200 OK"


def test_misses_and_the_rest_go_through_django_unchanged(alice, started):
    fast, django = ResolveFastPath(WSGIHandler()), WSGIHandler()
    call(fast)
    cases = [
        {"handle": "@nobody"},
        {"handle": "not a handle !"},
        {"handle": None},
        {"HTTP_ACCEPT": "application/json; indent=4"},
        {"HTTP_AUTHORIZATION": "Bearer nonsense"},
    ]
    for case in cases:
        handle = case.pop("handle", "@alice")
        before = len(started)
        assert call(fast, handle, **case) == call(django, handle, **case)
        assert len(started) > before
    # The browsable API (a fresh CSRF token each time): Django answers it.
    before = len(started)
    assert call(fast, HTTP_ACCEPT="text/html")[0] == "200 OK"
    assert len(started) > before


def test_a_write_is_seen_at_once(alice):
    fast = ResolveFastPath(WSGIHandler())
    call(fast)
    assert b'"Alice"' in call(fast)[2]
    services.entry_update(entry=alice, nickname="Alice Liddell")
    assert b'"Alice Liddell"' in call(fast)[2]
    services.entry_set_status(entry=alice, status="suspended")
    assert call(fast)[0].startswith("404")


def test_the_process_copy_is_served_only_while_the_shared_record_is_current(alice, started):
    fast = ResolveFastPath(WSGIHandler())
    call(fast)  # Django fills the shared record
    answer = call(fast)  # the fast path reads it and keeps a copy
    [(key, (tokens, body))] = fast.copies.held.items()
    assert body == answer[2]
    # Mark the copy: while the record's tokens are unchanged the copy is what is served,
    # without reading the record again.
    fast.copies.put(key, tokens, b'{"copy":true}')
    before = len(started)
    assert call(fast)[2] == b'{"copy":true}'
    assert len(started) == before
    # A write replaces the tokens on commit: the marked copy is never served again.
    services.entry_update(entry=alice, nickname="Alice Liddell")
    assert b'"Alice Liddell"' in call(fast)[2]
    assert b'"Alice Liddell"' in call(fast)[2]
    assert fast.copies.held[key][1] != b'{"copy":true}'
    services.entry_set_status(entry=alice, status="suspended")
    assert call(fast)[0].startswith("404")


def test_no_copies_with_the_setting_at_zero(alice, settings):
    settings.ANSWER_CACHE_LOCAL_COPIES = 0
    fast = ResolveFastPath(WSGIHandler())
    call(fast)
    assert call(fast)[0] == "200 OK"
    assert fast.copies.held == {}


def test_the_throttle_refuses_at_the_configured_rate(alice, redis_site):
    fast = ResolveFastPath(WSGIHandler())
    redis_site["resolve"] = "3/min"
    assert call(fast)[0] == "200 OK"  # through Django, which teaches the fast path
    assert call(fast)[0] == "200 OK"
    assert call(fast)[0] == "200 OK"
    status, headers, _body = call(fast)
    assert status.startswith("429")
    assert 0 < int(dict(headers)["Retry-After"]) <= 60


@pytest.fixture
def bearer(alice):
    """A calling app's token (scope lookup) acting for a verified account."""
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import AccessToken, get_application_model

    user = UserFactory()
    entry = services.entry_create(nickname="Vic", handle="vic", owner=user)
    claim(entry, "github", "vic-verified")
    app = get_application_model().objects.create(
        name="caller",
        client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris="https://app.example/callback",
    )
    raw = uuid.uuid4().hex
    token = AccessToken.objects.create(
        user=user,
        application=app,
        token=raw,
        expires=timezone.now() + timedelta(hours=1),
        scope="lookup",
    )
    return raw, token


def test_a_bearer_hit_is_answered_without_django_and_byte_for_byte(alice, bearer, started):
    fast, django = ResolveFastPath(WSGIHandler()), WSGIHandler()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {bearer[0]}"}
    call(fast, **headers)  # Django answers; the token, card and facts are cached
    call(fast, **headers)
    before = len(started)
    answer = call(fast, **headers)
    assert len(started) == before, "a bearer hit went through Django"
    assert answer == call(django, **headers)
    assert b"xmpp:alice@xmpp.example" in answer[2]  # a signed-in caller's endpoint
    assert b"xmpp:alice@xmpp.example" not in call(fast)[2]  # not an anonymous one's


def test_a_bearer_callers_copies_follow_the_callers_facts(alice, bearer, started):
    from accounts.contacts import contact_save
    from directory.models import Entry

    reach(alice, "sip:alice-private@sip.example.org", audience="contacts")
    fast = ResolveFastPath(WSGIHandler())
    headers = {"HTTP_AUTHORIZATION": f"Bearer {bearer[0]}"}
    call(fast, **headers)  # Django answers and fills the shared records
    call(fast, **headers)  # the token's record is stored; Django answers once more
    answer = call(fast, **headers)  # the fast path answers and keeps copies
    assert answer[0] == "200 OK" and b"alice-private" not in answer[2]
    [(_tokens, (_record, _entry_id, _owners, bodies))] = fast.cards.held.values()
    [variant] = bodies
    # While nothing changed the kept body is served without reading the records again.
    bodies[variant] = b'{"copy":true}'
    before = len(started)
    assert call(fast, **headers)[2] == b'{"copy":true}'
    assert len(started) == before
    # Alice saves the caller as a contact: the caller's facts change on commit, and the
    # contacts-only endpoint is in the very next answer.
    contact_save(owner=alice, saved=Entry.objects.get(handle="vic"))
    for _ in range(2):
        answer = call(fast, **headers)
        assert answer[0] == "200 OK" and b"alice-private" in answer[2]
    assert answer == call(WSGIHandler(), **headers)


def test_a_revoked_token_is_refused_at_once(alice, bearer):
    fast = ResolveFastPath(WSGIHandler())
    headers = {"HTTP_AUTHORIZATION": f"Bearer {bearer[0]}"}
    for _ in range(3):
        assert call(fast, **headers)[0] == "200 OK"
    bearer[1].revoke()
    assert call(fast, **headers)[0].startswith("401")


def test_a_closed_account_is_refused_at_once(alice, bearer):
    fast = ResolveFastPath(WSGIHandler())
    headers = {"HTTP_AUTHORIZATION": f"Bearer {bearer[0]}"}
    for _ in range(3):
        assert call(fast, **headers)[0] == "200 OK"
    user = bearer[1].user
    user.is_active = False
    user.save()
    assert call(fast, **headers)[0].startswith("401")


def test_a_lookup_that_finds_nothing_answers_djangos_404_once_seen(alice, started):
    fast, django = ResolveFastPath(WSGIHandler()), WSGIHandler()
    call(fast, "@nobody")  # Django answers; the 404 is learned, the miss cached
    services.entry_set_status(entry=alice, status="suspended")
    call(fast, "@alice")  # the hidden entry's card, cached by Django's answer
    for handle in ("@nobody", "@alice"):
        before = len(started)
        answer = call(fast, handle)
        assert len(started) == before, "a cached 404 went through Django"
        assert answer == call(django, handle)
        assert answer[0] == "404 Not Found"


def test_a_bearer_callers_404_is_djangos_once_seen(alice, bearer, started):
    fast, django = ResolveFastPath(WSGIHandler()), WSGIHandler()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {bearer[0]}"}
    call(fast, **headers)  # Django answers: the host and headers are learned
    call(fast, "@nobody", **headers)  # Django's 404, learned; the token's record stored
    services.entry_set_status(entry=alice, status="suspended")
    call(fast, "@alice", **headers)  # the hidden entry's card, cached by Django's answer
    for handle in ("@nobody", "@alice", "@nobody"):
        before = len(started)
        answer = call(fast, handle, **headers)
        assert len(started) == before, "a bearer caller's cached 404 went through Django"
        assert answer == call(django, handle, **headers)
        assert answer[0] == "404 Not Found"
    # A phone number is always Django's to answer for a signed-in caller.
    call(fast, "+15550100999", **headers)
    before = len(started)
    assert call(fast, "+15550100999", **headers)[0] == "404 Not Found"
    assert len(started) > before


def test_what_django_refuses_at_its_edge_or_in_negotiation_is_refused_alike(alice, started):
    fast, django = ResolveFastPath(WSGIHandler()), WSGIHandler()
    call(fast)
    call(fast, "@nobody")
    cases = [
        {"HTTP_X_PADDING": "a" * 9000},  # a header field over the edge's limit: 431
        {f"HTTP_X_FIELD_{n}": "x" for n in range(120)},  # too many fields: 431
        {"HTTP_ACCEPT": ""},  # an empty Accept: Django's negotiation answers 406
    ]
    for headers in cases:
        for handle in ("@alice", "@nobody"):
            answer = call(fast, handle, **headers)
            assert answer == call(django, handle, **headers)
            assert answer[0][:3] in ("406", "431")


def test_an_invented_bearer_token_leaves_nothing_in_the_cache(alice, redis_site):
    from django.core.cache import cache

    from directory.cache import redis_client

    fast = ResolveFastPath(WSGIHandler())
    call(fast)
    pattern = cache.make_key("answers:t:*")
    before = set(redis_client().scan_iter(match=pattern))
    for _ in range(20):
        assert call(fast, HTTP_AUTHORIZATION=f"Bearer {uuid.uuid4().hex}")[0].startswith("401")
    assert set(redis_client().scan_iter(match=pattern)) == before


def test_a_bearer_caller_is_answered_fast_again_after_their_facts_change(alice, bearer, started):
    from accounts.contacts import contact_save
    from directory.models import Entry

    fast = ResolveFastPath(WSGIHandler())
    headers = {"HTTP_AUTHORIZATION": f"Bearer {bearer[0]}"}
    for _ in range(3):
        call(fast, **headers)
    contact_save(owner=alice, saved=Entry.objects.get(handle="vic"))
    for _ in range(3):  # Django answers while the token's record is stored afresh
        call(fast, **headers)
    before = len(started)
    answer = call(fast, **headers)
    assert len(started) == before, "the caller stayed on Django's path"
    assert answer == call(WSGIHandler(), **headers)


def test_a_rotated_x_forwarded_for_does_not_escape_the_fast_paths_throttle(
    alice, redis_site, settings
):
    # No trusted proxy: the header is the client's own words, and the address counted is
    # the connection's (directory.client_address), in the fast path as in Django.
    settings.TRUSTED_PROXIES = []
    fast = ResolveFastPath(WSGIHandler())
    redis_site["resolve_ip"] = "3/min"
    statuses = [call(fast, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")[0][:3] for n in range(5)]
    assert statuses == ["200", "200", "200", "429", "429"]


def test_a_control_character_is_refused_as_django_refuses_it(alice, started):
    fast = ResolveFastPath(WSGIHandler())
    assert call(fast)[0] == "200 OK"  # through Django, which teaches the fast path
    assert call(fast)[0] == "200 OK"
    # The fast path would have read "@alice\t" as @alice; it leaves it to Django's edge.
    status, headers, body = call(fast, "@alice\t")
    assert status.startswith("400")
    assert b"control-character" in body


def test_a_trusted_proxys_https_is_https_and_a_clients_is_not(alice, started, settings):
    # Granian, unlike gunicorn, leaves wsgi.url_scheme at "http" behind a TLS proxy: the
    # fast path reads X-Forwarded-Proto as Django does, from a trusted proxy only.
    settings.TRUSTED_PROXIES = ["192.0.2.1"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    fast, django = ResolveFastPath(WSGIHandler()), WSGIHandler()
    proxy = {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_PROTO": "https"}
    assert call(fast, **proxy)[0] == "200 OK"  # through Django, which teaches the fast path
    before = len(started)
    answer = call(fast, **proxy)
    assert len(started) == before, "the proxy's HTTPS hit went through Django"
    assert answer == call(django, **proxy)
    # The same claim from a client, or "http" from the proxy: Django redirects to https.
    for headers in (
        {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_PROTO": "https"},
        {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_PROTO": "http"},
    ):
        before = len(started)
        assert call(fast, **headers)[0].startswith("301")
        assert len(started) > before


def test_a_forgotten_script_is_loaded_again_on_the_same_connection(alice, started):
    from directory.cache import redis_client

    fast = ResolveFastPath(WSGIHandler())
    call(fast)
    call(fast)  # the fast path's connection and script are in place
    redis_client().script_flush()  # Redis forgets the script; the connection stays
    before = len(started)
    assert b'"Alice"' in call(fast)[2]
    assert len(started) == before, "the fast path did not load its script again"


def test_an_error_reply_goes_to_django_and_leaves_the_connection_usable(alice, started):
    from django.core.cache import caches

    from directory.cache import redis_client

    fast = ResolveFastPath(WSGIHandler())
    call(fast)
    call(fast)
    # A counter that is not a sorted set: the script fails with WRONGTYPE.
    key = caches["default"].make_key("throttle_anon_127.0.0.1")
    redis_client().set(key, "not a sorted set")
    before = len(started)
    assert b'"Alice"' in call(fast)[2]
    assert len(started) > before, "Django did not answer"
    redis_client().delete(key)
    before = len(started)
    assert b'"Alice"' in call(fast)[2]
    assert len(started) == before, "the fast path's connection did not recover"


def test_each_cache_setting_is_used_as_it_changes(alice, started, settings):
    """The fast path keeps the default cache per thread; a new CACHES setting replaces it."""
    from django.core.cache import caches

    from directory.cache import redis_client

    fast = ResolveFastPath(WSGIHandler())
    call(fast)
    call(fast)
    first = caches["default"].key_prefix
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"{first}-again"}}
    call(fast)  # a miss under the new prefix: Django fills the record
    before = len(started)
    assert b'"Alice"' in call(fast)[2]
    assert len(started) == before
    # The throttles counted under the new prefix, too.
    assert redis_client().exists(caches["default"].make_key("throttle_anon_127.0.0.1"))
    assert caches["default"].key_prefix == f"{first}-again"


def test_push_frames_redis_sends_are_passed_over(redis_site):
    """Over RESP3 Redis sends frames of its own (here client-side caching's invalidation);
    the reply read must be the command's, never a push frame or an earlier reply."""
    from hiredis import pack_command

    from directory.cache import redis_client
    from directory.fastpath import _command, _socket_for

    client = redis_client()
    key = f"push-test-{uuid.uuid4().hex}"
    client.set(key, "before")
    held, _sock = _socket_for(client)
    assert str(held.connection.protocol) == "3"  # redis-py's default: RESP3
    try:
        assert _command(client, pack_command((b"CLIENT", b"TRACKING", b"ON"))) in (b"OK", "OK")
        assert _command(client, pack_command((b"GET", key))) == b"before"  # now tracked
        client.set(key, "after")  # Redis pushes an invalidation to the hot connection
        assert _command(client, pack_command((b"ECHO", b"first"))) == b"first"
        assert _command(client, pack_command((b"ECHO", b"second"))) == b"second"
    finally:
        held.connection.disconnect()
        client.delete(key)


def test_an_exception_while_a_reply_is_awaited_leaves_no_reply_behind(redis_site):
    """Whatever interrupts a read (here KeyboardInterrupt), the next command gets its own
    reply, not the one left in the socket."""
    from hiredis import pack_command

    from directory.cache import redis_client
    from directory.fastpath import _command, _socket_for

    client = redis_client()
    held, sock = _socket_for(client)

    class Interrupted:
        """The socket, with its first read interrupted after the reply has arrived."""

        def __init__(self, inner) -> None:
            self.inner = inner
            self.interrupted = False

        def recv_into(self, *args):
            if not self.interrupted:
                self.interrupted = True
                raise KeyboardInterrupt
            return self.inner.recv_into(*args)

        def __getattr__(self, name):
            return getattr(self.inner, name)

    held.connection._sock = Interrupted(sock)
    with pytest.raises(KeyboardInterrupt):
        _command(client, pack_command((b"ECHO", b"for the interrupted request")))
    assert _command(client, pack_command((b"ECHO", b"for the next one"))) == b"for the next one"


def test_error_replies_raise_what_redis_py_raises():
    """A Redis loading its data or refusing us is an outage (a ConnectionError), as it is
    through redis-py; an error of the command is a ResponseError."""
    import hiredis
    from redis.exceptions import (
        AuthenticationError,
        BusyLoadingError,
        NoScriptError,
        ResponseError,
    )
    from redis.exceptions import ConnectionError as RedisConnectionError

    from directory.fastpath import reply_error

    loading = reply_error(hiredis.ReplyError("LOADING Redis is loading the dataset in memory"))
    assert isinstance(loading, BusyLoadingError) and isinstance(loading, RedisConnectionError)
    assert isinstance(
        reply_error(hiredis.ReplyError("NOAUTH Authentication required.")), AuthenticationError
    )
    assert isinstance(
        reply_error(hiredis.ReplyError("NOSCRIPT No matching script.")), NoScriptError
    )
    wrong = reply_error(hiredis.ReplyError("WRONGTYPE Operation against a key"))
    assert type(wrong) is ResponseError and "WRONGTYPE" in str(wrong)
