"""A ratio in the roll-up, through the real project aggregate and reporting's projection: each district's figure and
the county's are their parts summed and divided at the end, never a mean of ratios; and outcomes count in the
roll-up by sector by their own sector, else their tasking's."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from uuid import UUID

from services.reporting.delivery import rollup
from shared.contracts.projects import Rag
from tests.unit.projects.conftest import LEAD, THRESHOLDS, TODAY, jobs_outcome, open_project, tasking
from tests.unit.reporting.test_profiled_figures import _county, _with_projects
from tests.unit.reporting.test_withdrawn_reports import _Store

UNIT = "percent (ratio)"


def _employment(shares: dict[str, tuple[int, int]]) -> tuple[_Store, str, dict[str, UUID]]:
    """An employment rate from 65 % to 70 %, each district tasked with 70 %; each district's project reports its
    residents in employment (numerator) of its residents of working age (denominator)."""
    history, target, taskings = _county({d: Decimal(70) for d in shares}, target_value=Decimal(70),
                                        baseline=Decimal(65), unit=UNIT)
    projects = []
    for district, (numerator, denominator) in shares.items():
        known = tasking(tasking_id=taskings[district], district=district, unit=UNIT)
        project = open_project(known, district=district, outcomes=[jobs_outcome(
            known.id, id="employed", unit=UNIT, baseline_value=Decimal(65), baseline_date=date(2012, 4, 1),
            target_value=Decimal(70), target_date=date(2014, 3, 31))])
        project.report_progress(LEAD, reported_on=date(2013, 4, 1), values={}, narrative="n",
                                parts={"employed": (Decimal(numerator), Decimal(denominator))},
                                thresholds=THRESHOLDS, today=TODAY)
        projects.append(project)
    return _with_projects(history, *projects), str(target), taskings


def test_a_ratio_is_rolled_up_from_its_parts() -> None:
    # 90 of 100 in Worcester (90 %), 10 of 900 in Wychavon (1.1 %): the county is 100 of 1,000, 10 %; the mean of
    # the two ratios would say 45.6 %.
    store, target, taskings = _employment({"worcester": (90, 100), "wychavon": (10, 900)})
    [county] = rollup.rollups(store)
    assert county["kind"] == "ratio"
    assert (county["numerator"], county["denominator"], county["actual"]) == (100, 1000, 10)
    assert (county["tasked"], county["percent_of_target"]) == (None, None)  # never summed
    shares = {s["district"]: (s["numerator"], s["denominator"], s["actual"]) for s in county["shares"]}
    assert shares == {"worcester": (90, 100, 90), "wychavon": (10, 900, Decimal(10) / Decimal(900) * 100)}
    judged = rollup.performances(store, None, date(2013, 4, 1), THRESHOLDS)[target]
    # The county's figure at the report's date is the rolled-up 10 %, from 65 % at the baseline towards 70 %.
    assert judged["total"].figures[0].actual == 10 and judged["total"].rag is Rag.RED
    assert judged["shares"][str(taskings["worcester"])].figures[0].actual == 90


def test_a_ratio_target_by_sector_sums_the_parts_delivered_in_it() -> None:
    store, _, _ = _employment({"worcester": (90, 100)})
    assert rollup.rollups(store, sector="C") == []  # neither the share nor its outcome names a sector


def test_an_outcome_counts_by_its_own_sector_else_its_taskings() -> None:
    # Worcester's share is tasked in manufacturing (C); one of its projects delivers construction jobs (F).
    history, _, taskings = _county({"worcester": Decimal(400), "wychavon": Decimal(200)},
                                   sectors={"worcester": "C", "wychavon": "F"})
    projects = []
    for district, jobs, sector in (("worcester", 150, None), ("worcester", 30, "F"), ("wychavon", 40, None)):
        known = tasking(tasking_id=taskings[district], district=district)
        project = open_project(known, district=district, outcomes=[jobs_outcome(
            known.id, baseline_date=date(2012, 4, 1), target_value=Decimal(600), target_date=date(2014, 3, 31),
            sector=sector)])
        project.report_progress(LEAD, reported_on=date(2013, 4, 1), values={"jobs": Decimal(jobs)}, narrative="n",
                                thresholds=THRESHOLDS, today=TODAY)
        projects.append(project)
    store = _with_projects(history, *projects)
    [everything] = rollup.rollups(store)
    assert (everything["tasked"], everything["actual"]) == (600, 220)
    [manufacturing] = rollup.rollups(store, sector="C")
    assert [(s["district"], s["actual"]) for s in manufacturing["shares"]] == [("worcester", 150)]
    assert (manufacturing["tasked"], manufacturing["actual"]) == (400, 150)
    [construction] = rollup.rollups(store, sector="F")
    # Wychavon's share (tasked in F) and the construction jobs Worcester's project delivered; only F's share tasked.
    assert sorted((s["district"], s["actual"]) for s in construction["shares"]) == [("worcester", 30),
                                                                                   ("wychavon", 40)]
    assert (construction["tasked"], construction["actual"]) == (200, 70)


def test_the_scrutiny_pack_shows_a_ratio_rolled_up_from_its_parts() -> None:
    from services.reporting.changes import Scope
    from services.reporting.pack_render import performance_notes, to_csv, to_html
    from services.reporting.packs import PackRequest, build_pack

    store, target, _ = _employment({"worcester": (90, 100), "wychavon": (10, 900)})
    store.settings = SimpleNamespace(partnership_file=None)  # type: ignore[attr-defined]  # the default definition
    pack = build_pack(store, PackRequest(committee="Scrutiny", start=date(2013, 1, 1), end=date(2013, 4, 1)))
    [performance] = [p for p in pack.performance if p.target_id == target]
    assert performance.total.actual == 10 and performance.total.goal == 70  # 100 of 1,000, not a sum of ratios
    judged = rollup.performances(store, None, date(2013, 4, 1), THRESHOLDS)[target]
    assert (performance.total.rag, performance.total.stale) == (judged["total"].rag.value, judged["total"].stale)
    assert {s.district: s.actual for s in performance.shares}["worcester"] == 90
    # A district's scope: its own parts' ratio against its own ratio, never its shares summed.
    [wychavon] = build_pack(store, PackRequest(committee="Scrutiny", start=date(2013, 1, 1), end=date(2013, 4, 1),
                                               scope=Scope(frozenset({"wychavon"})))).performance
    assert wychavon.total.actual == Decimal(10) / Decimal(900) * 100 and wychavon.total.goal == 70
    assert to_csv(pack, "performance")
    assert "(100 of 1,000 in the county), never a mean of their ratios" in performance_notes(performance)[0]
    assert "never a mean of their ratios" in to_html(pack)
