"""Outside judges of the manifests: kube-score and checkov on both overlays as the real kustomize renders them.

No CRITICAL kube-score check and no failed checkov check may stand unless ``docs/operations.md`` lists it, with
its reason, in the table "Findings the outside judges leave, and why"; a listed finding that no longer occurs
fails too, so the table says what is true today. The tools come from ``tools.deploytools`` (Go module proxy,
PyPI), cached outside the work tree.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path

import pytest

from tests.deploy.rendering import OVERLAYS, ROOT, rendered_text
from tools.deploytools import KUBE_SCORE, checkov, go_tool

OPERATIONS = ROOT / "docs" / "operations.md"
TABLE_HEADING = "Findings the outside judges leave, and why"
KUBE_SCORE_CRITICAL = 1  # kube-score's grades: 1 critical, 5 warning, 7 almost OK, 10 OK
KUBERNETES_VERSION = "v1.33"


@dataclass(frozen=True)
class Finding:
    judge: str
    check: str
    overlay: str
    resource: str  # Kind/name


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
        resource = f"{scored['type_meta']['kind']}/{scored['object_name']}"
        for check in scored["checks"]:
            if not check["skipped"] and check["grade"] == KUBE_SCORE_CRITICAL:
                findings.add(Finding("kube-score", check["check"]["id"], overlay, resource))
    return tuple(sorted(findings, key=repr))


@cache
def _checkov_reports() -> dict[str, dict[str, object]]:
    with tempfile.TemporaryDirectory() as scratch:
        files = {}
        for overlay in OVERLAYS:
            files[overlay] = Path(scratch) / f"{overlay}.yaml"
            files[overlay].write_text(rendered_text(overlay))
        reports = {}
        for overlay, path in files.items():
            # --skip-download: nothing is fetched from a vendor's platform; the built-in checks are the judge.
            result = subprocess.run([str(checkov()), "--file", str(path), "--framework", "kubernetes",
                                     "--output", "json", "--skip-download", "--compact", "--quiet"],
                                    capture_output=True, text=True, timeout=600, check=False,
                                    env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_NO_UPDATE": "TRUE"},
                                    cwd=scratch)
            if not result.stdout.strip().startswith(("{", "[")):
                raise AssertionError(f"checkov gave no report (exit {result.returncode}):\n{result.stderr[-3000:]}")
            report = json.loads(result.stdout)
            reports[overlay] = report[0] if isinstance(report, list) else report
        return reports


def _checkov(overlay: str) -> tuple[Finding, ...]:
    report = _checkov_reports()[overlay]
    results = report.get("results", {})
    assert isinstance(results, dict)
    findings = set()
    for failed in results.get("failed_checks", []):
        kind, *_, name = failed["resource"].split(".", 2) if failed["resource"].count(".") >= 2 else \
            (*failed["resource"].split("."), "")
        findings.add(Finding("checkov", failed["check_id"], overlay, f"{kind}/{name}"))
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
    _judge([f for overlay in OVERLAYS for f in _checkov(overlay)], "checkov")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_checkov_ran_its_kubernetes_checks(overlay: str) -> None:
    """A judge that checked nothing would pass everything: checkov must have passed a good number of checks."""
    summary = _checkov_reports()[overlay]["summary"]
    assert isinstance(summary, dict)
    assert summary["passed"] > 100 and summary["parsing_errors"] == 0, summary
