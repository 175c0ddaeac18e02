"""The export bundle and the standalone verifier: an outsider with only the bundle, the published keys and
``shared/audit/standalone.py`` copied into an empty folder verifies every event, checkpoint, proof and cosignature,
and is told the first event that does not verify when the bundle was altered."""

from __future__ import annotations

import ast
import base64
import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from services.audit.auditor import Auditor
from services.cli import cli
from services.priorities.application import PrioritiesApplication
from services.runtime import service_specs
from shared.audit import standalone
from shared.audit.checkpoint import Cosigner, origin_of, trusted_public_key, verifier_key
from shared.audit.standalone import split_note
from shared.contracts import Actor, Decision
from shared.contracts.priorities import StrategyLevel
from shared.eventstore import CommandContext
from tests.copies import board_meeting
from tests.harness import settings_env, settings_for

OFFICER = CommandContext(Actor("officer-1", "worcestershire-cc", "partnership_officer"), "corr-bundle")
WITNESS = Cosigner(b"\x33" * 32, "internal-audit.worcestershire.invalid")


def _board(app: PrioritiesApplication) -> Decision:
    """The board's decision (an SCS objective is the board's), at a meeting fed into priorities' copy."""
    return board_meeting(app.local, date(2011, 4, 12), "Reworded by the board")


def _run(folder: Path, bundle: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "standalone.py", str(bundle), *args], cwd=folder, capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})


def test_the_standalone_verifier_checks_an_export_bundle_in_an_empty_folder(tmp_path: Path) -> None:
    settings = settings_for(data_dir=tmp_path / "data", audit_signing_key="5d" * 32,
                            audit_witness_keys=[str(WITNESS.verifier)])
    app = PrioritiesApplication(settings)  # no System: its clean shutdown would cover the last event too
    try:
        ids = []
        for n in range(5):
            objective = app.add_objective(OFFICER, title=f"objective {n}", level=StrategyLevel.SCS, strategy="scs",
                                          decision=_board(app))
            app.reword_objective(OFFICER, objective.id, expected_version=1, title=f"objective {n}.1",
                                 decision=_board(app))
            ids.append(objective.id)
            if n in (1, 3):
                assert app.checkpointer.checkpoint() is not None
        app.add_objective(OFFICER, title="too recent to be covered", level=StrategyLevel.SCS, strategy="scs",
                          decision=_board(app))
        latest = app.checkpointer.log.latest()
        assert latest is not None and latest.tree_size == 8
        auditor = Auditor(settings, service_specs(), services=("priorities",))
        try:
            auditor.add_cosignature(latest.note + WITNESS.cosign(split_note(latest.note)[0]).line)
        finally:
            auditor.close()
    finally:
        app.close()
    env = settings_env(settings)
    bundle = tmp_path / "bundle.jsonl"
    result = CliRunner().invoke(cli, ["audit", "export", "--bundle", "--service", "priorities", "--out", str(bundle)],
                                env=env)
    assert result.exit_code == 0, result.output

    outsider = tmp_path / "outsider"
    outsider.mkdir()
    shutil.copy(Path(standalone.__file__), outsider / "standalone.py")
    shutil.copy(bundle, outsider / "bundle.jsonl")
    public = trusted_public_key(settings)
    assert public is not None
    key = str(verifier_key(public, origin_of(settings, "priorities")))
    done = _run(outsider, outsider / "bundle.jsonl", "--public-key", key, "--witness-key", str(WITNESS.verifier),
                "--witnesses", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 event(s) proven in the signed tree head of size 8, 3 not yet covered; witnessed up to size 8 " \
           "(complete log)" in done.stdout

    lines = (outsider / "bundle.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    victim = next(r for r in records if r["kind"] == "event" and r["index"] == 5)

    altered = outsider / "altered.jsonl"
    changed = dict(victim, state=base64.b64encode(base64.b64decode(victim["state"]).replace(
        b"objective 2.1", b"objective 2.9")).decode())
    altered.write_text("\n".join(json.dumps(changed) if r is victim else line for r, line in zip(
        records, lines, strict=True)) + "\n")
    done = _run(outsider, altered, "--public-key", key)
    assert done.returncode == 1
    assert f"FAILED. First bad event: {victim['origin']}: event {victim['aggregate_id']} version " \
           f"{victim['version']} (leaf 5): its stored hash does not match" in done.stderr

    removed = outsider / "removed.jsonl"
    removed.write_text("\n".join(line for r, line in zip(records, lines, strict=True) if r is not victim) + "\n")
    done = _run(outsider, removed, "--public-key", key)
    assert done.returncode == 1 and "leaf 5 is missing" in done.stderr, done.stderr

    done = _run(outsider, outsider / "bundle.jsonl", "--public-key", key, "--witnesses", "2",
                "--witness-key", str(WITNESS.verifier))
    assert done.returncode == 1 and "no tree head is cosigned by 2" in done.stderr

    # One aggregate's events alone, each proven by its inclusion proof.
    single = outsider / "single.jsonl"
    result = CliRunner().invoke(cli, ["audit", "export", "--bundle", "--aggregate", str(ids[2]), "--out",
                                      str(single)], env=env)
    assert result.exit_code == 0, result.output
    done = _run(outsider, single, "--public-key", key)
    assert done.returncode == 0 and "2 event(s) proven in the signed tree head of size 8" in done.stdout, done.stderr


def test_the_standalone_verifier_imports_only_the_standard_library_and_cryptography() -> None:
    tree = ast.parse(Path(standalone.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported - sys.stdlib_module_names == {"cryptography"}
