"""The resolve hot path: a resolve answered from the answer cache without the Django
request cycle.

A calling app resolves a handle before every call, most often anonymously, and most
answers are in the answer cache (:mod:`directory.answers`). For such a request Django's
handler, its middleware, DRF's dispatch, authentication and content negotiation produce
nothing the answer depends on, yet cost most of its time. :class:`ResolveFastPath` wraps
the WSGI application and answers ``GET /api/v1/resolve?handle=…`` itself when all of these
hold:

- no session cookie, and no ``Authorization`` header but a bearer token (signed-in
  browsers and other schemes go through Django, as do requests whose ``Accept`` header
  could choose another renderer than JSON);
- the ``Host`` is one Django already accepted (``ALLOWED_HOSTS``), the query string is a
  plain ``handle=…`` and nothing else, and the request came over HTTPS or
  ``SECURE_SSL_REDIRECT`` is off (HTTPS as Django sees it, :func:`request_scheme`: a trusted
  proxy's ``X-Forwarded-Proto`` counts, whatever the server put in ``wsgi.url_scheme``);
- the throttles allow it (counted with the same keys and rates as
  :class:`accounts.throttling.RequestRateThrottle`);
- the answer is in the cache and says 200 (or the lookup's 404, once Django's is known).

The same goes for a calling app's bearer token with scope ``lookup`` (the token known,
unexpired, its account active, the caller not the owner of the entry reached, the lookup
not a phone number).

**One Redis call.** A Lua script (:data:`HOT_LUA` after the throttles' ``count``) counts
every throttle of the request and, when they allow it, compares the tokens of each record
the answer needs (:mod:`directory.answers`) with those this process's copy of it was
stored under (:class:`AnswerCopies`): a current copy is answered as it is, a stale or
missing one comes back in the same reply. An anonymous answer needs the card (its copy
holds the rendered body); a calling app's needs its token's record, the card (its copy
holds the record as Redis sent it and the bodies rendered so far, one for each of what a
signed-in caller may see) and the caller's facts. A copy is never used without that
check, so none is older than the shared record, which writes replace on commit.

The body is rendered by DRF's JSON renderer from the same data the view returns, and the
headers are those Django sent for the last such answer (captured from the first one it
served), so a fast answer is byte for byte the answer Django would give. Anything else —
a miss, a refused throttle, an error of any kind — goes to Django unchanged (a refused
throttle is not counted twice: the throttle reads the fast path's verdict).
"""

from __future__ import annotations

import logging
import os
import threading
from functools import lru_cache
from hashlib import sha256
from time import time
from urllib.parse import parse_qsl

import hiredis
from django.core.signals import setting_changed
from django.dispatch import receiver
from hiredis import pack_command
from redis._parsers.base import BaseParser
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError as RedisNoScriptError
from redis.exceptions import ResponseError as RedisResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from directory.edge import CONTROL, header_fields_too_large

logger = logging.getLogger(__name__)

RESOLVE_PATH = "/api/v1/resolve"
# What the throttle finds in request.META when the fast path already counted the request.
THROTTLE_WAIT_KEY = "worldbook.throttle_wait"
SCHEME_KEY = "worldbook.scheme"  # request_scheme's answer, kept in the environ
# Accept headers under which Django's content negotiation picks JSON (no header at all
# counts too; an empty one does not: Django answers it 406).
_JSON_ACCEPTS = frozenset({"*/*", "application/json"})
# What Django says, in its problem document, for a lookup that finds nothing (or nothing
# this caller may see); the fast path repeats Django's answer once it has seen it.
NOT_FOUND_DETAIL = b'"detail":"No entry answers to that handle."'
MISSING_ANSWER = object()  # _answer's value for "answer with Django's 404"


