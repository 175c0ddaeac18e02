"""Profiles on targets and shares in the roll-up, the target's reporting interval, and an over-allocation recorded
by tasking: events as the services publish them, replayed as the live consumer applies them, judged by
``rollup.performances`` (the call GraphQL and the packs make)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from bench.reporting_history import LEAD as THEME_LEAD
from bench.reporting_history import OFFICER, PSTG, History
from services.projects.domain import Project
from services.reporting.delivery import rollup
from services.tasking.domain import TargetAllocation
from shared.contracts.priorities import TargetProfiled, TargetReportingIntervalSet
from shared.contracts.projects import ProfilePoint, Rag
from shared.contracts.tasking import ShareProfiled, TargetOverAllocated, TargetOverAllocationCleared
from shared.performance import ReportingInterval
from tests.unit.projects.conftest import LEAD, THRESHOLDS, TODAY, jobs_outcome, open_project, tasking
from tests.unit.reporting.test_profiled_figures import _county, _with_projects

# 1,000 -> 1,600 jobs, April 2012 to March 2014, back-loaded: the business park opens in the second year.
TARGET_PROFILE = ((date(2012, 10, 1), Decimal(1040)), (date(2013, 4, 1), Decimal(1100)),
                  (date(2013, 10, 1), Decimal(1300)))
ON = date(2013, 4, 1)


def _points(profile: tuple[tuple[date, Decimal], ...]) -> tuple[ProfilePoint, ...]:
    return tuple(ProfilePoint(d, v) for d, v in profile)


def _park(tasking_id: UUID) -> Project:
    park = open_project(tasking(tasking_id=tasking_id), outcomes=[jobs_outcome(
        tasking_id, baseline_date=date(2012, 4, 1), target_value=Decimal(600), target_date=date(2014, 3, 31))],
        title="Inward investment to the Blackpole business park")
    for day, jobs in ((date(2012, 10, 1), 60), (ON, 150)):
        park.report_progress(LEAD, reported_on=day, values={"jobs": Decimal(jobs)}, narrative="Firms moved in",
                             thresholds=THRESHOLDS, today=TODAY)
    return park


def _profiled(history: History, target: UUID, version: int = 2) -> None:
    history.add("priorities", target, version, TargetProfiled(
        actor=OFFICER, correlation_id="c", decision=PSTG, profile=_points(TARGET_PROFILE), previous_profile=()))


def test_rag_against_a_profile_is_green_when_the_profile_expected_little_yet() -> None:
    """The county and a share without a profile of its own: green against the target's profile, red against the
    straight line, from the same reports."""
    straight, target, taskings = _county({"worcester": Decimal(400), "wychavon": Decimal(200)})
    line = rollup.performances(_with_projects(straight, _park(taskings["worcester"])), None, ON,
                               THRESHOLDS)[str(target)]
    assert line["total"].rag is Rag.RED  # 150 of 300.4 due on the straight line
    assert line["shares"][str(taskings["worcester"])].rag is Rag.RED

    profiled, target, taskings = _county({"worcester": Decimal(400), "wychavon": Decimal(200)})
    _profiled(profiled, target)
    store = _with_projects(profiled, _park(taskings["worcester"]))
    judged = rollup.performances(store, None, ON, THRESHOLDS)[str(target)]
    county = judged["total"]
    assert county.rag is Rag.GREEN and county.figures[0].expected == Decimal(100)  # 1,100 profiled - 1,000
    assert county.shortfall_percent == Decimal("-50.00")
    worcester = judged["shares"][str(taskings["worcester"])]
    # No profile of its own: the target's carried onto it, 100 of the 600 by now -> 66.7 of its 400.
    assert worcester.rag is Rag.GREEN
    assert worcester.figures[0].expected.quantize(Decimal("0.1")) == Decimal("66.7")
    [shown] = rollup.rollups(store)
    assert shown["profile"] == TARGET_PROFILE


def test_a_share_is_judged_against_its_own_profile_before_the_targets() -> None:
    history, target, taskings = _county({"worcester": Decimal(400), "wychavon": Decimal(200)})
    _profiled(history, target)
    history.add("tasking", taskings["worcester"], 3, ShareProfiled(
        actor=THEME_LEAD, correlation_id="c", decision=PSTG, previous_profile=(),
        profile=_points(((date(2013, 4, 1), Decimal(300)),)), share=Decimal(400)))  # front-loaded: 300 by April 2013
    store = _with_projects(history, _park(taskings["worcester"]))
    worcester = rollup.performances(store, None, ON, THRESHOLDS)[str(target)]["shares"][str(taskings["worcester"])]
    assert worcester.figures[0].expected == Decimal(300) and worcester.rag is Rag.RED  # 150 of 300
    [shown] = rollup.rollups(store)
    assert {s["district"]: s["profile"] for s in shown["shares"]} == {
        "worcester": ((date(2013, 4, 1), Decimal(300)),), "wychavon": ()}


def test_staleness_uses_the_targets_interval_at_the_date_asked() -> None:
    history, target, taskings = _county({"worcester": Decimal(400), "wychavon": Decimal(200)})
    store = _with_projects(history, _park(taskings["worcester"]))
    later = date(2013, 9, 1)  # five months after the latest report
    assert rollup.performances(store, None, later, THRESHOLDS)[str(target)]["total"].stale  # quarterly
    history, target, taskings = _county({"worcester": Decimal(400), "wychavon": Decimal(200)})
    history.add("priorities", target, 2, TargetReportingIntervalSet(
        actor=OFFICER, correlation_id="c", decision=PSTG, reporting_interval=ReportingInterval.HALF_YEARLY,
        previous_interval=ReportingInterval.QUARTERLY, in_force_from=date(2013, 7, 1)))
    store = _with_projects(history, _park(taskings["worcester"]))
    judged = rollup.performances(store, None, later, THRESHOLDS)[str(target)]
    assert not judged["total"].stale and judged["total"].interval is ReportingInterval.HALF_YEARLY
    before = rollup.performances(store, None, date(2013, 6, 30), THRESHOLDS)[str(target)]["total"]
    assert before.interval is ReportingInterval.QUARTERLY  # the interval in force at the date asked


def test_an_over_allocation_recorded_by_tasking_shows_until_cleared() -> None:
    history, target, taskings = _county({"worcester": Decimal(400), "wychavon": Decimal(200)})
    allocation = TargetAllocation.id_for(target)
    history.add("tasking", allocation, 1, TargetOverAllocated(
        actor=THEME_LEAD, correlation_id="c", target_id=target, metric="jobs", unit="jobs",
        target_value=Decimal(1500), baseline_value=Decimal(1000), improvement=Decimal(500), tasked=Decimal(600),
        over_by=Decimal(100)))
    [shown] = rollup.rollups(_with_projects(history))
    assert shown["over_allocated_by"] == Decimal(100)
    history.add("tasking", allocation, 2, TargetOverAllocationCleared(
        actor=THEME_LEAD, correlation_id="c", target_id=target, target_value=Decimal(1500),
        improvement=Decimal(500), tasked=Decimal(500), cleared_by=taskings["wychavon"]))
    [shown] = rollup.rollups(_with_projects(history))
    assert shown["over_allocated_by"] is None


def test_a_project_is_stale_by_its_targets_interval() -> None:
    from services.reporting.delivery import judging
    from tests.unit.reporting.test_withdrawn_reports import _project_row

    later = date(2013, 9, 1)  # five months after the park's latest report
    for interval, stale in ((None, True), (ReportingInterval.ANNUAL, False)):
        history, target, taskings = _county({"worcester": Decimal(400)})
        if interval is not None:
            history.add("priorities", target, 2, TargetReportingIntervalSet(
                actor=OFFICER, correlation_id="c", decision=PSTG, reporting_interval=interval,
                previous_interval=ReportingInterval.QUARTERLY, in_force_from=date(2012, 4, 1)))
        park = _park(taskings["worcester"])
        store = _with_projects(history, park)
        judged = judging.project_performance(store, _project_row(store, park.id), None, later, THRESHOLDS)
        assert judged is not None and judged.stale is stale, interval


def test_the_pack_says_a_target_is_over_allocated_and_judged_against_its_profile() -> None:
    from services.reporting.pack_render import performance_notes
    from services.reporting.packs import Series, TargetPerformance

    total = Series(label="jobs", unit="jobs", baseline_date=date(2012, 4, 1), deadline=date(2014, 3, 31),
                   goal=Decimal(600), points=[], actual=Decimal(0), expected=Decimal(0), rag=None, direction=None)
    plain = TargetPerformance(target_id="t", metric="jobs", total=total, shares=[])
    assert performance_notes(plain) == []
    flagged = TargetPerformance(target_id="t", metric="jobs", total=total, shares=[],
                                over_allocated_by=Decimal(200), profiled=True)
    over, profiled = performance_notes(flagged)
    assert over.startswith("Over-allocated: the districts' shares add up to 200 more than the target asks")
    assert "until the theme group retasks" in over and "not a straight line" in profiled
