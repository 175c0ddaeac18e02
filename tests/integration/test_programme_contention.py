"""Projects opened at once in one district all join its programme: contention on the programme is retried inside
the service, and when it cannot be resolved the answer says "concurrent change" (send it again), not "stale"."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from services.projects import application as projects_application
from services.projects.application import ProjectsApplication
from shared.errors import ConcurrentChange
from tests.harness import settings_for
from tests.unit.projects.conftest import MANAGER, jobs_outcome
from tests.unit.projects.test_delivery_index import known


@pytest.fixture
def app(tmp_path: Path, postgres_url: str) -> Iterator[ProjectsApplication]:
    application = ProjectsApplication(settings_for(data_dir=tmp_path, postgres_url=postgres_url))
    yield application
    application.close()


def open_one(app: ProjectsApplication, tasking_id: UUID, n: int) -> UUID:
    return app.open_project(MANAGER, district="worcester", title=f"Project {n}", lead_partner="worcester-college",
                            project_manager="pm-7", tasking_ids=[tasking_id], outcomes=[jobs_outcome(tasking_id)]).id


def test_projects_opened_at_once_in_one_district_all_join_its_programme(app: ProjectsApplication) -> None:
    tasking = known(app)
    with ThreadPoolExecutor(max_workers=8) as pool:
        opened = list(pool.map(lambda n: open_one(app, tasking.id, n), range(40)))
    programme = app.programme("worcester")
    assert programme is not None
    assert {UUID(str(p)) for p in programme.project_ids} == set(opened)
    assert len(set(opened)) == 40


def test_unresolvable_contention_is_a_concurrent_change_and_stores_nothing(app: ProjectsApplication,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    tasking = known(app)
    open_one(app, tasking.id, 0)

    def always_beaten(*aggregates: object) -> None:
        raise IntegrityError("another command saved the programme first")

    monkeypatch.setattr(app, "save", always_beaten)
    monkeypatch.setattr(projects_application, "PROGRAMME_SAVE_ATTEMPTS", 3)
    with pytest.raises(ConcurrentChange):
        open_one(app, tasking.id, 1)
    programme = app.programme("worcester")
    assert programme is not None and len(programme.project_ids) == 1
