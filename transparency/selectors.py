"""Reads of the transparency log: the latest checkpoint and proofs from stored hashes."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable, Mapping, Sequence

from directory.cache import with_local_fallback
from transparency.keys import log_signer
from transparency.models import LogCheckpoint, LogHash, LogLeaf, LogTree
from transparency.verifier import tlog
from transparency.verifier.binding import ENDPOINT_DOMAIN, endpoint_encoding, item_salt
from transparency.verifier.checkpoint import Checkpoint, sign_checkpoint
from transparency.verifier.proof import format_proof

#: Hashes in a full tile (c2sp.org/tlog-tiles).
TILE_WIDTH = 256
TILE_HEIGHT = 8


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
        return checkpoint_with_cosignatures(latest)
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


def checkpoint_with_cosignatures(checkpoint: LogCheckpoint) -> str:
    """The signed checkpoint followed by the witnesses' cosignature lines, oldest first."""
    lines = checkpoint.cosignatures.order_by("id").values_list("line", flat=True)
    return checkpoint.note + "".join(lines)


def tree_size() -> int:
    """The number of leaves integrated into the tree."""
    return LogTree.objects.filter(id=1).values_list("size", flat=True).first() or 0


#: The latest checkpoint a proof was built under: (log key, when read, size, signed note).
#: Proofs reuse it for up to PROOF_CHECKPOINT_SECONDS, saving two queries per proof; a
#: leaf it does not cover yet, another log key, or a checkpoint published or cosigned in
#: this process (:func:`forget_proof_checkpoint`) makes it read again.
_proof_checkpoint: tuple[str, float, int, str] | None = None
PROOF_CHECKPOINT_SECONDS = 1.0


def forget_proof_checkpoint() -> None:
    """Drop the checkpoint kept for proofs (a newer one, or a cosignature, was stored)."""
    global _proof_checkpoint
    _proof_checkpoint = None


def proof_checkpoint(covering: int) -> tuple[int, str] | None:
    """The size and signed note (with cosignatures) of a recent checkpoint whose tree holds
    leaf ``covering``: the latest, or one read less than a second ago. None when no
    published checkpoint holds it."""
    global _proof_checkpoint
    signer = log_signer()
    key = signer.verifier.key if signer is not None else ""
    cached = _proof_checkpoint
    if (
        cached is not None
        and cached[0] == key
        and cached[2] > covering
        and time.monotonic() - cached[1] < PROOF_CHECKPOINT_SECONDS
    ):
        return cached[2], cached[3]
    checkpoint = LogCheckpoint.objects.order_by("-size").first()
    if checkpoint is None or checkpoint.size <= covering:
        return None
    note = checkpoint_with_cosignatures(checkpoint)
    _proof_checkpoint = (key, time.monotonic(), checkpoint.size, note)
    return checkpoint.size, note


def answer_proof(answer: Mapping) -> dict:
    """What a caller needs to check a resolve or entry answer against the log.

    Input: the answer (``entry.handle``, ``endpoints`` as the API serializes them).
    Output: ``{"proof", "leaf", "endpoint_salts"}``: the c2sp.org/tlog-proof@v1 text of
    the handle's latest binding record under the latest checkpoint (with cosignatures),
    the record itself (the log entry, UTF-8 text) and, for each endpoint of the answer in
    its order, the base64 salt that opens its commitment. All three are null when the
    log has no signing key, no record of the handle, or its latest record is not yet
    integrated (the answer may then be newer than anything the log has published).
    """
    none = {"proof": None, "leaf": None, "endpoint_salts": None}
    if log_signer() is None:
        return none
    handle = str(answer["entry"]["handle"]).removeprefix("@").casefold()
    latest = latest_leaf(handle)
    if latest is None:
        return none
    index, data, secret = latest
    found = proof_checkpoint(index)
    if found is None:
        return none
    size, note = found
    path = cached_inclusion_proof(index, size)
    salts = [
        base64.b64encode(item_salt(secret, ENDPOINT_DOMAIN, endpoint_encoding(e))).decode()
        for e in answer["endpoints"]
    ]
    return {
        "proof": format_proof(index, path, note),
        "leaf": data.decode(),
        "endpoint_salts": salts,
    }


def log_dep(handle: str) -> str:
    """The answer cache's dependency (:mod:`directory.answers`) on the log's records of the
    directory handle ``handle``: replaced when a record of it is appended or integrated."""
    return f"l:{handle}"


def latest_leaf(handle: str) -> tuple[int, bytes, bytes] | None:
    """``(index, record, secret)`` of the latest binding record of ``handle`` (case-folded),
    or ``None`` when it has none or its latest is not integrated yet. Kept in the answer
    cache under :func:`log_dep`, so a proof costs no query while the handle's records and
    the tree stand still."""
    from directory import answers

    def compute():
        leaf = (
            LogLeaf.objects.filter(handle=handle)
            .order_by("-seq")
            .values_list("index", "data", "secret")
            .first()
        )
        if leaf is None or leaf[0] is None:
            return None
        return leaf[0], bytes(leaf[1]), bytes(leaf[2])

    [value] = answers.cached_many([(f"leaf:{answers.digest(handle)}", [log_dep(handle)], compute)])
    return value


