"""A policy runner passes over the events its policy does not react to (``reacts_to``) without a transaction each:
their positions are written once, covered by the next reaction's record or at the next empty poll; each event it
reacts to is still reacted to exactly once, across a restart too."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.domain import Aggregate

from services.runtime import make_transport
from services.tasking.application import TaskingApplication
from shared.consumer import PolicyRunner
from shared.contracts import Actor, Fact, to_data
from shared.contracts.priorities import ObjectiveAdded, ObjectiveRetired, StrategyLevel
from shared.envelope import Envelope, encode
from shared.settings import Settings
from shared.transport import Transport
from tests.harness import settings_for

TOPIC = "policy.events"
DLQ = "policy.dlq"
ACTOR = Actor("officer-1", "worcestershire-cc", "partnership_officer")


class RetirementsOnly:
    """Reacts to retirements only (with no change of its own: the reaction is the position it records)."""

    reacts_to = (ObjectiveRetired,)

    def __init__(self) -> None:
        self.reacted: list[str] = []

    def react(self, envelope: Envelope) -> Sequence[Aggregate]:
        self.reacted.append(envelope.subject)
        return []


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(data_dir=tmp_path)


@pytest.fixture
def transport(settings: Settings) -> Iterator[Transport]:
    transport = make_transport(settings)
    transport.ensure_topic(TOPIC, 1)
    transport.ensure_topic(DLQ, 1)
    yield transport
    transport.close()


@pytest.fixture
def app(settings: Settings) -> Iterator[TaskingApplication]:
    application = TaskingApplication(settings)
    yield application
    application.close()


def _publish(transport: Transport, facts: Sequence[Fact]) -> list[str]:
    publisher = transport.publisher()
    subjects = []
    for fact in facts:
        subject = str(uuid.uuid4())
        type_name, data = to_data(fact)
        publisher.publish(TOPIC, subject, encode(Envelope(
            id=f"{subject}:1", source="/services/priorities", type=type_name, subject=subject, time=datetime.now(UTC),
            sequence=1, data=data, actor=ACTOR.user_id, actororganisation=ACTOR.organisation, actorrole=ACTOR.role,
            correlationid="policy")))
        subjects.append(subject)
    publisher.flush()
    publisher.close()
    return subjects


def _added() -> ObjectiveAdded:
    return ObjectiveAdded(actor=ACTOR, correlation_id="policy", title="An objective", level=StrategyLevel.SCS,
                          strategy="SCS")


def _retired() -> ObjectiveRetired:
    return ObjectiveRetired(actor=ACTOR, correlation_id="policy", reason="Done")


class Writes:
    """Counts the runner's tracking writes (each its own transaction) while they still happen."""

    def __init__(self, app: TaskingApplication) -> None:
        self.count = 0
        recorder: Any = app.process_recorder
        real = recorder.insert_tracking

        def counted(tracking: Any) -> None:
            self.count += 1
            real(tracking)

        recorder.insert_tracking = counted


def test_events_passed_over_cost_one_position_write_not_one_each(app: TaskingApplication,
                                                                transport: Transport) -> None:
    writes = Writes(app)
    policy = RetirementsOnly()
    runner = PolicyRunner("passing", app, transport, TOPIC, policy, dead_letter_topic=DLQ)
    _publish(transport, [_added() for _ in range(6)])
    assert runner.process_batch(0.5) == 6
    assert policy.reacted == []
    assert writes.count == 0  # nothing yet: an empty poll (or a reaction) records them
    assert runner.process_batch(0.05) == 0
    assert writes.count == 1
    assert runner._last_position(runner._tracking_name(0)) == 5  # the topic's end: reconcile finds it caught up
    runner.close()


def test_a_reaction_records_what_was_passed_over_before_it(app: TaskingApplication, transport: Transport) -> None:
    writes = Writes(app)
    policy = RetirementsOnly()
    runner = PolicyRunner("passing", app, transport, TOPIC, policy, dead_letter_topic=DLQ)
    subjects = _publish(transport, [_added(), _added(), _retired(), _added()])
    while runner.process_batch(0.05):
        pass
    assert policy.reacted == [subjects[2]]
    assert writes.count == 2  # the reaction (covering the two before it), then the last one passed over
    assert runner._last_position(runner._tracking_name(0)) == 3
    runner.close()


def test_a_restart_before_the_positions_are_written_passes_over_them_again_and_reacts_once(
        app: TaskingApplication, transport: Transport) -> None:
    first = RetirementsOnly()
    runner = PolicyRunner("passing", app, transport, TOPIC, first, dead_letter_topic=DLQ)
    subjects = _publish(transport, [_retired(), _added(), _added()])
    assert runner.process_batch(0.5) == 3
    runner._reset()  # as after an error or a kill: the reader reopens from the recorded positions
    assert runner._last_position(runner._tracking_name(0)) == 0  # the reaction's position only
    again = RetirementsOnly()
    restarted = PolicyRunner("passing", app, transport, TOPIC, again, dead_letter_topic=DLQ)
    while restarted.process_batch(0.05):
        pass
    assert first.reacted == [subjects[0]] and again.reacted == []  # reacted to once in all
    assert restarted._last_position(restarted._tracking_name(0)) == 2
    restarted.close()


def test_a_policy_without_reacts_to_is_passed_every_event(app: TaskingApplication, transport: Transport) -> None:
    class Everything:
        def __init__(self) -> None:
            self.reacted: list[str] = []

        def react(self, envelope: Envelope) -> Sequence[Aggregate]:
            self.reacted.append(envelope.subject)
            return []

    policy = Everything()
    runner = PolicyRunner("everything", app, transport, TOPIC, policy, dead_letter_topic=DLQ)
    subjects = _publish(transport, [_added(), _retired()])
    while runner.process_batch(0.05):
        pass
    assert policy.reacted == subjects
    runner.close()
