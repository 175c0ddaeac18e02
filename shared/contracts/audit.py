"""The audit log's published event: each signed checkpoint (tree head) of a service's log, for outside witnesses."""

from __future__ import annotations

from dataclasses import dataclass

from shared.contracts import Fact, contract

CHECKPOINTS_TOPIC = "audit.checkpoints"


@contract("audit", release=2)
@dataclass(frozen=True, kw_only=True)
class CheckpointSigned(Fact):
    """A service signed a checkpoint of its log: a C2SP tlog-checkpoint note (origin, tree size, base64 root hash,
    Ed25519 signature line) over the RFC 9162 Merkle tree of its events, with the consistency proof from its previous
    checkpoint (docs/audit.md). Witnesses check the proof against the last checkpoint they saw, cosign, and return
    the cosignature by POST /audit/cosignatures."""

    service: str
    origin: str
    tree_size: int
    root_hash: str
    note: str
    previous_tree_size: int
    consistency_proof: list[str]
    position: int
    signed_at: str
