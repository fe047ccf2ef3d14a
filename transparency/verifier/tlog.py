"""Merkle tree hashing and proofs of RFC 6962 / RFC 9162 §2.1, standard library only.

Leaf hash ``SHA-256(0x00 ‖ data)``, node hash ``SHA-256(0x01 ‖ left ‖ right)``, the tree
hash of n leaves (MTH, RFC 9162 §2.1.1), inclusion proofs (§2.1.3) and consistency proofs
(§2.1.4): generated from the hashes a log has stored and verified with the RFC's own
algorithms (§2.1.3.2, §2.1.4.2).

Stored hashes are addressed as in ``golang.org/x/mod/sumdb/tlog``: the hash of the complete
subtree at height ``level`` whose leftmost leaf is ``n << level`` is "node (level, n)", and
it is kept at the position :func:`stored_hash_index` gives. A log appends, for each new leaf,
exactly the hashes :func:`stored_hashes` returns, so the position of every hash is known in
advance and nothing stored ever changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32

#: The hash of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()

#: Reads stored hashes: given stored-hash positions, returns the hashes in the same order.
HashReader = Callable[[Sequence[int]], Sequence[bytes]]


class ProofError(ValueError):
    """A proof or its inputs do not check out; the message says which check failed."""


def leaf_hash(data: bytes) -> bytes:
    """Hash one log entry: SHA-256(0x00 ‖ data) (RFC 9162 §2.1.1). Returns 32 bytes."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two child hashes: SHA-256(0x01 ‖ left ‖ right) (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1): RFC 9162's k."""
    return 1 << ((n - 1).bit_length() - 1)


def tree_hash_of_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes, by the RFC 9162 §2.1.1 recursion.

    For tests and small trees; a log computes its root with :func:`tree_hash`.
    """
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return node_hash(tree_hash_of_leaves(leaf_hashes[:k]), tree_hash_of_leaves(leaf_hashes[k:]))


# --- Stored hashes --------------------------------------------------------------------------


def stored_hash_index(level: int, n: int) -> int:
    """Position of node (level, n) among a log's stored hashes.

    The hashes are stored in the order they become known while leaves are appended: leaf n's
    hash, then every complete subtree it finishes, lowest first (the layout of
    golang.org/x/mod/sumdb/tlog ``StoredHashIndex``).
    """
    if level < 0 or n < 0:
        raise ValueError("level and n must not be negative")
    # The last leaf of node (level, n) is leaf ((n + 1) << level) - 1; the node is stored
    # `level` places after that leaf's hash.
    n = ((n + 1) << level) - 1
    i = 0
    while n > 0:
        i += n
        n >>= 1
    return i + level


def stored_hash_count(tree_size: int) -> int:
    """How many hashes a log of ``tree_size`` leaves has stored."""
    if tree_size == 0:
        return 0
    count = stored_hash_index(0, tree_size - 1) + 1
    i = tree_size - 1
    while i & 1:
        count += 1
        i >>= 1
    return count


def stored_hashes(index: int, leaf: bytes, read_hashes: HashReader) -> list[bytes]:
    """The hashes to store when the leaf hash ``leaf`` is appended at ``index``.

    ``read_hashes`` returns already stored hashes by position. Returns the leaf hash followed
    by the hash of each complete subtree this leaf finishes, lowest first; they go at
    positions ``stored_hash_count(index)`` onwards.
    """
    hashes = [leaf]
    finished = ((index + 1) & -(index + 1)).bit_length() - 1  # trailing one bits of index
    positions = [stored_hash_index(level, (index >> level) - 1) for level in range(finished)]
    siblings = _read(read_hashes, positions)
    h = leaf
    for sibling in siblings:
        h = node_hash(sibling, h)
        hashes.append(h)
    return hashes


def _read(read_hashes: HashReader, positions: list[int]) -> list[bytes]:
    if not positions:
        return []
    hashes = list(read_hashes(positions))
    if len(hashes) != len(positions) or any(len(h) != HASH_SIZE for h in hashes):
        raise ValueError(f"read_hashes returned {len(hashes)} hashes for {len(positions)}")
    return hashes


class _Plan:
    """Collects the stored hashes an answer needs, then computes it from them in one read."""

    def __init__(self) -> None:
        self.positions: list[int] = []

    def subtree(self, lo: int, hi: int) -> list[int]:
        """Positions of the complete subtrees covering leaves [lo, hi), largest first."""
        start = len(self.positions)
        while lo < hi:
            size = 1 << ((hi - lo).bit_length() - 1)
            if lo % size:
                raise AssertionError("a Merkle subtree must start at a multiple of its size")
            level = size.bit_length() - 1
            self.positions.append(stored_hash_index(level, lo >> level))
            lo += size
        return list(range(start, len(self.positions)))


def _subtree_hash(slots: list[int], hashes: list[bytes]) -> bytes:
    h = hashes[slots[-1]]
    for slot in reversed(slots[:-1]):
        h = node_hash(hashes[slot], h)
    return h


def tree_hash(tree_size: int, read_hashes: HashReader) -> bytes:
    """MTH(D[0:tree_size]) (RFC 9162 §2.1.1) from a log's stored hashes."""
    if tree_size < 0:
        raise ValueError("tree size must not be negative")
    if tree_size == 0:
        return EMPTY_ROOT
    plan = _Plan()
    slots = plan.subtree(0, tree_size)
    return _subtree_hash(slots, _read(read_hashes, plan.positions))


