"""Reactions to upstream events: the targets tasking knows, kept from ``priorities.events`` in its own database."""

from __future__ import annotations

from typing import Any

from services.tasking.application import TaskingApplication
from shared.consumer import ConsumerRunner, Rejected
from shared.contracts.priorities import TargetRetired, TargetRevised, TargetSet
from shared.envelope import Envelope
from shared.readstore import Tx
from shared.settings import Settings
from shared.transport import Transport


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


def consumers(app: TaskingApplication, settings: Settings, transport: Transport) -> list[ConsumerRunner]:
    return [ConsumerRunner("tasking", app.local, transport, settings.topic("priorities.events"), KnownTargets(),
                           dead_letter_topic=settings.topic("tasking.dlq"), batch_size=settings.consumer_batch_size)]
