"""Data quality at entry (#15 part 4): a report is not dated after today in the partnership's calendar, a count is
never negative, and no figure accepted makes the derivation of RAG fail."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from services.projects.domain import Project
from shared.contracts.projects import OutcomeValue
from shared.errors import InvalidCommand, NotPermitted, RuleViolated
from shared.fields import ENTRY_LIMIT
from tests.unit.projects.conftest import LEAD, OTHER_PARTNER, THRESHOLDS, jobs_outcome, open_project, tasking

TODAY = date(2013, 4, 1)


def _report(project: Project, on: date, jobs: Decimal | int, today: date = TODAY) -> None:
    project.report_progress(LEAD, reported_on=on, values={"jobs": Decimal(jobs)}, narrative="Hiring continues",
                            thresholds=THRESHOLDS, today=today)


def _fields(error: InvalidCommand) -> list[str]:
    return [p["field"] for p in error.problems]


def test_a_report_dated_tomorrow_is_refused(project: Project) -> None:
    with pytest.raises(InvalidCommand, match="at most today") as refused:
        _report(project, TODAY + timedelta(days=1), 300)
    assert _fields(refused.value) == ["reported_on"]
    assert project.reports == []


def test_a_report_dated_today_is_accepted(project: Project) -> None:
    _report(project, TODAY, 300)
    assert project.actuals() == {"jobs": Decimal(300)}


def test_a_negative_job_count_is_refused(project: Project) -> None:
    with pytest.raises(InvalidCommand, match="cannot be negative") as refused:
        _report(project, TODAY, -40)
    assert _fields(refused.value) == ["values.jobs"]


def test_a_negative_baseline_of_a_count_is_refused_at_opening() -> None:
    known = tasking()
    with pytest.raises(InvalidCommand) as refused:
        open_project(known, outcomes=[jobs_outcome(known.id, baseline_value=Decimal(-5))])
    assert "outcomes.0.baseline_value" in _fields(refused.value)


def test_money_may_be_negative() -> None:
    known = tasking(unit="GBP")
    project = open_project(known, outcomes=[jobs_outcome(known.id, unit="GBP", baseline_value=Decimal(-500),
                                                         target_value=Decimal(1000))])
    _report(project, TODAY, -200)
    assert project.actuals() == {"jobs": Decimal(-200)}


_FIGURES = st.decimals(min_value=-ENTRY_LIMIT + 1, max_value=ENTRY_LIMIT - 1, places=10, allow_nan=False,
                       allow_infinity=False).filter(lambda d: len(d.as_tuple().digits) <= 15)


@settings(max_examples=150, deadline=None)
@example(baseline=Decimal(0), target=Decimal("0.0000000001"), actual=Decimal("-999999999999999"), days=40000,
         after=1)  # next to nothing planned to date, a huge figure reported: a shortfall of 10^31 percent
@given(baseline=_FIGURES, target=_FIGURES, actual=_FIGURES, days=st.integers(min_value=1, max_value=40000),
       after=st.integers(min_value=0, max_value=40000))
def test_no_accepted_figure_makes_the_derivation_of_rag_fail(baseline: Decimal, target: Decimal, actual: Decimal,
                                                             days: int, after: int) -> None:
    known = tasking(unit="GBP")  # a signed unit: any accepted figure
    start = date(1990, 1, 1)
    if target == baseline:
        target = baseline + 1 if baseline < ENTRY_LIMIT - 1 else baseline - 1
    project = open_project(known, outcomes=[jobs_outcome(known.id, unit="GBP", baseline_value=baseline,
                                                         baseline_date=start, target_value=target,
                                                         target_date=start + timedelta(days=days))])
    on = start + timedelta(days=after)
    _report(project, on, actual, today=on)
    _report(project, on, actual / 2 if abs(actual) > 1 else actual, today=on)
    assert project.rag is not None


# -- withdrawing or correcting a mistaken report ----------------------------------------------------------------------

FUTURE = date(2016, 4, 1)


def _mistaken(project: Project) -> None:
    """The seen defect: a report dated three years ahead, accepted before the rule above."""
    _report(project, date(2012, 4, 1), 100)
    _report(project, FUTURE, 900, today=FUTURE)


def test_a_withdrawn_report_restores_the_timeline(project: Project) -> None:
    _mistaken(project)
    with pytest.raises(RuleViolated, match="goes back in time"):
        _report(project, TODAY, 400)
    project.withdraw_report(LEAD, reported_on=FUTURE, reason="Dated 2016 by mistake")
    assert project.latest_report is not None and project.latest_report.reported_on == date(2012, 4, 1)
    assert project.actuals() == {"jobs": Decimal(100)}
    _report(project, TODAY, 400)  # a real report is accepted again
    assert project.actuals() == {"jobs": Decimal(400)}
    withdrawn = [e for e in project.collect_events() if isinstance(e, Project.ReportWithdrawn)]
    assert withdrawn[0].standing.reported_on == date(2012, 4, 1)
    assert withdrawn[0].standing.actuals == (OutcomeValue("jobs", Decimal(100)),)


def test_a_withdrawal_names_a_report_that_stands_and_gives_a_reason(project: Project) -> None:
    _report(project, date(2012, 4, 1), 100)
    with pytest.raises(InvalidCommand) as refused:
        project.withdraw_report(LEAD, reported_on=date(2012, 5, 1), reason="Wrong")
    assert _fields(refused.value) == ["reported_on"]
    with pytest.raises(InvalidCommand) as refused:
        project.withdraw_report(LEAD, reported_on=date(2012, 4, 1), reason=" ")
    assert _fields(refused.value) == ["reason"]
    with pytest.raises(NotPermitted):
        project.withdraw_report(OTHER_PARTNER, reported_on=date(2012, 4, 1), reason="Not ours")


def test_a_mistaken_report_is_superseded_by_a_correction_with_a_reason(project: Project) -> None:
    _mistaken(project)
    project.correct_report(LEAD, corrected_report_on=FUTURE, reported_on=TODAY, values={"jobs": Decimal(400)},
                           narrative="Cohort 2 placed", reason="Meant 2013, not 2016", thresholds=THRESHOLDS,
                           today=TODAY)
    assert project.latest_report is not None and project.latest_report.reported_on == TODAY
    assert project.actuals() == {"jobs": Decimal(400)}
    assert [r.reported_on for r in project.standing_reports] == [date(2012, 4, 1), TODAY]
    _report(project, TODAY + timedelta(days=1), 450, today=TODAY + timedelta(days=1))


def test_a_correction_is_refused_when_dated_after_today_or_without_a_reason(project: Project) -> None:
    _mistaken(project)
    with pytest.raises(InvalidCommand) as refused:
        project.correct_report(LEAD, corrected_report_on=FUTURE, reported_on=FUTURE, values={"jobs": Decimal(-1)},
                               narrative="x", reason="", thresholds=THRESHOLDS, today=TODAY)
    assert _fields(refused.value) == ["reported_on", "values.jobs", "reason"]
