"""Every audience × every caller kind × every surface that shows an entry.

Each cell is one test: it asks one surface, as one caller, about Olive's entry and checks
whether the endpoint of one audience is shown. What each caller may see comes from the
truth table below, written from the product rules, not from the code under test.
"""

from __future__ import annotations

import pytest

from .conftest import AUDIENCES, CALLERS, DOMAIN, client_as, token

pytestmark = pytest.mark.django_db

# Who may see and use an endpoint of each audience (DESIGN: "Audience / contact policy").
SEES = {
    "everyone": {"anonymous", "app", "signed_in", "verified", "contact", "owner"},
    "signed_in": {"signed_in", "verified", "contact", "owner"},
    "verified": {"verified", "owner"},
    "contacts": {"contact", "owner"},
    "nobody": {"owner"},
}


def _resolve(client):
    return client.get("/api/v1/resolve", {"handle": "@olive"})


def _entry_api(client):
    return client.get("/api/v1/entries/olive")


def _search_api(client):
    return client.get("/api/v1/search", {"q": "Olive"})


def _search_page(client):
    return client.get("/search", {"q": "Olive"})


def _web_page(client):
    return client.get("/@olive")


def _vcard(client):
    return client.get("/@olive.vcf")


def _webfinger(client):
    return client.get("/.well-known/webfinger", {"resource": f"acct:olive@{DOMAIN}"})


SURFACES = {
    "resolve": _resolve,
    "entry_api": _entry_api,
    "search_api": _search_api,
    "search_page": _search_page,
    "web_page": _web_page,
    "vcard": _vcard,
    "webfinger": _webfinger,
}


def expected(surface: str, audience: str, caller: str) -> bool:
    if surface in ("search_api", "search_page"):
        # Search results list who matches, never how to reach them.
        return False
    if surface == "webfinger":
        # WebFinger answers everyone alike: what an anonymous caller may see.
        return "anonymous" in SEES[audience]
    return caller in SEES[audience]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("surface", SURFACES)
def test_it_shows_an_endpoint_exactly_to_its_audience(people, surface, audience, caller):
    client = client_as(people["users"][caller])

    response = SURFACES[surface](client)

    assert response.status_code == 200, response.content
    body = response.content.decode("utf-8")
    # The entry itself is there for every caller: only the endpoint depends on the policy.
    assert "olive" in body.lower()
    assert (token(audience) in body) is expected(surface, audience, caller)


def test_the_search_api_finds_the_entry_for_every_caller(people):
    for user in people["users"].values():
        response = _search_api(client_as(user))
        assert [r["handle"] for r in response.json()["results"]] == ["@olive"]


@pytest.mark.parametrize("caller", CALLERS)
def test_webfinger_answers_every_caller_as_anonymous(people, caller):
    anonymous = _webfinger(client_as(None))

    response = _webfinger(client_as(people["users"][caller]))

    assert response.status_code == 200
    assert response.content == anonymous.content
