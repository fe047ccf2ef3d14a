"""A resolve asked with ``proof=1`` is never answered by the fast path: Django adds the proof."""

from __future__ import annotations

import json

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory

from directory.fastpath import ResolveFastPath
from tests.api.test_fast_path import alice, redis_site, started  # noqa: F401 (fixtures)
from tests.sites import DOMAIN
from transparency.verifier import note
from transparency.verifier.cli import verify_answer
from transparency.verifier.note import Verifier

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def log_key(settings) -> Verifier:
    skey, vkey = note.generate_key("worldbook.example/log")
    settings.TRANSPARENCY_SIGNING_KEY = skey
    return Verifier.from_key(vkey)


def call(app, data: dict) -> tuple[str, bytes]:
    environ = RequestFactory().get("/api/v1/resolve", data, HTTP_HOST=DOMAIN).environ
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"] = status

    return seen.get("status", ""), b"".join(app(environ, start_response))


def test_proof_requests_go_through_django(log_key, alice, started):  # noqa: F811
    fast = ResolveFastPath(WSGIHandler())
    call(fast, {"handle": "@alice"})  # Django answers and fills the cache
    before = len(started)
    call(fast, {"handle": "@alice"})
    assert len(started) == before  # a plain hit skips Django
    _, body = call(fast, {"handle": "@alice", "proof": "1"})
    assert len(started) == before + 1
    answer = json.loads(body)
    assert verify_answer(answer, log_key).handle == "alice"
