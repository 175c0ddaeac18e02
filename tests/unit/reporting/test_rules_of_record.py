"""The partnership's rules as history on the reporting side (#23): tasking's PartnershipFounded and QuorumChanged, as
published, reach reporting's copy (``shared.meeting_copy``, the narrow consumer's handler); GraphQL ``partnership``,
``districts`` and ``themeGroups`` answer the quorums in force on ``inForceOn`` as recorded at ``asOf``, and a
decision at a meeting of three stands when dated before the board raised the quorum, not after (shown so)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.reporting.graphql import schema
from services.reporting.readmodel import ReportingReadModel
from services.tasking.partnership import founding_of
from shared.auth import Grant, Principal, Role
from shared.contracts import Actor, Decision, to_data
from shared.contracts.tasking import PartnershipFounded, QuorumChanged
from shared.envelope import Envelope
from shared.meeting_copy import MeetingsCopy
from shared.partnership import load
from tests.copies import BOARD_TABLE, TaskingFeed

AUDITOR = Principal(user_id="auditor-1", organisation="worcestershire-cc", grants=frozenset({Grant(Role.AUDITOR)}))
OFFICER = Actor("officer-1", "worcestershire-cc", "partnership_officer")
PSTG_THREE = ["worcestershire-cc", "wychavon-dc", "chamber-of-commerce"]
RAISED_AT = datetime(2024, 3, 1, 12, tzinfo=UTC)


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
      partnership(inForceOn: $on, asOf: $at) { bodies { bodyId quorum } }
      themeGroups(inForceOn: $on, asOf: $at) { bodyId quorum }
      districts(inForceOn: $on, asOf: $at) { districtId quorum } }"""
    result = schema.execute_sync(query, {"on": on, "at": at.isoformat() if at else None},
                                 context_value={"model": model, "principal": AUDITOR})
    assert result.errors is None, result.errors
    assert result.data is not None
    groups = {g["bodyId"]: g["quorum"] for g in result.data["themeGroups"]}
    bodies = {b["bodyId"]: b["quorum"] for b in result.data["partnership"]["bodies"]}
    assert groups["pstg"] == bodies["pstg"]
    districts = {d["districtId"]: d["quorum"] for d in result.data["districts"]}
    return {"pstg": bodies["pstg"], "wychavon": districts["wychavon"]}


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


def _board_decision(feed: TaskingFeed, on: date, reason: str) -> Decision:
    return Decision(**feed.meeting("worcestershire-partnership", on, BOARD_TABLE, reason))


PARTNERSHIP = """query($on: Date, $at: DateTime) { partnership(inForceOn: $on, asOf: $at) {
  maxAgreedPrioritiesPerDistrict ragThresholds { greenWithinPercent amberWithinPercent }
  districts { id: districtId name partnership quorum } schemesOfDelegation { id: schemeId bodyName decisions } } }"""


def _partnership(model: ReportingReadModel, on: str, at: datetime | None = None) -> dict[str, Any]:
    result = schema.execute_sync(PARTNERSHIP, {"on": on, "at": at.isoformat() if at else None},
                                 context_value={"model": model, "principal": AUDITOR})
    assert result.errors is None, result.errors
    assert result.data is not None
    found: dict[str, Any] = result.data["partnership"]
    return found


