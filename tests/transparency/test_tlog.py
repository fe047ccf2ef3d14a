"""Merkle hashing and proofs (RFC 6962 / RFC 9162 §2.1) against published test vectors."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from transparency.verifier import tlog
from transparency.verifier.tlog import ProofError

# From github.com/transparency-dev/merkle testonly/constants.go (LeafInputs, NodeHashes,
# RootHashes), the RFC 6962 reference values of Certificate Transparency's C++ tests.
LEAF_INPUTS = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
LEAF_HASHES = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
]
LEVEL_1 = [
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
]
LEVEL_2 = [
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# github.com/transparency-dev/merkle testdata/inclusion and testdata/consistency, copied
# unchanged: proofs for trees built from LEAF_INPUTS, each with the answer a verifier must
# give (happy paths, and tampered indexes, sizes, roots and proof nodes that must fail).
VECTORS = json.loads((Path(__file__).parent / "merkle_testdata.json").read_text())


def h(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text)


def b64(text: str | None) -> bytes:
    return base64.b64decode(text) if text else b""


class MemoryLog:
    """Stored hashes in a list, appended as a log appends them."""

    def __init__(self) -> None:
        self.hashes: list[bytes] = []
        self.size = 0

    def read(self, positions):
        return [self.hashes[p] for p in positions]

    def append(self, data: bytes) -> None:
        assert len(self.hashes) == tlog.stored_hash_count(self.size)
        self.hashes += tlog.stored_hashes(self.size, tlog.leaf_hash(data), self.read)
        self.size += 1


def reference_log() -> MemoryLog:
    log = MemoryLog()
    for data in LEAF_INPUTS:
        log.append(h(data))
    return log


def test_it_hashes_leaves_and_nodes_as_rfc_6962_does():
    assert [tlog.leaf_hash(h(d)).hex() for d in LEAF_INPUTS] == LEAF_HASHES
    assert [
        tlog.node_hash(h(LEAF_HASHES[2 * i]), h(LEAF_HASHES[2 * i + 1])).hex() for i in range(4)
    ] == LEVEL_1
    assert [tlog.node_hash(h(LEVEL_1[2 * i]), h(LEVEL_1[2 * i + 1])).hex() for i in range(2)] == (
        LEVEL_2
    )


def test_it_computes_the_root_of_every_tree_size():
    log = reference_log()
    leaves = [h(x) for x in LEAF_HASHES]
    for size, root in enumerate(ROOTS):
        assert tlog.tree_hash_of_leaves(leaves[:size]).hex() == root
        assert tlog.tree_hash(size, log.read).hex() == root


def test_it_stores_each_complete_subtree_where_the_index_says():
    log = reference_log()
    assert len(log.hashes) == tlog.stored_hash_count(8) == 15
    for n, value in enumerate(LEAF_HASHES):
        assert log.hashes[tlog.stored_hash_index(0, n)].hex() == value
    for n, value in enumerate(LEVEL_1):
        assert log.hashes[tlog.stored_hash_index(1, n)].hex() == value
    for n, value in enumerate(LEVEL_2):
        assert log.hashes[tlog.stored_hash_index(2, n)].hex() == value
    assert log.hashes[tlog.stored_hash_index(3, 0)].hex() == ROOTS[8]


def test_the_empty_tree_hashes_to_sha256_of_nothing():
    # golang.org/x/mod sumdb/tlog/tlog_test.go TestEmptyTree.
    assert tlog.tree_hash(0, lambda positions: []) == tlog.EMPTY_ROOT
    assert tlog.EMPTY_ROOT.hex() == ROOTS[0]


def test_it_matches_the_go_checksum_database_tree_of_one_record():
    # golang.org/x/mod sumdb/tlog/note_test.go TestFormatTree: the tree of one record
    # "hello world" has this root hash.
    log = MemoryLog()
    log.append(b"hello world")
    root = tlog.tree_hash(1, log.read)
    assert base64.b64encode(root).decode() == "TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0="


@pytest.mark.parametrize("name", sorted(VECTORS["inclusion"]))
def test_inclusion_vectors(name):
    case = VECTORS["inclusion"][name]
    proof = [b64(p) for p in case["proof"] or []]
    args = (case["leafIdx"], case["treeSize"], b64(case["leafHash"]), proof, b64(case["root"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            tlog.verify_inclusion(*args)
    else:
        tlog.verify_inclusion(*args)


@pytest.mark.parametrize("name", sorted(VECTORS["consistency"]))
def test_consistency_vectors(name):
    case = VECTORS["consistency"][name]
    proof = [b64(p) for p in case["proof"] or []]
    args = (case["size1"], case["size2"], b64(case["root1"]), b64(case["root2"]), proof)
    # One vector accepts equal sizes with equal "don't care" roots that are not hashes at
    # all; this verifier refuses any root that is not 32 bytes before looking further.
    not_hashes = any(len(root) != tlog.HASH_SIZE for root in args[2:4])
    if case["wantErr"] or not_hashes:
        with pytest.raises(ProofError):
            tlog.verify_consistency(*args)
    else:
        tlog.verify_consistency(*args)


def test_it_generates_the_published_proofs():
    log = reference_log()
    checked = 0
    for case in VECTORS["inclusion"].values():
        if case["desc"] == "happy path" and case["treeSize"] <= 8:
            proof = tlog.inclusion_proof(case["leafIdx"], case["treeSize"], log.read)
            assert proof == [b64(p) for p in case["proof"] or []]
            checked += 1
    for case in VECTORS["consistency"].values():
        if case["desc"] == "happy path" and 0 < case["size1"] and case["size2"] <= 8:
            proof = tlog.consistency_proof(case["size1"], case["size2"], log.read)
            assert proof == [b64(p) for p in case["proof"] or []]
            checked += 1
    assert checked >= 8


def test_every_proof_of_a_hundred_leaves_verifies_and_fails_when_altered():
    # The scheme of golang.org/x/mod sumdb/tlog/tlog_test.go TestTree: records "leaf %d".
    log = MemoryLog()
    roots = [tlog.EMPTY_ROOT]
    leaves = []
    for i in range(100):
        data = f"leaf {i}".encode()
        log.append(data)
        leaves.append(tlog.leaf_hash(data))
        roots.append(tlog.tree_hash(log.size, log.read))
        assert roots[-1] == tlog.tree_hash_of_leaves(leaves)
    for size in (1, 2, 3, 7, 8, 9, 31, 32, 33, 63, 64, 65, 99, 100):
        for index in range(size):
            proof = tlog.inclusion_proof(index, size, log.read)
            tlog.verify_inclusion(index, size, leaves[index], proof, roots[size])
            for k in range(len(proof)):
                bad = list(proof)
                bad[k] = bytes([bad[k][0] ^ 1]) + bad[k][1:]
                with pytest.raises(ProofError):
                    tlog.verify_inclusion(index, size, leaves[index], bad, roots[size])
        for old in range(1, size + 1):
            proof = tlog.consistency_proof(old, size, log.read)
            tlog.verify_consistency(old, size, roots[old], roots[size], proof)
            for k in range(len(proof)):
                bad = list(proof)
                bad[k] = bytes([bad[k][0] ^ 1]) + bad[k][1:]
                with pytest.raises(ProofError):
                    tlog.verify_consistency(old, size, roots[old], roots[size], bad)


def test_it_refuses_to_prove_what_is_not_in_the_tree():
    log = reference_log()
    with pytest.raises(ValueError):
        tlog.inclusion_proof(8, 8, log.read)
    with pytest.raises(ValueError):
        tlog.consistency_proof(0, 8, log.read)
    with pytest.raises(ValueError):
        tlog.consistency_proof(5, 4, log.read)


def test_a_rewound_log_fails_consistency():
    log = reference_log()
    proof = tlog.consistency_proof(4, 8, log.read)
    with pytest.raises(ProofError, match="shrank"):
        tlog.verify_consistency(8, 4, h(ROOTS[8]), h(ROOTS[4]), proof)
