"""Load generators and their latency figures.

Three drivers, each run with ``clients`` concurrent clients for ``duration`` seconds:

- :func:`run_wrk` drives the HTTP server with ``wrk`` (a separate C program, so the client
  costs the two-core machine little) and reads wrk's latency distribution;
- :func:`run_http_clients` is the fallback when wrk is missing: one process per client,
  each holding one keep-alive ``httpx`` connection;
- :func:`run_raw_clients` is the baseline: one process per client, each with one
  psycopg connection running the lookup's SQL as prepared statements.

Client processes are started with ``spawn`` and wait on a barrier until every one of them
has connected, so the measured window holds no connection set-up. This module imports
neither Django nor the project, so client processes start fast and share nothing with
the server.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing as mp
import queue
import random
import shutil
import statistics
import subprocess
import time
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.cpu import CpuAccount, CpuShare

LUA_SCRIPT = Path(__file__).with_name("resolve.lua")
DIRECTORY = "directory"


@dataclass(frozen=True)
class LatencySummary:
    """Throughput and latency of one driver run.

    ``seconds`` is the measured window; latencies are in milliseconds, per request
    (a resolve call, or a raw lookup's whole set of queries). ``outcomes`` counts
    HTTP statuses (``"200"``, ``"404"`` …) or, for the raw baseline, ``"found"`` and
    ``"missing"``; ``errors`` counts requests that got no answer (connect, read or
    timeout errors); ``cpu`` says how the machine's CPU time was shared during the
    window, when it was measured.
    """

    label: str
    clients: int
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    outcomes: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    cpu: CpuShare | None = None

    @property
    def throughput(self) -> float:
        """Completed requests per second over the measured window."""
        return self.requests / self.seconds if self.seconds else 0.0

    @classmethod
    def from_samples(
        cls,
        label: str,
        clients: int,
        samples: Sequence[float],
        seconds: float,
        outcomes: dict[str, int],
        errors: int = 0,
        cpu: CpuShare | None = None,
    ) -> LatencySummary:
        """Summarize per-request latencies ``samples`` (seconds) measured over ``seconds``.

        Percentiles use the "inclusive" method of :func:`statistics.quantiles` (linear
        interpolation between order statistics, as numpy's default). Raises
        ``ValueError`` with fewer than two samples.
        """
        if len(samples) < 2:
            raise ValueError(f"{label}: {len(samples)} requests completed; nothing to summarize.")
        cuts = statistics.quantiles(samples, n=100, method="inclusive")
        return cls(
            label=label,
            clients=clients,
            requests=len(samples),
            seconds=seconds,
            p50_ms=cuts[49] * 1000,
            p95_ms=cuts[94] * 1000,
            p99_ms=cuts[98] * 1000,
            max_ms=max(samples) * 1000,
            outcomes=dict(outcomes),
            errors=errors,
            cpu=cpu,
        )


# --------------------------------------------------------------------------------------
# Client processes


def _client_main(
    work: Callable[..., tuple[array, Counter, int]],
    barrier: Any,
    results: Any,
    duration: float,
    args: tuple,
) -> None:
    try:
        outcome = work(barrier, duration, *args)
    except BaseException as exc:  # report any failure to the parent instead of hanging it
        barrier.abort()
        results.put(("error", f"{type(exc).__name__}: {exc}"))
        return
    results.put(("ok", outcome))


def _run_processes(
    work: Callable[..., tuple[array, Counter, int]],
    per_client: list[tuple],
    duration: float,
    *,
    account: CpuAccount | None = None,
    setup_timeout: float = 120.0,
) -> tuple[list[float], Counter, int, CpuShare | None]:
    """Run ``work(barrier, duration, *args)`` in one spawned process per ``per_client``
    item; gather their latency samples, outcome counts and error counts.

    The barrier is passed three times: when every client is ready (the window opens),
    when every client has finished (it closes, before any connection is dropped), and
    to let them go. ``account`` measures the CPU time of that window.
    """
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(len(per_client) + 1)
    results = ctx.Queue()
    processes = [
        ctx.Process(target=_client_main, args=(work, barrier, results, duration, args), daemon=True)
        for args in per_client
    ]
    for process in processes:
        process.start()
    samples: list[float] = []
    outcomes: Counter = Counter()
    errors = 0
    failures: list[str] = []
    share = None
    try:
        try:
            barrier.wait(timeout=setup_timeout)
            if account is not None:
                account.start()
            barrier.wait(timeout=duration + setup_timeout)
            if account is not None:
                share = account.stop()
            barrier.wait(timeout=setup_timeout)
        except Exception:
            failures.append("the clients did not all run to the end")
        for _ in processes:
            try:
                status, payload = results.get(timeout=duration + setup_timeout)
            except queue.Empty:
                failures.append("a client did not report")
                break
            if status == "error":
                failures.append(payload)
                continue
            part, counts, failed = payload
            samples.extend(part)
            outcomes.update(counts)
            errors += failed
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
                process.join()
    if failures:
        raise RuntimeError("; ".join(dict.fromkeys(failures)))
    return samples, outcomes, errors, share


def _finish(barrier: Any) -> None:
    """A client's end of the window: wait for all, then for the parent's account."""
    barrier.wait()
    barrier.wait()


# --------------------------------------------------------------------------------------
# Raw PostgreSQL baseline


@dataclass(frozen=True)
class RawStatements:
    """The SQL of one lookup, as resolve runs it, without Django, HTTP or JSON."""

    entry_by_handle: str
    entry_by_verified_handle: str
    handles_of: str
    endpoints_of: str

    @classmethod
    def for_tables(cls, entry: str, handle: str, endpoint: str) -> RawStatements:
        """Build the statements for the given (already quoted) table names."""
        columns = "e.id, e.handle, e.nickname, e.status, e.owner_id"
        return cls(
            entry_by_handle=f"SELECT {columns} FROM {entry} e WHERE e.handle_canonical = %s",
            entry_by_verified_handle=(
                f"SELECT {columns}, h.kind, h.canonical FROM {handle} h "
                f"JOIN {entry} e ON e.id = h.entry_id "
                "WHERE h.kind = %s AND h.key = %s AND h.status = 'verified' LIMIT 1"
            ),
            handles_of=(
                f"SELECT kind, canonical, status, verified_at FROM {handle} "
                "WHERE entry_id = %s ORDER BY kind, key"
            ),
            endpoints_of=(
                "SELECT uri, scheme, service, voice, video, text, preference, label, audience "
                f"FROM {endpoint} WHERE entry_id = %s ORDER BY preference, id"
            ),
        )


def raw_lookup(cursor: Any, sql: RawStatements, kind: str, key: str) -> bool:
    """Run one lookup on a psycopg ``cursor`` with prepared statements.

    Input: ``kind`` (``"directory"`` or an external handle kind) and ``key`` (the
    canonical directory handle or the handle's comparison key). Output: whether an
    active entry answered. The statements are those resolve runs: the entry (through
    its verified handle, joined, for an external handle), then its handles and its
    endpoints; a miss or a hidden entry costs one statement.
    """
    if kind == DIRECTORY:
        cursor.execute(sql.entry_by_handle, (key,), prepare=True)
    else:
        cursor.execute(sql.entry_by_verified_handle, (kind, key), prepare=True)
    row = cursor.fetchone()
    if row is None or row[3] != "active":
        return False
    cursor.execute(sql.handles_of, (row[0],), prepare=True)
    cursor.fetchall()
    cursor.execute(sql.endpoints_of, (row[0],), prepare=True)
    cursor.fetchall()
    return True


def _raw_client(
    barrier: Any,
    duration: float,
    dsn: str,
    sql: RawStatements,
    lookups: list[tuple[str, str]],
    seed: int,
) -> tuple[array, Counter, int]:
    import psycopg

    rng = random.Random(seed)
    samples = array("d")
    outcomes: Counter = Counter()
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cursor:
        # Prepare every statement before the clock starts.
        for kind, key in lookups[:50]:
            raw_lookup(cursor, sql, kind, key)
        barrier.wait()
        stop_at = time.monotonic() + duration
        while time.monotonic() < stop_at:
            kind, key = rng.choice(lookups)
            started = time.perf_counter()
            found = raw_lookup(cursor, sql, kind, key)
            samples.append(time.perf_counter() - started)
            outcomes["found" if found else "missing"] += 1
        _finish(barrier)
    return samples, outcomes, 0


def run_raw_clients(
    dsn: str,
    sql: RawStatements,
    lookups: list[tuple[str, str]],
    *,
    clients: int,
    duration: float,
    seed: int,
    account: CpuAccount | None = None,
) -> LatencySummary:
    """Measure ``clients`` concurrent raw lookups against PostgreSQL for ``duration`` s.

    Input: a libpq ``dsn``, the statements, the ``(kind, key)`` lookups to draw from at
    random, and optionally a CPU ``account`` for the window. Output: a
    :class:`LatencySummary`. Raises ``RuntimeError`` when a client fails (the database
    refused a connection, a statement failed).
    """
    per_client = [(dsn, sql, lookups, seed * 1000 + n) for n in range(clients)]
    samples, outcomes, errors, share = _run_processes(
        _raw_client, per_client, duration, account=account
    )
    return LatencySummary.from_samples(
        "raw PostgreSQL lookup", clients, samples, duration, dict(outcomes), errors, share
    )


# --------------------------------------------------------------------------------------
# HTTP: wrk, or Python clients when wrk is missing


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    base_url: str,
    paths_file: Path,
    *,
    clients: int,
    duration: int,
    threads: int,
    seed: int,
    timeout: int = 10,
    account: CpuAccount | None = None,
) -> LatencySummary:
    """Drive ``base_url`` with wrk over the paths in ``paths_file`` (one a line).

    ``clients`` is wrk's connection count (``-c``), ``threads`` its thread count (``-t``,
    at most ``clients``), ``duration`` whole seconds. Output: a :class:`LatencySummary`
    from wrk's own latency histogram. Raises ``RuntimeError`` when wrk fails or prints
    no result.
    """
    command = [
        "wrk",
        "-t",
        str(max(1, min(threads, clients))),
        "-c",
        str(clients),
        "-d",
        f"{duration}s",
        "--timeout",
        f"{timeout}s",
        "-s",
        str(LUA_SCRIPT),
        base_url,
        "--",
        str(paths_file),
        str(seed),
    ]
    if account is not None:
        account.start()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 120, check=False
    )
    share = account.stop() if account is not None else None
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout}")
    summary = summary_from_wrk(json.loads(line[len("WRK_RESULT ") :]), clients)
    return dataclasses.replace(summary, cpu=share)


def summary_from_wrk(result: dict[str, Any], clients: int) -> LatencySummary:
    """Turn the ``WRK_RESULT`` document of resolve.lua into a :class:`LatencySummary`.

    wrk counts every non-2xx/3xx response as a "status error"; those are answers, kept
    in ``outcomes`` by status, not errors. ``errors`` counts connect, read, write and
    timeout failures.
    """
    latency = result["latency_us"]
    errors = result["errors"]
    return LatencySummary(
        label="resolve over HTTP (wrk)",
        clients=clients,
        requests=int(result["requests"]),
        seconds=result["duration_us"] / 1e6,
        p50_ms=latency["p50"] / 1000,
        p95_ms=latency["p95"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        outcomes={str(k): int(v) for k, v in sorted(result["statuses"].items())},
        errors=sum(int(errors[k]) for k in ("connect", "read", "write", "timeout")),
    )


def _http_client(
    barrier: Any, duration: float, base_url: str, paths: list[str], seed: int
) -> tuple[array, Counter, int]:
    import httpx

    rng = random.Random(seed)
    samples = array("d")
    outcomes: Counter = Counter()
    errors = 0
    # One connection per client, kept alive while the server allows it.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    with httpx.Client(base_url=base_url, limits=limits, timeout=10.0) as client:
        client.get(paths[0])
        barrier.wait()
        stop_at = time.monotonic() + duration
        while time.monotonic() < stop_at:
            path = rng.choice(paths)
            started = time.perf_counter()
            try:
                response = client.get(path)
            except httpx.HTTPError:
                errors += 1
                continue
            samples.append(time.perf_counter() - started)
            outcomes[str(response.status_code)] += 1
        _finish(barrier)
    return samples, outcomes, errors


def run_http_clients(
    base_url: str,
    paths: list[str],
    *,
    clients: int,
    duration: float,
    seed: int,
    account: CpuAccount | None = None,
) -> LatencySummary:
    """Drive ``base_url`` with ``clients`` Python client processes (httpx) for
    ``duration`` seconds over ``paths``; the fallback when wrk is not installed.

    Output: a :class:`LatencySummary` from per-request latencies. Raises
    ``RuntimeError`` when a client fails to start.
    """
    per_client = [(base_url, paths, seed * 1000 + n) for n in range(clients)]
    samples, outcomes, errors, share = _run_processes(
        _http_client, per_client, duration, account=account
    )
    return LatencySummary.from_samples(
        "resolve over HTTP (httpx clients)",
        clients,
        samples,
        duration,
        dict(outcomes),
        errors,
        share,
    )
