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
    """The service whose log was checkpointed."""
    origin: str
    """The log's origin line in the checkpoint note."""
    tree_size: int
    """The number of events the checkpoint covers."""
    root_hash: str
    """The Merkle tree's root hash, base64."""
    note: str
    """The signed checkpoint note, as text."""
    previous_tree_size: int
    """The tree size of the previous checkpoint (0 for the first)."""
    consistency_proof: list[str]
    """The proof (base64 hashes) that this tree extends the previous one."""
    position: int
    """The position of the last event covered in the service's log."""
    signed_at: str
    """When it was signed, in ISO 8601."""
