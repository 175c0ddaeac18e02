"""The second time axis (``inForceOn``): each rule of ``shared.in_force`` on real read-model rows (SQLite), the two
axes combined, and the rebuild reproducing both intervals. Recorded moments are 2024-01-01 plus one minute per event
(``bench.reporting_history.History``); the decisions are dated 2011, as a partnership moving onto the system
enters them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.reporting_history import START, History
from services.reporting.coordination import queries
from services.reporting.delivery import queries as queries_delivery
from services.reporting.graphql import schema
from services.reporting.projections import ReportingProjection
from services.reporting.readmodel import ReportingReadModel
from services.reporting.rows import Version, in_force_segments
from services.reporting.strategy import queries as strategy_queries
from services.reporting.temporal import in_force_clause, source
from services.tasking.partnership import founding_of
from shared.auth import Grant, Principal, Role
from shared.contracts import Actor, Decision, Fact
from shared.contracts.priorities import PriorityAgreed, PriorityProposed, PriorityRetired, chapter_id
from shared.contracts.projects import (
    DirectionOfTravel,
    InterventionKind,
    InterventionRecorded,
    Outcome,
    OutcomeValue,
    ProgressReportCorrected,
    ProgressReported,
    ProgressReportWithdrawn,
    ProjectOpened,
    Rag,
    ResourceCommitment,
    ResourcesCommitted,
    Standing,
    Submission,
    TaskingRef,
)
from shared.contracts.tasking import (
    BodyKind,
    CommissioningLevel,
    PartnerJoined,
    PartnershipFounded,
    QuorumChanged,
    TaskingAccepted,
    TaskingIssued,
    TaskingRetasked,
)
from shared.envelope import decode
from shared.in_force import in_force_from
from shared.partnership import load

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


def _apply(model: ReportingReadModel, history: History) -> None:
    projection = ReportingProjection()
    with model.store.transaction() as tx:
        for topic in history.events.values():
            for _, value in topic:
                projection.apply(tx, decode(value))


def _worked_example(model: ReportingReadModel, *, retask: bool = True,
                    then: Sequence[Fact] = ()) -> tuple[History, uuid.UUID]:
    """Worcester tasked 1,200 jobs (decided in May 2011), accepting (no decision: in force from when recorded), then
    200 moved to Wychavon (decided 14 June 2011): all entered in 2024; ``then``, Worcester's next events."""
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
    for version, fact in enumerate(then, start=4):
        history.add("tasking", worcester, version, fact)
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


# -- each event's own change, in in-force order (not whole-row versions) -------------------------------------------


def _statuses(model: ReportingReadModel, as_of: datetime | None = None,
              in_force_on: date | None = None) -> dict[str, tuple[str, str]]:
    return {row["district"]: (row["share"], row["status"])
            for row in queries.taskings(model.store, as_of, in_force_on=in_force_on)}


def test_an_undated_fact_entered_before_a_back_dated_decision_is_not_in_force_before_its_own_recording_day(
        model: ReportingReadModel) -> None:
    _worked_example(model)
    entered = _recorded(1).date()  # the acceptance's day of entry
    assert _statuses(model, in_force_on=date(2011, 6, 15))["worcester"] == ("1000", "issued")
    assert _statuses(model, in_force_on=entered)["worcester"] == ("1000", "accepted")
    # The recorded axis answers as it did: the record's latest version, whole.
    assert _statuses(model)["worcester"] == ("1000", "accepted")


