"""End to end: changes made through the services, a resolve answer fetched over HTTP from a
live server, checked by the ``worldbook-verify`` console script in its own process; and
tampered answers it must refuse, each for the right reason."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import tomllib
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from directory import services
from tests.api.conftest import EntryFactory, UserFactory, claim, reach
from transparency.models import LogCheckpoint, LogHash, LogLeaf, LogTree
from transparency.verifier import note, tlog
from transparency.verifier.binding import BindingRecord
from transparency.verifier.checkpoint import Checkpoint, sign_checkpoint
from transparency.verifier.proof import TlogProof

ORIGIN = "worldbook.example/log"
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def server(transactional_db, settings) -> Iterator[str]:
    """A live server on 127.0.0.1 with an ephemeral port; yields its URL."""
    from pytest_django.live_server_helper import LiveServer

    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"transparency-e2e-{uuid.uuid4().hex}",
        }
    }
    live = LiveServer("127.0.0.1:0")
    try:
        yield live.url
    finally:
        live.stop()


@pytest.fixture
def log_keys(settings) -> tuple[str, str]:
    skey, vkey = note.generate_key(ORIGIN)
    settings.TRANSPARENCY_SIGNING_KEY = skey
    return skey, vkey


def fetch_answer(server: str, handle: str) -> dict:
    with urllib.request.urlopen(f"{server}/api/v1/resolve?handle={handle}&proof=1") as r:
        return json.load(r)


def verify(answer: dict, vkey: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    path = tmp_path / f"answer-{uuid.uuid4().hex}.json"
    path.write_text(json.dumps(answer))
    return subprocess.run(
        [sys.executable, "-m", "transparency.verifier.cli", str(path), "--log-key", vkey, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def failed_check(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    first = result.stderr.splitlines()[0]
    assert first.startswith("FAILED "), result.stderr
    return first.removeprefix("FAILED ").split(":", 1)[0]


def test_the_console_script_is_declared():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["worldbook-verify"] == "transparency.verifier.cli:main"


def test_a_resolve_answer_verifies_and_every_tampering_fails_for_its_reason(
    server, log_keys, tmp_path
):
    skey, vkey = log_keys
    state = tmp_path / "state.json"
    alice = EntryFactory(handle="alice", owner=UserFactory(username="alice"))
    claim(alice, "github", "alice-gh")
    reach(alice, "sip:alice@sip.example.org")
    reach(alice, "xmpp:alice@chat.example.org")

    answer = fetch_answer(server, "@alice")
    assert [e["uri"] for e in answer["endpoints"]] == [
        "sip:alice@sip.example.org",
        "xmpp:alice@chat.example.org",
    ]
    ok = verify(answer, vkey, tmp_path, "--state", str(state), "--server", server)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("OK @alice record 3")
    stored = json.loads(state.read_text())
    assert stored["size"] == LogTree.objects.get().size

    # An endpoint swapped for another: the record commits to no such endpoint.
    swapped = json.loads(json.dumps(answer))
    swapped["endpoints"][0]["uri"] = "sip:mallory@evil.example"
    assert failed_check(verify(swapped, vkey, tmp_path)) == "endpoints"

    # The record altered to hold the swapped endpoint: it is then not in the log.
    record = BindingRecord.parse(answer["leaf"])
    from transparency.verifier.binding import endpoint_commitment

    forged = endpoint_commitment(swapped["endpoints"][0], bytes(32))
    altered = BindingRecord(**{**record.__dict__, "endpoints": (*record.endpoints[1:], forged)})
    swapped["leaf"] = altered.encode().decode()
    swapped["endpoint_salts"][0] = base64.b64encode(bytes(32)).decode()
    assert failed_check(verify(swapped, vkey, tmp_path)) == "inclusion"

    # The checkpoint re-signed by another key of the same name.
    proof = TlogProof.parse(answer["proof"])
    other, _ = note.generate_key(ORIGIN)
    text = proof.checkpoint[: proof.checkpoint.index("\n\n") + 1]
    resigned = sign_checkpoint(Checkpoint.parse(text), note.Signer.from_key(other))
    forged_answer = {**answer, "proof": TlogProof(proof.index, proof.path, resigned).text()}
    assert failed_check(verify(forged_answer, vkey, tmp_path)) == "checkpoint"

    # A handle the answer shows as verified but the record does not hold.
    extra = json.loads(json.dumps(answer))
    extra["handles"].append({**extra["handles"][0], "value": "someone-else"})
    assert failed_check(verify(extra, vkey, tmp_path)) == "handles"

    # The log rewound: rows past leaf 2 dropped, then other changes appended in their place.
    seen = stored["size"]
    rewind_to = 2
    LogLeaf.objects.filter(index__gte=rewind_to).delete()
    LogHash.objects.filter(position__gte=tlog.stored_hash_count(rewind_to)).delete()
    LogCheckpoint.objects.filter(size__gt=rewind_to).delete()
    root = tlog.tree_hash(rewind_to, _read_hashes)
    LogTree.objects.filter(id=1).update(size=rewind_to, root_hash=root)
    for n in range(seen):
        reach(alice, f"sip:alice{n}@sip.example.org")
    assert LogTree.objects.get().size > seen
    rewound = fetch_answer(server, "@alice")
    alone = verify(rewound, vkey, tmp_path)  # without the stored checkpoint it looks fine
    assert alone.returncode == 0, alone.stderr
    result = verify(rewound, vkey, tmp_path, "--state", str(state), "--server", server)
    assert failed_check(result) == "consistency"
    assert json.loads(state.read_text())["size"] == seen  # the state is kept as it was


def test_a_newer_honest_checkpoint_moves_the_state_forward(server, log_keys, tmp_path):
    _, vkey = log_keys
    state = tmp_path / "state.json"
    bob = EntryFactory(handle="bob", owner=UserFactory(username="bob"))
    reach(bob, "sip:bob@sip.example.org")
    first = fetch_answer(server, "@bob")
    assert verify(first, vkey, tmp_path, "--state", str(state)).returncode == 0
    size = json.loads(state.read_text())["size"]
    services.endpoint_remove(endpoint=bob.endpoints.get())
    reach(bob, "xmpp:bob@chat.example.org")
    second = fetch_answer(server, "@bob")
    # A larger tree needs the consistency proof, so the server to fetch it from.
    assert failed_check(verify(second, vkey, tmp_path, "--state", str(state))) == "consistency"
    ok = verify(second, vkey, tmp_path, "--state", str(state), "--server", server)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(state.read_text())["size"] > size
    # The older answer still checks, its checkpoint a prefix of the stored one: it was in
    # the log. A log cannot prove an answer is the latest (docs/transparency.md); the state
    # keeps the larger checkpoint.
    grown = json.loads(state.read_text())["size"]
    again = verify(first, vkey, tmp_path, "--state", str(state), "--server", server)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("OK @bob record 1")
    assert json.loads(state.read_text())["size"] == grown


def test_bad_usage_exits_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "transparency.verifier.cli", "-", "--log-key", "nonsense"],
        cwd=ROOT,
        input="{}",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2 and "bad key" in result.stderr


def _read_hashes(positions):
    from transparency.selectors import read_hashes

    return read_hashes(positions)
