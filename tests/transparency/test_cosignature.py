"""Witness cosignatures (c2sp.org/tlog-cosignature, Ed25519 cosignature/v1): the format,
the "k of n witnesses" policy, and the log storing and serving them."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from transparency import services
from transparency.models import LogCosignature
from transparency.verifier import note
from transparency.verifier.checkpoint import open_checkpoint
from transparency.verifier.cosignature import (
    CosignatureError,
    WitnessSigner,
    WitnessVerifier,
    check_witnesses,
    cosignature_key_id,
    signed_message,
)
from transparency.verifier.note import Signature, Verifier, open_note
from transparency.verifier.proof import TlogProof

ORIGIN = "worldbook.example/log"

# The example of c2sp.org/tlog-cosignature ("Format" and "Ed25519 signed message").
SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)
SPEC_LINE = (
    "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe"
    "+mbIUBkBIfZ+qnA=="
)
SPEC_MESSAGE = (
    "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)


def test_the_spec_example_reads_as_key_id_timestamp_and_signature():
    raw = base64.b64decode(SPEC_LINE)
    assert len(raw) == 4 + 8 + 64
    timestamp = int.from_bytes(raw[4:12], "big")
    assert timestamp == 1679315147  # the time line of the spec's signed message
    assert signed_message(SPEC_CHECKPOINT, timestamp) == SPEC_MESSAGE.encode()


def test_key_ids_use_type_0x04_and_the_message_is_what_is_signed():
    witness = WitnessSigner.generate("witness.example.com/w1")
    public = witness.verifier.public_key
    expected = hashlib.sha256(b"witness.example.com/w1\n\x04" + public).digest()[:4]
    assert witness.verifier.key_id == int.from_bytes(expected, "big")
    assert WitnessVerifier.from_key(witness.verifier.key) == witness.verifier
    sig = witness.cosign(SPEC_CHECKPOINT, 1679315147)
    raw = base64.b64decode(sig.b64)
    assert raw[:4] == expected and int.from_bytes(raw[4:12], "big") == 1679315147
    # A plain Ed25519 check of the spec's message, with nothing of this module.
    Ed25519PublicKey.from_public_bytes(public).verify(raw[12:], SPEC_MESSAGE.encode())
    assert witness.verifier.verify(SPEC_CHECKPOINT, sig) == 1679315147
    # A note key (type 0x01) of the same name and key is not a cosignature key.
    note_kid = note.key_id("witness.example.com/w1", b"\x01" + public)
    assert note_kid != cosignature_key_id("witness.example.com/w1", public)
    note_vkey = (
        f"witness.example.com/w1+{note_kid:08x}+" + base64.b64encode(b"\x01" + public).decode()
    )
    with pytest.raises(CosignatureError, match="0x04"):
        WitnessVerifier.from_key(note_vkey)


def test_k_of_n_witnesses():
    witnesses = [WitnessSigner.generate(f"w{n}.example") for n in range(3)]
    keys = [w.verifier for w in witnesses]
    sigs = [w.cosign(SPEC_CHECKPOINT, 1700000000 + n) for n, w in enumerate(witnesses[:2])]
    stranger = WitnessSigner.generate("stranger.example").cosign(SPEC_CHECKPOINT, 1)
    assert check_witnesses(SPEC_CHECKPOINT, [stranger, *sigs], keys, 2) == keys[:2]
    with pytest.raises(CosignatureError, match="2 of the 3 witnesses cosigned; 3 are required"):
        check_witnesses(SPEC_CHECKPOINT, sigs, keys, 3)
    # A cosignature of another checkpoint by a known witness is refused outright.
    other = witnesses[2].cosign(SPEC_CHECKPOINT.replace("20852163", "20852164"), 5)
    with pytest.raises(CosignatureError, match="invalid cosignature by w2.example"):
        check_witnesses(SPEC_CHECKPOINT, [*sigs, other], keys, 1)
    forged = Signature(sigs[0].name, sigs[0].key_id, sigs[1].b64)
    with pytest.raises(CosignatureError, match="malformed|invalid"):
        check_witnesses(SPEC_CHECKPOINT, [forged], keys, 1)


@pytest.fixture
def log(settings):
    skey, vkey = note.generate_key(ORIGIN)
    settings.TRANSPARENCY_SIGNING_KEY = skey
    witnesses = [WitnessSigner.generate(f"w{n}.example") for n in range(2)]
    settings.TRANSPARENCY_WITNESSES = [w.verifier.key for w in witnesses]
    return Verifier.from_key(vkey), witnesses


def _cosigned(signed: str, *sigs: Signature) -> str:
    return signed + "".join(s.line for s in sigs)


@pytest.mark.django_db
def test_the_log_stores_and_serves_its_witnesses_cosignatures(client, log):
    log_key, (w0, w1) = log
    for n in range(3):
        services.leaf_append(data=f"entry {n}".encode())
    published = services.log_integrate()
    body = open_note(published.note, [log_key]).text

    stranger = WitnessSigner.generate("stranger.example").cosign(body, 1)
    refused = client.post(
        "/log/cosignature", _cosigned(published.note, stranger), content_type="text/plain"
    )
    assert refused.status_code == 400
    assert "no cosignature by a witness" in refused.json()["detail"]

    sig = w0.cosign(body, 1700000000)
    response = client.post(
        "/log/cosignature", _cosigned(published.note, sig), content_type="text/plain"
    )
    assert response.status_code == 200, response.content
    served = client.get("/log/checkpoint").content.decode()
    assert served == response.content.decode() == published.note + sig.line
    checkpoint, opened = open_checkpoint(served, log_key)
    assert check_witnesses(opened.text, opened.unverified, [w0.verifier, w1.verifier], 1)
    with pytest.raises(CosignatureError):
        check_witnesses(opened.text, opened.unverified, [w0.verifier, w1.verifier], 2)

    # A bad cosignature by a configured witness, or a checkpoint never published: 400.
    wrong = w1.cosign(body.replace("\n3\n", "\n4\n"), 5)
    assert (
        client.post(
            "/log/cosignature", _cosigned(published.note, wrong), content_type="text/plain"
        ).status_code
        == 400
    )
    other_key, _ = note.generate_key(ORIGIN)
    foreign = note.sign(body, note.Signer.from_key(other_key))
    assert (
        client.post(
            "/log/cosignature", _cosigned(foreign, w1.cosign(body, 5)), content_type="text/plain"
        ).status_code
        == 400
    )
    assert LogCosignature.objects.count() == 1
    assert client.get("/log/cosignature").status_code == 405


@pytest.mark.django_db
def test_proofs_carry_the_cosignatures(client, log, settings):
    from tests.api.conftest import EntryFactory, reach
    from transparency.verifier.cli import CheckFailed, verify_answer

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    log_key, (w0, w1) = log
    reach(EntryFactory(handle="heidi"), "sip:heidi@sip.example.org")
    published = services.log_integrate()
    body = open_note(published.note, [log_key]).text
    services.cosignature_add(signed_checkpoint=_cosigned(published.note, w0.cosign(body, 7)))
    answer = client.get("/api/v1/resolve?handle=@heidi&proof=1").json()
    assert w0.name in TlogProof.parse(answer["proof"]).checkpoint
    both = [w0.verifier, w1.verifier]
    verify_answer(answer, log_key, witnesses=both, witnesses_required=1)
    with pytest.raises(CheckFailed) as failed:
        verify_answer(answer, log_key, witnesses=both, witnesses_required=2)
    assert failed.value.check == "witnesses"


def test_a_malformed_witness_key_stops_the_server_from_starting(tmp_path):
    from tests.test_settings import load_settings

    key = WitnessSigner.generate("w.example").verifier.key
    assert load_settings(tmp_path, TRANSPARENCY_WITNESSES=key).returncode == 0
    result = load_settings(tmp_path, TRANSPARENCY_WITNESSES=key[:-4] + "AAAA")
    assert result.returncode != 0
    assert "TRANSPARENCY_WITNESSES" in result.stderr
