"""Checkpoints (c2sp.org/tlog-checkpoint) written, signed, opened and refused."""

from __future__ import annotations

import pytest

from transparency.verifier import note, tlog
from transparency.verifier.checkpoint import (
    Checkpoint,
    CheckpointError,
    open_checkpoint,
    sign_checkpoint,
)
from transparency.verifier.note import InvalidSignatureError, Signer, UnverifiedNoteError, Verifier

# From golang.org/x/mod sumdb/tlog/note_test.go (TestFormatTree, TestParseTree): the tree
# of one record "hello world", 123456789012 leaves claimed, as the Go checksum database
# writes it (its origin line is "go.sum database tree").
GO_TREE = "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"


def test_it_writes_the_go_checksum_database_tree():
    checkpoint = Checkpoint("go.sum database tree", 123456789012, tlog.leaf_hash(b"hello world"))
    assert checkpoint.text() == GO_TREE
    assert Checkpoint.parse(GO_TREE) == checkpoint


def test_it_keeps_extension_lines():
    text = GO_TREE + "time 1700000000\nanother line\n"
    checkpoint = Checkpoint.parse(text)
    assert checkpoint.extensions == ("time 1700000000", "another line")
    assert checkpoint.text() == text


@pytest.mark.parametrize(
    "text",
    [
        "not-" + GO_TREE[:-1],  # no final newline
        "go.sum database tree\n0xabcdef\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
        "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n",
        "go.sum database tree\n0123\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
        "go.sum database tree\n-1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
        "\n1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
        "go.sum database tree\n1\n",
        GO_TREE + "\n",  # an empty extension line
        "go.sum database tree\n1\nAAAA\n",  # not a 32-byte hash
    ],
)
def test_it_refuses_malformed_checkpoints(text):
    with pytest.raises(CheckpointError):
        Checkpoint.parse(text)


@pytest.fixture
def log_key():
    skey, vkey = note.generate_key("example.com/log")
    return Signer.from_key(skey), Verifier.from_key(vkey)


def test_a_signed_checkpoint_opens_with_the_logs_key(log_key):
    signer, verifier = log_key
    checkpoint = Checkpoint("example.com/log", 8, tlog.EMPTY_ROOT)
    signed = sign_checkpoint(checkpoint, signer)
    assert signed.startswith(checkpoint.text() + "\n— example.com/log ")
    opened, _ = open_checkpoint(signed, verifier)
    assert opened == checkpoint


def test_a_checkpoint_resigned_with_another_key_is_refused(log_key):
    _, verifier = log_key
    other_skey, _ = note.generate_key("example.com/log")
    signed = sign_checkpoint(
        Checkpoint("example.com/log", 8, tlog.EMPTY_ROOT), Signer.from_key(other_skey)
    )
    with pytest.raises(UnverifiedNoteError):
        open_checkpoint(signed, verifier)


def test_an_altered_checkpoint_is_refused(log_key):
    signer, verifier = log_key
    signed = sign_checkpoint(Checkpoint("example.com/log", 8, tlog.EMPTY_ROOT), signer)
    with pytest.raises(InvalidSignatureError):
        open_checkpoint(signed.replace("\n8\n", "\n9\n"), verifier)


def test_a_checkpoint_of_another_origin_is_refused(log_key):
    signer, verifier = log_key
    signed = sign_checkpoint(Checkpoint("example.org/other", 8, tlog.EMPTY_ROOT), signer)
    with pytest.raises(CheckpointError, match="origin"):
        open_checkpoint(signed, verifier)


def test_witness_cosignatures_are_kept_when_the_log_signs_again(log_key):
    signer, verifier = log_key
    witness_skey, witness_vkey = note.generate_key("witness.example")
    witness = Signer.from_key(witness_skey)
    checkpoint = Checkpoint("example.com/log", 8, tlog.EMPTY_ROOT)
    cosigned = note.sign(checkpoint.text(), witness)
    witnessed = note.open_note(cosigned, [witness.verifier]).signatures
    signed = sign_checkpoint(checkpoint, signer, keep=witnessed)
    _, opened = open_checkpoint(signed, verifier, others=[Verifier.from_key(witness_vkey)])
    assert [s.name for s in opened.signatures] == ["witness.example", "example.com/log"]


def test_a_log_may_name_its_key_apart_from_its_origin():
    skey, vkey = note.generate_key("signing-key-1")
    checkpoint = Checkpoint("example.com/log", 1, tlog.leaf_hash(b"x"))
    signed = sign_checkpoint(checkpoint, Signer.from_key(skey))
    with pytest.raises(CheckpointError, match="origin"):
        open_checkpoint(signed, Verifier.from_key(vkey))
    opened, _ = open_checkpoint(signed, Verifier.from_key(vkey), origin="example.com/log")
    assert opened == checkpoint
