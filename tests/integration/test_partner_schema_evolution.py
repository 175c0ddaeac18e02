"""A progress report stored by the previous version (ProgressReported v1, before ``submitted_via``) is read through
the application as the current version (v3), published as it, and the aggregate carries on from it (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from shared.audit.chain import link_of, seal
from shared.contracts import Actor
from shared.eventstore import CommandContext
from tests.harness import Harness, running_system, settings_for, wait_until
from tests.integration.test_projects_api import TaskingPartner, manager, project_body


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    postgres = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with running_system(settings_for(data_dir=tmp_path, postgres_url=postgres),
                        services=("projects", "reporting")) as h:
        yield h


def store_a_v1_report(h: Harness, project_id: UUID) -> None:
    """Write version 2 of the project exactly as the previous code stored it: no class_version, no submitted_via
    (nor v3's parts), chained to version 1 like every stored event."""
    app = h.system.application("projects")
    project = app.project(project_id)
    context = CommandContext(Actor("client:college-mis", "worcester-college", "partner_officer"), "c-written-by-v1")
    project.report_progress(context, reported_on=date(2013, 4, 1), values={"jobs": Decimal(100)},
                            narrative="Written by the previous version", thresholds=app.thresholds_on(date(2013, 4, 1)),
                            today=app.today())
    [event] = project.collect_events()
    current = app.mapper.to_stored_event(event)
    state = json.loads(current.state)
    assert state.pop("class_version") == 3 and state.pop("submitted_via") == "api" and state.pop("parts") == []
    payload = json.dumps(state, separators=(",", ":")).encode()
    [first] = app.recorder.select_events(project_id, lte=1)
    link = link_of(first.state)
    assert link is not None
    sealed, _ = seal(bytes.fromhex(link.own_hex.decode()), project_id, 2, current.topic, payload)
    app.recorder.insert_events([StoredEvent(originator_id=project_id, originator_version=2, topic=current.topic,
                                            state=sealed)])


def test_a_report_stored_by_the_previous_version_is_read_as_the_current_one(harness: Harness) -> None:
    h = harness
    tasking_id = TaskingPartner(h).accepted_tasking()
    opened = h.client.post("/projects/projects", json=project_body(tasking_id), headers=manager(h))
    project_id = UUID(opened.json()["id"])
    store_a_v1_report(h, project_id)

    app = h.system.application("projects")
    events = list(app.events.get(project_id))
    assert events[1].submitted_via == "api" and events[1].narrative == "Written by the previous version"
    project = app.project(project_id)
    assert project.version == 2 and project.latest_report is not None and project.rag is not None

    college = h.headers("partner_officer", "worcester-college")
    later = h.client.post(f"/projects/projects/{project_id}/progress", headers=college, json={
        "reported_on": "2013-07-01", "values": {"jobs": "260"}, "narrative": "On track", "expected_version": 2})
    assert later.status_code == 200, later.text  # the aggregate carries on from the upcast event

    def history() -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = h.graphql('query($id: ID!) { history(aggregateId: $id) { version type '
                                                  'data } }', {"id": str(project_id)})["data"]["history"]
        return entries

    entries = wait_until(lambda: len(history()) == 3 and history(), what="three events in the history")
    assert [e["type"] for e in entries[1:]] == ["projects.ProgressReported.v3"] * 2
    assert entries[1]["data"]["submitted_via"] == "api"
    assert entries[1]["data"]["narrative"] == "Written by the previous version"
