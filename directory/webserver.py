"""The web process: gunicorn or Granian serving ``directory.wsgi``, read from the environment.

``python -m directory.webserver`` is what ``deploy/run``, the systemd units, the compose
files and the container image start. ``WEB_SERVER`` chooses the server:

- ``granian`` (the default): Granian (a Rust HTTP server, WSGI interface) started through
  its Python API with the options of :func:`granian_options`, serving
  :func:`granian_application`. Chosen by measurement: at a million entries it answered 3.7
  times as many resolves as gunicorn with a 25 times shorter p99 (docs/benchmarks.md,
  "Granian against gunicorn");
- ``gunicorn``: replaced by ``gunicorn --config deploy/gunicorn.conf.py``.

Granian gives the application less than gunicorn does, and :class:`GranianGlue` makes up
for it, in front of the resolve fast path (:mod:`directory.fastpath`):

- the access log: Granian's own cannot redact phone numbers, so it stays off and each
  request is logged here (:class:`AccessLog`), in gunicorn's format
  (``address "request line" status size "user agent" <duration>us``) with number-like
  runs of the request line replaced by ``[number]`` (:func:`directory.numbers.logging.
  redact_numbers`), the fast path's answers included. Lines are buffered and written out
  at most half a second later (and when the worker exits), not flushed one by one;
- the process environment: Granian copies every environment variable of the server into
  each request's environ (``SECRET_KEY``, ``DATABASE_URL``…), where error reports would show
  them; they are taken out again before Django sees the request
  (:class:`WithoutInheritedEnvironment`), and those named like request headers before the
  fast path reads it;
- ``X-Forwarded-Proto``: gunicorn sets ``wsgi.url_scheme`` from it for a trusted proxy
  (``FORWARDED_ALLOW_IPS``); Django reads it through ``SECURE_PROXY_SSL_HEADER`` and the fast
  path the same way (:func:`directory.fastpath.request_scheme`), so nothing is needed here.

Limits: Granian (hyper) reads a request target of any length and header fields up to
``GRANIAN_HTTP1_BUFFER_SIZE`` bytes in all, so Django's edge (:mod:`directory.edge`) answers
the 414 and 431 problem documents; more than 100 header fields are refused by hyper itself
with a 431 and no body, before any Python runs.
"""

from __future__ import annotations

import atexit
import gc
import multiprocessing.util
import os
import sys
import threading
import time
import weakref
from pathlib import Path

from directory.numbers.logging import redact_numbers

ROOT = Path(__file__).resolve().parent.parent
# A number-like run has at least 7 digits: fewer in the request line, nothing to redact.
_NOT_DIGITS = str.maketrans("", "", "0123456789")


def _int(env, name: str, default: int | None, minimum: int = 0) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise SystemExit(f"{name} must be at least {minimum}, not {value}")
    return value


def _bind(env) -> dict:
    explicit = env.get("GRANIAN_BIND", "").strip()
    if explicit.startswith("unix:"):
        return {"uds": Path(explicit[5:])}
    if explicit:
        host, _, port = explicit.rpartition(":")
        if not host or not port.isdigit():
            raise SystemExit(f"GRANIAN_BIND must be HOST:PORT or unix:PATH, not {explicit!r}")
        return {"address": host.strip("[]"), "port": int(port)}
    host = env.get("HOST", "").strip() or "127.0.0.1"
    return {"address": host.strip("[]"), "port": _int(env, "PORT", 8000, minimum=1)}


def granian_options(env=None) -> dict:
    """The keyword arguments of ``granian.server.Server`` for the web process.

    Input: the environment (``os.environ`` by default); the variables are those of
    deploy/env.example. Output: a dict for ``Server(**options)``. Raises ``SystemExit``
    naming a variable that is not a (large enough) integer or a malformed ``GRANIAN_BIND``.
    """
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    env = os.environ if env is None else env
    level = (env.get("LOG_LEVEL", "").strip() or "info").lower()
    if level not in {item.value for item in LogLevels}:
        level = "info"
    workers = _int(env, "WEB_CONCURRENCY", len(os.sched_getaffinity(0)), minimum=1)
    keepalive = _int(env, "GRANIAN_KEEPALIVE", 5, minimum=1)
    return {
        "target": "directory.webserver:granian_application",
        "factory": True,
        **_bind(env),
        "interface": Interfaces.WSGI,
        # HTTP/1.1 only, as gunicorn: the proxy in front speaks it, and HTTP/2's own
        # header limits would bypass the edge's.
        "http": HTTPModes.http1,
        "websockets": False,
        "workers": workers,
        # Threads running the application per worker: two per worker, one worker per core,
        # answered the most resolves (docs/benchmarks.md, "One Redis call per resolve");
        # raise it where pages wait long on the database.
        "blocking_threads": _int(env, "GRANIAN_BLOCKING_THREADS", 2, minimum=1),
        "backlog": _int(env, "GRANIAN_BACKLOG", 1024, minimum=128),
        "http1_settings": HTTP1Settings(
            # hyper closes a connection that sends no complete request head within this
            # time, a kept-alive idle one included: gunicorn's keepalive.
            header_read_timeout=keepalive * 1000,
            keep_alive=True,
            max_buffer_size=_int(
                env, "GRANIAN_HTTP1_BUFFER_SIZE", HTTP1Settings.max_buffer_size, minimum=8192
            ),
        ),
        "log_enabled": True,
        "log_level": LogLevels(level),
        "log_access": False,  # granian_application logs each request, numbers redacted
        # A worker that dies is replaced; each is replaced after its lifetime anyway, which
        # bounds the damage of a slow leak (gunicorn's max_requests), and when its memory
        # passes GRANIAN_WORKERS_MAX_RSS MiB.
        "respawn_failed_workers": True,
        "workers_lifetime": _int(env, "GRANIAN_WORKERS_LIFETIME", 6 * 3600, minimum=60),
        "workers_max_rss": _int(env, "GRANIAN_WORKERS_MAX_RSS", None, minimum=1),
        # Seconds a stopping worker gets to finish its requests (gunicorn's graceful_timeout).
        "workers_kill_timeout": _int(env, "GRANIAN_WORKERS_KILL_TIMEOUT", 30, minimum=1),
        "working_dir": ROOT,
    }