def test_a_correction_of_a_back_dated_decision_takes_its_date_and_leaves_later_facts_where_they_are(
        model: ReportingReadModel) -> None:
    correction = TaskingRetasked(
        actor=LEAD, correlation_id="c", decision=_decision(JUNE, "1,100 stay in Worcester, not 1,000"),
        district="worcester", lead_partner="worcester-city", share=Decimal(1100), deadline=TERMS["deadline"],
        previous_district="worcester", previous_lead_partner="worcester-city", previous_share=Decimal(1000),
        previous_deadline=TERMS["deadline"], reason="1,100 stay in Worcester, not 1,000", issued_again=False,
        counts_against_target=True)
    _worked_example(model, then=(correction,))
    entered = _recorded(1).date()
    assert _statuses(model, in_force_on=date(2011, 6, 13))["worcester"] == ("1200", "issued")
    assert _statuses(model, in_force_on=date(2011, 6, 15))["worcester"] == ("1100", "issued")
    assert _statuses(model, in_force_on=entered)["worcester"] == ("1100", "accepted")
    # The record before the correction was entered: the decision it corrects.
    assert _statuses(model, _recorded(3) + timedelta(seconds=30), date(2011, 6, 15))["worcester"] == (
        "1000", "issued")


def test_the_two_axes_combined_show_an_undated_fact_from_its_own_day_in_the_record_of_any_moment(
        model: ReportingReadModel) -> None:
    _worked_example(model)
    june_15, entered = date(2011, 6, 15), _recorded(1).date()
    before_retasking, after = _recorded(1) + timedelta(seconds=30), _recorded(3) + timedelta(seconds=30)
    assert _statuses(model, before_retasking, june_15) == {"worcester": ("1200", "issued")}
    assert _statuses(model, before_retasking, entered) == {"worcester": ("1200", "accepted")}
    assert _statuses(model, after, june_15) == {"worcester": ("1000", "issued"), "wychavon": ("200", "issued")}
    assert _statuses(model, after, entered) == {"worcester": ("1000", "accepted"), "wychavon": ("200", "issued")}


def _version(day: str, n: int, whole: bool = False, **values: Any) -> Version:
    return Version(day, f"2024-01-01T00:0{n}:00", n, values, whole)


def test_a_later_in_force_change_still_wins_over_a_back_dated_one_entered_after_it() -> None:
    issued = _version("2011-05-10", 1, True, id="t", share="1200", status="issued")
    accepted = _version("2024-01-01", 2, status="accepted")
    retasked = _version("2011-06-14", 3, share="1000", status="issued")  # issued again, decided in 2011
    assert [(s["in_force_from"], s["share"], s["status"], s["version"])
            for s in in_force_segments([issued, accepted, retasked])] == [
        ("2011-05-10", "1200", "issued", 1), ("2011-06-14", "1000", "issued", 3),
        ("2024-01-01", "1000", "accepted", 2)]


def test_a_fact_dated_before_its_entity_was_entered_brings_the_entity_into_force_from_that_day() -> None:
    # A project entered today without a decision, and its report of 2013 back-filled after it.
    opened = _version("2026-12-03", 1, True, id="p", rag=None, status="open")
    reported = _version("2013-04-01", 2, rag="green")
    assert [(s["in_force_from"], s["rag"], s["version"]) for s in in_force_segments([opened, reported])] == [
        ("2013-04-01", "green", 2)]


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
    # Not the status: the acceptance entered before the retasking is in force only from its own day of entry.
    assert june["worcester"]["kind"] == "CHANGED"
    assert june["worcester"]["fields"] == ["share", "status_reason"]
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
    # The acceptance, entered in 2024 without a decision, is in force from its day of entry, in the record before
    # the retasking was entered and in the record now (the retasking, dated 2011, does not carry it back).
    for at in (_recorded(1) + timedelta(seconds=1), None):
        entered = changed("2023-12-31", "2024-01-02", at)
        assert [(s["type"], s["inForceFrom"], s["enteredOn"]) for s in entered["worcester"]["steps"]] == [
            ("tasking.TaskingAccepted.v2", "2024-01-01", None)]
        assert "status" in entered["worcester"]["fields"]


