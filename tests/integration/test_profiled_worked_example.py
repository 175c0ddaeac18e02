"""The worked example with a profile for the business park, through the projects REST API and reporting's GraphQL
(embedded mode): the early reports are green against the profile (they would be red against the straight line),
GraphQL shows the RAG and direction projects recorded, the forecast with its method, and the figure as stale
when asked about a date more than a quarter after the latest report (#15 part 3)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Harness, running_system, settings_for, wait_until
from tests.integration.test_projects_api import TaskingPartner, manager, project_body

PROFILE = [{"on": "2012-10-01", "value": "40"}, {"on": "2013-04-01", "value": "100"},
           {"on": "2013-10-01", "value": "300"}]
QUERY = """query($id: ID!, $on: Date) { deliveryProject(id: $id) {
  rag derivedRag direction lastReportedOn outcomes { outcomeId actual }
  performance(on: $on) { on status rag shortfallPercent direction stale latestReportedOn reportingInterval
                         forecasts { value at method } } } }"""


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with running_system(settings_for(data_dir=tmp_path), services=("projects", "reporting")) as h:
        yield h


def test_the_business_park_is_green_against_its_profile_in_projects_and_graphql(harness: Harness) -> None:
    h = harness
    h.system.application("projects").today = lambda: date(2013, 4, 1)
    tasking_id = TaskingPartner(h).accepted_tasking()
    body = project_body(tasking_id, title="Inward investment to the Blackpole business park")
    body["outcomes"][0]["target_value"] = "600"
    opened = h.client.post("/projects/projects", json=body, headers=manager(h))
    assert opened.status_code == 201, opened.text
    project = f"/projects/projects/{opened.json()['id']}"
    version = opened.json()["version"]
    refused = h.client.put(f"{project}/outcomes/jobs/profile", headers=manager(h),
                           json={"profile": [{"on": "2015-01-01", "value": "600"}], "expected_version": version})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "profile[0].on", refused.text
    profiled = h.client.put(f"{project}/outcomes/jobs/profile", json={"profile": PROFILE, "expected_version": version},
                            headers=manager(h))
    assert profiled.status_code == 200, profiled.text
    assert profiled.json()["outcomes"][0]["profile"] == PROFILE
    version = profiled.json()["version"]
    college = h.headers("partner_officer", "worcester-college")
    rags = []
    for on, jobs in (("2012-10-01", "60"), ("2013-04-01", "150")):
        reported = h.client.post(f"{project}/progress", headers=college,
                                 json={"reported_on": on, "values": {"jobs": jobs}, "narrative": "Firms moved in",
                                       "expected_version": version})
        assert reported.status_code == 200, reported.text
        version = reported.json()["version"]
        rags.append(reported.json()["rag"])
    assert rags == ["green", "green"]  # against the straight line: 150 due, then 300: red both times

    def shown(on: str | None) -> Any:
        found = h.graphql(QUERY, {"id": opened.json()["id"], "on": on})
        assert "errors" not in found, found
        p = found["data"]["deliveryProject"]
        return p if p and p["lastReportedOn"] == "2013-04-01" else None

    now = wait_until(lambda: shown("2013-04-01"), what="reporting to apply the reports")
    assert (now["rag"], now["derivedRag"], now["direction"]) == ("green", "green", "steady")
    performance = now["performance"]
    assert (performance["status"], performance["rag"], performance["direction"], performance["stale"]) == \
        ("green", "green", "steady", False)
    assert performance["shortfallPercent"] == "-50.00" and performance["reportingInterval"] == "quarterly"
    # 90 jobs in the 182 days between the reports, 364 days more to March 2014: 150 + 90 x 364 / 182 = 330.
    assert performance["forecasts"] == [{"value": "330.00", "at": "2014-03-31",
                                         "method": "linear from the last two reports"}]
    later = shown("2013-09-01")["performance"]
    assert (later["status"], later["rag"], later["stale"], later["latestReportedOn"]) == \
        ("stale", "green", True, "2013-04-01")


def test_a_roll_up_by_an_unknown_sector_is_refused_with_a_code(harness: Harness) -> None:
    refused = harness.graphql('{ deliveryRollups(sector: "Z") { targetId } }')
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", refused
    assert "SIC 2007" in refused["errors"][0]["message"]
    assert "errors" not in harness.graphql('{ deliveryRollups(sector: "C") { targetId kind shares { sector } } }')


def test_a_programme_manager_sees_whose_reports_were_refused_and_why(harness: Harness) -> None:
    h = harness
    h.system.application("projects").today = lambda: date(2013, 4, 1)
    tasking_id = TaskingPartner(h).accepted_tasking()
    opened = h.client.post("/projects/projects", json=project_body(tasking_id), headers=manager(h))
    assert opened.status_code == 201, opened.text
    project = f"/projects/projects/{opened.json()['id']}"
    college = h.headers("partner_officer", "worcester-college")
    for on, jobs in (("2013-04-02", "100"), ("2013-04-01", "-40")):
        refused = h.client.post(f"{project}/progress", headers=college, json={
            "reported_on": on, "values": {"jobs": jobs}, "narrative": "n", "expected_version": 1})
        assert refused.status_code == 422, refused.text
    listed = h.client.get(f"{project}/progress/refusals", headers=manager(h))
    assert listed.status_code == 200, listed.text
    assert [(r["command"], r["reported_on"], r["organisation"], r["role"], [p["field"] for p in r["problems"]])
            for r in listed.json()] == [("report", "2013-04-02", "worcester-college", "partner_officer",
                                         ["reported_on"]),
                                        ("report", "2013-04-01", "worcester-college", "partner_officer",
                                         ["values.jobs"])]
    assert h.client.get(f"{project}/progress/refusals", headers=college).status_code == 403
