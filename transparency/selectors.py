"""Reads of the transparency log: the latest checkpoint and proofs from stored hashes."""

from __future__ import annotations

from collections.abc import Sequence

from transparency.keys import log_signer
from transparency.models import LogCheckpoint, LogHash
from transparency.verifier import tlog
from transparency.verifier.checkpoint import Checkpoint, sign_checkpoint


def read_hashes(positions: Sequence[int]) -> list[bytes]:
    """Stored hashes at ``positions``, in order. Raises LookupError when one is missing."""
    rows = dict(
        LogHash.objects.filter(position__in=list(positions)).values_list("position", "hash")
    )
    try:
        return [bytes(rows[p]) for p in positions]
    except KeyError as exc:
        raise LookupError(f"stored hash {exc.args[0]} is missing") from None


def latest_checkpoint_note() -> str | None:
    """The newest signed checkpoint, or None when no signing key is set.

    Before the first leaf is integrated this is the checkpoint of the empty tree, signed on
    the spot (Ed25519 is deterministic, so every answer is the same bytes).
    """
    latest = LogCheckpoint.objects.order_by("-size").first()
    if latest is not None:
        return latest.note
    signer = log_signer()
    if signer is None:
        return None
    return sign_checkpoint(Checkpoint(signer.name, 0, tlog.EMPTY_ROOT), signer)


def inclusion_proof(index: int, size: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 audit path of leaf ``index`` in the tree of ``size`` leaves."""
    return tlog.inclusion_proof(index, size, read_hashes)


def consistency_proof(old_size: int, new_size: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1 consistency proof between two tree sizes."""
    return tlog.consistency_proof(old_size, new_size, read_hashes)
