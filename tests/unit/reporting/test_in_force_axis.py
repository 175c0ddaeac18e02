"""The second time axis (``inForceOn``): each rule of ``shared.in_force`` on real read-model rows (SQLite), the two
axes combined, and the rebuild reproducing both intervals. Recorded moments are 2024-01-01 plus one minute per event
(``bench.reporting_history.History``); the decisions are dated 2011, as a partnership moving onto the system
enters them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bench.reporting_history import START, History
from services.reporting.coordination import queries
from services.reporting.graphql import schema
from services.reporting.projections import ReportingProjection, read_model_ddl
from services.reporting.readmodel import ReportingReadModel
from shared.auth import Grant, Principal, Role
from shared.contracts import Actor, Decision
from shared.contracts.projects import (
    DirectionOfTravel,
    OutcomeValue,
    ProgressReportCorrected,
    Rag,
    Standing,
    Submission,
)
from shared.contracts.tasking import (
    BodyKind,
    CommissioningLevel,
    PartnerJoined,
    TaskingAccepted,
    TaskingIssued,
    TaskingRetasked,
)
from shared.envelope import decode
from shared.in_force import in_force_from
from shared.readstore import ReadStore
from tests.harness import settings_for

LEAD = Actor("pstg-lead", "worcestershire-cc", "theme_group_lead")
AUDITOR = Principal(user_id="auditor-1", organisation="worcestershire-cc", grants=frozenset({Grant(Role.AUDITOR)}))
MAY, JUNE = date(2011, 5, 10), date(2011, 6, 14)
TERMS: dict[str, Any] = {"theme_group": "pstg", "unit": "jobs", "deadline": date(2014, 3, 31),
                         "commissioning_level": CommissioningLevel.DISTRICT}


def _decision(on: date, reason: str = "the sites are in Wychavon") -> Decision:
    return Decision(body="pstg", decided_on=on, reason=reason, meeting_id=str(uuid.uuid4()))


def _recorded(n: int) -> datetime:
    """The moment the n-th event (from 0) of a ``History`` was recorded."""
    return START + timedelta(minutes=n)


@pytest.fixture
def model(tmp_path: Path) -> Iterator[ReportingReadModel]:
    store = ReadStore(settings_for(data_dir=tmp_path), "reporting")
    try:
        yield ReportingReadModel(store, read_model_ddl())
    finally:
        store.close()


def _apply(model: ReportingReadModel, history: History) -> None:
    projection = ReportingProjection()
    with model.store.transaction() as tx:
        for topic in history.events.values():
            for _, value in topic:
                projection.apply(tx, decode(value))


def _worked_example(model: ReportingReadModel, *, retask: bool = True) -> tuple[History, uuid.UUID]:
    """Worcester tasked 1,200 jobs (decided in May 2011), accepting (no decision: in force from when recorded), then
    200 moved to Wychavon (decided 14 June 2011): all entered in 2024."""
    history, worcester, wychavon = History(), uuid.uuid4(), uuid.uuid4()
    target = uuid.uuid4()
    history.add("tasking", worcester, 1, TaskingIssued(
        actor=LEAD, correlation_id="c", decision=_decision(MAY, "Worcester's share"), target_id=target,
        district="worcester", lead_partner="worcester-city", share=Decimal(1200), counts_against_target=True,
        **TERMS))
    history.add("tasking", worcester, 2, TaskingAccepted(actor=LEAD, correlation_id="c", counts_against_target=True))
    if retask:
        history.add("tasking", worcester, 3, TaskingRetasked(
            actor=LEAD, correlation_id="c", decision=_decision(JUNE), district="worcester",
            lead_partner="worcester-city", share=Decimal(1000), deadline=TERMS["deadline"],
            previous_district="worcester", previous_lead_partner="worcester-city", previous_share=Decimal(1200),
            previous_deadline=TERMS["deadline"], reason="the sites are in Wychavon", issued_again=False,
            counts_against_target=True))
        history.add("tasking", wychavon, 1, TaskingIssued(
            actor=LEAD, correlation_id="c", decision=_decision(JUNE), target_id=target, district="wychavon",
            lead_partner="wychavon-dc", share=Decimal(200), retasked_from=worcester, counts_against_target=True,
            **TERMS))
    _apply(model, history)
    return history, worcester


def _shares(model: ReportingReadModel, as_of: datetime | None = None,
            in_force_on: date | None = None) -> dict[str, str]:
    return {row["district"]: row["share"]
            for row in queries.taskings(model.store, as_of, in_force_on=in_force_on)}


# -- the rules of shared.in_force ----------------------------------------------------------------------------------


def test_a_fact_under_a_decision_is_in_force_from_the_decisions_date_not_when_it_was_entered() -> None:
    fact = TaskingAccepted(actor=LEAD, correlation_id="c", decision=_decision(JUNE), counts_against_target=True)
    assert in_force_from(fact, datetime(2026, 12, 2, 9, tzinfo=UTC)) == JUNE


def test_a_fact_entered_late_without_a_decision_is_in_force_from_its_business_date(
        model: ReportingReadModel) -> None:
    history = History()
    history.add("tasking", uuid.uuid4(), 1, PartnerJoined(
        actor=LEAD, correlation_id="c", body="pstg", body_kind=BodyKind.THEME_GROUP, organisation="wychavon-dc",
        joined_on=date(2011, 3, 1)))
    _apply(model, history)
    members = queries.memberships
    assert [m["organisation"] for m in members(model.store, in_force_on=date(2011, 3, 1))] == ["wychavon-dc"]
    assert members(model.store, in_force_on=date(2011, 2, 28)) == []
    # Recorded in 2024: the record of 2023 knows nothing of it, on any day.
    assert members(model.store, datetime(2023, 12, 31, tzinfo=UTC), in_force_on=date(2011, 3, 1)) == []
    assert members(model.store)[0]["in_force_from"] == "2011-03-01"


def test_only_a_fact_with_neither_a_decision_nor_a_business_date_is_in_force_from_when_it_was_recorded(
        model: ReportingReadModel) -> None:
    _worked_example(model, retask=False)
    statuses = {day: [row["status"] for row in queries.taskings(model.store, in_force_on=day)]
                for day in (MAY, _recorded(1).date())}
    assert statuses == {MAY: ["issued"], _recorded(1).date(): ["accepted"]}


def test_a_back_dated_decision_is_in_force_from_its_date_over_what_was_entered_before_it(
        model: ReportingReadModel) -> None:
    _worked_example(model)
    assert _shares(model, in_force_on=date(2011, 6, 13)) == {"worcester": "1200"}
    assert _shares(model, in_force_on=date(2011, 6, 15)) == {"worcester": "1000", "wychavon": "200"}
    assert _shares(model, in_force_on=date(2011, 5, 9)) == {}  # before the first decision: nothing in force
    # In force today is what the record holds now: the later-entered decision is the latest word.
    assert _shares(model, in_force_on=date(2026, 12, 2)) == _shares(model) == {"worcester": "1000",
                                                                                "wychavon": "200"}


def test_the_two_axes_combined_ask_what_the_record_then_said_was_in_force_on_a_day(
        model: ReportingReadModel) -> None:
    _worked_example(model)
    before_retasking, after = _recorded(1) + timedelta(seconds=30), _recorded(3) + timedelta(seconds=30)
    june_15 = date(2011, 6, 15)
    # The record before the retasking was entered knew only Worcester's 1,200, on any day after May.
    assert _shares(model, before_retasking, june_15) == {"worcester": "1200"}
    assert _shares(model, before_retasking) == {"worcester": "1200"}
    assert _shares(model, after, june_15) == {"worcester": "1000", "wychavon": "200"}
    assert _shares(model, after, date(2011, 6, 13)) == {"worcester": "1200"}
    # Recorded before anything was entered: nothing, on any day.
    assert _shares(model, START - timedelta(days=1), june_15) == {}


def test_a_correction_takes_the_date_of_what_it_corrects() -> None:
    value = OutcomeValue(outcome_id="o1", value=Decimal(40))
    corrected = ProgressReportCorrected(
        actor=LEAD, correlation_id="c", decision=_decision(date(2012, 2, 1)), corrected_report_on=date(2011, 9, 30),
        reason="double counted", reported_on=date(2011, 10, 31), values=(value,), actuals=(value,), narrative="n",
        rag=Rag.AMBER, shortfall_percent=Decimal(10), direction=DirectionOfTravel.IMPROVING,
        submitted_via=Submission.API,
        standing=Standing(reported_on=date(2011, 10, 31), actuals=(value,), rag=Rag.AMBER,
                          shortfall_percent=Decimal(10)))
    assert in_force_from(corrected, datetime(2026, 12, 2, tzinfo=UTC)) == date(2011, 9, 30)


def test_graphql_taskings_answers_on_both_axes(model: ReportingReadModel) -> None:
    _worked_example(model)
    query = ("query($on: Date, $at: DateTime) { taskings(inForceOn: $on, asOf: $at) "
             "{ district share inForceFrom validFrom } }")

    def ask(on: str | None, at: datetime | None = None) -> list[dict[str, Any]]:
        result = schema.execute_sync(query, {"on": on, "at": at.isoformat() if at else None},
                                     context_value={"model": model, "principal": AUDITOR})
        assert result.errors is None, result.errors
        assert result.data is not None
        return list(result.data["taskings"])

    assert [(t["district"], t["share"], t["inForceFrom"]) for t in ask("2011-06-13")] == [
        ("worcester", "1200", "2011-05-10")]
    assert [(t["district"], t["share"], t["inForceFrom"]) for t in ask("2011-06-15")] == [
        ("worcester", "1000", "2011-06-14"), ("wychavon", "200", "2011-06-14")]
    assert [t["share"] for t in ask("2011-06-15", _recorded(1) + timedelta(seconds=1))] == ["1200"]


def test_every_read_model_answers_on_both_axes_through_graphql(model: ReportingReadModel) -> None:
    """Strategy, delivery and the decision log take inForceOn beside asOf, nested fields included."""
    _worked_example(model)
    query = """query($on: Date, $at: DateTime) {
      objectiveTree(inForceOn: $on, asOf: $at) { title children { title } targets { metric } }
      districtChapters(inForceOn: $on, asOf: $at) { district priorities { title } }
      deliveryProjects(inForceOn: $on, asOf: $at) { title }
      deliveryRollups(inForceOn: $on, asOf: $at) { targetId }
      overdueMilestones(inForceOn: $on, asOf: $at) { title }
      memberships(inForceOn: $on, asOf: $at) { organisation inForceFrom }
      decisions(inForceOn: $on, asOf: $at) { decidedOn }
      decisionLog(inForceOn: $on, asOf: $at) { totalCount }
    }"""
    for on, at in (("2011-06-13", None), ("2011-06-15", _recorded(2).isoformat()), (None, None)):
        result = schema.execute_sync(query, {"on": on, "at": at}, context_value={"model": model,
                                                                              "principal": AUDITOR})
        assert result.errors is None, result.errors
        assert result.data is not None
        decided = sorted(d["decidedOn"] for d in result.data["decisions"])
        assert decided == {"2011-06-13": ["2011-05-10"], "2011-06-15": ["2011-05-10", "2011-06-14"],
                           None: ["2011-05-10", "2011-06-14", "2011-06-14"]}[on]
        assert result.data["decisionLog"]["totalCount"] == len(decided)


CHANGES_IN_FORCE = """query($from: Date!, $to: Date, $at: DateTime) {
  changesInForce(from: $from, to: $to, asOf: $at) {
    edges { node { entity kind district fields before after lastInForceOn
                   steps { type at inForceFrom enteredOn decision { decidedOn } } } } } }"""


def test_changes_over_a_period_of_days_on_the_in_force_axis_show_the_day_entered_where_it_differs(
        model: ReportingReadModel) -> None:
    _worked_example(model)

    def changed(start: str, end: str, at: datetime | None = None) -> dict[str, dict[str, Any]]:
        result = schema.execute_sync(CHANGES_IN_FORCE, {"from": start, "to": end,
                                                        "at": at.isoformat() if at else None},
                                     context_value={"model": model, "principal": AUDITOR})
        assert result.errors is None, result.errors
        assert result.data is not None
        return {e["node"]["district"]: e["node"] for e in result.data["changesInForce"]["edges"]
                if e["node"]["entity"] == "tasking"}

    june = changed("2011-06-01", "2011-06-30")
    # status too: the retasking's version carries the acceptance entered before it (docs/architecture.md).
    assert june["worcester"]["kind"] == "CHANGED"
    assert june["worcester"]["fields"] == ["share", "status", "status_reason"]
    assert (june["worcester"]["before"]["share"], june["worcester"]["after"]["share"]) == ("1200", "1000")
    assert june["wychavon"]["kind"] == "ADDED" and june["wychavon"]["before"] is None
    for node in june.values():
        assert node["lastInForceOn"] == "2011-06-14"
        assert [(s["inForceFrom"], s["enteredOn"], s["decision"]["decidedOn"]) for s in node["steps"]] == [
            ("2011-06-14", "2024-01-01", "2011-06-14")]
    may = changed("2011-05-01", "2011-05-31")
    assert set(may) == {"worcester"} and may["worcester"]["kind"] == "ADDED"
    # The record before the retasking was entered shows no change in force in June 2011.
    assert changed("2011-06-01", "2011-06-30", _recorded(1) + timedelta(seconds=1)) == {}
    # The acceptance, entered in 2024 without a decision, is in force from its day of entry; the record before the
    # retasking was entered shows it coming into force then (no other day to show), and the record now does not:
    # the retasking, entered after it and dated 2011, carries it (docs/architecture.md).
    entered = changed("2023-12-31", "2024-01-02", _recorded(1) + timedelta(seconds=1))
    assert [(s["type"], s["inForceFrom"], s["enteredOn"]) for s in entered["worcester"]["steps"]] == [
        ("tasking.TaskingAccepted.v2", "2024-01-01", None)]
    assert changed("2023-12-31", "2024-01-02") == {}
