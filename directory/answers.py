"""The answer cache: resolve, entry reads and WebFinger answered from the shared cache.

What is cached is the part of an answer that is the same for every caller who is not the
entry's owner (a *card*): the entry, the handles anyone may see, and every endpoint with
its audience. Each request then keeps the endpoints its caller may use (anonymous, signed
in, verified, contact) from the card, with the caller's own facts (verified? whose contact?)
cached per account beside it. A caller who owns an entry the lookup reached is answered
from the database, as is a signed-in caller looking up a phone number (the forward of a
retiring number depends on the hour and counts against a daily quota).

**Freshness.** Every record names the *dependencies* it was computed from, and the cache
holds a random token per dependency: ``d:<canonical>`` (a directory handle),
``h:<kind>:<key>`` (an external handle key), ``u:<user id>`` (an account's facts as a
caller) and one epoch for everything. A record is used only when the tokens it was stored
with are still the current ones. Writes replace the tokens of what they touched in an
on-commit hook (:func:`invalidate_on_commit`): model signals on entries, handles,
endpoints, contacts and linked numbers do it for every write of the services, the admin
and the importers (:mod:`directory.answer_signals`). A change to an entry, its handles or
its endpoints replaces the tokens of *every* key that reaches the entry (its directory
handle and all its handles), so the one round trip that reads a record also reads every
token that can make it stale. Tokens are read before the database, so an answer computed
while a write commits is stored under the old token and never served after the hook ran.
Nothing is read from or stored in the cache inside a transaction (it may see its own
uncommitted writes), and an evicted token is replaced by a new random one, which no old
record carries.

**Replicas.** With read replicas (:mod:`directory.replicas`), a miss could be filled from a
replica that has not yet replayed a write: the write commits on the primary, its hook
replaces the tokens, a miss reads the new tokens, computes the answer on a replica still
showing the old rows, and stores that old answer under the new tokens, where it would be
served until the next write. So each token carries a WAL position (``<random>@<hex LSN>``):
a token replaced by a write carries the primary's ``pg_current_wal_insert_lsn()`` read in
the on-commit hook, after the commit, so past the write's commit record (the insert
position, not the written one: with ``synchronous_commit`` off a commit may return before
its record is written out); a token a fill
creates because there was none (never written, evicted, a new epoch by :func:`drop_all`)
carries the primary's position when it is created, which is past any write whose token
was lost. A fill reads a replica only when that replica's replay position, as the router
last read it, is at or past the highest position on the record's tokens
(:func:`directory.replicas.reading_at_least`); else it reads the primary. Replay only
moves forward, so the router's reading is a lower bound of what the replica holds when
the fill reads it, and a replica that replayed past a position shows every transaction
committed before it: the stored answer is never older than a write its tokens stand for.
Right after a write, fills of what it touched read the primary until the router's next
reading of a replica (``DATABASE_REPLICA_CHECK_SECONDS``); other fills read replicas. A
token stored before replicas were configured has no position; :func:`drop_all` (or
``manage.py shell -c "from directory.answers import drop_all; drop_all()"``) when the
first replica is added gives the epoch one.

**Failures.** Any error from the cache (Redis down) is logged and the answer is computed
from the database; the caller never sees it. A token that could not be replaced because
the cache was down makes that process start a new epoch (every record stale) as soon as
the cache answers again, before it uses any cached answer (:func:`invalidations_lost`).

Settings: ``ANSWER_CACHE`` (on by default), ``ANSWER_CACHE_SECONDS`` (records' lifetime),
``ANSWER_CACHE_STATS`` (count hits and misses in the cache, for the benchmark).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection, transaction

logger = logging.getLogger(__name__)

PREFIX = "answers:"
EPOCH_KEY = PREFIX + "epoch"
STATS_KEYS = {"hit": PREFIX + "stats:hits", "miss": PREFIX + "stats:misses"}
# Per process, the counts are added to the cache in batches of this many.
_STATS_BATCH = 200

# The endpoint audiences (directory.models.Endpoint.Audience values).
_EVERYONE, _SIGNED_IN, _VERIFIED, _CONTACTS = "everyone", "signed_in", "verified", "contacts"


# ----------------------------------------------------------------------- dependencies


def directory_dep(canonical: str) -> str:
    """The dependency of answers that looked up the directory handle ``canonical``."""
    return f"d:{canonical}"


def handle_dep(kind: str, key: str) -> str:
    """The dependency of answers that looked up the external handle ``kind``/``key``."""
    return f"h:{kind}:{key}"


def caller_dep(user_id: int) -> str:
    """The dependency of an account's facts as a caller (verified, whose contact)."""
    return f"u:{user_id}"


