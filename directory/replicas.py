"""Reads on PostgreSQL streaming replicas, with read-your-writes.

With ``DATABASE_REPLICA_URLS`` set, the settings name each replica ``replica1``,
``replica2``, … beside ``default`` (the primary) and install :class:`ReplicaRouter`,
:class:`ReplicaMiddleware` (first) and :class:`ReplicaReadsMiddleware` (last). The rules:

- **Writes** always go to the primary, and so does every read outside a request (Celery
  tasks, management commands), every read inside a transaction (it may need its own
  uncommitted rows, or lock them), and every read of a request after it wrote.
- **Read paths** — views marked with :func:`replica_reads` (resolve, entry, WebFinger,
  search, the entry and search pages), answering ``GET`` or ``HEAD`` — read from a
  replica, one per request (a second query never sees an older state than the first),
  save that an answer-cache fill may need one further along (:func:`reading_at_least`).
  Credentials are read from the primary whatever the path (:data:`PRIMARY_ONLY`): a token
  minted a moment ago, or a session opened by a sign-in, must work at once, and it is
  used under another identity than the one that wrote it.
- **Read-your-writes.** A request that wrote (the router saw a write, or the method was
  not safe) *pins* its caller to the primary for ``DATABASE_PIN_SECONDS``: a cache key per
  credential it presented (a digest of its ``Authorization`` header — an OAuth token,
  Basic credentials — and of its session cookie, the new one too when a sign-in rotated
  it), and a cookie for browsers. A pinned caller's reads all go to the primary. The
  window is at least ``DATABASE_REPLICA_MAX_LAG + DATABASE_REPLICA_CHECK_SECONDS`` (the
  settings refuse less): a replica is used only when, at a reading at most
  ``CHECK_SECONDS`` old, it was at most ``MAX_LAG`` seconds behind, so once the pin expires
  every usable replica holds the write. When the cache cannot be read, a caller with any
  credential is taken as pinned.
- **Health.** Each process reads each replica's state at most every
  ``DATABASE_REPLICA_CHECK_SECONDS`` (:class:`ReplicaHealth`): a replica is *usable* when
  it is still in recovery and either has replayed past the primary's written WAL
  position (``pg_current_wal_lsn()``, read just before) or is behind by at most
  ``DATABASE_REPLICA_MAX_LAG`` seconds, measured as ``now() -
  pg_last_xact_replay_timestamp()`` (the age of the newest commit it shows; the two
  servers' clocks are assumed to agree, as NTP keeps them).
  A replica that cannot be reached, has been promoted or lags more is skipped: its reads
  go to another usable replica or to the primary. A replica that fails in the middle of a
  request (stopped after the last reading) is marked down and the view runs again on the
  primary, so the caller never gets a 5xx for it (:meth:`ReplicaReadsMiddleware.process_view`).
  A replica found down is read again after ``max(5, CHECK_SECONDS)`` seconds.
- **The answer cache** (:mod:`directory.answers`) fills a record from a replica only
  when that replica has replayed past the WAL position stamped on the record's
  dependency tokens (:func:`reading_at_least`); see that module for why this keeps a stale
  answer out of the cache.

Why not a library: django-multidb-router (``multidb``, the well-kept one; its
``PinningReplicaRouter`` and ``PinningRouterMiddleware`` with the "pinning cookie") pins
only through a cookie, which calling apps with OAuth tokens do not keep; it sends every
read anywhere in the process to a replica (Celery tasks and credential checks included);
and it picks replicas round-robin without knowing whether one is down or lagging, so a
stopped replica turns into errors. django-replicated has the same limits and has not had
a release since 2020. What is kept from ``multidb`` is its shape: a router that reads a
per-request flag and a middleware that pins after a write, with a cookie for browsers.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db import Error as DatabaseError

logger = logging.getLogger(__name__)

# Apps whose rows are credentials or sign-in state: always read from the primary.
PRIMARY_ONLY = frozenset(
    {
        "sessions",
        "oauth2_provider",
        "calling_apps",
        "axes",
        "otp_totp",
        "otp_static",
        "otp_email",
        "django_otp_webauthn",
    }
)
PIN_COOKIE = "worldbook_pinned"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_PIN_PREFIX = "replicas:pin:"
# A position no replica reaches: a stamp that sends every fill to the primary.
UNREACHABLE_LSN = 2**64


def replica_aliases() -> list[str]:
    """The aliases of the configured replicas in ``DATABASES`` (empty without any)."""
    return list(getattr(settings, "DATABASE_REPLICAS", ()))


def configured() -> bool:
    """Whether any replica is configured."""
    return bool(getattr(settings, "DATABASE_REPLICAS", ()))


def replica_reads(view: Callable) -> Callable:
    """Mark a view (a function, or an ``APIView`` class) as a read path: its ``GET`` and
    ``HEAD`` answers may read from a replica. Returns the view itself."""
    view.replica_reads = True  # type: ignore[attr-defined]
    return view


def _marked(view_func) -> bool:
    if getattr(view_func, "replica_reads", False):
        return True
    cls = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None)
    return bool(getattr(cls, "replica_reads", False))


# ------------------------------------------------------------------ per-request state


@dataclass
class _Request:
    replica_ok: bool = False  # a read path, the caller not pinned
    wrote: bool = False  # the router saw a write in this request
    used: str | None = None  # the replica this request reads from
    min_lsn: int = 0  # while filling the answer cache: the position a replica must hold
    touched: set[str] = field(default_factory=set)  # every replica this request read


_request: ContextVar[_Request | None] = ContextVar("worldbook_replica_request", default=None)


@contextmanager
def reading_at_least(lsn: int) -> Iterator[None]:
    """Within the block, read from a replica only if it is known to have replayed WAL up
    to ``lsn`` (bytes from ``0/0``), else from the primary. Used by the answer cache for
    the reads that fill a record. Outside a read path it changes nothing."""
    state = _request.get()
    if state is None or not state.replica_ok:
        yield
        return
    previous_min, previous_used = state.min_lsn, state.used
    state.min_lsn = max(previous_min, lsn)
    if state.used is not None and health.replay_lsn(state.used) < state.min_lsn:
        state.used = None
    try:
        yield
    finally:
        state.min_lsn, state.used = previous_min, previous_used


# -------------------------------------------------------------------------- positions


def primary_lsn(*, written: bool = False) -> int | None:
    """The primary's current WAL position in bytes from ``0/0``, or ``None`` when the
    primary cannot say (an error, logged).

    By default the *insert* position (``pg_current_wal_insert_lsn()``): it is past the end
    of every record inserted so far, a commit record whose ``COMMIT`` returned included,
    even with ``synchronous_commit`` off (where the commit may still sit in the WAL
    buffers). With ``written``, the position written out (``pg_current_wal_lsn()``), the
    most a standby can have received: what a replica is compared with to say it caught up.
    """
    function = "pg_current_wal_lsn" if written else "pg_current_wal_insert_lsn"
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(f"SELECT {function}() - '0/0'::pg_lsn")
            return int(cursor.fetchone()[0])
    except DatabaseError:
        logger.warning("could not read the primary's WAL position", exc_info=True)
        return None


# ----------------------------------------------------------------------------- health


@dataclass
class _Reading:
    at: float  # time.monotonic() of the reading
    usable: bool
    replay_lsn: int = 0
    lag: float | None = None


_REPLICA_STATE_SQL = (
    "SELECT pg_is_in_recovery(), "
    "COALESCE(pg_last_wal_replay_lsn() - '0/0'::pg_lsn, 0), "
    "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
)


class ReplicaHealth:
    """Per-process readings of each replica: reachable, in recovery, replay position and
    lag. A reading is kept ``DATABASE_REPLICA_CHECK_SECONDS`` (a down replica's for
    ``max(5, CHECK_SECONDS)``); the next read path that needs one takes a new one."""

    def __init__(self) -> None:
        self._readings: dict[str, _Reading] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget every reading (the next use reads each replica again)."""
        with self._lock:
            self._readings.clear()

    def replay_lsn(self, alias: str) -> int:
        """The replay position of ``alias`` at its last reading (0 when unknown). Replay
        only moves forward, so the replica holds at least this much now."""
        reading = self._readings.get(alias)
        return reading.replay_lsn if reading is not None and reading.usable else 0

    def mark_down(self, alias: str) -> None:
        """Record that ``alias`` failed: skipped until it is read again."""
        with self._lock:
            self._readings[alias] = _Reading(at=time.monotonic(), usable=False)
        _close(alias)

    def choose(self, min_lsn: int = 0) -> str | None:
        """A usable replica that has replayed at least ``min_lsn``, at random among them,
        or ``None`` when there is none (read the primary)."""
        now = time.monotonic()
        usable = []
        for alias in replica_aliases():
            reading = self._readings.get(alias)
            if reading is None or now - reading.at >= self._keep(reading):
                reading = self._read(alias)
            if reading.usable and reading.replay_lsn >= min_lsn:
                usable.append(alias)
        return random.choice(usable) if usable else None

    @staticmethod
    def _keep(reading: _Reading) -> float:
        every = settings.DATABASE_REPLICA_CHECK_SECONDS
        return every if reading.usable else max(5, every)

    def _read(self, alias: str) -> _Reading:
        with self._lock:
            reading = self._readings.get(alias)
            now = time.monotonic()
            if reading is not None and now - reading.at < self._keep(reading):
                return reading  # another thread read it meanwhile
            reading = self._measure(alias, now)
            self._readings[alias] = reading
            return reading

    def _measure(self, alias: str, now: float) -> _Reading:
        primary = primary_lsn(written=True)
        if primary is None:
            return _Reading(at=now, usable=False)
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute(_REPLICA_STATE_SQL)
                in_recovery, replayed, lag = cursor.fetchone()
        except DatabaseError as exc:
            logger.warning("replica %s skipped: %s", alias, exc)
            _close(alias)
            return _Reading(at=now, usable=False)
        replayed = int(replayed)
        if not in_recovery:
            logger.warning("replica %s skipped: it is not in recovery (promoted?)", alias)
            return _Reading(at=now, usable=False)
        if replayed >= primary:
            return _Reading(at=now, usable=True, replay_lsn=replayed, lag=0.0)
        lag = None if lag is None else float(lag)
        usable = lag is not None and lag <= settings.DATABASE_REPLICA_MAX_LAG
        if not usable:
            logger.warning(
                "replica %s skipped: %s s behind (bound %s s)",
                alias,
                "unknown" if lag is None else f"{lag:.1f}",
                settings.DATABASE_REPLICA_MAX_LAG,
            )
        return _Reading(at=now, usable=usable, replay_lsn=replayed, lag=lag)


