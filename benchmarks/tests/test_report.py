"""Benchmark reports: the Markdown table and the run record in docs/benchmarks.md."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from benchmarks import report
from benchmarks.cpu import CpuShare
from benchmarks.drivers import LatencySummary
from benchmarks.resolve_load import command_line, parse_args

MACHINE = report.Machine(
    cpus=2,
    cpu_model="Test CPU",
    ram_gib=8,
    os="Linux",
    python="3.11",
    postgresql="15",
    redis="7",
    software="Django 5.2",
    commit="abc1234",
)


def _summary(label: str, requests: int, p99: float) -> LatencySummary:
    return LatencySummary(
        label, 16, requests, 10.0, p99 / 4, p99 / 2, p99, p99 * 2, {"200": requests}
    )


def _block(command: str, body: str, commit: str = "abc1234") -> str:
    machine = report.Machine(**{**MACHINE.__dict__, "commit": commit})
    when = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    return report.run_block(command=command, machine=machine, when=when, title="t", body=body)


def test_it_tables_both_paths_with_their_ratios_and_the_competing_work():
    resolve = dataclasses.replace(_summary("resolve", 2000, 40.0), cpu=CpuShare(0.7, 0.25))
    table = report.results_table(resolve, _summary("raw", 10000, 4.0))
    rows = table.splitlines()
    assert rows[2].endswith("| 25% |") and rows[3].endswith("| – |")
    assert rows[2].startswith("| resolve | 16 | 2000 | 200 | 10.0 | 20.0 | 40.0 | 80.0 |")
    assert rows[3].startswith("| raw | 16 | 10000 | 1000 |")
    assert rows[4] == "| resolve ÷ raw | | | 0.20× | 10.00× | 10.00× | 10.00× | | | |"


def test_it_records_a_run_in_a_new_file(tmp_path):
    docs = tmp_path / "docs" / "benchmarks.md"
    report.record_run(docs, _block("python bench --a", "figures A"))
    text = docs.read_text()
    assert text.startswith("# Benchmarks\n")
    start, end = text.index(report.RESULTS_START), text.index(report.RESULTS_END)
    assert start < text.index("figures A") < end


def test_it_puts_new_runs_first_and_replaces_a_rerun_keeping_the_prose(tmp_path):
    docs = tmp_path / "benchmarks.md"
    docs.write_text(
        f"# Benchmarks\n\nWhat the figures mean.\n\n{report.RESULTS_START}\n"
        f"{report.RESULTS_END}\n\n## Notes\n\nKept.\n"
    )
    report.record_run(docs, _block("python bench --a", "figures A1"))
    report.record_run(docs, _block("python bench --b", "figures B"))
    text = docs.read_text()
    assert text.index("figures B") < text.index("figures A1")

    report.record_run(docs, _block("python bench --a", "figures A2"))
    text = docs.read_text()
    assert "figures A1" not in text
    assert text.index("figures A2") < text.index("figures B")
    assert text.count("<!-- /run -->") == 2
    assert "What the figures mean." in text and text.rstrip().endswith("Kept.")

    report.record_run(docs, _block("python bench --a", "figures A3", commit="def5678"))
    assert docs.read_text().count("<!-- /run -->") == 3


def test_it_records_the_command_as_typed_from_the_repository():
    argv = ["--entries", "1000", "--docs", "my file.md"]
    assert (
        command_line(argv) == "python benchmarks/resolve_load.py --entries 1000 --docs 'my file.md'"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--concurrency", "0"], "--concurrency must be at least 1"),
        (["--database-url", "sqlite:///x.db"], "must be a postgres:// URL"),
        (["--external-share", "0.9", "--missing-share", "0.2"], "between 0 and 1"),
    ],
)
def test_it_refuses_bad_arguments_with_the_reason(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        parse_args(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_it_refuses_to_measure_a_server_that_would_throttle_it(settings):
    from benchmarks.resolve_load import UNTHROTTLED, check_unthrottled

    rates = {"anon": UNTHROTTLED, "resolve": UNTHROTTLED, "resolve_ip": "1200/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    with pytest.raises(RuntimeError, match="throttle scopes resolve_ip would limit"):
        check_unthrottled()
    rates["resolve_ip"] = UNTHROTTLED
    check_unthrottled()


def test_it_raises_every_throttle_scope_the_settings_know(tmp_path):
    import json
    import subprocess
    import sys
    from argparse import Namespace

    from benchmarks.resolve_load import REPO_ROOT, UNTHROTTLED, server_environment

    env = server_environment(
        Namespace(database_url="postgres://postgres@127.0.0.1/x", redis_url="redis://127.0.0.1")
    )
    env.update(WORLDBOOK_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="directory.settings")
    read = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", read], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    rates = json.loads(done.stdout)
    assert rates and set(rates.values()) == {UNTHROTTLED}
    assert env["SECRET_KEY"] and env["DEBUG"] == "false"


def test_it_reports_the_median_run_and_the_spread_of_repeated_runs():
    runs = [
        _summary("r", requests, p99)
        for requests, p99 in [(3000, 90.0), (1800, 150.0), (2400, 80.0)]
    ]
    assert report.median_run(runs) is runs[2]
    assert report.median_run(runs[:2]) is runs[1]
    assert report.spread(runs) == "180–300 req/s, p99 80.0–150.0 ms"
