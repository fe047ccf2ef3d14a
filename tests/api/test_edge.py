"""Refusals at the edge (directory.edge) and the client address (directory.client_address):
every error under /api/ a problem document, control characters a 400, forwarding headers
believed only from a trusted proxy."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from directory.client_address import client_address

from .conftest import assert_problem, reach

pytestmark = pytest.mark.django_db

RESOLVE = "/api/v1/resolve"


def basic(username: str, password: str = "whatever") -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


# --- 414, 431, 400 as problem documents ----------------------------------------------------


def test_it_answers_a_request_target_too_long_with_a_414_problem(anonymous):
    response = anonymous.get(RESOLVE, {"handle": "a" * 8100})
    assert_problem(response, 414, "uri-too-long")


def test_it_answers_a_header_too_long_with_a_431_problem(anonymous):
    response = anonymous.get(RESOLVE, {"handle": "@alice"}, HTTP_X_LONG="x" * 9000)
    assert_problem(response, 431, "header-fields-too-large")


def test_it_answers_too_many_headers_with_a_431_problem(anonymous):
    headers = {f"HTTP_X_FIELD_{n}": "1" for n in range(150)}
    response = anonymous.get(RESOLVE, {"handle": "@alice"}, **headers)
    assert_problem(response, 431, "header-fields-too-large")


def test_it_answers_a_host_it_does_not_serve_with_a_400_problem(anonymous):
    response = anonymous.get(RESOLVE, {"handle": "@alice"}, HTTP_HOST="evil.example")
    assert_problem(response, 400, "host-not-served")


def test_it_answers_too_many_fields_with_a_400_problem(as_alice, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    # The vCard upload is the API's one multipart body (the others are JSON).
    fields = {f"f{n}": "1" for n in range(50)}
    response = as_alice.post("/api/v1/contacts/import", fields, format="multipart")
    assert_problem(response, 400, "too-many-fields")


def test_it_answers_an_unknown_api_path_with_a_404_problem(anonymous):
    assert_problem(anonymous.get("/api/v1/no-such-thing"), 404, "not-found")


def test_pages_keep_their_html_error_pages(client):
    response = client.get("/no-such-page/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


# --- Control characters --------------------------------------------------------------------


@pytest.mark.parametrize("value", ["a\x00b", "\x00", "al\x1bice", "x\x7f", "y\x85", "a\rb"])
def test_it_refuses_a_control_character_in_the_query(anonymous, value):
    response = anonymous.get(RESOLVE, {"handle": value})
    assert_problem(response, 400, "control-character")


def test_it_refuses_a_nul_in_a_json_body(as_alice):
    response = as_alice.post(
        "/api/v1/entries", {"nickname": "Al\x00ice", "handle": "alice2"}, format="json"
    )
    assert_problem(response, 400, "control-character")


def test_it_refuses_a_nul_escaped_in_a_json_key(as_alice):
    response = as_alice.post(
        "/api/v1/entries", json.dumps({"nick\x00": 1}), content_type="application/json"
    )
    assert_problem(response, 400, "control-character")


def test_it_refuses_a_nul_in_a_form_body(as_alice):
    response = as_alice.post(
        "/api/v1/entries",
        "nickname=Al%00ice&handle=alice2",
        content_type="application/x-www-form-urlencoded",
    )
    assert_problem(response, 400, "control-character")


def test_it_refuses_a_nul_in_a_basic_username(anonymous):
    response = anonymous.get("/api/v1/me/export", HTTP_AUTHORIZATION=basic("al\x00ice@x.org"))
    assert_problem(response, 400, "control-character")


def test_it_refuses_a_nul_in_an_oauth_client_id(client):
    token = client.post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic("app\x00id", "secret"),
    )
    body = client.post("/o/token/", {"grant_type": "client_credentials", "client_id": "a\x00b"})
    authorize = client.get("/o/authorize/", {"client_id": "a\x00b", "response_type": "code"})
    assert [token.status_code, body.status_code, authorize.status_code] == [400, 400, 400]
    # The token endpoint answers in OAuth's own error form (RFC 6749 §5.2).
    assert token.json()["error"] == body.json()["error"] == "invalid_request"


def test_it_keeps_line_breaks_in_free_text_values(as_alice):
    # A tab or a line break in a value is text, not a control character to refuse; the
    # view judges it (here: a nickname is one line, so the view refuses it or trims it).
    response = as_alice.post(
        "/api/v1/entries", {"nickname": "Alice\tA", "handle": "alice2"}, format="json"
    )
    assert response.status_code != 400 or "control-character" not in response.json()["type"]


def test_it_refuses_a_line_break_inside_an_endpoint_uri(alice):
    from directory.exceptions import NormalizationError

    with pytest.raises(NormalizationError):
        reach(alice, "sip:alice@exam\r\nple.org")
    with pytest.raises(NormalizationError):
        reach(alice, "https://meet.example/al\nice")


# --- The client address --------------------------------------------------------------------


def _meta(remote: str, forwarded: str | None = None) -> dict:
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return meta


def test_no_forwarding_header_is_trusted_by_default(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address(_meta("127.0.0.1", "203.0.113.5")) == "127.0.0.1"


def test_a_trusted_proxy_forwards_the_address_it_saw(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    # The client wrote the first address itself; the proxy appended the one it saw.
    assert client_address(_meta("10.1.2.3", "198.51.100.1, 203.0.113.5")) == "203.0.113.5"
    # Two trusted proxies in a row: the first untrusted address from the right.
    assert client_address(_meta("10.1.2.3", "203.0.113.5, 10.9.9.9")) == "203.0.113.5"
    # From an untrusted peer the header is ignored.
    assert client_address(_meta("192.0.2.8", "203.0.113.5")) == "192.0.2.8"
    # Garbage is never an address.
    assert client_address(_meta("10.1.2.3", "not-an-address")) == "10.1.2.3"


def test_any_peer_as_one_proxy_with_a_star(settings):
    settings.TRUSTED_PROXIES = ["*"]
    assert client_address(_meta("172.17.0.1", "198.51.100.1, 203.0.113.5")) == "203.0.113.5"


def test_rotating_x_forwarded_for_does_not_escape_the_resolve_throttle(
    anonymous, alice, monkeypatch, settings
):
    from rest_framework.throttling import ScopedRateThrottle

    settings.TRUSTED_PROXIES = []
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "resolve_ip", "3/min")
    statuses = [
        anonymous.get(
            RESOLVE, {"handle": "@alice"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        ).status_code
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget(
    alice, monkeypatch, settings
):
    from rest_framework.throttling import ScopedRateThrottle

    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "resolve_ip", "1/min")
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "resolve", "1/min")
    proxy = APIClient(REMOTE_ADDR="127.0.0.1")
    first = proxy.get(RESOLVE, {"handle": "@alice"}, HTTP_X_FORWARDED_FOR="203.0.113.1")
    second = proxy.get(RESOLVE, {"handle": "@alice"}, HTTP_X_FORWARDED_FOR="203.0.113.2")
    again = proxy.get(RESOLVE, {"handle": "@alice"}, HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert [first.status_code, second.status_code, again.status_code] == [200, 200, 429]


def test_rotating_x_forwarded_for_does_not_escape_the_basic_auth_limit(client, settings):
    settings.TRUSTED_PROXIES = []
    settings.BASIC_AUTH_FAILURES_PER_IP = "3/10min"
    statuses = [
        client.get(
            "/api/v1/me/export",
            HTTP_AUTHORIZATION=basic(f"ghost{n}@example.org", "wrong"),
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        ).status_code
        for n in range(5)
    ]
    assert statuses == [401, 401, 401, 429, 429]


def test_audit_records_and_sign_in_locks_read_the_same_address(settings):
    from axes.helpers import get_client_ip_address

    from accounts.services import client_ip

    settings.TRUSTED_PROXIES = []
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert client_ip(request) == "192.0.2.1"
    assert get_client_ip_address(request) == "192.0.2.1"
    settings.TRUSTED_PROXIES = ["192.0.2.1"]
    assert client_ip(request) == "6.6.6.6"
    assert get_client_ip_address(request) == "6.6.6.6"


# --- URIs, not IRIs ------------------------------------------------------------------------


def test_url_and_acct_are_uris_for_a_handle_and_a_domain_outside_ascii(anonymous, settings):
    from directory import services

    settings.SITE_URL = "https://bücher.example"
    settings.WORLDBOOK_DOMAIN = "bücher.example"
    settings.ALLOWED_HOSTS = ["testserver"]
    services.entry_create(nickname="Élodie", handle="élodie", owner=None)

    response = anonymous.get(RESOLVE, {"handle": "@élodie"})

    assert response.status_code == 200, response.content
    entry = response.json()["entry"]
    assert entry["url"] == "https://xn--bcher-kva.example/@%C3%A9lodie"
    assert entry["acct"] == "acct:%C3%A9lodie@xn--bcher-kva.example"
    assert entry["url"].isascii() and entry["acct"].isascii()


# --- Hidden and missing take the same path ---------------------------------------------------


def _queries(client, path, params):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params)
    # The SQL with its parameters left out: the same statements, whatever was looked for.
    return response, [query["sql"].split(" WHERE ")[0] for query in captured.captured_queries]


@pytest.mark.parametrize(
    ("path", "hidden", "missing"),
    [
        (RESOLVE, {"handle": "@hidden"}, {"handle": "@nobody"}),
        ("/api/v1/entries/hidden", {}, {}),
    ],
)
def test_a_suspended_entry_is_refused_by_the_same_queries_as_a_missing_one(
    anonymous, path, hidden, missing
):
    from directory import services

    from .conftest import suspend

    hidden_entry = services.entry_create(nickname="Hidden", handle="hidden", owner=None)
    reach(hidden_entry, "sip:hidden@example.org")
    suspend(hidden_entry)
    missing_path = path.replace("hidden", "nobody")

    # Warm what a first request loads once per process (content types, sessions).
    anonymous.get(missing_path, missing)
    hidden_answer, hidden_queries = _queries(anonymous, path, hidden)
    missing_answer, missing_queries = _queries(anonymous, missing_path, missing)

    assert hidden_answer.status_code == missing_answer.status_code == 404
    assert hidden_answer.content == missing_answer.content
    assert hidden_queries == missing_queries
