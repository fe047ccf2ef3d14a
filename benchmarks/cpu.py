"""Whose CPU time a measurement window used: the benchmark's processes, or other work.

On a shared machine, latency figures mean little without knowing what else ran. Over a
window, :class:`CpuAccount` reads the machine's busy time from /proc/stat and the CPU time
of the benchmark's own processes (this process and its descendants, the database server
backends serving them, the Redis server) from /proc/<pid>/stat; the difference is other
work. Linux only; elsewhere the account is empty.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of all cores since boot, in clock ticks (/proc/stat)."""
    fields = [int(v) for v in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _stat(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; everything after its ")" splits cleanly.
    return text[text.rindex(")") + 2 :].split()


def process_jiffies(pid: int) -> int | None:
    """CPU time of ``pid`` and of its children it has waited for, in clock ticks
    (utime + stime + cutime + cstime), or ``None`` when the process is gone."""
    fields = _stat(pid)
    if fields is None:
        return None
    # After the command name: state is field 3, utime 14 … cstime 17.
    return sum(int(v) for v in fields[11:15])


def descendants(pid: int) -> set[int]:
    """``pid`` and every live process below it."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = {pid}, [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


@dataclass(frozen=True)
class CpuShare:
    """Shares (0–1) of all the machine's CPU time over a window."""

    ours: float
    others: float


class CpuAccount:
    """Measure, over a window, how much CPU time went to the benchmark and to other work.

    ``ours`` returns the process ids that belong to the benchmark; it is called at both
    ends of the window. A process that exits inside the window is counted through its
    parent's waited-for children time, so a parent among ``ours`` accounts for it.
    """

    def __init__(self, ours: Callable[[], Iterable[int]]):
        self._ours = ours
        self._start: dict[int, int] = {}
        self._machine: tuple[int, int] = (0, 0)

    def start(self) -> None:
        self._start = self._snapshot()
        self._machine = machine_jiffies()

    def stop(self) -> CpuShare:
        busy, total = machine_jiffies()
        now = self._snapshot()
        ours = sum(ticks - self._start.get(pid, 0) for pid, ticks in now.items())
        ours -= sum(ticks for pid, ticks in self._start.items() if pid not in now)
        busy -= self._machine[0]
        total = max(total - self._machine[1], 1)
        ours = min(max(ours, 0), busy)
        return CpuShare(ours=ours / total, others=(busy - ours) / total)

    def _snapshot(self) -> dict[int, int]:
        ticks = {}
        for pid in set(self._ours()):
            value = process_jiffies(pid)
            if value is not None:
                ticks[pid] = value
        return ticks


def own_processes(*extra: Callable[[], Iterable[int]]) -> Callable[[], set[int]]:
    """A ``CpuAccount`` ``ours`` callable: this process and its descendants, plus the
    ids the ``extra`` callables return (database backends, the Redis server)."""

    def ours() -> set[int]:
        pids = descendants(os.getpid())
        for more in extra:
            pids.update(more())
        return pids

    return ours


def cpu_busy(seconds: float = 3.0) -> float:
    """The share (0–1) of all CPU time the machine spends busy over the next ``seconds``.
    Sampled while the benchmark itself is idle, it says how much other work competes
    for the cores."""
    busy0, total0 = machine_jiffies()
    time.sleep(seconds)
    busy1, total1 = machine_jiffies()
    return (busy1 - busy0) / max(total1 - total0, 1)


def wait_until_quiet(*, threshold: float, timeout: float, sample: float = 3.0, say=print) -> float:
    """Wait until the machine is busy less than ``threshold`` (0–1) over a ``sample``
    of seconds, for at most ``timeout`` seconds. Returns the last busy share measured,
    quiet or not."""
    deadline = time.monotonic() + timeout
    busy = cpu_busy(sample)
    while busy >= threshold and time.monotonic() < deadline:
        say(f"The machine is {busy:.0%} busy; waiting for it to quiet down …")
        busy = cpu_busy(sample)
    return busy
