"""Signing is on wherever it matters: outside the embedded mode a process without a checkpoint signing key refuses
to start, unless checkpoints are switched off by the setting that says it is unsafe."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from services.priorities.application import PrioritiesApplication
from shared.settings import Settings

BROKER = "127.0.0.1:1"  # a Kafka transport makes the mode distributed; nothing here connects to it


def test_a_distributed_process_without_a_signing_key_refuses_to_start(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, kafka_bootstrap_servers=BROKER, jwt_secret="x" * 40)
    with pytest.raises(RuntimeError, match="PARTNERSHIP_AUDIT_SIGNING_KEY must be set outside the embedded mode"):
        PrioritiesApplication(settings)


def test_checkpoints_are_off_only_by_the_setting_named_unsafe(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(data_dir=tmp_path, kafka_bootstrap_servers=BROKER, jwt_secret="x" * 40,
                        audit_checkpoints_off_unsafe=True)
    with caplog.at_level(logging.WARNING):
        app = PrioritiesApplication(settings)
    try:
        assert app.checkpointer.signer is None
        assert "tampering with the log will not be detected" in caplog.text
    finally:
        app.close()


def test_the_embedded_mode_signs_with_a_key_it_generates(tmp_path: Path) -> None:
    app = PrioritiesApplication(Settings(data_dir=tmp_path))
    try:
        assert app.checkpointer.signer is not None and (tmp_path / "dev-audit-signing-key").exists()
    finally:
        app.close()
