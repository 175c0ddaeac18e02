"""docker-compose.yml as Docker Compose itself reads it: loaded by compose-go (the loader of ``docker compose
config``, built by ``tools.deploytools``), with the secrets it requires and without them, and with the .env file
``deploy/compose/generate-env.sh`` writes."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.rendering import ROOT
from tools.deploytools import compose_config

COMPOSE = ROOT / "docker-compose.yml"
GENERATE_ENV = ROOT / "deploy" / "compose" / "generate-env.sh"
SECRETS = ("PARTNERSHIP_JWT_SECRET", "PARTNERSHIP_AUDIT_SIGNING_KEY", "POSTGRES_PASSWORD", "PRIORITIES_DB_PASSWORD",
           "TASKING_DB_PASSWORD", "PROJECTS_DB_PASSWORD", "REPORTING_DB_PASSWORD", "PEOPLE_DB_PASSWORD")
APP_SERVICES = ("priorities-web", "priorities-worker", "tasking-web", "tasking-worker", "projects-web",
                "projects-worker", "reporting-worker", "gateway", "demo")


def _load(variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # Only what is given: neither the caller's environment nor an .env file may lend a secret.
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/nonexistent"), **variables}
    return subprocess.run([str(compose_config()), str(COMPOSE)], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def _secrets() -> dict[str, str]:
    return {name: f"{name.lower().replace('_', '')}0123456789abcdef" for name in SECRETS}


def _project(variables: dict[str, str]) -> dict[str, Any]:
    result = _load(variables)
    assert result.returncode == 0, result.stderr
    project: dict[str, Any] = json.loads(result.stdout)
    return project


def test_compose_loads_with_every_secret_from_the_environment_and_passes_each_to_its_processes() -> None:
    secrets = _secrets()
    services = _project(secrets)["services"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["PARTNERSHIP_JWT_SECRET"] == secrets["PARTNERSHIP_JWT_SECRET"], name
        assert env["PARTNERSHIP_AUDIT_SIGNING_KEY"] == secrets["PARTNERSHIP_AUDIT_SIGNING_KEY"], name
    for service in ("priorities", "tasking", "projects"):
        url = services[f"{service}-web"]["environment"]["PARTNERSHIP_DATABASE_URL"]
        assert url == f"postgresql://{service}:{secrets[f'{service.upper()}_DB_PASSWORD']}@postgres:5432/{service}"
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == secrets["POSTGRES_PASSWORD"]


@pytest.mark.parametrize("missing", SECRETS)
def test_compose_refuses_to_run_while_a_secret_is_unset_naming_it(missing: str) -> None:
    for value in (None, ""):  # `:?` refuses an empty value as well as an absent one
        variables = {k: v for k, v in _secrets().items() if k != missing} | ({missing: value} if value is not None
                                                                            else {})
        result = _load(variables)
        assert result.returncode != 0
        assert missing in result.stderr and "generate-env.sh" in result.stderr, result.stderr


def test_the_compose_file_holds_no_literal_secret() -> None:
    """Every value of a secret-looking variable is a required ``${VAR:?…}``: no fallback, no literal."""
    document = yaml.safe_load(COMPOSE.read_text())
    secretish = re.compile(r"SECRET|PASSWORD|SIGNING_KEY|DATABASE_URL|DATABASES")
    found = 0
    for anchor in (document["x-env"], *(s.get("environment", {}) for s in document["services"].values())):
        for name, value in anchor.items():
            if secretish.search(name):
                found += 1
                placeholders = re.findall(r"\$\{([^}]*)\}", str(value))
                assert placeholders, (name, value)
                assert all(re.fullmatch(r"[A-Z_]+:\?.+", p) for p in placeholders), (name, value)
                assert not re.search(r"://[a-z]+:[^$]", str(value)), (name, value)  # a URL's password is a variable
    assert found >= 15


def test_each_process_waits_for_what_it_needs_and_the_gateway_for_the_apis_it_forwards_to() -> None:
    services = _project(_secrets())["services"]
    healthy = "service_healthy"
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == healthy, name
        assert depends["kafka-topics"]["condition"] == "service_completed_successfully", name
        assert all(d["required"] for d in depends.values()), name
    gateway = services["gateway"]["depends_on"]
    assert {f"{s}-web" for s in ("priorities", "tasking", "projects")} <= set(gateway)
    assert all(gateway[f"{s}-web"]["condition"] == healthy for s in ("priorities", "tasking", "projects"))
    assert all(services["demo"]["depends_on"][f"{s}-worker"]["condition"] == healthy
               for s in ("priorities", "tasking", "projects", "reporting"))
    assert services["kafka-topics"]["depends_on"]["kafka"]["condition"] == healthy
    for name in (*APP_SERVICES, "kafka", "postgres"):
        if name != "demo":
            assert services[name].get("healthcheck", {}).get("test"), f"{name} has no health check to wait on"


def test_generate_env_writes_every_secret_once_and_compose_accepts_them(tmp_path: Path) -> None:
    target = tmp_path / ".env"
    first = subprocess.run(["bash", str(GENERATE_ENV), str(target)], capture_output=True, text=True, timeout=30,
                           check=False)
    assert first.returncode == 0, first.stderr
    assert target.stat().st_mode & 0o077 == 0, "the .env file must be readable by its owner only"
    lines = [line for line in target.read_text().splitlines() if line and not line.startswith("#")]
    values = dict(line.split("=", 1) for line in lines)
    assert set(values) == set(SECRETS)
    assert re.fullmatch(r"[0-9a-f]{64}", values["PARTNERSHIP_AUDIT_SIGNING_KEY"])  # an Ed25519 seed
    assert len(values["PARTNERSHIP_JWT_SECRET"]) >= 64
    assert len(set(values.values())) == len(values), "each secret is drawn on its own"
    before = target.read_text()
    again = subprocess.run(["bash", str(GENERATE_ENV), str(target)], capture_output=True, text=True, timeout=30,
                           check=False)
    assert again.returncode != 0 and "not overwriting" in again.stderr
    assert target.read_text() == before
    services = _project(values)["services"]
    assert services["gateway"]["environment"]["PARTNERSHIP_JWT_SECRET"] == values["PARTNERSHIP_JWT_SECRET"]
