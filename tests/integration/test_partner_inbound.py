"""A partner organisation's system sends progress reports on its inbound topic and reads the answers, on a real
Kafka broker and PostgreSQL (and in the embedded mode): valid reports are in the read model once, invalid ones are
refused on the outcomes topic in REST's words, a duplicate is answered as the first, a record claiming another
organisation changes nothing of that organisation's, and a record that is no command is dead-lettered once and
refused."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from services.partners.inbound import (
    ACHIEVE_MILESTONE,
    COMMIT_RESOURCES,
    CORRECT_REPORT,
    RECORD_RISK,
    REPORT_PROGRESS,
    WITHDRAW_REPORT,
    commands_topic,
    outcomes_topic,
)
from services.projects.application import ProjectsApplication
from shared.auth import hash_secret
from shared.transport import Message
from tests.harness import Harness, running_system, settings_for, wait_until
from tests.integration.test_dead_letters_once import _dead_letters
from tests.integration.test_projects_api import TaskingPartner, manager, project_body

COLLEGE = "worcester-college"
CHAMBER = "chamber-of-commerce"


def clients_file(tmp_path: Path) -> Path:
    path = tmp_path / "clients.yaml"
    path.write_text(f"""
clients:
  - client_id: college-mis
    organisation: {COLLEGE}
    roles: [partner_officer]
    commands: [{REPORT_PROGRESS}, {WITHDRAW_REPORT}, {CORRECT_REPORT}, {ACHIEVE_MILESTONE}, {RECORD_RISK},
               {COMMIT_RESOURCES}]
    secret_hash: "{hash_secret(secrets.token_urlsafe(16))}"
  - client_id: chamber-portal
    organisation: {CHAMBER}
    roles: [partner_officer]
    commands: [{REPORT_PROGRESS}]
    secret_hash: "{hash_secret(secrets.token_urlsafe(16))}"
""")
    return path


@pytest.fixture(params=["embedded", pytest.param("kafka+postgres", marks=pytest.mark.integration)])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    """The embedded mode (``make run``: SQLite and the embedded log) and the distributed one (a real broker and
    PostgreSQL): the inbound consumer runs in both, as one of projects' workers."""
    real = request.param != "embedded"
    settings = settings_for(data_dir=tmp_path, partner_clients_file=clients_file(tmp_path),
                            postgres_url=request.getfixturevalue("postgres_url") if real else None,
                            kafka=request.getfixturevalue("kafka_bootstrap") if real else None)
    with running_system(settings, services=("projects", "reporting")) as h:
        yield h


class PartnerSystem:
    """What a partner's producer does: CloudEvents on its commands topic, answers read from its outcomes topic."""

    def __init__(self, h: Harness, organisation: str) -> None:
        self.h = h
        self.transport = h.system.transport
        self.commands = h.system.settings.topic(commands_topic(organisation))
        self.outcomes = h.system.settings.topic(outcomes_topic(organisation))
        self.read: list[dict[str, Any]] = []
        self._next: dict[int, int] = {}

    def send(self, data: dict[str, Any], command_id: str | None = None, command: str = REPORT_PROGRESS,
             **attributes: Any) -> str:
        command_id = command_id or str(uuid4())
        record = {"specversion": "1.0", "id": command_id, "source": "/partners/college-mis", "type": command,
                  "datacontenttype": "application/json", "data": data, **attributes}
        self.send_raw(json.dumps(record).encode(), key=str(data.get("project_id", command_id)))
        return command_id

    def send_raw(self, value: bytes, key: str = "raw") -> None:
        publisher = self.transport.publisher()
        try:
            publisher.publish(self.commands, key, value, (("content-type", b"application/cloudevents+json"),))
            publisher.flush()
        finally:
            publisher.close()

    def poll(self) -> list[dict[str, Any]]:
        reader = self.transport.reader(self.outcomes, dict(self._next))
        try:
            messages: list[Message] = list(reader.poll(100, 0.5))
        finally:
            reader.close()
        for message in messages:
            self._next[message.position.partition] = message.position.offset + 1
            self.read.append(json.loads(message.value))
        return self.read

    def answers(self, command_id: str) -> list[dict[str, Any]]:
        return [o for o in self.read if o["correlationid"] == command_id]

    def wait_answered(self, *command_ids: str, copies: int = 1) -> None:
        wait_until(lambda: self.poll() is not None and all(len(self.answers(c)) >= copies for c in command_ids),
                   60, f"answers to {command_ids}")


def _projects(h: Harness) -> tuple[str, str]:
    tasking_id = TaskingPartner(h).accepted_tasking()
    ids = []
    for title, lead in (("Skills academy", COLLEGE), ("Retail apprenticeships", CHAMBER)):
        opened = h.client.post("/projects/projects", json=project_body(tasking_id, title, lead=lead),
                               headers=manager(h))
        assert opened.status_code == 201, opened.text
        ids.append(opened.json()["id"])
    return ids[0], ids[1]


