"""The first decision end to end: an officer adds an SCS objective and GraphQL shows it with who added it.

Once over real Kafka and PostgreSQL with the web app, the relay and the projection as separate processes,
once through the embedded default (one process, SQLite, embedded log).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.auth import TokenService
from tests.harness import TEST_SECRET, Process, free_port, running_system, settings_env, settings_for, wait_until

OBJECTIVES = "{ objectives { id title level changedBy { userId organisation role } decision { body reason } } }"
NEW_OBJECTIVE = {
    "title": "Safer communities for everyone",
    "level": "scs",
    "strategy": "Sustainable Community Strategy",
}
BOARD = "worcestershire-partnership"
BOARD_TABLE = ["worcestershire-cc", "nhs-worcestershire", "west-mercia-police", "hw-fire", "chamber-of-commerce"]


def _tokens() -> TokenService:
    return TokenService(TEST_SECRET, "partnership", "partnership-api")


def _bearer(role: str, org: str = "worcestershire-cc", user: str = "officer-17") -> dict[str, str]:
    return {"authorization": f"Bearer {_tokens().mint(user, org, [role])}"}


def _objectives(client: httpx.Client, url: str) -> list[dict[str, Any]]:
    response = client.post(url, json={"query": OBJECTIVES}, headers=_bearer("scrutiny_member"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    result: list[dict[str, Any]] = body["data"]["objectives"]
    return result


@pytest.fixture
def distributed(tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> Iterator[tuple[str, str, str]]:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)
    env = settings_env(settings)
    web_port, gateway_port, tasking_port = free_port(), free_port(), free_port()
    processes = [
        Process(["serve", "priorities", "--port", str(web_port), "--host", "127.0.0.1"], env, tmp_path / "web.log"),
        Process(["worker", "priorities"], env, tmp_path / "relay.log"),
        # Tasking records the board's meeting the decision is taken at; priorities hears of it on tasking.events.
        Process(["serve", "tasking", "--port", str(tasking_port), "--host", "127.0.0.1"], env,
                tmp_path / "tasking-web.log"),
        Process(["worker", "tasking"], env, tmp_path / "tasking-relay.log"),
        Process(["worker", "reporting"], env, tmp_path / "projection.log"),
        Process(["gateway", "--port", str(gateway_port), "--host", "127.0.0.1"], env, tmp_path / "gateway.log"),
    ]
    web, gateway = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{gateway_port}/graphql"
    tasking = f"http://127.0.0.1:{tasking_port}"

    def up(url: str) -> bool:
        try:
            return httpx.get(url, timeout=1).status_code < 500
        except httpx.HTTPError:
            return False

    try:
        wait_until(lambda: up(f"{web}/healthz") and up(f"{gateway}?query=%7B__typename%7D")
                   and up(f"{tasking}/healthz"), 60, "processes up")
        yield web, gateway, tasking
    finally:
        for process in processes:
            process.terminate()


@pytest.mark.e2e
@pytest.mark.integration
def test_an_objective_added_through_the_api_reaches_graphql_over_kafka_and_postgres(
        distributed: tuple[str, str, str]) -> None:
    web, gateway, tasking = distributed
    officer = _bearer("partnership_officer")
    with httpx.Client(timeout=10) as client:
        for organisation in BOARD_TABLE:
            seated = client.post(f"{tasking}/tasking/memberships", headers=officer, json={
                "body": BOARD, "organisation": organisation, "joined_on": "2010-04-01"})
            assert seated.status_code == 201, seated.text
        meeting = client.post(f"{tasking}/tasking/meetings", headers=officer, json={
            "body": BOARD, "held_on": "2011-03-01", "present": BOARD_TABLE, "title": "Partnership board"})
        assert meeting.status_code == 201, meeting.text
        decision = {"body": BOARD, "decided_on": "2011-03-01", "reason": "Agreed at the board",
                    "meeting_id": meeting.json()["id"], "meeting_version": meeting.json()["meeting_version"]}
        # 503 (retry) until the meeting's event reached priorities over Kafka, then created.
        response = wait_until(lambda: (r := client.post(f"{web}/priorities/objectives", headers=officer, json={
            **NEW_OBJECTIVE, "decision": decision})).status_code != 503 and r, 60, "priorities to know the meeting")
        assert response.status_code == 201, response.text
        objective_id = response.json()["id"]
        found = wait_until(
            lambda: [o for o in _objectives(client, gateway) if o["id"] == objective_id], 30, "the projection"
        )
    assert found[0]["title"] == "Safer communities for everyone"
    changed_by = dict(found[0]["changedBy"])
    assert changed_by.pop("userId").startswith("person:")  # the people vault's pseudonym, never the subject
    assert changed_by == {"organisation": "worcestershire-cc", "role": "partnership_officer"}
    assert found[0]["decision"] == {"body": "worcestershire-partnership", "reason": "Agreed at the board"}


@pytest.mark.e2e
@pytest.mark.integration
def test_bad_input_is_refused_over_the_distributed_api(distributed: tuple[str, str, str]) -> None:
    web, _, _ = distributed
    with httpx.Client(timeout=10) as client:
        malformed = client.post(f"{web}/priorities/objectives",
                                json={**NEW_OBJECTIVE, "level": "galactic", "title": ""},
                                headers=_bearer("partnership_officer"))
        no_token = client.post(f"{web}/priorities/objectives", json=NEW_OBJECTIVE)
        wrong_role = client.post(f"{web}/priorities/objectives", json=NEW_OBJECTIVE, headers=_bearer("auditor"))
    assert malformed.status_code == 422
    assert malformed.headers["content-type"] == "application/problem+json"
    # every problem at once: the bad level and title, and the decision an objective now needs
    assert {e["field"] for e in malformed.json()["errors"]} == {"level", "title", "decision"}
    assert no_token.status_code == 401
    assert no_token.json()["type"].endswith("unauthenticated")
    assert wrong_role.status_code == 403
    assert "partnership_officer" in wrong_role.json()["detail"]


@pytest.mark.e2e
def test_the_embedded_default_runs_the_same_slice_in_one_process(tmp_path: Path) -> None:
    with running_system(settings_for(data_dir=tmp_path)) as h:
        assert h.system.load_demo_data()

        def titles() -> list[str]:
            body = h.graphql("{ objectives { title } }")
            return [o["title"] for o in body["data"]["objectives"]]

        wait_until(lambda: "A skilled and prosperous economy" in titles(), 10, "the demo's SCS objective")
        board = h.decision(BOARD, "2011-03-01", "Agreed at the board")
        response = h.client.post("/priorities/objectives", json={**NEW_OBJECTIVE, "decision": board},
                                 headers=h.headers("partnership_officer"))
        assert response.status_code == 201, response.text
        wait_until(lambda: "Safer communities for everyone" in titles(), 10, "the new objective")


@pytest.mark.e2e
def test_embedded_data_survives_a_restart(tmp_path: Path) -> None:
    settings = settings_for(data_dir=tmp_path)
    with running_system(settings) as h:
        h.system.load_demo_data()
        consumers = h.system.consumers

        def caught_up() -> bool:
            return all(sum(c.resume_positions().values()) == sum(h.system.transport.end_offsets(c.topic).values())
                       for c in consumers)

        wait_until(caught_up, 30, "every consumer to catch up with the demo data")
        before = h.graphql("{ objectives { id title } }")["data"]["objectives"]
        assert before
    with running_system(settings) as h:
        assert not h.system.load_demo_data()  # loaded once, never twice
        assert h.graphql("{ objectives { id title } }")["data"]["objectives"] == before
