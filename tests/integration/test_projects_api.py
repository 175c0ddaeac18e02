"""The projects REST API in the embedded mode (SQLite, embedded log): fast checks of authorization, concurrency,
idempotency and the reaction to tasking changes published as CloudEvents on the tasking topic."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.projects.domain import KnownTasking
from shared.contracts import Actor, Decision, Fact, to_data
from shared.contracts.tasking import CommissioningLevel, TaskingAccepted, TaskingIssued, TaskingWithdrawn
from shared.envelope import Envelope, encode
from tests.harness import Harness, running_system, settings_for, wait_until

THEME_LEAD = Actor("pstg-lead", "worcestershire-cc", "theme_group_lead")
COORDINATOR = Actor("worcester-coordinator", "worcester-city-council", "district_coordinator")
PSTG = Decision(body="pstg", decided_on=date(2012, 2, 14), reason="Worcester's share of the 6,000 jobs")
# The programme manager intervenes under the Worcester Alliance's scheme of delegation (no meeting needed).
ALLIANCE = {"body": "worcester", "delegation": "worcester-programme-manager",
            "decided_on": "2013-04-24", "reason": "Project red",
            "reference": "WA-2013-04-5"}


class TaskingPartner:
    """Publishes tasking events as a partner system could: well-formed CloudEvents on the tasking topic."""

    def __init__(self, harness: Harness) -> None:
        self.system = harness.system
        self.topic = self.system.settings.topic("tasking.events")
        self.versions: dict[UUID, int] = {}

    def publish(self, tasking_id: UUID, fact: Fact, *, version: int | None = None) -> None:
        if version is None:
            version = self.versions.get(tasking_id, 0) + 1
        self.versions[tasking_id] = max(version, self.versions.get(tasking_id, 0))
        type_name, data = to_data(fact)
        envelope = Envelope(id=f"{tasking_id}:{version}", source="/partners/test", type=type_name,
                            subject=str(tasking_id), time=datetime.now(UTC), sequence=version, data=data,
                            actor=fact.actor.user_id, actororganisation=fact.actor.organisation,
                            actorrole=fact.actor.role, correlationid=fact.correlation_id)
        publisher = self.system.transport.publisher()
        try:
            publisher.publish(self.topic, str(tasking_id), encode(envelope))
            publisher.flush()
        finally:
            publisher.close()

    def issued_tasking(self, share: str = "1200", district: str = "worcester", *, wait: bool = True) -> UUID:
        """A tasking issued to the district (version 1); with ``wait``, known to the projects service as issued."""
        tasking_id = uuid4()
        self.publish(tasking_id, TaskingIssued(
            actor=THEME_LEAD, correlation_id="c-issue", decision=PSTG, target_id=uuid4(), theme_group="pstg",
            district=district, share=Decimal(share), unit="jobs", deadline=date(2014, 3, 31),
            lead_partner="worcester-city-council", commissioning_level=CommissioningLevel.DISTRICT,
            counts_against_target=True))
        if wait:
            self._wait_known(tasking_id, lambda t: True, "the issued tasking")
        return tasking_id

    def accepted_tasking(self, share: str = "1200", district: str = "worcester") -> UUID:
        tasking_id = self.issued_tasking(share, district, wait=False)
        self.publish(tasking_id, TaskingAccepted(actor=COORDINATOR, correlation_id="c-accept",
                                                 counts_against_target=True))
        self._wait_known(tasking_id, lambda t: t.accepted, "the accepted tasking")
        return tasking_id

    def _wait_known(self, tasking_id: UUID, state: Callable[[KnownTasking], bool], what: str) -> None:
        app = self.system.application("projects")
        wait_until(lambda: (t := app.known_taskings.get(tasking_id)) is not None and state(t),
                   what=f"{what} to reach the projects service")


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with running_system(settings_for(data_dir=tmp_path), services=("projects",)) as h:
        yield h


def project_body(tasking_id: UUID, title: str = "Engineering skills academy",
                 lead: str = "worcester-college") -> dict[str, Any]:
    return {
        "title": title, "lead_partner": lead, "project_manager": "pm-user-7", "tasking_ids": [str(tasking_id)],
        "outcomes": [{"id": "jobs", "tasking_id": str(tasking_id), "metric": "new private-sector jobs",
                      "unit": "jobs", "baseline_value": "0", "baseline_date": "2012-04-01",
                      "target_value": "500", "target_date": "2014-03-31"}],
        "milestones": [{"id": "premises", "title": "Premises open", "due_on": "2012-09-01"}],
        "risks": [{"id": "employers", "description": "Too few placements", "likelihood": 2, "impact": 4,
                   "owner": "worcester-college", "mitigation": "Chamber recruits employers"}],
    }


def manager(h: Harness, district: str = "worcester") -> dict[str, str]:
    return h.headers("programme_manager", "worcester-city-council", district=district)


def test_projects_are_opened_reported_and_intervened_through_the_api(harness: Harness) -> None:
    h = harness
    tasking_id = TaskingPartner(h).accepted_tasking()
    opened = h.client.post("/projects/projects", json=project_body(tasking_id), headers=manager(h))
    assert opened.status_code == 201, opened.text
    project_id = opened.json()["id"]

    college = h.headers("partner_officer", "worcester-college")
    chamber = h.headers("partner_officer", "chamber-of-commerce")
    progress: dict[str, Any] = {"reported_on": "2013-04-01", "values": {"jobs": "100"}, "narrative": "Slow start"}
    unversioned = h.client.post(f"/projects/projects/{project_id}/progress", json=progress, headers=college)
    assert unversioned.status_code == 422 and unversioned.json()["errors"][0]["field"] == "expected_version"
    progress["expected_version"] = 1
    assert h.client.post(f"/projects/projects/{project_id}/progress", json=progress, headers=chamber).status_code \
        == 403
    for role in ("auditor", "scrutiny_member"):
        refused = h.client.post(f"/projects/projects/{project_id}/progress", json=progress, headers=h.headers(role))
        assert refused.status_code == 403
    reported = h.client.post(f"/projects/projects/{project_id}/progress", json=progress, headers=college)
    assert reported.status_code == 200, reported.text
    assert reported.json()["rag"] == "red"

    stale = h.client.post(f"/projects/projects/{project_id}/progress", headers={**college, "If-Match": '"1"'},
                          json={**progress, "reported_on": "2013-05-01"})
    assert stale.status_code == 409
    assert stale.json()["type"].endswith("stale-version")

    back = h.client.post(f"/projects/projects/{project_id}/progress", headers=college,
                         json={**progress, "reported_on": "2013-01-01", "expected_version": 2})
    assert back.status_code == 409 and "correction" in back.json()["detail"]

    intervention = {"kind": "extra_resources", "description": "Second recruiter", "decision": ALLIANCE,
                    "expected_version": 2}
    elsewhere = h.client.post(f"/projects/projects/{project_id}/interventions", json=intervention,
                              headers=manager(h, "redditch"))
    assert elsewhere.status_code == 403
    done = h.client.post(f"/projects/projects/{project_id}/interventions", json=intervention, headers=manager(h))
    assert done.status_code == 200, done.text
    assert done.json()["interventions"] == 1

    unknown_field = h.client.post(f"/projects/projects/{project_id}/closure", headers=manager(h),
                                  json={"outcome_achieved": "x", "lessons": "y", "decision": ALLIANCE, "extra": 1})
    assert unknown_field.status_code == 422


def test_a_retried_open_with_the_same_idempotency_key_returns_the_first_project(harness: Harness) -> None:
    h = harness
    tasking_id = TaskingPartner(h).accepted_tasking()
    headers = {**manager(h), "Idempotency-Key": "open-academy-1"}
    first = h.client.post("/projects/projects", json=project_body(tasking_id), headers=headers)
    second = h.client.post("/projects/projects", json=project_body(tasking_id), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    programme = h.client.get("/projects/programmes/worcester", headers=h.headers("auditor")).json()
    assert programme["project_ids"] == [first.json()["id"]]


def test_a_project_needs_a_known_accepted_tasking_of_the_managers_district(harness: Harness) -> None:
    h = harness
    partner = TaskingPartner(h)
    unknown = h.client.post("/projects/projects", json=project_body(uuid4()), headers=manager(h))
    assert unknown.status_code == 503
    redditch = partner.accepted_tasking(district="redditch")
    wrong = h.client.post("/projects/projects", json=project_body(redditch), headers=manager(h))
    assert wrong.status_code == 422


def test_opening_a_project_while_the_acceptance_is_in_flight_is_retry_later_when_the_caller_read_it(
        harness: Harness) -> None:
    h = harness
    partner = TaskingPartner(h)
    tasking_id = partner.issued_tasking()
    h.system.stop_workers()  # delivery hears nothing more for now: the acceptance stays in flight
    partner.publish(tasking_id, TaskingAccepted(actor=COORDINATOR, correlation_id="c-accept",  # version 2
                                                counts_against_target=True))
    body = {**project_body(tasking_id), "tasking_versions": {str(tasking_id): 2}}  # what accepting answered

    in_flight = h.client.post("/projects/projects", json=body, headers=manager(h))

    assert in_flight.status_code == 503, in_flight.text
    assert in_flight.headers["retry-after"] == "1"
    assert in_flight.headers["content-type"] == "application/problem+json"
    assert in_flight.json()["type"].endswith("upstream-not-yet-known")
    assert in_flight.json()["known_version"] == 1 and in_flight.json()["read_version"] == 2
    # Without what the caller read, delivery's copy decides (documented): it still says issued.
    blind = h.client.post("/projects/projects", json=project_body(tasking_id), headers=manager(h))
    assert blind.status_code == 422 and "issued (version 1), not accepted" in blind.text
    h.system.start_workers()
    opened = wait_until(lambda: (r := h.client.post("/projects/projects", json=body, headers=manager(h)))
                        .status_code == 201 and r, what="the retried open to succeed")
    assert opened.json()["version"] == 1


def test_a_tasking_that_is_only_issued_is_refused_clearly_and_at_once(harness: Harness) -> None:
    h = harness
    tasking_id = TaskingPartner(h).issued_tasking()
    for body in ({**project_body(tasking_id), "tasking_versions": {str(tasking_id): 1}}, project_body(tasking_id)):
        refused = h.client.post("/projects/projects", json=body, headers=manager(h))
        assert refused.status_code == 422, refused.text
        assert "issued (version 1), not accepted" in refused.json()["errors"][0]["message"]
    stray = {**project_body(tasking_id), "tasking_versions": {str(uuid4()): 2}}
    named = h.client.post("/projects/projects", json=stray, headers=manager(h))
    assert named.status_code == 422 and named.json()["errors"][0]["field"] == "tasking_versions"


def test_a_withdrawn_tasking_flags_its_projects_once_even_when_redelivered(harness: Harness) -> None:
    h = harness
    partner = TaskingPartner(h)
    tasking_id = partner.accepted_tasking()
    project_id = h.client.post("/projects/projects", json=project_body(tasking_id), headers=manager(h)).json()["id"]
    withdrawn = TaskingWithdrawn(actor=THEME_LEAD, correlation_id="c-withdraw", reason="Funding ended",
                                 decision=PSTG, counts_against_target=False)
    partner.publish(tasking_id, withdrawn, version=3)
    partner.publish(tasking_id, withdrawn, version=3)  # the relay may publish twice

    def project() -> dict[str, Any]:
        body: dict[str, Any] = h.client.get(f"/projects/projects/{project_id}", headers=h.headers("auditor")).json()
        return body

    wait_until(lambda: project()["flagged"], what="the project to be flagged")
    runner = next(c for c in h.system.consumers if c.name == "projects-reactions")
    # The issue and the acceptance are passed over (the policy does not react to them), the withdrawal twice read.
    wait_until(lambda: runner.status.applied + runner.status.duplicates + runner.status.passed_over >= 4,
               what="both copies processed")
    state = project()
    assert state["version"] == 2
    assert state["contributions"] == [{"tasking_id": str(tasking_id), "tasking_version": 3, "open": False,
                                       "share": None}]
