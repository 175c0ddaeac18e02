"""A withdrawn or corrected report no longer stands in reporting's delivery read model: the project's latest report,
RAG and outcomes, its progress series and the roll-up's credits are as if it had never been made; the withdrawal is
listed with its reason. Events made by the real aggregate, replayed as the live consumer applies them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from bench.reporting_history import History
from services.projects.domain import Project
from services.reporting.delivery import queries, rollup
from services.reporting.opendata import queries as opendata_queries
from services.reporting.provenance import Provenance
from services.reporting.rebuild import Replay
from shared.partnership import load, rules
from tests.unit.projects.conftest import LEAD, THRESHOLDS, open_project

FUTURE = date(2016, 4, 1)


class _Store:
    postgres = False

    def __init__(self, replay: Replay) -> None:
        self.database = replay.database()

    def query(self, statement: str, params: Any = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self.database.execute(statement, list(params)).fetchall()]

    @contextmanager
    def transaction(self, commit: bool = True) -> Iterator[_Store]:
        yield self

    def migrate(self, statements: Any) -> None:  # the meetings copy's tables, which provenance reads
        for statement in statements:
            self.database.execute(statement)


def _replayed(project: Project) -> Any:
    history = History()
    for event in project.collect_events():
        history.add("projects", project.id, event.originator_version, event)  # type: ignore[arg-type]
    replay = Replay("reporting")
    for events in history.events.values():
        for _, value in events:
            replay.apply(value)
    assert not replay.report.skipped
    return _Store(replay)


def _report(project: Project, on: date, jobs: int, today: date = date(2013, 4, 1)) -> None:
    project.report_progress(LEAD, reported_on=on, values={"jobs": Decimal(jobs)}, narrative="Hiring continues",
                            thresholds=THRESHOLDS, today=today)


def _project_row(store: Any, project_id: UUID) -> dict[str, Any]:
    [row] = store.query("SELECT * FROM delivery_projects WHERE id = ? AND valid_to IS NULL", [str(project_id)])
    return row


def test_a_withdrawn_report_no_longer_counts_in_the_latest_report_the_series_or_the_roll_up() -> None:
    project = open_project()
    _report(project, date(2012, 4, 1), 100)
    _report(project, FUTURE, 900, today=FUTURE)
    project.withdraw_report(LEAD, reported_on=FUTURE, reason="Dated 2016 by mistake")
    _report(project, date(2013, 4, 1), 400)
    store = _replayed(project)

    row = _project_row(store, project.id)
    assert row["last_reported_on"] == "2013-04-01" and row["rag"] == project.rag
    [outcome] = store.query("SELECT actual FROM delivery_outcomes WHERE project_id = ? AND valid_to IS NULL",
                            [str(project.id)])
    assert outcome["actual"] == "400"
    assert [r["reported_on"] for r in queries.progress_series(store, str(project.id))] == ["2012-04-01", "2013-04-01"]
    [withdrawal] = queries.progress_withdrawals(store, str(project.id))
    assert (withdrawal["reported_on"], withdrawal["reason"], withdrawal["corrected_to"]) == \
        ("2016-04-01", "Dated 2016 by mistake", None)
    credits = rollup.credits_by_tasking(store, _latest_moment(store), date(2030, 1, 1))
    [points] = credits.values()
    assert [(d.isoformat(), v) for d, v in points] == [("2012-04-01", Decimal(100)), ("2013-04-01", Decimal(400))]


def test_a_correction_supersedes_the_mistaken_report_in_the_read_model() -> None:
    project = open_project()
    _report(project, date(2012, 4, 1), 100)
    _report(project, FUTURE, 900, today=FUTURE)
    project.correct_report(LEAD, corrected_report_on=FUTURE, reported_on=date(2013, 4, 1),
                           values={"jobs": Decimal(400)}, narrative="Cohort 2 placed", reason="Meant 2013",
                           thresholds=THRESHOLDS, today=date(2013, 4, 1))
    store = _replayed(project)
    assert _project_row(store, project.id)["last_reported_on"] == "2013-04-01"
    series = queries.progress_series(store, str(project.id))
    assert [(r["reported_on"], r["correction"], r["correction_reason"]) for r in series] == \
        [("2012-04-01", 0, None), ("2013-04-01", 1, "Meant 2013")]
    [withdrawal] = queries.progress_withdrawals(store)
    assert withdrawal["corrected_to"] == "2013-04-01"


def test_before_its_withdrawal_a_report_still_stood() -> None:
    project = open_project()
    _report(project, date(2012, 4, 1), 100)
    _report(project, FUTURE, 900, today=FUTURE)
    project.withdraw_report(LEAD, reported_on=FUTURE, reason="Dated 2016 by mistake")
    store = _replayed(project)
    [withdrawn_at] = [r["recorded_at"] for r in queries.progress_withdrawals(store)]
    [reported_at] = [r["recorded_at"] for r in store.query("SELECT recorded_at FROM delivery_progress"
                                                           " WHERE reported_on = '2016-04-01'")]
    before = datetime.fromisoformat(reported_at)
    assert withdrawn_at > reported_at
    assert [r["reported_on"] for r in queries.progress_series(store, str(project.id), before)] == \
        ["2012-04-01", "2016-04-01"]


def _latest_moment(store: Any) -> datetime:
    [row] = store.query("SELECT MAX(recorded_at) AS at FROM delivery_progress_withdrawals")
    return datetime.fromisoformat(row["at"]) + timedelta(days=1)


def test_open_data_publishes_no_figure_of_a_withdrawn_report() -> None:
    project = open_project()
    _report(project, date(2012, 4, 1), 100)
    _report(project, date(2013, 3, 1), 900)
    project.correct_report(LEAD, corrected_report_on=date(2013, 3, 1), reported_on=date(2013, 3, 1),
                           values={"jobs": Decimal(300)}, narrative="Restated", reason="900 was a typing slip",
                           thresholds=THRESHOLDS, today=date(2013, 4, 1))
    store = _replayed(project)
    released_by = json.dumps({"body": "worcestershire-partnership", "decided_on": "2014-01-01", "reason": "Released",
                              "delegation": "county-officer-evidence-and-release"})
    store.database.execute("INSERT INTO open_releases VALUES ('2012-01-01', '2013-12-31', '2014-01-01T00:00:00',"
                           " 'worcestershire-partnership', '2014-01-01', 'Released', NULL, ?)", [released_by])
    provenance = Provenance(store, rules(None), load())  # a release resolves (here by delegation) to publish
    store.settings = SimpleNamespace(partnership_file=None)  # type: ignore[attr-defined]  # the default definition
    model = SimpleNamespace(store=store, provenance=provenance, partnership=load())
    published = opendata_queries.performance(model)  # type: ignore[arg-type]
    assert [(r["reported_on"], r["actual"], r["correction"]) for r in published] == \
        [("2012-04-01", "100", False), ("2013-03-01", "300", True)]