def _progress_rows(h: Harness, project_id: str) -> list[dict[str, Any]]:
    assert h.system.read_model is not None
    return h.system.read_model.store.query(
        "SELECT version, reported_values, reported_by, reported_by_organisation FROM delivery_progress "
        "WHERE project_id = ? ORDER BY version", [project_id])


def _version(h: Harness, project_id: str) -> int:
    version: int = h.client.get(f"/projects/projects/{project_id}", headers=h.headers("auditor")).json()["version"]
    return version


def _rest(h: Harness, project_id: str, body: dict[str, Any], org: str = COLLEGE) -> Any:
    return h.client.post(f"/projects/projects/{project_id}/progress", json=body,
                         headers=h.headers("partner_officer", org))


def test_valid_invalid_duplicate_and_foreign_reports_are_answered_as_rest_would(harness: Harness) -> None:
    h = harness
    academy, retail = _projects(h)
    college = PartnerSystem(h, COLLEGE)
    report = {"project_id": academy, "reported_on": "2013-04-01", "values": {"jobs": "150"},
              "narrative": "Cohort 1 placed", "expected_version": 1}
    valid = college.send(report)
    invalid_body = {"reported_on": "2013-13-01", "values": {}, "narrative": "No version, no values"}
    invalid = college.send({"project_id": academy, **invalid_body})
    college.wait_answered(valid, invalid)
    duplicate = college.send(report, command_id=valid)  # sent again: answered as the first, applied once
    # The college's system claims, in the body, to act for the chamber: a body names no one (refused as REST refuses
    # a field it does not know), and on the chamber's project it is the college's report, refused as not its own.
    claiming = college.send({**report, "organisation": CHAMBER, "actororganisation": CHAMBER})
    claiming_foreign = college.send({**report, "project_id": retail, "organisation": CHAMBER})
    foreign_body = {"reported_on": "2013-04-01", "values": {"jobs": "80"}, "narrative": "Not ours",
                    "expected_version": 1}
    foreign = college.send({"project_id": retail, **foreign_body}, actororganisation=CHAMBER)
    college.wait_answered(duplicate, claiming, claiming_foreign, foreign, copies=1)
    college.wait_answered(valid, copies=2)

    first, again = college.answers(valid)
    assert first["type"] == "partner.CommandAccepted.v1"
    assert first["data"] == {"command_id": valid, "command_type": REPORT_PROGRESS, "status": "accepted",
                             "record": {"type": "project", "id": academy, "version": 2}}
    assert again == first  # the same answer, the same CloudEvent id and time: a partner drops it by id

    refused = college.answers(invalid)[0]
    assert refused["type"] == "partner.CommandRefused.v1" and refused["data"]["status"] == "refused"
    rest = _rest(h, academy, invalid_body)
    assert rest.status_code == 422
    assert refused["data"]["problem"] == rest.json()  # REST's body, reasons and all
    assert {e["field"] for e in rest.json()["errors"]} >= {"reported_on", "values"}

    claimed = college.answers(claiming)[0]["data"]["problem"]
    rest_claimed = _rest(h, academy, {k: v for k, v in report.items() if k != "project_id"} | {
        "organisation": CHAMBER, "actororganisation": CHAMBER})
    assert claimed == rest_claimed.json() and claimed["status"] == 422
    assert {e["field"] for e in claimed["errors"]} == {"organisation", "actororganisation"}
    claimed_foreign = college.answers(claiming_foreign)[0]["data"]["problem"]
    assert claimed_foreign["status"] == 403 and "Only the lead partner (chamber-of-commerce)" in \
        claimed_foreign["detail"]
    refused_foreign = college.answers(foreign)[0]["data"]["problem"]
    rest_foreign = _rest(h, retail, foreign_body)
    assert rest_foreign.status_code == 403 and refused_foreign == rest_foreign.json()
    assert "Only the lead partner (chamber-of-commerce)" in refused_foreign["detail"]

    wait_until(lambda: len(_progress_rows(h, academy)) >= 1, 30, "the report in the read model")
    rows = _progress_rows(h, academy)
    assert [(r["version"], json.loads(r["reported_values"])) for r in rows] == [(2, {"jobs": "150"})]
    assert rows[0]["reported_by"] == "client:college-mis" and rows[0]["reported_by_organisation"] == COLLEGE
    assert _version(h, academy) == 2
    assert _version(h, retail) == 1 and _progress_rows(h, retail) == []  # nothing of the chamber's changed


