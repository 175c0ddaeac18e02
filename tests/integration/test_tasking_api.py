"""The tasking API in the embedded mode (SQLite, embedded log): rules, authorization, concurrency, idempotency."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Harness, running_system, settings_for
from tests.integration.test_tasking_steps import (
    PSTG_LEAD,
    PSTG_PRESENT,
    WORCESTER,
    headers,
    issue,
    meeting,
    pstg_decision,
    publish_target,
    seat_the_tables,
    wait_target_known,
)

MAY = date(2011, 5, 10)


@pytest.fixture()
def h(tmp_path: Path) -> Any:
    with running_system(settings_for(data_dir=tmp_path), services=("priorities", "tasking")) as harness:
        yield harness


def _ready(h: Harness) -> tuple[Any, dict[str, Any]]:
    target = publish_target(h)
    wait_target_known(h, target)
    seat_the_tables(h)
    decision = pstg_decision(meeting(h, "pstg", MAY, PSTG_PRESENT), MAY, "Shares of the jobs target", "PSTG/11/05")
    return target, decision


def test_a_tasking_against_a_target_not_yet_known_is_refused_as_retryable(h: Harness) -> None:
    seat_the_tables(h)
    decision = pstg_decision(meeting(h, "pstg", MAY, PSTG_PRESENT), MAY, "Shares of the jobs target")
    response = issue(h, uuid.uuid4(), decision)
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "2"
    assert response.json()["type"] == "urn:partnership:problem:upstream-not-yet-known"


def test_issue_accept_and_read_a_tasking(h: Harness) -> None:
    target, decision = _ready(h)
    response = issue(h, target, decision)
    assert response.status_code == 201, response.text
    tasking_id = response.json()["id"]
    accepted = h.client.post(f"/tasking/taskings/{tasking_id}/accept", json={"expected_version": 1},
                             headers=headers(h, WORCESTER))
    assert accepted.status_code == 200, accepted.text
    got = h.client.get(f"/tasking/taskings/{tasking_id}", headers=h.headers("auditor")).json()
    assert (got["status"], got["share"], got["unit"], got["decision"]["body"]) == ("accepted", "1200", "jobs", "pstg")
    allocation = h.client.get(f"/tasking/targets/{target}/allocation", headers=h.headers("scrutiny_member")).json()
    assert (allocation["tasked"], allocation["available"]) == ("1200", "4800")


def test_shares_beyond_the_target_are_refused_with_the_numbers(h: Harness) -> None:
    target, decision = _ready(h)
    assert issue(h, target, decision, share=5000).status_code == 201
    refused = issue(h, target, decision, district="wychavon", share=1200, lead_partner="wychavon-dc")
    assert refused.status_code == 409
    body = refused.json()
    assert "6,200" in body["detail"] and body["available"] == "1000"


def test_the_lead_partner_must_sit_at_the_district_table(h: Harness) -> None:
    target, decision = _ready(h)
    refused = issue(h, target, decision, lead_partner="wychavon-dc")
    assert refused.status_code == 409 and "not a member" in refused.json()["detail"]


def test_a_decision_of_an_inquorate_meeting_is_refused(h: Harness) -> None:
    target, _ = _ready(h)
    thin = pstg_decision(meeting(h, "pstg", date(2011, 5, 20), ["worcestershire-cc", "west-mercia-police"]),
                         date(2011, 5, 20), "Decided by too few")
    refused = issue(h, target, thin)
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"] == "urn:partnership:problem:not-quorate"
    assert "not quorate: 1 member(s) present, 3 needed" in refused.json()["detail"]


def test_only_the_tasked_district_answers_and_readers_never_write(h: Harness) -> None:
    target, decision = _ready(h)
    tasking_id = issue(h, target, decision).json()["id"]
    wychavon = {"role": "district_coordinator", "org": "wychavon-dc", "district": "wychavon"}
    assert h.client.post(f"/tasking/taskings/{tasking_id}/accept", json={"expected_version": 1},
                         headers=headers(h, wychavon)).status_code == 403
    for role in ("auditor", "scrutiny_member"):
        assert h.client.post(f"/tasking/taskings/{tasking_id}/accept", json={"expected_version": 1},
                             headers=h.headers(role)).status_code == 403
        assert issue_as(h, role, target, decision).status_code == 403
    other_group = {"role": "theme_group_lead", "org": "nhs-worcestershire", "theme_group": "health-theme-group"}
    assert h.client.post(f"/tasking/taskings/{tasking_id}/withdraw",
                         json={"expected_version": 1, "reason": "not ours", "decision": decision},
                         headers=headers(h, other_group)).status_code == 403


def issue_as(h: Harness, role: str, target: Any, decision: dict[str, Any]) -> Any:
    return h.client.post("/tasking/taskings", json={
        "target_id": str(target), "district": "worcester", "share": "1", "deadline": "2013-03-31",
        "lead_partner": "worcester-city-council", "decision": decision}, headers=h.headers(role))


def test_a_stale_version_is_refused(h: Harness) -> None:
    target, decision = _ready(h)
    tasking_id = issue(h, target, decision).json()["id"]
    assert h.client.post(f"/tasking/taskings/{tasking_id}/accept", json={},
                         headers={**headers(h, WORCESTER), "If-Match": "1"}).status_code == 200
    stale = h.client.post(f"/tasking/taskings/{tasking_id}/decline", json={"expected_version": 1, "reason": "late"},
                          headers=headers(h, WORCESTER))
    assert stale.status_code == 409 and stale.json()["type"].endswith("stale-version")


def test_a_retried_issue_with_the_same_idempotency_key_returns_the_first_tasking(h: Harness) -> None:
    target, decision = _ready(h)
    first = issue(h, target, decision, key="pstg-2011-05-worcester")
    again = issue(h, target, decision, key="pstg-2011-05-worcester")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    allocation = h.client.get(f"/tasking/targets/{target}/allocation", headers=h.headers("auditor")).json()
    assert allocation["tasked"] == "1200"


def test_moving_part_of_a_share_needs_a_decision_reference_and_keeps_the_total(h: Harness) -> None:
    target, decision = _ready(h)
    tasking_id = issue(h, target, decision).json()["id"]
    move = {"expected_version": 1, "district": "wychavon", "lead_partner": "wychavon-dc", "share": "200",
            "decision": {**decision, "reference": None}}
    no_reference = h.client.post(f"/tasking/taskings/{tasking_id}/transfer", json=move, headers=headers(h, PSTG_LEAD))
    assert no_reference.status_code == 422
    move["decision"] = decision
    moved = h.client.post(f"/tasking/taskings/{tasking_id}/transfer", json=move, headers=headers(h, PSTG_LEAD))
    assert moved.status_code == 201, moved.text
    assert moved.json()["retasked"]["version"] == 2
    new = h.client.get(f"/tasking/taskings/{moved.json()['issued']['id']}", headers=h.headers("auditor")).json()
    assert (new["district"], new["share"], new["retasked_from"]) == ("wychavon", "200", tasking_id)
    allocation = h.client.get(f"/tasking/targets/{target}/allocation", headers=h.headers("auditor")).json()
    assert allocation["tasked"] == "1200" and len(allocation["taskings"]) == 2


def test_a_partner_officer_sees_its_own_commitments_only(h: Harness) -> None:
    target, decision = _ready(h)
    tasking_id = issue(h, target, decision).json()["id"]
    city = h.headers("partner_officer", "worcester-city-council")
    mine = h.client.get("/tasking/commitments", headers=city).json()
    assert [t["id"] for t in mine["lead_of"]] == [tasking_id]
    assert h.client.get(f"/tasking/taskings/{tasking_id}", headers=city).status_code == 200
    college = h.headers("partner_officer", "worcester-college")
    assert h.client.get(f"/tasking/taskings/{tasking_id}", headers=college).status_code == 403
    assert h.client.get("/tasking/commitments?organisation=worcester-city-council",
                        headers=college).status_code == 403


def test_two_leads_cannot_both_give_the_last_shares_at_the_same_time(h: Harness) -> None:
    target, decision = _ready(h)
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda n: issue(h, target, decision, share=2000).status_code, range(4)))
    assert sorted(answers) == [201, 201, 201, 409]
    allocation = h.client.get(f"/tasking/targets/{target}/allocation", headers=h.headers("auditor")).json()
    assert allocation["tasked"] == "6000"


def test_the_openapi_document_lists_the_tasking_endpoints(h: Harness) -> None:
    paths = h.client.get("/tasking/openapi.json").json()["paths"]
    assert {"/taskings", "/taskings/{tasking_id}/retask", "/taskings/{tasking_id}/transfer", "/memberships",
            "/meetings", "/meetings/{meeting_id}/actions"} <= set(paths)


def test_a_command_on_a_tasking_loads_it_once_to_authorize_and_decide(h: Harness,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    target, decision = _ready(h)
    tasking_id = issue(h, target, decision).json()["id"]
    application = h.system.application("tasking")
    loads: list[Any] = []
    real = application.tasking

    def counted(wanted: Any) -> Any:  # the real load, counted
        loads.append(wanted)
        return real(wanted)

    monkeypatch.setattr(application, "tasking", counted)
    wychavon = {"role": "district_coordinator", "org": "wychavon-dc", "district": "wychavon"}
    assert h.client.post(f"/tasking/taskings/{tasking_id}/accept", json={"expected_version": 1},
                         headers=headers(h, wychavon)).status_code == 403
    assert len(loads) == 1  # refused on the aggregate it loaded, before any use case ran
    accepted = h.client.post(f"/tasking/taskings/{tasking_id}/accept", json={"expected_version": 1},
                             headers=headers(h, WORCESTER))
    assert accepted.status_code == 200, accepted.text
    assert len(loads) == 2  # authorized and accepted on one load
