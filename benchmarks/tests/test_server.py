"""gunicorn for benchmarks: the real WSGI stack on loopback, stopped afterwards."""

from __future__ import annotations

import os
import secrets

import httpx
import pytest
from django.db import connection

from benchmarks import server
from directory.services import endpoint_add, entry_create


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings["USER"] or "postgres"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    host = settings["HOST"] or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{settings['PORT'] or 5432}/{settings['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_it_serves_resolve_through_gunicorn_and_stops_it(tmp_path):
    entry = entry_create(nickname="Alice Liddell", handle="alice")
    endpoint_add(entry=entry, uri="sip:alice@sip.example.org")
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(40),
        # Phone numbers: a PostgreSQL deployment with DEBUG off needs its hash keys.
        "NUMBER_HASH_KEYS": f"1:{secrets.token_urlsafe(32)}",
        "WORLDBOOK_VAR_DIR": str(tmp_path),
    }
    env.pop("REDIS_URL", None)

    with server.gunicorn(
        env, workers=1, log=tmp_path / "gunicorn.log", ready_path="/api/v1/resolve?handle=@alice"
    ) as running:
        answer = httpx.get(f"{running.base_url}/api/v1/resolve", params={"handle": "@alice"})
        missing = httpx.get(f"{running.base_url}/api/v1/resolve", params={"handle": "@nobody"})

    assert answer.status_code == 200
    assert answer.json()["endpoints"][0]["uri"] == "sip:alice@sip.example.org"
    assert missing.status_code == 404
    with pytest.raises(ProcessLookupError):
        os.kill(running.pid, 0)


def test_it_reports_a_server_that_does_not_start(tmp_path):
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "", "WORLDBOOK_VAR_DIR": str(tmp_path)}
    with pytest.raises(RuntimeError, match="gunicorn exited"):
        with server.gunicorn(env, workers=1, log=tmp_path / "gunicorn.log", startup_timeout=30):
            pass
