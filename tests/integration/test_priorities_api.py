"""The priorities REST API in the embedded mode (SQLite, embedded log): authorization by role and district,
optimistic concurrency, idempotency keys, problem+json refusals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Harness, running_system, settings_for, wait_until

PSTG_REASON = "Set by the Place Shaping Theme Group"
JOBS_TARGET = {"metric": "new private-sector jobs", "unit": "jobs", "baseline_value": 0,
               "baseline_date": "2011-04-01", "target_value": 6000, "deadline": "2016-03-31",
               "data_source": "ONS Business Register and Employment Survey", "owner_organisation": "worcestershire-cc"}


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    with running_system(settings_for(data_dir=tmp_path), services=("priorities", "tasking", "reporting")) as harness:
        yield harness


def alliance(h: Harness) -> dict[str, Any]:
    """A decision of the Worcester Alliance (the district partnership), at its recorded quorate meeting."""
    return h.decision("worcester", "2011-05-18", "Agreed by the board")


def pstg(h: Harness) -> dict[str, Any]:
    return h.decision("pstg", "2011-04-12", PSTG_REASON)


def board(h: Harness) -> dict[str, Any]:
    return h.decision("worcestershire-partnership", "2011-04-20", "The partnership board opens the SCS review")


SIFTED = {"body": "worcestershire-partnership", "decided_on": "2011-05-20", "reason": "Sifted by the officer",
          "delegation": "county-officer-evidence-and-release"}
"""Sifting evidence is the partnership officer's under the county scheme of delegation (no meeting)."""


def officer(h: Harness) -> dict[str, str]:
    return h.headers("partnership_officer")


def coordinator(h: Harness, district: str = "worcester") -> dict[str, str]:
    return h.headers("district_coordinator", "worcester-city-council", district=district)


def _objective(h: Harness) -> str:
    scs = h.client.post("/priorities/objectives", headers=officer(h), json={
        "title": "A skilled and prosperous economy", "level": "scs", "strategy": "Sustainable Community Strategy",
        "decision": h.board_decision()})
    assert scs.status_code == 201, scs.text
    jobs = h.client.post("/priorities/objectives", headers=officer(h), json={
        "title": "Create jobs in the private sector", "level": "county_strategy",
        "strategy": "County Economic Strategy", "parent_id": scs.json()["id"], "decision": pstg(h)})
    assert jobs.status_code == 201, jobs.text
    return str(jobs.json()["id"])


def _propose(h: Harness, objective_id: str, title: str, district: str = "worcester") -> dict[str, Any]:
    response = h.client.post(f"/priorities/districts/{district}/priorities", headers=coordinator(h, district),
                             json={"title": title, "rationale": "Local evidence", "objective_id": objective_id})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_an_incoherent_target_is_refused_with_a_message_per_problem(h: Harness) -> None:
    objective_id = _objective(h)
    response = h.client.post("/priorities/targets", headers=officer(h), json={
        **JOBS_TARGET, "objective_id": objective_id, "unit": "widgets", "target_value": 0,
        "deadline": "2011-01-01", "owner_organisation": "", "decision": pstg(h)})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = sorted(e["field"] for e in response.json()["errors"])
    assert fields == ["deadline", "owner_organisation", "target_value", "unit"]


def test_a_retried_create_with_the_same_idempotency_key_returns_the_first_result(h: Harness) -> None:
    objective_id = _objective(h)
    headers = {**officer(h), "Idempotency-Key": "set-jobs-target-1"}
    body = {**JOBS_TARGET, "objective_id": objective_id, "decision": pstg(h)}
    first = h.client.post("/priorities/targets", headers=headers, json=body)
    again = h.client.post("/priorities/targets", headers=headers, json=body)
    other = h.client.post("/priorities/targets", headers={**officer(h), "Idempotency-Key": "another"},
                          json={**JOBS_TARGET, "objective_id": objective_id, "decision": pstg(h)})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert other.json()["id"] != first.json()["id"]


def test_revising_a_target_needs_the_current_version(h: Harness) -> None:
    objective_id = _objective(h)
    target = h.client.post("/priorities/targets", headers=officer(h),
                           json={**JOBS_TARGET, "objective_id": objective_id, "decision": pstg(h)}).json()
    revision = {**JOBS_TARGET, "target_value": 5000, "decision": pstg(h)}
    revised = h.client.post(f"/priorities/targets/{target['id']}/revise", headers={**officer(h), "If-Match": '"1"'},
                            json=revision)
    assert revised.status_code == 200, revised.text
    assert revised.json()["version"] == 2
    stale = h.client.post(f"/priorities/targets/{target['id']}/revise", headers=officer(h),
                          json={**revision, "target_value": 4000, "expected_version": 1})
    assert stale.status_code == 409
    assert stale.json()["type"].endswith("stale-version")
    assert h.client.get(f"/priorities/targets/{target['id']}", headers=h.headers("auditor")).json()[
        "target_value"] == "5000"


