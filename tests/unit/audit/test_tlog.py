"""The Merkle tree (RFC 9162), signed notes and cosignatures (C2SP), as docs/audit.md specifies them (pure)."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.audit.checkpoint import NoteSigner, verifier_key
from shared.audit.standalone import (
    ALG_COSIGNATURE_V1,
    Signature,
    TreeHead,
    VerifierKey,
    checkpoint_text,
    cosigned_message,
    key_hash,
    leaf_hash,
    open_checkpoint,
    root_of,
    split_note,
    verify_consistency,
    verify_cosignature,
    verify_inclusion,
)
from shared.audit.tlog import MerkleTree

# github.com/transparency-dev/merkle testonly: LeafInputs and RootHashes (the Go judge checks the rest).
LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
ROOTS = {3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
         7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
         8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"}


def test_leaves_and_nodes_are_hashed_with_distinct_prefixes() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    tree = MerkleTree([leaf_hash(b"a"), leaf_hash(b"b")])
    assert tree.root() == hashlib.sha256(b"\x01" + leaf_hash(b"a") + leaf_hash(b"b")).digest()
    assert MerkleTree().root() == hashlib.sha256(b"").digest()


def test_roots_match_the_reference_vectors() -> None:
    tree = MerkleTree(leaf_hash(bytes.fromhex(x)) for x in LEAVES)
    assert {size: tree.root(size).hex() for size in ROOTS} == ROOTS


def test_every_inclusion_and_consistency_proof_verifies_and_a_wrong_one_does_not() -> None:
    leaves = [leaf_hash(bytes([n])) for n in range(21)]
    tree = MerkleTree()
    for n, leaf in enumerate(leaves, 1):
        tree.extend([leaf])
        assert tree.root() == root_of(leaves[:n])
    for size in range(1, 22):
        root = tree.root(size)
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert verify_inclusion(index, size, leaves[index], proof, root)
            assert not verify_inclusion(index, size, leaf_hash(b"other"), proof, root)
        for first in range(1, size + 1):
            proof = tree.consistency_proof(first, size)
            assert verify_consistency(first, size, tree.root(first), root, proof)
            if first < size:
                assert not verify_consistency(first, size, leaf_hash(b"forked"), root, proof)


def test_a_forked_history_has_no_consistency_proof_from_the_head_a_witness_saw() -> None:
    honest = MerkleTree(leaf_hash(bytes([n])) for n in range(10))
    forked = MerkleTree([*(leaf_hash(bytes([n])) for n in range(4)), leaf_hash(b"rewritten"),
                         *(leaf_hash(bytes([n])) for n in range(5, 12))])
    assert not verify_consistency(10, 12, honest.root(10), forked.root(12), forked.consistency_proof(10, 12))


SEED = bytes(range(32))
ORIGIN = "partnership.invalid/audit/priorities"


def test_a_checkpoint_is_a_c2sp_signed_note_under_the_logs_origin() -> None:
    root = hashlib.sha256(b"root").digest()
    note = NoteSigner(SEED, ORIGIN).sign(checkpoint_text(ORIGIN, 12, root))
    text, (signature,) = split_note(note)
    assert text == f"{ORIGIN}\n12\n{base64.b64encode(root).decode()}\n"
    assert note.startswith(text + "\n\u2014 " + ORIGIN + " ")
    public = Ed25519PrivateKey.from_private_bytes(SEED).public_key().public_bytes_raw()
    assert signature.key_id == hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public).digest()[:4]
    key = verifier_key(public.hex(), ORIGIN)
    assert VerifierKey.parse(str(key)) == key
    assert open_checkpoint(note, [key]) == TreeHead(ORIGIN, 12, root, text)
    with pytest.raises(ValueError, match="no valid signature"):
        open_checkpoint(note.replace("\n12\n", "\n13\n"), [key])
    with pytest.raises(ValueError, match="no valid signature"):
        open_checkpoint(note, [verifier_key(public.hex(), ORIGIN + "-other")])


def test_a_cosignature_v1_signs_the_time_and_the_checkpoint_text() -> None:
    witness = Ed25519PrivateKey.from_private_bytes(bytes(32))
    public = witness.public_key().public_bytes_raw()
    key = VerifierKey("county-internal-audit", ALG_COSIGNATURE_V1, public)
    assert key.id == key_hash("county-internal-audit", b"\x04" + public)
    text = checkpoint_text(ORIGIN, 3, hashlib.sha256(b"r").digest())
    assert cosigned_message(1700000000, text) == f"cosignature/v1\ntime 1700000000\n{text}".encode()
    signed = struct.pack(">Q", 1700000000) + witness.sign(cosigned_message(1700000000, text))
    line = Signature(key.name, key.id, signed)
    assert verify_cosignature(text, line, key) == 1700000000
    assert verify_cosignature(text.replace("\n3\n", "\n4\n"), line, key) is None