def request_scheme(environ) -> str:
    """The request's scheme as Django's ``HttpRequest.is_secure`` gives it.

    Input: a WSGI environ. Output: ``"https"`` or ``"http"``. With ``TRUSTED_PROXIES`` set
    (and so ``SECURE_PROXY_SSL_HEADER``), the first value of ``X-Forwarded-Proto`` decides
    when the connection's peer is a trusted proxy; a header from anyone else is dropped by
    :class:`directory.client_address.UntrustedForwardingMiddleware` before Django reads it,
    and ignored here. Otherwise the server's ``wsgi.url_scheme`` (gunicorn already derives it
    from a trusted proxy's header; Granian does not). Cached in the environ.
    """
    scheme = environ.get(SCHEME_KEY)
    if scheme is None:
        scheme = environ["wsgi.url_scheme"]
        forwarded = environ.get("HTTP_X_FORWARDED_PROTO")
        if forwarded is not None:
            from django.conf import settings

            from directory.client_address import is_trusted_proxy

            header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
            if (
                header is not None
                and header[0] == "HTTP_X_FORWARDED_PROTO"
                and is_trusted_proxy(environ.get("REMOTE_ADDR") or "")
            ):
                scheme = "https" if forwarded.split(",", 1)[0].strip() == header[1] else "http"
        environ[SCHEME_KEY] = scheme
    return scheme


def _template_key(environ) -> tuple[str, str]:
    authorization = environ.get("HTTP_AUTHORIZATION")
    if authorization is None:
        kind = "anonymous"
    elif authorization[:7].lower() == "bearer ":
        kind = "bearer"
    else:
        kind = "other"
    return request_scheme(environ), kind


def connection_in_transaction() -> bool:
    """Whether this thread's default database connection is inside an ``atomic`` block."""
    from django.db import connection

    return connection.in_atomic_block


def _never() -> bool:
    return False


NOT_ELIGIBLE = object()  # _lookup's value for a query the fast path leaves to Django
# Query strings up to this long have their reading kept (_lookup); longer ones, rare and
# possibly hostile, are read again each time rather than fill the memory. With at most
# _KEPT_READINGS readings kept, a client sending endless distinct queries (they are read
# before the throttles count) holds a worker's memory to about 100 MB more.
_KEPT_QUERY = 128
_KEPT_READINGS = 32768


def _cache_keys(environ, parsed, default, conf) -> tuple[str, tuple[str, ...]]:
    """:func:`directory.answers.resolve_cache_keys` of a lookup, kept per query string
    (short ones, as :func:`_lookup` keeps their readings). ``conf``: the settings
    (:func:`_settings`)."""
    query = environ.get("QUERY_STRING", "")
    if len(query) > _KEPT_QUERY:
        from directory import answers

        return answers.resolve_cache_keys(parsed, default)
    return _cache_keys_kept(
        query,
        conf.WORLDBOOK_DOMAIN,
        conf.DEFAULT_PHONE_REGION,
        conf.SITE_URL,
        default.key_prefix,
        default.version,
    )


def _settings():
    """The settings object behind ``django.conf.settings`` (the one ``override_settings``
    puts in place, when one does): read once per request, since each read through the
    lazy object costs more than the attribute."""
    from django.conf import settings

    return settings._wrapped


@lru_cache(maxsize=_KEPT_READINGS)
def _cache_keys_kept(query, domain, region, site, prefix, version):
    from django.core.cache import caches

    from directory import answers

    return answers.resolve_cache_keys(_lookup(query, domain, region), caches["default"])


def _read_query(query: str, domain: str, region):
    if len(query) > 4096:
        return NOT_ELIGIBLE
    pairs = parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="replace")
    if len(pairs) != 1 or pairs[0][0] != "handle":
        return NOT_ELIGIBLE
    handle = pairs[0][1]
    if CONTROL.search(handle):
        return NOT_ELIGIBLE  # Django's edge middleware refuses it (directory.edge)
    handle = handle.strip()
    if not 0 < len(handle) <= 2048:
        return NOT_ELIGIBLE
    from directory.normalization import parse_lookup

    try:
        return parse_lookup(handle, local_domain=domain)
    except ValueError:
        return None  # not a handle: Django answers its problem document