def test_auditors_and_scrutiny_members_read_but_never_write(h: Harness) -> None:
    objective_id = _objective(h)
    for role in ("auditor", "scrutiny_member"):
        headers = h.headers(role)
        assert h.client.get(f"/priorities/objectives/{objective_id}", headers=headers).status_code == 200
        writes = [
            h.client.post("/priorities/targets", headers=headers,
                          json={**JOBS_TARGET, "objective_id": objective_id, "decision": pstg(h)}),
            h.client.post(f"/priorities/objectives/{objective_id}/retire", headers=headers,
                          json={"decision": pstg(h), "expected_version": 1}),
            h.client.post("/priorities/districts/worcester/priorities", headers=headers,
                          json={"title": "t", "rationale": "r", "objective_id": objective_id}),
            h.client.post("/priorities/reviews", headers=headers, json={"decision": board(h)}),
        ]
        assert [w.status_code for w in writes] == [403, 403, 403, 403]


def test_a_coordinator_acts_only_for_the_district_in_their_token(h: Harness) -> None:
    objective_id = _objective(h)
    elsewhere = h.client.post("/priorities/districts/worcester/priorities", headers=coordinator(h, "redditch"),
                              json={"title": "Jobs", "rationale": "r", "objective_id": objective_id})
    assert elsewhere.status_code == 403
    priority = _propose(h, objective_id, "Jobs in the city centre")
    agree = h.client.post(f"/priorities/priorities/{priority['id']}/agree", headers=coordinator(h, "redditch"),
                          json={"decision": alliance(h), "expected_version": 1})
    assert agree.status_code == 403
    officer_agree = h.client.post(f"/priorities/priorities/{priority['id']}/agree", headers=officer(h),
                                  json={"decision": alliance(h), "expected_version": 1})
    assert officer_agree.status_code == 403


def test_a_sixth_priority_is_refused_naming_the_five_and_retiring_one_frees_a_place(h: Harness) -> None:
    objective_id = _objective(h)
    agreed = []
    for n in range(5):
        priority = _propose(h, objective_id, f"Priority {n + 1}")
        response = h.client.post(f"/priorities/priorities/{priority['id']}/agree", headers=coordinator(h),
                                 json={"decision": alliance(h), "expected_version": 1})
        assert response.status_code == 200, response.text
        agreed.append(priority)
    sixth = _propose(h, objective_id, "A sixth priority")
    refused = h.client.post(f"/priorities/priorities/{sixth['id']}/agree", headers=coordinator(h),
                            json={"decision": alliance(h), "expected_version": 1})
    assert refused.status_code == 409
    body = refused.json()
    assert all(f"'Priority {n + 1}'" in body["detail"] for n in range(5))
    assert [p["title"] for p in body["current_priorities"]] == [f"Priority {n + 1}" for n in range(5)]

    retired = h.client.post(f"/priorities/priorities/{agreed[0]['id']}/retire", headers=coordinator(h),
                            json={"decision": alliance(h), "expected_version": 2})
    assert retired.status_code == 200, retired.text
    now = h.client.post(f"/priorities/priorities/{sixth['id']}/agree", headers=coordinator(h),
                        json={"decision": alliance(h), "expected_version": 1})
    assert now.status_code == 200, now.text
    chapter = h.client.get("/priorities/districts/worcester/chapter", headers=h.headers("scrutiny_member")).json()
    assert [p["title"] for p in chapter["agreed"]] == ["Priority 2", "Priority 3", "Priority 4", "Priority 5",
                                                       "A sixth priority"]
    assert chapter["limit"] == 5


def test_an_scs_review_closes_only_when_every_priority_is_reconfirmed_or_retired(h: Harness) -> None:
    objective_id = _objective(h)
    keep, drop = _propose(h, objective_id, "Keep"), _propose(h, objective_id, "Drop")
    for priority in (keep, drop):
        assert h.client.post(f"/priorities/priorities/{priority['id']}/agree", headers=coordinator(h),
                             json={"decision": alliance(h), "expected_version": 1}).status_code == 200
    review = h.client.post("/priorities/reviews", headers=officer(h), json={"decision": board(h)})
    assert review.status_code == 201, review.text
    review_id = review.json()["id"]
    assert sorted(review.json()["outstanding"]) == sorted([keep["id"], drop["id"]])
    early = h.client.post(f"/priorities/reviews/{review_id}/close", headers=officer(h),
                          json={"decision": board(h), "expected_version": 1})
    assert early.status_code == 409
    assert h.client.post(f"/priorities/priorities/{keep['id']}/reconfirm", headers=coordinator(h),
                         json={"decision": alliance(h), "expected_version": 2}).status_code == 200
    assert h.client.post(f"/priorities/priorities/{drop['id']}/retire", headers=coordinator(h),
                         json={"decision": alliance(h), "expected_version": 2}).status_code == 200
    closed = h.client.post(f"/priorities/reviews/{review_id}/close", headers=officer(h),
                           json={"decision": board(h), "expected_version": 3})
    assert closed.status_code == 200, closed.text
    reviews = wait_until(lambda: (r := h.graphql("{ scsReviews { number status outstanding } }")["data"][
        "scsReviews"]) and r[0]["status"] == "closed" and r, what="the closed review in GraphQL")
    assert reviews == [{"number": 1, "status": "closed", "outstanding": []}]


