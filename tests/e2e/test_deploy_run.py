"""``./deploy/run`` stops cleanly: Ctrl-C (SIGINT to its process group, what a terminal
sends) and SIGTERM stop web, worker and beat and exit 0 with a "Stopped" line; a program
that stops on its own makes the script stop the others and exit non-zero naming it.

Each test starts the real script on a free port with a temporary var directory (embedded
SQLite, file-system broker), so it takes a few seconds; it is marked ``worker``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 180.0
STOP_TIMEOUT = 60.0

pytestmark = pytest.mark.worker


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def running(request, tmp_path) -> Iterator[tuple[subprocess.Popen, Path]]:
    """``./deploy/run`` in a session of its own, once its site answers; its output file.
    Its web server is the default (Granian) unless the test is parametrized with another."""
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "NUMBER_HASH_KEYS"}
    }
    env.update(WORLDBOOK_VAR_DIR=str(tmp_path / "var"), PORT=str(port), HOST="127.0.0.1")
    env.pop("SITE_URL", None)
    env["WEB_SERVER"] = getattr(request, "param", "granian")
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["./deploy/run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # As from a terminal: a test run started in the background (nohup, `&` in a
            # script) inherits SIGINT ignored, which bash then cannot trap, and Ctrl-C
            # would not reach the script or the programs it starts.
            preexec_fn=_default_sigint,
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            assert process.poll() is None, log.read_text()
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
        yield process, log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        # Each program leads a process group of its own: a test that failed leaves none
        # of them (nor their workers) running.
        for pid in re.findall(r"Started \w+ \(pid (\d+)\)", log.read_text(errors="replace")):
            try:
                os.killpg(int(pid), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stopped(process: subprocess.Popen, log: Path) -> tuple[int, str]:
    try:
        returncode = process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"./deploy/run still running {STOP_TIMEOUT:.0f} s later; its output:\n"
                    + log.read_text(errors="replace")[-6000:])  # fmt: skip
    return returncode, log.read_text()


def _pid_of(name: str, text: str) -> int:
    return int(re.search(rf"Started {name} \(pid (\d+)\)", text).group(1))


def _gone(pids: list[int]) -> bool:
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        return False
    return True


def test_ctrl_c_stops_all_three_and_exits_0(running):
    process, log = running
    pids = [_pid_of(name, log.read_text()) for name in ("web", "worker", "beat")]
    # Ctrl-C must reach the script alone: were the programs in its process group, beat
    # (which exits 0 on SIGINT) could end first and be taken for a crash.
    assert all(os.getpgid(pid) != process.pid for pid in pids)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    returncode, text = _stopped(process, log)
    assert returncode == 0, text
    assert "==> Stopped" in text
    assert "error:" not in text
    assert _gone(pids)


@pytest.mark.parametrize("running", ["gunicorn", "granian"], indirect=True)
def test_sigterm_stops_all_three_and_exits_0(running):
    process, log = running
    pids = [_pid_of(name, log.read_text()) for name in ("web", "worker", "beat")]
    process.terminate()
    returncode, text = _stopped(process, log)
    assert returncode == 0, text
    assert "==> Stopped" in text
    assert _gone(pids)


def test_a_program_that_stops_on_its_own_fails_the_script_naming_it(running):
    process, log = running
    # Beat exits 0 on SIGINT once started (1 while still starting): either way the script
    # fails, naming it.
    os.kill(_pid_of("beat", log.read_text()), signal.SIGINT)
    returncode, text = _stopped(process, log)
    assert returncode != 0, text
    assert re.search(r"error: beat stopped \(exit status \d+\); stopping the others", text)
    assert "==> Stopped" not in text


@pytest.mark.parametrize("running", ["gunicorn", "granian"], indirect=True)
def test_it_says_what_it_does_and_serves_the_demo_on_localhost(running):
    process, log = running
    text = log.read_text()
    steps = [
        "==> Migrating the database",
        "==> Collecting static files",
        "==> Loading the demo directory",
        "handles shown as verified by demo data, not a proof.",
        "==> Worldbook is starting on http://localhost:",
    ]
    positions = [text.index(step) for step in steps]
    assert positions == sorted(positions), text
    # The site is http://localhost:PORT (passkeys need it), reached at 127.0.0.1 too.
    port = re.search(r"starting on http://localhost:(\d+) ", text).group(1)
    url = f"http://127.0.0.1:{port}/api/v1/resolve?handle=chloe.dubois@example.com"
    with urllib.request.urlopen(url, timeout=10) as response:
        answer = json.load(response)
    assert answer["entry"]["url"] == f"http://localhost:{port}/@chloe-dubois"
    email = next(h for h in answer["handles"] if h["kind"] == "email")
    assert email["verification"] == {"method": "demo", "note": "demo data, not a proof"}
    process.terminate()
    assert _stopped(process, log)[0] == 0