def _close(alias: str) -> None:
    try:
        connections[alias].close()
    except DatabaseError:
        pass


health = ReplicaHealth()


# ----------------------------------------------------------------------------- router


class ReplicaRouter:
    """Django database router (``DATABASE_ROUTERS``): writes and most reads to the
    primary, read paths to a usable replica (see the module's rules)."""

    def db_for_read(self, model, **hints) -> str | None:
        """The alias to read ``model`` from: a replica for a read path's reads, else
        ``None`` (Django then uses the primary, ``default``)."""
        state = _request.get()
        if state is None or not state.replica_ok or state.wrote:
            return None
        if model._meta.app_label in PRIMARY_ONLY or model is _user_model():
            return None
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None
        if state.used is None:
            state.used = health.choose(state.min_lsn)
            if state.used is None:
                if not state.min_lsn:
                    # No replica is usable now: the rest of this request reads the primary.
                    state.replica_ok = False
                return None
            state.touched.add(state.used)
        return state.used

    def db_for_write(self, model, **hints) -> str:
        """Always the primary; the request is marked as having written."""
        state = _request.get()
        if state is not None:
            state.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        """Rows read from a replica and from the primary are the same database."""
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        """Migrations run on the primary only; replicas follow by replication."""
        return db == DEFAULT_DB_ALIAS