def test_every_query_that_reads_as_recorded_at_a_moment_also_reads_as_in_force_on_a_day() -> None:
    """Both axes in every query: a field taking ``asOf`` takes ``inForceOn`` (``changesInForce`` is the one whose
    period is itself on the in-force axis, its days in ``from``/``to``)."""
    graphql = schema._schema  # the schema as served
    checked, missing = 0, []
    for type_name, kind in graphql.type_map.items():
        for field_name, field in (getattr(kind, "fields", None) or {}).items():
            arguments = getattr(field, "args", {}) or {}
            if "asOf" not in arguments or type_name.startswith("__"):
                continue
            checked += 1
            if "inForceOn" not in arguments and (type_name, field_name) != ("Query", "changesInForce"):
                missing.append(f"{type_name}.{field_name}")
    assert checked >= 30 and missing == []


# -- a column summed over events, or a JSON whole of keyed parts: each event's own part folded in in-force order -----
#
# The columns a handler computes from the entity's previous row (found by reading the projections): a project's
# committed_gbp and committed_staff_days (sums) and interventions (a count), a district chapter's agreed_count (a
# count up and down), the rules' bodies, districts and schemes_of_delegation (JSON objects by id), a target's
# intervals (a JSON list added to), an SCS review's outstanding priorities (a JSON list taken from), and a
# project's standing (rag, derived_rag, direction, shortfall_percent, last_reported_on: its latest report's, so a
# report dated before the latest leaves them), and an outcome's actual value (likewise, by its report's date).

def _in_force(model: ReportingReadModel, table: str, day: date, entity_id: str) -> dict[str, Any] | None:
    """The entity's segment in force on ``day``, in the record now."""
    clause, params = in_force_clause(table, None, day)
    found = model.store.query(f"SELECT * FROM {source(table, None, day)} WHERE {clause} AND {table}.id = ?",
                              [*params, entity_id])
    return found[0] if found else None


MARCH, JUNE_2012 = date(2012, 3, 1), date(2012, 6, 1)


def _out_of_date_order(history: History, service: str, subject: uuid.UUID, first: int, later: Fact,
                       earlier: Fact) -> None:
    """The change decided later entered before the one decided earlier."""
    history.add(service, subject, first, later)
    history.add(service, subject, first + 1, earlier)


def _opened_project(history: History) -> uuid.UUID:
    project = uuid.uuid4()
    history.add("projects", project, 1, ProjectOpened(
        actor=LEAD, correlation_id="c", decision=_decision(date(2011, 4, 12)), programme_id=uuid.uuid4(),
        district="worcester", title="Skills centre", lead_partner="worcester-college", project_manager="pm",
        taskings=(TaskingRef(tasking_id=uuid.uuid4(), version=2),), outcomes=(),
        resources=(ResourceCommitment(organisation="worcester-city", money_gbp=Decimal("1000.00"),
                                      staff_days=Decimal(10)),)))
    return project


def test_a_sum_in_force_on_a_day_is_the_sum_of_the_contributions_decided_by_then_whatever_order_they_were_entered(
        model: ReportingReadModel) -> None:
    history = History()
    project = _opened_project(history)

    def committed(on: date, gbp: str, days: str) -> ResourcesCommitted:
        return ResourcesCommitted(actor=LEAD, correlation_id="c", decision=_decision(on, "more resources"),
                                  commitment=ResourceCommitment(organisation="wychavon-dc", money_gbp=Decimal(gbp),
                                                                staff_days=Decimal(days)))

    _out_of_date_order(history, "projects", project, 2, committed(JUNE_2012, "500.50", "5"),
                       committed(MARCH, "300", "2.5"))
    _apply(model, history)
    sums = {day: (row["committed_gbp"], row["committed_staff_days"])
            for day in (date(2012, 2, 1), MARCH, JUNE_2012)
            if (row := _in_force(model, "delivery_projects", day, str(project))) is not None}
    assert sums == {date(2012, 2, 1): ("1000.00", "10"), MARCH: ("1300.00", "12.5"),
                    JUNE_2012: ("1800.50", "17.5")}, sums
    # The recorded axis is as it was: the latest version holds every contribution.
    latest = queries_delivery.project(model.store, str(project))
    assert latest is not None and latest["committed_gbp"] == "1800.50"


