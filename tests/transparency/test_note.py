"""Signed notes (c2sp.org/signed-note) against the golang.org/x/mod/sumdb/note examples."""

from __future__ import annotations

import pytest

from transparency.verifier import note
from transparency.verifier.note import (
    InvalidSignatureError,
    NoteError,
    Signature,
    Signer,
    UnverifiedNoteError,
    Verifier,
)

# Values from golang.org/x/mod sumdb/note/note_test.go (TestNewVerifier, TestNewSigner,
# TestSign, TestOpen).
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG_B64 = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
ENOCH_SIG_B64 = (
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
)
PETER_SIG = f"— PeterNeumann {PETER_SIG_B64}\n"
ENOCH_SIG = f"— EnochRoot {ENOCH_SIG_B64}\n"
PETER = Signature("PeterNeumann", 0xC74F20A3, PETER_SIG_B64)
ENOCH = Signature("EnochRoot", 0xAF0CFE78, ENOCH_SIG_B64)


def test_it_reads_the_go_verifier_key():
    verifier = Verifier.from_key(PETER_VKEY)
    assert (verifier.name, verifier.key_id) == ("PeterNeumann", 0xC74F20A3)
    assert verifier.key == PETER_VKEY


def test_it_refuses_every_mangling_of_the_verifier_key():
    # As TestNewVerifier: every proper substring and every one-byte change is refused.
    for i in range(len(PETER_VKEY) + 1):
        for j in range(i + 1, len(PETER_VKEY) + 1):
            if (i, j) != (0, len(PETER_VKEY)):
                with pytest.raises(NoteError):
                    Verifier.from_key(PETER_VKEY[i:j])
    for i in range(len(PETER_VKEY)):
        mangled = PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1 :]
        with pytest.raises(NoteError):
            Verifier.from_key(mangled)
    # Wrong key length and unknown algorithm, each with a key ID adjusted to match.
    with pytest.raises(NoteError):
        Verifier.from_key(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        )
    with pytest.raises(NoteError, match="unknown algorithm"):
        Verifier.from_key("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")


def test_it_reads_the_go_private_key_and_derives_its_verifier():
    signer = Signer.from_key(PETER_SKEY)
    assert signer.verifier == Verifier.from_key(PETER_VKEY)


def test_it_refuses_every_mangling_of_the_private_key():
    for i in range(len(PETER_SKEY) + 1):
        for j in range(i + 1, len(PETER_SKEY) + 1):
            if (i, j) != (0, len(PETER_SKEY)):
                with pytest.raises(NoteError):
                    Signer.from_key(PETER_SKEY[i:j])
    for i in range(len(PETER_SKEY)):
        mangled = PETER_SKEY[:i] + chr(ord(PETER_SKEY[i]) + 1) + PETER_SKEY[i + 1 :]
        with pytest.raises(NoteError):
            Signer.from_key(mangled)


def test_it_signs_exactly_as_go_does():
    # Ed25519 signatures are deterministic, so the note is byte for byte Go's.
    signer = Signer.from_key(PETER_SKEY)
    assert note.sign(TEXT, signer) == TEXT + "\n" + PETER_SIG
    # A signature already there by the same key is replaced by the new one.
    stale = Signature("PeterNeumann", 0xC74F20A3, "BADSIGN=")
    assert note.sign(TEXT, signer, keep=[stale]) == TEXT + "\n" + PETER_SIG
    # Other keys' signatures are kept, before the new one.
    assert note.sign(TEXT, signer, keep=[ENOCH]) == TEXT + "\n" + ENOCH_SIG + PETER_SIG


def test_it_refuses_to_sign_malformed_notes():
    signer = Signer.from_key(PETER_SKEY)
    with pytest.raises(NoteError):
        note.sign("abc", signer)
    with pytest.raises(NoteError):
        note.sign(TEXT, keep=[Signature("a+b", 0, "ABCD")])
    with pytest.raises(NoteError):
        note.sign(TEXT, keep=[Signature("PeterNeumann", 0xC74F20A3, "BADHASH=")])


