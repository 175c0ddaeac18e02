"""Erasure by design (#16 part 5): a person's subject id and name live only in the people vault; events, topics,
read models, answers and exports hold their pseudonym, role and organisation, and their free text sealed. After
``audit erase`` (and again after a read-model rebuild) nothing anywhere holds the subject or the name, their texts
read ``[redacted]``, and ``audit verify`` is clean. On SQLite with the embedded log, on real PostgreSQL, and on
PostgreSQL with real Kafka (every record of every topic searched)."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from services.cli import cli
from services.reporting.rebuild import TOPICS, rebuild
from services.tasking.domain import DATA_PROTECTION_REGISTER_ID
from shared.audit.people import REDACTED
from shared.contracts.audit import CHECKPOINTS_TOPIC
from shared.settings import Settings
from tests.harness import Harness, running_system, settings_env, settings_for, wait_until
from tests.integration.test_tasking_steps import (
    MAY,
    PSTG_PRESENT,
    headers,
    meeting,
    pstg_decision,
    seat_the_tables,
    set_target_through_priorities,
    wait_target_known,
)

pytestmark = pytest.mark.integration

SUBJECT = "f3a9c2e1-priya-subject"
NAME = "Priya Sharma-Okonkwo"
PRIYA = {"role": "theme_group_lead", "org": "worcestershire-cc", "theme_group": "pstg", "user": SUBJECT,
         "name": NAME}
REASON = f"As {NAME} proposed: Worcester's share of the county jobs target"
NEEDLES = (SUBJECT, NAME, "Priya")

WALK = """
query($id: ID!) {
  history(aggregateId: $id) { version type actor { userId name organisation role } decision { reason body } }
  taskings { id district share decision { reason body } }
  decisionLog { nodes { aggregateId recordedBy { userId name organisation role } decision { reason body } } }
  changes(from: "2000-01-01T00:00:00Z") { nodes { label before after changedBy { userId name organisation role }
                                                 decisions { reason } } }
}
"""


def _stores(settings: Settings) -> list[tuple[str, str, Any]]:
    """Every text and binary value in every table of every store (as text): (table, column, value)."""
    found: list[tuple[str, str, Any]] = []
    if settings.database_url:
        with psycopg.connect(settings.database_url) as conn:
            tables = conn.execute("SELECT table_schema, table_name FROM information_schema.tables WHERE "
                                  "table_schema LIKE %s", (settings.schema_prefix + "%",)).fetchall()
            for schema, table in tables:
                for (row,) in conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t').fetchall():
                    found.append((f"{schema}.{table}", "*", row))
        return found
    for path in sorted(Path(settings.data_dir).glob("*.sqlite3")):
        with sqlite3.connect(path) as conn:
            for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
                for row in conn.execute(f'SELECT * FROM "{table}"').fetchall():
                    found.extend((f"{path.name}:{table}", "*", value) for value in row)
    return found


def _holding(settings: Settings, needles: tuple[str, ...]) -> list[str]:
    """Where any needle occurs, as text or as the bytes (and hex) a binary column keeps."""
    places = []
    for table, _, value in _stores(settings):
        if isinstance(value, bytes | memoryview):
            raw = bytes(value)
            hit = any(n.encode() in raw for n in needles)
        else:
            text = str(value)
            hit = any(n in text or n.encode().hex() in text for n in needles)
        if hit:
            places.append(table)
    return sorted(set(places))


def _walk(h: Harness, tasking_id: str) -> dict[str, Any]:
    answer = h.graphql(WALK, {"id": tasking_id})
    assert not answer.get("errors"), answer
    return answer["data"]  # type: ignore[no-any-return]


def _priya_acts(h: Harness) -> str:
    target_id = set_target_through_priorities(h)
    wait_target_known(h, target_id)
    seat_the_tables(h)
    decision = pstg_decision(meeting(h, "pstg", MAY, PSTG_PRESENT, PRIYA), MAY, REASON, "PSTG/2011/05/3")
    response = h.client.post("/tasking/taskings", json={
        "target_id": str(target_id), "district": "worcester", "share": "1200", "deadline": "2013-03-31",
        "lead_partner": "worcester-city-council", "commissioning_level": "district", "decision": decision,
    }, headers=headers(h, PRIYA))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _topic_records(h: Harness) -> list[bytes]:
    """Every record on every topic the system wrote (events, dead letters, checkpoints), from the start."""
    transport, settings = h.system.transport, h.system.settings
    values: list[bytes] = []
    for name in (*TOPICS, "reporting.dlq", CHECKPOINTS_TOPIC):
        topic = settings.topic(name)
        partitions = transport.partitions(topic)
        if not partitions:
            continue
        end = sum(transport.end_offsets(topic).values())
        reader = transport.reader(topic, dict.fromkeys(partitions, 0))
        try:
            read = 0
            while read < end and (batch := reader.poll_values(500, 2.0)):
                read += len(batch)
                values.extend(value for _, _, value in batch)
        finally:
            reader.close()
    return values


def _pack(h: Harness) -> str:
    response = h.client.get("/reports/scrutiny", params={"from": "2011-01-01", "to": "2011-12-31"},
                            headers=h.headers("auditor"))
    assert response.status_code == 200, response.text
    return response.text


@pytest.fixture(params=["sqlite", "postgres", "kafka"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "kafka":
        return settings_for(data_dir=tmp_path, postgres_url=request.getfixturevalue("postgres_url"),
                            kafka=request.getfixturevalue("kafka_bootstrap"))
    if request.param == "postgres":  # the vault through its own setting (here the same server and database)
        url = request.getfixturevalue("postgres_url")
        return settings_for(data_dir=tmp_path, postgres_url=url, people_database_url=url)
    return settings_for(data_dir=tmp_path)


def test_after_erasure_and_a_rebuild_nothing_holds_the_persons_id_or_name(settings: Settings) -> None:
    runner = CliRunner()
    env = settings_env(settings)
    with running_system(settings) as h:
        tasking_id = _priya_acts(h)
        seen = wait_until(lambda: (d := _walk(h, tasking_id))["history"] and d, what="reporting to see the tasking")
        actor = seen["history"][0]["actor"]
        assert actor["name"] == NAME and actor["userId"].startswith("person:")
        assert (actor["organisation"], actor["role"]) == ("worcestershire-cc", "theme_group_lead")
        assert seen["history"][0]["decision"]["reason"] == REASON
        logged = [n for n in seen["decisionLog"]["nodes"] if n["aggregateId"] == tasking_id]
        assert [(n["recordedBy"]["name"], n["decision"]["reason"]) for n in logged] == [(NAME, REASON)]
        # By design, before any erasure: only the vault's people row holds who Priya is.
        assert {p.split(":")[-1].split(".")[-1] for p in _holding(settings, NEEDLES)} == {"people"}, \
            _holding(settings, NEEDLES)
        assert h.client.get(f"/tasking/taskings/{tasking_id}", headers=headers(h, PRIYA)).json()["decision"][
            "reason"] == REASON  # the service itself reads its text opened
        assert REASON.replace("'", "&#x27;") in _pack(h)  # a pack shows the decision's reason while it stands
        records = _topic_records(h)
        assert records and not [r for r in records if any(n.encode() in r for n in NEEDLES)]

        untokened = runner.invoke(cli, ["audit", "erase", SUBJECT, "--reason", "DP-40"], env=env)
        assert untokened.exit_code == 2 and "signed-in partnership officer" in untokened.output
        env = {**env, "PARTNERSHIP_TOKEN": h.token("partnership_officer", user="dpo-7")}
        unknown = runner.invoke(cli, ["audit", "erase", "nobody-at-all", "--reason", "DP-41"], env=env)
        assert unknown.exit_code == 1 and "no personal data of 'nobody-at-all'" in unknown.output
        erased = runner.invoke(cli, ["audit", "erase", SUBJECT, "--reason", "erasure request DP-42"], env=env)
        assert erased.exit_code == 0, erased.output
        listed = runner.invoke(cli, ["audit", "erasures"], env=env)  # the erasure is kept as a decision
        assert listed.exit_code == 0 and "decided by the officer under county-officer-data-protection on" in \
            listed.output
        assert "erasure request DP-42" in listed.output and "1 texts redacted" in listed.output

        # The erasure is a decision in tasking's chained log, and reaches the decision log like any other.
        erasure = wait_until(lambda: [n for n in _walk(h, tasking_id)["decisionLog"]["nodes"]
                                      if n["aggregateId"] == str(DATA_PROTECTION_REGISTER_ID)],
                             what="reporting to see the erasure's decision")
        assert [(n["recordedBy"]["role"], n["decision"]["reason"]) for n in erasure] == [
            ("partnership_officer", "erasure request DP-42")]
        assert _holding(settings, NEEDLES) == []
        after = _walk(h, tasking_id)
        assert after["history"][0]["actor"]["name"] is None
        assert after["history"][0]["actor"]["role"] == "theme_group_lead"
        assert after["history"][0]["decision"]["reason"] == REDACTED
        assert not any(n in json.dumps(after) for n in NEEDLES)
        assert REDACTED in _pack(h) and not any(n in _pack(h) for n in NEEDLES)
        assert h.client.get(f"/tasking/taskings/{tasking_id}", headers=headers(h, PRIYA)).json()["decision"][
            "reason"] == REDACTED

        report = rebuild(settings, h.system.transport, "reporting_rebuild", progress=False)
        assert report.events > 0
        assert _holding(settings, NEEDLES) == []
        assert not [r for r in _topic_records(h) if any(n.encode() in r for n in NEEDLES)]
        exported = runner.invoke(cli, ["audit", "export"], env=env)
        assert exported.exit_code == 0, exported.output
        assert not any(n in exported.output for n in NEEDLES)
    verified = runner.invoke(cli, ["audit", "verify"], env=env)
    assert verified.exit_code == 0, verified.output
    again = runner.invoke(cli, ["audit", "erase", str(uuid.uuid4()), "--reason", "DP-43"], env=env)
    assert again.exit_code == 1
