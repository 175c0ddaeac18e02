"""Projections: upstream events -> reporting read models (applied inside the consumer runner's transaction)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict

from services.reporting.readmodel import close_current, timestamp
from shared.contracts import Fact, contract_type
from shared.contracts.priorities import ObjectiveAdded
from shared.envelope import Envelope
from shared.readstore import Tx


def _decision_json(fact: Fact) -> str | None:
    if fact.decision is None:
        return None
    return json.dumps(asdict(fact.decision), default=str, sort_keys=True)


class ReportingProjection:
    """Writes the event log (the history of every aggregate) and the entity read models."""

    def __init__(self) -> None:
        self._handlers: dict[str, Callable[[Tx, Envelope, Fact], None]] = {
            contract_type(ObjectiveAdded): self._objective_added,
        }

    def apply(self, tx: Tx, envelope: Envelope) -> None:
        fact = envelope.fact()
        tx.execute(
            "INSERT INTO event_log (subject, version, type, source, time, actor, actor_organisation, actor_role,"
            " correlation_id, decision, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (envelope.subject, envelope.sequence, envelope.type, envelope.source, timestamp(envelope.time),
             envelope.actor, envelope.actororganisation, envelope.actorrole, envelope.correlationid,
             _decision_json(fact), json.dumps(envelope.data, sort_keys=True)),
        )
        handler = self._handlers.get(envelope.type)
        if handler is not None:
            handler(tx, envelope, fact)

    def _objective_added(self, tx: Tx, envelope: Envelope, fact: Fact) -> None:
        assert isinstance(fact, ObjectiveAdded)
        at = timestamp(envelope.time)
        close_current(tx, "objectives", envelope.subject, at)
        tx.execute(
            "INSERT INTO objectives (id, version, title, level, strategy, parent_id, changed_by,"
            " changed_by_organisation, changed_by_role, decision, valid_from, valid_to)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (envelope.subject, envelope.sequence, fact.title, fact.level.value, fact.strategy,
             None if fact.parent_id is None else str(fact.parent_id), fact.actor.user_id,
             fact.actor.organisation, fact.actor.role, _decision_json(fact), at),
        )
