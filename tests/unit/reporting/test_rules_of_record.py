"""The partnership's rules as history on the reporting side (#23): tasking's PartnershipFounded and QuorumChanged, as
published, reach reporting's copy (``shared.meeting_copy``, the narrow consumer's handler); GraphQL ``partnership``,
``districts`` and ``themeGroups`` answer the quorums in force on ``inForceOn`` as recorded at ``asOf``, and a
decision at a meeting of three stands when dated before the board raised the quorum, not after (shown so)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from services.reporting.graphql import schema
from services.reporting.projections import read_model_ddl
from services.reporting.readmodel import ReportingReadModel
from services.tasking.partnership import founding_of
from shared.auth import Grant, Principal, Role
from shared.contracts import Actor, Decision, to_data
from shared.contracts.tasking import PartnershipFounded, QuorumChanged
from shared.envelope import Envelope
from shared.meeting_copy import MeetingsCopy
from shared.partnership import load
from shared.readstore import ReadStore
from tests.copies import BOARD_TABLE, TaskingFeed
from tests.harness import settings_for

AUDITOR = Principal(user_id="auditor-1", organisation="worcestershire-cc", grants=frozenset({Grant(Role.AUDITOR)}))
OFFICER = Actor("officer-1", "worcestershire-cc", "partnership_officer")
PSTG_THREE = ["worcestershire-cc", "wychavon-dc", "chamber-of-commerce"]
RAISED_AT = datetime(2024, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def model(tmp_path: Path) -> Iterator[ReportingReadModel]:
    store = ReadStore(settings_for(data_dir=tmp_path), "reporting")
    try:
        yield ReportingReadModel(store, read_model_ddl())
    finally:
        store.close()


def _publish(model: ReportingReadModel, version: int, fact: Any, at: datetime) -> None:
    """As tasking publishes it: the contract's data in an envelope, through the copy's handler."""
    type_name, data = to_data(fact)
    envelope = Envelope(id=f"p:{version}", source="/services/tasking", type=type_name, subject="partnership",
                        time=at, sequence=version, data=data, actor=OFFICER.user_id,
                        actororganisation=OFFICER.organisation, actorrole=OFFICER.role, correlationid="c")
    with model.store.transaction() as tx:
        MeetingsCopy().apply(tx, envelope)


def _raise_pstg_quorum(model: ReportingReadModel) -> tuple[dict[str, Any], dict[str, Any]]:
    feed = TaskingFeed(model.store)
    for organisation in {*PSTG_THREE, *BOARD_TABLE}:
        feed.seat("pstg", organisation)
        feed.seat("worcestershire-partnership", organisation)
    definition = load()
    _publish(model, 1, PartnershipFounded(actor=OFFICER, correlation_id="c", **founding_of(definition)),
             datetime(2024, 1, 1, tzinfo=UTC))
    may = feed.meeting("pstg", date(2011, 5, 10), PSTG_THREE, "Worcester's share")
    board = feed.meeting("worcestershire-partnership", date(2011, 6, 1), BOARD_TABLE, "Theme groups decide with four")
    _publish(model, 2, QuorumChanged(actor=OFFICER, correlation_id="c", decision=Decision(**board), body="pstg",
                                     quorum=4, previous_quorum=3), RAISED_AT)
    june = feed.meeting("pstg", date(2011, 6, 14), PSTG_THREE, "200 to Wychavon")
    return ({**may, "decided_on": may["decided_on"].isoformat()},  # as recorded decisions are stored (JSON)
            {**june, "decided_on": june["decided_on"].isoformat()})


def _pstg_quorum(model: ReportingReadModel, on: str | None, at: datetime | None = None) -> dict[str, int]:
    query = """query($on: Date, $at: DateTime) {
      partnership(inForceOn: $on, asOf: $at) { bodies { id quorum } }
      themeGroups(inForceOn: $on, asOf: $at) { id quorum }
      districts(inForceOn: $on, asOf: $at) { id quorum } }"""
    result = schema.execute_sync(query, {"on": on, "at": at.isoformat() if at else None},
                                 context_value={"model": model, "principal": AUDITOR})
    assert result.errors is None, result.errors
    assert result.data is not None
    groups = {g["id"]: g["quorum"] for g in result.data["themeGroups"]}
    bodies = {b["id"]: b["quorum"] for b in result.data["partnership"]["bodies"]}
    assert groups["pstg"] == bodies["pstg"]
    return {"pstg": bodies["pstg"], "wychavon": {d["id"]: d["quorum"] for d in result.data["districts"]}["wychavon"]}


def test_graphql_answers_the_quorums_in_force_on_a_day_as_recorded_at_a_moment(model: ReportingReadModel) -> None:
    _raise_pstg_quorum(model)
    assert _pstg_quorum(model, "2011-05-31") == {"pstg": 3, "wychavon": 3}
    assert _pstg_quorum(model, "2011-06-01") == {"pstg": 4, "wychavon": 3}
    assert _pstg_quorum(model, None) == {"pstg": 4, "wychavon": 3}  # today
    # The record before the change was entered: three, on any day.
    assert _pstg_quorum(model, "2011-06-14", datetime(2024, 2, 1, tzinfo=UTC)) == {"pstg": 3, "wychavon": 3}
    assert _pstg_quorum(model, "2011-06-14", RAISED_AT) == {"pstg": 4, "wychavon": 3}


def test_a_decision_before_the_quorum_was_raised_stands_and_one_after_at_the_same_size_does_not(
        model: ReportingReadModel) -> None:
    may, june = _raise_pstg_quorum(model)
    provenance = model.provenance
    assert provenance.problems(may) == []
    assert provenance.meeting(may) is not None  # shown with its meeting: it resolves
    problems = provenance.problems(june)
    assert problems and any("4" in p for p in problems), problems
    assert provenance.meeting(june) is None


def test_until_the_founding_reaches_the_copy_the_definition_stands_in(model: ReportingReadModel) -> None:
    assert _pstg_quorum(model, "2011-06-14") == {"pstg": 3, "wychavon": 3}
