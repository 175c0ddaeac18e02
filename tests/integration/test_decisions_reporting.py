"""What reporting shows of decisions (embedded mode): the meeting by its title, date and minute reference, the
body by its name, never an id; open data and the scrutiny pack only the decisions that resolve, so one written
straight into a store at a made-up meeting shows nowhere the public or scrutiny read (the audit names it)."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.priorities.domain import Objective
from services.priorities.publication import PublicationRecord
from shared.contracts import Actor, Decision
from shared.contracts.priorities import StrategyLevel
from shared.eventstore import CommandContext
from tests.harness import Harness, running_system, settings_for, wait_until
from tests.integration.test_tasking_steps import (
    chain_shown,
    set_target_through_priorities,
    wait_target_known,
    worked_example,
)

MADE_UP = "5f0c7a52-1d1e-4a39-9b56-0d7f2f3f9a11"
DECISION_FIELDS = "decision { body bodyName reference resolves problems meeting { title heldOn minuteReference " \
                  "body { id name } } }"


@pytest.fixture()
def h(tmp_path: Path) -> Any:
    with running_system(settings_for(data_dir=tmp_path)) as harness:
        yield harness


def _forge(h: Harness) -> str:
    """A decision at a meeting never held, written past the API (as a tampering script or a bug could)."""
    app = h.system.application("priorities")
    made_up = Decision("worcestershire-partnership", date(2011, 5, 10), "Agreed, allegedly", meeting_id=MADE_UP,
                       meeting_version=1, reference="FORGED-1")
    forged = Objective.add(CommandContext(Actor("someone", "worcestershire-cc", "partnership_officer"), "c"),
                           title="A forged objective", level=StrategyLevel.SCS, strategy="SCS", decision=made_up)
    app.save(forged)
    return str(forged.id)


def test_reporting_shows_a_decision_by_its_meeting_and_body_names_and_leaves_out_one_that_does_not_resolve(
        h: Harness) -> None:
    target_id = set_target_through_priorities(h)
    wait_target_known(h, target_id)
    ids = worked_example(h, target_id)
    forged = _forge(h)
    wait_until(lambda: chain_shown(h, ids), what="the retasking in GraphQL")
    log = wait_until(lambda: (entries := h.graphql(
        f"{{ decisionLog(first: 100) {{ nodes {{ aggregateId {DECISION_FIELDS} }} }} }}")["data"]["decisionLog"][
        "nodes"]) and any(e["aggregateId"] == forged for e in entries) and entries, what="the forged decision")

    # The GraphQL decision log lists every decision, and says which do not resolve and why.
    [bad] = [e["decision"] for e in log if e["aggregateId"] == forged]
    assert bad["resolves"] is False and bad["meeting"] is None and f"No meeting {MADE_UP}" in bad["problems"][0]
    transfer = next(e["decision"] for e in log if e["decision"]["reference"] == "PSTG/2011/06/7")
    assert transfer["resolves"] is True and transfer["problems"] == []
    assert transfer["bodyName"] == "Place Shaping Theme Group"
    assert transfer["meeting"] == {"title": "pstg meeting", "heldOn": "2011-06-14",
                                   "minuteReference": "PSTG/2011/06/7",
                                   "body": {"id": "pstg", "name": "Place Shaping Theme Group"}}

    # The retasking chain names the meeting of each step.
    chain = h.graphql(f'query($id: ID!) {{ retaskingChain(taskingId: $id) {{ steps {{ {DECISION_FIELDS} }} }} }}',
                      {"id": ids["wychavon"]})["data"]["retaskingChain"]
    meetings = [s["decision"]["meeting"] for s in chain["steps"] if s["decision"]]
    assert {(m["title"], m["heldOn"], m["minuteReference"]) for m in meetings} >= {
        ("pstg meeting", "2011-06-14", "PSTG/2011/06/7")}

    taken = h.graphql('{ decisions(body: "pstg") { reference bodyName meetingTitle meetingHeldOn resolves } }')[
        "data"]["decisions"]
    assert {"reference": "PSTG/2011/06/7", "bodyName": "Place Shaping Theme Group", "meetingTitle": "pstg meeting",
            "meetingHeldOn": "2011-06-14", "resolves": True} in taken

    # Open data: only what resolves, by names.
    records = h.client.get("/open-data/decisions.json").json()["records"]
    assert forged not in {r["record_id"] for r in records}
    [moved] = [r for r in records if r["reference"] == "PSTG/2011/06/7" and r["what"].endswith("TaskingRetasked")]
    assert (moved["body"], moved["meeting"], moved["meeting_held_on"]) == (
        "Place Shaping Theme Group", "pstg meeting", "2011-06-14")
    assert moved["organisation"] == "Worcestershire County Council"
    as_csv = list(csv.DictReader(io.StringIO(h.client.get("/open-data/decisions.csv").text)))
    assert "FORGED-1" not in {r["reference"] for r in as_csv} and "meeting_id" not in as_csv[0]

    # The scrutiny pack: the same.
    pack = h.client.get("/reports/scrutiny", headers=h.headers("scrutiny_member"),
                        params={"from": "2011-04-01", "to": "2011-06-30", "format": "csv",
                                "previous": "2000-01-01T00:00:00Z"})
    assert pack.status_code == 200, pack.text
    archive = zipfile.ZipFile(io.BytesIO(pack.content))
    decisions = list(csv.DictReader(io.StringIO(archive.read("decisions.csv").decode())))
    assert "FORGED-1" not in {d["reference"] for d in decisions}
    shown = [d for d in decisions if d["reference"] == "PSTG/2011/06/7"]
    assert shown and shown[0]["body"] == "Place Shaping Theme Group"
    assert shown[0]["meeting"] == "pstg meeting, 14 June 2011"
    assert len(shown) == 1  # the retasking and the share it issued: one decision, said once
    changes = list(csv.DictReader(io.StringIO(archive.read("changes.csv").decode())))
    assert any(c["decision"].startswith("Place Shaping Theme Group, pstg meeting, 14 June 2011") for c in changes), \
        changes
    retaskings = list(csv.DictReader(io.StringIO(archive.read("retaskings.csv").decode())))
    assert [(r["body"], r["meeting"]) for r in retaskings] == [
        ("Place Shaping Theme Group", "pstg meeting, 14 June 2011")]


def test_a_release_of_performance_at_a_meeting_never_held_publishes_nothing(h: Harness) -> None:
    # A period released by a decision that does not resolve, written past the API, and one released properly by
    # the county officer under the scheme of delegation: open data lists only the second.
    app = h.system.application("priorities")
    officer = CommandContext(Actor("someone", "worcestershire-cc", "partnership_officer"), "c")
    made_up = Decision("worcestershire-partnership", date(2013, 4, 15), "Released, allegedly", meeting_id=MADE_UP,
                       meeting_version=1, reference="FORGED-RELEASE")
    app.save(PublicationRecord.first_release(officer, starts_on=date(2013, 1, 1), ends_on=date(2013, 3, 31),
                                             decision=made_up, today=date(2026, 1, 1)))
    released = h.client.post("/priorities/performance-releases", headers=h.headers("partnership_officer"), json={
        "starts_on": "2013-04-01", "ends_on": "2013-06-30",
        "decision": {"body": "worcestershire-partnership", "decided_on": "2013-07-15",
                     "delegation": "county-officer-evidence-and-release",
                     "reason": "Q1 figures checked by the performance team", "reference": "WPB-2013-07-3"}})
    assert released.status_code == 201, released.text

    shown = wait_until(lambda: (r := h.client.get("/open-data/releases.json").json()["records"]) and r,
                       what="the delegated release in open data")
    assert [(r["starts_on"], r["reference"]) for r in shown] == [("2013-04-01", "WPB-2013-07-3")]
    assert shown[0]["body"] == "Worcestershire Partnership Board"
    assert shown[0]["meeting"] is None and shown[0]["delegation"]
    periods = h.graphql("{ performanceReleases { startsOn reference } }")["data"]["performanceReleases"]
    assert periods == [{"startsOn": "2013-04-01", "reference": "WPB-2013-07-3"}]
