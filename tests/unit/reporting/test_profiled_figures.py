"""A profiled outcome in reporting: the project's RAG is the one projects derived again against the profile (its
event's), and the outcome keeps its profile. Events made by the real aggregate, replayed as the live consumer
applies them."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from services.projects.domain import Project
from shared.contracts.projects import Rag
from tests.unit.projects.conftest import LEAD, MANAGER, THRESHOLDS, TODAY, jobs_outcome, open_project, tasking
from tests.unit.reporting.test_withdrawn_reports import _project_row, _replayed

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
