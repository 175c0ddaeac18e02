"""Tasking's rules travel in its events and contracts, so downstream services read them instead of writing them
again: a retasking says whether the tasking is issued again (v2; a stored or published v1 is upcast by the same
rule), and which statuses count against the target is tasking's contract's to say."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from services.projects.known_taskings import KnownTaskings
from services.tasking.domain import Tasking
from shared.contracts import ContractError, all_contracts, contract_type, from_data, release_of, to_data
from shared.contracts.tasking import (
    COUNTED_STATUSES,
    RETASKED_IN_PLACE,
    CommissioningLevel,
    TaskingAccepted,
    TaskingCompleted,
    TaskingDeclined,
    TaskingDeliveryStarted,
    TaskingIssued,
    TaskingRetasked,
    TaskingStatus,
    TaskingWithdrawn,
    counts_after_retasking,
    counts_against_target,
)
from shared.envelope import Envelope
from shared.readstore import ReadStore
from tests.harness import settings_for
from tests.unit.tasking.test_domain import COORDINATOR, DEFINITION, JOBS, LEAD, PSTG, member, worcester_tasking

MOVED_V1 = {"actor": {"user_id": "lead-1", "organisation": "worcestershire-cc", "role": "theme_group_lead"},
            "correlation_id": "c", "decision": None, "district": "wychavon", "lead_partner": "wychavon-dc",
            "share": "1200", "deadline": "2014-03-31", "previous_district": "worcester",
            "previous_lead_partner": "worcester-city-council", "previous_share": "1200",
            "previous_deadline": "2014-03-31", "reason": "Wychavon has the sites"}


def test_a_retasking_says_whether_the_tasking_is_issued_again() -> None:
    moved, kept = worcester_tasking(), worcester_tasking()
    for tasking, district, lead in ((moved, "wychavon", "wychavon-dc"), (kept, "worcester", "worcester-college")):
        tasking.accept(COORDINATOR)
        tasking.retask(LEAD, target=JOBS, decision=PSTG, allocated_elsewhere=Decimal(0),
                       lead_membership=member(district, lead), definition=DEFINITION, district=district,
                       lead_partner=lead)
    [moved_event], [kept_event] = moved.collect_events()[-1:], kept.collect_events()[-1:]
    assert isinstance(moved_event, TaskingRetasked) and isinstance(kept_event, TaskingRetasked)
    assert (moved_event.issued_again, moved.status) == (True, TaskingStatus.ISSUED)
    assert (kept_event.issued_again, kept.status) == (False, TaskingStatus.ACCEPTED)
    assert (contract_type(TaskingRetasked), release_of(TaskingRetasked)) == ("tasking.TaskingRetasked.v3", 2)


def test_a_published_v1_retasking_is_upcast_by_tasking_s_rule() -> None:
    moved = from_data("tasking.TaskingRetasked.v1", MOVED_V1)
    kept = from_data("tasking.TaskingRetasked.v1", {**MOVED_V1, "district": "worcester"})
    assert isinstance(moved, TaskingRetasked) and isinstance(kept, TaskingRetasked)
    assert (moved.issued_again, kept.issued_again) == (True, False)
    assert moved.counts_against_target and kept.counts_against_target  # upcast on through v2, by the one rule


def test_every_event_that_changes_whether_a_share_counts_says_so() -> None:
    declined, withdrawn, completed = worcester_tasking(), worcester_tasking(), worcester_tasking()
    declined.decline(COORDINATOR, "No capacity")
    withdrawn.accept(COORDINATOR)
    withdrawn.withdraw(LEAD, "Funding ended", PSTG)
    completed.accept(COORDINATOR)
    completed.start_delivery(COORDINATOR)
    completed.complete(LEAD, Decimal(1250), PSTG)
    said = {type(e).__name__: e.counts_against_target for t in (declined, withdrawn, completed)
            for e in t.collect_events()}
    assert said == {"Issued": True, "Declined": False, "Accepted": True, "Withdrawn": False,
                    "DeliveryStarted": True, "Completed": True}
    assert (declined.counts_against_target, withdrawn.counts_against_target, completed.counts_against_target) == \
        (False, False, True)
    # A declined tasking moved to another district is issued again, and counts again.
    declined.retask(LEAD, target=JOBS, decision=PSTG, allocated_elsewhere=Decimal(0),
                    lead_membership=member("wychavon", "wychavon-dc"), definition=DEFINITION, district="wychavon",
                    lead_partner="wychavon-dc")
    [moved] = declined.collect_events()
    assert isinstance(moved, TaskingRetasked) and moved.counts_against_target and declined.counts_against_target
    for contract in (TaskingIssued, TaskingAccepted, TaskingDeclined, TaskingWithdrawn, TaskingCompleted,
                     TaskingDeliveryStarted, TaskingRetasked):
        assert release_of(contract) == 2, contract  # published in contract release 2


def test_published_v1_events_are_upcast_by_tasking_s_rule() -> None:
    base = {"actor": MOVED_V1["actor"], "correlation_id": "c", "decision": None}
    issued = {**base, "target_id": str(JOBS.id), "theme_group": "pstg", "district": "worcester", "share": "1200",
              "unit": "jobs", "deadline": "2014-03-31", "lead_partner": "worcester-city-council",
              "commissioning_level": "district"}
    upcast = {name: from_data(f"tasking.{name}.v1", data).counts_against_target for name, data in (  # type: ignore[attr-defined]
        ("TaskingIssued", issued), ("TaskingAccepted", base), ("TaskingDeclined", {**base, "reason": "No"}),
        ("TaskingWithdrawn", {**base, "reason": "Ended"}), ("TaskingCompleted", {**base, "achieved": "1250"}),
        ("TaskingDeliveryStarted", base))}
    assert upcast == {"TaskingIssued": True, "TaskingAccepted": True, "TaskingDeclined": False,
                      "TaskingWithdrawn": False, "TaskingCompleted": True, "TaskingDeliveryStarted": True}
    moved, kept = (from_data("tasking.TaskingRetasked.v1", data) for data in (MOVED_V1, {**MOVED_V1,
                                                                                      "district": "worcester"}))
    assert isinstance(moved, TaskingRetasked) and isinstance(kept, TaskingRetasked)  # v1 read as v3, past v2
    assert (moved.issued_again, moved.counts_against_target) == (True, counts_after_retasking(True))
    assert (kept.issued_again, kept.counts_against_target) == (False, True)


def test_the_never_published_v2_of_a_retasking_was_dropped_by_contract_release_2() -> None:
    with pytest.raises(ContractError, match="unknown event type"):
        from_data("tasking.TaskingRetasked.v2", {**MOVED_V1, "issued_again": False})
    assert "tasking.TaskingRetasked.v2" not in dict(all_contracts())


def test_stored_events_of_the_earlier_versions_are_upcast_by_the_domain_classes() -> None:
    for event_class, status in ((Tasking.Issued, TaskingStatus.ISSUED), (Tasking.Declined, TaskingStatus.DECLINED),
                                (Tasking.Withdrawn, TaskingStatus.WITHDRAWN),
                                (Tasking.Completed, TaskingStatus.COMPLETED)):
        state: dict[str, Any] = {}
        event_class.upcast_v1_v2(state)  # type: ignore[attr-defined]
        assert state == {"counts_against_target": counts_against_target(status)}, event_class
    kept: dict[str, Any] = {**MOVED_V1, "district": "worcester"}
    Tasking.Retasked.upcast_v1_v2(kept)
    Tasking.Retasked.upcast_v2_v3(kept)
    assert (kept["issued_again"], kept["counts_against_target"]) == (False, True)


def test_projects_copy_of_a_tasking_follows_what_a_published_v1_retasking_says(tmp_path: Path) -> None:
    known = KnownTaskings(ReadStore(settings_for(data_dir=tmp_path), "projects"))
    tasking_id = uuid.uuid4()
    issued = TaskingIssued(actor=LEAD.actor, correlation_id="c", decision=None, target_id=JOBS.id,
                           theme_group="pstg", district="worcester", share=Decimal(1200), unit="jobs",
                           deadline=date(2014, 3, 31), lead_partner="worcester-city-council",
                           commissioning_level=CommissioningLevel.DISTRICT, counts_against_target=True)
    try:
        with known.store.transaction() as tx:
            known.apply(tx, _envelope(tasking_id, 1, *to_data(issued)))
            known.apply(tx, _envelope(tasking_id, 2, "tasking.TaskingRetasked.v1", MOVED_V1))  # as published then
        found = known.get(tasking_id)
        assert found is not None and (found.district, found.status) == ("wychavon", "issued")
    finally:
        known.store.close()


def test_which_statuses_count_against_the_target_is_tasking_s_contract() -> None:
    assert {s for s in TaskingStatus if counts_against_target(s)} == COUNTED_STATUSES
    assert not counts_against_target("declined") and not counts_against_target("withdrawn")
    # A retasking in place leaves one of these; its upcast relies on their all counting alike.
    assert len({counts_against_target(s) for s in RETASKED_IN_PLACE}) == 1


def _envelope(tasking_id: uuid.UUID, sequence: int, type_name: str, data: dict[str, Any]) -> Envelope:
    return Envelope(id=f"{tasking_id}:{sequence}", source="/services/tasking", type=type_name,
                    subject=str(tasking_id), time=datetime(2012, 1, 1, tzinfo=UTC), sequence=sequence, data=data,
                    actor="lead-1", actororganisation="worcestershire-cc", actorrole="theme_group_lead",
                    correlationid="c")
