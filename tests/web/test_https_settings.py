"""HSTS and the HTTPS redirect, switched on from the settings (SECURE_* variables)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_hsts_is_sent_over_https_when_configured(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get("/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_no_hsts_by_default(client):
    assert "Strict-Transport-Security" not in client.get("/", secure=True)


def test_plain_http_is_redirected_when_configured(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/api/v1/resolve?handle=@alice")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_a_forwarded_proto_from_an_untrusted_peer_is_not_https(client, settings):
    # Without a trusted proxy SECURE_PROXY_SSL_HEADER is unset, so the header means nothing.
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301


def test_a_forwarded_proto_counts_only_from_a_trusted_proxy(client, settings):
    # With a trusted proxy configured, Django reads X-Forwarded-Proto; a client that is
    # not that proxy cannot claim HTTPS with it.
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    from_client = client.get("/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="192.0.2.9")
    from_proxy = client.get("/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="10.0.0.1")
    assert from_client.status_code == 301
    assert from_proxy.status_code == 200
