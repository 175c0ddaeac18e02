"""Reactions to ``tasking.events``: which taskings delivery knows, and what a retasking or withdrawal does to projects.

Two runners follow the tasking topic:

- ``projects-taskings`` (a ConsumerRunner) keeps delivery's copy of the taskings (``known_taskings``).
- ``projects-reactions`` (a PolicyRunner) records what a retasking or a withdrawal does to the projects delivering
  the tasking, as events in the projects store, in one transaction with the upstream position. Each project keeps
  the tasking version it last took into account, so a redelivered change (same or older version) changes nothing.

Beside them, one ``projects-partner-commands`` runner per partner organisation granted a command of projects
follows its inbound topic (``services.projects.inbound``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from services.projects.inbound import inbound_consumers
from services.projects.meetings import meetings
from shared.auth import ClientRegistry
from shared.consumer import ConsumerRunner, PolicyRunner
from shared.contracts import Actor
from shared.contracts.tasking import ShareProfiled, TaskingRetasked, TaskingWithdrawn
from shared.envelope import Envelope
from shared.eventstore import CommandContext
from shared.settings import Settings
from shared.transport import Transport

if TYPE_CHECKING:
    from services.projects.application import ProjectsApplication

log = logging.getLogger(__name__)

class TaskingChangePolicy:
    """A retasked or withdrawn tasking: flag the projects delivering it, re-point or close their contribution. A
    share profiled: the projects delivering it judge their outcomes without a profile of their own against it, and
    record their latest report's RAG derived again.

    The reaction's events carry the upstream actor and decision (who decided the change) and its correlation id.
    """

    reacts_to = (TaskingRetasked, TaskingWithdrawn, ShareProfiled)
    """The runner passes over every other event of the topic (most of them) without a transaction each."""

    def __init__(self, app: ProjectsApplication) -> None:
        self.app = app

    def react(self, envelope: Envelope) -> Sequence[Aggregate]:
        fact = envelope.fact()
        if not isinstance(fact, self.reacts_to):
            return []
        tasking_id = UUID(envelope.subject)
        context = CommandContext(
            Actor(user_id=envelope.actor, organisation=envelope.actororganisation, role=envelope.actorrole),
            envelope.correlationid,
        )
        changed: list[Aggregate] = []
        for project in self.app.projects_delivering(tasking_id):
            if isinstance(fact, ShareProfiled):
                moved = project.react_to_share_profile(
                    context, tasking_id=tasking_id, version=envelope.sequence, share=fact.share,
                    profile=[(p.on, p.value) for p in fact.profile],
                    thresholds=self.app.thresholds_on(self.app.today()), decision=fact.decision)
            elif isinstance(fact, TaskingRetasked):
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
        meetings(app, settings, transport),
        *inbound_consumers(app, settings, transport, partner_clients(settings)),
    ]


def partner_clients(settings: Settings) -> ClientRegistry:
    """The partner clients whose inbound commands this worker consumes (their grants only: no secret needed)."""
    from services.runtime import partner_topics  # the composition root knows every topic a client may be granted

    return ClientRegistry.from_settings(settings, known_topics=partner_topics(), secrets_needed=False)
