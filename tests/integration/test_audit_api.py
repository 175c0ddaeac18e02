"""The auditor's REST endpoints and GraphQL fields, in the embedded mode: verification and history for the
auditor role only."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.audit.api import create_api
from services.audit.auditor import Auditor
from services.cli import cli
from services.runtime import service_specs
from tests.harness import running_system, settings_env, settings_for

PSTG = {"body": "pstg", "decided_on": "2011-04-12", "reason": "Sharper wording"}


def test_auditors_verify_and_read_history_over_rest_and_graphql(tmp_path: Path) -> None:
    settings = settings_for(data_dir=tmp_path, audit_signing_key="c3" * 32)
    with running_system(settings, services=("priorities", "reporting")) as h:
        created = h.client.post("/priorities/objectives", headers=h.headers("partnership_officer"),
                                json={"title": "a skilled and prosperous economy", "level": "scs", "strategy": "scs"})
        assert created.status_code == 201, created.text
        objective_id = created.json()["id"]
        reworded = h.client.post(f"/priorities/objectives/{objective_id}/reword",
                                 headers=h.headers("partnership_officer"),
                                 json={"title": "a skilled, prosperous economy", "expected_version": 1,
                                       "decision": PSTG})
        assert reworded.status_code == 200, reworded.text

        answer = h.graphql("{ auditVerification { intact firstBadEvent services { service events } } }")
        assert answer["data"]["auditVerification"]["intact"] is True
        assert {"service": "priorities", "events": 2} in answer["data"]["auditVerification"]["services"]
        history = h.graphql(f'{{ auditHistory(aggregateId: "{objective_id}") }}')["data"]["auditHistory"]
        assert [e["version"] for e in history] == [1, 2] and history[1]["decision"]["body"] == "pstg"
        refused = h.graphql("{ auditVerification { intact } }", role="partnership_officer")
        assert refused["errors"][0]["message"] == "Only an auditor may verify the event stores."

        auditor = Auditor(settings, service_specs())
        try:
            rest = TestClient(create_api(auditor, h.system.tokens))
            verified = rest.get("/verify", headers=h.headers("auditor"))
            assert verified.status_code == 200 and verified.json()["intact"] is True
            entries = rest.get(f"/history/{objective_id}", headers=h.headers("auditor")).json()
            assert "decided by pstg on 2011-04-12: Sharper wording" in entries[1]["text"]
            assert rest.get("/verify", headers=h.headers("scrutiny_member")).status_code == 403
            assert rest.get(f"/history/{objective_id}").status_code == 401
        finally:
            auditor.close()


def test_replay_and_state_answer_as_the_partnership_stood_before_a_change(tmp_path: Path) -> None:
    settings = settings_for(data_dir=tmp_path)
    with running_system(settings, services=("priorities",), workers=False) as h:
        created = h.client.post("/priorities/objectives", headers=h.headers("partnership_officer"),
                                json={"title": "a skilled and prosperous economy", "level": "scs", "strategy": "scs"})
        objective_id = created.json()["id"]
        h.client.post(f"/priorities/objectives/{objective_id}/reword", headers=h.headers("partnership_officer"),
                      json={"title": "a skilled, prosperous economy", "expected_version": 1, "decision": PSTG})
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
