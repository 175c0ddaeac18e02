"""The decision rule across services on real Kafka and PostgreSQL: a meeting recorded in tasking reaches the other
services' copies through ``tasking.events``; until it has, their answer is "retry", and an inquorate meeting decides
nothing anywhere."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from services.cli import cli
from services.priorities.domain import Objective
from shared.contracts import Actor, Decision
from shared.contracts.priorities import StrategyLevel
from shared.eventstore import CommandContext
from tests.copies import board_decision
from tests.harness import BOARD_DAY, Harness, running_system, settings_env, settings_for, wait_until

pytestmark = pytest.mark.integration

MAY = date(2011, 5, 18)


def _coordinator(h: Harness) -> dict[str, str]:
    return h.headers("district_coordinator", "worcester-city-council", district="worcester")


def _proposed_priority(h: Harness, adopted: dict[str, Any] | None = None) -> str:
    scs = h.client.post("/priorities/objectives", headers=h.headers("partnership_officer"), json={
        "title": "A skilled and prosperous economy", "level": "scs", "strategy": "Sustainable Community Strategy",
        "decision": adopted or h.board_decision()})
    assert scs.status_code == 201, scs.text
    proposed = h.client.post("/priorities/districts/worcester/priorities", headers=_coordinator(h), json={
        "title": "More private-sector jobs", "rationale": "Claimant count up by a third",
        "objective_id": scs.json()["id"]})
    assert proposed.status_code == 201, proposed.text
    return str(proposed.json()["id"])


def _agree(h: Harness, priority_id: str, decision: dict[str, Any]) -> Any:
    return h.client.post(f"/priorities/priorities/{priority_id}/agree", headers=_coordinator(h),
                         json={"decision": decision, "expected_version": 1})


def test_a_meeting_recorded_in_tasking_makes_a_priorities_decision_acceptable_once_its_event_arrived(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)
    with running_system(settings, services=("priorities", "tasking"), workers=False) as h:
        meeting = h.meeting("worcester", MAY)  # recorded in tasking's store; no relay runs yet
        # The board's adoption of the objective, fed into priorities' copy (no relay runs yet to carry it there).
        adopted = board_decision(h.system.application("priorities").local, BOARD_DAY, "Adopted by the board")
        priority_id = _proposed_priority(h, adopted)
        decision = meeting.decision("The city's first priority", "WA-2011-05-2")

        early = _agree(h, priority_id, decision)
        assert early.status_code == 503, early.text
        assert early.headers["retry-after"] == "2"
        assert early.json()["type"] == "urn:partnership:problem:upstream-not-yet-known"

        h.system.start_workers()  # tasking's relay publishes; priorities' copy follows tasking.events
        agreed = wait_until(lambda: (r := _agree(h, priority_id, decision)).status_code != 503 and r, 60,
                            "priorities to hear of the meeting")
        assert agreed.status_code == 200, agreed.text
        got = h.client.get(f"/priorities/priorities/{priority_id}", headers=h.headers("auditor")).json()
        assert (got["status"], got["version"]) == ("agreed", 2), got

        made_up = {**decision, "meeting_id": "00000000-0000-4000-8000-000000000000"}
        refused = h.client.post(f"/priorities/priorities/{priority_id}/retire", headers=_coordinator(h),
                                json={"decision": made_up, "expected_version": 2})
        assert refused.status_code == 422, refused.text
        assert refused.json()["type"] == "urn:partnership:problem:meeting-not-held"
        assert refused.json()["errors"][0]["field"] == "decision.meeting_id"


def test_a_decision_at_an_inquorate_meeting_is_refused_in_every_service(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)
    with running_system(settings, services=("priorities", "tasking", "projects")) as h:
        assert h.system.load_demo_data(timeout=120)
        for org in ("worcester-city-council", "worcester-college"):
            h.seat("worcester", org)
        thin = h.meeting("worcester", date(2013, 6, 5), ["worcester-city-council", "worcester-college"])
        h.wait_meeting_known(thin)
        inquorate = thin.decision("Decided by two of the Alliance")
        refusals = {}

        priority_id = _proposed_priority(h)
        refusals["priorities"] = _agree(h, priority_id, inquorate)

        for org in ("worcestershire-cc", "chamber-of-commerce"):
            h.seat("pstg", org)
        thin_pstg = h.meeting("pstg", date(2013, 6, 5), ["worcestershire-cc", "chamber-of-commerce"])
        refusals["tasking"] = h.client.post(
            "/tasking/taskings", headers=h.headers("theme_group_lead", theme_group="pstg"),
            json={"target_id": str(h.system.demo_ids["jobs_target"]), "district": "worcester", "share": "1",
                  "deadline": "2014-03-31", "lead_partner": "worcester-city-council",
                  "decision": thin_pstg.decision("Decided by two of the PSTG")})

        park = h.system.demo_ids["business_park_project"]
        project = h.client.get(f"/projects/projects/{park}", headers=h.headers("auditor")).json()
        refusals["projects"] = h.client.post(
            f"/projects/projects/{park}/interventions",
            headers=h.headers("programme_manager", "worcester-city-council", district="worcester"),
            json={"kind": "re_plan", "description": "Re-plan the anchor-tenant search", "decision": inquorate,
                  "expected_version": project["version"]})

        answers = {name: (r.status_code, r.json()["type"].rsplit(":", 1)[1]) for name, r in refusals.items()}
        assert answers == {name: (422, "not-quorate") for name in ("priorities", "tasking", "projects")}, answers


def test_audit_decisions_passes_the_demo_and_names_a_decision_written_straight_into_a_store(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)
    env = settings_env(settings)
    with running_system(settings, services=("priorities", "tasking", "projects")) as h:
        assert h.system.load_demo_data(timeout=120)
        clean = CliRunner().invoke(cli, ["audit", "decisions"], env=env)
        assert clean.exit_code == 0, clean.output
        assert "0 decision(s) that do not resolve" in clean.output

        # Written past the API (as a tampering script or a bug could): a decision at a meeting never held.
        app = h.system.application("priorities")
        made_up = Decision("worcestershire-partnership", date(2011, 3, 1), "Agreed, allegedly",
                           meeting_id="5f0c7a52-1d1e-4a39-9b56-0d7f2f3f9a11", meeting_version=1)
        forged = Objective.add(CommandContext(Actor("someone", "worcestershire-cc", "partnership_officer"), "c"),
                               title="A forged objective", level=StrategyLevel.SCS, strategy="SCS",
                               decision=made_up)
        app.save(forged)

        dirty = CliRunner().invoke(cli, ["audit", "decisions"], env=env)
        assert dirty.exit_code == 1, dirty.output
        assert "1 decision(s) that do not resolve" in dirty.output
        named = [line for line in dirty.output.splitlines() if str(forged.id) in line]
        assert len(named) == 1 and "priorities.ObjectiveAdded.v1" in named[0]
        assert "No meeting 5f0c7a52-1d1e-4a39-9b56-0d7f2f3f9a11" in named[0]

        state = CliRunner().invoke(cli, ["audit", "state", str(h.system.demo_ids["worcester_tasking"]),
                                         "--as-of", "2100-01-01T00:00:00+00:00"], env=env)
        assert state.exit_code == 0, state.output
        behind = [d["reference"] for d in json.loads(state.output)["decisions"]]
        assert behind == ["PSTG/2011/05/3", "WA-2011-05-4", "PSTG/2011/06/7"], behind  # issue, accept, transfer
