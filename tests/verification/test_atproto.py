"""AT Protocol handles: handle → DID (TXT or .well-known), DID → handle (alsoKnownAs), and
the profile description read from the PDS holds the token."""

from __future__ import annotations

import json

import pytest

from directory.models import Handle
from tests.verification.servers import SILENT, Reply

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
RECORD = (
    f"/xrpc/com.atproto.repo.getRecord?repo={DID.replace(':', '%3A')}"
    "&collection=app.bsky.actor.profile&rkey=self"
)


def did_document(*aka: str, with_aka: bool = True) -> Reply:
    body = {
        "id": DID,
        "verificationMethod": [],
        "service": [
            {"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
             "serviceEndpoint": "https://pds.test"},
        ],
    }  # fmt: skip
    if with_aka:
        body["alsoKnownAs"] = list(aka)
    return Reply(200, json.dumps(body), {"Content-Type": "application/json"})


def profile(description: str) -> Reply:
    body = {"uri": f"at://{DID}/app.bsky.actor.profile/self", "value": {
        "$type": "app.bsky.actor.profile", "description": description}}  # fmt: skip
    return Reply(200, json.dumps(body), {"Content-Type": "application/json"})


@pytest.fixture
def bluesky(web, dns):
    """alice.bsky.social is an AT Protocol handle whose TXT record names DID."""
    dns.set("_atproto.alice.bsky.social", "TXT", f"did={DID}")
    web.serve("plc.test", f"/{DID}", did_document("at://alice.bsky.social"))
    return web


def test_it_verifies_a_handle_both_ways_with_the_token_in_the_profile(
    bluesky, alice, claim, check_now
):
    handle, token = claim(alice, "atproto", "@Alice.Bsky.Social")
    bluesky.serve("pds.test", RECORD, profile(f"Writer.\n{token}"))
    check = check_now(handle)
    assert handle.status == Handle.Status.VERIFIED
    assert check.evidence["did"] == DID


def test_it_reads_the_did_from_the_well_known_file(web, alice, claim, check_now):
    handle, token = claim(alice, "atproto", "alice.bsky.social")
    web.serve("alice.bsky.social", "/.well-known/atproto-did", Reply(200, DID + "\n"))
    web.serve("plc.test", f"/{DID}", did_document("at://alice.bsky.social"))
    web.serve("pds.test", RECORD, profile(token))
    assert check_now(handle).result == "verified"


def test_it_refuses_a_did_document_without_also_known_as(web, dns, alice, claim, check_now):
    handle, token = claim(alice, "atproto", "alice.bsky.social")
    dns.set("_atproto.alice.bsky.social", "TXT", f"did={DID}")
    web.serve("plc.test", f"/{DID}", did_document(with_aka=False))
    web.serve("pds.test", RECORD, profile(token))
    check = check_now(handle)
    assert handle.status == Handle.Status.FAILED
    assert check.reason == (
        f"the DID document of {DID} names no handle (no alsoKnownAs), expected at://alice.bsky.social"
    )


def test_it_refuses_a_did_that_names_another_handle(web, dns, alice, claim, check_now):
    handle, token = claim(alice, "atproto", "alice.bsky.social")
    dns.set("_atproto.alice.bsky.social", "TXT", f"did={DID}")
    web.serve("plc.test", f"/{DID}", did_document("at://mallory.example"))
    web.serve("pds.test", RECORD, profile(token))
    assert "names at://mallory.example, expected at://alice.bsky.social" in check_now(handle).reason


def test_it_refuses_a_wrong_token(bluesky, alice, claim, check_now):
    handle, token = claim(alice, "atproto", "alice.bsky.social")
    bluesky.serve("pds.test", RECORD, profile(f"x{token}"))
    check = check_now(handle)
    assert check.result == "mismatch"
    assert handle.status == Handle.Status.FAILED


def test_it_reports_a_handle_without_a_did(web, alice, claim, check_now):
    handle, _ = claim(alice, "atproto", "alice.bsky.social")
    check = check_now(handle)
    assert check.result == "missing"
    assert check.reason.startswith("found no DID for alice.bsky.social")


def test_a_slow_plc_directory_is_unreachable(short_timeout, web, dns, alice, claim, check_now):
    handle, _ = claim(alice, "atproto", "alice.bsky.social")
    dns.set("_atproto.alice.bsky.social", "TXT", f"did={DID}")
    web.serve("plc.test", f"/{DID}", Reply(200, "{}", delay=SILENT))
    assert check_now(handle).result == "unreachable"
    assert handle.status == Handle.Status.UNREACHABLE


def test_it_refuses_a_pds_on_a_private_address(web, dns, alice, claim, check_now):
    handle, _ = claim(alice, "atproto", "alice.bsky.social")
    dns.set("_atproto.alice.bsky.social", "TXT", f"did={DID}")
    body = json.loads(did_document("at://alice.bsky.social").content())
    body["service"][0]["serviceEndpoint"] = "https://pds.test"
    web.serve("plc.test", f"/{DID}", Reply(200, json.dumps(body)))
    web.serve("pds.test", RECORD, Reply(307, headers={"Location": "https://10.0.0.1/x"}))
    assert check_now(handle).result == "refused"
