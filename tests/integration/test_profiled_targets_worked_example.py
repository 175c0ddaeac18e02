"""The worked example with profiles for the business park, through every service's own commands (embedded mode):
the Place Shaping Theme Group profiles the county jobs target and Worcester's share by decisions (the park opens
in the second year, so delivery is back-loaded), the park reports, and the early reports are green against the
profiles where the straight line would say red. GraphQL (project, share and county), the HTML scrutiny pack and
the open-data feed show the same RAG (#15 part 3)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import pytest

from shared.contracts.projects import Rag
from shared.performance import Figure, Thresholds, Trajectory, performance
from tests.harness import Harness, running_system, settings_for, wait_until
from tests.integration.test_partner_open_data import RELEASE
from tests.integration.test_tasking_steps import (
    OFFICER,
    PSTG_LEAD,
    PSTG_PRESENT,
    WORCESTER,
    headers,
    meeting,
    pstg_decision,
    seat_the_tables,
)

BASELINE, DEADLINE = date(2011, 4, 1), date(2013, 3, 31)
TARGET_PROFILE = [{"on": "2012-03-31", "value": "50"}, {"on": "2012-09-30", "value": "150"}]
"""600 jobs by March 2013, the park opening in the second year: 50 by March 2012, 150 by September 2012."""
REPORTS = (("2012-03-31", "60"), ("2012-09-30", "160"))
"""The park's jobs: against the profiles 50 and 150 are due, so both reports are green; against the straight line
300 and 450, both red."""
ROLLUP = """query($id: ID!, $on: Date) { deliveryRollup(targetId: $id) {
  profile { on value } overAllocatedBy reportingInterval(on: $on)
  performance(on: $on) { rag status shortfallPercent }
  shares { district profile { on value } performance(on: $on) { rag status } } } }"""
PROJECT = """query($id: ID!, $on: Date) { deliveryProject(id: $id) { rag lastReportedOn
  performance(on: $on) { rag status } } }"""
WHEN = date(2012, 10, 1)


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    with running_system(settings_for(data_dir=tmp_path),
                        services=("priorities", "tasking", "projects", "reporting")) as harness:
        yield harness


def _jobs_target(h: Harness) -> tuple[str, dict[str, Any]]:
    officer = headers(h, OFFICER)
    scs = h.client.post("/priorities/objectives", headers=officer, json={
        "title": "A skilled and prosperous economy", "level": "scs", "strategy": "Sustainable Community Strategy",
        "decision": h.board_decision()})
    county = h.client.post("/priorities/objectives", headers=officer, json={
        "title": "Create jobs in the private sector", "level": "county_strategy", "strategy": "County Economic "
        "Strategy", "parent_id": scs.json()["id"], "decision": h.board_decision()})
    decided = h.decision("pstg", date(2011, 4, 12), "The Place Shaping Theme Group sets the county target",
                         known_to=("priorities",))
    target = h.client.post("/priorities/targets", headers=officer, json={
        "objective_id": county.json()["id"], "metric": "new private-sector jobs", "unit": "jobs",
        "baseline_value": "0", "baseline_date": BASELINE.isoformat(), "target_value": "600",
        "deadline": DEADLINE.isoformat(), "data_source": "ONS Business Register and Employment Survey",
        "owner_organisation": "worcestershire-cc", "decision": decided})
    assert target.status_code == 201, target.text
    return str(target.json()["id"]), decided


def test_the_business_park_is_green_against_its_profiles_in_graphql_the_pack_and_open_data(h: Harness) -> None:
    projects = h.system.application("projects")
    projects.today = lambda: WHEN
    seat_the_tables(h)
    target_id, decided = _jobs_target(h)
    profiled = h.client.put(f"/priorities/targets/{target_id}/profile", headers=headers(h, OFFICER), json={
        "profile": TARGET_PROFILE, "expected_version": 1,
        "decision": {**decided, "reason": "The business park opens in the second year"}})
    assert profiled.status_code == 200, profiled.text

    tasking_app = h.system.application("tasking")
    wait_until(lambda: tasking_app.known_target(UUID(target_id)) is not None,
               what="tasking to know the target")
    may = pstg_decision(meeting(h, "pstg", date(2011, 5, 10), PSTG_PRESENT, PSTG_LEAD), date(2011, 5, 10),
                        "Worcester delivers the county's jobs", "PSTG/2011/05/3")
    issued = h.client.post("/tasking/taskings", headers=headers(h, PSTG_LEAD), json={
        "target_id": target_id, "district": "worcester", "share": "600", "deadline": DEADLINE.isoformat(),
        "lead_partner": "worcester-city-council", "commissioning_level": "district", "decision": may})
    assert issued.status_code == 201, issued.text
    tasking_id = issued.json()["id"]
    accepted = h.client.post(f"/tasking/taskings/{tasking_id}/accept", json={"expected_version": 1},
                             headers=headers(h, WORCESTER))
    assert accepted.status_code == 200, accepted.text
    share_profiled = h.client.put(f"/tasking/taskings/{tasking_id}/profile", headers=headers(h, PSTG_LEAD), json={
        "profile": TARGET_PROFILE, "expected_version": 2,
        "decision": {**may, "reason": "Worcester's jobs follow the park", "reference": "PSTG/2011/05/4"}})
    assert share_profiled.status_code == 200, share_profiled.text
    assert share_profiled.json()["profile"] == TARGET_PROFILE
    wait_until(lambda: projects.known_taskings.share_profile(UUID(tasking_id)) is not None,
               what="projects to know the profiled share")

    manager = h.headers("programme_manager", district="worcester")
    opened = h.client.post("/projects/projects", headers=manager, json={
        "title": "Inward investment to the Blackpole business park", "lead_partner": "worcester-college",
        "project_manager": "pm-user-7", "tasking_ids": [tasking_id],
        "outcomes": [{"id": "jobs", "tasking_id": tasking_id, "metric": "new private-sector jobs", "unit": "jobs",
                      "baseline_value": "0", "baseline_date": BASELINE.isoformat(), "target_value": "600",
                      "target_date": DEADLINE.isoformat()}]})
    assert opened.status_code == 201, opened.text
    project_id = opened.json()["id"]
    # The share was profiled before the project opened: the project takes it into account as it opens.
    version = opened.json()["version"]
    assert version == 2
    college = h.headers("partner_officer", "worcester-college")
    for day, jobs in REPORTS:
        reported = h.client.post(f"/projects/projects/{project_id}/progress", headers=college, json={
            "reported_on": day, "values": {"jobs": jobs}, "narrative": "Firms moved into the park",
            "expected_version": version})
        assert reported.status_code == 200, reported.text
        assert reported.json()["rag"] == "green", reported.json()
        version = reported.json()["version"]
    line = Figure(Trajectory(BASELINE, Decimal(0), DEADLINE, Decimal(600)),
                  tuple((date.fromisoformat(d), Decimal(v)) for d, v in REPORTS))
    assert performance([line], date(2012, 9, 30), Thresholds(Decimal(5), Decimal(15))).rag is Rag.RED

    on = {"on": "2012-09-30"}

    def project_shown() -> Any:
        found = h.graphql(PROJECT, {"id": project_id, **on})
        assert "errors" not in found, found
        shown = found["data"]["deliveryProject"]
        return shown if shown and shown["lastReportedOn"] == "2012-09-30" else None

    shown = wait_until(project_shown, what="reporting to apply the reports")
    assert (shown["rag"], shown["performance"]["rag"], shown["performance"]["status"]) == ("green", "green", "green")
    rollup = h.graphql(ROLLUP, {"id": target_id, **on})
    assert "errors" not in rollup, rollup
    county = rollup["data"]["deliveryRollup"]
    assert county["profile"] == TARGET_PROFILE and county["overAllocatedBy"] is None
    assert county["reportingInterval"] == "quarterly"
    assert (county["performance"]["rag"], county["performance"]["status"]) == ("green", "green"), county
    [worcester] = county["shares"]
    assert worcester["profile"] == TARGET_PROFILE and worcester["performance"]["rag"] == "green"

    pack = h.client.get("/reports/scrutiny", headers=h.headers("scrutiny_member"),
                        params={"from": "2012-07-01", "to": "2012-09-30", "format": "html",
                                "previous": "2000-01-01T00:00:00Z"})
    assert pack.status_code == 200, pack.text
    assert "profile (expected values by date, set by a decision), not a straight line" in pack.text
    section = pack.text.split('id="performance"', 1)[1].split('id="decisions"', 1)[0]
    assert re.findall(r'class="rag (\w+)"', section) == ["green", "green"]  # the county and Worcester

    release = {**RELEASE, "starts_on": "2012-01-01", "ends_on": "2012-09-30",
               "decision": {**cast(dict[str, str], RELEASE["decision"]), "decided_on": "2012-10-01"}}
    released = h.client.post("/priorities/performance-releases", json=release,
                             headers=h.headers("partnership_officer"))
    assert released.status_code == 201, released.text
    feed = wait_until(lambda: len(r := h.client.get("/open-data/performance.json").json()["records"]) == 2 and r,
                      what="the released figures in the feed")
    assert [(r["reported_on"], r["rag"]) for r in feed] == [("2012-03-31", "green"), ("2012-09-30", "green")]
