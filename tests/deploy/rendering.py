"""The overlays as the real kustomize renders them (installed by ``tools.deploytools``), parsed once per run.

Where the real one cannot be installed (no Go toolchain), the hand-written renderer in ``kustomize.py`` stands in
with a warning; the judges' tests and the renderer comparison still need the real one and fail there.
"""

from __future__ import annotations

import subprocess
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.kustomize import build
from tools.deploytools import KUSTOMIZE, ToolInstallError, go_tool

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")

Resource = dict[str, Any]


def kustomize_build(directory: Path) -> str:
    """``kustomize build directory`` by the real kustomize."""
    result = subprocess.run([str(go_tool(KUSTOMIZE)), "build", str(directory)], capture_output=True, text=True,
                            timeout=120, check=False)
    if result.returncode != 0:
        raise AssertionError(f"kustomize build {directory} failed:\n{result.stderr}")
    return result.stdout


@cache
def rendered_text(overlay: str) -> str:
    return kustomize_build(K8S / "overlays" / overlay)


@cache
def rendered(overlay: str) -> tuple[Resource, ...]:
    try:
        return tuple(r for r in yaml.safe_load_all(rendered_text(overlay)) if r)
    except ToolInstallError as error:
        warnings.warn(f"the real kustomize is not available ({error}); rendering with tests/deploy/kustomize.py",
                      stacklevel=2)
        return tuple(build(K8S / "overlays" / overlay))


def of_kind(overlay: str, kind: str) -> dict[str, Resource]:
    return {r["metadata"]["name"]: r for r in rendered(overlay) if r["kind"] == kind}


def key(resource: Resource) -> tuple[str, str, str]:
    return resource["kind"], resource["metadata"].get("namespace", ""), resource["metadata"]["name"]
