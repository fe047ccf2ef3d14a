"""Benchmark reports: machine facts, a Markdown table, and the record in docs/benchmarks.md.

docs/benchmarks.md keeps its prose; runs are recorded between the two marker comments
``<!-- results:start -->`` and ``<!-- results:end -->``, newest first. Each run is one
block keyed by the exact command and the git commit, so running the same command again
on the same commit replaces its block instead of adding another.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.drivers import LatencySummary
from benchmarks.profiling import Breakdown

RESULTS_START = "<!-- results:start -->"
RESULTS_END = "<!-- results:end -->"
_RUN_BLOCK = re.compile(r"<!-- run (?P<key>[0-9a-f]+) -->\n.*?<!-- /run -->\n*", re.DOTALL)


@dataclass(frozen=True)
class Machine:
    """Facts about where a benchmark ran."""

    cpus: int
    cpu_model: str
    ram_gib: float
    os: str
    python: str
    postgresql: str
    redis: str
    software: str
    commit: str

    def markdown(self) -> str:
        return (
            f"{self.cpus} CPUs ({self.cpu_model}), {self.ram_gib:.0f} GiB RAM, {self.os}; "
            f"PostgreSQL {self.postgresql}, Redis {self.redis}, Python {self.python}, "
            f"{self.software}; commit `{self.commit}`"
        )


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, or what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def ram_gib() -> float:
    """Physical memory in GiB (POSIX ``sysconf``)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def git_commit(repo: Path) -> str:
    """The short commit hash of ``repo``'s HEAD, marked ``+changes`` when the project's
    tracked files differ from it (docs/ aside: recording a run changes them); ``unknown``
    outside a git checkout."""
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            [
                "git",
                "-C",
                str(repo),
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":(exclude)docs",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}+changes" if dirty else head


def _figures(summary: LatencySummary) -> str:
    answers = ", ".join(f"{k}: {v}" for k, v in summary.outcomes.items())
    if summary.errors:
        answers += f", no answer: {summary.errors}"
    others = f"{summary.cpu.others:.0%}" if summary.cpu is not None else "–"
    return (
        f"| {summary.label} | {summary.clients} | {summary.requests} | "
        f"{summary.throughput:.0f} | {summary.p50_ms:.1f} | {summary.p95_ms:.1f} | "
        f"{summary.p99_ms:.1f} | {summary.max_ms:.1f} | {answers} | {others} |"
    )


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "–"


def median_run(runs: list[LatencySummary]) -> LatencySummary:
    """The run whose throughput is the median of ``runs`` (the lower middle one for an
    even count): one real run's figures, not a mix of several."""
    ordered = sorted(runs, key=lambda run: run.throughput)
    return ordered[(len(ordered) - 1) // 2]


def spread(runs: list[LatencySummary]) -> str:
    """``"180–240 req/s, p99 90–130 ms"``: the range of throughput and p99 over ``runs``."""
    rates = [run.throughput for run in runs]
    p99s = [run.p99_ms for run in runs]
    return f"{min(rates):.0f}–{max(rates):.0f} req/s, p99 {min(p99s):.1f}–{max(p99s):.1f} ms"


def results_table(
    rows: list[LatencySummary] | LatencySummary,
    raw: LatencySummary | None = None,
    *,
    ratios: list[tuple[str, LatencySummary, LatencySummary]] | None = None,
) -> str:
    """A Markdown table of runs and ratios between them.

    Either ``results_table(resolve, raw)`` (the two runs and resolve ÷ raw) or
    ``results_table([runs…], ratios=[(label, a, b)…])`` (each ratio a ÷ b).
    """
    if raw is not None:
        rows = [rows, raw]  # type: ignore[list-item]
        ratios = [("resolve ÷ raw", rows[0], raw)]
    lines = [
        "| path | clients | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | answers "
        "| other work |",
        "|---|--:|--:|--:|--:|--:|--:|--:|---|--:|",
        *(_figures(row) for row in rows),  # type: ignore[union-attr]
    ]
    for label, a, b in ratios or []:
        lines.append(
            f"| {label} | | | {_ratio(a.throughput, b.throughput)} | "
            f"{_ratio(a.p50_ms, b.p50_ms)} | {_ratio(a.p95_ms, b.p95_ms)} | "
            f"{_ratio(a.p99_ms, b.p99_ms)} | | | |"
        )
    return "\n".join(lines)


def breakdown_table(found: Breakdown) -> str:
    """Markdown tables of a profile: self time by component, inclusive time by function."""
    lines = [
        f"{found.samples} request samples ({found.idle_samples} more samples of workers "
        "waiting for a connection were left out).",
        "",
        "| self time in | share |",
        "|---|--:|",
        *(f"| `{name}` | {share:.0%} |" for name, share in found.components),
        "",
        "| inclusive time in | share |",
        "|---|--:|",
        *(f"| `{name}` | {share:.0%} |" for name, share in found.functions),
    ]
    return "\n".join(lines)


def run_block(
    *,
    command: str,
    machine: Machine,
    when: datetime,
    title: str,
    body: str,
) -> str:
    """One run's Markdown block, keyed by ``command`` and ``machine.commit``."""
    key = hashlib.sha256(f"{command}\n{machine.commit}".encode()).hexdigest()[:16]
    return (
        f"<!-- run {key} -->\n"
        f"### {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC — {title}\n\n"
        f"Command: `{command}`\n\n"
        f"Machine: {machine.markdown()}\n\n"
        f"{body.strip()}\n"
        "<!-- /run -->\n"
    )


def record_run(docs: Path, block: str) -> None:
    """Put ``block`` at the top of the results in ``docs``, replacing the block of the
    same key. Creates the file, or the results section, when missing."""
    text = docs.read_text() if docs.exists() else "# Benchmarks\n"
    if RESULTS_START not in text or RESULTS_END not in text:
        text = text.rstrip("\n") + f"\n\n## Results\n\n{RESULTS_START}\n{RESULTS_END}\n"
    head, rest = text.split(RESULTS_START, 1)
    section, tail = rest.split(RESULTS_END, 1)
    key = re.match(r"<!-- run (\w+) -->", block)
    kept = [
        m.group(0).rstrip("\n") + "\n"
        for m in _RUN_BLOCK.finditer(section)
        if key is None or m["key"] != key.group(1)
    ]
    runs = "\n".join([block.rstrip("\n") + "\n", *kept])
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(f"{head}{RESULTS_START}\n{runs}{RESULTS_END}{tail}")


def now() -> datetime:
    return datetime.now(UTC)
