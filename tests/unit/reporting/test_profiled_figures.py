"""A profiled outcome in reporting: the project's RAG is the one projects derived again against the profile (its
event's), and the outcome keeps its profile. Events made by the real aggregate, replayed as the live consumer
applies them."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

from bench.reporting_history import LEAD as THEME_LEAD
from bench.reporting_history import OFFICER, PSTG, History
from services.projects.domain import Project
from services.reporting.delivery import rollup
from services.reporting.rebuild import Replay
from shared.contracts.priorities import TargetSet
from shared.contracts.projects import Rag
from shared.contracts.tasking import CommissioningLevel, TaskingAccepted, TaskingIssued
from shared.performance import STALE, Figure, Trajectory, performance
from tests.unit.projects.conftest import LEAD, MANAGER, THRESHOLDS, TODAY, jobs_outcome, open_project, tasking
from tests.unit.reporting.test_withdrawn_reports import _project_row, _replayed, _Store

PROFILE = [(date(2012, 10, 1), Decimal(40)), (date(2013, 4, 1), Decimal(100)), (date(2013, 10, 1), Decimal(300))]


def business_park() -> Project:
    known = tasking()
    park = jobs_outcome(known.id, baseline_date=date(2012, 4, 1), target_value=Decimal(600),
                        target_date=date(2014, 3, 31))
    return open_project(known, outcomes=[park], title="Inward investment to the Blackpole business park")


def test_reporting_shows_the_rag_projects_derived_again_against_the_profile() -> None:
    park = business_park()
    park.report_progress(LEAD, reported_on=date(2012, 10, 1), values={"jobs": Decimal(60)}, narrative="Two firms",
                         thresholds=THRESHOLDS, today=TODAY)
    park.profile_outcome(MANAGER, outcome_id="jobs", profile=PROFILE, thresholds=THRESHOLDS)
    store = _replayed(park)
    row = _project_row(store, park.id)
    assert (row["rag"], row["derived_rag"], row["shortfall_percent"]) == (Rag.GREEN, Rag.GREEN, "-50.00")
    [outcome] = store.query("SELECT profile, actual FROM delivery_outcomes WHERE project_id = ? AND valid_to IS NULL",
                            [str(park.id)])
    assert json.loads(outcome["profile"]) == [[d.isoformat(), str(v)] for d, v in PROFILE]
    assert outcome["actual"] == "60"


# -- the roll-up judged by the same function -------------------------------------------------------------------


def _county(shares: dict[str, Decimal], target_value: Decimal = Decimal(1600), baseline: Decimal = Decimal(1000),
            unit: str = "jobs", sectors: dict[str, str] | None = None) -> tuple[History, UUID, dict[str, UUID]]:
    """A county jobs target 1,000 -> 1,600 (April 2012 to March 2014) and accepted district shares of it."""
    history = History()
    objective, target = uuid4(), uuid4()
    history.add("priorities", target, 1, TargetSet(
        actor=OFFICER, correlation_id="c", decision=PSTG, objective_id=objective, metric="jobs", unit=unit,
        baseline_value=baseline, baseline_date=date(2012, 4, 1), target_value=target_value,
        deadline=date(2014, 3, 31), data_source="ONS", owner_organisation="worcestershire-cc"))
    taskings = {}
    for district, share in shares.items():
        tasking_id = uuid4()
        history.add("tasking", tasking_id, 1, TaskingIssued(
            actor=THEME_LEAD, correlation_id="c", decision=PSTG, target_id=target, theme_group="pstg",
            district=district, share=share, unit=unit, deadline=date(2014, 3, 31), lead_partner="worcestershire-cc",
            commissioning_level=CommissioningLevel.DISTRICT, counts_against_target=True,
            sector=(sectors or {}).get(district)))
        history.add("tasking", tasking_id, 2, TaskingAccepted(actor=THEME_LEAD, correlation_id="c", decision=PSTG,
                                                              counts_against_target=True))
        taskings[district] = tasking_id
    return history, target, taskings


def _with_projects(history: History, *projects: Project) -> _Store:
    for project in projects:
        for event in project.collect_events():
            history.add("projects", project.id, event.originator_version, event)  # type: ignore[arg-type]
    replay = Replay("reporting")
    for events in history.events.values():
        for _, value in events:
            replay.apply(value)
    assert not replay.report.skipped
    return _Store(replay)


def test_the_roll_up_judges_shares_and_the_county_by_the_one_function() -> None:
    history, target, taskings = _county({"worcester": Decimal(400), "wychavon": Decimal(200)})
    park = open_project(tasking(tasking_id=taskings["worcester"]), outcomes=[jobs_outcome(
        taskings["worcester"], baseline_date=date(2012, 4, 1), target_value=Decimal(600),
        target_date=date(2014, 3, 31))])
    for day, jobs in ((date(2012, 10, 1), 60), (date(2013, 4, 1), 150)):
        park.report_progress(LEAD, reported_on=day, values={"jobs": Decimal(jobs)}, narrative="n",
                             thresholds=THRESHOLDS, today=TODAY)
    store = _with_projects(history, park)
    on = date(2013, 4, 1)
    judged = rollup.performances(store, None, on, THRESHOLDS)[str(target)]
    worcester = judged["shares"][str(taskings["worcester"])]
    # Worcester's share: 400 more jobs by March 2014; 150 credited against 200.5 due (365 of 729 days).
    expected = Figure(Trajectory(date(2012, 4, 1), Decimal(0), date(2014, 3, 31), Decimal(400)),
                      ((date(2012, 10, 1), Decimal(60)), (date(2013, 4, 1), Decimal(150))))
    assert worcester == performance([expected], on, THRESHOLDS)
    assert worcester.rag is Rag.RED and worcester.forecast is not None
    # The county: its improvement (1,600 - 1,000 = 600), not its target value, is what the shares add up to.
    county = judged["total"]
    assert county.figures[0].expected == Decimal(600) * Decimal(365) / Decimal(729)
    assert county.figures[0].actual == 150
    assert judged["shares"][str(taskings["wychavon"])].stale  # never reported, a year after the baseline
    assert not county.stale
    assert rollup.performances(store, None, date(2013, 9, 1), THRESHOLDS)[str(target)]["total"].status == STALE


def test_a_rate_target_is_never_summed_across_districts() -> None:
    # An employment rate from 70 % to 75 %: each district is tasked to reach 75 % itself, not 150 % between them.
    history, target, taskings = _county({"worcester": Decimal(75), "wychavon": Decimal(75)},
                                        target_value=Decimal(75), baseline=Decimal(70), unit="percent")
    projects = []
    for district, rate in (("worcester", 72), ("wychavon", 74)):
        known = tasking(tasking_id=taskings[district], district=district, unit="percent")
        project = open_project(known, district=district, outcomes=[jobs_outcome(
            known.id, id="rate", unit="percent", baseline_value=Decimal(70), baseline_date=date(2012, 4, 1),
            target_value=Decimal(75), target_date=date(2014, 3, 31))])
        project.report_progress(LEAD, reported_on=date(2013, 4, 1), values={"rate": Decimal(rate)}, narrative="n",
                                thresholds=THRESHOLDS, today=TODAY)
        projects.append(project)
    store = _with_projects(history, *projects)
    [county] = rollup.rollups(store)
    assert county["kind"] == "level"
    assert (county["actual"], county["tasked"], county["percent_of_target"]) == (None, None, None)
    assert {s["district"]: s["actual"] for s in county["shares"]} == {"worcester": 72, "wychavon": 74}
    judged = rollup.performances(store, None, date(2013, 4, 1), THRESHOLDS)[str(target)]
    assert judged["total"] is None
    worcester = judged["shares"][str(taskings["worcester"])]
    # Its own level: from 70 % at the baseline to 75 % in March 2014; 72 % against 72.5 % due (365 of 729 days).
    assert worcester.figures[0].actual == 72
    assert worcester.figures[0].expected == Decimal(70) + Decimal(5) * Decimal(365) / Decimal(729)


def test_the_roll_up_can_be_asked_by_sector() -> None:
    # "1,200 jobs in one industry": Worcester's share is in manufacturing (C), Wychavon's in construction (F).
    history, _, taskings = _county({"worcester": Decimal(400), "wychavon": Decimal(200)},
                                   sectors={"worcester": "C", "wychavon": "F"})
    projects = []
    for district, jobs in (("worcester", 150), ("wychavon", 40)):
        known = tasking(tasking_id=taskings[district], district=district)
        project = open_project(known, district=district, outcomes=[jobs_outcome(
            known.id, baseline_date=date(2012, 4, 1), target_value=Decimal(600), target_date=date(2014, 3, 31))])
        project.report_progress(LEAD, reported_on=date(2013, 4, 1), values={"jobs": Decimal(jobs)}, narrative="n",
                                thresholds=THRESHOLDS, today=TODAY)
        projects.append(project)
    store = _with_projects(history, *projects)
    [everything] = rollup.rollups(store)
    assert (everything["tasked"], everything["actual"]) == (600, 190)
    [manufacturing] = rollup.rollups(store, sector="C")
    assert [(s["district"], s["sector"]) for s in manufacturing["shares"]] == [("worcester", "C")]
    assert (manufacturing["tasked"], manufacturing["actual"]) == (400, 150)
    assert rollup.rollups(store, sector="A") == []
