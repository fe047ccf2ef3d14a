"""Load drivers: latency figures, raw PostgreSQL clients, wrk and the Python HTTP clients."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection

from benchmarks import drivers
from benchmarks.cpu import CpuAccount, own_processes
from directory.models import Endpoint, Entry, Handle


def test_it_summarizes_latencies_by_percentile():
    samples = [ms / 1000 for ms in range(1, 1001)]  # 1 ms … 1000 ms, one of each
    summary = drivers.LatencySummary.from_samples("x", 4, samples, 10.0, {"200": 1000})
    # Inclusive quantiles of 1..1000: rank p·(n−1) between order statistics.
    assert summary.p50_ms == pytest.approx(500.5)
    assert summary.p95_ms == pytest.approx(950.05)
    assert summary.p99_ms == pytest.approx(990.01)
    assert summary.max_ms == pytest.approx(1000)
    assert summary.throughput == pytest.approx(100.0)


def test_it_refuses_to_summarize_a_run_without_requests():
    with pytest.raises(ValueError, match="0 requests"):
        drivers.LatencySummary.from_samples("empty", 1, [], 1.0, {})


def test_it_keeps_http_error_answers_apart_from_failed_requests():
    summary = drivers.summary_from_wrk(
        {
            "duration_us": 2_000_000,
            "requests": 300,
            "bytes": 1,
            "errors": {"connect": 1, "read": 2, "write": 0, "status": 40, "timeout": 3},
            "latency_us": {"p50": 1500, "p95": 4000, "p99": 9000, "max": 12000, "mean": 2000.0},
            "statuses": {"404": 40, "200": 260},
        },
        clients=8,
    )
    assert summary.outcomes == {"200": 260, "404": 40}
    assert summary.errors == 6
    assert (summary.p50_ms, summary.p99_ms, summary.throughput) == (1.5, 9.0, 150.0)


def _statements() -> drivers.RawStatements:
    quote = connection.ops.quote_name
    return drivers.RawStatements.for_tables(
        *(quote(m._meta.db_table) for m in (Entry, Handle, Endpoint))
    )


def _dsn() -> str:
    from psycopg.conninfo import make_conninfo

    params = connection.get_connection_params()
    keep = ("dbname", "user", "password", "host", "port")
    return make_conninfo(**{k: str(v) for k, v in params.items() if k in keep and v})


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_measures_raw_lookups_with_concurrent_clients():
    pytest.importorskip("faker")
    from benchmarks.synthetic import ensure_loaded, lookup_mix

    ensure_loaded(30, seed=2, progress=False)
    mix = lookup_mix(200, seed=2, external_share=0.3, missing_share=0.2)
    found = [(m.kind, m.key) for m in mix if m.found]
    missing = [(m.kind, m.key) for m in mix if not m.found]
    dsn, sql = _dsn(), _statements()

    hits = drivers.run_raw_clients(dsn, sql, found, clients=2, duration=1, seed=1)
    misses = drivers.run_raw_clients(dsn, sql, missing, clients=2, duration=1, seed=1)

    assert set(hits.outcomes) == {"found"} and hits.outcomes["found"] == hits.requests
    assert set(misses.outcomes) == {"missing"} and misses.requests > 2
    assert 0 < hits.p50_ms <= hits.p99_ms <= hits.max_ms


class _Answers(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One write per response, sent at once: no 40 ms delayed-ACK stall per request.
    wbufsize = 65536
    disable_nagle_algorithm = True

    def do_GET(self):
        status = 200 if self.path.startswith("/found") else 404
        body = b'{"ok": true}' if status == 200 else b'{"status": 404}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


PATHS = ["/found?handle=%40alice", "/found?handle=bob%40example.org", "/missing?handle=%40nobody"]


@pytest.mark.skipif(not drivers.wrk_available(), reason="wrk is not installed")
def test_it_drives_http_with_wrk_over_random_paths(local_server, tmp_path):
    paths = tmp_path / "paths.txt"
    paths.write_text("\n".join(PATHS) + "\n")
    summary = drivers.run_wrk(local_server, paths, clients=2, duration=1, threads=1, seed=3)
    assert summary.requests > 10
    assert set(summary.outcomes) == {"200", "404"}
    assert sum(summary.outcomes.values()) == summary.requests
    assert summary.errors == 0
    assert 0 < summary.p50_ms <= summary.p99_ms <= summary.max_ms


def test_it_drives_http_with_python_clients_when_wrk_is_missing(local_server):
    account = CpuAccount(own_processes())
    summary = drivers.run_http_clients(
        local_server, PATHS, clients=2, duration=1, seed=3, account=account
    )
    # The clients and the server (a thread of this process) are the benchmark's own.
    assert summary.cpu is not None and summary.cpu.ours > 0.1
    assert set(summary.outcomes) == {"200", "404"}
    assert sum(summary.outcomes.values()) == summary.requests > 10
    assert summary.errors == 0


def test_it_reports_a_client_that_cannot_connect():
    with pytest.raises(RuntimeError, match="Error"):
        drivers.run_http_clients("http://127.0.0.1:9", PATHS, clients=1, duration=1, seed=1)