def test_graphql_answers_districts_schemes_rag_thresholds_and_the_priority_limit_in_force_on_a_day(
        model: ReportingReadModel) -> None:
    from shared.contracts.tasking import (
        DelegationScheme,
        DistrictAdded,
        DistrictRenamed,
        DistrictRetired,
        PriorityLimitChanged,
        RagThresholdsChanged,
        SchemesOfDelegationChanged,
    )

    feed = TaskingFeed(model.store)
    for organisation in BOARD_TABLE:
        feed.seat("worcestershire-partnership", organisation)
    _publish(model, 1, PartnershipFounded(actor=OFFICER, correlation_id="c", **founding_of(load())),
             datetime(2024, 1, 1, tzinfo=UTC))
    entered = datetime(2024, 3, 1, tzinfo=UTC)
    changes: list[Any] = [
        DistrictAdded(actor=OFFICER, correlation_id="c", decision=_board_decision(feed, date(2012, 4, 1), "Pershore"),
                      district="pershore", name="Pershore", partnership="Pershore Partnership", quorum=2),
        DistrictRenamed(actor=OFFICER, correlation_id="c", decision=_board_decision(feed, date(2012, 5, 1), "City"),
                        district="worcester", name="City of Worcester", partnership="Worcester Alliance",
                        previous_name="Worcester", previous_partnership="Worcester Alliance (Worcester City LSP)"),
        DistrictRetired(actor=OFFICER, correlation_id="c", decision=_board_decision(feed, date(2013, 4, 1), "Merge"),
                        district="wyre-forest", name="Wyre Forest"),
        SchemesOfDelegationChanged(
            actor=OFFICER, correlation_id="c", decision=_board_decision(feed, date(2013, 4, 1), "Interventions only"),
            body="wychavon", schemes=[DelegationScheme("wychavon-programme-manager", "wychavon", "programme_manager",
                                                       ["project.intervention"])], previous_schemes=[]),
        RagThresholdsChanged(actor=OFFICER, correlation_id="c", decision=_board_decision(feed, date(2012, 4, 1), "RAG"),
                             green_within_percent=5, amber_within_percent=20, previous_green_within_percent=10,
                             previous_amber_within_percent=25),
        PriorityLimitChanged(actor=OFFICER, correlation_id="c", decision=_board_decision(feed, date(2012, 9, 1), "4"),
                             max_agreed_priorities_per_district=4, previous_max_agreed_priorities_per_district=5),
    ]
    for version, change in enumerate(changes, start=2):
        _publish(model, version, change, entered)

    before, between, after = (_partnership(model, d) for d in ("2012-03-31", "2012-09-01", "2013-04-01"))
    names = {d["id"]: d["name"] for d in before["districts"]}
    assert "pershore" not in names and names["worcester"] == "Worcester" and "wyre-forest" in names
    assert before["ragThresholds"] == {"greenWithinPercent": 10, "amberWithinPercent": 25}
    assert before["maxAgreedPrioritiesPerDistrict"] == 5
    pershore = next(d for d in between["districts"] if d["id"] == "pershore")
    assert pershore == {"id": "pershore", "name": "Pershore", "partnership": "Pershore Partnership", "quorum": 2}
    assert {d["id"]: d["name"] for d in between["districts"]}["worcester"] == "City of Worcester"
    assert between["ragThresholds"] == {"greenWithinPercent": 5, "amberWithinPercent": 20}
    assert between["maxAgreedPrioritiesPerDistrict"] == 4
    assert "wyre-forest" not in {d["id"] for d in after["districts"]}
    assert "wyre-forest-programme-manager" not in {s["id"] for s in after["schemesOfDelegation"]}
    wychavon = next(s for s in after["schemesOfDelegation"] if s["id"] == "wychavon-programme-manager")
    assert wychavon == {"id": "wychavon-programme-manager", "bodyName": "Wychavon Partnership",
                        "decisions": ["project.intervention"]}
    # The record before the changes were entered: the founding rules on any day.
    recorded_before = _partnership(model, "2013-04-01", datetime(2024, 2, 1, tzinfo=UTC))
    assert recorded_before["maxAgreedPrioritiesPerDistrict"] == 5
    assert {d["id"] for d in recorded_before["districts"]} == {d.id for d in load().districts}


def test_reporting_judges_delivery_by_the_rag_thresholds_in_force_on_the_day_asked_as_then_recorded(
        model: ReportingReadModel) -> None:
    from services.reporting.delivery.judging import thresholds_on
    from shared.contracts.tasking import RagThresholdsChanged

    feed = TaskingFeed(model.store)
    for organisation in BOARD_TABLE:
        feed.seat("worcestershire-partnership", organisation)
    _publish(model, 1, PartnershipFounded(actor=OFFICER, correlation_id="c", **founding_of(load())),
             datetime(2024, 1, 1, tzinfo=UTC))
    _publish(model, 2, RagThresholdsChanged(
        actor=OFFICER, correlation_id="c", decision=_board_decision(feed, date(2012, 7, 1), "Narrower"),
        green_within_percent=5, amber_within_percent=20, previous_green_within_percent=10,
        previous_amber_within_percent=25), RAISED_AT)
    assert thresholds_on(model, date(2012, 6, 30), None).green_within_percent == 10
    assert thresholds_on(model, date(2012, 7, 1), None).green_within_percent == 5
    assert thresholds_on(model, date(2012, 7, 1), datetime(2024, 2, 1, tzinfo=UTC)).green_within_percent == 10


