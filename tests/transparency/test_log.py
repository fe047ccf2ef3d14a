"""The transparency log in the database: integration, checkpoints and GET /log/."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.urls import reverse

from transparency import selectors, services
from transparency.models import LogCheckpoint, LogHash, LogLeaf, LogTree
from transparency.verifier import note, tlog
from transparency.verifier.checkpoint import Checkpoint, open_checkpoint
from transparency.verifier.note import Verifier

ORIGIN = "worldbook.example/log"


@pytest.fixture
def log_key(settings):
    skey, vkey = note.generate_key(ORIGIN)
    settings.TRANSPARENCY_SIGNING_KEY = skey
    return Verifier.from_key(vkey)


def append(count: int, start: int = 0) -> list[bytes]:
    data = [f"entry {n}".encode() for n in range(start, start + count)]
    for item in data:
        services.leaf_append(data=item)
    return data


@pytest.mark.django_db
def test_it_integrates_pending_leaves_in_order_and_signs_the_tree(log_key):
    data = append(13)
    published = services.log_integrate()
    checkpoint, _ = open_checkpoint(published.note, log_key)
    leaves = [tlog.leaf_hash(item) for item in data]
    assert checkpoint == Checkpoint(ORIGIN, 13, tlog.tree_hash_of_leaves(leaves))
    rows = LogLeaf.objects.order_by("index").values_list("index", "data")
    assert [(index, bytes(item)) for index, item in rows] == list(enumerate(data))
    assert LogHash.objects.count() == tlog.stored_hash_count(13)
    for index, leaf in enumerate(leaves):
        proof = selectors.inclusion_proof(index, 13)
        tlog.verify_inclusion(index, 13, leaf, proof, checkpoint.root_hash)


@pytest.mark.django_db
def test_each_batch_extends_the_tree_consistently(log_key):
    append(5)
    first = services.log_integrate(batch_size=3)
    second = services.log_integrate(batch_size=3)
    append(20, start=5)
    third = services.log_integrate(batch_size=100)
    assert [c.size for c in (first, second, third)] == [3, 5, 25]
    for old, new in ((first, second), (second, third), (first, third)):
        proof = selectors.consistency_proof(old.size, new.size)
        tlog.verify_consistency(
            old.size, new.size, bytes(old.root_hash), bytes(new.root_hash), proof
        )
    tree = LogTree.objects.get()
    assert (tree.size, bytes(tree.root_hash)) == (25, bytes(third.root_hash))


@pytest.mark.django_db
def test_nothing_pending_publishes_nothing(log_key):
    assert services.log_integrate() is None
    assert not LogCheckpoint.objects.exists()


@pytest.mark.django_db
def test_without_a_signing_key_nothing_is_integrated(settings):
    settings.TRANSPARENCY_SIGNING_KEY = ""
    append(2)
    with pytest.raises(ImproperlyConfigured):
        services.log_integrate()
    assert LogLeaf.objects.filter(index__isnull=True).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_integrations_at_once_leave_no_gap_and_no_duplicate(log_key):
    append(60)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def integrate() -> None:
        try:
            barrier.wait(timeout=10)
            while services.log_integrate(batch_size=7) is not None:
                pass
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=integrate) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    indexes = list(LogLeaf.objects.order_by("id").values_list("index", flat=True))
    assert indexes == list(range(60))
    sizes = list(LogCheckpoint.objects.order_by("created_at", "id").values_list("size", flat=True))
    assert sizes == sorted(sizes) and sizes[-1] == 60
    assert LogHash.objects.count() == tlog.stored_hash_count(60)


@pytest.mark.django_db
def test_get_log_names_the_origin_and_verifier_key(client, log_key):
    response = client.get(reverse("transparency:log"))
    assert response.status_code == 200
    assert response.json() == {"origin": ORIGIN, "verifier_key": log_key.key}


@pytest.mark.django_db
def test_get_checkpoint_serves_the_latest_signed_checkpoint(client, log_key):
    response = client.get(reverse("transparency:checkpoint"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    checkpoint, _ = open_checkpoint(response.content, log_key)
    assert (checkpoint.size, checkpoint.root_hash) == (0, tlog.EMPTY_ROOT)

    append(3)
    services.log_integrate()
    checkpoint, _ = open_checkpoint(client.get("/log/checkpoint").content, log_key)
    assert checkpoint.size == 3


@pytest.mark.django_db
def test_without_a_signing_key_the_log_is_unavailable(client, settings):
    settings.TRANSPARENCY_SIGNING_KEY = ""
    for url in ("/log/", "/log/checkpoint"):
        response = client.get(url)
        assert response.status_code == 503
        assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_the_log_refuses_writes(client, log_key):
    assert client.post("/log/checkpoint").status_code == 405


@pytest.mark.django_db
def test_the_integrate_task_takes_every_batch(log_key, settings):
    from transparency.tasks import integrate

    settings.TRANSPARENCY_BATCH_SIZE = 4
    append(10)
    assert integrate.delay().get() == 10
    assert list(LogCheckpoint.objects.order_by("size").values_list("size", flat=True)) == [
        4,
        8,
        10,
    ]
    assert integrate.delay().get() == 0


def test_a_malformed_signing_key_stops_the_server_from_starting(tmp_path):
    from tests.test_settings import load_settings

    skey, _ = note.generate_key(ORIGIN)
    assert load_settings(tmp_path, TRANSPARENCY_SIGNING_KEY=skey).returncode == 0
    result = load_settings(tmp_path, TRANSPARENCY_SIGNING_KEY=skey[:-4] + "AAAA")
    assert result.returncode != 0
    assert "TRANSPARENCY_SIGNING_KEY" in result.stderr


def test_keygen_prints_a_key_pair_that_matches():
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("transparency_keygen", ORIGIN, stdout=out)
    lines = out.getvalue().splitlines()
    skey = lines[0].removeprefix("TRANSPARENCY_SIGNING_KEY=")
    vkey = lines[1].removeprefix("verifier key: ")
    assert note.Signer.from_key(skey).verifier == Verifier.from_key(vkey)
    assert Verifier.from_key(vkey).name == ORIGIN
    with pytest.raises(CommandError):
        call_command("transparency_keygen", "two words", stdout=StringIO())