_read_kept = lru_cache(maxsize=_KEPT_READINGS)(_read_query)


def _lookup(query: str, domain: str, region):
    """The parsed lookup of a resolve query string (``handle=…`` and nothing else), ``None``
    when the handle cannot be parsed, :data:`NOT_ELIGIBLE` when the query is not one the
    fast path answers. Readings of short query strings are kept per process."""
    if len(query) <= _KEPT_QUERY:
        return _read_kept(query, domain, region)
    return _read_query(query, domain, region)


# A hit in one call: the throttles, then the freshness of each record the answer needs.
# KEYS: the n throttle counters, then per record its key and its m tokens. ARGV: the
# throttles' (COUNT_LUA), then per record m and the m tokens this process's copy was
# stored under ("" each for no copy), then n and the number of records g. Returns the n
# verdicts; when every rate allows the request, then per record '1' when the copy is
# current, else '0', the record and its m tokens.
HOT_LUA = """
local g = tonumber(ARGV[#ARGV])
local n = tonumber(ARGV[#ARGV - 1])
local out = count(n)
for i = 1, n do
  if out[i] ~= '-1' then return out end
end
local key = n + 1
local arg = 4 + 3 * n
for j = 1, g do
  local m = tonumber(ARGV[arg])
  local tokens = redis.call('MGET', unpack(KEYS, key + 1, key + m))
  local same = true
  for i = 1, m do
    if tokens[i] ~= ARGV[arg + i] then
      same = false
      break
    end
  end
  if same then
    out[#out + 1] = '1'
  else
    out[#out + 1] = '0'
    out[#out + 1] = redis.call('GET', KEYS[key])
    for i = 1, m do
      out[#out + 1] = tokens[i]
    end
  end
  key = key + 1 + m
  arg = arg + 1 + m
end
return out
"""
HELD = object()  # hot()'s value for a record whose copy in this process is current


def hot(client, throttle_keys: list, throttle_args: list, records: list) -> tuple:
    """Count the throttles and check this process's copies of ``records`` in one call.

    Inputs: the redis-py ``client``; the throttles' keys and arguments
    (:func:`accounts.throttling.count_arguments`); ``records``, each ``(record key, token
    keys, the tokens of the copy or ``None``)``. Output: ``(wait, values)``: ``wait`` as
    :func:`accounts.throttling.take` gives it; when it is ``None``, per record
    :data:`HELD` or ``(raw record, [raw tokens])`` as Redis holds them (``None`` for a
    missing key). Raises redis-py's errors.
    """
    keys = [*throttle_keys]
    # The script reads the records' arguments after the throttles' "now" and member id.
    args = [*throttle_args] if throttle_args else [0, b"", 0]
    for record_key, token_keys, held in records:
        keys.append(record_key)
        keys.extend(token_keys)
        args.append(len(token_keys))
        args.extend(held if held is not None else [b""] * len(token_keys))
    n = len(throttle_keys)
    args += [n, len(records)]
    reply = _run_hot(client, keys, args)
    verdicts = reply[:n]
    if not all(verdict == b"-1" for verdict in verdicts):
        throttling, _answers = _hot_modules()
        return throttling.waits_from(verdicts), []
    values = []
    at = n
    for _record_key, token_keys, _held in records:
        if reply[at] == b"1":
            values.append(HELD)
            at += 1
        else:
            values.append((reply[at + 1], reply[at + 2 : at + 2 + len(token_keys)]))
            at += 2 + len(token_keys)
    return None, values


def _hot_script():
    from accounts.throttling import COUNT_LUA

    return COUNT_LUA + HOT_LUA


_hot_sha: dict[int, bytes] = {}


