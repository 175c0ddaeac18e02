"""A ratio end to end, through the projects REST API and reporting's GraphQL (embedded mode): an employment rate
(residents in employment of residents of working age, in percent) is reported by its parts, never by its value;
the district's figure in GraphQL is its projects' numerators summed over their denominators summed, not the mean of
their ratios (#15 part 1)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from shared.contracts import Actor, Decision
from shared.contracts.priorities import PerformanceReleased, TargetSet
from shared.contracts.tasking import CommissioningLevel, TaskingAccepted, TaskingIssued
from tests.harness import Harness, running_system, settings_for, wait_until
from tests.integration.test_projects_api import COORDINATOR, PSTG, THEME_LEAD, TaskingPartner, manager, project_body

UNIT = "percent (ratio)"
OFFICER = Actor("county-officer", "worcestershire-cc", "partnership_officer")
ROLLUP = """{ deliveryRollups { kind actual numerator denominator tasked
  shares { district actual numerator denominator } } }"""


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with running_system(settings_for(data_dir=tmp_path), services=("projects", "reporting")) as h:
        yield h


def _ratio_tasking(h: Harness) -> str:
    """A county employment-rate target (65 % to 70 %) as priorities publishes it, and Worcester's share (its own
    70 %) issued and accepted as tasking publishes them."""
    partner = TaskingPartner(h)
    target_id, tasking_id = uuid4(), uuid4()
    partner.topic = h.system.settings.topic("priorities.events")
    partner.publish(target_id, TargetSet(
        actor=OFFICER, correlation_id="c-target", decision=PSTG, objective_id=uuid4(),
        metric="residents of working age in employment", unit=UNIT, baseline_value=Decimal(65),
        baseline_date=date(2012, 4, 1), target_value=Decimal(70), deadline=date(2014, 3, 31),
        data_source="ONS Annual Population Survey", owner_organisation="worcestershire-cc"))
    partner.topic = h.system.settings.topic("tasking.events")
    partner.publish(tasking_id, TaskingIssued(
        actor=THEME_LEAD, correlation_id="c-issue", decision=PSTG, target_id=target_id, theme_group="pstg",
        district="worcester", share=Decimal(70), unit=UNIT, deadline=date(2014, 3, 31),
        lead_partner="worcester-city-council", commissioning_level=CommissioningLevel.DISTRICT,
        counts_against_target=True))
    partner.publish(tasking_id, TaskingAccepted(actor=COORDINATOR, correlation_id="c-accept",
                                                counts_against_target=True))
    projects = h.system.application("projects")
    wait_until(lambda: (t := projects.known_taskings.get(tasking_id)) is not None and t.accepted,
               what="the accepted ratio tasking in projects")
    return str(tasking_id)


def _ratio_project(h: Harness, tasking_id: str, title: str, sector: str | None = None) -> str:
    body: dict[str, Any] = project_body(tasking_id, title=title)  # type: ignore[arg-type]
    body["outcomes"] = [{"id": "employed", "tasking_id": tasking_id, "metric": "residents in employment",
                         "unit": UNIT, "baseline_value": "65", "baseline_date": "2012-04-01",
                         "target_value": "70", "target_date": "2014-03-31", "sector": sector}]
    opened = h.client.post("/projects/projects", json=body, headers=manager(h))
    assert opened.status_code == 201, opened.text
    return str(opened.json()["id"])


def test_a_ratio_is_reported_by_its_parts_and_rolled_up_from_them(harness: Harness) -> None:
    h = harness
    h.system.application("projects").today = lambda: date(2013, 4, 1)
    tasking_id = _ratio_tasking(h)
    college = h.headers("partner_officer", "worcester-college")
    for title, (numerator, denominator) in (("Jobs fair", ("90", "100")), ("Back to work", ("10", "900"))):
        project = f"/projects/projects/{_ratio_project(h, tasking_id, title, sector='C')}"
        by_value = h.client.post(f"{project}/progress", headers=college, json={
            "reported_on": "2013-04-01", "values": {"employed": "68"}, "narrative": "n", "expected_version": 1})
        assert by_value.status_code == 422 and by_value.json()["errors"][0]["field"] == "values.employed"
        refused = h.client.post(f"{project}/progress", headers=college, json={
            "reported_on": "2013-04-01", "parts": {"employed": {"numerator": "101", "denominator": "100"}},
            "narrative": "n", "expected_version": 1})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "parts.employed", refused.text
        reported = h.client.post(f"{project}/progress", headers=college, json={
            "reported_on": "2013-04-01", "parts": {"employed": {"numerator": numerator, "denominator": denominator}},
            "narrative": "Survey of residents", "expected_version": 1})
        assert reported.status_code == 200, reported.text
        assert reported.json()["parts"] == {"employed": {"numerator": numerator, "denominator": denominator}}
        assert Decimal(reported.json()["actuals"]["employed"]) == Decimal(numerator) / Decimal(denominator) * 100

    def rolled_up() -> Any:
        found = h.graphql(ROLLUP)
        assert "errors" not in found, found
        [target] = found["data"]["deliveryRollups"]
        return target if target["denominator"] == "1000" else None

    target = wait_until(rolled_up, what="both reports in the roll-up")
    # 90 of 100 and 10 of 900: 100 of 1,000, 10 %; the mean of the two ratios would say 45.6 %.
    assert (target["kind"], Decimal(target["actual"]), target["numerator"], target["tasked"]) == \
        ("ratio", Decimal(10), "100", None)
    [share] = target["shares"]
    assert (share["district"], Decimal(share["actual"]), share["numerator"]) == ("worcester", Decimal(10), "100")
    by_sector = h.graphql('{ deliveryRollups(sector: "C") { actual shares { district } } }')["data"]
    # The share names no sector; its projects' outcomes name manufacturing (C) themselves, and count there.
    assert Decimal(by_sector["deliveryRollups"][0]["actual"]) == 10
    assert by_sector["deliveryRollups"][0]["shares"] == [{"district": "worcester"}]
    assert h.graphql('{ deliveryRollups(sector: "F") { actual } }')["data"]["deliveryRollups"] == []

    # Released, open data publishes each report's parts beside its ratio, and the county's ratio rolled up from them.
    partner = TaskingPartner(h)
    partner.topic = h.system.settings.topic("priorities.events")
    partner.publish(uuid4(), PerformanceReleased(
        actor=OFFICER, correlation_id="c-release", starts_on=date(2013, 1, 1), ends_on=date(2013, 6, 30),
        decision=Decision(body="worcestershire-partnership", decided_on=date(2013, 7, 15), reason="Checked",
                          reference="WPB-2013-07-3", delegation="county-officer-evidence-and-release")))
    figures = wait_until(lambda: h.client.get("/open-data/performance.json").json()["records"],
                         what="the released figures")
    assert sorted((r["numerator"], r["denominator"]) for r in figures) == [("10", "900"), ("90", "100")]
    [county] = [r for r in h.client.get("/open-data/target-performance.json").json()["records"]
                if r["district"] is None]
    assert (county["kind"], Decimal(county["actual"])) == ("ratio", Decimal(10))
    as_csv = h.client.get("/open-data/performance.csv").text
    assert "numerator" in as_csv.splitlines()[0] and ",90,100," in as_csv
