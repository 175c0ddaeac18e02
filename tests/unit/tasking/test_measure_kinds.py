"""Shares by the measure's kind (``shared.measures``): a count target's shares are shares of its improvement; a
level target (a rate, a percentage) is never summed across districts."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from services.tasking.domain import KnownTarget, require_within_target
from shared.errors import RuleViolated


def _target(unit: str, baseline: int, value: int) -> KnownTarget:
    return KnownTarget(id=uuid.uuid4(), metric="m", unit=unit, target_value=Decimal(value),
                       deadline=date(2014, 3, 31), baseline_value=Decimal(baseline))


def test_shares_of_a_count_target_are_shares_of_its_improvement() -> None:
    # As seen: against 1,000 -> 1,600, a share of 1,500 was accepted (checked against the target value).
    jobs = _target("jobs", 1000, 1600)
    with pytest.raises(RuleViolated) as refused:
        require_within_target(jobs, Decimal(0), Decimal(1500))
    assert refused.value.details["improvement"] == "600" and refused.value.details["available"] == "600"
    assert "1,000 -> 1,600" in refused.value.message
    require_within_target(jobs, Decimal(400), Decimal(200))  # exactly the improvement
    with pytest.raises(RuleViolated):
        require_within_target(jobs, Decimal(400), Decimal("200.01"))


def test_a_falling_count_target_is_shared_by_the_size_of_its_fall() -> None:
    crimes = _target("count", 5000, 4000)  # 1,000 fewer crimes
    require_within_target(crimes, Decimal(600), Decimal(400))
    with pytest.raises(RuleViolated):
        require_within_target(crimes, Decimal(600), Decimal(401))


def test_a_rate_target_is_never_summed_across_districts() -> None:
    # An employment rate of 75 %: each district's share is its own target level, so six of them are not 450 %.
    rate = _target("percent", 70, 75)
    for already in range(6):
        require_within_target(rate, Decimal(75 * already), Decimal(75))
    per_thousand = _target("rate per 1000", 12, 9)
    require_within_target(per_thousand, Decimal(27), Decimal(9))


def test_a_tasking_names_a_uk_sic_2007_section_or_is_refused() -> None:
    from shared.errors import InvalidCommand
    from tests.unit.tasking.test_domain import DEFINITION, JOBS, LEAD, PSTG, CommissioningLevel, Tasking, member

    def issue(sector: str | None) -> Tasking:
        return Tasking.issue(LEAD, target=JOBS, theme_group="pstg", district="worcester", share=Decimal(100),
                             deadline=date(2013, 3, 31), lead_partner="worcester-city-council",
                             commissioning_level=CommissioningLevel.DISTRICT, decision=PSTG,
                             allocated_elsewhere=Decimal(0), definition=DEFINITION, sector=sector,
                             lead_membership=member("worcester", "worcester-city-council"))

    assert issue("C").sector == "C" and issue(None).sector is None
    with pytest.raises(InvalidCommand) as refused:
        issue("Z")
    assert refused.value.problems[0]["field"] == "sector" and "Manufacturing" in refused.value.problems[0]["message"]


def test_a_ratio_target_is_cascaded_as_each_districts_own_ratio_within_its_unit() -> None:
    # An employment rate reported as residents in employment of residents of working age: each district's share is
    # its own ratio (70 %), never summed; a share beyond what its unit can be (a percentage above 100) is refused.
    from services.tasking.domain import _require_assignment
    from shared.errors import InvalidCommand

    ratio = _target("percent (ratio)", 65, 70)
    for already in range(6):
        require_within_target(ratio, Decimal(70 * already), Decimal(70))
    with pytest.raises(InvalidCommand) as refused:
        _require_assignment(ratio, Decimal(101), date(2014, 3, 31))
    assert refused.value.problems[0]["field"] == "share"
