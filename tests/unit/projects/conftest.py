"""Builders for the projects domain tests: Worcester's jobs tasking and a project delivering it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from services.projects.domain import KnownTasking, Project, RagThresholds
from shared.contracts import Actor, Decision
from shared.contracts.projects import Milestone, Outcome
from shared.eventstore import CommandContext

THRESHOLDS = RagThresholds(Decimal(10), Decimal(25))
TODAY = date(2014, 1, 1)
"""The partnership's date the domain tests report on: after every report date they use."""
MANAGER = CommandContext(Actor("pm-1", "worcester-city-council", "programme_manager"), "c-pm")
LEAD = CommandContext(Actor("po-1", "worcester-college", "partner_officer"), "c-lead")
OTHER_PARTNER = CommandContext(Actor("po-2", "chamber-of-commerce", "partner_officer"), "c-other")
BOARD = Decision(body="worcester", decided_on=date(2012, 9, 1), reason="Jobs project off track",
                 reference="WA-2012-09-4", delegation="worcester-programme-manager")


def tasking(status: str = "accepted", district: str = "worcester", unit: str = "jobs",
            version: int = 2, tasking_id: UUID | None = None) -> KnownTasking:
    return KnownTasking(id=tasking_id or uuid4(), version=version, target_id=uuid4(), district=district,
                        lead_partner="worcester-city-council", share=Decimal(1200), unit=unit,
                        deadline=date(2014, 3, 31), status=status)


def jobs_outcome(tasking_id: UUID, **overrides: object) -> Outcome:
    values: dict[str, object] = dict(id="jobs", tasking_id=tasking_id, metric="new private-sector jobs",
                                     unit="jobs", baseline_value=Decimal(0), baseline_date=date(2012, 1, 1),
                                     target_value=Decimal(1000), target_date=date(2013, 1, 1))
    values.update(overrides)
    return Outcome(**values)  # type: ignore[arg-type]


def open_project(*taskings: KnownTasking, **overrides: object) -> Project:
    known = list(taskings) or [tasking()]
    values: dict[str, object] = dict(
        id=uuid4(), district="worcester", title="Engineering skills academy", lead_partner="worcester-college",
        project_manager="pm-user-7", taskings=known, outcomes=[jobs_outcome(known[0].id)],
        milestones=[Milestone("premises", "Premises open", date(2012, 6, 1))],
    )
    values.update(overrides)
    return Project.open(MANAGER, **values)  # type: ignore[arg-type]


@pytest.fixture
def project() -> Project:
    return open_project()