def test_a_record_that_is_no_command_is_dead_lettered_once_and_refused(harness: Harness) -> None:
    h = harness
    academy, _ = _projects(h)
    college = PartnerSystem(h, COLLEGE)
    college.send_raw(b"not a command at all")
    unknown = str(uuid4())
    college.send_raw(json.dumps({"specversion": "1.0", "id": unknown, "source": "/partners/x",
                                 "type": "projects.CloseProject.v9", "data": {}}).encode())
    after = college.send({"project_id": academy, "reported_on": "2013-04-01", "values": {"jobs": "10"},
                          "narrative": "Still consumed after the bad ones", "expected_version": 1})
    college.wait_answered(unknown, after)
    wait_until(lambda: any(o["data"].get("origin", "").endswith(":0") and "command_id" not in o["data"]
                           for o in college.poll()), 30, "the answer to the record without an id")
    garbage = next(o for o in college.read if "command_id" not in o["data"])
    assert garbage["data"]["problem"]["type"] == "urn:partnership:problem:malformed-command"
    assert "not JSON" in garbage["data"]["problem"]["detail"]
    unknown_answer = college.answers(unknown)[0]["data"]
    assert unknown_answer["status"] == "refused" and "unknown command type" in unknown_answer["problem"]["detail"]
    assert college.answers(after)[0]["data"]["status"] == "accepted"
    letters = [m for m in _dead_letters(h.system.transport, h.system.settings.topic("projects.dlq"))
               if dict(m.headers)["dlq.topic"].decode() == college.commands]
    assert sorted(int(dict(m.headers)["dlq.offset"]) for m in letters) == [0, 1]  # each once


def test_a_command_applied_but_not_yet_answered_is_answered_from_its_events_and_not_applied_again(
        harness: Harness) -> None:
    """A crash after the report's events were stored and before its answer was kept: the record comes again (it was
    never acknowledged). Here the kept answer is removed, as that crash leaves it, and the record sent again."""
    h = harness
    academy, _ = _projects(h)
    college = PartnerSystem(h, COLLEGE)
    report = {"project_id": academy, "reported_on": "2013-04-01", "values": {"jobs": "150"},
              "narrative": "Cohort 1 placed", "expected_version": 1}
    command = college.send(report)
    college.wait_answered(command)
    projects: ProjectsApplication = h.system.application("projects")
    store = projects.known_taskings.store
    with store.transaction() as tx:
        tx.execute("DELETE FROM partner_command_receipts WHERE command_id = ?", [command])
    college.send(report, command_id=command)
    college.wait_answered(command, copies=2)
    first, again = college.answers(command)
    assert again["data"] == first["data"] and first["data"]["record"]["version"] == 2
    assert _version(h, academy) == 2  # not applied twice: the once-only row in the event store refused it


def test_reports_are_corrected_and_withdrawn_on_the_same_topic_as_rest_would(harness: Harness) -> None:
    h = harness
    academy, retail = _projects(h)
    college, chamber = PartnerSystem(h, COLLEGE), PartnerSystem(h, CHAMBER)
    reported = college.send({"project_id": academy, "reported_on": "2013-04-01", "values": {"jobs": "150"},
                             "narrative": "Cohort 1 placed", "expected_version": 1})
    college.wait_answered(reported)
    corrected = college.send({"project_id": academy, "corrected_report_on": "2013-04-01",
                              "reported_on": "2013-04-01", "values": {"jobs": "140"}, "narrative": "Recounted",
                              "reason": "Ten were counted twice", "expected_version": 2}, command=CORRECT_REPORT)
    college.wait_answered(corrected)
    unreasoned = {"reported_on": "2013-04-01", "expected_version": 3}
    refused = college.send({"project_id": academy, **unreasoned}, command=WITHDRAW_REPORT)
    college.wait_answered(refused)
    withdrawn = college.send({"project_id": academy, "reported_on": "2013-04-01", "reason": "Wrong cohort",
                              "expected_version": 3}, command=WITHDRAW_REPORT)
    # the chamber's client is granted progress reports only: its withdrawal is refused, its project untouched
    not_granted = chamber.send({"project_id": retail, "reported_on": "2013-04-01", "reason": "x",
                                "expected_version": 1}, command=WITHDRAW_REPORT)
    college.wait_answered(withdrawn)
    chamber.wait_answered(not_granted)

    versions = [college.answers(c)[0]["data"]["record"]["version"] for c in (reported, corrected, withdrawn)]
    assert versions == [2, 3, 4]
    rest = h.client.post(f"/projects/projects/{academy}/progress/withdrawals", json=unreasoned,
                         headers=h.headers("partner_officer", COLLEGE))
    assert rest.status_code == 422 and college.answers(refused)[0]["data"]["problem"] == rest.json()
    assert [e["field"] for e in rest.json()["errors"]] == ["reason"]
    problem = chamber.answers(not_granted)[0]["data"]["problem"]
    assert problem["status"] == 403 and "not granted projects.WithdrawReport.v1" in problem["detail"]
    assert _version(h, retail) == 1
    assert h.system.read_model is not None
    store = h.system.read_model.store

    def superseded() -> list[tuple[int, str | None]]:
        return [(int(r["version"]), r["corrected_to"]) for r in store.query(
            "SELECT version, corrected_to FROM delivery_progress_withdrawals WHERE project_id = ? ORDER BY version",
            [academy])]

    wait_until(lambda: len(superseded()) == 2, 30, "the correction and the withdrawal in the read model")
    assert superseded() == [(3, "2013-04-01"), (4, None)]  # corrected, then the correction withdrawn
    rows = _progress_rows(h, academy)
    assert [(r["version"], json.loads(r["reported_values"])) for r in rows] == [(2, {"jobs": "150"}),
                                                                                (3, {"jobs": "140"})]