@lru_cache(maxsize=1)
def _hot_modules():
    """What the hot path calls, imported once (an import statement in a function costs
    every request a lookup)."""
    from accounts import throttling
    from directory import answers

    return throttling, answers


class _KeptCache(threading.local):
    """This thread's default cache and its redis-py client, as Django's cache handler
    gives them, kept: asking the handler costs every request a context-variable lookup.
    Asked again when the ``CACHES`` setting changes (a test's ``override_settings``)."""

    generation = -1
    cache = None
    client = None


_kept_cache = _KeptCache()
_caches_generation = 0


def _default_cache() -> tuple:
    """``(the default cache, its redis-py client or None)`` for this thread."""
    kept = _kept_cache
    if kept.generation != _caches_generation:
        from django.core.cache import caches

        from directory.cache import redis_client_of

        kept.cache = caches["default"]
        kept.client = redis_client_of(kept.cache)
        kept.generation = _caches_generation
    return kept.cache, kept.client


@receiver(setting_changed)
def _caches_changed(*, setting: str, **_kwargs) -> None:
    global _caches_generation
    if setting == "CACHES":
        _caches_generation += 1


class _HotConnection(threading.local):
    """Each thread's own Redis connection for the hot script, made with the settings of
    the cache's pool (host, database, password, TLS, timeouts) but held outside it: taking
    a connection from the pool and giving it back cost more than the round trip.

    redis-py's connection object connects, authenticates and selects the database; the
    script's command and reply then go over its socket directly, packed and parsed by
    hiredis (the parser redis-py itself uses), without redis-py's per-command layers,
    which cost a calling app's resolve more CPU than the rest of the answer."""

    connection = None  # redis-py's Connection: connect, handshake, disconnect
    pool = None
    reader = None  # hiredis.Reader of the replies on the current socket
    buffer = None


_hot_connection = _HotConnection()


def _forget_hot_connections() -> None:
    # A child of fork (a server's worker) makes connections of its own: sharing the
    # parent's socket would mix their replies.
    global _hot_connection
    _hot_connection = _HotConnection()


os.register_at_fork(after_in_child=_forget_hot_connections)


def _socket_for(client):
    """This thread's connection state and its connected socket (connecting first when
    needed). Raises redis-py's ``ConnectionError`` or ``TimeoutError``."""
    pool = client.connection_pool
    held = _hot_connection
    if held.connection is None or held.pool is not pool:
        held.connection = pool.connection_class(**pool.connection_kwargs)
        held.pool = pool
    sock = held.connection._sock  # redis-py's socket, None until connected
    if sock is None:
        held.connection.connect()
        sock = held.connection._sock
        held.reader, held.buffer = hiredis.Reader(), bytearray(16384)
    return held, sock


def _run_hot(client, keys: list, args: list) -> list:
    """EVALSHA of the hot script with the pool settings of redis-py ``client``: keys and
    arguments packed by hiredis, sent and read on this thread's connection
    (:class:`_HotConnection`). A connection Redis dropped (a restart) is made again and
    the command sent once more, as redis-py's own retry does; the script is loaded again
    when Redis forgot it (NOSCRIPT). Output: the script's reply. Raises redis-py's
    ``ConnectionError``, ``TimeoutError`` and ``ResponseError``."""
    try:
        return _evalsha_hot(client, keys, args)
    except RedisConnectionError:
        return _evalsha_hot(client, keys, args)


def _evalsha_hot(client, keys: list, args: list) -> list:
    sha = _hot_sha.get(id(client))
    for _attempt in (1, 2):
        if sha is None:
            sha = _hot_sha[id(client)] = client.script_load(_hot_script()).encode()
        reply = _command(client, pack_command((b"EVALSHA", sha, len(keys), *keys, *args)))
        if not isinstance(reply, hiredis.ReplyError):
            return reply
        error = reply_error(reply)
        if not isinstance(error, RedisNoScriptError):
            raise error
        sha = None
    raise RedisNoScriptError("the resolve script could not be loaded")


