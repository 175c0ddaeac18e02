"""Witnesses on real Kafka and PostgreSQL: two witnesses follow ``audit.checkpoints``, check each checkpoint's
consistency with the last they saw, cosign it and return the cosignature as clients with the witness role; the
service keeps them, and ``verify --witnesses 2`` holds. Then the database is rewritten, checkpoints and all, by
someone holding the signing key: both witnesses detect the forked tree head and refuse to cosign it."""

from __future__ import annotations

import base64
import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.audit.auditor import Auditor
from services.audit.witness import Witness
from services.runtime import make_transport, service_specs
from shared.audit.chain import GENESIS, payload_of, seal
from shared.audit.checkpoint import Cosigner, origin_of, trusted_public_key, verifier_key
from shared.contracts import Actor, Decision
from shared.contracts.audit import CHECKPOINTS_TOPIC
from shared.contracts.priorities import StrategyLevel
from shared.eventstore import CommandContext
from shared.settings import Settings
from tests.copies import board_meeting
from tests.harness import BOARD_DAY, running_system, settings_for, wait_until

pytestmark = pytest.mark.integration


def _board(app: Any) -> Decision:
    """The board's decision (an SCS objective is the board's), at a meeting fed into priorities' copy."""
    return board_meeting(app.local, date(2011, 4, 12), "Reworded by the board")

OFFICER = CommandContext(Actor("officer-1", "worcestershire-cc", "partnership_officer"), "corr-witness")
INTERNAL_AUDIT = Cosigner(b"\x11" * 32, "internal-audit.worcestershire.invalid")
COLLEGE = Cosigner(b"\x22" * 32, "audit.worcester-college.invalid")


def _verify(settings: Settings, witnesses: int) -> list[str]:
    auditor = Auditor(settings, service_specs(), services=("priorities",))
    try:
        return [str(p) for p in auditor.verify("priorities", witnesses=witnesses)[0].problems]
    finally:
        auditor.close()


def test_two_witnesses_cosign_over_kafka_and_both_detect_a_forked_tree_head(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap,
                            audit_checkpoint_interval=0.4,
                            audit_witness_keys=[str(INTERNAL_AUDIT.verifier), str(COLLEGE.verifier)])
    public = trusted_public_key(settings)
    assert public is not None
    log_key = verifier_key(public, origin_of(settings, "priorities"))
    with running_system(settings, services=("priorities", "reporting")) as h:
        app = h.system.application("priorities")
        witness_headers = h.headers("witness", org="worcestershire-internal-audit")

        def submit(note: str) -> None:
            response = h.client.post("/audit/cosignatures", json={"note": note}, headers=witness_headers)
            assert response.status_code == 201, response.text

        def proofs(service: str, first: int, second: int) -> list[bytes]:
            response = h.client.get(f"/audit/consistency/{service}", params={"first": first, "second": second},
                                    headers=witness_headers)
            assert response.status_code == 200, response.text
            return [base64.b64decode(p) for p in response.json()["proof"]]

        witnesses = [Witness(cosigner, tmp_path / cosigner.name, [log_key], proofs)
                     for cosigner in (INTERNAL_AUDIT, COLLEGE)]
        transports = [make_transport(settings) for _ in witnesses]
        stop = threading.Event()
        threads = [threading.Thread(target=w.follow, args=(t, settings.topic(CHECKPOINTS_TOPIC), stop, submit),
                                    daemon=True) for w, t in zip(witnesses, transports, strict=True)]
        for thread in threads:
            thread.start()
        try:
            adopted = board_meeting(app.local, BOARD_DAY, "Adopted by the partnership board")
            ids = [app.add_objective(OFFICER, title=f"objective {n}", level=StrategyLevel.SCS, strategy="scs",
                                     decision=adopted).id for n in range(3)]
            wait_until(lambda: all(w.logs.get(log_key.name) and w.logs[log_key.name].head.size == 3
                                   for w in witnesses), timeout=30, what="both witnesses cosigning tree size 3")
            app.reword_objective(OFFICER, ids[1], expected_version=1, title="objective 1, reworded",
                                 decision=_board(app))
            wait_until(lambda: all(w.logs[log_key.name].head.size == 4 for w in witnesses), timeout=30,
                       what="both witnesses cosigning tree size 4 (a consistency proof from 3)")
            wait_until(lambda: not _verify(settings, witnesses=2), timeout=30,
                       what="the service keeping both cosignatures")
            honest = {w.cosigner.name: w.logs[log_key.name].head for w in witnesses}
            assert honest[INTERNAL_AUDIT.name] == honest[COLLEGE.name]  # both saw the same head

            # The forger: rewrites an aggregate's chain, drops every checkpoint and signs the rewritten log anew.
            _rewrite(settings, ids[0])
            forged = app.checkpointer.checkpoint() or app.checkpointer.log.latest()  # or the timed loop signed it
            assert forged is not None and forged.tree_size == 4
            assert _verify(settings, witnesses=0) == []  # consistent with itself: verify alone cannot tell
            wait_until(lambda: all(w.forks for w in witnesses), timeout=30, what="both witnesses seeing the fork")
            for witness in witnesses:
                fork = witness.forks[0]
                assert (fork.seen, fork.offered.size) == (honest[witness.cosigner.name], 4)
                assert fork.offered.root != fork.seen.root
                assert witness.logs[log_key.name].head == honest[witness.cosigner.name]  # the truth it keeps
                assert "FORK of" in (tmp_path / witness.cosigner.name / "forks.jsonl").read_text()
            # A later checkpoint of the forged log does not extend what the witnesses saw either.
            app.reword_objective(OFFICER, ids[2], expected_version=1, title="objective 2, reworded",
                                 decision=_board(app))
            wait_until(lambda: all(len(w.forks) >= 2 for w in witnesses), timeout=30,
                       what="both witnesses refusing the next forged checkpoint")
            assert all(w.logs[log_key.name].head.size == 4 for w in witnesses)
            assert _verify(settings, witnesses=2) == [
                "priorities: no checkpoint is cosigned by 2 of the configured witnesses"]
        finally:
            stop.set()
            for thread in threads:
                thread.join(10)
            for transport in transports:
                transport.close()


def _rewrite(settings: Settings, aggregate_id: object) -> None:
    import psycopg

    assert settings.database_url
    with psycopg.connect(settings.database_url) as conn:
        conn.execute(f"SET search_path TO {settings.schema_prefix}priorities")
        rows = conn.execute("SELECT originator_version, topic, state FROM priorities_events WHERE originator_id = %s"
                            " ORDER BY originator_version", (aggregate_id,)).fetchall()
        prev = GENESIS
        for version, topic, state in rows:
            new_state, prev = seal(prev, str(aggregate_id), version, topic,
                                   payload_of(bytes(state)).replace(b"objective 0", b"objective 7"))
            conn.execute("UPDATE priorities_events SET state = %s WHERE originator_id = %s AND originator_version = %s",
                         (new_state, aggregate_id, version))
        conn.execute("DELETE FROM audit_tree_heads")
