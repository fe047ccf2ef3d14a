"""GitHub accounts: the bio or a public gist holds the token, read through a loopback
GitHub REST API (VERIFICATION_GITHUB_API_URL)."""

from __future__ import annotations

import json

import pytest

from directory.models import Handle
from tests.verification.servers import SILENT, Reply

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

API = "api.github.test"


def as_json(body) -> Reply:
    return Reply(200, json.dumps(body), {"Content-Type": "application/json"})


def serve_user(web, bio: str = "", gists: list | None = None) -> None:
    web.serve(API, "/users/alice-l", as_json({"login": "Alice-L", "bio": bio}))
    web.serve(API, "/users/alice-l/gists?per_page=30", as_json(gists or []))


def test_it_verifies_a_token_in_the_bio(web, alice, claim, check_now):
    handle, token = claim(alice, "github", "https://github.com/Alice-L")
    serve_user(web, bio=f"Maker of things. {token}")
    check = check_now(handle)
    assert handle.status == Handle.Status.VERIFIED
    assert check.reason == "the GitHub profile of alice-l holds the token."
    assert web.seen[0].headers["Accept"] == "application/vnd.github+json"


def test_it_verifies_a_token_in_a_public_gist(web, alice, claim, check_now):
    handle, token = claim(alice, "github", "alice-l")
    serve_user(web, gists=[
        {"id": "abc123", "public": True, "owner": {"login": "alice-l"},
         "html_url": "https://gist.github.test/alice-l/abc123"},
    ])  # fmt: skip
    web.serve(API, "/gists/abc123", as_json({"files": {"proof.txt": {"content": token + "\n"}}}))
    check = check_now(handle)
    assert handle.status == Handle.Status.VERIFIED
    assert check.evidence["gist"] == "https://gist.github.test/alice-l/abc123"


def test_it_ignores_a_gist_of_someone_else(web, alice, claim, check_now):
    handle, token = claim(alice, "github", "alice-l")
    serve_user(web, gists=[{"id": "x1", "public": True, "owner": {"login": "mallory"}}])
    web.serve(API, "/gists/x1", as_json({"files": {"a.txt": {"content": token}}}))
    assert check_now(handle).result == "missing"
    assert handle.status == Handle.Status.FAILED


def test_it_refuses_a_wrong_or_embedded_token(web, alice, claim, check_now):
    handle, token = claim(alice, "github", "alice-l")
    serve_user(web, bio=f"see:{token}")
    check = check_now(handle)
    assert check.result == "missing"
    assert check.reason == (
        f"found {token} neither in the GitHub bio of alice-l nor in a public gist"
    )


def test_it_reports_an_unknown_user(web, alice, claim, check_now):
    handle, _ = claim(alice, "github", "alice-l")
    assert check_now(handle).reason == "GitHub knows no user alice-l."


def test_a_slow_api_is_unreachable(short_timeout, web, alice, claim, check_now):
    handle, _ = claim(alice, "github", "alice-l")
    web.serve(API, "/users/alice-l", Reply(200, "{}", delay=SILENT))
    assert check_now(handle).result == "unreachable"
    assert handle.status == Handle.Status.UNREACHABLE


def test_an_api_redirect_to_a_private_address_is_refused(web, alice, claim, check_now):
    handle, _ = claim(alice, "github", "alice-l")
    web.serve(API, "/users/alice-l", Reply(301, headers={"Location": "https://[fc00::1]/"}))
    assert check_now(handle).result == "refused"


def test_it_sends_the_api_token_to_the_api_host_only(web, alice, claim, check_now, settings):
    settings.VERIFICATION_GITHUB_TOKEN = "ghp_test-token"
    handle, token = claim(alice, "github", "alice-l")
    web.serve(API, "/users/alice-l", Reply(302, headers={"Location": "https://profile.test/u"}))
    web.serve("profile.test", "/u", as_json({"login": "alice-l", "bio": token}))
    assert check_now(handle).result == "verified"
    api_request, elsewhere = web.seen
    assert api_request.headers["Authorization"] == "Bearer ghp_test-token"
    assert "Authorization" not in elsewhere.headers


def test_a_spent_rate_limit_is_unreachable_not_failed(web, alice, claim, check_now):
    handle, _ = claim(alice, "github", "alice-l")
    web.serve(API, "/users/alice-l", Reply(403, "{}", {"X-RateLimit-Remaining": "0"}))
    check = check_now(handle)
    assert check.result == "unreachable"
    assert handle.status == Handle.Status.UNREACHABLE
    assert check.evidence["fetched"] == [
        {"url": "https://api.github.test/users/alice-l",
         "unreachable": "https://api.github.test/users/alice-l answered 403 Forbidden"},
    ]  # fmt: skip
