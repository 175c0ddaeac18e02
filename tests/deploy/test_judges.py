"""Outside judges of the manifests: kube-score and checkov on both overlays as the real kustomize renders them,
and checkov on the Dockerfile.

No CRITICAL kube-score check and no failed checkov check may stand unless ``docs/operations.md`` lists it, with
its reason, in the table "Findings the outside judges leave, and why"; a listed finding that no longer occurs
fails too, so the table says what is true today. The tools come from ``tools.deploytools`` (Go module proxy,
PyPI), cached outside the work tree.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.rendering import OVERLAYS, ROOT, rendered_text
from tools.deploytools import KUBE_SCORE, checkov, go_tool

OPERATIONS = ROOT / "docs" / "operations.md"
DOCKERFILE = ROOT / "Dockerfile"
TABLE_HEADING = "Findings the outside judges leave, and why"
KUBE_SCORE_CRITICAL = 1  # kube-score's grades: 1 critical, 5 warning, 7 almost OK, 10 OK
KUBERNETES_VERSION = "v1.33"


@dataclass(frozen=True)
class Finding:
    judge: str
    check: str
    overlay: str  # dev, prod, or Dockerfile
    resource: str  # Kind/name, or Dockerfile.<instruction>


@dataclass(frozen=True)
class Exception_:
    judge: str
    check: str
    overlays: frozenset[str]
    resources: tuple[str, ...]  # Kind/name, shell-style patterns
    reason: str

    def covers(self, finding: Finding) -> bool:
        return (finding.judge, finding.check) == (self.judge, self.check) and finding.overlay in self.overlays \
            and any(fnmatchcase(finding.resource, pattern) for pattern in self.resources)


@cache
def _kube_score(overlay: str) -> tuple[Finding, ...]:
    result = subprocess.run([str(go_tool(KUBE_SCORE)), "score", "--output-format", "json",
                             "--kubernetes-version", KUBERNETES_VERSION, "-"],
                            input=rendered_text(overlay), capture_output=True, text=True, timeout=120, check=False)
    if not result.stdout.strip():
        raise AssertionError(f"kube-score printed nothing (exit {result.returncode}):\n{result.stderr}")
    findings = set()
    for scored in json.loads(result.stdout):
        resource = f"{scored['type_meta']['kind']}/{scored['object_meta']['name']}"
        for check in scored["checks"]:
            if not check["skipped"] and check["grade"] == KUBE_SCORE_CRITICAL:
                findings.add(Finding("kube-score", check["check"]["id"], overlay, resource))
    return tuple(sorted(findings, key=repr))


@dataclass(frozen=True)
class _CheckovReport:
    failed: tuple[dict[str, Any], ...]
    passed: int


@cache
def _checkov_reports() -> dict[str, _CheckovReport]:
    """One checkov run over both rendered overlays and the Dockerfile (its start-up is most of its time), split by
    file: ``dev``, ``prod`` and ``Dockerfile``."""
    with tempfile.TemporaryDirectory() as scratch:
        command = [str(checkov()), "--framework", "kubernetes", "dockerfile", "--output", "json", "--compact",
                   "--skip-download",  # nothing fetched from a vendor's platform: the built-in checks judge
                   "--file", str(DOCKERFILE)]
        for overlay in OVERLAYS:
            (Path(scratch) / f"{overlay}.yaml").write_text(rendered_text(overlay))
            command += ["--file", str(Path(scratch) / f"{overlay}.yaml")]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, cwd=scratch)
    if not result.stdout.strip().startswith(("{", "[")):
        raise AssertionError(f"checkov gave no report (exit {result.returncode}):\n{result.stderr[-3000:]}")
    parsed = json.loads(result.stdout)
    reports = parsed if isinstance(parsed, list) else [parsed]
    assert {r["check_type"] for r in reports} == {"kubernetes", "dockerfile"}, [r["check_type"] for r in reports]
    assert all(r["summary"]["parsing_errors"] == 0 for r in reports), [r["summary"] for r in reports]
    checks = {outcome: [c for r in reports for c in r["results"].get(outcome, [])]
              for outcome in ("failed_checks", "passed_checks")}

    def of(where: str, outcome: str) -> list[dict[str, Any]]:
        name = "Dockerfile" if where == "Dockerfile" else f"{where}.yaml"
        return [c for c in checks[outcome] if Path(c["file_path"]).name == name]

    return {where: _CheckovReport(tuple(of(where, "failed_checks")), len(of(where, "passed_checks")))
            for where in (*OVERLAYS, "Dockerfile")}


def _checkov(where: str) -> tuple[Finding, ...]:
    findings = set()
    for failed in _checkov_reports()[where].failed:
        if where == "Dockerfile":
            resource = "Dockerfile." + failed["resource"].rsplit(".", 1)[1]  # <path>.<instruction>
        else:
            kind, _namespace, name = failed["resource"].split(".", 2)  # Kind.namespace.name
            resource = f"{kind}/{name}"
        findings.add(Finding("checkov", failed["check_id"], where, resource))
    return tuple(sorted(findings, key=repr))


def documented_exceptions() -> list[Exception_]:
    """The rows of the table in docs/operations.md: | judge | `check` | overlays | `Kind/name`, ... | reason |."""
    text = OPERATIONS.read_text()
    assert TABLE_HEADING in text, f"docs/operations.md has no section {TABLE_HEADING!r}"
    section = text.split(TABLE_HEADING, 1)[1].split("\n#", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] not in ("kube-score", "checkov"):
            continue
        judge, check, overlays, resources, reason = cells
        assert reason, f"no reason given for {check}"
        rows.append(Exception_(judge, check.strip("`"), frozenset(o.strip() for o in overlays.split(",")),
                               tuple(re.findall(r"`([^`]+)`", resources)), reason))
    assert rows, "the table of findings left is empty or unreadable"
    return rows


def _judge(findings: list[Finding], judge: str) -> None:
    exceptions = [e for e in documented_exceptions() if e.judge == judge]
    unexplained = [f for f in findings if not any(e.covers(f) for e in exceptions)]
    assert not unexplained, "findings not explained in docs/operations.md:\n" + "\n".join(map(repr, unexplained))
    for exception in exceptions:
        for overlay in exception.overlays:
            for pattern in exception.resources:
                assert any(exception.covers(f) and fnmatchcase(f.resource, pattern) and f.overlay == overlay
                           for f in findings), f"stale entry: {judge} {exception.check} {overlay} {pattern}"


def test_kube_score_leaves_no_critical_finding_unexplained() -> None:
    _judge([f for overlay in OVERLAYS for f in _kube_score(overlay)], "kube-score")


def test_checkov_leaves_no_failed_check_unexplained() -> None:
    _judge([f for where in (*OVERLAYS, "Dockerfile") for f in _checkov(where)], "checkov")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_checkov_ran_its_kubernetes_checks(overlay: str) -> None:
    """A judge that checked nothing would pass everything: checkov must have passed many checks on each overlay."""
    assert _checkov_reports()[overlay].passed > 500
    assert _checkov_reports()["Dockerfile"].passed > 50
