"""Publication of signed checkpoints on the ``audit.checkpoints`` topic (a CloudEvent each, key = the service)."""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, uuid5

from shared.audit.checkpoint import StoredHead, b64
from shared.contracts import Actor, to_data
from shared.contracts.audit import CheckpointSigned
from shared.envelope import Envelope, encode
from shared.transport import Publisher, Transport


def checkpoint_event(service: str, origin: str, stored: StoredHead, proof: list[bytes]) -> Envelope:
    """The CloudEvent of one checkpoint: subject = the log (a UUID from its origin), sequence = the tree size."""
    fact = CheckpointSigned(
        actor=Actor(f"service:{service}", "partnership", "service"), correlation_id=f"checkpoint:{origin}:"
        f"{stored.tree_size}", service=service, origin=origin, tree_size=stored.tree_size,
        root_hash=stored.head().root_hash_b64(), note=stored.note, previous_tree_size=stored.from_size,
        consistency_proof=b64(proof), position=stored.position, signed_at=stored.created_at)
    type_name, data = to_data(fact)
    subject = str(uuid5(NAMESPACE_URL, origin))
    return Envelope(id=f"{subject}:{stored.tree_size}", source=f"/services/{service}/audit", type=type_name,
                    subject=subject, time=datetime.fromisoformat(stored.created_at), sequence=stored.tree_size,
                    data=data, actor=fact.actor.user_id, actororganisation=fact.actor.organisation,
                    actorrole=fact.actor.role, correlationid=fact.correlation_id)


class CheckpointPublisher:
    """Sends a service's checkpoints to the checkpoints topic, each acknowledged before it is marked published."""

    def __init__(self, transport: Transport, topic: str, service: str, origin: str) -> None:
        self.transport = transport
        self.topic = topic
        self.service = service
        self.origin = origin
        self._publisher: Publisher | None = None

    def __call__(self, stored: StoredHead, proof: list[bytes]) -> None:
        if self._publisher is None:
            self._publisher = self.transport.publisher()
        event = checkpoint_event(self.service, self.origin, stored, proof)
        self._publisher.publish(self.topic, event.subject, encode(event))  # key: the log, so one partition keeps order
        self._publisher.flush()

    def close(self) -> None:
        if self._publisher is not None:
            self._publisher.close()
            self._publisher = None