def test_a_count_in_force_on_a_day_counts_the_events_in_force_by_then_whatever_order_they_were_entered(
        model: ReportingReadModel) -> None:
    history = History()
    project = _opened_project(history)

    def intervened(on: date) -> InterventionRecorded:
        return InterventionRecorded(actor=LEAD, correlation_id="c", decision=_decision(on, "re-plan"),
                                    kind=InterventionKind.RE_PLAN, description="Re-plan", triggers=("red",))

    _out_of_date_order(history, "projects", project, 2, intervened(JUNE_2012), intervened(MARCH))
    _apply(model, history)
    counts = {day: _in_force(model, "delivery_projects", day, str(project))["interventions"]  # type: ignore[index]
              for day in (date(2012, 2, 1), MARCH, JUNE_2012)}
    assert counts == {date(2012, 2, 1): 0, MARCH: 1, JUNE_2012: 2}, counts


def test_a_chapters_agreed_count_in_force_on_a_day_counts_the_priorities_agreed_by_then_whatever_order_entered(
        model: ReportingReadModel) -> None:
    history = History()
    june, march = uuid.uuid4(), uuid.uuid4()
    for priority in (june, march):
        history.add("priorities", priority, 1, PriorityProposed(
            actor=LEAD, correlation_id="c", decision=_decision(date(2011, 4, 12)), district="worcester",
            title=f"Priority {priority}", rationale="r", objective_id=uuid.uuid4()))
    history.add("priorities", june, 2, PriorityAgreed(actor=LEAD, correlation_id="c",
                                                      decision=_decision(JUNE_2012), district="worcester"))
    history.add("priorities", march, 2, PriorityAgreed(actor=LEAD, correlation_id="c",
                                                       decision=_decision(MARCH), district="worcester"))
    history.add("priorities", march, 3, PriorityRetired(actor=LEAD, correlation_id="c", reason="done",
                                                        decision=_decision(date(2012, 9, 1)), district="worcester"))
    _apply(model, history)
    chapter = str(chapter_id("worcester"))
    counts = {day: row["agreed_count"] for day in (date(2012, 2, 1), MARCH, JUNE_2012, date(2012, 9, 1))
              if (row := _in_force(model, "district_chapters", day, chapter)) is not None}
    assert counts == {MARCH: 1, JUNE_2012: 2, date(2012, 9, 1): 1}, counts
    assert strategy_queries.district_chapters(model.store)[0]["agreed_count"] == 1


def test_the_rules_in_force_on_a_day_are_the_founding_rules_changed_by_the_decisions_dated_by_then_in_any_order(
        model: ReportingReadModel) -> None:
    history, partnership = History(), uuid.uuid4()
    history.add("tasking", partnership, 1, PartnershipFounded(actor=LEAD, correlation_id="c",
                                                              **founding_of(load())))

    def quorum(on: date, body: str, to: int, was: int) -> QuorumChanged:
        return QuorumChanged(actor=LEAD, correlation_id="c", decision=_decision(on, "quorum"), body=body,
                             quorum=to, previous_quorum=was)

    # Raised in June, entered first; then two changes decided in March: another body's, and the same body's.
    _out_of_date_order(history, "tasking", partnership, 2, quorum(JUNE_2012, "pstg", 4, 3),
                       quorum(MARCH, "wychavon", 5, 3))
    history.add("tasking", partnership, 4, quorum(MARCH, "pstg", 2, 4))
    _apply(model, history)

    def quorums(on: date) -> tuple[int, int]:
        row = _in_force(model, "partnership_rules", on, str(partnership))
        assert row is not None
        bodies = json.loads(row["bodies"])
        return bodies["pstg"]["quorum"], bodies["wychavon"]["quorum"]

    found = {day: quorums(day) for day in (date(2012, 2, 1), MARCH, JUNE_2012)}
    assert found == {date(2012, 2, 1): (3, 3), MARCH: (2, 5), JUNE_2012: (4, 5)}, found
    # The recorded axis: the rules as last recorded, the latest-entered change the last word.
    latest = model.store.query("SELECT bodies FROM partnership_rules WHERE valid_to IS NULL")[0]
    assert (json.loads(latest["bodies"])["pstg"]["quorum"], json.loads(latest["bodies"])["wychavon"]["quorum"]) == (
        2, 5)