def test_evidence_is_submitted_by_a_district_and_sifted_by_the_county(h: Harness) -> None:
    objective_id = _objective(h)
    submitted = h.client.post("/priorities/districts/worcester/evidence", headers=coordinator(h), json={
        "title": "Claimant count", "summary": "Up by a third", "source": "ONS", "evidence_date": "2011-04-14",
        "figures": [{"label": "claimants", "value": 2300, "unit": "people"}], "objective_ids": [objective_id]})
    assert submitted.status_code == 201, submitted.text
    evidence_id = submitted.json()["id"]
    by_district = h.client.post(f"/priorities/evidence/{evidence_id}/note", headers=coordinator(h),
                                json={"reason": "mine", "expected_version": 1, "decision": SIFTED})
    assert by_district.status_code == 403
    noted = h.client.post(f"/priorities/evidence/{evidence_id}/note", headers=officer(h),
                          json={"reason": "Covered by the county survey", "expected_version": 1,
                                "decision": SIFTED})
    assert noted.status_code == 200, noted.text
    query = f'{{ evidence(objectiveId: "{objective_id}") {{ status statusReason figures {{ value }} }} }}'
    rows = wait_until(lambda: (e := h.graphql(query)["data"]["evidence"]) and e[0]["status"] == "noted" and e,
                      what="the sifted evidence in GraphQL")
    assert rows == [{"status": "noted", "statusReason": "Covered by the county survey",
                     "figures": [{"value": "2300"}]}]


def test_rewording_and_retiring_objectives_show_in_the_tree_with_their_history(h: Harness) -> None:
    objective_id = _objective(h)
    reworded = h.client.post(f"/priorities/objectives/{objective_id}/reword", headers=officer(h),
                             json={"title": "Create 6,000 private-sector jobs", "decision": pstg(h),
                                   "expected_version": 1})
    assert reworded.status_code == 200, reworded.text
    no_decision = h.client.post(f"/priorities/objectives/{objective_id}/retire", headers=officer(h),
                                json={"expected_version": 2})
    assert no_decision.status_code == 422
    query = "{ objectiveTree { title children { title status version decision { reason } } } }"
    tree = wait_until(lambda: (t := h.graphql(query)["data"]["objectiveTree"]) and t[0]["children"]
                      and t[0]["children"][0]["version"] == 2 and t, what="the reworded objective")
    assert tree[0]["children"][0]["title"] == "Create 6,000 private-sector jobs"
    assert tree[0]["children"][0]["decision"]["reason"] == PSTG_REASON


def test_a_decision_by_no_such_body_at_a_bogus_meeting_is_refused_naming_the_field(h: Harness) -> None:
    objective_id = _objective(h)
    priority = _propose(h, objective_id, "Jobs in the city centre")
    made_up = {"body": "no-such-body", "decided_on": "2011-05-18", "reason": "Agreed", "meeting_id": "bogus",
               "meeting_version": 1}
    agree = h.client.post(f"/priorities/priorities/{priority['id']}/agree", headers=coordinator(h),
                          json={"decision": made_up, "expected_version": 1})
    assert agree.status_code == 422, agree.text
    assert agree.headers["content-type"].startswith("application/problem+json")
    assert (agree.json()["type"], agree.json()["errors"][0]["field"]) == (
        "urn:partnership:problem:unknown-body", "decision.body")
    target = h.client.post("/priorities/targets", headers=officer(h),
                           json={**JOBS_TARGET, "objective_id": objective_id, "decision": pstg(h)}).json()
    revise = h.client.post(f"/priorities/targets/{target['id']}/revise", headers=officer(h), json={
        **JOBS_TARGET, "target_value": 5000, "expected_version": 1, "decision": {**made_up, "body": "pstg"}})
    assert revise.status_code == 422, revise.text
    assert (revise.json()["type"], revise.json()["errors"][0]["field"]) == (
        "urn:partnership:problem:meeting-not-held", "decision.meeting_id")
    assert h.client.get(f"/priorities/priorities/{priority['id']}", headers=h.headers("auditor")).json()[
        "status"] == "proposed"
