"""Reactions to upstream events on ``priorities.events``: the targets tasking knows (``known_targets``, a
ConsumerRunner into tasking's own tables), and whether a revision leaves a target over-allocated
(``OverAllocationPolicy``, a PolicyRunner recording ``TargetOverAllocated`` or its clearing in tasking's store)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from services.tasking.application import TaskingApplication
from services.tasking.domain import Allotted
from services.tasking.known_targets import KnownTargets
from shared.consumer import ConsumerRunner, PolicyRunner
from shared.contracts import Actor
from shared.contracts.priorities import TargetRevised
from shared.envelope import Envelope
from shared.eventstore import CommandContext
from shared.settings import Settings
from shared.transport import Transport


class OverAllocationPolicy:
    """A target revised below what its shares add up to (priorities' copy of the shares was behind): record the
    target over-allocated; revised back above them, clear it. The figures are the revision's own (not tasking's
    copy of the target, which another runner writes), the shares tasking's (the authority on them). Idempotent: a
    redelivered revision finds the allocation already says so and records nothing."""

    reacts_to = (TargetRevised,)
    """The runner passes over every other event of the topic (most of them) without a transaction each."""

    def __init__(self, app: TaskingApplication) -> None:
        self.app = app

    def react(self, envelope: Envelope) -> Sequence[Aggregate]:
        fact = envelope.fact()
        if not isinstance(fact, self.reacts_to):
            return []
        context = CommandContext(
            Actor(user_id=envelope.actor, organisation=envelope.actororganisation, role=envelope.actorrole),
            envelope.correlationid)
        allotted = Allotted(metric=fact.metric, unit=fact.unit, target_value=fact.target_value,
                            baseline_value=fact.baseline_value, tasked=Decimal(0))
        allocation = self.app.judged_allocation(context, allotted, UUID(envelope.subject))
        return [] if allocation is None else [allocation]


def consumers(app: TaskingApplication, settings: Settings, transport: Transport) -> list[Any]:
    topic = settings.topic("priorities.events")
    dead_letters = settings.topic("tasking.dlq")
    return [ConsumerRunner("tasking", app.local, transport, topic, KnownTargets(),
                           dead_letter_topic=dead_letters, batch_size=settings.consumer_batch_size),
            PolicyRunner("tasking-allocations", app, transport, topic, OverAllocationPolicy(app),
                         dead_letter_topic=dead_letters)]
