"""A witness of the services' audit logs (`partnership audit witness`), run by a partner or the internal audit.

It follows the ``audit.checkpoints`` topic, and for each signed checkpoint checks the log's signature and that the new
tree is an append-only extension of the last one it saw of that log (the consistency proof published with the
checkpoint, or one fetched from ``GET /audit/consistency/{service}``). Then it cosigns (C2SP tlog-cosignature/v1),
keeps its own copy of every checkpoint it cosigned, and returns the cosignature by ``POST /audit/cosignatures``.
A checkpoint that does not extend what it saw, however well signed, is a fork: it is recorded, never cosigned, and
the witness keeps the head it saw as the truth (the database was rewritten).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.audit.checkpoint import Cosigner
from shared.audit.standalone import TreeHead, VerifierKey, open_checkpoint, verify_consistency
from shared.contracts.audit import CheckpointSigned
from shared.envelope import MalformedMessage, decode
from shared.transport import Transport

log = logging.getLogger(__name__)

ProofSource = Callable[[str, int, int], list[bytes]]
"""(service, first size, second size) -> the consistency proof between them, from the service's API."""
Submit = Callable[[str], None]
"""Returns a cosigned checkpoint (the note with the witness's signature line) to the service."""


class ForkDetected(RuntimeError):
    """A signed checkpoint that is not an append-only extension of the one the witness saw before."""

    def __init__(self, origin: str, seen: TreeHead, offered: TreeHead, why: str) -> None:
        self.origin, self.seen, self.offered = origin, seen, offered
        super().__init__(f"FORK of {origin}: the checkpoint of tree size {offered.size} (root "
                         f"{offered.root_hash_b64()}) {why}; this witness saw tree size {seen.size} with root "
                         f"{seen.root_hash_b64()}: the log was rewritten")


class Unverifiable(RuntimeError):
    """A checkpoint the witness cannot check (not signed by the log's key, or no consistency proof to be had)."""


@dataclass
class _Log:
    head: TreeHead
    note: str


