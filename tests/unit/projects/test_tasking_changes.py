"""Reaction to upstream: a retasked or withdrawn tasking flags its projects, exactly once per tasking version."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from services.projects.domain import Project
from shared.contracts.projects import InterventionKind
from tests.unit.projects.conftest import BOARD, MANAGER, open_project, tasking

RETASK: dict[str, Any] = dict(lead_partner="chamber-of-commerce", share=Decimal(900), deadline=date(2014, 9, 30),
              reason="Share reduced after the PSTG review", decision=None)


def test_a_retasking_within_the_district_repoints_the_contribution_and_flags_the_project() -> None:
    known = tasking()
    project = open_project(known)
    assert project.react_to_retasking(MANAGER, tasking_id=known.id, version=3, district="worcester", **RETASK)
    contribution = project.contributions[known.id]
    assert contribution.open and contribution.share == 900 and contribution.upstream_version == 3
    assert project.flagged is not None and "retasked" in project.flagged


def test_a_redelivered_retasking_changes_nothing() -> None:
    known = tasking()
    project = open_project(known)
    project.react_to_retasking(MANAGER, tasking_id=known.id, version=3, district="worcester", **RETASK)
    events = len(project.pending_events)
    assert not project.react_to_retasking(MANAGER, tasking_id=known.id, version=3, district="worcester", **RETASK)
    assert not project.react_to_retasking(MANAGER, tasking_id=known.id, version=2, district="worcester", **RETASK)
    assert len(project.pending_events) == events


def test_a_project_opened_after_the_retasking_does_not_react_to_it_again() -> None:
    known = tasking(version=3)
    project = open_project(known)
    assert not project.react_to_retasking(MANAGER, tasking_id=known.id, version=3, district="worcester", **RETASK)


def test_a_retasking_to_another_district_closes_the_contribution() -> None:
    known = tasking()
    project = open_project(known)
    project.react_to_retasking(MANAGER, tasking_id=known.id, version=3, district="wychavon", **RETASK)
    assert not project.contributions[known.id].open
    assert project.flagged is not None and "wychavon" in project.flagged


def test_a_withdrawal_closes_the_contribution_exactly_once() -> None:
    known = tasking()
    project = open_project(known)
    assert project.react_to_withdrawal(MANAGER, tasking_id=known.id, version=3, reason="Funding ended",
                                       decision=None)
    assert not project.react_to_withdrawal(MANAGER, tasking_id=known.id, version=3, reason="Funding ended",
                                           decision=None)
    assert not project.contributions[known.id].open


def test_a_change_to_a_tasking_the_project_does_not_deliver_changes_nothing(project: Project) -> None:
    other = tasking()
    assert not project.react_to_withdrawal(MANAGER, tasking_id=other.id, version=5, reason="x", decision=None)


def test_the_programme_manager_repoints_a_closed_contribution_to_another_accepted_tasking() -> None:
    known = tasking()
    project = open_project(known)
    project.react_to_withdrawal(MANAGER, tasking_id=known.id, version=3, reason="Funding ended", decision=None)
    replacement = tasking()
    project.repoint_contribution(MANAGER, from_tasking_id=known.id, to=replacement, reason="Same jobs, new tasking",
                                 decision=BOARD)
    assert project.outcomes["jobs"].tasking_id == replacement.id
    assert project.contributions[replacement.id].open
    assert not project.contributions[known.id].open
    assert project.flagged is None
    # the old tasking's change, redelivered late, is still recognised
    assert not project.react_to_withdrawal(MANAGER, tasking_id=known.id, version=3, reason="x", decision=None)


def test_a_flagged_project_may_get_an_intervention() -> None:
    known = tasking()
    project = open_project(known, milestones=[])
    project.react_to_withdrawal(MANAGER, tasking_id=known.id, version=3, reason="Funding ended", decision=None)
    project.intervene(MANAGER, kind=InterventionKind.REQUEST_RETASKING, description="Ask PSTG to retask",
                      decision=BOARD, today=date(2012, 3, 1))
    assert project.flagged is None