def test_a_projects_standing_in_force_on_a_day_is_that_of_its_latest_report_dated_by_then_whatever_order_entered(
        model: ReportingReadModel) -> None:
    """A report dated before the latest one the record holds (back-filled) leaves the recorded RAG as the latest
    report made it, and on the in-force axis is the project's standing from its own day to the next report's."""
    history = History()
    project = _opened_project(history)

    def report(on: date, rag: Rag, shortfall: int) -> ProgressReported:
        return ProgressReported(actor=LEAD, correlation_id="c", reported_on=on, values=(), actuals=(),
                                narrative="n", rag=rag, shortfall_percent=Decimal(shortfall),
                                direction=DirectionOfTravel.IMPROVING, submitted_via=Submission.API)

    history.add("projects", project, 2, report(JUNE_2012, Rag.GREEN, 5))
    history.add("projects", project, 3, report(MARCH, Rag.RED, 40))
    _apply(model, history)
    standing = {day: (row["rag"], row["derived_rag"], row["shortfall_percent"], row["last_reported_on"])
                for day in (MARCH, JUNE_2012)
                if (row := _in_force(model, "delivery_projects", day, str(project))) is not None}
    assert standing == {MARCH: ("red", "red", "40", "2012-03-01"),
                        JUNE_2012: ("green", "green", "5", "2012-06-01")}, standing
    latest = queries_delivery.project(model.store, str(project))
    assert latest is not None and (latest["rag"], latest["last_reported_on"]) == ("green", "2012-06-01")


# -- an outcome's actual value, and the standing a withdrawal or correction carries -----------------------------------


def _project_with_outcome(history: History) -> uuid.UUID:
    project = uuid.uuid4()
    history.add("projects", project, 1, ProjectOpened(
        actor=LEAD, correlation_id="c", decision=_decision(date(2011, 4, 12)), programme_id=uuid.uuid4(),
        district="worcester", title="Skills centre", lead_partner="worcester-college", project_manager="pm",
        taskings=(TaskingRef(tasking_id=uuid.uuid4(), version=2),),
        outcomes=(Outcome(id="jobs", tasking_id=uuid.uuid4(), metric="jobs", unit="jobs", baseline_value=Decimal(0),
                          baseline_date=date(2011, 4, 1), target_value=Decimal(40), target_date=date(2014, 3, 31)),),
        resources=()))
    return project


def _reported(on: date, actual: int, rag: Rag, shortfall: int) -> ProgressReported:
    value = (OutcomeValue(outcome_id="jobs", value=Decimal(actual)),)
    return ProgressReported(actor=LEAD, correlation_id="c", reported_on=on, values=value, actuals=value,
                            narrative="n", rag=rag, shortfall_percent=Decimal(shortfall),
                            direction=DirectionOfTravel.IMPROVING, submitted_via=Submission.API)


def _actuals(model: ReportingReadModel, project: uuid.UUID, *days: date) -> dict[date, str | None]:
    return {day: row["actual"] for day in days
            if (row := _in_force(model, "delivery_outcomes", day, f"{project}:jobs")) is not None}


def test_a_back_filled_report_gives_the_outcomes_actual_from_its_date_to_the_next_reports(
        model: ReportingReadModel) -> None:
    """A report dated before the latest one the record holds leaves the recorded actual as the latest report made
    it, and on the in-force axis is the outcome's actual from its own day until the next report's."""
    history = History()
    project = _project_with_outcome(history)
    history.add("projects", project, 2, _reported(JUNE_2012, 20, Rag.GREEN, 5))
    history.add("projects", project, 3, _reported(MARCH, 8, Rag.RED, 40))
    history.add("projects", project, 4, _reported(date(2012, 1, 2), 3, Rag.RED, 50))  # before both
    _apply(model, history)
    found = _actuals(model, project, date(2011, 5, 1), date(2012, 1, 2), MARCH, date(2012, 5, 31), JUNE_2012)
    assert found == {date(2011, 5, 1): None, date(2012, 1, 2): "3", MARCH: "8", date(2012, 5, 31): "8",
                     JUNE_2012: "20"}, found
    # The recorded axis is as it was: the latest report's actual, now and in the record before the back-fills.
    for at in (None, _recorded(1) + timedelta(seconds=30)):
        assert [o["actual"] for o in queries_delivery.outcomes(model.store, str(project), at)] == ["20"]


