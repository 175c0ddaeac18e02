"""On PostgreSQL the relay publishes when the store announces a commit, not on its next look at the log."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from shared.contracts import Actor
from shared.contracts.priorities import StrategyLevel
from shared.eventstore import CommandContext
from tests.copies import board_meeting
from tests.harness import BOARD_DAY, running_system, settings_for, wait_until

OFFICER = CommandContext(Actor("po-1", "worcestershire-cc", "partnership_officer"), "c-1")


def test_a_commit_wakes_the_relay_long_before_its_fallback_look(tmp_path: Path, postgres_url: str,
                                                                  kafka_bootstrap: str) -> None:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)
    with running_system(settings, services=("priorities",), workers=False) as h:
        app = h.system.application("priorities")
        relay = h.system.relays[0]
        assert relay.signal is not None
        relay.signal.fallback = 5.0  # only the announcement can wake it within the second asserted below
        stop = threading.Event()
        thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
        thread.start()
        try:
            wait_until(lambda: relay.status.leader, timeout=10, what="the relay to lead")
            adopted = board_meeting(app.local, BOARD_DAY, "Adopted by the partnership board")
            time.sleep(0.5)  # it has found the log empty and waits on the signal
            for n in range(3):
                stored = time.monotonic()
                app.add_objective(OFFICER, title=f"Objective {n}", level=StrategyLevel.SCS, strategy="SCS",
                                  decision=adopted)
                wait_until(lambda n=n: relay.status.published > n, timeout=5, what="the event published")
                assert time.monotonic() - stored < 1.0
        finally:
            stop.set()
            started_stopping = time.monotonic()
            thread.join(timeout=10)
        assert not thread.is_alive() and time.monotonic() - started_stopping < 6  # the fallback bounds a stop
        ends = h.system.transport.end_offsets(relay.topic)
        assert sum(ends.values()) == 3
