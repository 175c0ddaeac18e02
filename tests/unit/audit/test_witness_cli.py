"""``partnership audit witness``: its key comes from the environment, and it says what it needs."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from services.cli import cli
from shared.audit.checkpoint import Cosigner
from shared.audit.standalone import ALG_COSIGNATURE_V1, VerifierKey


def test_a_witness_prints_its_cosignature_key_from_the_seed_in_its_environment(tmp_path: Path) -> None:
    env = {"PARTNERSHIP_WITNESS_SIGNING_KEY": "66" * 32, "PARTNERSHIP_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(cli, ["audit", "witness", "--name", "internal-audit.invalid", "--print-key"], env=env)
    assert result.exit_code == 0, result.output
    # stdout alone: threads other tests left behind may log to stderr while the runner captures both
    key = VerifierKey.parse(result.stdout.strip())
    assert key == Cosigner(bytes.fromhex("66" * 32), "internal-audit.invalid").verifier
    assert key.alg == ALG_COSIGNATURE_V1


def test_a_witness_without_the_logs_keys_or_a_token_is_told_what_is_missing(tmp_path: Path) -> None:
    env = {"PARTNERSHIP_WITNESS_SIGNING_KEY": "66" * 32, "PARTNERSHIP_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(cli, ["audit", "witness", "--name", "w.invalid"], env=env)
    assert result.exit_code == 2 and "--log-key" in result.output
    key = "partnership.invalid/audit/priorities+3702eadd+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"
    result = CliRunner().invoke(cli, ["audit", "witness", "--name", "w.invalid", "--log-key", key,
                                      "--service-url", "http://127.0.0.1:1"], env=env)
    assert result.exit_code == 2 and "PARTNERSHIP_WITNESS_TOKEN" in result.output
    result = CliRunner().invoke(cli, ["audit", "witness", "--name", "w.invalid", "--print-key"],
                                env={**env, "PARTNERSHIP_WITNESS_SIGNING_KEY": "not hex"})
    assert result.exit_code == 2 and "64 hex digits" in result.output
