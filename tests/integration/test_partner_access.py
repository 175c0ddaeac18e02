"""Partner systems through the whole system (embedded mode): a client token from POST /oauth/token, progress reported
only for projects the client's organisation leads, the client recorded on the events, granted queries only."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.auth import hash_secret
from tests.harness import Harness, running_system, settings_for, wait_until
from tests.integration.test_projects_api import TaskingPartner, manager, project_body

SECRET = "college-mis-secret-from-the-vault"


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    clients = tmp_path / "partner-clients.yaml"
    clients.write_text(f"""clients:
  - client_id: college-mis
    organisation: worcester-college
    roles: [partner_officer]
    secret_hash: "{hash_secret(SECRET)}"
    topics: [projects.events]
    queries: [deliveryProjects]
""")
    with running_system(settings_for(data_dir=tmp_path, partner_clients_file=clients),
                        services=("projects", "reporting")) as h:
        yield h


def client_token(h: Harness) -> str:
    basic = base64.b64encode(f"college-mis:{SECRET}".encode()).decode()
    response = h.client.post("/oauth/token", data={"grant_type": "client_credentials"},
                             headers={"authorization": f"Basic {basic}"})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def test_a_partner_system_reports_only_for_projects_its_organisation_leads(harness: Harness) -> None:
    h = harness
    tasking_id = TaskingPartner(h).accepted_tasking()
    ours = h.client.post("/projects/projects", json=project_body(tasking_id), headers=manager(h)).json()["id"]
    theirs = h.client.post("/projects/projects", headers=manager(h),
                           json=project_body(tasking_id, "Retail apprenticeships", lead="chamber-of-commerce"))
    assert theirs.status_code == 201
    partner = {"authorization": f"Bearer {client_token(h)}"}
    progress = {"reported_on": "2013-04-01", "values": {"jobs": "150"}, "narrative": "Cohort 1 placed",
                "expected_version": 1}

    refused = h.client.post(f"/projects/projects/{theirs.json()['id']}/progress", json=progress, headers=partner)
    assert refused.status_code == 403
    assert "chamber-of-commerce" in refused.json()["detail"]
    accepted = h.client.post(f"/projects/projects/{ours}/progress", json=progress, headers=partner)
    assert accepted.status_code == 200, accepted.text

    def history() -> list[dict[str, object]]:
        entries = h.graphql('query($id: ID!) { history(aggregateId: $id) { type actor { userId organisation role } }'
                            ' }', {"id": ours})["data"]["history"]
        return list(entries)

    entries = wait_until(lambda: len(history()) == 2 and history(), what="the report in the history")
    assert entries[-1]["type"].startswith("projects.ProgressReported.")
    assert entries[-1]["actor"] == {"userId": "client:college-mis", "organisation": "worcester-college",
                                    "role": "partner_officer"}


def test_a_partner_system_runs_only_the_queries_it_is_granted(harness: Harness) -> None:
    h = harness
    partner = {"authorization": f"Bearer {client_token(h)}"}
    granted = h.client.post("/graphql", json={"query": "{ deliveryProjects { id title } }"}, headers=partner)
    assert granted.status_code == 200 and "errors" not in granted.json(), granted.text
    refused = h.client.post("/graphql", json={"query": "{ taskings { id } }"}, headers=partner).json()
    assert refused["data"] is None or refused["data"].get("taskings") is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "not granted" in refused["errors"][0]["message"]
