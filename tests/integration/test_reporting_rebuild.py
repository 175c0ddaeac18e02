"""The read-model rebuild over real Kafka and PostgreSQL: every topic replayed from the start into a fresh store
equals the live store, row for row, including a redelivered event (applied once) and a malformed message (applied
nowhere); the comparison shows a difference when there is one; the CLI says so too."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from bench.reporting_history import publish
from services.reporting.rebuild import TOPICS, Replay, compare, rebuild
from services.reporting.rebuild_load import Loader
from shared.readstore import ReadStore
from shared.settings import Settings
from shared.transport.embedded import EmbeddedTransport
from shared.transport.kafka import KafkaTransport
from tests.harness import Harness, running_system, settings_env, settings_for, wait_until
from tests.integration.test_tasking_steps import set_target_through_priorities, wait_target_known, worked_example
from tests.reporting_histories import project_live, varied

pytestmark = pytest.mark.integration


def _all_consumed(h: Harness) -> bool:
    transport, settings = h.system.transport, h.system.settings
    for consumer in h.system.consumers:
        if consumer.name != "reporting":
            continue
        ends = sum(transport.end_offsets(consumer.topic).values())
        status = consumer.status
        if status.applied + status.duplicates + status.dead_lettered < ends:
            return False
    return settings is not None


def _redeliver_and_garble(h: Harness) -> None:
    """What a restarted relay and a broken partner system do: one event published twice, one message of garbage."""
    topic = h.system.settings.topic("tasking.events")
    reader = h.system.transport.reader(topic, dict.fromkeys(h.system.transport.partitions(topic), 0))
    try:
        first = wait_until(lambda: reader.poll(1, 1.0), what="a tasking event")[0]
    finally:
        reader.close()
    publisher = h.system.transport.publisher()
    try:
        publisher.publish(topic, first.key, first.value)
        publisher.publish(topic, "garbage", b"{not a cloud event")
        publisher.flush()
    finally:
        publisher.close()


def test_a_rebuilt_store_equals_the_live_one_and_the_comparison_shows_a_difference(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)
    with running_system(settings) as h:
        target_id = set_target_through_priorities(h)
        wait_target_known(h, target_id)
        worked_example(h, target_id)
        _redeliver_and_garble(h)
        wait_until(lambda: _all_consumed(h), timeout=60, what="the live projection to consume every topic")
        live = h.system.read_model.store  # type: ignore[union-attr]

        report = rebuild(settings, h.system.transport, "reporting_rebuild", progress=False)
        assert report.events == live.query("SELECT COUNT(*) AS n FROM event_log")[0]["n"]
        assert report.duplicates == 1 and len(report.skipped) == 1 and report.skipped[0].startswith("malformed")
        rebuilt = ReadStore(settings, "reporting_rebuild")
        try:
            assert compare(live, rebuilt) == []
            assert rebuilt.position(f"reporting:{settings.topic('tasking.events')}:0") == \
                live.position(f"reporting:{settings.topic('tasking.events')}:0")

            env = {**os.environ, **settings_env(settings)}
            said = subprocess.run([sys.executable, "-m", "services.cli", "readmodel", "compare"], env=env,
                                  capture_output=True, text=True, timeout=120, check=False)
            assert said.returncode == 0, said.stdout + said.stderr
            assert "reporting_rebuild equals reporting" in said.stdout

            with rebuilt.transaction() as tx:
                tx.execute("UPDATE taskings SET share = '1300' WHERE district = 'worcester' AND valid_to IS NULL")
            differences = compare(live, rebuilt)
            assert [(d.table, d.only_live, d.only_rebuilt) for d in differences] == [("taskings", 1, 1)]
            said = subprocess.run([sys.executable, "-m", "services.cli", "readmodel", "compare"], env=env,
                                  capture_output=True, text=True, timeout=120, check=False)
            assert said.returncode == 1
            assert "taskings: 1 row(s) only in reporting, 1 only in reporting_rebuild" in said.stdout
            assert "'share': '1300'" in said.stdout
        finally:
            rebuilt.close()


def test_a_rebuilt_store_equals_the_live_one_on_a_history_with_every_kind_of_change(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    """Retaskings, withdrawals, closures, corrections, RAG overrides, an upcast v1 report (``varied``): the live
    consumer's PostgreSQL store and the rebuilt one (binary COPY, keys added after the load) hold the same rows."""
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)
    transport = KafkaTransport(kafka_bootstrap)
    history = varied(projects=20)
    publish(history, transport, settings.topic_prefix)
    live, _ = project_live(settings, transport, batch_size=200, timeout=1.0)
    try:
        report = rebuild(settings, transport, "reporting_rebuild", progress=False)
        assert report.events == history.count - 2 and report.duplicates == 1 and len(report.skipped) == 3
        rebuilt = ReadStore(settings, "reporting_rebuild")
        try:
            assert compare(live, rebuilt) == []
            for name in TOPICS:
                topic = settings.topic(name)
                for partition in transport.partitions(topic):
                    tracking = f"reporting:{topic}:{partition}"
                    assert rebuilt.position(tracking) == live.position(tracking)
        finally:
            rebuilt.close()
    finally:
        live.close()
        transport.close()


def test_a_rebuild_does_not_depend_on_the_machine_being_quick_enough_for_its_sessions_idle_timeout(
        tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The load's transaction waits on the replay between chunks of rows; on a loaded machine that wait once
    passed the 5 s after which a store's session ends a transaction left idle. Here the sessions end one after 1 s
    and the replay stops for 2.5 s after handing rows over mid-way: the rebuild completes and equals the live store."""
    store_env = Settings.store_env

    def impatient(self: Settings, service: str) -> dict[str, str]:
        return {**store_env(self, service), "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "1"}

    monkeypatch.setattr(Settings, "store_env", impatient)
    monkeypatch.setattr(Loader, "CHUNK", 200)
    hand_over = Replay._hand_over
    pauses: list[int] = []

    def slowly(self: Replay, loader: Loader, rows: Mapping[str, list[Any]]) -> None:
        hand_over(self, loader, rows)
        if not pauses:
            pauses.append(self.report.events)
            time.sleep(2.5)

    monkeypatch.setattr(Replay, "_hand_over", slowly)
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url)
    transport = EmbeddedTransport(tmp_path / "log.sqlite3")
    history = varied(projects=2)
    publish(history, transport, settings.topic_prefix)
    live, _ = project_live(settings, transport, batch_size=50, timeout=0.1)
    try:
        report = rebuild(settings, transport, "reporting_rebuild", progress=False)
        assert 0 < pauses[0] < report.events  # the pause came mid-replay, with the load's transaction open
        rebuilt = ReadStore(settings, "reporting_rebuild")
        try:
            differences = compare(live, rebuilt)
            assert differences == [], differences
        finally:
            rebuilt.close()
    finally:
        live.close()
        transport.close()
