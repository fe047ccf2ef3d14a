"""Errors under /api/: every one an RFC 9457 problem document, none a 500."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from directory.normalization import HandleKind

from .conftest import PROBLEM_JSON, assert_problem

pytestmark = pytest.mark.django_db

# Inputs that have broken parsers before: empty, huge, control characters, bare
# prefixes, bidi overrides, a character NFKC turns into 18, malformed IDNA.
WEIRD = [
    "",
    " ",
    "x" * 10_000,
    "\x00",
    "a\x00b",
    "@",
    "@@",
    "@:",
    "acct:",
    "acct:@",
    "tel:",
    "tel:abc",
    "tel:+",
    "+",
    "+" + "9" * 5000,
    "mailto:",
    "https://",
    "https://[::1",
    "https://example.org:99999/@alice",
    "matrix:u/",
    "\u202eecila",
    "\ufdfa" * 500,
    "xn--",
    "xn--zz.example",
    "..",
    "%",
]
# Percent-encodings a client can put in a URL that are not text: a lone surrogate
# (CESU-8), an overlong NUL, bytes that are never UTF-8, a NUL, a bare percent sign.
RAW = ["%ED%A0%80", "%ED%BF%BF", "%C0%80", "%FF%FE", "%00", "%", "%%", "%E2%80%AE"]


def assert_no_server_error(response) -> None:
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert response["Content-Type"] == PROBLEM_JSON, response.content


@pytest.mark.parametrize("value", WEIRD)
def test_no_weird_handle_gets_a_server_error_when_read(anonymous, value):
    quoted = quote(value, safe="")
    for url in (
        f"/api/v1/resolve?handle={quoted}",
        f"/api/v1/entries/{quoted}",
        f"/api/v1/search?q={quoted}",
        f"/api/v1/search?q=alice&page={quoted}",
    ):
        assert_no_server_error(anonymous.get(url))


@pytest.mark.parametrize("raw", RAW)
def test_no_undecodable_url_gets_a_server_error(anonymous, raw):
    for url in (
        f"/api/v1/resolve?handle={raw}",
        f"/api/v1/resolve?handle=a{raw}b@example.org",
        f"/api/v1/entries/{raw}",
        f"/api/v1/entries/alice{raw}/handles",
        f"/api/v1/search?q={raw}",
        f"/api/v1/{raw}",
    ):
        assert_no_server_error(anonymous.get(url))


@pytest.mark.parametrize("value", WEIRD)
def test_no_weird_value_gets_a_server_error_when_written(as_alice, alice, value):
    for url, data in (
        ("/api/v1/entries", {"nickname": value, "handle": value}),
        ("/api/v1/entries", {"nickname": "Ok", "handle": value}),
        ("/api/v1/entries/alice/endpoints", {"uri": value}),
        ("/api/v1/entries/alice/endpoints", {"uri": "tel:0669851242", "region": value[:2]}),
        *(("/api/v1/entries/alice/handles", {"kind": k, "value": value}) for k in HandleKind.ALL),
    ):
        assert_no_server_error(as_alice.post(url, data, format="json"))
    assert_no_server_error(
        as_alice.patch("/api/v1/entries/alice", {"nickname": value}, format="json")
    )


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not json",
        "[]",
        '"alice"',
        "null",
        '{"nickname": "\\ud800", "handle": "\\udfff"}',
        '{"nickname": "Ok", "handle": "a\\u0000b"}',
        '{"nickname": 5, "handle": ["alice"]}',
        '{"nickname": {"a": 1}, "handle": null}',
        '{"nickname": "Ok", "handle": "okay", "discoverable": NaN}',
        "[" * 100_000,
        '{"a": ' * 50_000,
    ],
)
def test_no_malformed_json_body_gets_a_server_error(as_charlie, body):
    response = as_charlie.post("/api/v1/entries", body, content_type="application/json")
    assert_problem(response, 400)


def test_it_refuses_a_body_it_cannot_read_as_json(as_charlie):
    response = as_charlie.post("/api/v1/entries", b"\xff\xfe{", content_type="application/json")
    assert_problem(response, 400, "malformed-request")


def test_it_refuses_a_media_type_it_does_not_read(as_charlie):
    response = as_charlie.post("/api/v1/entries", "<entry/>", content_type="application/xml")
    assert_problem(response, 415, "unsupported-media-type")


@pytest.mark.parametrize(
    "authorization",
    ["Basic", "Basic !!!", "Basic YWxpY2U=", "Basic w6k6w6k=", "Basic a b", "Bearer x"],
)
def test_no_malformed_credentials_get_a_server_error(anonymous, authorization):
    response = anonymous.get("/api/v1/resolve?handle=@x", HTTP_AUTHORIZATION=authorization)
    assert_no_server_error(response)


@pytest.mark.parametrize(
    "path",
    [
        "/api/",
        "/api/v1/",
        "/api/v1/nothing-here",
        "/api/v2/resolve",
        "/api/v1/resolve/",
        "/api/v1/entries/",
        "/api/v1/entries/alice/handles/not-a-number",
        "/api/v1/entries/alice/endpoints/" + "9" * 5000,
        "/api/v1/entries/a/b/c/d",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
def test_an_unknown_api_address_is_a_404_problem_for_every_method(anonymous, path, method):
    response = getattr(anonymous, method)(path)
    assert_problem(response, 404, "not-found")


def test_it_adds_the_missing_slash_to_pages_that_have_one(anonymous):
    response = anonymous.get("/api/docs?x=1")

    assert response.status_code == 301
    assert response["Location"] == "/api/docs/?x=1"
    assert_problem(anonymous.post("/api/docs"), 404)


def test_a_method_the_endpoint_lacks_is_a_405_problem_with_allow(anonymous, as_alice, alice):
    for client, method, path in (
        (anonymous, "post", "/api/v1/resolve"),
        (anonymous, "delete", "/api/v1/search"),
        (as_alice, "put", "/api/v1/entries/alice"),
        (as_alice, "get", "/api/v1/entries"),
        (as_alice, "put", "/api/v1/entries/alice/endpoints"),
    ):
        response = getattr(client, method)(path)
        assert_problem(response, 405, "method-not-allowed")
        assert method.upper() not in response["Allow"].split(", ")


def test_the_browsable_api_shows_errors_as_html_labelled_as_html(anonymous):
    response = anonymous.get("/api/v1/resolve", HTTP_ACCEPT="text/html")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_it_answers_413_to_a_body_over_the_upload_limit(client, alice_user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(alice_user)
    response = client.post(
        "/api/v1/entries",
        '{"nickname": "' + "x" * 5000 + '"}',
        content_type="application/json",
    )
    assert_problem(response, 413)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/", "/api/schema/"])
def test_the_documentation_pages_refuse_options_rather_than_fail(client, path):
    assert client.options(path).status_code == 405
    assert client.get(path).status_code == 200
