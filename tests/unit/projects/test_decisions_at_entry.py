"""Delivery decisions (interventions, deferrals, closures, re-pointings, RAG overrides) resolve at entry to a
quorate meeting of the project's district partnership, or to its programme manager's scheme of delegation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest

from services.projects.application import ProjectsApplication
from shared.contracts import Decision
from shared.contracts.projects import InterventionKind, Rag
from shared.decisions import DecisionNotValid, MeetingNotYetKnown
from tests.copies import TaskingFeed
from tests.harness import settings_for
from tests.unit.projects.conftest import MANAGER
from tests.unit.projects.test_delivery_index import known, opened

ALLIANCE = ["worcester-city-council", "worcester-college", "vcs-alliance"]
APRIL = date(2013, 4, 24)
DELEGATED = Decision("worcester", APRIL, "Project red", reference="WA-2013-04-5",
                     delegation="worcester-programme-manager")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[ProjectsApplication]:
    application = ProjectsApplication(settings_for(data_dir=tmp_path))
    yield application
    application.close()


@pytest.fixture
def feed(app: ProjectsApplication) -> TaskingFeed:
    feed = TaskingFeed(app.known_taskings.store)
    for org in ALLIANCE:
        feed.seat("worcester", org)
    return feed


@pytest.fixture
def project(app: ProjectsApplication) -> UUID:
    return opened(app, known(app).id)


def intervene(app: ProjectsApplication, project: UUID, decision: Decision) -> None:
    app.intervene(MANAGER, app.project(project), kind=InterventionKind.RE_PLAN, description="Re-plan the recruitment",
                  decision=decision)


def test_a_programme_manager_defers_under_the_district_scheme_of_delegation(
        app: ProjectsApplication, project: UUID) -> None:
    app.defer(MANAGER, app.project(project), decision=DELEGATED)
    assert app.project(project).status.value == "deferred"


def test_an_intervention_at_a_meeting_that_was_not_held_is_refused(
        app: ProjectsApplication, project: UUID, feed: TaskingFeed) -> None:
    feed.meeting("worcester", APRIL, ALLIANCE)
    with pytest.raises(DecisionNotValid) as refused:
        intervene(app, project, Decision("worcester", APRIL, "Project red", meeting_id=str(uuid.uuid4()),
                                         meeting_version=1, reference="WA-1"))
    assert refused.value.code == "meeting-not-held"


def test_an_intervention_by_a_body_that_does_not_exist_is_refused(app: ProjectsApplication, project: UUID) -> None:
    with pytest.raises(DecisionNotValid) as refused:
        intervene(app, project, Decision("worcester-alliance", APRIL, "Project red", meeting_id="bogus",
                                         reference="WA-1"))
    assert refused.value.code == "unknown-body"


def test_a_deferral_at_a_meeting_not_yet_copied_is_retried(app: ProjectsApplication, project: UUID) -> None:
    with pytest.raises(MeetingNotYetKnown):
        app.defer(MANAGER, app.project(project), decision=Decision("worcester", APRIL, "Resources redirected",
                                                      meeting_id=str(uuid.uuid4()), meeting_version=1))


def test_a_closure_is_a_decision_of_a_quorate_meeting_of_the_district_partnership(
        app: ProjectsApplication, project: UUID, feed: TaskingFeed) -> None:
    with pytest.raises(DecisionNotValid, match="does not delegate"):
        app.close_project(MANAGER, app.project(project), outcome_achieved="Done", lessons="Start earlier",
                          decision=DELEGATED)
    with pytest.raises(DecisionNotValid) as inquorate:
        app.close_project(MANAGER, app.project(project), outcome_achieved="Done", lessons="Start earlier",
                          decision=Decision(**feed.meeting("worcester", APRIL, ALLIANCE[:2], "Closed")))
    assert inquorate.value.code == "not-quorate"
    app.close_project(MANAGER, app.project(project), outcome_achieved="Done", lessons="Start earlier",
                      decision=Decision(**feed.meeting("worcester", date(2013, 5, 2), ALLIANCE, "Closed")))
    assert app.project(project).status.value == "closed"


def test_a_deferral_by_another_district_partnership_is_refused(
        app: ProjectsApplication, project: UUID, feed: TaskingFeed) -> None:
    for org in ("wychavon-dc", "vcs-alliance", "west-mercia-police"):
        feed.seat("wychavon", org)
    wychavon = feed.meeting("wychavon", APRIL, ["wychavon-dc", "vcs-alliance", "west-mercia-police"])
    with pytest.raises(DecisionNotValid) as refused:
        app.defer(MANAGER, app.project(project), decision=Decision(**wychavon))
    assert refused.value.code == "wrong-body"


def test_a_rag_override_that_names_a_decision_is_held_to_it(app: ProjectsApplication, project: UUID) -> None:
    with pytest.raises(DecisionNotValid):
        app.override_rag(MANAGER, app.project(project), rag=Rag.AMBER, reason="Anchor tenant signed since",
                         decision=Decision("no-such-body", date(1900, 1, 1), "rejected"))
    app.override_rag(MANAGER, app.project(project), rag=Rag.AMBER, reason="Anchor tenant signed since",
                     decision=DELEGATED)
    assert app.project(project).rag_override is Rag.AMBER


def test_a_rag_override_without_a_decision_is_refused(app: ProjectsApplication, project: UUID) -> None:
    with pytest.raises(DecisionNotValid) as refused:
        app.override_rag(MANAGER, app.project(project), rag=Rag.AMBER, reason="Anchor tenant signed since")
    assert (refused.value.code, refused.value.problems[0]["field"]) == ("decision-required", "decision")
