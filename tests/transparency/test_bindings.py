"""Binding records: what the services write appears in the log, one record per change."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from django.db import transaction

from directory import services
from directory.models import Endpoint, Entry
from tests.api.conftest import EntryFactory, UserFactory, claim, client_for, reach
from transparency import selectors
from transparency import services as log_services
from transparency.models import LogHandleHead, LogLeaf
from transparency.verifier import note, tlog
from transparency.verifier.binding import BindingRecord, RecordError, check_endpoints
from transparency.verifier.checkpoint import open_checkpoint
from transparency.verifier.cli import CheckFailed, verify_answer
from transparency.verifier.note import Verifier
from transparency.verifier.proof import TlogProof

ORIGIN = "worldbook.example/log"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://worldbook.example"
    settings.WORLDBOOK_DOMAIN = "worldbook.example"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"transparency-tests-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture
def log_key(settings) -> Verifier:
    skey, vkey = note.generate_key(ORIGIN)
    settings.TRANSPARENCY_SIGNING_KEY = skey
    return Verifier.from_key(vkey)


def records(handle: str) -> list[BindingRecord]:
    rows = LogLeaf.objects.filter(handle=handle).order_by("seq")
    return [BindingRecord.parse(bytes(row.data)) for row in rows]


def integrate() -> None:
    while log_services.log_integrate() is not None:
        pass


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_each_service_write_appends_the_next_record_of_the_handle(log_key):
    owner = UserFactory(username="alice")
    alice = EntryFactory(handle="Alice", nickname="Alice", owner=owner)
    claim(alice, "github", "alice-gh")
    reach(alice, "sip:alice@sip.example.org")
    secret = reach(alice, "xmpp:alice@chat.example.org", audience=Endpoint.Audience.CONTACTS)
    claim(alice, "whatsapp", "+1 415 555 0123")

    chain = records("alice")
    # Created, handle verified (added unverified: no change), two endpoints, the number.
    assert [r.seq for r in chain] == [0, 1, 2, 3, 4]
    assert chain[0].prev is None
    rows = list(LogLeaf.objects.filter(handle="alice").order_by("seq"))
    for before, after, row in zip(rows, chain[1:], rows[1:], strict=False):
        assert after.prev == base64.b64encode(tlog.leaf_hash(bytes(before.data))).decode()
        assert row.index is not None  # integrated on commit, through the outbox
    last = chain[-1]
    assert last.answers and last.handles == ("github:alice-gh",)
    assert len(last.endpoints) == 2 and len(last.private_handles) == 1
    # Nothing private is readable in the public log.
    for row in rows:
        data = bytes(row.data)
        assert b"xmpp:" not in data and b"sip:" not in data and b"4155550123" not in data

    # The salt of the contacts-only endpoint opens its commitment; a wrong one does not.
    from directory.api.serializers import EndpointSerializer
    from transparency.verifier.binding import ENDPOINT_DOMAIN, endpoint_encoding, item_salt

    shown = EndpointSerializer(secret).data
    salt = item_salt(bytes(rows[-1].secret), ENDPOINT_DOMAIN, endpoint_encoding(shown))
    check_endpoints(last, [shown], [base64.b64encode(salt).decode()])
    with pytest.raises(RecordError, match="xmpp:alice@chat.example.org"):
        check_endpoints(last, [shown], [base64.b64encode(bytes(32)).decode()])

    # A change no caller sees appends nothing; a suspension says the handle is silent.
    services.entry_update(entry=alice, nickname="Alice L.")
    assert len(records("alice")) == 5
    services.entry_set_status(entry=alice, status=Entry.Status.SUSPENDED)
    silent = records("alice")[-1]
    assert (silent.seq, silent.answers, silent.endpoints, silent.handles) == (5, False, (), ())
    services.entry_delete(entry=Entry.objects.get(pk=alice.pk), allow_suspended=True)
    assert len(records("alice")) == 6  # already silent
    assert LogLeaf.objects.filter(index__isnull=True).count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rename_silences_the_old_handle_and_starts_the_new_one(log_key):
    entry = EntryFactory(handle="carol", owner=UserFactory(username="carol"))
    reach(entry, "sip:carol@sip.example.org")
    services.entry_update(entry=entry, handle="caroline")
    old, new = records("carol"), records("caroline")
    assert [r.answers for r in old] == [True, True, False]
    assert [(r.seq, r.answers, len(r.endpoints)) for r in new] == [(0, True, 1)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_writes_in_one_transaction_make_one_record_of_the_state_at_commit(log_key):
    entry = EntryFactory(handle="dave", owner=UserFactory(username="dave"))
    with transaction.atomic():
        reach(entry, "sip:dave@sip.example.org")
        reach(entry, "xmpp:dave@chat.example.org")
        claim(entry, "github", "dave-gh")
    chain = records("dave")
    assert [r.seq for r in chain] == [0, 1]
    assert len(chain[1].endpoints) == 2 and chain[1].handles == ("github:dave-gh",)
    head = LogHandleHead.objects.get(handle="dave")
    leaf = LogLeaf.objects.get(handle="dave", seq=1)
    assert (head.seq, bytes(head.leaf_hash)) == (1, tlog.leaf_hash(bytes(leaf.data)))

    # A write rolled back leaves no record behind.
    with pytest.raises(RuntimeError), transaction.atomic():
        reach(entry, "sip:other@sip.example.org")
        raise RuntimeError("abandon")
    assert len(records("dave")) == 2
    reach(entry, "sip:other@sip.example.org")
    assert [r.seq for r in records("dave")] == [0, 1, 2]


@pytest.mark.django_db
def test_without_a_signing_key_nothing_is_recorded(settings):
    settings.TRANSPARENCY_SIGNING_KEY = ""
    entry = EntryFactory(handle="erin")
    reach(entry, "sip:erin@sip.example.org")
    assert not LogLeaf.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_each_caller_gets_the_salts_of_the_endpoints_it_may_see(log_key):
    frank = EntryFactory(handle="frank", owner=UserFactory(username="frank"))
    claim(frank, "github", "frank-gh")
    reach(frank, "sip:frank@sip.example.org")
    reach(frank, "xmpp:frank@chat.example.org", audience=Endpoint.Audience.SIGNED_IN)
    viewer = UserFactory(username="viewer")

    for client, seen in ((client_for(None), 1), (client_for(viewer), 2)):
        for url in ("/api/v1/resolve?handle=@frank&proof=1", "/api/v1/entries/frank?proof=1"):
            answer = client.get(url).json()
            assert len(answer["endpoints"]) == seen == len(answer["endpoint_salts"])
            record = verify_answer(answer, log_key)
            assert record.handle == "frank"
            assert TlogProof.parse(answer["proof"]).checkpoint.startswith(ORIGIN + "\n")

    plain = client_for(None).get("/api/v1/resolve?handle=@frank").json()
    assert "proof" not in plain
    assert client_for(None).get("/api/v1/resolve?handle=@frank&proof=0").json() == plain
    bad = client_for(None).get("/api/v1/resolve?handle=@frank&proof=yes")
    assert bad.status_code == 400 and "proof" in bad.json()["errors"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_kept_proof_follows_each_append_and_integration(log_key, settings):
    """A proof's material is kept in the answer cache; every record appended for the handle
    and every integration of one replaces it, so no answer carries an older record."""
    settings.ANSWER_CACHE = True
    integrate()
    ivan = EntryFactory(handle="ivan")
    reach(ivan, "sip:ivan@sip.example.org")
    integrate()

    def proved() -> dict:
        return client_for(None).get("/api/v1/resolve?handle=@ivan&proof=1").json()

    first = proved()
    verify_answer(first, log_key)
    assert proved() == first  # kept: asked again, the same answer
    # A new record: whether or not it is integrated yet (the outbox may have run the task
    # already), the kept older one must never be shown for it.
    reach(ivan, "xmpp:ivan@chat.example.org")
    latest = LogLeaf.objects.filter(handle="ivan").order_by("-seq").first()
    after = proved()
    if latest.index is None:
        assert (after["proof"], after["leaf"], after["endpoint_salts"]) == (None, None, None)
    else:
        assert after["leaf"] == bytes(latest.data).decode()
    integrate()
    second = proved()
    verify_answer(second, log_key)
    assert second["leaf"] != first["leaf"]
    assert BindingRecord.parse(second["leaf"].encode()).seq == records("ivan")[-1].seq


@pytest.mark.django_db
def test_a_change_not_yet_integrated_has_no_proof(log_key):
    # In this (never committed) test transaction nothing reaches the integrate task.
    grace = EntryFactory(handle="grace")
    reach(grace, "sip:grace@sip.example.org")
    answer = client_for(None).get("/api/v1/resolve?handle=@grace&proof=1").json()
    assert (answer["proof"], answer["leaf"], answer["endpoint_salts"]) == (None, None, None)
    with pytest.raises(CheckFailed) as failed:
        verify_answer(answer, log_key)
    assert failed.value.check == "answer"
    integrate()
    answer = client_for(None).get("/api/v1/resolve?handle=@grace&proof=1").json()
    verify_answer(answer, log_key)


@pytest.mark.django_db
def test_consistency_and_tiles_are_served_from_the_stored_tree(client, log_key):
    for n in range(300):
        log_services.leaf_append(data=f"entry {n}".encode())
    log_services.log_integrate(batch_size=257)
    first = selectors.latest_checkpoint_note()
    log_services.log_integrate()
    cp_old, _ = open_checkpoint(first, log_key)
    cp_new, _ = open_checkpoint(client.get("/log/checkpoint").content, log_key)
    assert (cp_old.size, cp_new.size) == (257, 300)

    body = client.get("/log/consistency?from=257&to=300").json()
    proof = [base64.b64decode(h) for h in body["proof"]]
    tlog.verify_consistency(257, 300, cp_old.root_hash, cp_new.root_hash, proof)
    for query in ("from=0&to=3", "from=5&to=4", "from=1&to=301", "from=a&to=3", "to=3"):
        response = client.get(f"/log/consistency?{query}")
        assert response.status_code == 400, query
        assert response["Content-Type"] == "application/problem+json"

    leaves = [tlog.leaf_hash(f"entry {n}".encode()) for n in range(300)]
    full = client.get("/log/tile/0/000")
    assert full["Cache-Control"] == "public, max-age=31536000, immutable"
    assert full.content == b"".join(leaves[:256])
    partial = client.get("/log/tile/0/001.p/44")
    assert partial.content == b"".join(leaves[256:300])
    assert "immutable" not in partial["Cache-Control"]
    level1 = client.get("/log/tile/1/000.p/1").content
    assert level1 == tlog.tree_hash_of_leaves(leaves[:256])
    bundle = client.get("/log/tile/entries/001.p/44").content
    entries, offset = [], 0
    while offset < len(bundle):
        size = int.from_bytes(bundle[offset : offset + 2], "big")
        entries.append(bundle[offset + 2 : offset + 2 + size])
        offset += 2 + size
    assert entries == [f"entry {n}".encode() for n in range(256, 300)]
    for missing in (
        "tile/0/001",
        "tile/0/001.p/45",
        "tile/1/000",
        "tile/0/x000/001",
        "tile/entries/002.p/1",
        "tile/64/000",
        "tile/0/00",
    ):
        assert client.get(f"/log/{missing}").status_code == 404, missing


def test_records_have_one_encoding():
    record = BindingRecord("alice", 0, None, "2026-01-02T03:04:05Z", True, ("github:a",))
    data = record.encode()
    assert BindingRecord.parse(data) == record
    assert json.loads(data)["v"] == 1
    for bad in (
        data.replace(b",", b", ", 1),  # not canonical
        data.replace(b'"seq":0', b'"seq":1'),  # seq 1 needs a prev
        data.replace(b'"v":1', b'"v":2'),
        b"[]",
    ):
        with pytest.raises(RecordError):
            BindingRecord.parse(bad)
