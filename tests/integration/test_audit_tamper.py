"""Tamper evidence on real PostgreSQL: an edited byte, a deleted event, two swapped events and a consistently
rewritten chain are each found by ``audit verify``, naming the event; an untouched store verifies clean."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from typer.testing import CliRunner

from services.audit.auditor import Auditor
from services.cli import cli
from services.priorities.application import PrioritiesApplication
from shared.audit.chain import GENESIS, payload_of, seal
from shared.audit.verify import Problem
from shared.contracts import Actor, Decision
from shared.contracts.priorities import StrategyLevel
from shared.eventstore import CommandContext
from shared.settings import Settings
from tests.harness import settings_env, settings_for

pytestmark = pytest.mark.integration

SIGNING_KEY = "4f" * 32
OFFICER = CommandContext(Actor("officer-1", "worcestershire-cc", "partnership_officer"), "corr-tamper")
PSTG = Decision(body="pstg", decided_on=date(2011, 4, 12), reason="Reworded by the theme group")


@pytest.fixture
def store(tmp_path: Path, postgres_url: str) -> Iterator[tuple[Settings, list[UUID]]]:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, audit_signing_key=SIGNING_KEY,
                            audit_checkpoint_every=0)
    app = PrioritiesApplication(settings)
    ids = []
    for n in range(4):
        objective = app.add_objective(OFFICER, title=f"objective {n}", level=StrategyLevel.SCS, strategy="scs")
        for version in (1, 2):
            app.reword_objective(OFFICER, objective.id, expected_version=version, title=f"objective {n}.{version}",
                                 decision=PSTG)
        ids.append(objective.id)
    assert app.checkpointer.checkpoint() is not None  # the signed head an outsider holds
    app.close()
    yield settings, ids


def _problems(settings: Settings) -> list[Problem]:
    auditor = Auditor(settings, services=("priorities",))
    try:
        return auditor.verify("priorities")[0].problems
    finally:
        auditor.close()


def _sql(settings: Settings, statement: str, params: tuple[Any, ...] = ()) -> None:
    assert settings.database_url
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {settings.schema_prefix}priorities")
        conn.execute(statement, params)


def test_an_untouched_store_verifies_clean_and_the_cli_says_so(store: tuple[Settings, list[UUID]]) -> None:
    settings, _ = store
    assert _problems(settings) == []
    result = CliRunner().invoke(cli, ["audit", "verify", "--service", "priorities"], env=_env(settings))
    assert result.exit_code == 0, result.output
    assert "12 events in 4 aggregates, 1 signed checkpoints covering 12 events: intact" in result.output


def test_one_changed_byte_is_found_and_the_event_named(store: tuple[Settings, list[UUID]]) -> None:
    settings, ids = store
    _sql(settings, "UPDATE priorities_events SET state = set_byte(state, length(state) - 3,"
                   " get_byte(state, length(state) - 3) # 1) WHERE originator_id = %s AND originator_version = 2",
         (ids[1],))
    problems = _problems(settings)
    assert (problems[0].aggregate_id, problems[0].version) == (str(ids[1]), 2)
    assert "does not match" in problems[0].reason
    result = CliRunner().invoke(cli, ["audit", "verify"], env=_env(settings))
    assert result.exit_code == 1
    assert f"First bad event: priorities: event {ids[1]} version 2" in result.output


def test_a_deleted_event_is_found_and_named(store: tuple[Settings, list[UUID]]) -> None:
    settings, ids = store
    _sql(settings, "DELETE FROM priorities_events WHERE originator_id = %s AND originator_version = 2", (ids[2],))
    problems = _problems(settings)
    assert (problems[0].aggregate_id, problems[0].version) == (str(ids[2]), 2)
    assert "missing" in problems[0].reason


def test_two_swapped_events_are_found_and_named(store: tuple[Settings, list[UUID]]) -> None:
    settings, ids = store
    for old, new in ((2, -1), (3, 2), (-1, 3)):
        _sql(settings, "UPDATE priorities_events SET originator_version = %s"
                       " WHERE originator_id = %s AND originator_version = %s", (new, ids[0], old))
    problems = _problems(settings)
    assert problems[0].aggregate_id == str(ids[0]) and problems[0].version in (2, 3)


def test_a_consistently_rewritten_chain_is_found_by_the_signed_checkpoint(
        store: tuple[Settings, list[UUID]]) -> None:
    settings, ids = store
    assert settings.database_url
    with psycopg.connect(settings.database_url) as conn:
        conn.execute(f"SET search_path TO {settings.schema_prefix}priorities")
        rows = conn.execute("SELECT originator_version, topic, state FROM priorities_events"
                            " WHERE originator_id = %s ORDER BY originator_version", (ids[3],)).fetchall()
        prev = GENESIS
        for version, topic, state in rows:  # what a forger who knows docs/audit.md would do
            payload = payload_of(bytes(state)).replace(b"objective 3", b"objective 9")
            new_state, prev = seal(prev, ids[3], version, topic, payload)
            conn.execute("UPDATE priorities_events SET state = %s WHERE originator_id = %s"
                         " AND originator_version = %s", (new_state, ids[3], version))
    problems = _problems(settings)
    assert problems, "a rewritten chain must not verify"
    assert all("checkpoint" in p.reason for p in problems), [str(p) for p in problems]  # every chain link holds
    assert (problems[0].aggregate_id, problems[0].version) == (str(ids[3]), 1)


def _env(settings: Settings) -> dict[str, str]:
    return {**settings_env(settings), "PARTNERSHIP_AUDIT_SIGNING_KEY": SIGNING_KEY}