def reply_error(reply: hiredis.ReplyError) -> Exception:
    """redis-py's exception for an error reply, of the class redis-py itself raises for it
    (``LOADING`` is a ``BusyLoadingError``, a ``ConnectionError``; ``NOAUTH`` an
    ``AuthenticationError``; ``NOSCRIPT`` a ``NoScriptError``; others a ``ResponseError``),
    so callers treat a Redis that is starting or refusing us as an outage, as they would
    through redis-py."""
    return BaseParser.parse_error(str(reply))


def _command(client, packed: bytes):
    """Send one packed command on this thread's connection and read its reply (an error
    reply comes back as ``hiredis.ReplyError``, not raised). Push frames that Redis sends
    on its own over RESP3 (client-side caching's invalidations, maintenance notices) are
    passed over, as redis-py passes them over. On any failure, or any exception at all
    while the reply is awaited, the connection is closed (the next call connects again),
    so no reply is ever left behind for the next request to read; for a failure of the
    connection redis-py's error is raised."""
    held, sock = _socket_for(client)
    reader, buffer = held.reader, held.buffer
    try:
        sock.sendall(packed)
        reply = reader.gets()
        while reply is False or isinstance(reply, hiredis.PushNotification):
            if reply is False:
                size = sock.recv_into(buffer)
                if not size:
                    raise RedisConnectionError("Redis closed the connection")
                reader.feed(buffer, 0, size)
            reply = reader.gets()
        return reply
    except TimeoutError as exc:  # the pool's socket_timeout
        held.connection.disconnect()
        raise RedisTimeoutError(f"Redis did not answer in time: {exc}") from exc
    except (OSError, hiredis.ProtocolError) as exc:
        held.connection.disconnect()
        raise RedisConnectionError(f"Redis connection failed: {exc}") from exc
    except BaseException:
        held.connection.disconnect()
        raise


