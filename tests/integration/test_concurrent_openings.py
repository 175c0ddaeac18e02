"""Projects opened at once in one district, by two processes' threads, all succeed: an opening writes only its own
project (a district's programme is derived from its projects), so there is nothing to contend for and no 409."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import UUID

import pytest

from services.projects.application import ProjectsApplication
from tests.harness import settings_for
from tests.unit.projects.conftest import MANAGER, jobs_outcome
from tests.unit.projects.test_delivery_index import known


@pytest.fixture
def apps(tmp_path: Path, postgres_url: str) -> Iterator[tuple[ProjectsApplication, ProjectsApplication]]:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url)
    first = ProjectsApplication(settings)
    second = ProjectsApplication(settings)  # another process's, on the same store and copy of the taskings
    yield first, second
    second.close()
    first.close()


def open_one(app: ProjectsApplication, tasking_id: UUID, n: int) -> UUID:
    return app.open_project(MANAGER, district="worcester", title=f"Project {n}", lead_partner="worcester-college",
                            project_manager="pm-7", tasking_ids=[tasking_id], outcomes=[jobs_outcome(tasking_id)]).id


def test_many_openings_at_once_in_one_district_all_succeed(
        apps: tuple[ProjectsApplication, ProjectsApplication]) -> None:
    tasking = known(apps[0])
    with ThreadPoolExecutor(max_workers=8) as pool:
        opened = list(pool.map(lambda n: open_one(apps[n % 2], tasking.id, n), range(40)))
    assert len(set(opened)) == 40
    for app in apps:
        programme = app.programme("worcester")
        assert programme is not None and set(programme.project_ids) == set(opened)
