"""Priorities' copy of what tasking allocated of each target: every tasking's share and whether it counts against
the target (as tasking's events say it, ``counts_against_target``: never derived here), kept from ``tasking.events``
by a narrow consumer (``TaskingIssued``, ``TaskingRetasked`` and the status changes; any other tasking event only
moves the version known), so a revision is refused below what is tasked.

Targets live here and shares in tasking: no change spans both. The copy may lag tasking; a caller who read a
tasking at a version names it (``tasking_versions``), and while the copy knows an older one the answer is "retry"
(503), never a decision on a stale copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from uuid import UUID

from shared.consumer import ConsumerRunner
from shared.contracts.tasking import (
    TaskingAccepted,
    TaskingCompleted,
    TaskingDeclined,
    TaskingDeliveryStarted,
    TaskingIssued,
    TaskingRetasked,
    TaskingWithdrawn,
)
from shared.envelope import Envelope
from shared.errors import NotYetKnown
from shared.readstore import ReadStore, Tx
from shared.settings import Settings
from shared.transport import Transport

DDL = [
    "CREATE TABLE IF NOT EXISTS tasked_counts ("
    " id TEXT PRIMARY KEY, version INTEGER NOT NULL, target_id TEXT NOT NULL, share TEXT NOT NULL,"
    " counted INTEGER NOT NULL)",
]
_STATUS_CHANGES = (TaskingAccepted, TaskingDeliveryStarted, TaskingDeclined, TaskingWithdrawn, TaskingCompleted)


class TaskedShares:
    """The shares tasked of each target, as tasking's events said them."""

    def __init__(self, store: ReadStore) -> None:
        self.store = store
        store.migrate(DDL)

    def apply(self, tx: Tx, envelope: Envelope) -> None:
        """The ConsumerRunner's handler: one tasking event into the copy (inside the runner's transaction)."""
        fact = envelope.fact()
        if isinstance(fact, TaskingIssued):
            tx.execute("INSERT INTO tasked_counts (id, version, target_id, share, counted) VALUES (?, ?, ?, ?, ?)"
                       " ON CONFLICT (id) DO NOTHING",
                       (envelope.subject, envelope.sequence, str(fact.target_id), str(fact.share),
                        int(fact.counts_against_target)))
        elif isinstance(fact, _STATUS_CHANGES):
            tx.execute("UPDATE tasked_counts SET counted = ?, version = ? WHERE id = ? AND version < ?",
                       (int(fact.counts_against_target), envelope.sequence, envelope.subject, envelope.sequence))
        elif isinstance(fact, TaskingRetasked):
            tx.execute("UPDATE tasked_counts SET share = ?, counted = ?, version = ? WHERE id = ? AND version < ?",
                       (str(fact.share), int(fact.counts_against_target), envelope.sequence, envelope.subject,
                        envelope.sequence))
        else:
            tx.execute("UPDATE tasked_counts SET version = ? WHERE id = ? AND version < ?",
                       (envelope.sequence, envelope.subject, envelope.sequence))

    def tasked(self, target_id: UUID, read_versions: Mapping[UUID, int] | None = None) -> Decimal:
        """The total of the target's shares that count against it (as tasking's events said), once the copy knows
        every tasking at least at the version the caller read; NotYetKnown (503) until then."""
        for tasking_id, version in (read_versions or {}).items():
            rows = self.store.query("SELECT version FROM tasked_counts WHERE id = ?", [str(tasking_id)])
            known = int(rows[0]["version"]) if rows else 0
            if known < version:
                raise NotYetKnown(f"Priorities knows tasking {tasking_id} at version {known}, before the version "
                                  f"{version} you read: its change is on its way, retry shortly.",
                                  tasking_id=str(tasking_id), known_version=known, read_version=version)
        rows = self.store.query("SELECT share FROM tasked_counts WHERE target_id = ? AND counted = 1",
                                [str(target_id)])
        return sum((Decimal(r["share"]) for r in rows), Decimal(0))


def tasked_consumer(copy: TaskedShares, settings: Settings, transport: Transport) -> ConsumerRunner:
    """The narrow consumer of ``tasking.events`` that keeps the copy (its own tracking name)."""
    return ConsumerRunner("priorities-tasked", copy.store, transport, settings.topic("tasking.events"), copy,
                          dead_letter_topic=settings.topic("priorities.dlq"), batch_size=settings.consumer_batch_size)
