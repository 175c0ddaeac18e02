"""Reactions to ``tasking.events``: which taskings delivery knows, and what a retasking or withdrawal does to projects.

Two runners follow the tasking topic:

- ``projects-taskings`` (a ConsumerRunner) keeps the ``known_taskings`` table in the projects database: the lookup a
  command needs to open a project against an accepted tasking. It is a copy of upstream facts, not a decision of
  this context, so it is a table (exactly once per (tasking id, version) by the runner's ``seen_events``), not
  events re-published on ``projects.events``.
- ``projects-reactions`` (a PolicyRunner) records what a retasking or a withdrawal does to the projects delivering
  the tasking, as events in the projects store, in one transaction with the upstream position. Each project keeps
  the tasking version it last took into account, so a redelivered change (same or older version) changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from services.projects.domain import KnownTasking
from shared.consumer import ConsumerRunner, PolicyRunner
from shared.contracts import Actor
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
from shared.eventstore import CommandContext
from shared.readstore import ReadStore, Tx
from shared.settings import Settings
from shared.transport import Transport

if TYPE_CHECKING:
    from services.projects.application import ProjectsApplication

log = logging.getLogger(__name__)

KNOWN_TASKINGS_DDL = [
    "CREATE TABLE IF NOT EXISTS known_taskings ("
    " id TEXT PRIMARY KEY, version INTEGER NOT NULL, target_id TEXT NOT NULL, theme_group TEXT NOT NULL,"
    " district TEXT NOT NULL, lead_partner TEXT NOT NULL, share TEXT NOT NULL, unit TEXT NOT NULL,"
    " deadline TEXT NOT NULL, status TEXT NOT NULL)",
]


class KnownTaskings:
    """The taskings delivery has learnt of, in the projects service's own database."""

    def __init__(self, store: ReadStore) -> None:
        self.store = store
        store.migrate(KNOWN_TASKINGS_DDL)

    def get(self, tasking_id: UUID) -> KnownTasking | None:
        rows = self.store.query("SELECT * FROM known_taskings WHERE id = ?", [str(tasking_id)])
        return _known(rows[0]) if rows else None

    def in_district(self, district: str) -> list[KnownTasking]:
        rows = self.store.query("SELECT * FROM known_taskings WHERE district = ? ORDER BY id", [district])
        return [_known(r) for r in rows]

    def apply(self, tx: Tx, envelope: Envelope) -> None:
        """The ConsumerRunner's handler: one tasking event into the table (inside the runner's transaction)."""
        fact = envelope.fact()
        tasking_id = envelope.subject
        if isinstance(fact, TaskingIssued):
            tx.execute(
                "INSERT INTO known_taskings (id, version, target_id, theme_group, district, lead_partner, share,"
                " unit, deadline, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'issued') ON CONFLICT (id) DO NOTHING",
                (tasking_id, envelope.sequence, str(fact.target_id), fact.theme_group, fact.district,
                 fact.lead_partner, str(fact.share), fact.unit, fact.deadline.isoformat()),
            )
            return
        status = {TaskingAccepted: "accepted", TaskingDeliveryStarted: "in_delivery", TaskingDeclined: "declined",
                  TaskingWithdrawn: "withdrawn", TaskingCompleted: "completed"}.get(type(fact))
        if status is not None:
            changed = tx.execute("UPDATE known_taskings SET status = ?, version = ? WHERE id = ? AND version < ?",
                                 (status, envelope.sequence, tasking_id, envelope.sequence))
        elif isinstance(fact, TaskingRetasked):
            # Retasked to another district, the tasking waits for that district's acceptance.
            changed = tx.execute(
                "UPDATE known_taskings SET district = ?, lead_partner = ?, share = ?, deadline = ?, version = ?,"
                " status = CASE WHEN district = ? THEN status ELSE 'issued' END WHERE id = ? AND version < ?",
                (fact.district, fact.lead_partner, str(fact.share), fact.deadline.isoformat(), envelope.sequence,
                 fact.district, tasking_id, envelope.sequence),
            )
        else:
            # Other tasking events only move the version delivery knows.
            tx.execute("UPDATE known_taskings SET version = ? WHERE id = ? AND version < ?",
                       (envelope.sequence, tasking_id, envelope.sequence))
            return
        if changed == 0:
            log.warning("tasking event for a tasking not known here (or older than known)",
                        extra={"tasking": tasking_id, "version": envelope.sequence, "type": envelope.type})


def _known(row: dict[str, Any]) -> KnownTasking:
    return KnownTasking(id=UUID(row["id"]), version=int(row["version"]), target_id=UUID(row["target_id"]),
                        district=row["district"], lead_partner=row["lead_partner"], share=Decimal(row["share"]),
                        unit=row["unit"], deadline=date.fromisoformat(row["deadline"]), status=row["status"])


class TaskingChangePolicy:
    """A retasked or withdrawn tasking: flag the projects delivering it, re-point or close their contribution.

    The reaction's events carry the upstream actor and decision (who decided the change) and its correlation id.
    """

    def __init__(self, app: ProjectsApplication) -> None:
        self.app = app

    def react(self, envelope: Envelope) -> Sequence[Aggregate]:
        fact = envelope.fact()
        if not isinstance(fact, TaskingRetasked | TaskingWithdrawn):
            return []
        tasking_id = UUID(envelope.subject)
        context = CommandContext(
            Actor(user_id=envelope.actor, organisation=envelope.actororganisation, role=envelope.actorrole),
            envelope.correlationid,
        )
        changed: list[Aggregate] = []
        for project in self.app.projects_delivering(tasking_id):
            if isinstance(fact, TaskingRetasked):
                moved = project.react_to_retasking(
                    context, tasking_id=tasking_id, version=envelope.sequence, district=fact.district,
                    lead_partner=fact.lead_partner, share=fact.share, deadline=fact.deadline, reason=fact.reason,
                    decision=fact.decision)
            else:
                moved = project.react_to_withdrawal(context, tasking_id=tasking_id, version=envelope.sequence,
                                                    reason=fact.reason, decision=fact.decision)
            if moved:
                changed.append(project)
        if changed:
            log.info("projects flagged by a tasking change", extra={
                "tasking": str(tasking_id), "version": envelope.sequence, "projects": len(changed),
                "correlation_id": envelope.correlationid})
        return changed


def consumers(app: ProjectsApplication, settings: Settings, transport: Transport) -> list[Any]:
    topic = settings.topic("tasking.events")
    transport.ensure_topic(topic)
    dead_letters = settings.topic("projects.dlq")
    return [
        ConsumerRunner("projects-taskings", app.known_taskings.store, transport, topic, app.known_taskings,
                       dead_letter_topic=dead_letters, batch_size=settings.consumer_batch_size),
        PolicyRunner("projects-reactions", app, transport, topic, TaskingChangePolicy(app),
                     dead_letter_topic=dead_letters),
    ]
