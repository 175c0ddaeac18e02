"""The projects delivering a tasking come from the store's own log: only those projects are loaded on a retasking."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from services.projects.application import ProjectsApplication
from services.projects.domain import KnownTasking
from shared.contracts.projects import programme_id
from tests.harness import settings_for
from tests.unit.projects.conftest import BOARD, MANAGER, jobs_outcome, tasking


@pytest.fixture
def app(tmp_path: Path) -> Iterator[ProjectsApplication]:
    application = ProjectsApplication(settings_for(data_dir=tmp_path))
    yield application
    application.close()


def known(app: ProjectsApplication, district: str = "worcester") -> KnownTasking:
    accepted = tasking(district=district)
    with app.known_taskings.store.transaction() as tx:
        tx.execute("INSERT INTO known_taskings (id, version, target_id, theme_group, district, lead_partner, share,"
                   " unit, deadline, status) VALUES (?, ?, ?, 'economy', ?, ?, ?, ?, ?, ?)",
                   (str(accepted.id), accepted.version, str(accepted.target_id), accepted.district,
                    accepted.lead_partner, str(accepted.share), accepted.unit, accepted.deadline.isoformat(),
                    accepted.status))
    return accepted


def opened(app: ProjectsApplication, tasking_id: UUID, district: str = "worcester") -> UUID:
    project = app.open_project(MANAGER, district=district, title=f"Project for {tasking_id}",
                               lead_partner="worcester-college", project_manager="pm-7", tasking_ids=[tasking_id],
                               outcomes=[jobs_outcome(tasking_id)])
    return project.id


def delivering(app: ProjectsApplication, tasking_id: UUID) -> set[UUID]:
    return {p.id for p in app.projects_delivering(tasking_id)}


def test_only_the_projects_that_took_the_tasking_on_are_delivering_it(app: ProjectsApplication) -> None:
    jobs, skills = known(app), known(app)
    first, second = opened(app, jobs.id), opened(app, jobs.id)
    other = opened(app, skills.id)
    assert delivering(app, jobs.id) == {first, second}
    assert delivering(app, skills.id) == {other}
    assert delivering(app, known(app).id) == set()


def test_projects_opened_after_a_first_look_are_found_on_the_next(app: ProjectsApplication) -> None:
    jobs = known(app)
    first = opened(app, jobs.id)
    assert delivering(app, jobs.id) == {first}
    later = opened(app, jobs.id)
    assert delivering(app, jobs.id) == {first, later}


def test_a_repointed_contribution_moves_the_project_to_the_other_tasking(app: ProjectsApplication) -> None:
    jobs, replacement = known(app), known(app)
    project = opened(app, jobs.id)
    version = app.project(project).version
    app.repoint_contribution(MANAGER, app.project(project), from_tasking_id=jobs.id, to_tasking_id=replacement.id,
                             reason="Moved to the new tasking", decision=BOARD, expected_version=version)
    assert delivering(app, replacement.id) == {project}
    # It still delivered the first tasking (the contribution is kept, closed), so it is still looked at for it.
    assert delivering(app, jobs.id) == {project}


def test_a_districts_programme_is_its_projects_in_the_order_opened(app: ProjectsApplication) -> None:
    jobs, elsewhere = known(app), known(app, district="redditch")
    assert app.programme("worcester") is None
    opened_ids = [opened(app, jobs.id) for _ in range(3)]
    other = opened(app, elsewhere.id, district="redditch")
    programme = app.programme("worcester")
    assert programme is not None and programme.project_ids == opened_ids
    assert programme.id == programme_id("worcester")
    redditch = app.programme("redditch")
    assert redditch is not None and redditch.project_ids == [other]
