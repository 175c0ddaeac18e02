"""Delivery of the worked example: Worcester's projects report jobs created, one goes red and gets an intervention,
GraphQL rolls actual up to Worcester's 1,200 and the county's 6,000, and a retasking flags the projects once.

The target and the tasking come through the priorities and tasking services' own REST APIs and their topics."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Harness, running_system, settings_for, wait_until
from tests.integration.test_tasking_steps import (
    PSTG_LEAD,
    PSTG_PRESENT,
    WORCESTER,
    headers,
    issue,
    meeting,
    pstg_decision,
    seat_the_tables,
    set_target_through_priorities,
    wait_target_known,
)

PROGRAMME_MANAGER = {"role": "programme_manager", "org": "worcester-city-council", "district": "worcester",
                     "name": "Morgan Ellery"}
COLLEGE = {"role": "partner_officer", "org": "worcester-college"}
CHAMBER = {"role": "partner_officer", "org": "chamber-of-commerce"}
# The programme manager intervenes under the Worcester Alliance's scheme of delegation (no meeting needed).
ALLIANCE = {"body": "worcester", "delegation": "worcester-programme-manager",
            "decided_on": "2013-04-24", "reason": "Business park project red",
            "reference": "WA-2013-04-5"}

ROLLUP = """
query($target: ID!) {
  deliveryRollup(targetId: $target) {
    targetValue actual tasked unit
    shares { district share actual status projects { title rag contribution } }
  }
  programmes(district: "worcester") { projects open green amber red interventions flagged }
  interventions(district: "worcester") { kind triggers decision }
  overdueMilestones(district: "worcester") { projectTitle milestoneId }
}
"""


def project_body(tasking_id: str, title: str, lead: str, target: int) -> dict[str, Any]:
    return {
        "title": title, "lead_partner": lead, "project_manager": f"{lead}-pm", "tasking_ids": [tasking_id],
        "outcomes": [{"id": "jobs", "tasking_id": tasking_id, "metric": "new private-sector jobs", "unit": "jobs",
                      "baseline_value": "0", "baseline_date": "2012-04-01", "target_value": str(target),
                      "target_date": "2014-03-31"}],
        "milestones": [{"id": "start", "title": "Delivery starts", "due_on": "2012-05-01"}],
        "resources": [{"organisation": lead, "money_gbp": "50000", "staff_days": "120"}],
    }


def report(h: Harness, project_id: str, who: dict[str, str], on: str, jobs: int) -> Any:
    version = h.client.get(f"/projects/projects/{project_id}", headers=headers(h, who)).json()["version"]
    return h.client.post(f"/projects/projects/{project_id}/progress", headers=headers(h, who, **{
        "If-Match": f'"{version}"'}), json={"reported_on": on, "values": {"jobs": str(jobs)},
                                          "narrative": f"{jobs} jobs so far"})


def accepted_worcester_tasking(h: Harness, target_id: uuid.UUID) -> str:
    seat_the_tables(h)
    may = date(2012, 2, 14)
    decision = pstg_decision(meeting(h, "pstg", may, PSTG_PRESENT, PSTG_LEAD), may,
                             "Worcester's share of the county jobs target", "PSTG/2012/02/3")
    issued = issue(h, target_id, decision)
    assert issued.status_code == 201, issued.text
    tasking_id = str(issued.json()["id"])
    accepted = h.client.post(f"/tasking/taskings/{tasking_id}/accept", json={"expected_version": 1},
                             headers=headers(h, WORCESTER))
    assert accepted.status_code == 200, accepted.text
    known = h.system.application("projects").known_taskings
    wait_until(lambda: (t := known.get(uuid.UUID(tasking_id))) is not None and t.accepted, timeout=60,
               what="the accepted tasking to reach the projects service")
    return tasking_id


def delivery_story(h: Harness) -> None:
    target_id = set_target_through_priorities(h)
    wait_target_known(h, target_id)
    tasking_id = accepted_worcester_tasking(h, target_id)

    manager = headers(h, PROGRAMME_MANAGER)
    academy = h.client.post("/projects/projects", headers=manager, json=project_body(
        tasking_id, "Engineering skills academy", "worcester-college", 500))
    park = h.client.post("/projects/projects", headers=manager, json=project_body(
        tasking_id, "Blackpole business park", "chamber-of-commerce", 700))
    assert academy.status_code == park.status_code == 201, (academy.text, park.text)
    academy_id, park_id = academy.json()["id"], park.json()["id"]

    achieved = h.client.post(f"/projects/projects/{academy_id}/milestones/start/achieved", headers=headers(h, COLLEGE),
                             json={"achieved_on": "2012-04-30", "expected_version": 1})
    assert achieved.status_code == 200, achieved.text
    assert report(h, academy_id, CHAMBER, "2013-04-01", 240).status_code == 403  # not the lead partner
    assert report(h, academy_id, {"role": "scrutiny_member", "org": "worcestershire-cc"}, "2013-04-01", 1) \
        .status_code == 403
    assert report(h, academy_id, COLLEGE, "2012-10-01", 115).json()["rag"] == "green"
    assert report(h, academy_id, COLLEGE, "2013-04-01", 240).json()["rag"] == "green"
    assert report(h, park_id, CHAMBER, "2012-10-01", 60).json()["rag"] == "red"
    red = report(h, park_id, CHAMBER, "2013-04-01", 150).json()
    assert (red["rag"], red["actuals"]) == ("red", {"jobs": "150"})

    before_intervention = datetime.now(UTC)
    intervened = h.client.post(f"/projects/projects/{park_id}/interventions", headers=manager, json={
        "kind": "extra_resources", "description": "Council funds an inward-investment officer", "decision": ALLIANCE,
        "expected_version": 3})
    assert intervened.status_code == 200, intervened.text

    def rolled_up() -> dict[str, Any] | None:
        body = h.graphql(ROLLUP, {"target": str(target_id)}, role="scrutiny_member")
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        # Each top-level field reads in its own transaction, so one answer may straddle the intervention's commit:
        # wait until every field shows it.
        done = (data["deliveryRollup"] and data["deliveryRollup"]["actual"] == "390" and data["interventions"]
                and data["programmes"] and data["programmes"][0]["interventions"] == 1)
        return data if done else None

    data = wait_until(rolled_up, timeout=60, what="the roll-up of 390 jobs in GraphQL")
    rollup = data["deliveryRollup"]
    assert (rollup["targetValue"], rollup["tasked"], rollup["unit"]) == ("6000", "1200", "jobs")
    [worcester] = rollup["shares"]
    assert (worcester["district"], worcester["share"], worcester["actual"]) == ("worcester", "1200", "390")
    assert sorted((p["title"], p["rag"], p["contribution"]) for p in worcester["projects"]) == [
        ("Blackpole business park", "red", "150"), ("Engineering skills academy", "green", "240")]
    assert data["programmes"] == [{"projects": 2, "open": 2, "green": 1, "amber": 0, "red": 1, "interventions": 1,
                                   "flagged": 0}]
    assert data["interventions"][0]["kind"] == "extra_resources"
    assert data["interventions"][0]["triggers"] == ["red", "missed-milestone:start"]
    assert data["overdueMilestones"] == [{"projectTitle": "Blackpole business park", "milestoneId": "start"}]
    then = h.graphql("""query($at: DateTime!) { interventions(asOf: $at) { kind }
                        programmes(asOf: $at) { red interventions } }""", {"at": before_intervention.isoformat()})
    assert then["data"] == {"interventions": [], "programmes": [{"red": 1, "interventions": 0}]}
    assert data["interventions"][0]["decision"]["reference"] == "WA-2013-04-5"
    _shown_then_erased(h)

    # PSTG reduces Worcester's share: both projects are flagged, their contribution re-pointed, exactly once.
    june = date(2013, 6, 11)
    decision = pstg_decision(meeting(h, "pstg", june, PSTG_PRESENT, PSTG_LEAD), june,
                             "Worcester's share reduced after the mid-term review", "PSTG/2013/06/2")
    retasked = h.client.post(f"/tasking/taskings/{tasking_id}/retask", headers=headers(h, PSTG_LEAD),
                             json={"share": "1100", "decision": decision, "expected_version": 2})
    assert retasked.status_code == 200, retasked.text
    versions = {academy_id: 5, park_id: 5}  # opened, milestone or intervention, 2 reports, then the re-pointing

    def flagged() -> bool:
        states = [h.client.get(f"/projects/projects/{p}", headers=headers(h, COLLEGE)).json() for p in versions]
        return all(s["flagged"] and s["contributions"][0]["share"] == "1100" for s in states)

    wait_until(flagged, timeout=60, what="both projects flagged by the retasking")
    for project_id, version in versions.items():
        state = h.client.get(f"/projects/projects/{project_id}", headers=headers(h, COLLEGE)).json()
        assert state["version"] == version
    share = wait_until(lambda: (r := h.graphql(ROLLUP, {"target": str(target_id)})["data"]["deliveryRollup"])
                       and r["shares"][0]["share"] == "1100" and r, what="the new share in GraphQL")
    assert share["actual"] == "390"


def _shown_then_erased(h: Harness) -> None:
    """The intervention names its programme manager (and shows their words) until they are erased; then role and
    organisation stay, the name is gone and the words read [redacted] (#16 part 5)."""
    from shared.audit.people import REDACTED, vault_for

    query = "{ interventions(district: \"worcester\") { actor actorName actorOrganisation description decision } }"
    [entry] = h.graphql(query)["data"]["interventions"]
    assert entry["actor"].startswith("person:") and entry["actorName"] == "Morgan Ellery"
    assert (entry["actorOrganisation"], entry["description"]) == ("worcester-city-council",
                                                                  "Council funds an inward-investment officer")
    assert entry["decision"]["reason"] == "Business park project red"
    vault_for(h.system.settings).erase("user-programme_manager", {
        "body": "data-protection-officer", "decided_on": "2013-05-01", "reason": "erasure request DP-9"})
    [erased] = h.graphql(query)["data"]["interventions"]
    assert (erased["actor"], erased["actorName"], erased["actorOrganisation"]) == (
        entry["actor"], None, "worcester-city-council")
    assert erased["description"] == REDACTED and erased["decision"]["reason"] == REDACTED


@pytest.mark.integration
def test_worcester_delivery_rolls_up_to_its_share_and_the_county_target_over_kafka_and_postgres(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    with running_system(settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)) as h:
        delivery_story(h)


def test_worcester_delivery_rolls_up_in_the_embedded_mode(tmp_path: Path) -> None:
    with running_system(settings_for(data_dir=tmp_path)) as h:
        delivery_story(h)
