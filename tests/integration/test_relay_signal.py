"""On PostgreSQL the relay publishes when the store announces a commit, not on its next look at the log."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shared.contracts import Actor
from shared.contracts.priorities import StrategyLevel
from shared.eventstore import CommandContext
from shared.relay import Relay
from shared.settings import Settings
from tests.copies import board_meeting
from tests.harness import BOARD_DAY, running_system, settings_for, wait_until

OFFICER = CommandContext(Actor("po-1", "worcestershire-cc", "partnership_officer"), "c-1")


@contextmanager
def relay_running(settings: Settings) -> Iterator[tuple[Any, Relay]]:
    """Priorities' relay in a thread of its own, leading, with its fallback look at 5 s: only the announcement can
    wake it within the seconds the tests assert. Its stop is bounded by the fallback."""
    with running_system(settings, services=("priorities",), workers=False) as h:
        app = h.system.application("priorities")
        relay = h.system.relays[0]
        assert relay.signal is not None
        relay.signal.fallback = 5.0
        stop = threading.Event()
        thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
        thread.start()
        try:
            wait_until(lambda: relay.status.leader, timeout=10, what="the relay to lead")
            yield app, relay
        finally:
            stop.set()
            started_stopping = time.monotonic()
            thread.join(timeout=10)
        assert not thread.is_alive() and time.monotonic() - started_stopping < 6


def on_topic(relay: Relay) -> int:
    """How many events are on the relay's topic."""
    return sum(relay.transport.end_offsets(relay.topic).values())


def test_a_commit_wakes_the_relay_long_before_its_fallback_look(tmp_path: Path, postgres_url: str,
                                                                  kafka_bootstrap: str) -> None:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)
    with relay_running(settings) as (app, relay):
        adopted = board_meeting(app.local, BOARD_DAY, "Adopted by the partnership board")
        time.sleep(0.5)  # it has found the log empty and waits on the signal
        for n in range(3):
            stored = time.monotonic()
            app.add_objective(OFFICER, title=f"Objective {n}", level=StrategyLevel.SCS, strategy="SCS",
                              decision=adopted)
            wait_until(lambda n=n: relay.status.published > n, timeout=5, what="the event published")
            assert time.monotonic() - stored < 1.0
        ends = on_topic(relay)
    assert ends == 3


def test_a_relay_looks_at_its_log_once_per_commit_and_misses_none_made_while_it_publishes(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    """A batch that read the log to its end is not followed by a look that finds nothing (a transaction of every
    service per event): the relay waits for the next announcement. Commits made while it publishes announced
    themselves meanwhile, so they are published at once, not at the fallback look."""
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)
    with relay_running(settings) as (app, relay):
        looks: list[int] = []
        select = app.recorder.select_notifications

        def counted(*args: Any, **kwargs: Any) -> Any:
            found = select(*args, **kwargs)
            looks.append(len(found))
            return found

        app.recorder.select_notifications = counted  # the relay asks its application's recorder at every look
        adopted = board_meeting(app.local, BOARD_DAY, "Adopted by the partnership board")
        wait_until(lambda: len(looks) >= 1, timeout=6, what="a look at the log")
        time.sleep(0.5)
        before = len(looks)
        for n in range(5):
            app.add_objective(OFFICER, title=f"Objective {n}", level=StrategyLevel.SCS, strategy="SCS",
                              decision=adopted)
            wait_until(lambda n=n: relay.status.published > n, timeout=5, what="the event published")
            time.sleep(0.05)
        assert len(looks) - before == 5, looks[before:]  # one per commit: the code before looked twice
        assert all(found == 1 for found in looks[before:])
        # Ten commits in a burst, most of them while the relay publishes: all out within two seconds.
        burst = time.monotonic()
        for n in range(10):
            app.add_objective(OFFICER, title=f"Burst {n}", level=StrategyLevel.SCS, strategy="SCS",
                              decision=adopted)
        wait_until(lambda: relay.status.published >= 15, timeout=5, what="the burst published")
        assert time.monotonic() - burst < 2.0
        ends = on_topic(relay)
    assert ends == 15
