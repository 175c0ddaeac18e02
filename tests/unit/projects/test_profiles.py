"""An outcome's profile (expected values at dates): RAG is measured against it, and setting it records the RAG
derived again, so projects' events carry what every reader shows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from services.projects.domain import Project
from shared.contracts.projects import Rag
from shared.errors import InvalidCommand
from tests.unit.projects.conftest import LEAD, MANAGER, THRESHOLDS, TODAY, jobs_outcome, open_project, tasking

PROFILE = [(date(2012, 10, 1), Decimal(40)), (date(2013, 4, 1), Decimal(100)), (date(2013, 10, 1), Decimal(300))]


def business_park() -> Project:
    known = tasking()
    park = jobs_outcome(known.id, baseline_date=date(2012, 4, 1), target_value=Decimal(600),
                        target_date=date(2014, 3, 31))
    return open_project(known, outcomes=[park], title="Inward investment to the Blackpole business park")


def report(project: Project, on: date, jobs: int) -> None:
    project.report_progress(LEAD, reported_on=on, values={"jobs": Decimal(jobs)}, narrative="Firms moved in",
                            thresholds=THRESHOLDS, today=TODAY)


def test_profiling_an_outcome_records_the_rag_derived_again() -> None:
    park = business_park()
    report(park, date(2012, 10, 1), 60)
    assert park.rag is Rag.RED  # against the straight line: 150 due, 60 delivered
    park.override_rag(MANAGER, rag=Rag.AMBER, reason="The park opens next year")
    park.profile_outcome(MANAGER, outcome_id="jobs", profile=PROFILE, thresholds=THRESHOLDS)
    event: Any = park.collect_events()[-1]
    assert type(event).__name__ == "OutcomeProfiled"
    assert [(p.on, p.value) for p in event.profile] == PROFILE
    assert event.standing.rag is Rag.GREEN and event.standing.shortfall_percent == Decimal("-50.00")
    assert park.rag is Rag.GREEN and park.rag_override is None  # derived again; the manual RAG gave way
    report(park, date(2013, 4, 1), 150)
    assert park.rag is Rag.GREEN  # 150 against 100 profiled (300 on the straight line)


def test_removing_a_profile_measures_against_the_straight_line_again() -> None:
    park = business_park()
    park.profile_outcome(MANAGER, outcome_id="jobs", profile=PROFILE, thresholds=THRESHOLDS)
    report(park, date(2012, 10, 1), 60)
    assert park.rag is Rag.GREEN
    park.profile_outcome(MANAGER, outcome_id="jobs", profile=[], thresholds=THRESHOLDS)
    assert park.rag is Rag.RED and park.profiles == {}


def test_a_profile_outside_the_outcome_or_below_zero_is_refused_with_every_problem() -> None:
    park = business_park()
    with pytest.raises(InvalidCommand) as refused:
        park.profile_outcome(MANAGER, outcome_id="jobs", thresholds=THRESHOLDS,
                             profile=[(date(2015, 1, 1), Decimal(600)), (date(2013, 1, 1), Decimal(-5))])
    assert {p["field"] for p in refused.value.problems} == {"profile[0].on", "profile[1].value"}
    with pytest.raises(InvalidCommand, match="No such outcome"):
        park.profile_outcome(MANAGER, outcome_id="houses", profile=PROFILE, thresholds=THRESHOLDS)


# -- an outcome without a profile of its own follows its share's ---------------------------------------------------

SHARE_PROFILE = [(date(2012, 10, 1), Decimal(80)), (date(2013, 4, 1), Decimal(200))]
"""Worcester's share of 1,200 jobs, back-loaded: 80 by October 2012, 200 by April 2013 (a sixth of it)."""


def _adopt(park: Project, version: int, profile: list[tuple[date, Decimal]] = SHARE_PROFILE) -> bool:
    tasking_id = next(iter(park.outcomes.values())).tasking_id
    return park.react_to_share_profile(MANAGER, tasking_id=tasking_id, version=version, share=Decimal(1200),
                                       profile=profile, thresholds=THRESHOLDS, decision=None)


def test_an_outcome_without_a_profile_is_judged_against_its_shares() -> None:
    park = business_park()
    report(park, date(2012, 10, 1), 60)
    assert park.rag is Rag.RED  # 150 due on the straight line
    assert _adopt(park, version=5)
    event: Any = park.collect_events()[-1]
    assert type(event).__name__ == "ShareProfileAdopted"
    # The share's shape carried onto the outcome: 80 of 1,200 by October 2012 -> 40 of its 600; 60 delivered.
    assert event.standing.rag is Rag.GREEN and event.standing.shortfall_percent == Decimal("-50.00")
    assert park.rag is Rag.GREEN
    report(park, date(2013, 4, 1), 150)
    assert park.rag is Rag.GREEN  # 100 due by the share's profile, 300 on the straight line
    assert not _adopt(park, version=5)  # the same tasking version again changes nothing


def test_an_outcomes_own_profile_is_more_specific_than_its_shares() -> None:
    park = business_park()
    park.profile_outcome(MANAGER, outcome_id="jobs", thresholds=THRESHOLDS,
                         profile=[(date(2012, 10, 1), Decimal(150))])  # front-loaded: 150 by October
    _adopt(park, version=5)
    report(park, date(2012, 10, 1), 60)
    assert park.rag is Rag.RED  # its own profile, not the share's
    _adopt(park, version=6, profile=[])  # the share's profile removed
    assert park.share_profiles == {}