def _take_out(environ, inherited) -> None:
    """Delete from ``environ`` each ``(name, value)`` of ``inherited`` it still holds
    unchanged (a request header of the same name, which Granian writes over it, stays)."""
    for name, value in inherited:
        if environ.get(name) == value:
            del environ[name]


class AccessLog:
    """The access log's writer: one line per request, written under a lock into the
    stream's buffer and flushed at most ``FLUSH_SECONDS`` later by a thread of its own, and
    when the process exits (a server's worker process included). Python's logging would
    build a record, look up the caller's frame and run the handlers for every request, and
    a flush per line is a system call per request: together they cost a resolve answered
    from the fast path a fifth of its time."""

    FLUSH_SECONDS = 0.5

    def __init__(self, stream) -> None:
        self.stream = stream
        self.lock = threading.Lock()
        self.pending = False
        self.flushing = False  # whether this process runs the flushing thread
        # Around a fork the lock is held and the buffer written out, so the child neither
        # inherits a held lock nor writes the parent's lines a second time. The hooks hold
        # the log weakly: they must not keep a dropped log alive.
        held = weakref.ref(self)
        os.register_at_fork(
            before=lambda: _before_fork(held),
            after_in_parent=lambda: _after_fork(held, child=False),
            after_in_child=lambda: _after_fork(held, child=True),
        )

    def write(self, line: str) -> None:
        with self.lock:
            try:
                self.stream.write(line)
            except (OSError, ValueError):
                return  # a full disk or a closed stream must not fail the request
            self.pending = True
            if not self.flushing:
                self._start_flushing()

    def flush(self) -> None:
        """Write out what is buffered; errors of the stream are dropped, as in write."""
        with self.lock:
            self._flush_held()

    def _flush_held(self) -> None:
        # With the lock held.
        if self.pending:
            self.pending = False
            try:
                self.stream.flush()
            except (OSError, ValueError):
                pass

    def _start_flushing(self) -> None:
        self.flushing = True
        # At exit: atexit's functions run when an interpreter ends, but a worker process
        # that multiprocessing started (Granian's) ends with os._exit after running only
        # multiprocessing's own finalizers.
        atexit.register(self.flush)
        multiprocessing.util.Finalize(None, self.flush, exitpriority=10)

        def flush_now_and_then() -> None:
            while True:
                time.sleep(self.FLUSH_SECONDS)
                self.flush()

        threading.Thread(target=flush_now_and_then, name="access-log", daemon=True).start()


def _before_fork(held: weakref.ref) -> None:
    log = held()
    if log is not None:
        log.lock.acquire()
        log._flush_held()


def _after_fork(held: weakref.ref, *, child: bool) -> None:
    log = held()
    if log is not None:
        if child:
            log.flushing = False  # a child of fork has no flushing thread
        log.lock.release()


