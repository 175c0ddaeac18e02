"""A target's profile and reporting interval through the priorities REST API (embedded mode): set by decisions,
shown on the target, and bad input refused with a clear 422 naming each field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Harness, running_system, settings_for
from tests.integration.test_priorities_api import JOBS_TARGET, _objective, officer, pstg


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    with running_system(settings_for(data_dir=tmp_path), services=("priorities", "tasking")) as harness:
        yield harness

PROFILE = [{"on": "2012-03-31", "value": "300"}, {"on": "2013-03-31", "value": "1500"}]


def _target(h: Harness, **extra: Any) -> dict[str, Any]:
    response = h.client.post("/priorities/targets", headers=officer(h),
                             json={**JOBS_TARGET, "objective_id": _objective(h), "decision": pstg(h), **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _read(h: Harness, target_id: str) -> dict[str, Any]:
    body: dict[str, Any] = h.client.get(f"/priorities/targets/{target_id}", headers=h.headers("auditor")).json()
    return body


def test_a_target_declares_its_reporting_interval_and_a_decision_changes_it(h: Harness) -> None:
    quarterly = _target(h)
    assert _read(h, quarterly["id"])["reporting_interval"] == "quarterly"
    monthly = _target(h, reporting_interval="monthly")
    shown = _read(h, monthly["id"])
    assert (shown["reporting_interval"], shown["reporting_intervals"]) == (
        "monthly", [{"reporting_interval": "monthly", "in_force_from": "2011-04-01"}])
    changed = h.client.put(f"/priorities/targets/{monthly['id']}/reporting-interval", headers=officer(h), json={
        "reporting_interval": "annual", "in_force_from": "2013-04-01", "expected_version": shown["version"],
        "decision": pstg(h)})
    assert changed.status_code == 200, changed.text
    assert changed.json()["reporting_interval"] == "annual" and len(changed.json()["reporting_intervals"]) == 2


def test_a_bad_interval_is_refused_with_a_422_naming_each_field(h: Harness) -> None:
    target = _target(h)
    url = f"/priorities/targets/{target['id']}/reporting-interval"
    unknown = h.client.put(url, headers=officer(h), json={
        "reporting_interval": "fortnightly", "in_force_from": "2013-04-01", "expected_version": 1,
        "decision": pstg(h)})
    assert unknown.status_code == 422 and unknown.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in unknown.json()["errors"]] == ["reporting_interval"], unknown.json()
    outside = h.client.put(url, headers=officer(h), json={
        "reporting_interval": "annual", "in_force_from": "2019-04-01", "expected_version": 1, "decision": pstg(h)})
    assert outside.status_code == 422, outside.text
    assert [e["field"] for e in outside.json()["errors"]] == ["in_force_from"]
    assert "between the baseline (2011-04-01) and the deadline (2016-03-31)" in outside.json()["errors"][0]["message"]
    undecided = h.client.put(url, headers=officer(h), json={
        "reporting_interval": "annual", "in_force_from": "2013-04-01", "expected_version": 1})
    assert undecided.status_code == 422 and "decision" in {e["field"] for e in undecided.json()["errors"]}
    refused = h.client.post("/priorities/targets", headers=officer(h), json={
        **JOBS_TARGET, "objective_id": _objective(h), "decision": pstg(h), "reporting_interval": "weekly"})
    assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["reporting_interval"]


def test_a_target_is_profiled_by_a_decision_and_a_bad_profile_is_refused_with_every_problem(h: Harness) -> None:
    target = _target(h)
    url = f"/priorities/targets/{target['id']}/profile"
    profiled = h.client.put(url, headers=officer(h), json={"profile": PROFILE, "expected_version": 1,
                                                           "decision": pstg(h)})
    assert profiled.status_code == 200, profiled.text
    assert _read(h, target["id"])["profile"] == PROFILE
    bad = h.client.put(url, headers=officer(h), json={"expected_version": 2, "decision": pstg(h), "profile": [
        {"on": "2020-01-01", "value": "10"}, {"on": "2013-01-01", "value": "-5"}]})
    assert bad.status_code == 422, bad.text
    assert sorted(e["field"] for e in bad.json()["errors"]) == ["profile[0].on", "profile[1].value"]
    huge = h.client.put(url, headers=officer(h), json={"expected_version": 2, "decision": pstg(h), "profile": [
        {"on": "2013-01-01", "value": "1e999999"}]})
    assert huge.status_code == 422, huge.text
    removed = h.client.put(url, headers=officer(h), json={"profile": [], "expected_version": 2,
                                                          "decision": pstg(h)})
    assert removed.status_code == 200 and removed.json()["profile"] == []
