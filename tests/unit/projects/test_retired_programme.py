"""A store written while a district's programme was an aggregate still replays: its ``Programme`` events resolve
under their old topics, change nothing and are never published; the programme shown is derived from the projects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic

from services.projects.application import ProjectsApplication
from services.projects.retired import RetiredProgramme
from shared.contracts.projects import programme_id
from shared.relay import Relay
from shared.transport.embedded import EmbeddedTransport
from tests.harness import settings_for
from tests.unit.projects.conftest import MANAGER
from tests.unit.projects.test_delivery_index import known, opened


@pytest.fixture
def app(tmp_path: Path) -> Iterator[ProjectsApplication]:
    application = ProjectsApplication(settings_for(data_dir=tmp_path))
    yield application
    application.close()


def _old_programme(app: ProjectsApplication, project_ids: list[UUID]) -> None:
    """What the store held before: the programme opened, then one event per project joining it."""
    programme = RetiredProgramme._create(RetiredProgramme.Opened, id=programme_id("worcester"), actor=MANAGER.actor,
                                         correlation_id="c-old", decision=None, district="worcester")
    for project_id in project_ids:
        programme.trigger_event(RetiredProgramme.ProjectAdded, actor=MANAGER.actor, correlation_id="c-old",
                                decision=None, project_id=project_id, title="Old project")
    app.save(programme)


def test_an_old_store_with_programme_events_replays_and_publishes_none(app: ProjectsApplication,
                                                                       tmp_path: Path) -> None:
    assert get_topic(RetiredProgramme.Opened) == "services.projects.domain:Programme.Opened"  # as stored then
    tasking = known(app)
    first = opened(app, tasking.id)
    _old_programme(app, [first])
    later = opened(app, tasking.id)  # no programme to update: the opening stands alone
    stored = [n.topic for n in app.recorder.select_notifications(start=0, limit=10)]
    assert stored.count("services.projects.domain:Programme.ProjectAdded") == 1
    replayed = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(start=0, limit=10)]
    assert [type(e).__name__ for e in replayed] == ["Opened", "Opened", "ProjectAdded", "Opened"]
    programme = app.programme("worcester")
    assert programme is not None and programme.project_ids == [first, later]
    transport = EmbeddedTransport(tmp_path / "bus.sqlite")
    transport.ensure_topic("projects.events")
    relay = Relay(app, transport, "projects.events", publish_unreleased=True)
    assert relay.publish_batch() == 4  # past all four...
    assert relay.status.published == 2  # ...publishing the two projects' openings only
