"""The worked example end to end in GraphQL: the target set through priorities, Worcester tasked with 1,200 jobs and
accepting, PSTG moving 200 to Wychavon. Asked ``asOf`` before and after the retasking, GraphQL gives the two answers;
``changes`` over the period names what changed, before and after, who decided and why. Over real Kafka and
PostgreSQL, and once in the embedded mode."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Harness, running_system, settings_for, wait_until
from tests.integration.test_tasking_steps import (
    JUNE,
    MAY,
    PSTG_LEAD,
    PSTG_PRESENT,
    WHY,
    WORCESTER,
    headers,
    issue,
    meeting,
    pstg_decision,
    seat_the_tables,
    set_target_through_priorities,
    wait_target_known,
)

SHARES = """query($at: DateTime, $target: ID) {
  taskings(asOf: $at, targetId: $target) { district share status leadPartner }
  objectiveTree(asOf: $at) { title children { title targets { metric targetValue } } }
}"""

CHANGES = """query($from: DateTime!, $to: DateTime, $scope: ScopeInput) {
  changes(from: $from, to: $to, scope: $scope) {
    totalCount
    edges { node { entity label kind fields before after district
                   changedBy { userId role } decisions { body decidedOn reason reference } } }
  }
}"""


def _shares(h: Harness, at: datetime | None, target: str) -> dict[str, tuple[str, str]]:
    body = h.graphql(SHARES, {"at": at.isoformat() if at else None, "target": target})
    assert "errors" not in body, body
    return {t["district"]: (t["share"], t["status"]) for t in body["data"]["taskings"]}


IN_FORCE = """query($on: Date, $at: DateTime, $target: ID) {
  taskings(inForceOn: $on, asOf: $at, targetId: $target) { district share status inForceFrom }
}"""


def _in_force(h: Harness, on: str, at: datetime | None, target: str) -> dict[str, tuple[str, str, str]]:
    body = h.graphql(IN_FORCE, {"on": on, "at": at.isoformat() if at else None, "target": target})
    assert "errors" not in body, body
    return {t["district"]: (t["share"], t["status"], t["inForceFrom"]) for t in body["data"]["taskings"]}


def _both_axes(h: Harness, target: str, before_retasking: datetime, after_retasking: datetime) -> None:
    """The 2011 decisions, entered today, on the in-force axis: before and after the retasking's date, as the
    record stands now and as it stood before and after the retasking was entered. Worcester's acceptance has no
    decision: it is in force from the day it was recorded (today), on any day before it the tasking stands as
    issued, and the retasking, entered after it but dated 2011, does not carry it back (``services.reporting.rows``:
    each event's own change, in in-force order)."""
    may = ("1200", "issued", "2011-05-10")
    assert _in_force(h, "2011-06-13", None, target) == {"worcester": may}
    june = {"worcester": ("1000", "issued", "2011-06-14"), "wychavon": ("200", "issued", "2011-06-14")}
    assert _in_force(h, "2011-06-15", None, target) == june
    entered = before_retasking.date().isoformat()  # the acceptance's day of entry
    assert _in_force(h, entered, None, target) == {"worcester": ("1000", "accepted", entered),
                                                   "wychavon": ("200", "issued", "2011-06-14")}
    assert _in_force(h, entered, before_retasking, target) == {"worcester": ("1200", "accepted", entered)}
    assert _in_force(h, "2011-05-09", None, target) == {}  # before the first decision
    # Combined: what the record before the retasking was entered said was in force on 15 June 2011, and after.
    assert _in_force(h, "2011-06-15", before_retasking, target) == {"worcester": may}
    assert _in_force(h, "2011-06-15", after_retasking, target) == june
    assert _in_force(h, "2011-06-13", after_retasking, target) == {"worcester": may}
    # changes over June 2011 on the in-force axis: what came into force then, with the day it was entered.
    found = h.graphql('{ changesInForce(from: "2011-06-01", to: "2011-06-30") { edges { node { entity kind district'
                      ' before after steps { inForceFrom enteredOn decision { reference } } } } } }')
    assert "errors" not in found, found
    moved = {n["district"]: n for e in found["data"]["changesInForce"]["edges"]
             if (n := e["node"])["entity"] == "tasking"}
    assert (moved["worcester"]["kind"], moved["wychavon"]["kind"]) == ("CHANGED", "ADDED")
    assert (moved["worcester"]["before"]["share"], moved["worcester"]["after"]["share"]) == ("1200", "1000")
    for node in moved.values():
        assert [(s["inForceFrom"], s["enteredOn"], s["decision"]["reference"]) for s in node["steps"]] == [
            ("2011-06-14", after_retasking.date().isoformat(), "PSTG/2011/06/7")]


def _run_worked_example(h: Harness) -> None:
    target_id = set_target_through_priorities(h)
    wait_target_known(h, target_id)
    seat_the_tables(h)
    may = pstg_decision(meeting(h, "pstg", MAY, PSTG_PRESENT, PSTG_LEAD), MAY,
                        "Worcester's share of the county jobs target", "PSTG/2011/05/3")
    issued = issue(h, target_id, may)
    assert issued.status_code == 201, issued.text
    worcester = issued.json()["id"]
    accepted = h.client.post(f"/tasking/taskings/{worcester}/accept", json={"expected_version": 1},
                             headers=headers(h, WORCESTER))
    assert accepted.status_code == 200, accepted.text
    target = str(target_id)
    wait_until(lambda: _shares(h, None, target) == {"worcester": ("1200", "accepted")}, timeout=60,
               what="Worcester's accepted 1,200 in GraphQL")
    before_retasking = datetime.now(UTC)

    # The retasking, through the gateway's mutation (forwarded to the tasking service with the lead's token).
    june = pstg_decision(meeting(h, "pstg", JUNE, PSTG_PRESENT, PSTG_LEAD), JUNE, WHY, "PSTG/2011/06/7")
    moved = h.client.post("/graphql", headers=headers(h, PSTG_LEAD), json={
        "query": "mutation($id: ID!, $i: JSON!) { transferTasking(id: $id, input: $i, expectedVersion: 2) "
                 "{ status body } }",
        "variables": {"id": worcester, "i": {"district": "wychavon", "lead_partner": "wychavon-dc", "share": "200",
                                            "decision": june}}}).json()
    assert "errors" not in moved, moved
    assert moved["data"]["transferTasking"]["status"] == 201
    after = {"worcester": ("1000", "accepted"), "wychavon": ("200", "issued")}
    wait_until(lambda: _shares(h, None, target) == after, timeout=60, what="both shares in GraphQL")
    after_retasking = datetime.now(UTC)

    # asOf: what the committee saw before the retasking, and after it.
    assert _shares(h, before_retasking, target) == {"worcester": ("1200", "accepted")}
    assert _shares(h, after_retasking, target) == after
    _both_axes(h, target, before_retasking, after_retasking)
    tree = h.graphql(SHARES, {"at": before_retasking.isoformat(), "target": target})["data"]["objectiveTree"]
    assert tree[0]["children"][0]["targets"] == [{"metric": "new private-sector jobs", "targetValue": "6000"}]

    # changes: what is different since the last committee, with who decided and why.
    found = h.graphql(CHANGES, {"from": before_retasking.isoformat(), "to": after_retasking.isoformat()})
    assert "errors" not in found, found
    nodes = [e["node"] for e in found["data"]["changes"]["edges"]]
    taskings = {n["district"]: n for n in nodes if n["entity"] == "tasking"}
    assert taskings["worcester"]["kind"] == "CHANGED"
    assert taskings["worcester"]["before"]["share"] == "1200" and taskings["worcester"]["after"]["share"] == "1000"
    assert "share" in taskings["worcester"]["fields"]
    assert taskings["wychavon"]["kind"] == "ADDED" and taskings["wychavon"]["before"] is None
    for node in taskings.values():
        assert node["changedBy"] == [{"userId": h.pseudonym("user-theme_group_lead"), "role": "theme_group_lead"}]
        assert node["decisions"] == [{"body": "pstg", "decidedOn": "2011-06-14", "reason": WHY,
                                      "reference": "PSTG/2011/06/7"}]
    assert not any(n["entity"] == "target" for n in nodes)  # the target itself did not change
    scoped = h.graphql(CHANGES, {"from": before_retasking.isoformat(), "to": after_retasking.isoformat(),
                                 "scope": {"districts": ["wychavon"]}})["data"]["changes"]["edges"]
    assert {e["node"]["district"] for e in scoped if e["node"]["entity"] == "tasking"} == {"wychavon"}
    empty = h.graphql(CHANGES, {"from": after_retasking.isoformat()})["data"]["changes"]
    assert empty["totalCount"] == 0


@pytest.mark.integration
def test_the_worked_example_as_of_before_and_after_the_retasking_over_kafka_and_postgres(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    with running_system(settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)) as h:
        _run_worked_example(h)


def test_the_worked_example_as_of_before_and_after_the_retasking_embedded(tmp_path: Path) -> None:
    with running_system(settings_for(data_dir=tmp_path)) as h:
        _run_worked_example(h)


def test_changes_refuses_a_period_that_ends_before_it_starts(tmp_path: Path) -> None:
    with running_system(settings_for(data_dir=tmp_path), services=("reporting",)) as h:
        body: dict[str, Any] = h.graphql(
            '{ changes(from: "2011-07-01T00:00:00Z", to: "2011-06-01T00:00:00Z") { totalCount } }')
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
