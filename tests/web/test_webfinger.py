"""WebFinger at /.well-known/webfinger (RFC 7033)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from .conftest import DOMAIN, SITE_URL

pytestmark = pytest.mark.django_db

URL = "/.well-known/webfinger"
ENDPOINT_REL = f"{SITE_URL}/ns/endpoint"
PROFILE_PAGE = "http://webfinger.net/rel/profile-page"


def _jrd(response) -> dict:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/jrd+json"
    assert response["Access-Control-Allow-Origin"] == "*"
    return json.loads(response.content)


def test_it_describes_an_entry_by_its_acct_uri(client: Client, alice):
    jrd = _jrd(client.get(URL, {"resource": f"acct:alice@{DOMAIN}"}))

    assert jrd["subject"] == f"acct:alice@{DOMAIN}"
    assert jrd["aliases"] == [f"{SITE_URL}/@alice"]
    rels = [(link["rel"], link.get("type"), link["href"]) for link in jrd["links"][:3]]
    assert rels == [
        (PROFILE_PAGE, "text/html", f"{SITE_URL}/@alice"),
        ("alternate", "text/vcard", f"{SITE_URL}/@alice.vcf"),
        ("alternate", "application/json", f"{SITE_URL}/api/v1/entries/alice"),
    ]


def test_it_lists_the_endpoints_anyone_may_use_in_preference_order(client: Client, alice):
    jrd = _jrd(client.get(URL, {"resource": f"acct:alice@{DOMAIN}"}))

    endpoints = [link for link in jrd["links"] if link["rel"] == ENDPOINT_REL]
    assert [link["href"] for link in endpoints] == [
        "sip:alice@example.org",
        "https://matrix.to/#/@alice:example.org",
        "xmpp:alice@example.org",
        "mailto:alice@example.org",
        "tel:+15555550100;ext=12",
        "https://meet.jit.si/alice-room",
    ]
    matrix = endpoints[1]
    assert matrix["properties"] == {
        f"{ENDPOINT_REL}#capabilities": "voice video text",
        f"{ENDPOINT_REL}#service": "matrix",
        f"{ENDPOINT_REL}#uri": "matrix:u/alice:example.org",
        f"{ENDPOINT_REL}#preference": "2",
    }
    assert endpoints[2]["titles"] == {"und": "Chat room"}
    assert all(isinstance(v, str) for link in endpoints for v in link["properties"].values())


def test_it_answers_every_caller_as_anonymous(client: Client, alice, bob_user, alice_user):
    anonymous = client.get(URL, {"resource": f"acct:alice@{DOMAIN}"}).content
    client.force_login(bob_user)
    signed_in = client.get(URL, {"resource": f"acct:alice@{DOMAIN}"}).content
    client.force_login(alice_user)
    owner = client.get(URL, {"resource": f"acct:alice@{DOMAIN}"}).content

    assert anonymous == signed_in == owner
    assert b"alice-private" not in anonymous and b"alice-secret" not in anonymous


def test_it_filters_links_by_rel(client: Client, alice):
    only_page = _jrd(client.get(URL, {"resource": f"acct:alice@{DOMAIN}", "rel": PROFILE_PAGE}))
    two = _jrd(client.get(f"{URL}?resource=acct:alice@{DOMAIN}&rel={PROFILE_PAGE}&rel=alternate"))

    assert [link["rel"] for link in only_page["links"]] == [PROFILE_PAGE]
    assert only_page["subject"] == f"acct:alice@{DOMAIN}"
    assert only_page["aliases"] == [f"{SITE_URL}/@alice"]
    assert [link["rel"] for link in two["links"]] == [PROFILE_PAGE, "alternate", "alternate"]


@pytest.mark.parametrize(
    "resource",
    [
        f"acct:Alice@{DOMAIN.upper()}",
        f"acct:%40alice@{DOMAIN}",
        f"{SITE_URL}/@alice",
        f"{SITE_URL}/@ALICE",
    ],
)
def test_it_reads_every_spelling_of_the_resource(client: Client, alice, resource):
    jrd = _jrd(client.get(URL, {"resource": resource}))

    assert jrd["subject"] == f"acct:alice@{DOMAIN}"


def test_it_reads_a_percent_encoded_unicode_handle(client: Client, bob_user):
    from directory.services import entry_create

    entry_create(nickname="Алиса", handle="Алиса", owner=bob_user)

    jrd = _jrd(client.get(f"{URL}?resource=acct:%D0%90%D0%BB%D0%B8%D1%81%D0%B0%40{DOMAIN}"))

    # A URI, not an IRI: the user part percent-encoded as UTF-8 (RFC 7565 §7).
    assert jrd["subject"] == f"acct:%D0%B0%D0%BB%D0%B8%D1%81%D0%B0@{DOMAIN}"
    assert jrd["aliases"] == [f"{SITE_URL}/@%D0%B0%D0%BB%D0%B8%D1%81%D0%B0"]
    # The subject, asked for again, finds the same entry.
    again = _jrd(client.get(URL, {"resource": jrd["subject"]}))
    assert again["subject"] == jrd["subject"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?resource=",
        "?resource=alice",
        "?resource=acct:alice",
        "?resource=https://[::1",
        "?resource=http://[zz]/@a",
    ],
)
def test_it_answers_400_to_a_missing_or_malformed_resource(client: Client, query):
    response = client.get(URL + query)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert json.loads(response.content)["status"] == 400


@pytest.mark.parametrize(
    "resource",
    [
        "acct:alice@elsewhere.example",
        "acct:alice@mastodon.social",
        "https://elsewhere.example/@alice",
        "mailto:alice@example.org",
        f"acct:nobody-here@{DOMAIN}",
        f"acct:no@pe@{DOMAIN}",
    ],
)
def test_it_answers_404_to_a_resource_it_holds_nothing_about(client: Client, alice, resource):
    response = client.get(URL, {"resource": resource})

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response["Access-Control-Allow-Origin"] == "*"


def test_it_answers_a_suspended_entry_exactly_like_a_missing_one(client: Client, suspended):
    client.force_login(suspended.owner)  # not even the owner: WebFinger is anonymous
    hidden = client.get(URL, {"resource": f"acct:mallory@{DOMAIN}"})
    missing = client.get(URL, {"resource": f"acct:nobody-here@{DOMAIN}"})
    other_domain = client.get(URL, {"resource": "acct:mallory@elsewhere.example"})

    assert hidden.status_code == missing.status_code == other_domain.status_code == 404
    assert hidden.content == missing.content == other_domain.content
    assert dict(hidden.headers) == dict(missing.headers)


def test_it_rate_limits_each_client_address(client: Client, alice, settings):
    settings.PUBLIC_RATE_LIMIT = "3/min"
    params = {"resource": f"acct:alice@{DOMAIN}"}

    statuses = [client.get(URL, params).status_code for _ in range(4)]
    limited = client.get(URL, params)

    assert statuses == [200, 200, 200, 429]
    assert limited["Content-Type"] == "application/problem+json"
    assert int(limited["Retry-After"]) >= 1


def test_it_documents_the_endpoint_relation(client: Client):
    response = client.get("/ns/endpoint")

    assert response.status_code == 200
    assert f"{ENDPOINT_REL}#capabilities".encode() in response.content


def test_it_answers_for_a_site_served_on_localhost(client: Client, alice, settings):
    # ./deploy/run serves http://localhost:PORT (passkeys need it): "localhost" has no dot.
    settings.SITE_URL = "http://localhost:8000"
    settings.WORLDBOOK_DOMAIN = "localhost"
    settings.ALLOWED_HOSTS = ["testserver"]

    jrd = _jrd(client.get(URL, {"resource": "acct:alice@LocalHost"}))

    assert jrd["subject"] == "acct:alice@localhost"
    assert jrd["aliases"] == ["http://localhost:8000/@alice"]
