"""Tasking's copy of upstream targets: what ``priorities.events`` said of each SMART target (set, revised,
retired), in tasking's own database. Written by the consumer runner (with its position, in one transaction); read by
the application when a tasking is issued against a target."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from services.tasking.domain import KnownTarget
from shared.consumer import Rejected
from shared.contracts.priorities import TargetRetired, TargetRevised, TargetSet
from shared.envelope import Envelope
from shared.readstore import ReadStore, Tx

DDL = [
    "CREATE TABLE IF NOT EXISTS known_targets ("
    " id TEXT PRIMARY KEY, metric TEXT NOT NULL, unit TEXT NOT NULL, target_value TEXT NOT NULL,"
    " deadline TEXT NOT NULL, retired INTEGER NOT NULL, version INTEGER NOT NULL)",
]


def known_target(store: ReadStore, target_id: UUID) -> KnownTarget | None:
    """The target as tasking last heard of it (None: not heard of yet)."""
    rows = store.query("SELECT * FROM known_targets WHERE id = ?", [str(target_id)])
    if not rows:
        return None
    row = rows[0]
    return KnownTarget(id=UUID(row["id"]), metric=row["metric"], unit=row["unit"],
                       target_value=Decimal(row["target_value"]), deadline=date.fromisoformat(row["deadline"]),
                       retired=bool(row["retired"]))


class KnownTargets:
    """TargetSet / TargetRevised / TargetRetired -> the ``known_targets`` table (other priorities events are
    not tasking's business). Applied by the consumer runner in the transaction that records its position."""

    def apply(self, tx: Tx, envelope: Envelope) -> None:
        fact = envelope.fact()
        if isinstance(fact, TargetSet):
            tx.execute(
                "INSERT INTO known_targets (id, metric, unit, target_value, deadline, retired, version)"
                " VALUES (?, ?, ?, ?, ?, 0, ?)"
                " ON CONFLICT (id) DO UPDATE SET metric = excluded.metric, unit = excluded.unit,"
                " target_value = excluded.target_value, deadline = excluded.deadline, version = excluded.version",
                (envelope.subject, fact.metric, fact.unit, str(fact.target_value), fact.deadline.isoformat(),
                 envelope.sequence),
            )
        elif isinstance(fact, TargetRevised):
            self._require_known(tx, envelope)
            tx.execute(
                "UPDATE known_targets SET metric = ?, unit = ?, target_value = ?, deadline = ?, version = ?"
                " WHERE id = ?",
                (fact.metric, fact.unit, str(fact.target_value), fact.deadline.isoformat(), envelope.sequence,
                 envelope.subject),
            )
        elif isinstance(fact, TargetRetired):
            self._require_known(tx, envelope)
            tx.execute("UPDATE known_targets SET retired = 1, version = ? WHERE id = ?",
                       (envelope.sequence, envelope.subject))

    @staticmethod
    def _require_known(tx: Tx, envelope: Envelope) -> None:
        rows: list[dict[str, Any]] = tx.query("SELECT id FROM known_targets WHERE id = ?", (envelope.subject,))
        if not rows:
            # One target's events share a partition and arrive in order: a change before its TargetSet is a
            # broken upstream, dead-lettered with the reason rather than silently creating half a target.
            raise Rejected(f"{envelope.type} for target {envelope.subject}, which was never set")