def test_a_packs_scope_may_name_a_district_added_by_decision_and_still_no_unknown_one(
        model: ReportingReadModel) -> None:
    from services.reporting.api import _check_scope
    from shared.contracts.tasking import DistrictAdded
    from shared.errors import InvalidCommand

    feed = TaskingFeed(model.store)
    for organisation in BOARD_TABLE:
        feed.seat("worcestershire-partnership", organisation)
    _publish(model, 1, PartnershipFounded(actor=OFFICER, correlation_id="c", **founding_of(load())),
             datetime(2024, 1, 1, tzinfo=UTC))
    with pytest.raises(InvalidCommand):
        _check_scope(load(), ["pershore"], [], model)
    _publish(model, 2, DistrictAdded(actor=OFFICER, correlation_id="c",
                                     decision=_board_decision(feed, date(2012, 4, 1), "Pershore"),
                                     district="pershore", name="Pershore", partnership="Pershore Partnership",
                                     quorum=2), RAISED_AT)
    _check_scope(load(), ["pershore", "wychavon"], [], model)
    with pytest.raises(InvalidCommand):
        _check_scope(load(), ["atlantis"], [], model)


def test_a_district_added_by_decision_and_retired_since_is_named_by_its_last_name_and_found_by_its_id(
        model: ReportingReadModel) -> None:
    """The definition never knew it: its records (a decision of its partnership, a pack's scope) still read it by
    name, never its id; one that never existed is still refused."""
    from services.reporting.api import _check_scope
    from services.reporting.pack_words import Namer
    from shared.contracts.tasking import DistrictAdded, DistrictRetired
    from shared.errors import InvalidCommand

    feed = TaskingFeed(model.store)
    for organisation in BOARD_TABLE:
        feed.seat("worcestershire-partnership", organisation)
    _publish(model, 1, PartnershipFounded(actor=OFFICER, correlation_id="c", **founding_of(load())),
             datetime(2024, 1, 1, tzinfo=UTC))
    _publish(model, 2, DistrictAdded(actor=OFFICER, correlation_id="c",
                                     decision=_board_decision(feed, date(2012, 4, 1), "Pershore"),
                                     district="pershore", name="Pershore", partnership="Pershore Partnership",
                                     quorum=2), RAISED_AT)
    _publish(model, 3, DistrictRetired(actor=OFFICER, correlation_id="c",
                                       decision=_board_decision(feed, date(2014, 4, 1), "Merged"),
                                       district="pershore", name="Pershore"), RAISED_AT)
    provenance = model.provenance
    assert provenance.district_name("pershore") == "Pershore"
    assert provenance.body_name("pershore") == "Pershore Partnership"
    namer = Namer(provenance)
    assert namer.text("worcester-college at pershore") == "Worcester College of Technology at Pershore"
    assert namer.district_listed("pershore", date(2014, 3, 31)) == "Pershore"
    assert namer.district_listed("pershore", date(2015, 1, 1)) == "Pershore (retired 1 April 2014)"
    _check_scope(load(), ["pershore"], [], model)
    with pytest.raises(InvalidCommand):
        _check_scope(load(), ["atlantis"], [], model)
    result = schema.execute_sync("{ partnership { formerDistricts { districtId name partnership retiredOn } } }",
                                 context_value={"model": model, "principal": AUDITOR})
    assert result.errors is None and result.data is not None
    assert result.data["partnership"]["formerDistricts"] == [
        {"districtId": "pershore", "name": "Pershore", "partnership": "Pershore Partnership",
         "retiredOn": "2014-04-01"}]
