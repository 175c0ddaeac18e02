"""An event of a contract not yet released to partners never reaches a topic they read: the relay holds at it,
losing nothing, and publishes it once the release that declares it ships (real Kafka)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition

import shared.contracts as contracts
import shared.contracts.priorities as priorities_contracts
from shared.contracts import CONTRACT_RELEASE, Actor
from shared.contracts.priorities import StrategyLevel
from shared.envelope import PUBLIC_EVENTS_ONLY_IN_RELEASE, decode, publishes_internal_events
from shared.eventstore import CommandContext
from shared.settings import Settings
from tests.contract_probe import PROBE_TYPE, Probe, declared_unreleased
from tests.copies import board_meeting
from tests.harness import BOARD_DAY, running_system, settings_for, wait_until

OFFICER = CommandContext(Actor("po-1", "worcestershire-cc", "partnership_officer"), "c-1")


def _types_on(bootstrap: str, topic: str) -> list[str]:
    """The types of every record on the topic, sorted (different aggregates' events have no order between them)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    types: list[str] = []
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        deadline = time.monotonic() + 30
        while any(consumer.position(p) < ends[p] for p in partitions) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                types.extend(decode(record.value).type for record in records)
    finally:
        consumer.close()
    return sorted(types)


def test_on_kafka_unreleased_events_are_held_unless_the_environment_says_no_partner_reads_it(tmp_path: Path) -> None:
    assert not Settings(kafka_bootstrap_servers="kafka:9092").publishes_unreleased_events
    assert Settings(kafka_bootstrap_servers="kafka:9092", publish_unreleased_events=True).publishes_unreleased_events
    assert Settings(data_dir=tmp_path).publishes_unreleased_events  # the embedded log: no partner reads it


def test_an_unreleased_event_never_reaches_the_topic_and_is_published_when_its_release_ships(
        tmp_path: Path, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch) -> None:
    declared_unreleased(monkeypatch)
    settings = settings_for(data_dir=tmp_path, kafka=kafka_bootstrap, publish_unreleased_events=None)
    assert not settings.publishes_unreleased_events  # what a deployment partners read gets by default
    with running_system(settings, services=("priorities",), workers=False) as h:
        app = h.system.application("priorities")
        [relay] = h.system.relays
        app.add_objective(OFFICER, title="Before", level=StrategyLevel.SCS, strategy="SCS",
                          decision=board_meeting(app.local, BOARD_DAY, "Adopted by the partnership board"))
        app.save(Probe.note(OFFICER, "declared for the next release"))
        app.add_objective(OFFICER, title="After", level=StrategyLevel.SCS, strategy="SCS",
                          decision=board_meeting(app.local, BOARD_DAY, "Adopted by the partnership board"))

        assert relay.publish_batch() == 1
        assert relay.publish_batch() == 0  # it stands at the unreleased event, whatever follows it
        assert relay.held is not None and PROBE_TYPE in relay.held
        assert app.process_recorder.max_tracking_id(relay.tracking_name) == 1  # recorded just before it

        stop = threading.Event()
        thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
        thread.start()
        try:
            wait_until(lambda: relay.status.degraded is not None, timeout=10, what="the relay to say it holds")
            assert h.system.health()["status"] == "degraded"
            assert PROBE_TYPE in h.system.health()["relays"][relay.topic]["degraded"]
        finally:
            stop.set()
            thread.join(timeout=10)
        assert _types_on(kafka_bootstrap, relay.topic) == ["priorities.ObjectiveAdded.v1"]

        # The release ships: the same relay, the same log, and nothing was lost.
        monkeypatch.setattr(contracts, "CONTRACT_RELEASE", CONTRACT_RELEASE + 1)
        assert relay.publish_batch() == 2
        assert relay.held is None
    assert _types_on(kafka_bootstrap, relay.topic) == ["priorities.ObjectiveAdded.v1", "priorities.ObjectiveAdded.v1",
                                                       PROBE_TYPE]


def test_a_pre_release_environment_publishes_unreleased_events(
        tmp_path: Path, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch) -> None:
    declared_unreleased(monkeypatch)
    settings = settings_for(data_dir=tmp_path, kafka=kafka_bootstrap, publish_unreleased_events=True)
    with running_system(settings, services=("priorities",), workers=False) as h:
        app = h.system.application("priorities")
        [relay] = h.system.relays
        app.save(Probe.note(OFFICER, "previewed"))
        app.add_objective(OFFICER, title="After", level=StrategyLevel.SCS, strategy="SCS",
                          decision=board_meeting(app.local, BOARD_DAY, "Adopted by the partnership board"))
        assert relay.publish_batch() == 2 and relay.held is None
        assert _types_on(kafka_bootstrap, relay.topic) == ["priorities.ObjectiveAdded.v1", PROBE_TYPE]


def _one_internal_and_one_public(tmp_path: Path, kafka_bootstrap: str) -> tuple[int, list[str]]:
    settings = settings_for(data_dir=tmp_path, kafka=kafka_bootstrap)
    with running_system(settings, services=("priorities",), workers=False) as h:
        app = h.system.application("priorities")
        [relay] = h.system.relays
        app.save(Probe.note(OFFICER, "bookkeeping"))
        app.add_objective(OFFICER, title="Public", level=StrategyLevel.SCS, strategy="SCS",
                          decision=board_meeting(app.local, BOARD_DAY, "Adopted by the partnership board"))
        assert relay.publish_batch() == 2
        assert app.process_recorder.max_tracking_id(relay.tracking_name) == 2  # past both, whatever it published
        return relay.status.published, _types_on(kafka_bootstrap, relay.topic)


def test_release_1_published_internal_events(tmp_path: Path, kafka_bootstrap: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """What a relay of release 1 did (the release partners had until release 2): the test below is today's."""
    monkeypatch.setattr(contracts, "CONTRACT_RELEASE", 1)
    assert publishes_internal_events()
    probe = declared_unreleased(monkeypatch, release=1)
    monkeypatch.setattr(priorities_contracts, "INTERNAL", priorities_contracts.INTERNAL | {probe})
    assert _one_internal_and_one_public(tmp_path, kafka_bootstrap) == (2, ["priorities.ObjectiveAdded.v1",
                                                                           PROBE_TYPE])


def test_from_release_2_internal_events_are_passed_over_not_published(tmp_path: Path, kafka_bootstrap: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    assert CONTRACT_RELEASE >= PUBLIC_EVENTS_ONLY_IN_RELEASE and not publishes_internal_events()
    probe = declared_unreleased(monkeypatch, release=1)
    monkeypatch.setattr(priorities_contracts, "INTERNAL", priorities_contracts.INTERNAL | {probe})
    assert _one_internal_and_one_public(tmp_path, kafka_bootstrap) == (1, ["priorities.ObjectiveAdded.v1"])
