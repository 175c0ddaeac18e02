"""Crypto-shredding on real PostgreSQL: after a person is erased, verify still passes, the export shows their
details as erased, and the decisions they took stay attributed to them by role and organisation."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from typer.testing import CliRunner

from services.audit.auditor import Auditor
from services.cli import cli
from services.priorities.application import PersonalDetails, PrioritiesApplication
from services.runtime import make_tokens, service_specs
from services.tasking.domain import DATA_PROTECTION_REGISTER_ID
from shared.contracts import Actor
from shared.contracts.priorities import StrategyLevel
from shared.errors import RuleViolated
from shared.eventstore import CommandContext
from shared.settings import Settings
from tests.copies import board_meeting
from tests.harness import BOARD_DAY, settings_env, settings_for

pytestmark = pytest.mark.integration

SIGNING_KEY = "a1" * 32
OFFICER = CommandContext(Actor("officer-17", "worcestershire-cc", "partnership_officer"), "corr-officer")
COORDINATOR = CommandContext(Actor("coordinator-3", "worcester-city-council", "district_coordinator"), "corr-coord")


def test_an_erased_persons_details_read_as_erased_while_the_history_still_verifies(
        tmp_path: Path, postgres_url: str) -> None:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, audit_signing_key=SIGNING_KEY,
                            audit_checkpoint_every=0)
    app = PrioritiesApplication(settings)
    objective = app.add_objective(OFFICER, title="a skilled and prosperous economy", level=StrategyLevel.SCS,
                                  strategy="scs",
                                  decision=board_meeting(app.local, BOARD_DAY, "Adopted by the board"))
    board = board_meeting(app.local, date(2011, 4, 12), "Sharper wording", reference="PSTG/2011/04")
    app.reword_objective(OFFICER, objective.id, expected_version=1, title="a skilled, prosperous economy",
                         decision=board)
    evidence = app.submit_evidence(
        COORDINATOR, district="worcester", title="Jobseekers in Worcester",
        summary="2,300 people claim Jobseeker's Allowance", source="DWP", evidence_date=date(2011, 3, 1),
        objective_ids=[objective.id],
        contact=PersonalDetails(person_id="officer-17", name="Alice Example", email="alice@example.org",
                                phone="01905 000000"))
    assert app.checkpointer.checkpoint() is not None
    assert settings.database_url
    with psycopg.connect(settings.database_url) as conn:  # only ciphertext is stored
        states = conn.execute(f"SELECT state FROM {settings.schema_prefix}priorities.priorities_events").fetchall()
    assert not any(b"Alice" in bytes(s) or b"alice@" in bytes(s) for (s,) in states)

    before = _export(settings, evidence.id)
    assert before[0]["data"]["contact"] == {"person_id": "officer-17", "erased": False, "name": "Alice Example",
                                            "email": "alice@example.org", "phone": "01905 000000"}

    scrutiny = make_tokens(settings).mint("member-4", "worcester-city-council", ["scrutiny_member"])
    refused = CliRunner().invoke(cli, ["audit", "erase", "officer-17", "--reason", "DP-42", "--token", scrutiny],
                                 env=settings_env(settings))
    assert refused.exit_code == 2 and "Only the partnership officer erases" in refused.output
    assert _export(settings, evidence.id)[0]["data"]["contact"]["erased"] is False  # refused: nothing erased

    dpo = make_tokens(settings).mint("dpo-1", "worcestershire-cc", ["partnership_officer"])
    result = CliRunner().invoke(cli, ["audit", "erase", "officer-17", "--reason", "erasure request DP-42",
                                      "--reference", "DP-42", "--token", dpo], env=settings_env(settings))
    assert result.exit_code == 0, result.output
    assert "recorded in tasking's log: data-protection register" in result.output
    [erasure] = _export(settings, DATA_PROTECTION_REGISTER_ID)  # the erasure is a decision in the chained log
    assert erasure["type"] == "tasking.PersonalDataErased.v1"
    assert erasure["data"]["redacted_texts"] == 2 and erasure["data"]["contact_details_in"] == ["priorities"]
    assert [p.startswith("person:") for p in erasure["data"]["pseudonyms"]] == [True]
    assert erasure["decision"]["delegation"] == "county-officer-data-protection"
    assert erasure["decision"]["body"] == "worcestershire-partnership"
    assert erasure["decision"]["reference"] == "DP-42"
    assert erasure["actor"]["role"] == "partnership_officer"
    assert "officer-17" not in json.dumps(erasure) and "dpo-1" not in json.dumps(erasure)
    decisions = CliRunner().invoke(cli, ["audit", "decisions"], env=settings_env(settings))
    # The erasure's delegated decision resolves (this test's priorities decisions cite meetings kept only in
    # priorities' own copy, which the whole-system check cannot find in tasking: those are the only ones listed).
    unresolved = [json.loads(line) for line in decisions.output.splitlines() if line.startswith("{")]
    assert unresolved and {u["service"] for u in unresolved} == {"priorities"}, decisions.output

    contact = _export(settings, evidence.id)[0]["data"]["contact"]
    assert contact == {"person_id": "officer-17", "erased": True, "name": "[erased]", "email": "[erased]",
                       "phone": "[erased]"}
    reworded = _export(settings, objective.id)[1]
    pseudonym = reworded["actor"].pop("user_id")  # events never held the subject: the vault's pseudonym
    assert pseudonym.startswith("person:")
    assert reworded["actor"] == {"name": None, "organisation": "worcestershire-cc", "role": "partnership_officer",
                                 "erased": True}
    assert reworded["decision"]["reference"] == "PSTG/2011/04"
    history = Auditor(settings, service_specs(), services=("priorities",))
    try:
        words = history.history(objective.id)[1]["text"]
        assert "by an erased person (partnership_officer, worcestershire-cc)" in words
        assert all(report.ok for report in history.verify())
    finally:
        history.close()
    verified = CliRunner().invoke(cli, ["audit", "verify"], env={**settings_env(settings),
                                                                 "PARTNERSHIP_AUDIT_SIGNING_KEY": SIGNING_KEY})
    assert verified.exit_code == 0, verified.output

    with pytest.raises(RuleViolated):  # an erased person's details are not recorded again
        app.submit_evidence(COORDINATOR, district="worcester", title="More",
                            summary="More", source="DWP", evidence_date=date(2011, 3, 2),
                            objective_ids=[objective.id], contact=PersonalDetails(person_id="officer-17", name="A"))
    app.close()


def _export(settings: Settings, aggregate_id: UUID) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["audit", "export", "--aggregate", str(aggregate_id)],
                                env=settings_env(settings))
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
