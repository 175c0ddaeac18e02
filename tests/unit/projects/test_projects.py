"""The rules of a project: opening, progress, RAG override, deferral, interventions, closure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from services.projects.domain import Project, ProjectStatus
from shared.contracts import Decision
from shared.contracts.projects import (
    DirectionOfTravel,
    InterventionKind,
    Milestone,
    Rag,
    ResourceCommitment,
    Risk,
    programme_id,
)
from shared.errors import InvalidCommand, NotPermitted, RuleViolated
from tests.unit.projects.conftest import (
    BOARD,
    LEAD,
    MANAGER,
    OTHER_PARTNER,
    THRESHOLDS,
    TODAY,
    jobs_outcome,
    open_project,
    tasking,
)

HALFWAY = date(2012, 7, 2)


def report(project: Project, on: date, jobs: int | str, **extra: object) -> None:
    project.report_progress(LEAD, reported_on=on, values={"jobs": Decimal(jobs)}, narrative="Hiring continues",
                            thresholds=THRESHOLDS, today=TODAY, **extra)  # type: ignore[arg-type]


# -- opening ----------------------------------------------------------------------------------------------------------


def test_a_project_is_opened_against_an_accepted_tasking_of_its_district(project: Project) -> None:
    assert project.district == "worcester"
    assert project.status is ProjectStatus.OPEN
    assert project.rag is None
    assert next(iter(project.contributions.values())).upstream_version == 2


def test_a_tasking_in_delivery_is_still_accepted() -> None:
    assert open_project(tasking(status="in_delivery")).status is ProjectStatus.OPEN


def test_a_project_cannot_deliver_a_tasking_that_was_not_accepted() -> None:
    with pytest.raises(InvalidCommand, match="not accepted"):
        open_project(tasking(status="issued"))


def test_a_project_cannot_deliver_another_districts_tasking() -> None:
    with pytest.raises(InvalidCommand, match="redditch"):
        open_project(tasking(district="redditch"))


def test_an_outcome_is_measured_in_its_taskings_unit() -> None:
    known = tasking()
    with pytest.raises(InvalidCommand) as refused:
        open_project(known, outcomes=[jobs_outcome(known.id, unit="people")])
    assert refused.value.problems[0]["field"] == "outcomes.0.unit"


def test_an_outcome_must_count_towards_one_of_the_projects_taskings() -> None:
    with pytest.raises(InvalidCommand, match="taskings"):
        open_project(tasking(), outcomes=[jobs_outcome(uuid4())])


def test_an_outcome_weight_is_more_than_zero_and_at_most_one() -> None:
    known = tasking()
    with pytest.raises(InvalidCommand, match="weight"):
        open_project(known, outcomes=[jobs_outcome(known.id, weight=Decimal("1.5"))])


def test_a_project_needs_an_outcome_whose_target_differs_from_its_baseline() -> None:
    known = tasking()
    with pytest.raises(InvalidCommand):
        open_project(known, outcomes=[])
    with pytest.raises(InvalidCommand, match="differ"):
        open_project(known, outcomes=[jobs_outcome(known.id, target_value=Decimal(0))])


def test_risks_are_scored_one_to_five_with_an_owner_and_a_mitigation() -> None:
    bad = Risk("r1", "Employer pulls out", likelihood=6, impact=0, owner="", mitigation="")
    with pytest.raises(InvalidCommand) as refused:
        open_project(risks=[bad])
    fields = {p["field"] for p in refused.value.problems}
    assert {"risks.0.likelihood", "risks.0.impact", "risks.0.owner", "risks.0.mitigation"} <= fields


def test_resources_are_committed_in_money_or_staff_days(project: Project) -> None:
    with pytest.raises(InvalidCommand):
        project.commit_resources(OTHER_PARTNER, ResourceCommitment("chamber-of-commerce", Decimal(0), Decimal(0)))
    project.commit_resources(OTHER_PARTNER, ResourceCommitment("chamber-of-commerce", Decimal(25000), Decimal(40)))
    assert project.resources[-1].money_gbp == 25000


def test_a_project_is_in_its_districts_programme() -> None:
    project = open_project()
    assert (project.district, project.programme_id) == ("worcester", programme_id("worcester"))


# -- progress ---------------------------------------------------------------------------------------------------------


def test_only_the_lead_partner_reports_progress(project: Project) -> None:
    with pytest.raises(NotPermitted, match="worcester-college"):
        project.report_progress(OTHER_PARTNER, reported_on=HALFWAY, values={"jobs": Decimal(500)},
                                narrative="On track", thresholds=THRESHOLDS, today=TODAY)


def test_progress_derives_rag_and_direction_of_travel(project: Project) -> None:
    report(project, date(2012, 4, 1), 100)
    first = project.rag
    report(project, HALFWAY, 460)
    assert (first, project.rag) == (Rag.RED, Rag.GREEN)
    latest: Any = project.collect_events()[-1]
    assert latest.direction is DirectionOfTravel.IMPROVING
    assert project.actuals() == {"jobs": Decimal(460)}


def test_a_report_dated_before_the_last_is_refused_unless_a_correction_with_a_reason(project: Project) -> None:
    report(project, HALFWAY, 460)
    with pytest.raises(RuleViolated, match="correction"):
        report(project, date(2012, 5, 1), 300)
    with pytest.raises(InvalidCommand, match="reason"):
        report(project, date(2012, 5, 1), 300, correction=True)
    report(project, date(2012, 5, 1), 300, correction=True, correction_reason="Employer's figures restated")
    assert project.actuals() == {"jobs": Decimal(460)}  # the latest report still stands
    assert len(project.reports) == 2


def test_a_report_on_the_same_date_as_the_last_supersedes_it(project: Project) -> None:
    report(project, HALFWAY, 460)
    report(project, HALFWAY, 480)
    assert project.actuals() == {"jobs": Decimal(480)}


def test_outcomes_not_reported_carry_their_last_value() -> None:
    known = tasking()
    project = open_project(known, outcomes=[jobs_outcome(known.id), jobs_outcome(known.id, id="apprentices")])
    project.report_progress(LEAD, reported_on=date(2012, 4, 1), values={"jobs": Decimal(200),
                            "apprentices": Decimal(250)}, narrative="x", thresholds=THRESHOLDS, today=TODAY)
    report(project, HALFWAY, 500)
    assert project.actuals() == {"jobs": Decimal(500), "apprentices": Decimal(250)}


def test_a_report_names_outcomes_of_the_project_and_tells_what_happened(project: Project) -> None:
    with pytest.raises(InvalidCommand):
        project.report_progress(LEAD, reported_on=HALFWAY, values={"houses": Decimal(3)}, narrative=" ",
                                thresholds=THRESHOLDS, today=TODAY)


def test_a_manual_rag_needs_a_reason_and_expires_at_the_next_report(project: Project) -> None:
    report(project, HALFWAY, 460)
    with pytest.raises(InvalidCommand):
        project.override_rag(MANAGER, rag=Rag.AMBER, reason="  ")
    project.override_rag(MANAGER, rag=Rag.AMBER, reason="Main employer announced redundancies")
    overridden = (project.rag, project.derived_rag)
    report(project, date(2012, 8, 1), 560)
    assert overridden == (Rag.AMBER, Rag.GREEN)
    assert project.rag is Rag.GREEN
    assert project.rag_override is None


# -- deferral, interventions, closure ---------------------------------------------------------------------------------


def test_a_project_is_deferred_only_by_a_decision_with_a_reason(project: Project) -> None:
    with pytest.raises(InvalidCommand, match="decision"):
        project.defer(MANAGER, decision=None)
    project.defer(MANAGER, decision=Decision("worcester", date(2012, 8, 1), "Resources redirected"))
    assert project.status is ProjectStatus.DEFERRED
    with pytest.raises(RuleViolated, match="deferred"):
        report(project, HALFWAY, 460)
    project.resume(MANAGER, decision=Decision("worcester", date(2012, 10, 1), "Funding restored"))
    report(project, HALFWAY, 460)


def test_an_intervention_is_for_a_red_project(project: Project) -> None:
    report(project, HALFWAY, 300)
    assert project.rag is Rag.RED
    project.intervene(MANAGER, kind=InterventionKind.EXTRA_RESOURCES, description="Second recruiter funded",
                      decision=BOARD, today=date(2012, 3, 1))
    event = project.collect_events()[-1]
    assert event.triggers == ("red",)  # type: ignore[attr-defined]
    assert event.decision == BOARD  # type: ignore[attr-defined]


def test_an_intervention_says_by_when_it_is_to_have_worked_and_who_carries_it_out(project: Project) -> None:
    report(project, HALFWAY, 300)
    with pytest.raises(InvalidCommand, match="due after the decision") as refused:
        project.intervene(MANAGER, kind=InterventionKind.EXTRA_RESOURCES, description="Second recruiter funded",
                          decision=BOARD, today=date(2012, 3, 1), due_on=BOARD.decided_on)
    assert refused.value.problems[0]["field"] == "due_on"
    project.intervene(MANAGER, kind=InterventionKind.EXTRA_RESOURCES, description="Second recruiter funded",
                      decision=BOARD, today=date(2012, 3, 1), due_on=date(2012, 9, 30), owner="worcestershire-cc")
    event = project.collect_events()[-1]
    assert (event.due_on, event.owner) == (date(2012, 9, 30), "worcestershire-cc")  # type: ignore[attr-defined]
    project.intervene(MANAGER, kind=InterventionKind.RE_PLAN, description="Lead partner re-plans",
                      decision=BOARD, today=date(2012, 3, 1), owner=project.lead_partner)
    event = project.collect_events()[-1]
    assert (event.due_on, event.owner) == (None, None)  # type: ignore[attr-defined]  # the lead: said by None


def test_an_intervention_is_for_a_missed_milestone(project: Project) -> None:
    project.intervene(MANAGER, kind=InterventionKind.RE_PLAN, description="Premises move to Blackpole",
                      decision=BOARD, today=date(2012, 6, 2))
    assert project.collect_events()[-1].triggers == ("missed-milestone:premises",)  # type: ignore[attr-defined]


def test_an_intervention_is_refused_for_a_project_on_track(project: Project) -> None:
    project.achieve_milestone(LEAD, milestone_id="premises", achieved_on=date(2012, 5, 20))
    report(project, HALFWAY, 500)
    with pytest.raises(RuleViolated, match="on track"):
        project.intervene(MANAGER, kind=InterventionKind.RE_PLAN, description="x", decision=BOARD,
                          today=date(2012, 7, 3))


def test_an_intervention_carries_a_decision_reference(project: Project) -> None:
    report(project, HALFWAY, 300)
    unreferenced = Decision("worcester", date(2012, 9, 1), "Off track")
    with pytest.raises(InvalidCommand, match="reference"):
        project.intervene(MANAGER, kind=InterventionKind.ESCALATE_TO_THEME_GROUP, description="To PSTG",
                          decision=unreferenced, today=date(2012, 3, 1))


def test_a_milestone_is_achieved_once(project: Project) -> None:
    project.achieve_milestone(LEAD, milestone_id="premises", achieved_on=date(2012, 5, 20))
    with pytest.raises(RuleViolated):
        project.achieve_milestone(LEAD, milestone_id="premises", achieved_on=date(2012, 5, 21))
    assert project.missed_milestones(date(2013, 1, 1)) == []
    project.add_milestone(MANAGER, Milestone("cohort-2", "Second cohort", date(2012, 11, 1)))
    assert project.missed_milestones(date(2013, 1, 1)) == ["cohort-2"]


def test_a_closed_project_accepts_no_more_progress(project: Project) -> None:
    report(project, HALFWAY, 500)
    with pytest.raises(InvalidCommand):
        project.close(MANAGER, outcome_achieved="", lessons="", decision=BOARD)
    project.close(MANAGER, outcome_achieved="1,000 jobs created", lessons="Employers first", decision=BOARD)
    assert project.status is ProjectStatus.CLOSED
    assert project.collect_events()[-1].final_actuals[0].value == 500  # type: ignore[attr-defined]
    with pytest.raises(RuleViolated, match="closed"):
        report(project, date(2012, 8, 1), 600)