@with_local_fallback
def cached_inclusion_proof(index: int, size: int) -> list[bytes]:
    """:func:`inclusion_proof`, kept in the shared cache: the audit path of a leaf in a tree
    of a given size never changes, so while Redis is down it is kept per process instead
    (:func:`directory.cache.with_local_fallback`, the outage logged once)."""
    from django.core.cache import cache

    key = f"transparency:path:{index}:{size}"
    path = cache.get(key)
    if path is None:
        path = inclusion_proof(index, size)
        cache.set(key, path, timeout=PATH_CACHE_SECONDS)
    return path


#: How long an audit path is kept in the cache: trees grow, old sizes stop being asked for.
PATH_CACHE_SECONDS = 3600


def tile(level: int, index: int, width: int) -> bytes:
    """The Merkle tile (c2sp.org/tlog-tiles) at ``level``/``index`` of ``width`` hashes.

    Hash ``i`` is the tree hash of leaves ``[(index·256 + i)·256^level, …+256^level)``:
    the stored hash of node (8·level, index·256 + i). Raises LookupError when the tree is
    not big enough for the tile (so it cannot be served).
    """
    first = index * TILE_WIDTH
    if (first + width) << (TILE_HEIGHT * level) > tree_size():
        raise LookupError("the tree has no such tile yet")
    positions = [tlog.stored_hash_index(TILE_HEIGHT * level, first + i) for i in range(width)]
    return b"".join(read_hashes(positions))


def entry_bundle(index: int, width: int) -> bytes:
    """The entry bundle (c2sp.org/tlog-tiles) of leaves ``[index·256, index·256 + width)``:
    each entry prefixed by its length, a big-endian uint16. Raises LookupError when the
    tree does not hold them all."""
    first = index * TILE_WIDTH
    if first + width > tree_size():
        raise LookupError("the tree has no such entry bundle yet")
    rows = list(
        LogLeaf.objects.filter(index__gte=first, index__lt=first + width)
        .order_by("index")
        .values_list("data", flat=True)
    )
    if len(rows) != width:
        raise LookupError("an entry of the bundle is missing")
    return b"".join(len(data).to_bytes(2, "big") + bytes(data) for data in rows)


def leaf_records(handles: Iterable[str]) -> list[LogLeaf]:
    """The binding records of directory ``handles`` (case-folded), newest first."""
    return list(LogLeaf.objects.filter(handle__in=list(handles)).order_by("-id"))


def owner_log(entry) -> list[dict]:
    """The log records of ``entry``'s directory handle as its owner reads them, newest first.

    Input: an entry (``endpoints`` prefetched or not). Output: one dict per record:
    ``seq``, ``index`` (None while pending), ``time`` (the record's, RFC 3339) and
    ``time_shown`` (the same for reading), ``answers``,
    ``handles`` (the verified handles it lists), ``endpoints`` (how many it commits to),
    ``current`` (the entry's endpoints it commits to now, opened with the record's kept
    secret), ``unknown`` (how many of its commitments no current endpoint opens: an
    earlier state, or a change to look at) and ``alert`` (True when the change was not
    made from the owner's account and nothing accounts for it,
    :mod:`transparency.alerts`). Raises nothing.
    """
    from directory.api.serializers import EndpointSerializer
    from transparency.verifier.binding import BindingRecord, commitment

    encodings = [
        (endpoint, endpoint_encoding(EndpointSerializer(endpoint).data))
        for endpoint in entry.endpoints.all()
    ]
    rows = []
    alerted = set(
        LogLeaf.objects.filter(handle=entry.handle_canonical, alert__isnull=False).values_list(
            "pk", flat=True
        )
    )
    for leaf in leaf_records([entry.handle_canonical]):
        record = BindingRecord.parse(bytes(leaf.data))
        secret = bytes(leaf.secret)
        opened = {
            commitment(ENDPOINT_DOMAIN, item_salt(secret, ENDPOINT_DOMAIN, enc), enc): endpoint
            for endpoint, enc in encodings
        }
        current = [opened[c] for c in record.endpoints if c in opened]
        rows.append(
            {
                "seq": record.seq,
                "index": leaf.index,
                "time": record.time,
                # "2026-12-04T17:18:57Z" shown as "2026-12-04 17:18:57" (the column says UTC).
                "time_shown": record.time.replace("T", " ").removesuffix("Z"),
                "answers": record.answers,
                "handles": list(record.handles),
                "endpoints": len(record.endpoints),
                "current": current,
                "unknown": len(record.endpoints) - len(current),
                "alert": leaf.pk in alerted,
            }
        )
    return rows
