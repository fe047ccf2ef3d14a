"""A suspension reaches every surface as soon as it commits: resolve, the entry API,
search (API, page and index), the entry page, the vCard and WebFinger. A suspended
entry answers exactly as one that never existed."""

from __future__ import annotations

import pytest
from django.test import Client

from directory.moderation.tests.fixtures import admin_client_for
from search.backends import get_backend

pytestmark = pytest.mark.django_db

DOMAIN = "worldbook.example"


def _surfaces(handle: str) -> dict[str, str]:
    return {
        "resolve": f"/api/v1/resolve?handle=@{handle}",
        "resolve by verified handle": f"/api/v1/resolve?handle=https://github.com/{handle}-l",
        "entry API": f"/api/v1/entries/{handle}",
        "entry page": f"/@{handle}",
        "vCard": f"/@{handle}.vcf",
        "WebFinger": f"/.well-known/webfinger?resource=acct:{handle}@{DOMAIN}",
    }


def _searches(client: Client) -> tuple[list[str], str]:
    api = client.get("/api/v1/search", {"q": "Lindqvist"}).json()
    page = client.get("/search", {"q": "Lindqvist"}).content.decode()
    return [item["handle"] for item in api["results"]], page


def _suspend_through_the_admin(moderator, entry, capture) -> None:
    client = admin_client_for(moderator)
    with capture(execute=True):
        response = client.post(
            "/admin/directory/entry/",
            {
                "action": "suspend",
                "_selected_action": [str(entry.pk)],
                "apply": "yes",
                "reason": "Impersonates a public figure.",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]


def test_a_suspension_hides_the_entry_on_every_surface_at_commit(
    entry, moderator, django_capture_on_commit_callbacks
):
    visitor = Client()
    before = {name: visitor.get(url) for name, url in _surfaces("kim").items()}
    assert {name: r.status_code for name, r in before.items()} == dict.fromkeys(before, 200)
    assert _searches(visitor)[0] == ["@kim"]
    assert entry.pk in get_backend().search("Lindqvist", limit=20, offset=0)[0]

    _suspend_through_the_admin(moderator, entry, django_capture_on_commit_callbacks)

    after = {name: visitor.get(url) for name, url in _surfaces("kim").items()}
    assert {name: r.status_code for name, r in after.items()} == dict.fromkeys(after, 404)
    handles, page = _searches(visitor)
    assert handles == []
    assert "@kim" not in page and "Kim Lindqvist" not in page
    # The index itself dropped it, through the search.sync_entry task run at commit.
    assert entry.pk not in get_backend().search("Lindqvist", limit=20, offset=0)[0]


def test_a_suspended_entry_answers_as_a_missing_one(
    entry, moderator, django_capture_on_commit_callbacks
):
    _suspend_through_the_admin(moderator, entry, django_capture_on_commit_callbacks)
    visitor = Client()

    hidden = visitor.get("/api/v1/resolve", {"handle": "@kim"})
    missing = visitor.get("/api/v1/resolve", {"handle": "@kix"})
    hidden_jrd = visitor.get("/.well-known/webfinger", {"resource": f"acct:kim@{DOMAIN}"})
    missing_jrd = visitor.get("/.well-known/webfinger", {"resource": f"acct:kix@{DOMAIN}"})

    assert hidden.content == missing.content
    assert hidden_jrd.content == missing_jrd.content
    assert hidden["Content-Type"] == missing["Content-Type"]


def test_the_owner_still_sees_the_suspended_entry(
    entry, owner, moderator, django_capture_on_commit_callbacks
):
    _suspend_through_the_admin(moderator, entry, django_capture_on_commit_callbacks)
    client = Client()
    client.force_login(owner)

    page = client.get("/@kim")

    assert page.status_code == 200
    assert b"This entry is suspended" in page.content


def test_a_restore_brings_the_entry_back_everywhere(
    entry, moderator, senior, django_capture_on_commit_callbacks
):
    _suspend_through_the_admin(moderator, entry, django_capture_on_commit_callbacks)
    client = admin_client_for(senior)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/directory/entry/",
            {
                "action": "restore",
                "_selected_action": [str(entry.pk)],
                "apply": "yes",
                "reason": "It was the real Kim.",
            },
        )

    visitor = Client()
    statuses = {name: visitor.get(url).status_code for name, url in _surfaces("kim").items()}
    assert statuses == dict.fromkeys(statuses, 200)
    assert _searches(visitor)[0] == ["@kim"]