class Witness:
    """One witness's state: the last checkpoint it cosigned per log, its copy of all of them, forks it saw."""

    def __init__(self, cosigner: Cosigner, state_dir: Path, log_keys: Sequence[VerifierKey],
                 proofs: ProofSource | None = None) -> None:
        self.cosigner = cosigner
        self.state_dir = state_dir
        self.log_keys = list(log_keys)
        self.proofs = proofs
        state_dir.mkdir(parents=True, exist_ok=True)
        self._state_file = state_dir / "state.json"
        state = json.loads(self._state_file.read_text()) if self._state_file.exists() else {}
        self.positions: dict[int, int] = {int(k): int(v) for k, v in state.get("positions", {}).items()}
        self.logs: dict[str, _Log] = {}
        for origin, note in state.get("logs", {}).items():
            self.logs[origin] = _Log(open_checkpoint(note, self.log_keys), note)
        self.forks: list[ForkDetected] = []

    def observe(self, checkpoint: CheckpointSigned) -> str | None:
        """The cosigned note of a new checkpoint; None for one already seen. ForkDetected, Unverifiable otherwise."""
        try:
            head = open_checkpoint(checkpoint.note, self.log_keys)
        except ValueError as error:
            raise Unverifiable(str(error)) from None
        seen = self.logs.get(head.origin)
        if seen is not None:
            if head.size < seen.head.size:
                if self._in_copy(head):
                    return None  # an older checkpoint delivered again
                self._consistent(checkpoint, head, seen.head, backwards=True)
                return None
            if head.size == seen.head.size:
                if head.root != seen.head.root:
                    self._fork(head.origin, seen.head, head, "has another root for the same size")
                return None
            self._consistent(checkpoint, seen.head, head)
        return self._cosign(checkpoint, head)

    def _consistent(self, checkpoint: CheckpointSigned, first: TreeHead, second: TreeHead,
                    backwards: bool = False) -> None:
        if not backwards and checkpoint.previous_tree_size == first.size:
            proof = [base64.b64decode(p) for p in checkpoint.consistency_proof]
        elif self.proofs is not None:
            proof = self.proofs(checkpoint.service, first.size, second.size)
        else:
            raise Unverifiable(f"{second.origin}: no consistency proof from tree size {first.size} to "
                               f"{second.size} (give the witness the service's URL)")
        if not verify_consistency(first.size, second.size, first.root, second.root, proof):
            seen, offered = (second, first) if backwards else (first, second)
            self._fork(second.origin, seen, offered, "is not consistent with it")

    def _fork(self, origin: str, seen: TreeHead, offered: TreeHead, why: str) -> None:
        fork = ForkDetected(origin, seen, offered, why)
        self.forks.append(fork)
        with (self.state_dir / "forks.jsonl").open("a", encoding="utf-8") as stream:
            stream.write(json.dumps({"origin": origin, "seen_size": seen.size, "seen_root": seen.root_hash_b64(),
                                     "offered_size": offered.size, "offered_root": offered.root_hash_b64(),
                                     "offered_note": offered.text, "why": str(fork)}) + "\n")
        log.error("witness: a forked checkpoint", extra={"origin": origin, "seen_size": seen.size,
                                                         "offered_size": offered.size})
        raise fork

    def _in_copy(self, head: TreeHead) -> bool:
        copy = self.state_dir / "checkpoints.jsonl"
        if not copy.exists():
            return False
        with copy.open(encoding="utf-8") as stream:
            return any(json.loads(line)["text"] == head.text for line in stream if line.strip())

    def _cosign(self, checkpoint: CheckpointSigned, head: TreeHead) -> str:
        signature = self.cosigner.cosign(head.text)
        cosigned = checkpoint.note + signature.line
        self.logs[head.origin] = _Log(head, checkpoint.note)
        with (self.state_dir / "checkpoints.jsonl").open("a", encoding="utf-8") as stream:
            stream.write(json.dumps({"origin": head.origin, "size": head.size, "text": head.text,
                                     "cosigned_note": cosigned}) + "\n")
        self._save()
        return cosigned

    def _save(self) -> None:
        state = {"positions": self.positions, "logs": {origin: seen.note for origin, seen in self.logs.items()}}
        temporary = self._state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=2, sort_keys=True))
        temporary.replace(self._state_file)

    def follow(self, transport: Transport, topic: str, stop: threading.Event, submit: Submit | None = None,
               poll_timeout: float = 0.5) -> None:
        """Read the checkpoints topic from where this witness left off until ``stop``; cosign and submit each new
        checkpoint. A fork or an unverifiable checkpoint is logged (and recorded) and the witness goes on."""
        partitions = transport.partitions(topic)
        reader = transport.reader(topic, {p: self.positions.get(p, 0) for p in partitions})
        try:
            while not stop.is_set():
                for message in reader.poll(100, poll_timeout):
                    self.positions[message.position.partition] = message.position.offset + 1
                    cosigned = self._handle(message.value)
                    if cosigned is not None and submit is not None:
                        try:
                            submit(cosigned)
                        except Exception:
                            log.exception("witness: returning a cosignature failed (it is kept in the copy)")
                    self._save()
        finally:
            reader.close()

    def _handle(self, value: bytes) -> str | None:
        try:
            fact = decode(value).fact()
        except MalformedMessage as error:
            log.warning("witness: not a checkpoint message", extra={"error": str(error)})
            return None
        if not isinstance(fact, CheckpointSigned):
            return None
        try:
            return self.observe(fact)
        except ForkDetected:
            return None  # recorded in forks.jsonl and self.forks
        except Unverifiable as error:
            log.error("witness: cannot check a checkpoint", extra={"error": str(error)})
            return None


def http_client(base_url: str, token: str) -> tuple[Submit, ProofSource]:
    """Submit and fetch proofs over the service's audit API (``base_url`` ends before ``/audit``)."""
    import httpx

    client = httpx.Client(base_url=base_url.rstrip("/"), headers={"authorization": f"Bearer {token}"}, timeout=30)

    def submit(note: str) -> None:
        response = client.post("/audit/cosignatures", json={"note": note})
        response.raise_for_status()

    def proofs(service: str, first: int, second: int) -> list[bytes]:
        response = client.get(f"/audit/consistency/{service}", params={"first": first, "second": second})
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return [base64.b64decode(p) for p in body["proof"]]

    return submit, proofs
