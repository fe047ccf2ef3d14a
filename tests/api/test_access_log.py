"""The Granian worker's access log (directory.webserver.AccessLog, GranianGlue): lines are
buffered and written out by a thread of their own, at exit, and in a forked worker too;
phone numbers never reach them."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

from directory.webserver import AccessLog, GranianGlue

ROOT = Path(__file__).resolve().parent.parent.parent


class CountingStream(io.StringIO):
    """A stream that counts its flushes and keeps what was flushed apart."""

    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0
        self.flushed = ""

    def flush(self) -> None:
        self.flushes += 1
        self.flushed = self.getvalue()


def _wait_for(predicate, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_writing_a_line_does_not_flush_the_stream():
    stream = CountingStream()
    log = AccessLog(stream)
    log.FLUSH_SECONDS = 3600  # the flushing thread waits longer than this test
    for n in range(100):
        log.write(f"line {n}\n")
    assert stream.flushes == 0 and stream.flushed == ""
    log.flush()
    assert stream.flushes == 1 and stream.flushed.count("\n") == 100
    log.flush()  # nothing new: no flush
    assert stream.flushes == 1


def test_the_flushing_thread_writes_buffered_lines_out(tmp_path):
    path = tmp_path / "access.log"
    with open(path, "a", encoding="utf-8") as stream:
        log = AccessLog(stream)
        log.FLUSH_SECONDS = 0.05
        log.write("first line\n")
        # No other write and no call of flush: only the thread can write it out.
        assert _wait_for(lambda: path.read_text() == "first line\n")


def test_lines_buffered_at_exit_are_written(tmp_path):
    path = tmp_path / "access.log"
    program = (
        "from directory.webserver import AccessLog\n"
        f"log = AccessLog(open({str(path)!r}, 'a', encoding='utf-8'))\n"
        "log.FLUSH_SECONDS = 3600\n"
        "log.write('the last line\\n')\n"
    )
    subprocess.run([sys.executable, "-c", program], cwd=ROOT, check=True, timeout=120)
    assert path.read_text() == "the last line\n"


def test_a_forked_worker_flushes_its_own_lines_and_not_its_parents(tmp_path):
    """A worker is a fork of the process that made the log: it needs a thread of its own,
    and the parent's line still buffered at the fork is written once, not once more by
    the child."""
    path = tmp_path / "access.log"
    stream = open(path, "a", encoding="utf-8")  # noqa: SIM115  (the child writes on it)
    log = AccessLog(stream)
    log.FLUSH_SECONDS = 0.05
    log.write("parent\n")  # buffered, not flushed yet
    pid = os.fork()
    if pid == 0:  # the child logs one line; no flush, no exit handlers (os._exit)
        try:
            log.write("child\n")
            found = _wait_for(lambda: "child" in path.read_text())
        finally:
            os._exit(0 if found else 1)
    _pid, status = os.waitpid(pid, 0)
    stream.close()
    assert os.waitstatus_to_exitcode(status) == 0
    assert path.read_text() == "parent\nchild\n"


def _logged(path: str, query: str) -> str:
    stream = CountingStream()
    log = AccessLog(stream)
    log.FLUSH_SECONDS = 3600

    def application(environ, start_response):
        start_response("200 OK", [])
        return [b"{}"]

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.7",
    }
    GranianGlue(application, log, inherited={})(environ, lambda *args: None)
    return stream.getvalue()


def test_numbers_are_redacted_in_the_path_and_in_the_query():
    line = _logged("/api/v1/numbers/+1 (555) 123-4567", "again=%2B15551234567&n=12")
    assert "555" not in line
    assert '"GET /api/v1/numbers/[number]?again=[number]&n=12 HTTP/1.1" 200 2' in line


def test_digits_either_side_of_the_query_mark_are_not_one_number():
    # Six digits in the path and six in the query: no run of seven, nothing to redact.
    line = _logged("/api/v1/resolve/123456", "handle=654321")
    assert '"GET /api/v1/resolve/123456?handle=654321 HTTP/1.1"' in line


def _log_one_line(path: str) -> None:
    log = AccessLog(open(path, "a", encoding="utf-8"))  # noqa: SIM115  (kept until exit)
    log.FLUSH_SECONDS = 3600
    log.write("from the worker\n")


def test_a_worker_process_writes_its_buffered_lines_when_it_ends(tmp_path):
    """Granian's workers are multiprocessing's processes, which end with os._exit: only
    multiprocessing's own finalizers run, not atexit's functions."""
    import multiprocessing

    path = tmp_path / "access.log"
    worker = multiprocessing.get_context("fork").Process(target=_log_one_line, args=(str(path),))
    worker.start()
    worker.join(timeout=120)
    assert worker.exitcode == 0
    assert path.read_text() == "from the worker\n"
