"""Data quality at entry through the projects REST API (embedded mode): a report dated after today or a negative
count is a 422 naming the field, and a mistaken report is withdrawn or corrected with a reason, after which real
reports are accepted again; reporting lists whose figures needed correcting and counts only what stands (#15
part 4)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Harness, running_system, settings_for, wait_until
from tests.integration.test_projects_api import TaskingPartner, manager, project_body


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with running_system(settings_for(data_dir=tmp_path), services=("projects", "reporting")) as h:
        yield h


def _fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [e["field"] for e in response.json()["errors"]]


def test_a_mistaken_report_is_refused_or_undone_through_the_api(harness: Harness) -> None:
    h = harness
    app = h.system.application("projects")
    app.today = lambda: date(2013, 4, 1)  # the partnership's calendar, as its clock would give it
    tasking_id = TaskingPartner(h).accepted_tasking()
    opened = h.client.post("/projects/projects", json=project_body(tasking_id), headers=manager(h))
    assert opened.status_code == 201, opened.text
    progress = f"/projects/projects/{opened.json()['id']}/progress"
    college = h.headers("partner_officer", "worcester-college")
    version = {"read": opened.json()["version"]}

    def post(path: str, body: dict[str, Any]) -> Any:
        response = h.client.post(path, json={**body, "expected_version": version["read"]}, headers=college)
        if response.status_code == 200:
            version["read"] = response.json()["version"]
        return response

    def report(on: str, jobs: str) -> Any:
        return post(progress, {"reported_on": on, "values": {"jobs": jobs}, "narrative": "n"})

    assert _fields(report("2013-04-02", "100")) == ["reported_on"]
    assert _fields(report("2013-04-01", "-40")) == ["values.jobs"]
    assert _fields(report("2013-04-01", "1e999999")) == ["values.jobs"]
    assert report("2012-10-01", "100").status_code == 200

    app.today = lambda: date(2016, 4, 1)  # as the defect was seen: a report three years ahead was accepted
    assert report("2016-04-01", "900").status_code == 200
    app.today = lambda: date(2013, 4, 1)
    assert report("2013-04-01", "300").status_code == 409  # "goes back in time"

    refused = post(f"{progress}/withdrawals", {"reported_on": "2016-05-01", "reason": "Mistake"})
    assert _fields(refused) == ["reported_on"]
    withdrawn = post(f"{progress}/withdrawals", {"reported_on": "2016-04-01", "reason": "Dated 2016 by mistake"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["last_reported_on"] == "2012-10-01"
    assert report("2013-01-01", "200").status_code == 200  # real reports are accepted again

    corrected = post(f"{progress}/corrections", {
        "corrected_report_on": "2013-01-01", "reported_on": "2013-04-01", "values": {"jobs": "300"},
        "narrative": "Cohort 2 placed", "reason": "The January figures were April's"})
    assert corrected.status_code == 200, corrected.text
    assert (corrected.json()["last_reported_on"], corrected.json()["actuals"]) == ("2013-04-01", {"jobs": "300"})

    query = ("{ deliveryProjects(district: \"worcester\") { id lastReportedOn progress { reportedOn correction }"
             " withdrawnReports { reportedOn correctedTo reason withdrawnByOrganisation } } }")

    def reported() -> Any:
        projects = h.graphql(query)["data"]["deliveryProjects"]
        [project] = [p for p in projects if p["id"] == opened.json()["id"]]
        return project if len(project["withdrawnReports"]) == 2 else None

    project = wait_until(reported, what="reporting to apply the withdrawal and the correction")
    assert project["lastReportedOn"] == "2013-04-01"
    assert [(p["reportedOn"], p["correction"]) for p in project["progress"]] == \
        [("2012-10-01", False), ("2013-04-01", True)]
    assert project["withdrawnReports"] == [
        {"reportedOn": "2016-04-01", "correctedTo": None, "reason": "Dated 2016 by mistake",
         "withdrawnByOrganisation": "worcester-college"},
        {"reportedOn": "2013-01-01", "correctedTo": "2013-04-01", "reason": "The January figures were April's",
         "withdrawnByOrganisation": "worcester-college"}]
