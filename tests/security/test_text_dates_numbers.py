"""Text, dates and numbers at entry (``shared/fields.py``): control characters and bidi overrides are refused with a
422 naming the field, text is stored in NFC, a date is a date, a huge number is refused. Each was accepted before."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.harness import Harness, wait_until

OBJECTIVE = {"level": "scs", "strategy": "Sustainable Community Strategy"}
TARGET = {"metric": "new private-sector jobs", "unit": "jobs", "baseline_value": "0", "baseline_date": "2011-04-01",
          "target_value": "6000", "deadline": "2016-03-31", "data_source": "ONS",
          "owner_organisation": "worcestershire-cc"}


def _officer(h: Harness) -> dict[str, str]:
    return h.headers("partnership_officer")


def _refused(response: Any, field: str, code: str | None = None) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert field in [e["field"] for e in errors], errors
    if code is not None:
        assert code in [e["code"] for e in errors if e["field"] == field], errors


@pytest.mark.parametrize("title", ["Safer\x00communities", "Safer\u202ecommunities", "Safer\u2066communities",
                                   "Safer\x1bcommunities", "Safer\x85communities", "Safer\x7fcommunities",
                                   "Safer\tcommunities", "Safer\ncommunities", "Safer\ud800communities"])
def test_a_title_with_a_control_character_or_a_bidi_override_is_refused_naming_the_field(
        harness: Harness, title: str) -> None:
    # Sent escaped (``\\ud800``): a lone surrogate can only arrive as a JSON escape.
    response = harness.client.post("/priorities/objectives", content=json.dumps({"title": title, **OBJECTIVE}),
                                   headers={**_officer(harness), "content-type": "application/json"})
    # (a lone surrogate is refused by pydantic itself, as ``string_unicode``)
    _refused(response, "title", None if "\ud800" in title else "text_character")


def test_a_reason_may_run_over_lines_but_carries_no_other_control_character(harness: Harness) -> None:
    h = harness
    objective = h.client.post("/priorities/objectives", headers=_officer(h), json={"title": "Lines", **OBJECTIVE,
                                                                     "decision": h.board_decision()})
    assert objective.status_code == 201, objective.text
    decision = {"body": "partnership-board", "decided_on": "2011-04-01", "reason": "First line\r\n\tsecond\x00"}
    refused = h.client.post(f"/priorities/objectives/{objective.json()['id']}/reword", headers=_officer(h),
                            json={"title": "Lines reworded", "decision": decision, "expected_version": 1})
    _refused(refused, "decision.reason", "text_character")


def test_text_is_stored_in_nfc_and_the_direction_marks_are_kept(harness: Harness) -> None:
    h = harness
    title = "Cafe\u0301 culture \u200fin Worcester"  # e + combining acute; a right-to-left mark
    created = h.client.post("/priorities/objectives", headers=_officer(h), json={"title": title, **OBJECTIVE,
                                                                     "decision": h.board_decision()})
    assert created.status_code == 201, created.text
    found = wait_until(lambda: [o for o in h.graphql("{ objectives { id title } }")["data"]["objectives"]
                                if o["id"] == created.json()["id"]], what="the objective in the read model")
    assert found[0]["title"] == "Caf\u00e9 culture \u200fin Worcester"


@pytest.mark.parametrize("deadline", [1458000000, 1458000000.0, "1458000000", "2016-3-31", "31/03/2016", True])
def test_a_date_is_a_date_not_a_number(harness: Harness, deadline: Any) -> None:
    h = harness
    objective = h.client.post("/priorities/objectives", headers=_officer(h), json={"title": "Dated", **OBJECTIVE,
                                                                     "decision": h.board_decision()})
    response = h.client.post("/priorities/targets", headers=_officer(h),
                             json={**TARGET, "objective_id": objective.json()["id"], "deadline": deadline})
    _refused(response, "deadline", "date_format")


@pytest.mark.parametrize("value", ["1e999999", "-1e999999", "1e-999999", "1e18", "1e15", "Infinity", "NaN"])
def test_a_huge_number_is_refused_at_entry(harness: Harness, value: Any) -> None:
    h = harness
    objective = h.client.post("/priorities/objectives", headers=_officer(h), json={"title": "Huge", **OBJECTIVE,
                                                                     "decision": h.board_decision()})
    response = h.client.post("/priorities/targets", headers=_officer(h),
                             json={**TARGET, "objective_id": objective.json()["id"], "target_value": value})
    _refused(response, "target_value")


def test_a_huge_number_written_in_the_json_itself_is_refused(harness: Harness) -> None:
    h = harness
    objective = h.client.post("/priorities/objectives", headers=_officer(h), json={"title": "Literal", **OBJECTIVE,
                                                                     "decision": h.board_decision()})
    body = ('{{"objective_id": "{}", "metric": "jobs", "unit": "jobs", "baseline_value": 0, "baseline_date": '
            '"2011-04-01", "target_value": 1e999999, "deadline": "2016-03-31", "data_source": "ONS", '
            '"owner_organisation": "worcestershire-cc"}}').format(objective.json()["id"])
    response = h.client.post("/priorities/targets", content=body,
                             headers={**_officer(h), "content-type": "application/json"})
    _refused(response, "target_value")
    whole = h.client.post(f"/priorities/objectives/{objective.json()['id']}/reword", headers=_officer(h),
                          json={"title": "x", "expected_version": 10**30,
                                "decision": {"body": "partnership-board", "decided_on": "2011-04-01",
                                             "reason": "Reworded"}})
    _refused(whole, "expected_version")


def test_a_body_that_is_not_utf8_is_refused_as_a_problem(harness: Harness) -> None:
    response = harness.client.post("/priorities/objectives", content=b'{"title": "Caf\xe9", "level": "scs"}',
                                   headers={**_officer(harness), "content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("body-not-readable") and "UTF-8" in response.json()["detail"]


def test_a_bulk_upload_row_keeps_the_same_rules_for_dates_and_text() -> None:
    from services.projects.bulk import parse_csv, parse_json

    header = "project_id,reported_on,outcome_id,value,narrative\n"
    project = "0b6f9a52-5d1e-4c5e-9a43-0e1f3c2b7d11"
    [basic, timestamp, nul] = parse_csv(header + f"{project},20130401,jobs,1,ok\n{project},1364774400,jobs,1,ok\n"
                                        f"{project},2013-04-01,jobs,1,bad\x00 narrative\n")
    assert "reported_on is not a date (YYYY-MM-DD)." in basic.reasons and basic.reported_on is None
    assert "reported_on is not a date (YYYY-MM-DD)." in timestamp.reasons
    assert any(r.startswith("narrative: the text may not contain it") for r in nul.reasons)
    [number] = parse_json(json.dumps([{"project_id": project, "reported_on": 20130401, "values": {"jobs": 1},
                                       "narrative": "ok"}]))
    assert "reported_on is not a date (YYYY-MM-DD)." in number.reasons


def test_a_title_holding_a_sealed_text_copied_from_a_topic_is_refused(harness: Harness) -> None:
    # Topics carry reasons sealed; pasted into a title, a reader would open it where its own field is not shown.
    copied = "sealed:v1:0123456789abcdef0123456789abcdef:" + "A" * 40
    response = harness.client.post("/priorities/objectives", headers=_officer(harness),
                                   json={"title": f"Jobs {copied}", **OBJECTIVE, "decision": harness.board_decision()})
    _refused(response, "title", "text_character")