class GranianGlue:
    """WSGI middleware under Granian: the redacted access log, and the process environment
    taken out of each request's environ (see the module's docstring).

    Granian starts every environ from a copy of the server's environment. Variables named
    like request headers (``HTTP_…``) or WSGI keys (with a dot) are taken out here, before
    the fast path reads any; the rest, which nothing before Django reads, by
    :class:`WithoutInheritedEnvironment` in front of Django only, so a fast answer does not
    pay for them."""

    def __init__(
        self, application, access_log: AccessLog | None, inherited: dict | None = None
    ) -> None:
        self.application = application
        self.log = access_log
        inherited = dict(os.environ) if inherited is None else inherited
        self.read_early = tuple(
            (name, value)
            for name, value in inherited.items()
            if name.startswith("HTTP_") or "." in name
        )

    def __call__(self, environ, start_response):
        _take_out(environ, self.read_early)
        if self.log is None:
            return self.application(environ, start_response)
        started = time.perf_counter()
        seen = []

        def keep(status, headers, exc_info=None):
            seen[:] = [status]
            return start_response(status, headers, exc_info)

        try:
            response = self.application(environ, keep)
        except BaseException:
            self._log(environ, "500", None, started)
            raise
        if isinstance(response, list):
            self._log(environ, seen[0] if seen else "500", sum(map(len, response)), started)
            return response
        return _Logged(response, self, environ, seen, started)

    def _log(self, environ, status: str, size: int | None, started: float) -> None:
        # Only the path and the query can hold a number (seven digits or more, with
        # separators of their own): "?", the method's and the protocol's letters end any
        # run of digits, so each part is redacted alone, and only when it has seven digits.
        target = _redacted(environ.get("PATH_INFO", ""))
        query = environ.get("QUERY_STRING")
        if query:
            target += "?" + _redacted(query)
        method = environ.get("REQUEST_METHOD", "-")
        line = f"{method} {target} {environ.get('SERVER_PROTOCOL', '-')}"
        address = environ.get("REMOTE_ADDR", "-")
        code = status.split(" ", 1)[0]
        length = "-" if size is None else size
        agent = environ.get("HTTP_USER_AGENT", "-")
        duration = int((time.perf_counter() - started) * 1_000_000)
        self.log.write(f'{address} "{line}" {code} {length} "{agent}" {duration}us\n')


def _redacted(text: str) -> str:
    if len(text) - len(text.translate(_NOT_DIGITS)) < 7:
        return text
    return redact_numbers(text)


class WithoutInheritedEnvironment:
    """WSGI middleware in front of Django: the variables of the server's environment that
    Granian copied into the environ (``SECRET_KEY``, ``DATABASE_URL``…) taken out, so error
    reports and anything else Django hands the environ to never see them."""

    def __init__(self, application, inherited: dict | None = None) -> None:
        self.application = application
        self.inherited = tuple((dict(os.environ) if inherited is None else inherited).items())

    def __call__(self, environ, start_response):
        _take_out(environ, self.inherited)
        return self.application(environ, start_response)


class _Logged:
    """A response iterable that counts its bytes and logs the request when closed."""

    def __init__(self, inner, glue: GranianGlue, environ, seen: list, started: float) -> None:
        self.inner, self.glue, self.environ = inner, glue, environ
        self.seen, self.started, self.size = seen, started, 0
        self.iterator = iter(inner)

    def __iter__(self):
        return self

    def __next__(self) -> bytes:
        chunk = next(self.iterator)
        self.size += len(chunk)
        return chunk

    def close(self) -> None:
        try:
            if hasattr(self.inner, "close"):
                self.inner.close()
        finally:
            status = self.seen[0] if self.seen else "500"
            self.glue._log(self.environ, status, self.size, self.started)


def access_log(target: str) -> AccessLog | None:
    """The access log writing to ``target`` (``-``: standard output; a path: that file,
    appended to; ``off``: no access log)."""
    if target.lower() == "off":
        return None
    if target == "-":
        return AccessLog(sys.stdout)
    return AccessLog(open(target, "a", encoding="utf-8"))  # noqa: SIM115


def granian_application():
    """Granian's application factory, called once in each worker: Django behind the
    resolve fast path (:mod:`directory.fastpath`), inside :class:`GranianGlue`, with the
    server's environment taken out of what reaches Django. Then, as gunicorn's
    ``post_worker_init`` does, everything allocated so far is moved out of the garbage
    collector's reach (``gc.freeze``)."""
    from directory import wsgi  # sets Django up first
    from directory.fastpath import ResolveFastPath

    inherited = dict(os.environ)
    target = os.environ.get("GRANIAN_ACCESS_LOG", "").strip() or "-"
    glued = GranianGlue(
        ResolveFastPath(
            WithoutInheritedEnvironment(wsgi.django_application, inherited),
            requests_in_transactions=False,
        ),
        access_log(target),
        inherited,
    )
    gc.freeze()
    return glued


def main() -> None:
    """Start the web server ``WEB_SERVER`` names (``granian`` unless set)."""
    server = os.environ.get("WEB_SERVER", "").strip().lower() or "granian"
    if server == "gunicorn":
        config = str(ROOT / "deploy" / "gunicorn.conf.py")
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, "-m", "gunicorn", "--config", config])
    if server != "granian":
        raise SystemExit(f"WEB_SERVER must be gunicorn or granian, not {server!r}")
    from granian.server import Server

    options = granian_options()
    os.chdir(ROOT)
    Server(**options).serve()


if __name__ == "__main__":
    main()
