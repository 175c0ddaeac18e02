"""Projects' events are past-tense facts in one style (``Project.MilestoneAdded``, as ``Tasking.Accepted``). A store
written under the old names (``Project.MilestoneWasAdded``) still replays, its audit chain (which hashes each
event's topic as stored) verifies, the delivery index finds its re-pointings, and the relay publishes the same
CloudEvents as before."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import eventsourcing.utils
import pytest

from services.projects.application import ProjectsApplication
from services.projects.domain import RENAMED_EVENTS, Project, topics_of
from shared.audit.verify import verify_log
from shared.contracts.projects import Milestone
from shared.relay import Relay
from shared.transport.embedded import EmbeddedTransport
from tests.harness import settings_for
from tests.unit.projects.conftest import MANAGER
from tests.unit.projects.test_delivery_index import known, opened

_OLD = "services.projects.domain:Project.MilestoneWasAdded"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[ProjectsApplication]:
    application = ProjectsApplication(settings_for(data_dir=tmp_path))
    yield application
    application.close()


def _old_store(app: ProjectsApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    cache: dict[type, str] = eventsourcing.utils._type_cache  # type: ignore[attr-defined]
    with monkeypatch.context() as old:
        for name, renamed in RENAMED_EVENTS.items():
            old.setitem(cache, renamed, f"services.projects.domain:Project.{name}")
        project_id = opened(app, known(app).id)
        app.add_milestone(MANAGER, app.project(project_id), Milestone("m1", "Cohort 1 placed", date(2013, 6, 30)))
    app.add_milestone(MANAGER, app.project(project_id), Milestone("m2", "Cohort 2 placed", date(2013, 9, 30)))


def test_a_store_written_under_the_old_names_replays_verifies_and_publishes_as_before(
        app: ProjectsApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _old_store(app, monkeypatch)
    notifications = app.recorder.select_notifications(start=0, limit=10)
    assert [n.topic.rsplit(".", 1)[1] for n in notifications] == ["Opened", "MilestoneWasAdded", "MilestoneAdded"]
    replayed = [app.mapper.to_domain_event(n) for n in notifications]
    assert [type(e) for e in replayed[1:]] == [Project.MilestoneAdded, Project.MilestoneAdded]
    project = app.project(replayed[0].originator_id)
    assert [m.id for m in project.milestones.values()] == ["m1", "m2"]

    report = verify_log("projects", app.recorder, [], None)
    assert report.problems == []  # every stored hash, over the topic as stored, recomputes

    transport = EmbeddedTransport(tmp_path / "bus.sqlite")
    transport.ensure_topic("projects.events")
    relay = Relay(app, transport, "projects.events", publish_unreleased=True)
    assert relay.publish_batch() == 3
    reader = transport.reader("projects.events", dict.fromkeys(transport.partitions("projects.events"), 0))
    try:
        types = [json.loads(m.value)["type"] for m in reader.poll(10, 1.0)]
    finally:
        reader.close()
    # The opening is published as its current version (v2, its outcomes able to name a sector).
    assert types == ["projects.ProjectOpened.v2", "projects.MilestoneAdded.v1", "projects.MilestoneAdded.v1"]


def test_a_query_of_the_log_by_topic_asks_for_the_old_names_too() -> None:
    assert topics_of(Project.ContributionRepointed) == [
        "services.projects.domain:Project.ContributionRepointed",
        "services.projects.domain:Project.ContributionWasRepointed"]
    assert eventsourcing.utils.resolve_topic(_OLD) is Project.MilestoneAdded