def test_generated_keys_sign_and_verify():
    skey, vkey = note.generate_key("EnochRoot")
    signer, verifier = Signer.from_key(skey), Verifier.from_key(vkey)
    assert signer.verifier == verifier
    signature = signer.sign(b"hi")
    assert verifier.verify(b"hi", signature)
    assert not verifier.verify(b"hj", signature)
    assert not verifier.verify(b"hi", bytes([signature[0] ^ 1]) + signature[1:])


def test_it_opens_the_go_note_with_one_known_key():
    peter, enoch = Verifier.from_key(PETER_VKEY), Verifier.from_key(ENOCH_VKEY)
    opened = note.open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [peter])
    assert opened.text == TEXT
    assert opened.signatures == [PETER]
    assert opened.unverified == [ENOCH]

    opened = note.open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [peter, enoch])
    assert opened.signatures == [PETER, ENOCH]
    assert opened.unverified == []


def test_a_note_no_known_key_signed_is_unverified():
    with pytest.raises(UnverifiedNoteError) as raised:
        note.open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])
    assert raised.value.note.unverified == [PETER, ENOCH]


def test_a_key_listed_twice_is_ambiguous_only_when_it_signed():
    peter, enoch = Verifier.from_key(PETER_VKEY), Verifier.from_key(ENOCH_VKEY)
    with pytest.raises(NoteError, match="ambiguous key EnochRoot\\+af0cfe78"):
        note.open_note(TEXT + "\n" + ENOCH_SIG, [enoch, peter, enoch])
    note.open_note(TEXT + "\n" + PETER_SIG, [enoch, peter, enoch])


def test_more_than_a_hundred_signatures_are_refused():
    peter = Verifier.from_key(PETER_VKEY)
    for known in ([peter], []):
        with pytest.raises(NoteError, match="malformed note"):
            note.open_note(TEXT + "\n" + PETER_SIG * 101, known)


def test_an_altered_signature_is_invalid():
    peter = Verifier.from_key(PETER_VKEY)
    with pytest.raises(InvalidSignatureError, match="PeterNeumann\\+c74f20a3"):
        note.open_note(TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:], [peter])


def test_an_altered_text_is_invalid():
    peter = Verifier.from_key(PETER_VKEY)
    with pytest.raises(InvalidSignatureError):
        note.open_note(TEXT.replace("answer", "amswer") + "\n" + PETER_SIG, [peter])


def test_repeated_signatures_count_once():
    peter = Verifier.from_key(PETER_VKEY)
    enoch_altered = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    opened = note.open_note(
        TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + enoch_altered, [peter]
    )
    assert opened.signatures == [PETER]
    assert opened.unverified == [
        ENOCH,
        Signature("EnochRoot", 0xAF0CFE78, enoch_altered[len("— EnochRoot ") : -1]),
    ]


@pytest.mark.parametrize(
    "message",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        (b"\xff" + (TEXT + "\n" + PETER_SIG).encode()),
        TEXT + "\n" + f"— Bad Name {PETER_SIG_B64}",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    ],
)
def test_malformed_notes_are_refused(message):
    with pytest.raises(NoteError, match="malformed note"):
        note.open_note(message, [Verifier.from_key(PETER_VKEY)])


def test_a_signature_under_another_name_or_key_id_is_not_the_keys():
    # Go's TestOpen checks that a signature line naming another key is never checked against
    # the known key; here such a line simply stays unverified.
    peter = Verifier.from_key(PETER_VKEY)
    with pytest.raises(UnverifiedNoteError):
        note.open_note(TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "CarmenSandiego"), [peter])
    with pytest.raises(UnverifiedNoteError):
        note.open_note(TEXT + "\n" + PETER_SIG.replace("x08g", "xxxx"), [peter])
