"""The auditor's REST endpoints and GraphQL fields, in the embedded mode: verification and history for the
auditor role only."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.audit.api import create_api
from services.audit.auditor import Auditor
from services.cli import cli
from services.runtime import service_specs
from tests.copies import board_decision
from tests.harness import running_system, settings_env, settings_for, wait_until


def board(h: Any) -> dict[str, Any]:
    """The board's decision (an SCS objective is the board's): at a meeting recorded in tasking where it runs,
    else fed into priorities' copy (nothing else writes to it while no workers run)."""
    if "tasking" in h.system.applications:
        return h.decision("worcestershire-partnership", date(2011, 4, 12), "Sharper wording")
    return board_decision(h.system.application("priorities").local, date(2011, 4, 12), "Sharper wording")


def test_auditors_verify_and_read_history_over_rest_and_graphql(tmp_path: Path) -> None:
    settings = settings_for(data_dir=tmp_path, audit_signing_key="c3" * 32)
    with running_system(settings, services=("priorities", "tasking", "reporting")) as h:
        created = h.client.post("/priorities/objectives", headers=h.headers("partnership_officer"),
                                json={"title": "a skilled and prosperous economy", "level": "scs", "strategy": "scs",
                                      "decision": h.board_decision()})
        assert created.status_code == 201, created.text
        objective_id = created.json()["id"]
        reworded = h.client.post(f"/priorities/objectives/{objective_id}/reword",
                                 headers=h.headers("partnership_officer"),
                                 json={"title": "a skilled, prosperous economy", "expected_version": 1,
                                       "decision": board(h)})
        assert reworded.status_code == 200, reworded.text

        answer = h.graphql("{ auditVerification { intact firstBadEvent services { service events } } }")
        assert answer["data"]["auditVerification"]["intact"] is True
        assert {"service": "priorities", "events": 2} in answer["data"]["auditVerification"]["services"]
        history = h.graphql(f'{{ auditHistory(aggregateId: "{objective_id}") }}')["data"]["auditHistory"]
        assert [e["version"] for e in history] == [1, 2]
        assert history[1]["decision"]["body"] == "worcestershire-partnership"
        refused = h.graphql("{ auditVerification { intact } }", role="partnership_officer")
        assert refused["errors"][0]["message"] == "Only an auditor or a scrutiny member may verify the event stores."

        auditor = Auditor(settings, service_specs())
        try:
            rest = TestClient(create_api(auditor, h.system.tokens))
            verified = rest.get("/verify", headers=h.headers("auditor"))
            assert verified.status_code == 200 and verified.json()["intact"] is True
            entries = rest.get(f"/history/{objective_id}", headers=h.headers("auditor")).json()
            assert "decided by worcestershire-partnership on 2011-04-12" in entries[1]["text"]
            assert rest.get("/verify", headers=h.headers("scrutiny_member")).status_code == 403
            assert rest.get(f"/history/{objective_id}").status_code == 401
        finally:
            auditor.close()


def test_replay_and_state_answer_as_the_partnership_stood_before_a_change(tmp_path: Path) -> None:
    settings = settings_for(data_dir=tmp_path)
    with running_system(settings, services=("priorities",), workers=False) as h:
        created = h.client.post("/priorities/objectives", headers=h.headers("partnership_officer"),
                                json={"title": "a skilled and prosperous economy", "level": "scs", "strategy": "scs",
                                      "decision": h.board_decision()})
        objective_id = created.json()["id"]
        h.client.post(f"/priorities/objectives/{objective_id}/reword", headers=h.headers("partnership_officer"),
                      json={"title": "a skilled, prosperous economy", "expected_version": 1, "decision": board(h)})
    auditor = Auditor(settings, service_specs())
    try:
        first, second = auditor.history(UUID(objective_id))
        assert second["changes"] == {"title": {"from": "a skilled and prosperous economy",
                                               "to": "a skilled, prosperous economy"}}
        before = datetime.fromisoformat(first["time"])
        assert auditor.state(UUID(objective_id), before)["title"] == "a skilled and prosperous economy"
    finally:
        auditor.close()
    env = settings_env(settings)
    replayed = CliRunner().invoke(cli, ["audit", "replay", "--until", before.isoformat(),
                                        "--query", "{ objectives { title } }"], env=env)
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.output)["data"]["objectives"] == [{"title": "a skilled and prosperous economy"}]
    now = CliRunner().invoke(cli, ["audit", "replay", "--until", datetime.now(UTC).isoformat(),
                                   "--query", "{ objectives { title } }"], env=env)
    assert json.loads(now.output)["data"]["objectives"] == [{"title": "a skilled, prosperous economy"}]


def _proven(origin: str, aggregate_id: str, version: int, topic: str, state_b64: str, index: int, size: int,
            proof: list[str], note: str, public_key: str) -> bool:
    """What a reader does with a verified read: recompute the leaf from the stored bytes, check the proof against
    the checkpoint's root, and the checkpoint's signature against the published key."""
    from shared.audit.checkpoint import verifier_key
    from shared.audit.standalone import (
        event_hash,
        leaf_data,
        leaf_hash,
        open_checkpoint,
        split_state,
        verify_inclusion,
    )

    parts = split_state(base64.b64decode(state_b64))
    assert parts is not None
    prev, _, payload = parts
    leaf = leaf_hash(leaf_data(aggregate_id, version, event_hash(prev, aggregate_id, version, topic, payload)))
    head = open_checkpoint(note, [verifier_key(public_key, origin)])
    return head.size == size and verify_inclusion(index, size, leaf, [base64.b64decode(p) for p in proof], head.root)


