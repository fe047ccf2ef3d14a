"""``./deploy/run`` with a PostgreSQL ``DATABASE_URL``: a number-hash key is generated once
under the var directory (like the secret key) and exported, so the settings load."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from directory.numbers.hashing import parse_hash_keys
from tests.test_settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = "postgres://wb@db.internal:5432/worldbook"


def keys_from_lib(var_dir: Path, **env: str) -> subprocess.CompletedProcess:
    """Source deploy/lib.sh and run ensure_number_hash_keys, printing what it exported."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "NUMBER_HASH_KEYS"}}
    clean.update(WORLDBOOK_VAR_DIR=str(var_dir), **env)
    script = '. deploy/lib.sh && ensure_number_hash_keys >&2 && printf "%s" "${NUMBER_HASH_KEYS:-}"'
    return subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=clean, capture_output=True, text=True, check=True
    )


def test_a_postgres_run_generates_the_key_once(tmp_path):
    first = keys_from_lib(tmp_path, DATABASE_URL=POSTGRES).stdout
    key_file = tmp_path / "number_hash_keys"
    assert first.startswith("1:") and key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert keys_from_lib(tmp_path, DATABASE_URL=POSTGRES).stdout == first
    (key,) = parse_hash_keys(first, secret_key="s", allow_derived=False)
    assert key.version == 1
    loaded = load_settings(
        tmp_path, DEBUG="false", SECRET_KEY="s" * 50, DATABASE_URL=POSTGRES, NUMBER_HASH_KEYS=first
    )
    assert loaded.returncode == 0, loaded.stderr


def test_a_given_key_or_the_embedded_database_generates_nothing(tmp_path):
    given = "3:a-key-from-the-secret-store"
    assert keys_from_lib(tmp_path, DATABASE_URL=POSTGRES, NUMBER_HASH_KEYS=given).stdout == given
    assert keys_from_lib(tmp_path).stdout == ""
    assert keys_from_lib(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3").stdout == ""
    assert not (tmp_path / "number_hash_keys").exists()


def test_deploy_run_exports_the_key_before_it_migrates():
    run = (ROOT / "deploy" / "run").read_text()
    assert 0 < run.index("\nensure_number_hash_keys\n") < run.index("manage.py migrate")
