"""What-if settings: each named change, and nothing else, applied to the project settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
READ = (
    "import json; from django.conf import settings; print(json.dumps({"
    "'throttles': settings.REST_FRAMEWORK['DEFAULT_THROTTLE_CLASSES'],"
    "'health': settings.DATABASES['default'].get('CONN_HEALTH_CHECKS'),"
    "'answers': settings.ANSWER_CACHE,"
    "'rates': settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']}))"
)


def _settings(variants: str, tmp_path, module="benchmarks.variant_settings"):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": module,
        "BENCH_VARIANTS": variants,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused",
        "WORLDBOOK_VAR_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", READ], cwd=REPO, env=env, capture_output=True, text=True
    )
    return done


def test_it_changes_only_what_the_variant_names(tmp_path):
    deployed = json.loads(_settings("", tmp_path, module="directory.settings").stdout)
    unchanged = json.loads(_settings("", tmp_path).stdout)
    scoped = json.loads(_settings("no-answer-cache,no-health-checks", tmp_path).stdout)
    bare = json.loads(_settings("no-throttles", tmp_path).stdout)

    assert unchanged == deployed
    assert scoped["throttles"] == deployed["throttles"]
    assert scoped["answers"] is False and deployed["answers"] is True
    assert scoped["health"] is False and deployed["health"] is True
    assert scoped["rates"] == deployed["rates"]
    assert bare["throttles"] == [] and bare["health"] is True


@pytest.mark.parametrize("variants", ["no-such-change", "no-throttles,typo"])
def test_it_refuses_an_unknown_variant(variants, tmp_path):
    done = _settings(variants, tmp_path)
    assert done.returncode != 0
    assert "BENCH_VARIANTS: unknown variant" in done.stderr
