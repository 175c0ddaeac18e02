"""The auditor's REST surface is part of the running system, and only auditors may use it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import running_system, settings_for


@pytest.mark.e2e
def test_an_auditor_verifies_the_running_system_and_nobody_else_may(tmp_path: Path) -> None:
    with running_system(settings_for(data_dir=tmp_path)) as h:
        assert h.system.load_demo_data()
        verified = h.client.get("/audit/verify", headers=h.headers("auditor"))
        assert verified.status_code == 200, verified.text
        assert verified.json()["intact"] is True
        assert {s["service"] for s in verified.json()["services"]} == {"priorities", "tasking", "projects"}
        for role in ("scrutiny_member", "partnership_officer"):
            assert h.client.get("/audit/verify", headers=h.headers(role)).status_code == 403
        assert h.client.get("/audit/verify").status_code == 401
