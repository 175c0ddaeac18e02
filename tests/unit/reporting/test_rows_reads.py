"""An event's transaction reads an entity's current row once until something writes its table.

The change feed (what the row was before), the handler (the row it revises) and the feed again (what it is after)
each ask ``Rows.current`` for the same row. The first two are one read; a write to the table makes the next ask read
the table again, so the feed still sees what the handler changed."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from bench.reporting_history import History
from services.reporting.change_feed import ChangeSignal, read_after
from services.reporting.projections import ReportingProjection
from services.reporting.readmodel import ReportingReadModel
from services.reporting.rows import Rows
from shared.contracts import Actor, Decision
from shared.contracts.tasking import CommissioningLevel, TaskingAccepted, TaskingIssued
from shared.envelope import decode
from shared.readstore import Tx

LEAD = Actor("pstg-lead", "worcestershire-cc", "theme_group_lead")
CURRENT_TASKING = "SELECT * FROM taskings WHERE id = ? AND valid_to IS NULL"


class CountedTx:
    """The real transaction, with the statements it was given written down (a spy: every call goes through)."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx
        self.statements: list[str] = []

    @property
    def postgres(self) -> bool:
        return self._tx.postgres

    def query(self, statement: str, params: Any = ()) -> list[dict[str, Any]]:
        self.statements.append(statement)
        return self._tx.query(statement, params)

    def execute(self, statement: str, params: Any = ()) -> int:
        self.statements.append(statement)
        return self._tx.execute(statement, params)

    def executemany(self, statement: str, rows: Any) -> None:
        self.statements.append(statement)
        self._tx.executemany(statement, rows)


def _tasking_history() -> tuple[History, uuid.UUID]:
    history, tasking = History(), uuid.uuid4()
    history.add("tasking", tasking, 1, TaskingIssued(
        actor=LEAD, correlation_id="c", decision=Decision(body="pstg", decided_on=date(2011, 5, 10),
                                                          reason="Worcester's share", meeting_id=str(uuid.uuid4())),
        target_id=uuid.uuid4(), district="worcester", lead_partner="worcester-city", share=Decimal(1200),
        counts_against_target=True, theme_group="pstg", unit="jobs", deadline=date(2014, 3, 31),
        commissioning_level=CommissioningLevel.DISTRICT))
    history.add("tasking", tasking, 2, TaskingAccepted(actor=LEAD, correlation_id="c", counts_against_target=True))
    return history, tasking


def test_the_row_an_event_changes_is_read_once_before_it_and_once_after(model: ReportingReadModel) -> None:
    history, tasking = _tasking_history()
    issued, accepted = (decode(value) for _, value in history.events["tasking.events"])
    projection = ReportingProjection(changes=ChangeSignal())
    with model.store.transaction() as tx:
        projection.apply(tx, issued)
    with model.store.transaction() as tx:
        counted = CountedTx(tx)
        projection.apply(counted, accepted)  # type: ignore[arg-type]

    # Before: the feed's look, the handler's, then the feed's after the handler wrote (three reads).
    assert counted.statements.count(CURRENT_TASKING) == 2
    # The second read saw the handler's change: the feed says the status moved.
    status = [row for row in read_after(model.store, 0) if row["kind"] == "status_changed"]
    assert [(row["subject"], row["previous_status"], row["status"]) for row in status] == [
        (str(tasking), "issued", "accepted")]


def test_a_row_read_is_read_again_after_a_write_to_its_table_and_a_callers_change_of_it_is_its_own(
        model: ReportingReadModel) -> None:
    history, tasking = _tasking_history()
    issued, accepted = (decode(value) for _, value in history.events["tasking.events"])
    projection = ReportingProjection()
    with model.store.transaction() as tx:
        projection.apply(tx, issued)
    with model.store.transaction() as tx:
        counted = CountedTx(tx)
        into = Rows(counted)  # type: ignore[arg-type]
        first = into.current("taskings", str(tasking))
        assert first is not None and first["status"] == "issued"
        first["status"] = "scribbled on"  # type: ignore[index]
        again = into.current("taskings", str(tasking))
        assert again is not None and again["status"] == "issued"
        assert counted.statements.count(CURRENT_TASKING) == 1
        into.count("event_counts", "unrelated")  # a write to another table keeps what was read
        into.current("taskings", str(tasking))
        assert counted.statements.count(CURRENT_TASKING) == 1
        into.revise("taskings", str(tasking), accepted, status="accepted")
        after = into.current("taskings", str(tasking))
        assert after is not None and after["status"] == "accepted"
        assert counted.statements.count(CURRENT_TASKING) == 2