class AnswerCopies:
    """This process's copies of cached records: per record key, the tokens the record was
    current under (as Redis holds them) and what the fast path keeps of it (an answer's
    body, ``None`` for a 404; a card; a token's record; a caller's facts). A copy is used
    only when the hot script finds the record's tokens unchanged, so it is never older
    than the shared record. At most ``limit`` copies; the oldest goes first."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held: dict[str, tuple[tuple, object]] = {}

    def get(self, key: str) -> tuple[tuple, object] | None:
        return self.held.get(key)

    def put(self, key: str, tokens: tuple, body) -> None:
        if self.limit <= 0:
            return
        held = self.held
        held.pop(key, None)
        while len(held) >= self.limit:
            try:
                del held[next(iter(held))]
            except (KeyError, RuntimeError, StopIteration):
                break  # another thread changed it meanwhile
        held[key] = (tokens, body)

    def drop(self, key: str) -> None:
        self.held.pop(key, None)


class ResolveFastPath:
    """WSGI middleware: anonymous resolve hits answered without Django's request cycle."""

    def __init__(self, application, *, requests_in_transactions: bool = True) -> None:
        """``application``: the WSGI application behind (Django). ``requests_in_transactions``:
        whether a request may arrive while this thread's database connection is inside a
        transaction (a test calling the application in an ``atomic`` block, whose writes
        have not dropped their cached answers yet): such a request is left to Django. A
        server's own threads never are; the Granian worker says so and saves the check."""
        from django.conf import settings
        from rest_framework.renderers import JSONRenderer

        from directory import answers
        from directory.client_address import client_address

        self.application = application
        self.answers = answers
        self.in_transaction = connection_in_transaction if requests_in_transactions else _never
        self.enabled = settings.ANSWER_CACHE
        self.ssl_redirect = settings.SECURE_SSL_REDIRECT
        self.session_cookie_name = settings.SESSION_COOKIE_NAME
        self.renderer = JSONRenderer()
        self.ident = client_address
        self.hosts: set[str] = set()  # Host headers Django accepted on this path
        # Django's headers per URL scheme and caller kind (an anonymous answer varies on
        # Cookie, since the session was looked at; a bearer caller's does not).
        self.headers: dict[tuple[str, str], list[tuple[str, str]]] = {}
        # Django's whole 404 answer ("No entry answers to that handle."), the same way.
        self.missing: dict[tuple[str, str], tuple[str, list, bytes]] = {}
        # This process's copies (AnswerCopies): anonymous answers, and for bearer callers
        # cards (with their rendered variants), token records and callers' facts.
        self.copies = AnswerCopies(settings.ANSWER_CACHE_LOCAL_COPIES)
        self.cards = AnswerCopies(settings.ANSWER_CACHE_LOCAL_COPIES)
        self.tokens = AnswerCopies(settings.ANSWER_CACHE_LOCAL_COPIES)
        self.callers = AnswerCopies(settings.ANSWER_CACHE_LOCAL_COPIES)

    def __call__(self, environ, start_response):
        if (
            self.enabled
            and environ.get("PATH_INFO") == RESOLVE_PATH
            and _settings().ANSWER_CACHE
            and (not self.ssl_redirect or request_scheme(environ) == "https")
        ):
            try:
                body = self._answer(environ)
            except (RedisConnectionError, RedisTimeoutError) as exc:
                # Logged once per outage; Django answers from the database meanwhile.
                from directory.cache import outage

                outage.failed("resolve fast path", exc)
                body = None
            except Exception:
                logger.exception("resolve fast path failed; answering through Django")
                body = None
            if body is MISSING_ANSWER:
                status, headers, body = self.missing[_template_key(environ)]
                start_response(status, [*headers, ("Content-Length", str(len(body)))])
                return [body]
            if body is not None:
                headers = self.headers.get(_template_key(environ))
                if headers is not None:
                    start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
                    return [body]
            return self._through_django(environ, start_response)
        return self.application(environ, start_response)

    def _answer(self, environ):
        """The body of the answer, :data:`MISSING_ANSWER` for Django's 404, or ``None``
        to let Django answer."""
        answers = self.answers
        accept = environ.get("HTTP_ACCEPT")
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or (accept is not None and accept not in _JSON_ACCEPTS)
            or environ.get("HTTP_HOST") not in self.hosts
            or header_fields_too_large(environ)  # Django's edge answers its 431
        ):
            return None
        cookie = environ.get("HTTP_COOKIE")
        if cookie and self.session_cookie_name in cookie:
            return None
        conf = _settings()
        query = environ.get("QUERY_STRING", "")
        parsed = _lookup(query, conf.WORLDBOOK_DOMAIN, conf.DEFAULT_PHONE_REGION)
        if parsed is NOT_ELIGIBLE or answers.invalidations_lost():
            # Django's path starts a new epoch first (directory.answers._usable).
            return None
        authorization = environ.get("HTTP_AUTHORIZATION")
        if authorization is None:
            return self._anonymous(environ, parsed, conf)
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self._bearer(environ, parsed, token.strip(), conf)

    def _anonymous(self, environ, parsed, conf) -> bytes | None:
        """An anonymous hit, in one Redis call (:func:`hot`): the throttles counted and this
        process's copy of the answer (:class:`AnswerCopies`) checked against the record's
        current tokens, the record itself sent only when the copy is missing or stale."""
        throttling, answers = _hot_modules()
        address = self.ident(environ)
        counts = (("anon", address), ("resolve", f"ip-{address}"), ("resolve_ip", address))
        default, client = _default_cache()
        if parsed is None or client is None or self.in_transaction():
            environ[THROTTLE_WAIT_KEY] = throttling.take(list(counts))
            return None
        record_key, token_keys = _cache_keys(environ, parsed, default, conf)
        throttle_keys, args = throttling.count_arguments(counts, default)
        held = self.copies.get(record_key)
        records = [(record_key, token_keys, None if held is None else held[0])]
        try:
            wait, values = hot(client, throttle_keys, args, records)
        except RedisResponseError:
            # A Redis that refused the script: count and answer the slow way.
            environ[THROTTLE_WAIT_KEY] = throttling.take(list(counts))
            return None
        environ[THROTTLE_WAIT_KEY] = wait
        if wait is not None:
            return None
        if values[0] is HELD:
            body = held[1]
        else:
            raw_record, raw_tokens = values[0]
            card = answers.record_value(raw_record, raw_tokens)
            if card is answers.MISSING:
                return None  # Django computes and stores it
            body = answers.anonymous_json(card)
            self.copies.put(record_key, tuple(raw_tokens), body)
        if body is None:
            if _template_key(environ) not in self.missing:
                return None
            body = MISSING_ANSWER
        answers.count_hit()
        return body

    def _bearer(self, environ, parsed, token: str, conf) -> bytes | None:
        """A hit for a calling app's access token (scope ``lookup``), in one Redis call
        (:func:`hot`): the throttles counted, and this process's copies of the token's
        record, the card and the caller's facts checked against their current tokens.
        The first request with a token this process holds no copy of takes one more call,
        to read the token's record (its app is the throttles' client). The token must be
        known, unexpired and hold ``lookup``, its account active; anything else (and any
        miss) goes to Django, which refuses or answers as it always does."""
        throttling, answers = _hot_modules()
        default, client = _default_cache()
        if parsed is None or client is None or self.in_transaction():
            return None
        checksum = sha256(token.encode("utf-8")).hexdigest()
        token_keys = answers.bearer_cache_keys(checksum, default)
        held_token = self.tokens.get(checksum)
        if held_token is None:
            # No throttle is counted by this first call; the one below counts them.
            _wait, [(raw_record, raw_tok)] = hot(client, [], [], [(*token_keys, None)])
            record = answers.bearer_value(raw_record, *raw_tok)
            if record is None:
                answers.bearer_record(checksum)  # for the next request; Django answers this
                return None
            held_token = (tuple(raw_tok), record)
            self.tokens.put(checksum, *held_token)
        record = held_token[1]
        user_id = record["user_id"]
        client_key = f"app-{record['app_id']}"
        counts = (
            ("user", client_key),
            ("resolve", client_key),
            ("resolve_ip", self.ident(environ)),
        )
        throttle_keys, args = throttling.count_arguments(counts, default)
        card_key, card_tokens = _cache_keys(environ, parsed, default, conf)
        held_card = self.cards.get(card_key)
        records = [
            (*token_keys, held_token[0]),
            (card_key, card_tokens, None if held_card is None else held_card[0]),
        ]
        held_facts = None
        if user_id is not None:
            facts_key, facts_tokens = answers.caller_cache_keys(user_id, default)
            held_facts = self.callers.get(facts_key)
            records.append((facts_key, facts_tokens, None if held_facts is None else held_facts[0]))
        wait, values = hot(client, throttle_keys, args, records)
        environ[THROTTLE_WAIT_KEY] = wait
        if wait is not None:
            return None
        if values[0] is not HELD:
            raw_record, raw_tok = values[0]
            record = answers.bearer_value(raw_record, *raw_tok)
            if record is None:
                self.tokens.drop(checksum)
                return None
            self.tokens.put(checksum, tuple(raw_tok), record)
        if not record["active"] or record["expires"] <= time() or "lookup" not in record["scopes"]:
            return None
        # A card's copy holds the record as Redis sent it and the bodies rendered from it
        # so far, not the card's objects: a million small objects kept across requests
        # would make every full garbage collection pause the process.
        if values[1] is HELD:
            raw_card, entry_id, owners, bodies = held_card[1]
        else:
            raw_record, raw_tokens = values[1]
            card = answers.record_value(raw_record, raw_tokens)
            if card is answers.MISSING:
                return None
            raw_card, entry_id, owners, bodies = (
                raw_record,
                card.get("entry_id"),  # None when the lookup finds no entry
                frozenset(card["owners"]),
                {},
            )
            self.cards.put(card_key, tuple(raw_tokens), (raw_card, entry_id, owners, bodies))
        variant = None  # client credentials: anonymous to the contact policy
        if user_id is not None:
            if values[2] is HELD:
                facts, u_token = held_facts[1]
            else:
                raw_record, raw_tokens = values[2]
                facts = answers.record_value(raw_record, raw_tokens)
                if facts is answers.MISSING:
                    return None
                u_token = answers.token_value(raw_tokens[-1])
                self.callers.put(facts_key, tuple(raw_tokens), (facts, u_token))
            if u_token != record["u"]:
                # The caller's facts changed since the token's record was stored: store it
                # afresh for the next request (this process's copy goes too); Django
                # answers this one.
                self.tokens.drop(checksum)
                answers.bearer_record(checksum)
                return None
            if user_id in owners:
                return None  # the entry's owner: Django answers
            # What a signed-in caller is shown: by whether they are verified and whether
            # they are a contact of the entry.
            variant = (facts[0], entry_id in facts[1])
        body = bodies.get(variant)
        if body is None:
            card = answers.record_card(raw_card)
            if variant is None:
                body = answers.anonymous_json(card)
            elif card["entry"] is None and not answers.phone_lookup(parsed):
                body = MISSING_ANSWER  # the 404 a hidden entry and a missing one share
            else:
                data = answers.signed_in_view(card, facts, user_id, parsed)
                if data is None:
                    return None  # a phone number: Django counts the forward's quota
                body = self.renderer.render(data)
            bodies[variant] = body
        if body is None or body is MISSING_ANSWER:
            if _template_key(environ) not in self.missing:
                return None
            body = MISSING_ANSWER
        answers.count_hit()
        return body

    def _through_django(self, environ, start_response):
        """Django's answer; the first 200 teaches the fast path its headers and host."""
        kind = _template_key(environ)
        host = environ.get("HTTP_HOST")

        def learn(status, headers, exc_info=None):
            if (
                status.startswith("200 ")
                and environ.get("REQUEST_METHOD") == "GET"
                and not environ.get("HTTP_COOKIE")
                and environ.get("HTTP_ACCEPT", "*/*") in _JSON_ACCEPTS
                and kind[1] != "other"
                and not any(name.lower() == "set-cookie" for name, _ in headers)
            ):
                self.headers.setdefault(
                    kind, [(n, v) for n, v in headers if n.lower() != "content-length"]
                )
                if host:
                    self.hosts.add(host)
            return start_response(status, headers, exc_info)

        if not (
            environ.get("REQUEST_METHOD") == "GET"
            and _template_key(environ)[1] != "other"
            and _template_key(environ) not in self.missing
        ):
            return self.application(environ, learn)
        # An anonymous or bearer request while its 404 is not known yet: keep Django's
        # answer if it is the lookup's 404, to repeat it.
        seen = {}

        def keep(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, headers
            return learn(status, headers, exc_info)

        response = self.application(environ, keep)
        if not seen.get("status", "").startswith("404 ") or environ.get("HTTP_COOKIE"):
            return response
        try:
            body = b"".join(response)
        finally:
            if hasattr(response, "close"):
                response.close()
        if NOT_FOUND_DETAIL in body and environ.get("HTTP_ACCEPT", "*/*") in _JSON_ACCEPTS:
            headers = [(n, v) for n, v in seen["headers"] if n.lower() != "content-length"]
            if not any(n.lower() == "set-cookie" for n, _ in headers):
                self.missing[_template_key(environ)] = (seen["status"], headers, body)
                if environ.get("HTTP_HOST"):
                    self.hosts.add(environ["HTTP_HOST"])
        return [body]