def test_history_and_the_audit_endpoints_return_each_event_with_its_inclusion_proof(tmp_path: Path) -> None:
    from shared.audit.checkpoint import Cosigner, trusted_public_key

    witness = Cosigner(b"\x44" * 32, "internal-audit.invalid")
    settings = settings_for(data_dir=tmp_path, audit_signing_key="c4" * 32, audit_witness_keys=[str(witness.verifier)])
    public = trusted_public_key(settings)
    assert public is not None
    with running_system(settings, services=("priorities", "reporting"), workers=False) as h:
        decision = board(h)  # fed into priorities' copy before its workers (and checkpoints) write to the store
        h.system.start_workers()
        created = h.client.post("/priorities/objectives", headers=h.headers("partnership_officer"),
                                json={"title": "a skilled and prosperous economy", "level": "scs", "strategy": "scs",
                                      "decision": h.board_decision()})
        objective_id = created.json()["id"]
        h.client.post(f"/priorities/objectives/{objective_id}/reword", headers=h.headers("partnership_officer"),
                      json={"title": "a skilled, prosperous economy", "expected_version": 1, "decision": decision})
        h.system.application("priorities").checkpointer.checkpoint()

        proofs = h.client.get(f"/audit/proofs/{objective_id}", headers=h.headers("auditor")).json()
        assert [p["version"] for p in proofs] == [1, 2]
        for p in proofs:
            i = p["inclusion"]
            assert i["covered"] and _proven(p["origin"], objective_id, p["version"], p["topic"], p["state"],
                                            i["leaf_index"], i["tree_size"], i["proof"], i["checkpoint"], public)
        entries = h.client.get(f"/audit/history/{objective_id}?proofs=true", headers=h.headers("auditor")).json()
        assert [e["inclusion"]["leaf_index"] for e in entries] == [p["inclusion"]["leaf_index"] for p in proofs]

        def graphql_history() -> list[dict[str, Any]]:
            answer = h.graphql(f'{{ history(aggregateId: "{objective_id}") {{ version inclusionProof {{ covered '
                               'origin topic storedState leafIndex treeSize proof checkpoint } } }',
                               role="scrutiny_member")
            assert "errors" not in answer, answer
            entries: list[dict[str, Any]] = answer["data"]["history"]
            return entries

        history = wait_until(lambda: len(graphql_history()) == 2 and graphql_history(), what="the read model")
        for entry in history:
            p = entry["inclusionProof"]
            assert p["covered"] and _proven(p["origin"], objective_id, entry["version"], p["topic"], p["storedState"],
                                            p["leafIndex"], p["treeSize"], p["proof"], p["checkpoint"], public)

        # Cosignatures: only a witness may return one, only with a configured key, only of a checkpoint we signed.
        latest = h.client.get("/audit/checkpoints/priorities", headers=h.headers("witness")).json()[-1]
        text = latest["note"].split("\n\n")[0] + "\n"
        cosigned = latest["note"] + witness.cosign(text).line
        assert h.client.post("/audit/cosignatures", json={"note": cosigned},
                             headers=h.headers("auditor")).status_code == 403
        stranger = Cosigner(b"\x45" * 32, "someone-else.invalid")
        refused = h.client.post("/audit/cosignatures", json={"note": latest["note"] + stranger.cosign(text).line},
                                headers=h.headers("witness"))
        assert refused.status_code == 422 and "configured witness" in refused.json()["detail"]
        forged = cosigned.replace(f"\n{latest['tree_size']}\n", f"\n{latest['tree_size'] + 1}\n", 1)
        assert h.client.post("/audit/cosignatures", json={"note": forged},
                             headers=h.headers("witness")).status_code == 422
        assert h.client.post("/audit/cosignatures", json={"note": "not a note"},
                             headers=h.headers("witness")).status_code in (404, 422)
        kept = h.client.post("/audit/cosignatures", json={"note": cosigned}, headers=h.headers("witness"))
        assert kept.status_code == 201, kept.text
        assert kept.json()["kept"][0]["witness"] == "internal-audit.invalid"
        listed = h.client.get("/audit/checkpoints/priorities", headers=h.headers("auditor")).json()[-1]
        assert listed["cosignatures"] == [witness.cosign(text, kept.json()["kept"][0]["cosigned_at"]).line.rstrip()]
        consistency = h.client.get("/audit/consistency/priorities", params={"first": 1, "second": 2},
                                   headers=h.headers("witness"))
        assert consistency.status_code == 200 and len(consistency.json()["proof"]) == 1
        assert h.client.get("/audit/consistency/priorities", params={"first": 3, "second": 2},
                            headers=h.headers("witness")).status_code == 422
