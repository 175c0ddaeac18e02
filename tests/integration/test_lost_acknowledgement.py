"""A command whose COMMIT landed but whose acknowledgement was lost (the database restarting) is applied once and
answered as done; a genuinely competing write is still a 409 concurrent change. On real PostgreSQL the event-store
library's own retry re-sends the insert; on SQLite the retry is made by hand (that recorder has none)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import OperationalError, StoredEvent, Tracking

from services.priorities.application import PrioritiesApplication
from shared.contracts import Actor, Decision
from shared.eventstore import CommandContext
from tests.copies import board_decision, board_meeting
from tests.harness import Harness, running_system, settings_for

pytestmark = pytest.mark.integration



class AcknowledgementLostOnce:
    """Around a PostgreSQL recorder's connections: after the next insert of events has committed, the connection
    fails once with OperationalError, as when the server goes away between COMMIT and its reply. The failure is
    raised inside the library's retried ``insert_events``, so its own retry runs."""

    def __init__(self, recorder: Any) -> None:
        self.inserts = 0
        self.fired = False
        datastore = recorder.datastore
        real_connection = datastore.get_connection
        real_insert = recorder._insert_stored_events

        def insert(*args: Any, **kwargs: Any) -> None:
            self.inserts += 1
            real_insert(*args, **kwargs)

        @contextmanager
        def connection() -> Iterator[Any]:
            before = self.inserts
            with real_connection() as conn:
                yield conn
            if self.inserts > before and not self.fired:  # this connection's insert has committed
                self.fired = True
                raise OperationalError("server closed the connection unexpectedly")

        recorder._insert_stored_events = insert
        datastore.get_connection = connection


class RetriedOnce:
    """Around a SQLite recorder: the next insert of events is sent twice, the second time as a retry after a lost
    acknowledgement would be."""

    def __init__(self, recorder: Any) -> None:
        self.inserts = 0
        self.fired = False
        real_insert = recorder.insert_events

        def insert(stored: list[StoredEvent], **kwargs: Any) -> Any:
            self.inserts += 1
            result = real_insert(stored, **kwargs)
            if not self.fired:
                self.fired = True
                self.inserts += 1
                return real_insert(stored, **kwargs)
            return result

        recorder.insert_events = insert


class CompetingWriteFirst:
    """Around a recorder: just before the next insert, another process (a second application on the same store)
    rewords the same objective at the same version, so that insert genuinely conflicts."""

    def __init__(self, recorder: Any, other: PrioritiesApplication, objective_id: UUID) -> None:
        real_insert = recorder.insert_events
        self.done = False

        def insert(stored: list[StoredEvent], **kwargs: Any) -> Any:
            if not self.done:
                self.done = True
                someone_else = CommandContext(Actor("someone-else", "worcestershire-cc", "partnership_officer"),
                                              "competing")
                other.reword_objective(someone_else, objective_id, expected_version=1, title="Their wording",
                                       decision=board_meeting(other.local, date(2011, 5, 18), "Their reason"))
            return real_insert(stored, **kwargs)

        recorder.insert_events = insert


def _objective(h: Harness) -> str:
    created = h.client.post("/priorities/objectives", headers=h.headers("partnership_officer"), json={
        "title": "A skilled and prosperous economy", "level": "scs", "strategy": "Sustainable Community Strategy",
        "decision": h.board_decision()})
    assert created.status_code == 201, created.text
    objective_id: str = created.json()["id"]
    return objective_id


def _reword(h: Harness, objective_id: str, title: str) -> Any:
    return h.client.post(f"/priorities/objectives/{objective_id}/reword", headers=h.headers("partnership_officer"),
                         json={"title": title, "expected_version": 1, "decision": board_decision(
                             h.system.application("priorities").local, date(2011, 5, 18), "Agreed by the board")})


def _stored(h: Harness, objective_id: str) -> list[StoredEvent]:
    return list(h.system.application("priorities").recorder.select_events(UUID(objective_id)))


@pytest.fixture(params=["postgres", "sqlite"])
def h(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    postgres_url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with running_system(settings_for(data_dir=tmp_path, postgres_url=postgres_url), services=("priorities",),
                        workers=False) as h:
        yield h


def test_a_command_whose_commit_was_not_acknowledged_is_applied_once_and_answered_as_done(h: Harness) -> None:
    objective_id = _objective(h)
    recorder = h.system.application("priorities").recorder
    fault = AcknowledgementLostOnce(recorder) if h.system.settings.database_url else RetriedOnce(recorder)

    reworded = _reword(h, objective_id, "Enhance employability levels")

    assert fault.inserts == 2  # the retry ran, and met the first attempt's committed write
    assert reworded.status_code == 200, reworded.text
    assert reworded.json()["version"] == 2
    assert [e.originator_version for e in _stored(h, objective_id)] == [1, 2]
    read = h.client.get(f"/priorities/objectives/{objective_id}", headers=h.headers("auditor"))
    assert read.json()["title"] == "Enhance employability levels"
    assert read.json()["version"] == 2


def test_a_genuinely_competing_write_is_still_a_concurrent_change(h: Harness) -> None:
    objective_id = _objective(h)
    other = PrioritiesApplication(h.system.settings)
    try:
        CompetingWriteFirst(h.system.application("priorities").recorder, other, UUID(objective_id))

        reworded = _reword(h, objective_id, "Our wording")

        assert reworded.status_code == 409, reworded.text
        assert "concurrent-change" in reworded.json()["type"]
        stored = _stored(h, objective_id)
        assert [e.originator_version for e in stored] == [1, 2]
        assert b"Their wording" in stored[1].state and b"Our wording" not in stored[1].state
    finally:
        other.close()


def test_a_policy_save_whose_commit_was_not_acknowledged_counts_as_done_with_its_position(h: Harness) -> None:
    objective_id = _objective(h)
    app: PrioritiesApplication = h.system.application("priorities")
    recorder = app.recorder
    fault = AcknowledgementLostOnce(recorder) if h.system.settings.database_url else RetriedOnce(recorder)
    objective = app.objective(UUID(objective_id))
    objective.reword(CommandContext(Actor("policy", "worcestershire-cc", "system"), "upstream-7"),
                     title="Reworded in reaction", decision=Decision("pstg", date(2011, 5, 18), "Upstream fact"))

    app.save_with_tracking(Tracking("upstream.events", 7), objective)

    assert fault.fired  # committed, then retried: on PostgreSQL the retry stops at the tracking row
    assert app.process_recorder.has_tracking_id("upstream.events", 7)
    assert [e.originator_version for e in _stored(h, objective_id)] == [1, 2]
