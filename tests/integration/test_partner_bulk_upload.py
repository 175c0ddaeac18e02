"""Bulk progress upload: a per-row report of what was accepted and why rows were refused; all rows stored in one
transaction, or none (on SQLite and on a real PostgreSQL server)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Harness, running_system, settings_for
from tests.integration.test_projects_api import TaskingPartner, manager, project_body

CSV = "text/csv"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    postgres = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with running_system(settings_for(data_dir=tmp_path, postgres_url=postgres), services=("projects",)) as h:
        yield h


def _projects(h: Harness) -> tuple[str, str, str]:
    tasking_id = TaskingPartner(h).accepted_tasking()
    ids = []
    for title, lead in (("Skills academy", "worcester-college"), ("Adult learning", "worcester-college"),
                        ("Retail apprenticeships", "chamber-of-commerce")):
        opened = h.client.post("/projects/projects", json=project_body(tasking_id, title, lead=lead),
                               headers=manager(h))
        assert opened.status_code == 201, opened.text
        ids.append(opened.json()["id"])
    return ids[0], ids[1], ids[2]


def _version(h: Harness, project_id: str) -> int:
    version: int = h.client.get(f"/projects/projects/{project_id}", headers=h.headers("auditor")).json()["version"]
    return version


def _upload(h: Harness, body: str, content_type: str, org: str = "worcester-college") -> Any:
    return h.client.post("/projects/progress/bulk", content=body.encode(),
                         headers={**h.headers("partner_officer", org), "content-type": content_type})


def test_one_refused_row_stores_nothing_and_the_report_says_why(harness: Harness) -> None:
    h = harness
    academy, adult, retail = _projects(h)
    upload = ("project_id,reported_on,outcome_id,value,narrative\n"
              f"{academy},2013-04-01,jobs,150,Cohort 1 placed\n"
              f"{retail},2013-04-01,jobs,80,Not ours to report\n"
              f"{adult},2013-04-01,hires,12,No such outcome\n"
              f"{academy},2013-03-01,jobs,120,Goes back in time\n")
    response = _upload(h, upload, CSV)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    report = response.json()
    assert report["applied"] is False and report["accepted"] == 0 and report["refused"] == 3
    statuses = [(r["row"], r["status"]) for r in report["rows"]]
    assert statuses == [(1, "valid"), (2, "refused"), (3, "refused"), (4, "refused")]
    assert "Only the lead partner (chamber-of-commerce)" in report["rows"][1]["reasons"][0]
    assert report["rows"][2]["reasons"] == ["The project has no such outcome."]
    assert "goes back in time" in report["rows"][3]["reasons"][0]
    assert [_version(h, p) for p in (academy, adult, retail)] == [1, 1, 1]  # nothing half-applied


def test_an_upload_whose_rows_are_all_valid_is_stored_in_one_go(harness: Harness) -> None:
    h = harness
    academy, adult, _ = _projects(h)
    upload = ("project_id,reported_on,outcome_id,value,narrative,expected_version\n"
              f"{academy},2013-04-01,jobs,150,Cohort 1 placed,1\n"
              f"{academy},2013-07-01,jobs,260,Cohort 2 placed,\n"
              f"{adult},2013-04-01,jobs,40,First learners in work,1\n")
    response = _upload(h, upload, CSV)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["applied"] is True and report["accepted"] == 3 and report["refused"] == 0
    assert [(r["status"], r["version"]) for r in report["rows"]] == [("accepted", 2), ("accepted", 3),
                                                                     ("accepted", 2)]
    assert _version(h, academy) == 3 and _version(h, adult) == 2
    again = _upload(h, upload, CSV)  # a retried upload with expected versions doubles nothing
    assert again.status_code == 422 and "changed since you read it" in again.json()["rows"][0]["reasons"][0]

    rows = [{"project_id": adult, "reported_on": "2013-10-01", "values": {"jobs": "300"}, "narrative": "Cohort 3"}]
    as_json = _upload(h, json.dumps({"rows": rows}), "application/json")
    assert as_json.status_code == 200 and as_json.json()["rows"][0]["version"] == 3


def test_a_thousand_rows_are_checked_and_stored_in_one_transaction(harness: Harness) -> None:
    h = harness
    academy, adult, _ = _projects(h)
    lines = ["project_id,reported_on,outcome_id,value,narrative"]
    for i in range(500):
        day = f"2013-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}"
        year = 2013 + i // 336
        lines += [f"{p},{year}{day[4:]},jobs,{i},Week {i}" for p in (academy, adult)]
    started = time.perf_counter()
    response = _upload(h, "\n".join(lines) + "\n", CSV)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text[:500]
    assert response.json()["accepted"] == 1000
    assert _version(h, academy) == 501
    print(f"bulk upload: 1,000 rows in {elapsed:.2f}s")
