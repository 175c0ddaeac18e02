"""Outside judges of the published contracts, each installed from a registry by ``make test``, none written by us:
``check-jsonschema --check-metaschema`` (PyPI) on every event schema, ``openapi-spec-validator`` (PyPI) and Redocly's
``recommended`` ruleset (``@redocly/cli``, npm) on every OpenAPI document, and ``@asyncapi/parser`` (npm) on the
AsyncAPI document with the event and command schemas it references."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tools.judges import ASYNCAPI_PARSE, node_command, npm_bin

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
OPENAPI = sorted((CONTRACTS / "openapi").glob("*.json"))
SCHEMAS = (sorted(CONTRACTS.glob("events/*.schema.json")) + sorted(CONTRACTS.glob("unreleased/events/*.schema.json"))
           + sorted(CONTRACTS.glob("commands/*.schema.json")))
VENV_BIN = Path(sys.executable).parent


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def _asyncapi_diagnostics(document: Path) -> list[dict[str, Any]]:
    result = _run(node_command(ASYNCAPI_PARSE, str(document)))
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_check_jsonschema_finds_every_event_schema_valid_under_its_metaschema() -> None:
    assert len(SCHEMAS) > 40
    result = _run([str(VENV_BIN / "check-jsonschema"), "--check-metaschema", *map(str, SCHEMAS)])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_openapi_spec_validator_finds_every_openapi_document_valid() -> None:
    assert {p.stem for p in OPENAPI} == {"priorities", "tasking", "projects", "reporting", "system"}
    result = _run([str(VENV_BIN / "openapi-spec-validator"), *map(str, OPENAPI)])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count(": OK") == len(OPENAPI), result.stdout


def test_redocly_recommended_ruleset_reports_no_error_and_no_warning() -> None:
    for document in OPENAPI:
        result = _run([npm_bin("redocly"), "lint", "--extends", "recommended", "--format", "json", str(document)])
        report = json.loads(result.stdout)
        problems = [(p["severity"], p["ruleId"], p["message"]) for p in report["problems"]]
        assert not problems, (document.name, problems[:10])
        assert result.returncode == 0, result.stderr[-3000:]


def test_the_asyncapi_parser_reports_no_error_and_no_warning() -> None:
    diagnostics = _asyncapi_diagnostics(CONTRACTS / "asyncapi.yaml")
    serious = [d for d in diagnostics if d["severity"] in ("error", "warning")]
    assert not serious, serious[:10]


def test_the_asyncapi_parser_reads_the_event_schemas_it_references(tmp_path: Path) -> None:
    """The judge is not blind: with one referenced event schema missing, it reports an error."""
    copy = tmp_path / "contracts"
    shutil.copytree(CONTRACTS, copy, ignore=shutil.ignore_patterns("openapi", "*.graphql"))
    next(iter(sorted((copy / "events").glob("*.schema.json")))).unlink()
    diagnostics = _asyncapi_diagnostics(copy / "asyncapi.yaml")
    assert any(d["severity"] == "error" for d in diagnostics), diagnostics
