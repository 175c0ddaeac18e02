"""Priorities' copy of what tasking allocated of each target: every tasking's share and status, kept from
``tasking.events`` by a narrow consumer (``TaskingIssued``, ``TaskingRetasked`` and the status changes; any other
tasking event only moves the version known), so a revision is refused below what is tasked.

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
    counts_against_target,
)
from shared.envelope import Envelope
from shared.errors import NotYetKnown
from shared.readstore import ReadStore, Tx
from shared.settings import Settings
from shared.transport import Transport

DDL = [
    "CREATE TABLE IF NOT EXISTS tasked_shares ("
    " id TEXT PRIMARY KEY, version INTEGER NOT NULL, target_id TEXT NOT NULL, share TEXT NOT NULL,"
    " status TEXT NOT NULL)",
]
_STATUS = {TaskingAccepted: "accepted", TaskingDeliveryStarted: "in_delivery", TaskingDeclined: "declined",
           TaskingWithdrawn: "withdrawn", TaskingCompleted: "completed"}


class TaskedShares:
    """The shares tasked of each target, as tasking's events said them."""

    def __init__(self, store: ReadStore) -> None:
        self.store = store
        store.migrate(DDL)

    def apply(self, tx: Tx, envelope: Envelope) -> None:
        """The ConsumerRunner's handler: one tasking event into the copy (inside the runner's transaction)."""
        fact = envelope.fact()
        if isinstance(fact, TaskingIssued):
            tx.execute("INSERT INTO tasked_shares (id, version, target_id, share, status) VALUES (?, ?, ?, ?, 'issued')"
                       " ON CONFLICT (id) DO NOTHING",
                       (envelope.subject, envelope.sequence, str(fact.target_id), str(fact.share)))
        elif type(fact) in _STATUS:
            tx.execute("UPDATE tasked_shares SET status = ?, version = ? WHERE id = ? AND version < ?",
                       (_STATUS[type(fact)], envelope.sequence, envelope.subject, envelope.sequence))
        elif isinstance(fact, TaskingRetasked):
            # Whether it is issued again is tasking's to say (its event carries it).
            tx.execute("UPDATE tasked_shares SET share = ?, version = ?, status = CASE WHEN ? THEN 'issued'"
                       " ELSE status END WHERE id = ? AND version < ?",
                       (str(fact.share), envelope.sequence, fact.issued_again, envelope.subject, envelope.sequence))
        else:
            tx.execute("UPDATE tasked_shares SET version = ? WHERE id = ? AND version < ?",
                       (envelope.sequence, envelope.subject, envelope.sequence))

    def tasked(self, target_id: UUID, read_versions: Mapping[UUID, int] | None = None) -> Decimal:
        """The total of the target's shares that count against it (tasking's ``counts_against_target``), once the
        copy knows every tasking at least at the version the caller read; NotYetKnown (503) until then."""
        for tasking_id, version in (read_versions or {}).items():
            rows = self.store.query("SELECT version FROM tasked_shares WHERE id = ?", [str(tasking_id)])
            known = int(rows[0]["version"]) if rows else 0
            if known < version:
                raise NotYetKnown(f"Priorities knows tasking {tasking_id} at version {known}, before the version "
                                  f"{version} you read: its change is on its way, retry shortly.",
                                  tasking_id=str(tasking_id), known_version=known, read_version=version)
        rows = self.store.query("SELECT share, status FROM tasked_shares WHERE target_id = ?", [str(target_id)])
        return sum((Decimal(r["share"]) for r in rows if counts_against_target(r["status"])), Decimal(0))


def tasked_consumer(copy: TaskedShares, settings: Settings, transport: Transport) -> ConsumerRunner:
    """The narrow consumer of ``tasking.events`` that keeps the copy (its own tracking name)."""
    return ConsumerRunner("priorities-tasked", copy.store, transport, settings.topic("tasking.events"), copy,
                          dead_letter_topic=settings.topic("priorities.dlq"), batch_size=settings.consumer_batch_size)
