"""Commands that tell the truth, in every service and in both stores (SQLite embedded, real PostgreSQL): a reused
Idempotency-Key with another body is refused, If-Match and expected_version must agree, a record's GET carries its
version as an ETag, and every field problem of a body is reported at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from tests.harness import Harness, quorate_table, running_system, settings_for

JOBS_TARGET = {"metric": "new private-sector jobs", "unit": "jobs", "baseline_value": 0,
               "baseline_date": "2011-04-01", "target_value": 6000, "deadline": "2016-03-31",
               "data_source": "ONS Business Register and Employment Survey", "owner_organisation": "worcestershire-cc"}


STORES = ["embedded", pytest.param("postgres", marks=pytest.mark.integration)]


def _system(request: pytest.FixtureRequest, tmp_path: Path, *services: str) -> Iterator[Harness]:
    postgres_url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url)
    with running_system(settings, services=services) as harness:
        yield harness


@pytest.fixture(params=STORES)
def h(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    yield from _system(request, tmp_path, "priorities", "tasking")  # tasking records the meetings decisions name


@pytest.fixture(params=STORES)
def tasking(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    yield from _system(request, tmp_path, "tasking")


def _officer(h: Harness, key: str | None = None) -> dict[str, str]:
    headers = h.headers("partnership_officer")
    return {**headers, "Idempotency-Key": key} if key else headers


def _objective(h: Harness) -> str:
    created = h.client.post("/priorities/objectives", headers=_officer(h), json={
        "title": "A skilled and prosperous economy", "level": "scs", "strategy": "Sustainable Community Strategy",
        "decision": h.board_decision()})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _pstg(h: Harness) -> dict[str, Any]:
    return h.decision("pstg", "2011-04-12", "Set by the Place Shaping Theme Group", known_to=("priorities",))


def _target(h: Harness) -> dict[str, Any]:
    created = h.client.post("/priorities/targets", headers=_officer(h),
                            json={**JOBS_TARGET, "objective_id": _objective(h), "decision": _pstg(h)})
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def test_an_idempotency_key_reused_with_another_body_is_refused_and_writes_nothing(h: Harness) -> None:
    objective_id = _objective(h)
    first = h.client.post("/priorities/targets", headers=_officer(h, "jobs-1"),
                          json={**JOBS_TARGET, "objective_id": objective_id, "decision": _pstg(h)})
    assert first.status_code == 201, first.text
    other = h.client.post("/priorities/targets", headers=_officer(h, "jobs-1"),
                          json={**JOBS_TARGET, "objective_id": objective_id, "target_value": 5000,
                                "decision": _pstg(h)})
    assert other.status_code == 422, other.text
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["type"].endswith(":idempotency-key-reused")
    stored = h.client.get(f"/priorities/targets/{first.json()['id']}", headers=_officer(h)).json()
    assert stored["target_value"] == "6000" and stored["version"] == 1


def test_the_same_key_with_the_same_body_replays_the_first_answer_whatever_its_spacing(h: Harness) -> None:
    objective_id = _objective(h)
    body = {**JOBS_TARGET, "objective_id": objective_id, "decision": _pstg(h)}
    first = h.client.post("/priorities/targets", headers=_officer(h, "jobs-2"), json=body)
    reordered = dict(reversed(list(body.items())))
    again = h.client.post("/priorities/targets", headers={**_officer(h, "jobs-2"), "Content-Type": "application/json"},
                          content=__import__("json").dumps(reordered, indent=2))
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()


def test_a_key_used_on_another_path_is_refused(h: Harness) -> None:
    objective = {"title": "Jobs", "level": "scs", "strategy": "Sustainable Community Strategy",
                 "decision": h.board_decision()}
    first = h.client.post("/priorities/objectives", headers=_officer(h, "k-3"), json=objective)
    assert first.status_code == 201, first.text
    # Another kind derives another id: a key is scoped by what it creates, so this is a first request.
    target = h.client.post("/priorities/targets", headers=_officer(h, "k-3"),
                           json={**JOBS_TARGET, "objective_id": first.json()["id"], "decision": _pstg(h)})
    assert target.status_code == 201, target.text
    assert h.client.post("/priorities/objectives", headers=_officer(h, "k-3"),
                         json={**objective, "title": "Skills"}).status_code == 422


def test_tasking_refuses_a_reused_meeting_key_too(tasking: Harness) -> None:
    # The rule lives in shared: the tasking service (another id layout, a create saving two aggregates) keeps it.
    present = quorate_table("pstg")
    for organisation in present:
        tasking.seat("pstg", organisation)
    keyed = {**tasking.headers("partnership_officer"), "Idempotency-Key": "pstg-2011-04-12"}
    meeting = {"body": "pstg", "held_on": "2011-04-12", "present": present, "title": "PSTG"}
    first = tasking.client.post("/tasking/meetings", headers=keyed, json=meeting)
    again = tasking.client.post("/tasking/meetings", headers=keyed, json=meeting)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    other = tasking.client.post("/tasking/meetings", headers=keyed, json={**meeting, "held_on": "2011-04-13"})
    assert other.status_code == 422, other.text
    assert other.json()["type"].endswith(":idempotency-key-reused")
    assert date.fromisoformat(tasking.client.get(f"/tasking/meetings/{first.json()['id']}", headers=keyed)
                              .json()["held_on"]) == date(2011, 4, 12)


def test_if_match_and_expected_version_that_disagree_are_refused(h: Harness) -> None:
    target = _target(h)
    revision = {**JOBS_TARGET, "target_value": 5000, "decision": _pstg(h)}
    url = f"/priorities/targets/{target['id']}/revise"
    revised = h.client.post(url, headers={**_officer(h), "If-Match": '"1"'}, json=revision)
    assert revised.status_code == 200, revised.text
    # A stale If-Match is no longer hidden by a body naming the current version.
    both = h.client.post(url, headers={**_officer(h), "If-Match": '"1"'}, json={**revision, "expected_version": 2})
    assert both.status_code == 422, both.text
    assert both.json()["type"].endswith(":version-disagreement")
    assert {e["field"] for e in both.json()["errors"]} == {"If-Match", "expected_version"}
    assert h.client.post(url, headers={**_officer(h), "If-Match": "three"},
                         json={**revision, "expected_version": 2}).status_code == 422
    agreeing = h.client.post(url, headers={**_officer(h), "If-Match": '"2"'},
                             json={**revision, "target_value": 4000, "expected_version": 2})
    assert agreeing.status_code == 200, agreeing.text
    assert agreeing.json()["version"] == 3


def test_a_record_answers_with_its_version_as_etag_and_if_none_match_gives_304(h: Harness) -> None:
    target = _target(h)
    url = f"/priorities/targets/{target['id']}"
    read = h.client.get(url, headers=_officer(h))
    assert read.status_code == 200 and read.headers["etag"] == '"1"'
    assert read.headers["content-length"] == str(len(read.content))
    unchanged = h.client.get(url, headers={**_officer(h), "If-None-Match": read.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged.headers["etag"] == '"1"'
    revised = h.client.post(f"/priorities/targets/{target['id']}/revise",
                            headers={**_officer(h), "If-Match": read.headers["etag"]},
                            json={**JOBS_TARGET, "target_value": 5000, "decision": _pstg(h)})
    assert revised.status_code == 200, revised.text
    changed = h.client.get(url, headers={**_officer(h), "If-None-Match": '"1"'})
    assert changed.status_code == 200 and changed.headers["etag"] == '"2"'
    assert changed.json()["target_value"] == "5000"


def test_every_field_problem_of_a_body_is_reported_at_once(h: Harness) -> None:
    body = {**JOBS_TARGET, "objective_id": _objective(h), "deadline": "soon", "baseline_value": "many",
            "colour": "red", "decision": _pstg(h)}
    del body["metric"]
    refused = h.client.post("/priorities/targets", headers=_officer(h), json=body)
    assert refused.status_code == 422, refused.text
    assert {e["field"] for e in refused.json()["errors"]} == {"metric", "deadline", "baseline_value", "colour"}


def test_a_different_request_that_loses_the_race_for_its_key_is_refused_too(
        h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    objective_id = _objective(h)
    first = h.client.post("/priorities/targets", headers=_officer(h, "jobs-race"),
                          json={**JOBS_TARGET, "objective_id": objective_id, "decision": _pstg(h)})
    assert first.status_code == 201, first.text
    # The second request looks before the first has committed (it sees nothing), then meets its write on saving.
    application = h.system.application("priorities")
    found = application._find
    unseen = {UUID(first.json()["id"])}

    def before_the_commit(aggregate_id: UUID, cls: type[Any]) -> Any:
        if aggregate_id in unseen:
            unseen.discard(aggregate_id)
            return None
        return found(aggregate_id, cls)

    monkeypatch.setattr(application, "_find", before_the_commit)
    late = h.client.post("/priorities/targets", headers=_officer(h, "jobs-race"),
                         json={**JOBS_TARGET, "objective_id": objective_id, "target_value": 7000,
                               "decision": _pstg(h)})
    assert late.status_code == 422, late.text
    assert late.json()["type"].endswith(":idempotency-key-reused")
    assert not unseen  # the race was run
    assert h.client.get(f"/priorities/targets/{first.json()['id']}", headers=_officer(h)).json()["version"] == 1
