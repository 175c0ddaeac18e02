"""``partnership audit reconcile`` finds every kind of difference between the stores, the topics and the read
models (the oracle of the fault and load suites must itself be shown to see faults). Embedded mode: fast."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from services.audit.reconcile import reconcile
from services.cli import cli
from tests.harness import running_system, settings_env, settings_for, wait_until


def _reconcile_cli(env: dict[str, str]) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(cli, ["audit", "reconcile", "--json"], env=env)
    return result.exit_code, json.loads(result.stdout)


def test_reconcile_passes_on_a_converged_system_and_names_each_planted_difference(tmp_path: Path) -> None:
    settings = settings_for(data_dir=tmp_path)
    env = settings_env(settings)
    with running_system(settings) as h:
        assert h.system.load_demo_data()
        adopted = h.board_decision()  # its meeting reaches priorities while the workers run
        report = wait_until(lambda: (r := reconcile(settings)).ok and r, 30, "the demo data to converge")
        assert report.counts["events"]["tasking"] > 0
        code, body = _reconcile_cli(env)
        assert code == 0 and body["ok"] is True, body
        h.system.stop_workers()

        # 1. A command accepted while the relay is stopped: stored, not yet published, applied nowhere.
        created = h.client.post("/priorities/objectives", headers=h.headers("partnership_officer"),
                                json={"title": "Unpublished", "level": "scs", "strategy": "SCS",
                                      "decision": adopted})
        assert created.status_code == 201
        unpublished = created.json()["id"]
        # 2. A read model tampered with in five ways.
        store = h.system.read_model.store  # type: ignore[union-attr]
        dropped = store.query("SELECT subject, version, type FROM event_log WHERE type LIKE 'tasking.%' LIMIT 1")[0]
        objective = store.query("SELECT * FROM objectives LIMIT 1")[0]
        with store.transaction() as tx:
            tx.execute("DELETE FROM event_log WHERE subject = ? AND version = ?",
                       (dropped["subject"], dropped["version"]))
            tx.execute("UPDATE event_counts SET n = n + 1 WHERE type = ?", (dropped["type"],))
            tx.execute("INSERT INTO objectives (id, version, title, level, strategy, parent_id, status, status_reason,"
                       " changed_by, changed_by_organisation, changed_by_role, decision, added_at, valid_from,"
                       " valid_to, in_force_from) VALUES (?, 99, 'x', 'scs', 'x', NULL, 'active', NULL, 'u', 'o',"
                       " 'r', NULL, 'x', 'x', NULL, 'x')", (objective["id"],))
            tx.execute("DELETE FROM seen_events WHERE consumer = 'reporting' AND subject = ?", (objective["id"],))
            # ... and a segment of one day doubled (an entity has a current segment per day, one each)
            segment = store.query("SELECT * FROM objectives_in_force WHERE valid_to IS NULL LIMIT 1")[0]
            tx.execute(f"INSERT INTO objectives_in_force ({', '.join(segment)})"
                       f" VALUES ({', '.join('?' for _ in segment)})", tuple(segment.values()))
        # 3. A good event dead-lettered, and a different event under an existing id and version on a topic.
        topic = settings.topic("priorities.events")
        reader = h.system.transport.reader(topic, {})
        message = wait_until(lambda: list(reader.poll(1, 0.2)), 10, "a message")[0]
        reader.close()
        forged = json.loads(message.value)
        forged["actor"] = "somebody-else"
        publisher = h.system.transport.publisher()
        publisher.publish(settings.topic("reporting.dlq"), message.key, message.value)
        publisher.publish(topic, message.key, json.dumps(forged).encode())
        publisher.flush()
        publisher.close()

    code, body = _reconcile_cli(env)
    assert code == 1
    found = {(d["where"], d["what"].split(" ", 1)[1] if d["what"][0].isdigit() else d["what"])
             for d in body["differences"]}  # type: ignore[attr-defined]
    text = json.dumps(body["differences"])
    assert ("priorities.events (topic)", "stored event(s) never published") in found
    assert unpublished in text
    assert any(w.startswith("relay ") and "lags the store" in what for w, what in found)
    assert ("priorities.events", "one event published twice with different content") in found
    assert ("priorities.events (topic)", "aggregate(s) whose events differ from the store's") in found
    assert ("reporting event_log", "event(s) missing") in found and dropped["subject"] in text
    assert any(w == "reporting event_counts" for w, _ in found)
    assert ("reporting objectives", "row(s) for a version no store holds") in found
    assert ("reporting objectives", "entit(ies) with several current rows") in found
    assert ("reporting objectives_in_force", "entit(ies) with several current segments on a day") in found
    assert any(w.startswith("consumer reporting") and what == "event(s) never applied" for w, what in found)
    assert ("dead-letter topics", "good event(s) dead-lettered") in found