def _standings(model: ReportingReadModel, project: uuid.UUID, *days: date) -> dict[date, tuple[Any, ...]]:
    return {day: (row["rag"], row["shortfall_percent"], row["last_reported_on"]) for day in days
            if (row := _in_force(model, "delivery_projects", day, str(project))) is not None}


SEPTEMBER = date(2012, 9, 1)
SEPTEMBER_STANDS = Standing(reported_on=SEPTEMBER, actuals=(OutcomeValue(outcome_id="jobs", value=Decimal(30)),),
                            rag=Rag.GREEN, shortfall_percent=Decimal(5), direction=DirectionOfTravel.IMPROVING)
"""What stands after September's report (30 jobs, green): the latest, when an older report is taken back."""


def test_a_withdrawal_of_an_older_report_shows_on_each_day_the_standing_of_the_latest_report_in_force_by_then(
        model: ReportingReadModel) -> None:
    history = History()
    project = _project_with_outcome(history)
    for version, (on, actual, rag, shortfall) in enumerate(
            ((MARCH, 8, Rag.RED, 40), (JUNE_2012, 20, Rag.AMBER, 15), (SEPTEMBER, 30, Rag.GREEN, 5)), start=2):
        history.add("projects", project, version, _reported(on, actual, rag, shortfall))
    # June's report withdrawn: September's still stands as the latest; from June to September, March's.
    history.add("projects", project, 5, ProgressReportWithdrawn(
        actor=LEAD, correlation_id="c", reported_on=JUNE_2012, reason="counted twice",
        standing=SEPTEMBER_STANDS))
    _apply(model, history)
    assert _standings(model, project, MARCH, JUNE_2012, SEPTEMBER) == {
        MARCH: ("red", "40", "2012-03-01"), JUNE_2012: ("red", "40", "2012-03-01"),
        SEPTEMBER: ("green", "5", "2012-09-01")}
    assert _actuals(model, project, MARCH, JUNE_2012, SEPTEMBER) == {MARCH: "8", JUNE_2012: "8", SEPTEMBER: "30"}


def test_a_correction_of_an_older_report_shows_on_each_day_the_standing_of_the_latest_report_in_force_by_then(
        model: ReportingReadModel) -> None:
    history = History()
    project = _project_with_outcome(history)
    history.add("projects", project, 2, _reported(MARCH, 8, Rag.RED, 40))
    history.add("projects", project, 3, _reported(SEPTEMBER, 30, Rag.GREEN, 5))
    corrected = (OutcomeValue(outcome_id="jobs", value=Decimal(12)),)
    history.add("projects", project, 4, ProgressReportCorrected(
        actor=LEAD, correlation_id="c", corrected_report_on=MARCH, reason="miscounted", reported_on=MARCH,
        values=corrected, actuals=corrected, narrative="n", rag=Rag.AMBER, shortfall_percent=Decimal(20),
        direction=DirectionOfTravel.IMPROVING, submitted_via=Submission.API,
        standing=SEPTEMBER_STANDS))
    _apply(model, history)
    assert _standings(model, project, MARCH, JUNE_2012, SEPTEMBER) == {
        MARCH: ("amber", "20", "2012-03-01"), JUNE_2012: ("amber", "20", "2012-03-01"),
        SEPTEMBER: ("green", "5", "2012-09-01")}
    assert _actuals(model, project, MARCH, SEPTEMBER) == {MARCH: "12", SEPTEMBER: "30"}
