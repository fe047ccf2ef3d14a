"""Domains prove themselves with a TXT record ``_worldbook.<domain>`` or a file
``/.well-known/worldbook-proof`` holding the token, read from loopback DNS and HTTPS."""

from __future__ import annotations

import pytest

from directory.models import Handle
from tests.verification.servers import SILENT, Reply

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

WELL_KNOWN = "/.well-known/worldbook-proof"


def test_it_verifies_a_txt_record(dns, alice, claim, check_now):
    handle, token = claim(alice, "domain", "Alice.Example")
    dns.set("_worldbook.alice.example", "TXT", "v=spf1 -all", token)
    check = check_now(handle)
    assert handle.status == Handle.Status.VERIFIED
    assert check.reason == "the TXT record _worldbook.alice.example holds the token."
    assert token in check.evidence["txt"]


def test_it_verifies_a_well_known_file(web, alice, claim, check_now):
    handle, token = claim(alice, "domain", "alice.example")
    web.serve("alice.example", WELL_KNOWN, Reply(200, token + "\n"))
    check = check_now(handle)
    assert handle.status == Handle.Status.VERIFIED
    assert check.reason == "https://alice.example/.well-known/worldbook-proof holds the token."


def test_it_refuses_a_wrong_token(dns, alice, claim, check_now):
    handle, token = claim(alice, "domain", "alice.example")
    dns.set("_worldbook.alice.example", "TXT", "wb-someone-elses-token")
    check = check_now(handle)
    assert handle.status == Handle.Status.FAILED
    assert check.result == "mismatch"
    assert check.reason == (
        "found 'wb-someone-elses-token' at _worldbook.alice.example, expected " + token
    )


def test_it_refuses_a_record_that_merely_contains_the_token(dns, web, alice, claim, check_now):
    handle, token = claim(alice, "domain", "alice.example")
    dns.set("_worldbook.alice.example", "TXT", f"proof {token} for someone")
    web.serve("alice.example", WELL_KNOWN, Reply(200, f"<p>{token}</p>"))
    assert check_now(handle).result == "mismatch"
    assert handle.status == Handle.Status.FAILED


def test_it_reports_a_missing_record_and_file(web, alice, claim, check_now):
    handle, _ = claim(alice, "domain", "alice.example")
    check = check_now(handle)
    assert handle.status == Handle.Status.FAILED
    assert check.result == "missing"
    assert check.reason == (
        "found no TXT record _worldbook.alice.example and no file "
        "https://alice.example/.well-known/worldbook-proof"
    )


def test_a_dns_servfail_and_a_slow_server_count_as_unreachable(
    short_timeout, dns, web, alice, claim, check_now
):
    handle, token = claim(alice, "domain", "alice.example")
    dns.fail("_worldbook.alice.example")
    check = check_now(handle)
    assert handle.status == Handle.Status.UNREACHABLE
    assert "SERVFAIL" in check.reason
    dns.reset()
    web.serve("alice.example", WELL_KNOWN, Reply(200, token, delay=SILENT))
    check = check_now(handle)
    assert handle.status == Handle.Status.UNREACHABLE
    assert "did not answer within 0.5 s" in check.reason


def test_it_refuses_a_well_known_redirect_to_a_private_address(web, alice, claim, check_now):
    handle, _ = claim(alice, "domain", "alice.example")
    web.serve("alice.example", WELL_KNOWN, Reply(302, headers={"Location": "https://[::1]/proof"}))
    check = check_now(handle)
    assert handle.status == Handle.Status.FAILED
    assert check.result == "missing"
    assert "::1 is not a public internet address" in check.reason
    assert check.evidence["fetched"][0]["refused"]


def test_check_now_reads_dns_afresh(dns, alice, claim, check_now):
    handle, token = claim(alice, "domain", "alice.example")
    dns.set("_worldbook.alice.example", "TXT", "not yet")
    assert check_now(handle).result == "mismatch"
    dns.set("_worldbook.alice.example", "TXT", token)
    assert check_now(handle).result == "verified"