def inclusion_proof(index: int, tree_size: int, read_hashes: HashReader) -> list[bytes]:
    """PATH(index, D[0:tree_size]) of RFC 9162 §2.1.3.1 from a log's stored hashes.

    Returns the audit path, nearest the leaf first. Raises ValueError unless
    0 <= index < tree_size.
    """
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf {index} is not in a tree of {tree_size} leaves")
    plan = _Plan()
    steps: list[list[int]] = []

    def path(m: int, lo: int, hi: int) -> None:
        if hi - lo == 1:
            return
        k = _split(hi - lo)
        if m < k:
            path(m, lo, lo + k)
            steps.append(plan.subtree(lo + k, hi))
        else:
            path(m - k, lo + k, hi)
            steps.append(plan.subtree(lo, lo + k))

    path(index, 0, tree_size)
    hashes = _read(read_hashes, plan.positions)
    return [_subtree_hash(slots, hashes) for slots in steps]


def consistency_proof(old_size: int, new_size: int, read_hashes: HashReader) -> list[bytes]:
    """PROOF(old_size, D[0:new_size]) of RFC 9162 §2.1.4.1 from a log's stored hashes.

    Returns the proof nodes in the RFC's order. Raises ValueError unless
    0 < old_size <= new_size (a proof from the empty tree proves nothing, and one between
    equal sizes is empty).
    """
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} leaves to {new_size}")
    plan = _Plan()
    steps: list[list[int]] = []

    def subproof(m: int, lo: int, hi: int, complete: bool) -> None:
        n = hi - lo
        if m == n:
            if not complete:
                steps.append(plan.subtree(lo, hi))
            return
        k = _split(n)
        if m <= k:
            subproof(m, lo, lo + k, complete)
            steps.append(plan.subtree(lo + k, hi))
        else:
            subproof(m - k, lo + k, hi, False)
            steps.append(plan.subtree(lo, lo + k))

    subproof(old_size, 0, new_size, True)
    hashes = _read(read_hashes, plan.positions)
    return [_subtree_hash(slots, hashes) for slots in steps]


# --- Verification ---------------------------------------------------------------------------


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise ProofError(f"{what} is not a {HASH_SIZE}-byte hash")


def root_from_inclusion_proof(
    index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes]
) -> bytes:
    """The root an inclusion proof leads to, by RFC 9162 §2.1.3.2 steps 1–6.

    Raises ProofError when the index is outside the tree or the proof has the wrong length.
    """
    if not 0 <= index < tree_size:
        raise ProofError(f"leaf index {index} is not below the tree size {tree_size}")
    _check_hash(leaf, "the leaf hash")
    for node in proof:
        _check_hash(node, "a proof node")
    fn, sn = index, tree_size - 1
    r = bytes(leaf)
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    return r


def verify_inclusion(
    index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` (a leaf hash) is entry ``index`` of the tree with ``root``.

    RFC 9162 §2.1.3.2. Returns None; raises ProofError naming the failed check.
    """
    _check_hash(root, "the root hash")
    if root_from_inclusion_proof(index, tree_size, leaf, proof) != root:
        raise ProofError("the inclusion proof does not lead to the root hash")


def verify_consistency(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
) -> None:
    """Check that the tree (old_size, old_root) is a prefix of (new_size, new_root).

    RFC 9162 §2.1.4.2. Equal sizes need an empty proof and equal roots; a proof from the
    empty tree is refused, since every tree extends it and such a proof proves nothing.
    Returns None; raises ProofError naming the failed check.
    """
    _check_hash(old_root, "the old root hash")
    _check_hash(new_root, "the new root hash")
    for node in proof:
        _check_hash(node, "a proof node")
    if old_size < 0 or new_size < old_size:
        raise ProofError(f"the tree shrank from {old_size} leaves to {new_size}")
    if old_size == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if old_size == new_size:
        if proof:
            raise ProofError("equal tree sizes need an empty consistency proof")
        if old_root != new_root:
            raise ProofError("equal tree sizes have different root hashes")
        return
    # Step 1.
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    # Step 2: a perfect old tree is its own first node.
    if old_size & (old_size - 1) == 0:
        path.insert(0, bytes(old_root))
    # Steps 3–4.
    fn, sn = old_size - 1, new_size - 1
    if fn & 1:
        while fn & 1:
            fn >>= 1
            sn >>= 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # Step 7.
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if fr != old_root:
        raise ProofError("the consistency proof does not lead to the old root hash")
    if sr != new_root:
        raise ProofError("the consistency proof does not lead to the new root hash")
