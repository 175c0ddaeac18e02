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
    # A table of its own, not a column: a copy made before it keeps working (CREATE IF NOT EXISTS adds no column);
    # a target it lacks counts from a baseline of 0, as before, until the target is next revised.
    "CREATE TABLE IF NOT EXISTS known_target_baselines (id TEXT PRIMARY KEY, baseline_value TEXT NOT NULL)",
]


def known_target(store: ReadStore, target_id: UUID) -> KnownTarget | None:
    """The target as tasking last heard of it (None: not heard of yet)."""
    rows = store.query("SELECT t.*, b.baseline_value FROM known_targets t LEFT JOIN known_target_baselines b"
                       " ON b.id = t.id WHERE t.id = ?", [str(target_id)])
    if not rows:
        return None
    row = rows[0]
    return KnownTarget(id=UUID(row["id"]), metric=row["metric"], unit=row["unit"],
                       target_value=Decimal(row["target_value"]), deadline=date.fromisoformat(row["deadline"]),
                       retired=bool(row["retired"]), baseline_value=Decimal(row["baseline_value"] or 0))


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
            self._baseline(tx, envelope.subject, fact.baseline_value)
        elif isinstance(fact, TargetRevised):
            self._require_known(tx, envelope)
            tx.execute(
                "UPDATE known_targets SET metric = ?, unit = ?, target_value = ?, deadline = ?, version = ?"
                " WHERE id = ?",
                (fact.metric, fact.unit, str(fact.target_value), fact.deadline.isoformat(), envelope.sequence,
                 envelope.subject),
            )
            self._baseline(tx, envelope.subject, fact.baseline_value)
        elif isinstance(fact, TargetRetired):
            self._require_known(tx, envelope)
            tx.execute("UPDATE known_targets SET retired = 1, version = ? WHERE id = ?",
                       (envelope.sequence, envelope.subject))

    @staticmethod
    def _baseline(tx: Tx, target_id: str, baseline_value: Decimal) -> None:
        tx.execute("INSERT INTO known_target_baselines (id, baseline_value) VALUES (?, ?)"
                   " ON CONFLICT (id) DO UPDATE SET baseline_value = excluded.baseline_value",
                   (target_id, str(baseline_value)))

    @staticmethod
    def _require_known(tx: Tx, envelope: Envelope) -> None:
        rows: list[dict[str, Any]] = tx.query("SELECT id FROM known_targets WHERE id = ?", (envelope.subject,))
        if not rows:
            # One target's events share a partition and arrive in order: a change before its TargetSet is a
            # broken upstream, dead-lettered with the reason rather than silently creating half a target.
            raise Rejected(f"{envelope.type} for target {envelope.subject}, which was never set")
