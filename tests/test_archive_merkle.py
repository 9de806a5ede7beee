"""RFC 6962 Merkle tree: hashes by hand, proofs generated and verified for every size pair."""

from __future__ import annotations

import hashlib

from archive.merkle import (
    EMPTY_ROOT,
    Tree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(f"event-{i}".encode()) for i in range(n)]


def test_prefixes_and_small_roots_by_hand() -> None:
    assert leaf_hash(b"a") == hashlib.sha256(b"\x00a").digest()
    assert node_hash(b"L", b"R") == hashlib.sha256(b"\x01LR").digest()
    assert root_hash([]) == hashlib.sha256(b"").digest() == EMPTY_ROOT
    a, b, c = _leaves(3)
    assert root_hash([a]) == a
    # RFC 6962: the 3-leaf tree splits at k=2 → H(1|H(1|a|b)|c)
    assert root_hash([a, b, c]) == hashlib.sha256(b"\x01" + hashlib.sha256(b"\x01" + a + b).digest() + c).digest()


def test_rfc6962_known_vector() -> None:
    # Certificate Transparency's reference test vector: root of the 8 leaves used in the Go/C++ tests.
    inputs = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
    leaves = [leaf_hash(bytes.fromhex(x)) for x in inputs]
    assert root_hash(leaves).hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    assert root_hash(leaves[:1]).hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"


def test_inclusion_proofs_all_sizes() -> None:
    for n in range(1, 34):
        leaves = _leaves(n)
        root = root_hash(leaves)
        for i in range(n):
            proof = inclusion_proof(i, leaves)
            assert verify_inclusion(i, n, leaves[i], proof, root)
            assert not verify_inclusion(i, n, leaf_hash(b"forged"), proof, root)


def test_consistency_proofs_all_size_pairs() -> None:
    leaves = _leaves(40)
    for n in range(1, 41):
        new_root = root_hash(leaves[:n])
        for m in range(0, n + 1):
            old_root = root_hash(leaves[:m])
            proof = consistency_proof(m, leaves[:n])
            assert verify_consistency(m, n, old_root, new_root, proof), (m, n)
            if 0 < m < n:
                rewritten = list(leaves[:n])
                rewritten[m - 1] = leaf_hash(b"rewritten")
                forged_root = root_hash(rewritten)
                assert not verify_consistency(m, n, old_root, forged_root,
                                              consistency_proof(m, rewritten)), (m, n)


def test_memoised_tree_gives_the_same_roots_and_proofs() -> None:
    leaves = _leaves(37)
    tree = Tree(leaves)
    for n in range(0, 38):
        assert tree.root(0, n) == root_hash(leaves[:n])
        for m in range(0, n + 1):
            assert tree.consistency(m, n) == consistency_proof(m, leaves[:n])
