"""Where a server's request time goes, from py-spy samples of its worker processes.

py-spy samples the live gunicorn workers from outside (no code change, no import in the
server) and writes collapsed stacks: one line per distinct stack, frames joined by ``;``
from the root, followed by the sample count. Idle samples are included, so time a worker
spends waiting for PostgreSQL or Redis is counted; time waiting for the next connection
(outside the request handler) is set apart.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# A frame as py-spy prints it: "function (path/to/file.py:123)".
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
# The frame that marks "a worker is serving a request" in gunicorn's worker loops
# (``SyncWorker.handle_request``, ``ThreadWorker.handle_request``).
REQUEST_MARKERS = (".handle_request",)


def py_spy_path() -> str | None:
    """The py-spy executable: beside this interpreter (a virtualenv), else on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


@contextmanager
def record(pid: int, output: Path, *, duration: int, rate: int = 250) -> Iterator[None]:
    """Sample process ``pid`` and its children with py-spy while the block runs.

    Writes collapsed stacks to ``output``; ``duration`` seconds at ``rate`` samples per
    second per process. Raises ``RuntimeError`` when py-spy is missing or fails (it needs
    permission to read the target's memory: same user, ptrace allowed).
    """
    exe = py_spy_path()
    if exe is None:
        raise RuntimeError("py-spy is not installed (pip install py-spy)")
    command = [
        exe,
        "record",
        "--pid",
        str(pid),
        "--subprocesses",
        "--idle",
        "--nonblocking",
        "--rate",
        str(rate),
        "--duration",
        str(duration),
        "--format",
        "raw",
        "--output",
        str(output),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        yield
    finally:
        try:
            out, _ = process.communicate(timeout=duration + 60)
        except subprocess.TimeoutExpired:
            process.kill()
            out, _ = process.communicate()
        if process.returncode != 0 or not output.exists():
            raise RuntimeError(f"py-spy failed ({process.returncode}): {out.strip()}")


@dataclass(frozen=True)
class Breakdown:
    """Request-time shares from collapsed stacks.

    ``samples`` is the number of samples inside a request handler; ``components`` maps
    a component (``"django.db"``, ``"psycopg"``, ``"directory/normalization.py"`` …)
    to the share of those samples whose innermost frame is in it (self time);
    ``functions`` maps ``"function (file)"`` to the share of samples it appears in
    (inclusive time), for the project's own functions and the framework
    :data:`CHECKPOINTS`.
    """

    samples: int
    idle_samples: int
    components: list[tuple[str, float]]
    functions: list[tuple[str, float]]


def _frames(stack: str) -> list[tuple[str, str]]:
    frames = []
    for raw in stack.split(";"):
        match = _FRAME.match(raw.strip())
        if match:
            frames.append((match["func"], match["file"]))
    return frames


PROJECT_PACKAGES = ("directory", "accounts", "search", "benchmarks")
# Framework calls worth a line of their own in the inclusive table, matched on the end of
# py-spy's function name: the whole Django request, the DRF steps around the view, the
# SQL and Redis round trips.
CHECKPOINTS = (
    "WSGIHandler.__call__",
    "APIView.initial",
    "APIView.perform_authentication",
    "APIView.check_throttles",
    "APIView.finalize_response",
    "Response.rendered_content",
    "Serializer.data",
    "prefetch_related_objects",
    "SQLCompiler.as_sql",
    "SQLCompiler.execute_sql",
    "CursorWrapper._execute",
    "BaseDatabaseWrapper.close_if_unusable_or_obsolete",
    "Redis.execute_command",
)
# Packages big enough that one level more says where in them the time goes.
SPLIT_PACKAGES = ("django", "rest_framework")


def component(path: str) -> str:
    """Name the package or project module a source file belongs to.

    py-spy prints paths relative to their ``sys.path`` entry. ``django/db/models/query.py``
    → ``django.db``; ``psycopg/cursor.py`` → ``psycopg``; a project file → its path
    (``directory/normalization.py``); the standard library → ``python: <module>``.
    """
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    path = path.lstrip("/")
    if path.startswith("<frozen "):
        return "python: " + path[len("<frozen ") :].rstrip(">")
    parts = path.split("/")
    top = parts[0].removesuffix(".py")
    if top in PROJECT_PACKAGES:
        return path
    if top in sys.stdlib_module_names:
        return f"python: {top}"
    if top in SPLIT_PACKAGES and len(parts) > 2:
        return f"{top}.{parts[1]}"
    return top


def breakdown(collapsed: Path, *, top: int = 15) -> Breakdown:
    """Read py-spy's collapsed stacks and say where request time goes.

    Output: a :class:`Breakdown` with the ``top`` components by self time, and the
    project's functions and framework checkpoints by inclusive time. Raises
    ``ValueError`` when no sample falls inside a request.
    """
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    samples = idle = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = _frames(stack)
        start = next(
            (i for i, (func, _) in enumerate(frames) if func.endswith(REQUEST_MARKERS)), None
        )
        if start is None:
            idle += count
            continue
        samples += count
        inner = frames[start + 1 :]
        if inner:
            self_time[component(inner[-1][1])] += count
        for name in dict.fromkeys(
            f"{func} ({path})"
            for func, path in inner
            if func.endswith(CHECKPOINTS) or path.split("/", 1)[0] in PROJECT_PACKAGES
        ):
            inclusive[name] += count
    if not samples:
        raise ValueError("py-spy saw no worker serving a request.")
    functions = [
        (name, n / samples) for name, n in inclusive.most_common(2 * top) if n / samples >= 0.005
    ]
    components = [(name, n / samples) for name, n in self_time.most_common(top)]
    return Breakdown(samples, idle, components, functions)
