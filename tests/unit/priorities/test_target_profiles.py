"""A target's profile (expected values at dates) and its reporting interval: each set and changed by a decision,
each refused with every problem at once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from services.priorities.domain import Target
from shared.errors import InvalidCommand, RuleViolated
from shared.performance import ReportingInterval
from tests.unit.priorities.builders import BOARD, OFFICER, jobs_objective, jobs_terms, rules

# 6,000 jobs by 2016, back-loaded: the business park opens in the second year.
PROFILE = [(date(2012, 3, 31), Decimal(300)), (date(2013, 3, 31), Decimal(1500)), (date(2014, 3, 31), Decimal(3500))]


def jobs_target(**kwargs: Any) -> Target:
    return Target.set(OFFICER, objective=jobs_objective(), terms=jobs_terms(), rules=rules(), **kwargs)


def test_profiling_a_target_records_the_profile_and_the_one_it_replaced() -> None:
    target = jobs_target()
    target.set_profile(OFFICER, profile=list(reversed(PROFILE)), decision=BOARD)
    event: Any = target.collect_events()[-1]
    assert type(event).__name__ == "Profiled" and event.decision == BOARD
    assert [(p.on, p.value) for p in event.profile] == PROFILE and event.previous_profile == ()
    assert target.profile == tuple(PROFILE)
    target.set_profile(OFFICER, profile=[], decision=BOARD)  # the straight line again
    event = target.collect_events()[-1]
    assert event.profile == () and [(p.on, p.value) for p in event.previous_profile] == PROFILE
    assert target.profile == ()


def test_profiling_a_target_is_a_decision() -> None:
    with pytest.raises(InvalidCommand, match="is a decision") as refused:
        jobs_target().set_profile(OFFICER, profile=PROFILE, decision=None)
    assert refused.value.problems == [{"field": "decision", "message": "A decision with a reason is required."}]


def test_a_profile_outside_the_target_twice_at_a_date_or_below_zero_is_refused_with_every_problem() -> None:
    with pytest.raises(InvalidCommand) as refused:
        jobs_target().set_profile(OFFICER, decision=BOARD, profile=[
            (date(2017, 1, 1), Decimal(6000)), (date(2013, 1, 1), Decimal(-5)), (date(2013, 1, 1), Decimal(10))])
    assert [p["field"] for p in refused.value.problems] == ["profile[0].on", "profile[2].on", "profile[1].value"]


def test_the_same_profile_again_changes_nothing_and_is_refused() -> None:
    target = jobs_target()
    target.set_profile(OFFICER, profile=PROFILE, decision=BOARD)
    with pytest.raises(InvalidCommand, match="Nothing would change"):
        target.set_profile(OFFICER, profile=PROFILE, decision=BOARD)


def test_a_retired_target_cannot_be_profiled() -> None:
    target = jobs_target()
    target.retire(OFFICER, decision=BOARD)
    with pytest.raises(RuleViolated, match="retired"):
        target.set_profile(OFFICER, profile=PROFILE, decision=BOARD)


def test_a_target_is_reported_quarterly_unless_it_declares_otherwise() -> None:
    quarterly = jobs_target()
    assert [type(e).__name__ for e in quarterly.collect_events()] == ["Set"]
    assert quarterly.interval_at(date(2013, 1, 1)) is ReportingInterval.QUARTERLY
    monthly = jobs_target(reporting_interval=ReportingInterval.MONTHLY)
    events: list[Any] = list(monthly.collect_events())
    assert [type(e).__name__ for e in events] == ["Set", "ReportingIntervalSet"]
    assert (events[1].reporting_interval, events[1].previous_interval, events[1].in_force_from) == \
        (ReportingInterval.MONTHLY, ReportingInterval.QUARTERLY, date(2011, 4, 1))
    assert monthly.interval_at(date(2011, 4, 1)) is ReportingInterval.MONTHLY


def test_a_changed_interval_judges_the_dates_from_its_start_and_the_earlier_ones_keep_theirs() -> None:
    target = jobs_target()
    target.set_reporting_interval(OFFICER, reporting_interval=ReportingInterval.ANNUAL,
                                  in_force_from=date(2013, 4, 1), decision=BOARD)
    assert target.interval_at(date(2013, 3, 31)) is ReportingInterval.QUARTERLY
    assert target.interval_at(date(2013, 4, 1)) is ReportingInterval.ANNUAL
    event: Any = target.collect_events()[-1]
    assert (event.previous_interval, event.decision) == (ReportingInterval.QUARTERLY, BOARD)


def test_an_interval_change_needs_a_decision_a_date_within_the_target_and_a_change() -> None:
    target = jobs_target()
    with pytest.raises(InvalidCommand, match="is a decision"):
        target.set_reporting_interval(OFFICER, reporting_interval=ReportingInterval.ANNUAL,
                                      in_force_from=date(2013, 4, 1), decision=None)
    with pytest.raises(InvalidCommand) as refused:
        target.set_reporting_interval(OFFICER, reporting_interval=ReportingInterval.ANNUAL,
                                      in_force_from=date(2017, 4, 1), decision=BOARD)
    assert [p["field"] for p in refused.value.problems] == ["in_force_from"]
    with pytest.raises(InvalidCommand, match="already quarterly"):
        target.set_reporting_interval(OFFICER, reporting_interval=ReportingInterval.QUARTERLY,
                                      in_force_from=date(2013, 4, 1), decision=BOARD)
    target.set_reporting_interval(OFFICER, reporting_interval=ReportingInterval.ANNUAL,
                                  in_force_from=date(2013, 4, 1), decision=BOARD)
    with pytest.raises(InvalidCommand, match="from 2013-04-01"):
        target.set_reporting_interval(OFFICER, reporting_interval=ReportingInterval.MONTHLY,
                                      in_force_from=date(2012, 4, 1), decision=BOARD)
