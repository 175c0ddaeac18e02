"""Tasking's rules travel in its events and contracts, so downstream services read them instead of writing them
again: a retasking says whether the tasking is issued again (v2; a stored or published v1 is upcast by the same
rule), and which statuses count against the target is tasking's contract's to say."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from services.projects.known_taskings import KnownTaskings
from shared.contracts import contract_type, from_data, release_of, to_data
from shared.contracts.tasking import (
    COUNTED_STATUSES,
    CommissioningLevel,
    TaskingIssued,
    TaskingRetasked,
    TaskingStatus,
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
    assert (contract_type(TaskingRetasked), release_of(TaskingRetasked)) == ("tasking.TaskingRetasked.v2", 2)


def test_a_published_v1_retasking_is_upcast_by_tasking_s_rule() -> None:
    moved = from_data("tasking.TaskingRetasked.v1", MOVED_V1)
    kept = from_data("tasking.TaskingRetasked.v1", {**MOVED_V1, "district": "worcester"})
    assert isinstance(moved, TaskingRetasked) and isinstance(kept, TaskingRetasked)
    assert (moved.issued_again, kept.issued_again) == (True, False)


def test_projects_copy_of_a_tasking_follows_what_a_published_v1_retasking_says(tmp_path: Path) -> None:
    known = KnownTaskings(ReadStore(settings_for(data_dir=tmp_path), "projects"))
    tasking_id = uuid.uuid4()
    issued = TaskingIssued(actor=LEAD.actor, correlation_id="c", decision=None, target_id=JOBS.id,
                           theme_group="pstg", district="worcester", share=Decimal(1200), unit="jobs",
                           deadline=date(2014, 3, 31), lead_partner="worcester-city-council",
                           commissioning_level=CommissioningLevel.DISTRICT)
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


def _envelope(tasking_id: uuid.UUID, sequence: int, type_name: str, data: dict[str, Any]) -> Envelope:
    return Envelope(id=f"{tasking_id}:{sequence}", source="/services/tasking", type=type_name,
                    subject=str(tasking_id), time=datetime(2012, 1, 1, tzinfo=UTC), sequence=sequence, data=data,
                    actor="lead-1", actororganisation="worcestershire-cc", actorrole="theme_group_lead",
                    correlationid="c")
