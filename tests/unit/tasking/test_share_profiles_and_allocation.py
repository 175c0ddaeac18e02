"""A share's profile (set by a decision of the theme group), and a target's over-allocation recorded as a fact:
recorded once, again when the amount changes, cleared when the shares are within the target."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from services.tasking.domain import Allotted, TargetAllocation, Tasking
from shared.contracts.tasking import CommissioningLevel
from shared.errors import InvalidCommand
from tests.unit.tasking.test_domain import DEFINITION, JOBS, LEAD, PSTG, member

PROFILE = [(date(2012, 3, 31), Decimal(100)), (date(2012, 9, 30), Decimal(400))]


def worcester(share: int = 1200) -> Tasking:
    return Tasking.issue(LEAD, target=JOBS, theme_group="pstg", district="worcester", share=Decimal(share),
                         deadline=date(2013, 3, 31), lead_partner="worcester-city-council",
                         commissioning_level=CommissioningLevel.DISTRICT, decision=PSTG,
                         allocated_elsewhere=Decimal(0), definition=DEFINITION,
                         lead_membership=member("worcester", "worcester-city-council"))


def test_profiling_a_share_records_the_profile_under_the_decision() -> None:
    tasking = worcester()
    tasking.set_profile(LEAD, profile=list(reversed(PROFILE)), decision=PSTG)
    event: Any = tasking.collect_events()[-1]
    assert type(event).__name__ == "Profiled" and event.decision == PSTG
    assert [(p.on, p.value) for p in event.profile] == PROFILE and tasking.profile == tuple(PROFILE)
    tasking.set_profile(LEAD, profile=[], decision=PSTG)
    assert tasking.profile == () and len(tasking.collect_events()[-1].previous_profile) == 2  # type: ignore[attr-defined]


def test_a_share_profile_past_the_deadline_twice_at_a_date_or_negative_is_refused_with_every_problem() -> None:
    with pytest.raises(InvalidCommand) as refused:
        worcester().set_profile(LEAD, decision=PSTG, profile=[
            (date(2013, 6, 1), Decimal(10)), (date(2012, 1, 1), Decimal(-1)), (date(2012, 1, 1), Decimal(5))])
    assert [p["field"] for p in refused.value.problems] == ["profile[0].on", "profile[1].value", "profile[2].on"]


def test_a_retasking_that_lowers_a_share_is_never_refused_for_the_total() -> None:
    # The target revised (raced) to 1,000 while 1,200 are tasked: lowering the share to 1,100 is still over, but
    # is how it is put right, so it is not refused for the total.
    tasking = worcester()
    revised = JOBS.__class__(**{**vars(JOBS), "target_value": Decimal(1000)})
    tasking.retask(LEAD, target=revised, decision=PSTG, allocated_elsewhere=Decimal(0), lead_membership=None,
                   definition=DEFINITION, share=Decimal(1100))
    assert tasking.share == Decimal(1100)


def _allotted(tasked: int, target_value: int = 1000, unit: str = "jobs") -> Allotted:
    return Allotted(metric="jobs", unit=unit, target_value=Decimal(target_value), baseline_value=Decimal(0),
                    tasked=Decimal(tasked))


def test_an_over_allocation_is_recorded_once_again_when_it_changes_and_cleared_when_within() -> None:
    target_id = uuid.uuid4()
    assert TargetAllocation.judge(None, LEAD, target_id=target_id, allotted=_allotted(900)) is None
    allocation = TargetAllocation.judge(None, LEAD, target_id=target_id, allotted=_allotted(1200))
    assert allocation is not None and allocation.over_allocated and allocation.id == TargetAllocation.id_for(target_id)
    assert TargetAllocation.judge(allocation, LEAD, target_id=target_id, allotted=_allotted(1200)) is None
    assert TargetAllocation.judge(allocation, LEAD, target_id=target_id, allotted=_allotted(1100)) is allocation
    tasking = uuid.uuid4()
    assert TargetAllocation.judge(allocation, LEAD, target_id=target_id, allotted=_allotted(1000),
                                  cleared_by=tasking) is allocation
    events: list[Any] = list(allocation.collect_events())
    assert [type(e).__name__ for e in events] == ["OverAllocated", "OverAllocatedAgain", "Cleared"]
    assert [e.over_by for e in events[:2]] == [Decimal(200), Decimal(100)] and events[2].cleared_by == tasking
    assert not allocation.over_allocated
    assert TargetAllocation.judge(allocation, LEAD, target_id=target_id, allotted=_allotted(900)) is None


def test_a_level_target_is_never_over_allocated() -> None:
    assert TargetAllocation.judge(None, LEAD, target_id=uuid.uuid4(),
                                  allotted=_allotted(450, target_value=75, unit="percent")) is None
