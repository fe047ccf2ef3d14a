"""Gunicorn settings for the Worldbook web process, read from the environment.

Used by ``python -m directory.webserver`` (``deploy/run``, the systemd units, the compose
files and the image) when ``WEB_SERVER`` is ``gunicorn``, the default:
``gunicorn --config deploy/gunicorn.conf.py``. Granian's settings are in directory/webserver.py.
The variables are listed in deploy/env.example.
"""

import multiprocessing
import os
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, not {raw!r}") from None


def _bind() -> str:
    explicit = os.environ.get("GUNICORN_BIND", "").strip()
    if explicit:
        return explicit
    host = os.environ.get("HOST", "").strip() or "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{_int('PORT', 8000)}"


wsgi_app = "directory.wsgi:application"
bind = _bind()
# gthread workers keep each client's connection alive between requests: a calling app that
# resolves handle after handle pays for one TCP connection, not one per lookup, and a worker
# waiting on the database or Redis serves another request meanwhile. One worker per core
# plus one, four threads each: measured best for resolve (docs/benchmarks.md).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "").strip() or "gthread"
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1)
threads = _int("GUNICORN_THREADS", 4)
# Seconds an idle kept-alive connection stays open (gunicorn's default is 2).
keepalive = _int("GUNICORN_KEEPALIVE", 5)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Recycling workers now and then bounds the damage of any slow leak.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "").strip() or "-"
errorlog = "-"
loglevel = (os.environ.get("LOG_LEVEL", "").strip() or "info").lower()
# Request time in microseconds (%(D)s) at the end of each access-log line.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s "%(a)s" %(D)sus'
# Phone numbers: number lookups carry the number in their path; the access log redacts it.
logger_class = "directory.numbers.gunicorn.RedactingLogger"
# Only a proxy on these addresses may set X-Forwarded-Proto / X-Forwarded-For; Django reads
# the same variable (directory.client_address). Empty by default: no header is trusted.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "").strip()
# gunicorn's own refusals are HTML pages; its limits are raised to its maximum so that
# Django refuses first, with a problem document under /api/ (directory.edge: a request target
# over 8000 bytes answers 414, a header field over 8190 bytes or more than 100 of them 431).
limit_request_line = 8190
limit_request_field_size = 65536
limit_request_fields = 1000
proc_name = "worldbook-web"
# gunicorn's control socket (for gunicornc) defaults to one path per user account, which
# every gunicorn of that account would share; each deployment keeps its own in its folder.
_var_dir = Path(
    os.environ.get("WORLDBOOK_VAR_DIR", "").strip()
    or Path(__file__).resolve().parent.parent / "var"
)
control_socket = str(_var_dir / "gunicorn.ctl")


def post_worker_init(worker):
    """Once the worker has loaded Django: move everything allocated so far out of the
    garbage collector's reach (gc.freeze), so its full collections scan only what
    requests allocate instead of the whole framework, which showed as latency spikes."""
    import gc

    gc.freeze()
