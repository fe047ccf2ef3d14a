"""Reading py-spy's collapsed stacks into a request-time breakdown."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from benchmarks import profiling

WORKER = 'process 12:"python -m gunicorn";process 13:"python -m gunicorn";'
LOOP = "run (gunicorn/workers/sync.py:132);"
REQUEST = (
    LOOP + "SyncWorker.handle_request (gunicorn/workers/sync.py:184);"
    "WSGIHandler.__call__ (django/core/handlers/wsgi.py:124);"
)


def test_it_splits_request_time_by_component_and_leaves_out_waiting_for_connections(tmp_path):
    collapsed = tmp_path / "profile.txt"
    collapsed.write_text(
        "\n".join(
            [
                # 60 samples waiting for a connection: not request time.
                WORKER + LOOP + "SyncWorker.accept (gunicorn/workers/sync.py:30) 60",
                # 30 samples in the selector's SQL round trip.
                WORKER + REQUEST + "entry_resolve (directory/selectors.py:52);"
                "CursorWrapper._execute (django/db/backends/utils.py:105);"
                "Cursor.execute (psycopg/cursor.py:97) 30",
                # 10 in normalization under the selector.
                WORKER + REQUEST + "entry_resolve (directory/selectors.py:50);"
                "parse_lookup (directory/normalization.py:480) 10",
                # 60 in the throttle's Redis calls.
                WORKER + REQUEST + "APIView.check_throttles (rest_framework/views.py:350);"
                "Redis.execute_command (redis/client.py:600);"
                "socket.recv_into (socket.py:700) 60",
                "a line that is not a stack",
            ]
        )
        + "\n"
    )
    found = profiling.breakdown(collapsed)
    assert (found.samples, found.idle_samples) == (100, 60)
    assert dict(found.components) == {
        "python: socket": 0.6,
        "psycopg": 0.3,
        "directory/normalization.py": 0.1,
    }
    functions = dict(found.functions)
    assert functions["WSGIHandler.__call__ (django/core/handlers/wsgi.py)"] == 1.0
    assert functions["entry_resolve (directory/selectors.py)"] == 0.4
    assert functions["APIView.check_throttles (rest_framework/views.py)"] == 0.6
    assert functions["parse_lookup (directory/normalization.py)"] == 0.1


def test_it_says_so_when_no_request_was_sampled(tmp_path):
    collapsed = tmp_path / "profile.txt"
    collapsed.write_text(WORKER + LOOP + "SyncWorker.accept (gunicorn/workers/sync.py:30) 9\n")
    with pytest.raises(ValueError, match="no worker serving a request"):
        profiling.breakdown(collapsed)


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("django/db/models/query.py", "django.db"),
        ("rest_framework/throttling.py", "rest_framework"),
        ("psycopg/cursor.py", "psycopg"),
        ("json/encoder.py", "python: json"),
        ("copy.py", "python: copy"),
        ("<frozen runpy>", "python: runpy"),
        ("directory/api/lookup.py", "directory/api/lookup.py"),
        ("/srv/venv/lib/python3.11/site-packages/redis/client.py", "redis"),
    ],
)
def test_it_names_the_component_of_a_source_file(path, name):
    assert profiling.component(path) == name


@pytest.mark.skipif(profiling.py_spy_path() is None, reason="py-spy is not installed")
def test_it_samples_a_live_process_with_py_spy(tmp_path):
    script = tmp_path / "serve.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, time

            class Worker:
                def handle_request(self):
                    json.dumps([{"n": n, "s": str(n)} for n in range(2000)])

            stop = time.monotonic() + 20
            while time.monotonic() < stop:
                Worker().handle_request()
            """
        )
    )
    process = subprocess.Popen([sys.executable, str(script)])
    collapsed = tmp_path / "profile.txt"
    try:
        try:
            with profiling.record(process.pid, collapsed, duration=1, rate=200):
                pass
        except RuntimeError as exc:
            pytest.skip(f"py-spy cannot sample here: {exc}")
    finally:
        process.kill()
        process.wait()
    found = profiling.breakdown(collapsed)
    assert found.samples > 20
    assert dict(found.components).get("python: json", 0) > 0.2