def _failed(exc: Exception, message: str, *args) -> None:
    """Log a cache failure: a Redis outage once (:data:`directory.cache.outage`), any other
    error with its traceback."""
    from directory.cache import REDIS_ERRORS, outage

    if isinstance(exc, REDIS_ERRORS):
        outage.failed("answer cache: " + (message % args), exc)
    else:
        logger.exception("answer cache: " + message, *args)


def digest(text: str) -> str:
    """A short fixed-length digest of ``text`` for record keys (BLAKE2b, 128 bits, hex)."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _loads(raw: bytes):
    """A value as the cache stored it in Redis (its serializer's bytes)."""
    return cache._cache._serializer.loads(raw)


def _token_key(dep: str) -> str:
    return PREFIX + "t:" + digest(dep)


def _new_token(position: int | None = None) -> str:
    token = secrets.token_hex(8)
    return token if position is None else f"{token}@{position:x}"


def _position_now() -> int | None:
    """The primary's WAL position to stamp on new tokens; ``None`` without replicas. When
    the primary cannot say, a position no replica reaches (fills read the primary)."""
    from directory import replicas

    if not replicas.configured():
        return None
    position = replicas.primary_lsn()
    return replicas.UNREACHABLE_LSN if position is None else position


def token_position(token) -> int:
    """The WAL position stamped on a dependency token (0 for a token without one)."""
    if isinstance(token, str) and "@" in token:
        try:
            return int(token.rpartition("@")[2], 16)
        except ValueError:
            return 0
    return 0


def invalidate(deps: Iterable[str]) -> None:
    """Replace the tokens of ``deps`` now: every record computed from them is stale.

    Input: dependency names (:func:`directory_dep`, :func:`handle_dep`,
    :func:`caller_dep`). Errors from the cache are logged, not raised.
    """
    deps = set(deps)
    if not deps:
        return
    position = _position_now()
    tokens = {_token_key(dep): _new_token(position) for dep in deps}
    try:
        cache.set_many(tokens, timeout=None)
    except Exception as exc:
        _lost.set()
        _failed(exc, "could not replace %d token(s)", len(tokens))


class Invalidation:
    """An on-commit callback that replaces the tokens of ``deps`` (an iterable, or a
    function giving one, called after commit). A class, so that a test counting a
    transaction's on-commit callbacks can tell the answer cache's apart."""

    def __init__(self, deps) -> None:
        self.deps = deps

    def __call__(self) -> None:
        invalidate(self.deps() if callable(self.deps) else self.deps)


def invalidate_on_commit(deps: Iterable[str]) -> None:
    """Replace the tokens of ``deps`` once the current transaction commits (at once in
    autocommit); nothing happens when it rolls back."""
    frozen = frozenset(deps)
    if frozen:
        transaction.on_commit(Invalidation(frozen))


def drop_all() -> None:
    """Make every cached answer stale (a new epoch): after writes that bypass the models'
    signals, such as a bulk load with COPY or a restore."""
    try:
        cache.set(EPOCH_KEY, _new_token(_position_now()), timeout=None)
    except Exception as exc:
        _lost.set()
        _failed(exc, "could not start a new epoch")
    else:
        _lost.clear()


# Set when this process could not replace a token (the cache was down): until a new epoch
# is stored, no cached answer is used here, so no write made during the outage is hidden
# by an answer cached before it once the cache answers again.
_lost = threading.Event()


def invalidations_lost() -> bool:
    """Whether this process lost an invalidation and has not yet started a new epoch."""
    return _lost.is_set()


# ---------------------------------------------------------------------- the mechanism


class _Stats(threading.local):
    def __init__(self) -> None:
        self.counts = {"hit": 0, "miss": 0}


_stats = _Stats()


def _count(kind: str) -> None:
    if not settings.ANSWER_CACHE_STATS:
        return
    counts = _stats.counts
    counts[kind] += 1
    if counts["hit"] + counts["miss"] >= _STATS_BATCH:
        flush_stats()


def flush_stats() -> None:
    """Add this thread's hit and miss counts to the cache's totals (``ANSWER_CACHE_STATS``)."""
    counts = _stats.counts
    try:
        for kind, number in counts.items():
            if number:
                cache.add(STATS_KEYS[kind], 0, timeout=None)
                cache.incr(STATS_KEYS[kind], number)
    except Exception as exc:
        _failed(exc, "could not record statistics")
    _stats.counts = {"hit": 0, "miss": 0}


def read_stats() -> dict[str, int]:
    """The hit and miss totals counted so far (``ANSWER_CACHE_STATS``)."""
    got = cache.get_many(list(STATS_KEYS.values()))
    return {kind: int(got.get(key) or 0) for kind, key in STATS_KEYS.items()}


def _usable() -> bool:
    if not settings.ANSWER_CACHE or connection.in_atomic_block:
        return False
    if _lost.is_set():
        drop_all()  # clears the mark once the cache takes the new epoch
    return not _lost.is_set()


Item = tuple[str, list[str], Callable[[], Any]]


MISSING = object()


def cached_many(items: list[Item], *, only_cached: bool = False) -> list[Any]:
    """The values of ``items``, each ``(record key, dependencies, compute)``, from the
    cache when fresh, else from ``compute()`` (then stored).

    One cache round trip reads every record and every token when all are fresh. Outside
    the cache's reach (``ANSWER_CACHE`` off, inside a transaction, cache errors) every
    value is computed. Exceptions from ``compute`` propagate. With ``only_cached``,
    :data:`MISSING` stands for a value that is not in the cache, and nothing is computed.
    """
    if not _usable():
        if only_cached:
            return [MISSING for _item in items]
        return [compute() for _key, _deps, compute in items]
    keyed = [
        (PREFIX + "r:" + key, [EPOCH_KEY, *(_token_key(dep) for dep in deps)], compute)
        for key, deps, compute in items
    ]
    wanted: list[str] = []
    for record_key, token_keys, _compute in keyed:
        wanted.append(record_key)
        wanted.extend(token_keys)
    try:
        got = cache.get_many(list(dict.fromkeys(wanted)))
    except Exception as exc:
        _failed(exc, "read failed; answering from the database")
        if only_cached:
            return [MISSING for _item in items]
        return [compute() for _key, _deps, compute in items]
    values = []
    for record_key, token_keys, compute in keyed:
        tokens = [got.get(key) for key in token_keys]
        record = got.get(record_key)
        if record is not None and record[0] == tokens and None not in tokens:
            _count("hit")
            values.append(record[1])
            continue
        if only_cached:
            values.append(MISSING)
            continue
        _count("miss")
        values.append(_compute_and_store(record_key, token_keys, tokens, compute))
    return values


def count_hit() -> None:
    """Count one answer served from the cache (``ANSWER_CACHE_STATS``) by a caller that
    read it itself (the resolve fast path)."""
    _count("hit")


@lru_cache(maxsize=4096)
def _made_keys(key: str, deps: tuple[str, ...], site: str | None, prefix: str, version) -> tuple:
    suffix = "" if site is None else f"|{digest(site)}"
    record_key = cache.make_key(f"{PREFIX}r:{key}{suffix}")
    token_keys = (cache.make_key(EPOCH_KEY), *(cache.make_key(_token_key(dep)) for dep in deps))
    return record_key, token_keys


def resolve_cache_keys(parsed, cache_=None) -> tuple[str, tuple[str, ...]]:
    """The cache's own keys (prefixed and versioned, as Redis holds them) of the resolve
    record of ``parsed`` and of its tokens, the epoch first, in the order :func:`cached_many`
    reads them. For a caller that reads them with its own Redis commands; ``cache_`` is
    the default cache when the caller holds it already."""
    key, deps = resolve_key(parsed)
    held = cache if cache_ is None else cache_
    return _made_keys(key, tuple(deps), _site(), held.key_prefix, held.version)


def record_value(raw_record: bytes | None, raw_tokens: list) -> Any:
    """The value of a record read raw from Redis with its tokens (as :func:`resolve_cache_keys`
    orders them), or :data:`MISSING` when the record is absent or was stored under other
    tokens than the current ones."""
    if raw_record is None or any(raw is None for raw in raw_tokens):
        return MISSING
    record = _loads(raw_record)
    if record[0] != [_loads(raw) for raw in raw_tokens]:
        return MISSING
    return record[1]


def record_card(raw_record: bytes) -> Any:
    """The value of a record read raw from Redis, its freshness already checked."""
    return _loads(raw_record)[1]


def token_dep(checksum: str) -> str:
    """The dependency of what is cached about an OAuth2 access token (its checksum)."""
    return f"tok:{checksum}"


def bearer_record(checksum: str) -> dict | None:
    """What the resolve fast path needs to know of the access token whose SHA-256 is
    ``checksum``, computed from the database and stored: ``user_id`` (``None`` for client
    credentials), ``app_id``, ``scopes``, ``expires`` (epoch seconds), ``active`` (the
    account may sign in) and the tokens of ``tok:<checksum>`` and ``u:<user id>`` it was
    read under, each read before the rows it guards. ``None`` for an unknown token or
    outside the cache's reach."""
    from oauth2_provider.models import AccessToken

    if not _usable():
        return None
    tokens = AccessToken.objects.filter(token_checksum=checksum)
    if not tokens.exists():
        # Nothing is written for a token nobody holds: a caller inventing tokens must not
        # fill the cache with their dependency tokens.
        return None
    tok_key = _token_key(token_dep(checksum))
    cache.add(tok_key, _new_token(), timeout=None)
    tok = cache.get(tok_key)
    # Read again after the token: a revocation committed meanwhile shows here.
    token = tokens.values_list("user_id", "application_id", "scope", "expires").first()
    if token is None or tok is None:
        return None
    user_id, app_id, scope, expires = token
    record = {
        "user_id": user_id,
        "app_id": app_id,
        "scopes": frozenset((scope or "").split()),
        "expires": expires.timestamp() if expires else 0.0,
        "active": True,
        "tok": tok,
        "u": None,
    }
    if user_id is not None:
        from django.contrib.auth import get_user_model

        u_key = _token_key(caller_dep(user_id))
        cache.add(u_key, _new_token(_position_now()), timeout=None)
        record["u"] = cache.get(u_key)
        record["active"] = bool(
            get_user_model().objects.filter(pk=user_id, is_active=True).exists()
        )
        if record["u"] is None:
            return None
    cache.set(PREFIX + "r:bearer:" + checksum, record, timeout=settings.ANSWER_CACHE_SECONDS)
    return record


def bearer_cache_keys(checksum: str, cache_=None) -> tuple[str, tuple[str]]:
    """The cache's own keys of the token record of ``checksum`` (:func:`bearer_record`) and
    of its ``tok:`` token, for a caller that reads them with its own Redis commands."""
    held = cache if cache_ is None else cache_
    return _made_bearer_keys(checksum, held, held.key_prefix, held.version)


@lru_cache(maxsize=4096)
def _made_bearer_keys(checksum: str, cache_, prefix: str, version) -> tuple[str, tuple[str]]:
    return (
        cache_.make_key(PREFIX + "r:bearer:" + checksum),
        (cache_.make_key(_token_key(token_dep(checksum))),),
    )


def bearer_value(raw_record: bytes | None, raw_tok: bytes | None) -> dict | None:
    """The token record read raw with its ``tok:`` token; ``None`` when either is missing
    or the record was stored under another token (its ``u:`` token is checked against the
    caller's facts record, :func:`caller_cache_keys`)."""
    if raw_record is None or raw_tok is None:
        return None
    value = _loads(raw_record)
    return value if value["tok"] == _loads(raw_tok) else None


def caller_cache_keys(user_id: int, cache_=None) -> tuple[str, tuple[str, ...]]:
    """The cache's own keys of an account's caller facts record and of its tokens (the
    epoch, then ``u:<user id>``), for a caller that reads them with its own Redis
    commands; read the value with :func:`record_value` and the ``u:`` token last."""
    held = cache if cache_ is None else cache_
    return _made_keys(
        f"caller:{user_id}", (caller_dep(user_id),), None, held.key_prefix, held.version
    )


def token_value(raw: bytes | None):
    """A dependency token read raw from Redis (``None`` when missing)."""
    return None if raw is None else _loads(raw)


def signed_in_view(card: dict, facts, user_id: int, parsed) -> dict | None:
    """The resolve answer a signed-in caller who does not own a reached entry gets from
    ``card`` and their ``facts``; ``None`` when Django must answer (an owner, a phone
    number, a 404)."""
    if user_id in card["owners"] or phone_lookup(parsed) or card["entry"] is None:
        return None
    return {
        "entry": card["entry"],
        "handles": card["handles"],
        "endpoints": _endpoints_for(card, facts),
        "matched": card["matched"],
    }


def resolve_key(parsed) -> tuple[str, list[str]]:
    """The record key and dependencies of the resolve answer for a parsed lookup."""
    deps = [handle_dep(c.kind, c.key) for c in parsed.candidates]
    if parsed.directory_handle is not None:
        deps.append(directory_dep(parsed.directory_handle.canonical))
    return "resolve:" + digest("\n".join(deps)), deps


def anonymous_view(card: dict) -> dict | None:
    """The resolve answer an anonymous caller gets from ``card``; ``None`` for a 404."""
    if card["entry"] is None:
        return None
    return {
        "entry": card["entry"],
        "handles": card["handles"],
        "endpoints": _endpoints_for(card, None),
        "matched": card["matched"],
    }


def _fill(tokens: list, compute) -> Any:
    """``compute()`` for a record stored under ``tokens``: with replicas, reading only a
    replica that has replayed past every token's position (see "Replicas" above)."""
    from directory import replicas

    if not replicas.configured():
        return compute()
    with replicas.reading_at_least(max((token_position(t) for t in tokens), default=0)):
        return compute()


def _compute_and_store(record_key: str, token_keys: list[str], tokens: list, compute) -> Any:
    try:
        missing = [key for key, token in zip(token_keys, tokens, strict=True) if token is None]
        if missing:
            position = _position_now()
            for key in missing:
                cache.add(key, _new_token(position), timeout=None)
            current = cache.get_many(missing)
            tokens = [
                current.get(key, token) for key, token in zip(token_keys, tokens, strict=True)
            ]
    except Exception as exc:
        _failed(exc, "token read failed; answering from the database")
        return compute()
    value = _fill(tokens, compute)
    if None not in tokens:
        try:
            cache.set(record_key, (tokens, value), timeout=settings.ANSWER_CACHE_SECONDS)
        except Exception as exc:
            _failed(exc, "could not store an answer")
    return value


# ------------------------------------------------------------------------------ cards


def _plain(data):
    """DRF's ReturnDict/ReturnList/OrderedDict as plain dicts and lists (for pickling)."""
    if isinstance(data, dict):
        return {key: _plain(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_plain(value) for value in data]
    return data


def _card(entry) -> dict:
    """What every caller but the owner may be shown of ``entry``: serialized entry,
    handles as a non-owner sees them, all endpoints in preference order with their
    audience (handles and endpoints prefetched)."""
    from directory.api.serializers import EndpointSerializer, EntrySerializer, HandleSerializer
    from directory.display import handles_for

    endpoints = sorted(entry.endpoints.all(), key=lambda e: (e.preference, e.pk))
    handles = [view.handle for view in handles_for(entry, None)]
    return {
        "entry_id": entry.pk,
        "entry": _plain(EntrySerializer(entry).data),
        "handles": _plain(HandleSerializer(handles, many=True).data),
        "endpoints": [(e.audience, _plain(EndpointSerializer(e).data)) for e in endpoints],
    }


def _endpoints_for(card: dict, facts: tuple[bool, frozenset] | None) -> list[dict]:
    """The card's endpoints a non-owner caller may use (:func:`directory.policy.
    endpoint_visible_to`): ``facts`` is ``None`` for an anonymous caller, else
    ``(verified, ids of the entries the caller is a contact of)``."""
    shown = []
    for audience, endpoint in card["endpoints"]:
        if audience == _EVERYONE:
            shown.append(endpoint)
        elif facts is None:
            continue
        elif (
            audience == _SIGNED_IN
            or (audience == _VERIFIED and facts[0])
            or (audience == _CONTACTS and card["entry_id"] in facts[1])
        ):
            shown.append(endpoint)
    return shown


def _caller_facts(user) -> tuple[bool, frozenset]:
    from directory.policy import caller_contact_of, caller_is_verified

    return caller_is_verified(user), frozenset(caller_contact_of(user))


def _site() -> str:
    # Cards carry absolute URLs and acct: URIs made from these settings.
    return f"{settings.SITE_URL}|{settings.WORLDBOOK_DOMAIN}"


def _answer(
    key: str, deps: list[str], compute, caller, only_cached: bool = False
) -> tuple[dict, tuple | None] | None:
    """The card under ``key`` and the caller's facts, or ``None`` when the caller must be
    answered from the database (they own an entry the lookup reached) or, with
    ``only_cached``, when the card is not in the cache."""
    signed_in = bool(caller is not None and caller.is_authenticated)
    items: list[Item] = [(f"{key}|{digest(_site())}", deps, compute)]
    if signed_in:
        items.append(
            (f"caller:{caller.pk}", [caller_dep(caller.pk)], lambda: _caller_facts(caller))
        )
    values = cached_many(items, only_cached=only_cached)
    if MISSING in values:
        return None
    card = values[0]
    if signed_in and caller.pk in card["owners"]:
        return None
    return card, (values[1] if signed_in else None)


def phone_lookup(parsed) -> bool:
    """Whether the parsed lookup may be a phone number (E.164): a signed-in caller's
    answer to it is computed each time (the forward of a retiring number)."""
    from directory.policy import PHONE_HANDLE_KINDS

    return any(c.kind in PHONE_HANDLE_KINDS and c.key[:1] == "+" for c in parsed.candidates)


def resolve_answer(query: str, caller) -> dict | None:
    """The resolve answer (``entry``, ``handles``, ``endpoints``, ``matched``: the API's
    JSON) for ``query`` and ``caller``, from the cache where it may be.

    Output: the answer's data, or ``None`` when this caller is to be answered by
    :func:`directory.selectors.entry_resolve` (the owner of an entry the lookup reached,
    a signed-in caller looking up a phone number). Raises what ``entry_resolve`` raises:
    :class:`NotFound` (same message for missing and hidden), :class:`NormalizationError`.
    """
    from directory.normalization import parse_lookup

    parsed = parse_lookup(query, local_domain=settings.WORLDBOOK_DOMAIN)
    return resolve_answer_parsed(parsed, caller)


def resolve_answer_parsed(parsed, caller, *, only_cached: bool = False) -> dict | None:
    """:func:`resolve_answer` for a query already read by ``parse_lookup``. With
    ``only_cached`` (the hot path, :mod:`directory.fastpath`): the answer only when it is
    in the cache and says 200, else ``None``; nothing is computed and nothing raised."""
    from directory.exceptions import NotFound

    if caller is not None and caller.is_authenticated and phone_lookup(parsed):
        return None
    key, deps = resolve_key(parsed)
    found = _answer(
        key,
        deps,
        lambda: _resolve_card(parsed),
        caller,
        only_cached,
    )
    if found is None:
        return None
    card, facts = found
    if card["entry"] is None:
        if only_cached:
            return None
        raise NotFound("No entry answers to that handle.")
    return {
        "entry": card["entry"],
        "handles": card["handles"],
        "endpoints": _endpoints_for(card, facts),
        "matched": card["matched"],
    }


def _resolve_card(parsed) -> dict:
    from django.db.models import Q

    from directory.exceptions import NotFound
    from directory.models import Entry, Handle
    from directory.selectors import resolve_parsed

    # The owners of every entry the lookup can reach (each may be answered differently).
    owners: set[int | None] = set()
    if parsed.candidates:
        keys = Q(pk__in=[])
        for c in parsed.candidates:
            keys |= Q(kind=c.kind, key=c.key)
        owners.update(
            Handle.objects.filter(keys, status=Handle.Status.VERIFIED).values_list(
                "entry__owner_id", flat=True
            )
        )
    if parsed.directory_handle is not None:
        owners.update(
            Entry.objects.filter(handle_canonical=parsed.directory_handle.canonical).values_list(
                "owner_id", flat=True
            )
        )
    owners.discard(None)
    owners = frozenset(owners)
    try:
        entry, matched = resolve_parsed(parsed, AnonymousUser())
    except NotFound:
        return {"entry": None, "owners": owners}
    card = {**_card(entry), "matched": matched, "owners": owners}
    # The anonymous answer's JSON, rendered once here rather than on every hit of the
    # resolve fast path (directory.fastpath), with the renderer the view answers with.
    card[ANONYMOUS_JSON] = _json_renderer().render(anonymous_view(card))
    return card


ANONYMOUS_JSON = "anonymous_json"


def _json_renderer():
    from rest_framework.renderers import JSONRenderer

    return JSONRenderer()


def anonymous_json(card: dict) -> bytes | None:
    """The body of the resolve answer an anonymous caller gets from ``card`` (DRF's JSON
    renderer, as the view renders it); ``None`` for a 404."""
    body = card.get(ANONYMOUS_JSON)
    if body is None:
        data = anonymous_view(card)
        body = None if data is None else _json_renderer().render(data)
    return body


def _entry_by_canonical(canonical: str):
    from directory.selectors import entry_with_related

    # Handles and endpoints only for an active entry: a suspended one is refused after the
    # same one query as a missing one, so the two take the same time.
    return entry_with_related(canonical, active_only=True)


def entry_answer(handle: str, caller) -> dict | None:
    """The entry read's answer (``entry``, ``handles``, ``endpoints``) for the directory
    handle ``handle`` and ``caller``, from the cache where it may be; ``None`` when the
    caller owns the entry (answer from :func:`directory.selectors.entry_get_by_handle`).
    Raises :class:`NotFound` for a missing or hidden entry alike."""
    from directory.exceptions import NotFound
    from directory.normalization import normalize_directory_handle

    try:
        canonical = normalize_directory_handle(handle).canonical
    except ValueError:
        raise NotFound("No entry answers to that handle.") from None

    def compute() -> dict:
        entry = _entry_by_canonical(canonical)
        if entry is None:
            return {"entry": None, "owners": frozenset()}
        owners = frozenset([entry.owner_id] if entry.owner_id else [])
        if entry.status != entry.Status.ACTIVE:
            return {"entry": None, "owners": owners}
        return {**_card(entry), "owners": owners}

    found = _answer("entry:" + digest(canonical), [directory_dep(canonical)], compute, caller)
    if found is None:
        return None
    card, facts = found
    if card["entry"] is None:
        raise NotFound("No entry answers to that handle.")
    return {
        "entry": card["entry"],
        "handles": card["handles"],
        "endpoints": _endpoints_for(card, facts),
    }


def webfinger_answer(handle: str) -> dict:
    """The JRD (:func:`directory.webfinger.entry_jrd`, every link) of the entry with
    directory handle ``handle``, from the cache where it may be. The JRD is the same for
    every caller. Raises :class:`NotFound` for a missing or hidden entry alike."""
    from directory.exceptions import NotFound
    from directory.normalization import normalize_directory_handle
    from directory.webfinger import entry_jrd

    try:
        canonical = normalize_directory_handle(handle).canonical
    except ValueError:
        raise NotFound("No entry answers to that handle.") from None

    def compute() -> dict | None:
        entry = _entry_by_canonical(canonical)
        if entry is None or entry.status != entry.Status.ACTIVE:
            return None
        return entry_jrd(entry)

    key = f"webfinger:{digest(canonical)}|{digest(_site())}"
    jrd = cached_many([(key, [directory_dep(canonical)], compute)])[0]
    if jrd is None:
        raise NotFound("No entry answers to that handle.")
    return jrd
