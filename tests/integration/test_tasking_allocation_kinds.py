"""Shares of a count target are shares of its improvement, through the tasking API (embedded mode): against
1,000 -> 1,600 a share of 1,500 is refused with the numbers; and when a revision upstream races past the shares
(priorities refuses one below the tasked total, but a race can still leave shares above it) the allocation shows
the target over-allocated, by how much, until retasked (#15 parts 1 and 2)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shared.contracts import Actor, Fact, to_data
from shared.contracts.priorities import TargetRevised, TargetSet
from shared.envelope import Envelope, encode
from tests.harness import Harness, running_system, settings_for, wait_until
from tests.integration.test_tasking_steps import (
    PSTG_LEAD,
    PSTG_PRESENT,
    headers,
    issue,
    meeting,
    pstg_decision,
    seat_the_tables,
)

MAY = date(2011, 5, 10)
OFFICER = Actor("officer-1", "worcestershire-cc", "partnership_officer")
TERMS: dict[str, Any] = dict(metric="New private-sector jobs", unit="jobs", baseline_value=Decimal(1000),
                             baseline_date=date(2011, 4, 1), deadline=date(2014, 3, 31), data_source="ONS",
                             owner_organisation="worcestershire-cc")


@pytest.fixture()
def h(tmp_path: Path) -> Any:
    with running_system(settings_for(data_dir=tmp_path), services=("tasking", "reporting")) as harness:
        yield harness


def _publish(h: Harness, target_id: uuid.UUID, version: int, fact: Fact) -> None:
    type_name, data = to_data(fact)
    envelope = Envelope(id=f"{target_id}:{version}", source="/services/priorities", type=type_name,
                        subject=str(target_id), time=datetime.now(UTC), sequence=version, data=data,
                        actor=OFFICER.user_id, actororganisation=OFFICER.organisation, actorrole=OFFICER.role,
                        correlationid="corr")
    publisher = h.system.transport.publisher()
    try:
        publisher.publish(h.system.settings.topic("priorities.events"), str(target_id), encode(envelope))
        publisher.flush()
    finally:
        publisher.close()


def test_shares_are_of_the_improvement_and_an_over_allocation_shows_until_retasked(h: Harness) -> None:
    target = uuid.uuid4()
    _publish(h, target, 1, TargetSet(actor=OFFICER, correlation_id="c", objective_id=uuid.uuid4(),
                                     target_value=Decimal(1600), **TERMS))
    app = h.system.application("tasking")
    wait_until(lambda: app.known_target(target) is not None, what="tasking to know the target")
    seat_the_tables(h)
    decision = pstg_decision(meeting(h, "pstg", MAY, PSTG_PRESENT), MAY, "Shares of the jobs target", "PSTG/11/05")

    refused = issue(h, target, decision, share=1500)
    assert refused.status_code == 409, refused.text
    assert (refused.json()["improvement"], refused.json()["available"]) == ("600", "600"), refused.json()
    assert issue(h, target, decision, share=400).status_code == 201

    def allocation() -> Any:
        return h.client.get(f"/tasking/targets/{target}/allocation", headers=h.headers("auditor")).json()

    shown = allocation()
    assert (shown["kind"], shown["improvement"], shown["tasked"], shown["available"], shown["over_allocated_by"]) \
        == ("count", "600", "400", "200", None)
    # A revision that raced past the share: 1,000 -> 1,200 asks 200 more jobs, 400 are tasked.
    _publish(h, target, 2, TargetRevised(actor=OFFICER, correlation_id="c", target_value=Decimal(1200), **TERMS))
    raced = wait_until(lambda: (a := allocation())["improvement"] == "200" and a, what="tasking to learn the revision")
    assert (raced["available"], raced["over_allocated_by"]) == ("0", "200")


ROLLUP = "query($id: ID!) { deliveryRollup(targetId: $id) { overAllocatedBy tasked } }"


def _events(h: Harness, aggregate_id: uuid.UUID) -> list[Any]:
    return list(h.system.application("tasking").repository.event_store.get(aggregate_id))


def test_a_race_past_the_shares_is_recorded_as_a_fact_and_cleared_by_the_retasking(h: Harness) -> None:
    """Through the real commands and the policy on priorities.events: a revision below the shares records
    TargetOverAllocated (once, however often the revision is delivered); the retasking that brings the shares
    within the target records TargetOverAllocationCleared naming it, and the allocation shows each."""
    from services.tasking.domain import TargetAllocation

    target = uuid.uuid4()
    _publish(h, target, 1, TargetSet(actor=OFFICER, correlation_id="c", objective_id=uuid.uuid4(),
                                     target_value=Decimal(1600), **TERMS))
    app = h.system.application("tasking")
    wait_until(lambda: app.known_target(target) is not None, what="tasking to know the target")
    seat_the_tables(h)
    decision = pstg_decision(meeting(h, "pstg", MAY, PSTG_PRESENT), MAY, "Shares of the jobs target", "PSTG/11/05")
    issued = issue(h, target, decision, share=400)
    assert issued.status_code == 201, issued.text
    allocation_id = TargetAllocation.id_for(target)

    def allocation() -> Any:
        return h.client.get(f"/tasking/targets/{target}/allocation", headers=h.headers("auditor")).json()

    assert allocation()["over_allocation_recorded"] is False
    revised = TargetRevised(actor=OFFICER, correlation_id="c", target_value=Decimal(1200), **TERMS)
    _publish(h, target, 2, revised)
    _publish(h, target, 2, revised)  # delivered twice: recorded once
    wait_until(lambda: allocation()["over_allocation_recorded"], what="tasking to record the over-allocation")
    shown = allocation()
    assert (shown["over_allocated_by"], shown["improvement"], shown["tasked"]) == ("200", "200", "400")
    wait_until(lambda: _consumed(h), what="the redelivered revision to be consumed")
    recorded = _events(h, allocation_id)
    assert [type(e).__name__ for e in recorded] == ["OverAllocated"]
    def rollup() -> Any:
        return h.graphql(ROLLUP, {"id": str(target)})["data"]["deliveryRollup"]

    shown_in_graphql = wait_until(lambda: (r := rollup()) and r["overAllocatedBy"] and r,
                                  what="reporting to show the over-allocation")
    assert (shown_in_graphql["overAllocatedBy"], shown_in_graphql["tasked"]) == ("200", "400")
    fact = recorded[0]
    assert (fact.target_id, fact.tasked, fact.improvement, fact.over_by, fact.metric) == \
        (target, Decimal(400), Decimal(200), Decimal(200), "New private-sector jobs")

    tasking_id = issued.json()["id"]
    retasked = h.client.post(f"/tasking/taskings/{tasking_id}/retask", json={
        "share": "200", "expected_version": issued.json()["version"],
        "decision": {**decision, "reason": "Within the revised target", "reference": "PSTG/11/06"},
    }, headers=headers(h, PSTG_LEAD))
    assert retasked.status_code == 200, retasked.text
    shown = allocation()
    assert (shown["over_allocation_recorded"], shown["over_allocated_by"], shown["available"]) == (False, None, "0")
    wait_until(lambda: rollup()["tasked"] == "200", what="reporting to apply the retasking")
    cleared = _events(h, allocation_id)[-1]
    assert type(cleared).__name__ == "Cleared"
    assert (cleared.cleared_by, cleared.tasked, cleared.improvement) == (uuid.UUID(tasking_id), Decimal(200),
                                                                         Decimal(200))
    wait_until(lambda: rollup()["overAllocatedBy"] is None, what="reporting to show it cleared")


def _consumed(h: Harness) -> bool:
    runner = next(c for c in h.system.consumers if c.name == "tasking-allocations")
    return not any(runner.lag().values())