def test_milestones_and_risks_are_kept_on_the_same_topic_as_rest_would(harness: Harness) -> None:
    h = harness
    academy, retail = _projects(h)
    college = PartnerSystem(h, COLLEGE)
    achieved = college.send({"project_id": academy, "milestone_id": "premises", "achieved_on": "2012-08-20",
                             "expected_version": 1}, command=ACHIEVE_MILESTONE)
    college.wait_answered(achieved)
    risk = {"id": "employers", "description": "Too few placements", "likelihood": 3, "impact": 4,
            "owner": "worcester-college", "mitigation": "The chamber recruits employers"}
    recorded = college.send({"project_id": academy, "risk": risk, "expected_version": 2}, command=RECORD_RISK)
    unknown_milestone = {"achieved_on": "2012-08-20", "expected_version": 3}
    refused = college.send({"project_id": academy, "milestone_id": "no-such", **unknown_milestone},
                           command=ACHIEVE_MILESTONE)
    foreign = college.send({"project_id": retail, "risk": risk, "expected_version": 1}, command=RECORD_RISK)
    college.wait_answered(recorded, refused, foreign)

    assert college.answers(achieved)[0]["data"]["record"]["version"] == 2
    assert college.answers(recorded)[0]["data"]["record"]["version"] == 3
    rest = h.client.post(f"/projects/projects/{academy}/milestones/no-such/achieved", json=unknown_milestone,
                         headers=h.headers("partner_officer", COLLEGE))
    assert rest.status_code >= 400 and college.answers(refused)[0]["data"]["problem"] == rest.json()
    rest_foreign = h.client.post(f"/projects/projects/{retail}/risks", json={"risk": risk, "expected_version": 1},
                                 headers=h.headers("partner_officer", COLLEGE))
    assert rest_foreign.status_code == 403 and college.answers(foreign)[0]["data"]["problem"] == rest_foreign.json()
    project = h.client.get(f"/projects/projects/{academy}", headers=h.headers("auditor")).json()
    assert {m["id"]: m["achieved_on"] for m in project["milestones"]} == {"premises": "2012-08-20"}
    assert [(r["id"], r["score"]) for r in project["risks"]] == [("employers", 12)]
    assert _version(h, retail) == 1


def test_resources_are_committed_only_as_the_topics_organisation(harness: Harness) -> None:
    """The commitment names an organisation, as REST's body does: the college's system commits the college's
    resources, to its own project or the chamber's; one naming the chamber's is refused as REST refuses it."""
    h = harness
    academy, retail = _projects(h)
    college = PartnerSystem(h, COLLEGE)
    own = college.send({"project_id": retail, "commitment": {"organisation": COLLEGE, "money_gbp": "5000",
                                                             "staff_days": "10"}, "expected_version": 1},
                       command=COMMIT_RESOURCES)
    claimed_body = {"commitment": {"organisation": CHAMBER, "money_gbp": "90000"}, "expected_version": 2}
    claimed = college.send({"project_id": retail, **claimed_body}, command=COMMIT_RESOURCES)
    college.wait_answered(own, claimed)
    assert college.answers(own)[0]["data"]["record"] == {"type": "project", "id": retail, "version": 2}
    rest = h.client.post(f"/projects/projects/{retail}/resources", json=claimed_body,
                         headers=h.headers("partner_officer", COLLEGE))
    assert rest.status_code == 403 and college.answers(claimed)[0]["data"]["problem"] == rest.json()
    project = h.client.get(f"/projects/projects/{retail}", headers=h.headers("auditor")).json()
    assert [(r["organisation"], r["money_gbp"]) for r in project["resources"]] == [(COLLEGE, "5000")]
    assert project["version"] == 2 and _version(h, academy) == 1
