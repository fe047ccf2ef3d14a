"""Splitting the machine's CPU time between the benchmark and other work (Linux /proc)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from benchmarks import cpu

SPIN = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass"
# Spins until it has used this much CPU time, however busy the machine is.
BURN = "import time\nwhile time.process_time() < {seconds}: pass"
CORES = len(os.sched_getaffinity(0))


def test_it_counts_a_child_that_ran_inside_the_window_as_the_benchmarks():
    account = cpu.CpuAccount(cpu.own_processes())
    started = time.monotonic()
    account.start()
    subprocess.run([sys.executable, "-c", BURN.format(seconds=0.5)], check=True)
    share = account.stop()
    window = time.monotonic() - started
    # The child's 0.5 s of CPU, as a share of all the machine's time in the window (with
    # room for tick rounding); other work on the machine only stretches the window.
    assert share.ours >= 0.8 * 0.5 / (window * CORES)


def test_it_counts_a_process_outside_the_benchmark_as_other_work():
    spinner = subprocess.Popen([sys.executable, "-c", SPIN.format(seconds=30)])
    try:
        time.sleep(0.2)
        account = cpu.CpuAccount(lambda: {os.getpid()})
        account.start()
        time.sleep(1.0)
        share = account.stop()
    finally:
        spinner.kill()
        spinner.wait()
    assert share.others >= 0.6 / CORES
    assert share.ours < 0.2 / CORES


def test_it_finds_the_descendants_of_a_process():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert {os.getpid(), child.pid} <= cpu.descendants(os.getpid())
        assert os.getppid() not in cpu.descendants(os.getpid())
    finally:
        child.kill()
        child.wait()


def test_it_sees_the_cores_a_spinning_process_takes():
    spinner = subprocess.Popen([sys.executable, "-c", SPIN.format(seconds=30)])
    try:
        busy = cpu.cpu_busy(1.0)
    finally:
        spinner.kill()
        spinner.wait()
    assert busy >= 0.8 / CORES


def test_it_stops_waiting_for_a_quiet_machine_after_the_timeout():
    said = []
    busy = cpu.wait_until_quiet(threshold=0.0, timeout=0.5, sample=0.2, say=said.append)
    assert 0.0 <= busy <= 1.0
    assert 1 <= len(said) <= 5