def _user_model():
    from django.contrib.auth import get_user_model

    return get_user_model()


# ------------------------------------------------------------------------- middleware


def _digest(value: str) -> str:
    return hashlib.blake2b(value.encode("utf-8", "replace"), digest_size=16).hexdigest()


def _credentials(request, response=None) -> list[str]:
    """Pin keys for the credentials ``request`` presented (and a session ``response``
    opened)."""
    keys = []
    authorization = request.META.get("HTTP_AUTHORIZATION")
    if authorization:
        keys.append(_PIN_PREFIX + "a:" + _digest(authorization))
    session = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session:
        keys.append(_PIN_PREFIX + "s:" + _digest(session))
    if response is not None:
        opened = response.cookies.get(settings.SESSION_COOKIE_NAME)
        if opened is not None and opened.value:
            keys.append(_PIN_PREFIX + "s:" + _digest(opened.value))
    return keys


def _pinned(request) -> bool:
    if PIN_COOKIE in request.COOKIES:
        return True
    keys = _credentials(request)
    if not keys:
        return False
    from django.core.cache import cache

    try:
        return bool(cache.get_many(keys))
    except Exception:
        logger.warning("pins could not be read; reading the primary", exc_info=True)
        return True


def _pin(request, response) -> None:
    from django.core.cache import cache

    seconds = settings.DATABASE_PIN_SECONDS
    keys = _credentials(request, response)
    if keys:
        try:
            cache.set_many(dict.fromkeys(keys, 1), timeout=seconds)
        except Exception:
            logger.warning("could not pin a writer to the primary", exc_info=True)
    # For browsers, whatever they presented (a sign-in opens a session only now).
    response.set_cookie(
        PIN_COOKIE,
        "1",
        max_age=seconds,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _replica_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a replica refusing or dropping the connection, or cancelling a
    query that conflicted with recovery (SQLSTATE 40001 on a hot standby)."""
    from directory.exceptions import database_refused

    if database_refused(exc):
        return True
    return getattr(exc.__cause__, "sqlstate", None) == "40001"


class ReplicaMiddleware:
    """Gives each request its routing state and pins its caller to the primary if it
    wrote. Listed first in ``MIDDLEWARE``, so that it sees the session middleware's writes
    and the session cookie a sign-in opens."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        """Run the request with its own routing state; pin its caller if it wrote."""
        token = _request.set(_Request())
        try:
            response = self.get_response(request)
            state = _request.get()
            if state.wrote or request.method not in _SAFE_METHODS:
                _pin(request, response)
            return response
        finally:
            _request.reset(token)


class ReplicaReadsMiddleware:
    """Sends a read path's reads to a replica unless its caller is pinned, and runs it
    again on the primary when its replica failed. Listed last in ``MIDDLEWARE``: its
    ``process_view`` calls the view, after every other middleware's ``process_view``."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        """Pass the request on (the work is in :meth:`process_view`)."""
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        """For a read path (``GET``/``HEAD`` of a view marked :func:`replica_reads`) whose
        caller is not pinned, allow replica reads and call the view; if the replica
        refuses or drops the connection, mark it down and call the view again on the
        primary. ``None`` (Django calls the view) otherwise."""
        state = _request.get()
        if state is None or request.method not in ("GET", "HEAD") or not _marked(view_func):
            return None
        if _pinned(request):
            return None
        state.replica_ok = True
        try:
            return view_func(request, *view_args, **view_kwargs)
        except Exception as exc:
            if not state.touched or not _replica_failure(exc):
                raise
            for alias in state.touched:
                logger.warning("replica %s failed mid-request; answering from the primary", alias)
                health.mark_down(alias)
            state.replica_ok, state.used = False, None
            return view_func(request, *view_args, **view_kwargs)
