"""Writes to the transparency log: appending leaves and integrating them into the tree."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from directory.answers import invalidate_on_commit
from transparency.keys import log_signer
from transparency.models import LogCheckpoint, LogCosignature, LogHash, LogLeaf, LogTree
from transparency.selectors import forget_proof_checkpoint, log_dep
from transparency.verifier import tlog
from transparency.verifier.checkpoint import (
    Checkpoint,
    CheckpointError,
    open_checkpoint,
    sign_checkpoint,
)
from transparency.verifier.cosignature import CosignatureError, WitnessVerifier
from transparency.verifier.note import NoteError


def leaf_append(*, data: bytes) -> LogLeaf:
    """Queue one entry for the log; it gets its index when :func:`log_integrate` runs.

    Returns the pending LogLeaf (``index`` None). Raises ValueError for empty data.
    """
    if not data:
        raise ValueError("a log entry holds at least one byte")
    return LogLeaf.objects.create(data=bytes(data))


class _HashCache:
    """Stored hashes read from the database, and those of the integration in progress."""

    def __init__(self) -> None:
        self.known: dict[int, bytes] = {}
        self.new: dict[int, bytes] = {}

    def read(self, positions: Sequence[int]) -> list[bytes]:
        missing = [p for p in positions if p not in self.known]
        if missing:
            rows = LogHash.objects.filter(position__in=missing).values_list("position", "hash")
            self.known.update((position, bytes(value)) for position, value in rows)
        try:
            return [self.known[p] for p in positions]
        except KeyError as exc:
            raise LookupError(f"stored hash {exc.args[0]} is missing") from None

    def add(self, start: int, hashes: list[bytes]) -> None:
        for offset, value in enumerate(hashes):
            self.known[start + offset] = value
            self.new[start + offset] = value


def _assign_indexes(leaves: Sequence[LogLeaf], start: int, now) -> None:
    """Store the indexes given to ``leaves`` (ordered by id, numbered from ``start``).

    One UPDATE per run of consecutive ids, ``index = id + offset``: usually one statement
    for the whole batch (``bulk_update`` builds a CASE per row, far slower for thousands).
    """
    run_start = 0
    for i in range(1, len(leaves) + 1):
        if i == len(leaves) or leaves[i].pk != leaves[i - 1].pk + 1:
            first, last = leaves[run_start].pk, leaves[i - 1].pk
            LogLeaf.objects.filter(pk__gte=first, pk__lte=last).update(
                index=F("id") + (start + run_start - first), integrated_at=now
            )
            run_start = i


def log_integrate(*, batch_size: int | None = None) -> LogCheckpoint | None:
    """Integrate pending leaves into the tree, oldest first, and sign a new checkpoint.

    Takes at most ``batch_size`` leaves (default TRANSPARENCY_BATCH_SIZE). Everything happens
    in one transaction holding the lock on the LogTree row, so integrations never interleave:
    leaves get consecutive indexes from the current size (no gap, no duplicate; ``index`` is
    also unique in the database), the size only grows, and a crash rolls it all back.
    Returns the new checkpoint, or None when nothing was pending. Raises
    ImproperlyConfigured when no signing key is set (nothing is changed then).
    Standards: RFC 9162 §2.1 (tree), c2sp.org/tlog-checkpoint and c2sp.org/signed-note.
    """
    signer = log_signer()
    if signer is None:
        raise ImproperlyConfigured("TRANSPARENCY_SIGNING_KEY is not set")
    limit = batch_size or settings.TRANSPARENCY_BATCH_SIZE
    LogTree.objects.get_or_create(id=1)
    with transaction.atomic():
        tree = LogTree.objects.select_for_update().get(id=1)
        pending = list(LogLeaf.objects.filter(index__isnull=True).order_by("id")[:limit])
        if not pending:
            return None
        cache = _HashCache()
        size = tree.size
        now = timezone.now()
        for leaf in pending:
            hashes = tlog.stored_hashes(size, tlog.leaf_hash(bytes(leaf.data)), cache.read)
            cache.add(tlog.stored_hash_count(size), hashes)
            leaf.index, leaf.integrated_at = size, now
            size += 1
        LogHash.objects.bulk_create(
            [LogHash(position=p, hash=value) for p, value in sorted(cache.new.items())]
        )
        _assign_indexes(pending, tree.size, now)
        root = tlog.tree_hash(size, cache.read)
        tree.size, tree.root_hash = size, root
        tree.save(update_fields=["size", "root_hash", "updated_at"])
        note = sign_checkpoint(Checkpoint(signer.name, size, root), signer)
        published = LogCheckpoint.objects.create(size=size, root_hash=root, note=note)
        # The integrated handles' latest records now have indexes: proofs read them again.
        invalidate_on_commit(log_dep(leaf.handle) for leaf in pending if leaf.handle)
    forget_proof_checkpoint()
    return published


class CosignatureRefused(ValueError):
    """A submitted cosignature cannot be stored; the message says why."""


def cosignature_add(*, signed_checkpoint: str) -> list[LogCosignature]:
    """Store the cosignatures of configured witnesses found on a published checkpoint.

    Input: a checkpoint this log published, as a witness returns it: signed by the log,
    with the witness's cosignature lines (c2sp.org/tlog-cosignature, Ed25519
    cosignature/v1) appended. Lines by witnesses not in TRANSPARENCY_WITNESSES are ignored.
    Output: the cosignatures stored (a witness that signs the same checkpoint again
    replaces its line). Raises CosignatureRefused when the note is malformed or not signed
    by the log, names no checkpoint the log published, carries no cosignature by a
    configured witness, or one of those does not verify.
    """
    signer = log_signer()
    if signer is None:
        raise ImproperlyConfigured("TRANSPARENCY_SIGNING_KEY is not set")
    try:
        checkpoint, note = open_checkpoint(signed_checkpoint, signer.verifier)
    except (NoteError, CheckpointError) as exc:
        raise CosignatureRefused(f"not a checkpoint signed by this log: {exc}") from None
    published = LogCheckpoint.objects.filter(size=checkpoint.size).first()
    if published is None or bytes(published.root_hash) != checkpoint.root_hash:
        raise CosignatureRefused("this log published no such checkpoint")
    witnesses = [WitnessVerifier.from_key(k) for k in settings.TRANSPARENCY_WITNESSES]
    stored = []
    with transaction.atomic():
        for witness in witnesses:
            for sig in note.unverified:
                if not witness.matches(sig):
                    continue
                try:
                    timestamp = witness.verify(note.text, sig)
                except CosignatureError as exc:
                    raise CosignatureRefused(str(exc)) from None
                row, _ = LogCosignature.objects.update_or_create(
                    checkpoint=published,
                    name=witness.name,
                    key_id=witness.key_id,
                    defaults={"timestamp": timestamp, "line": sig.line},
                )
                stored.append(row)
                break
    if not stored:
        raise CosignatureRefused("no cosignature by a witness this log knows")
    forget_proof_checkpoint()
    return stored
