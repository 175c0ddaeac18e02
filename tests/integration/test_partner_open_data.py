"""The open-data feed: public (no token), read-only, CSV and JSON under the Open Government Licence, no personal
data; a period's performance appears only after the partnership released it by a decision."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import Harness, running_system, settings_for, wait_until
from tests.integration.test_projects_api import TaskingPartner, manager, project_body

RELEASE = {"starts_on": "2013-04-01", "ends_on": "2013-06-30",
           "decision": {"body": "worcestershire-partnership", "decided_on": "2013-07-15",
                        "delegation": "county-officer-evidence-and-release",  # the officer releases, delegated
                        "reason": "Q1 figures checked by the performance team", "reference": "WPB-2013-07-3"}}


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with running_system(settings_for(data_dir=tmp_path), services=("priorities", "projects", "reporting")) as h:
        yield h


def test_performance_is_published_only_after_its_release_and_without_personal_data(harness: Harness) -> None:
    h = harness
    tasking_id = TaskingPartner(h).accepted_tasking()
    project_id = h.client.post("/projects/projects", json=project_body(tasking_id), headers=manager(h)).json()["id"]
    college = h.headers("partner_officer", "worcester-college", user="officer-jane-smith")
    for version, (day, jobs) in enumerate((("2013-05-01", "100"), ("2013-08-01", "190")), start=1):
        reported = h.client.post(f"/projects/projects/{project_id}/progress", headers=college, json={
            "reported_on": day, "values": {"jobs": jobs}, "narrative": "Jane Smith placed the cohort",
            "expected_version": version})
        assert reported.status_code == 200, reported.text
    wait_until(lambda: h.system.read_model is not None and "projects.ProgressReported.v3" in
               h.system.read_model.event_counts() and h.system.read_model.event_counts()[
                   "projects.ProgressReported.v3"] == 2, what="the reports in reporting")
    assert h.client.get("/open-data/performance.json").json()["records"] == []  # not released: not public

    assert h.client.post("/priorities/performance-releases", json=RELEASE,
                         headers=h.headers("programme_manager", district="worcester")).status_code == 403
    released = h.client.post("/priorities/performance-releases", json=RELEASE,
                             headers=h.headers("partnership_officer"))
    assert released.status_code == 201, released.text
    again = h.client.post("/priorities/performance-releases", json=RELEASE, headers=h.headers("partnership_officer"))
    assert again.status_code == 409

    feed = wait_until(lambda: (r := h.client.get("/open-data/performance.json").json())["records"] and r,
                      what="the released figures in the feed")
    assert feed["licence"]["name"] == "Open Government Licence v3.0"
    [record] = feed["records"]  # only the report dated within the released quarter
    assert record["project_id"] == project_id and record["reported_on"] == "2013-05-01"
    assert record["actual"] == "100" and record["unit"] == "jobs" and record["lead_partner"] == "worcester-college"
    assert (record["period_start"], record["period_end"]) == ("2013-04-01", "2013-06-30")

    as_csv = h.client.get("/open-data/performance.csv")
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert 'rel="license"' in as_csv.headers["link"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(rows) == 1 and rows[0]["actual"] == "100"

    decisions = h.client.get("/open-data/decisions.json").json()["records"]
    assert any(d["reference"] == "WPB-2013-07-3" and d["what"] == "priorities.PerformanceReleased" for d in decisions)
    everything = "".join(h.client.get(f"/open-data/{name}.{kind}").text
                         for name in ("performance", "decisions", "releases", "target-performance")
                         for kind in ("json", "csv"))
    for personal in ("Jane Smith", "officer-jane-smith", "pm-user-7", "user-partnership_officer"):
        assert personal not in everything
    catalogue = h.client.get("/open-data").json()
    assert {d["name"] for d in catalogue["datasets"]} == {"decisions", "performance", "releases",
                                                          "target-performance"}
    # Beside the figure, how it stood at the period's end: one report in the quarter, its forecast from the baseline.
    assert record["status"] in ("green", "amber", "red", "stale") and record["forecast_method"]
    assert h.client.post("/open-data/performance.json").status_code == 405  # read-only
