"""A meeting's roll is read in one statement: the decision rule's memberships of every partner present, and a
target's taskings, come from one select of the store's events (``ServiceApplication.aggregates``), each aggregate
as the repository would give it, not one select per aggregate."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from services.tasking.application import TaskingApplication
from services.tasking.domain import Membership
from shared.contracts import Actor
from shared.eventstore import CommandContext
from tests.harness import settings_for

OFFICER = CommandContext(Actor("officer-1", "worcestershire-cc", "partnership_officer"), "corr-roll")
PSTG = ["worcestershire-cc", "chamber-of-commerce", "worcester-college"]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[TaskingApplication]:
    application = TaskingApplication(settings_for(data_dir=tmp_path))
    yield application
    application.close()


def _count_selects(app: TaskingApplication, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every select of one aggregate's events the recorder is asked for (a spy: the reads still happen)."""
    asked: list[Any] = []
    original = app.recorder.select_events

    def counted(originator_id: Any, **kwargs: Any) -> Any:
        asked.append(originator_id)
        return original(originator_id, **kwargs)

    monkeypatch.setattr(app.recorder, "select_events", counted)
    return asked


def test_the_memberships_of_a_roll_are_read_in_one_statement_and_are_the_repositorys(
        app: TaskingApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    for organisation in PSTG:
        app.join(OFFICER, body="pstg", organisation=organisation, joined_on=date(2010, 1, 1))
    app.leave(OFFICER, body="pstg", organisation=PSTG[2], left_on=date(2011, 1, 1), expected_version=1,
              reason="The college withdrew from the theme group")
    asked = _count_selects(app, monkeypatch)
    roll = app.meetings.memberships("pstg", [*PSTG, "not-a-member"], date(2011, 6, 1))
    assert asked == []
    assert roll == {PSTG[0]: (1, True), PSTG[1]: (1, True), PSTG[2]: (2, False), "not-a-member": (0, False)}
    read = app.aggregates([Membership.id_for("pstg", o) for o in PSTG])
    for organisation in PSTG:
        one: Membership = app.repository.get(Membership.id_for("pstg", organisation))
        assert vars(read[one.id]) == vars(one)


def test_aggregates_not_stored_are_absent(app: TaskingApplication) -> None:
    assert app.aggregates([uuid4(), uuid4()]) == {}
    assert app.aggregates([]) == {}


def test_the_taskings_of_a_target_are_read_in_one_statement(
        app: TaskingApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    target_id = uuid4()
    ids = [uuid4(), uuid4(), uuid4()]
    with app.local.transaction() as tx:
        for tasking_id in ids:
            tx.execute("INSERT INTO target_taskings (target_id, tasking_id) VALUES (?, ?)",
                       [str(target_id), str(tasking_id)])
    asked = _count_selects(app, monkeypatch)
    assert app.taskings_of_target(target_id) == []  # rows of taskings never saved are skipped
    assert asked == []
    assert app.allocated(target_id) == Decimal(0)
