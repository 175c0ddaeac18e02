"""A ratio outcome is reported by its parts (numerator and denominator), never by its value; its value is their
ratio in its unit, bounded by the range the unit declares. An outcome may name its own SIC 2007 section."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.projects.domain import Project
from shared.contracts.projects import RatioParts
from shared.errors import InvalidCommand
from tests.unit.projects.conftest import LEAD, THRESHOLDS, TODAY, jobs_outcome, open_project, tasking

UNIT = "percent (ratio)"


def employment_project() -> Project:
    known = tasking(unit=UNIT)
    return open_project(known, outcomes=[jobs_outcome(
        known.id, id="employed", metric="residents of working age in employment", unit=UNIT,
        baseline_value=Decimal(65), baseline_date=date(2012, 4, 1), target_value=Decimal(70),
        target_date=date(2014, 3, 31))])


def test_a_progress_report_on_a_ratio_carries_its_numerator_and_denominator() -> None:
    project = employment_project()
    project.report_progress(LEAD, reported_on=date(2013, 4, 1), values={}, narrative="Census update",
                            parts={"employed": (Decimal(6800), Decimal(10000))}, thresholds=THRESHOLDS, today=TODAY)
    [event] = [e for e in project.collect_events() if isinstance(e, Project.ProgressReported)]
    assert event.parts == (RatioParts("employed", Decimal(6800), Decimal(10000)),)
    assert [(v.outcome_id, v.value) for v in event.actuals] == [("employed", Decimal(68))]
    assert project.latest_report is not None and project.latest_report.parts == {
        "employed": (Decimal(6800), Decimal(10000))}
    # A later report of nothing about the ratio carries its parts forward, as any value is carried.
    assert event.rag.value in ("green", "amber", "red")


def test_a_ratio_is_never_reported_by_its_value() -> None:
    project = employment_project()
    with pytest.raises(InvalidCommand) as refused:
        project.report_progress(LEAD, reported_on=date(2013, 4, 1), values={"employed": Decimal(68)}, narrative="n",
                                thresholds=THRESHOLDS, today=TODAY)
    assert [p["field"] for p in refused.value.problems] == ["values.employed"]
    assert "numerator and denominator" in refused.value.problems[0]["message"]


@pytest.mark.parametrize(("numerator", "denominator", "field"), [
    (Decimal(10001), Decimal(10000), "parts.employed"),  # 100.01 %: more in employment than of working age
    (Decimal(-1), Decimal(10000), "parts.employed.numerator"),
    (Decimal(1), Decimal(0), "parts.employed.denominator"),
])
def test_a_ratios_parts_outside_its_units_range_are_refused(numerator: Decimal, denominator: Decimal,
                                                             field: str) -> None:
    project = employment_project()
    with pytest.raises(InvalidCommand) as refused:
        project.report_progress(LEAD, reported_on=date(2013, 4, 1), values={}, narrative="n",
                                parts={"employed": (numerator, denominator)}, thresholds=THRESHOLDS, today=TODAY)
    assert [p["field"] for p in refused.value.problems] == [field]


def test_parts_of_a_count_are_refused() -> None:
    project = open_project()
    with pytest.raises(InvalidCommand) as refused:
        project.report_progress(LEAD, reported_on=date(2013, 4, 1), values={}, narrative="n",
                                parts={"jobs": (Decimal(1), Decimal(2))}, thresholds=THRESHOLDS, today=TODAY)
    assert [p["field"] for p in refused.value.problems] == ["parts.jobs"]


def test_a_corrected_ratio_stands_with_its_parts() -> None:
    project = employment_project()
    project.report_progress(LEAD, reported_on=date(2013, 4, 1), values={}, narrative="n",
                            parts={"employed": (Decimal(9000), Decimal(10000))}, thresholds=THRESHOLDS, today=TODAY)
    project.correct_report(LEAD, corrected_report_on=date(2013, 4, 1), reported_on=date(2013, 4, 1), values={},
                           narrative="n", reason="The survey counted students", thresholds=THRESHOLDS, today=TODAY,
                           parts={"employed": (Decimal(6700), Decimal(10000))})
    corrected = next(e for e in project.collect_events() if isinstance(e, Project.ReportCorrected))
    assert corrected.standing.parts == (RatioParts("employed", Decimal(6700), Decimal(10000)),)
    assert project.actuals() == {"employed": Decimal(67)}


def test_an_outcome_names_its_own_sector_or_none() -> None:
    known = tasking()
    project = open_project(known, outcomes=[jobs_outcome(known.id, sector="C")])
    assert project.outcomes["jobs"].sector == "C"
    with pytest.raises(InvalidCommand) as refused:
        open_project(known, outcomes=[jobs_outcome(known.id, sector="Z")])
    assert [p["field"] for p in refused.value.problems] == ["outcomes.0.sector"]
