"""The production image is pinned by digest: the overlay holds a placeholder that no runtime accepts until the
release step (``deploy/release.sh``) fills it, checked with the real kustomize on a copy of the manifests."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml

from tests.deploy.rendering import ROOT, kustomize_build, of_kind

PLACEHOLDER = "sha256:UNRELEASED-run-deploy-release-sh"
IMAGE = "ghcr.io/example/partnership-governance"
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def _images(resources: list[dict]) -> set[str]:
    return {c["image"] for r in resources if r["kind"] == "Deployment"
            for c in r["spec"]["template"]["spec"]["containers"]}


def test_an_unreleased_production_overlay_names_no_runnable_image() -> None:
    """Unfilled, every pod names the placeholder: not a digest, so the kubelet refuses it (InvalidImageName)
    instead of pulling `latest` or whatever a tag points at today."""
    images = _images(list(of_kind("prod", "Deployment").values()))
    assert images == {f"{IMAGE}@{PLACEHOLDER}"}
    assert not DIGEST.fullmatch(PLACEHOLDER)


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    return tmp_path / "deploy"


def _release(deploy: Path, digest: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(deploy / "release.sh"), digest], capture_output=True, text=True, timeout=30,
                          check=False)


def test_the_release_step_pins_every_production_pod_to_the_built_digest(tmp_path: Path) -> None:
    deploy = _copy(tmp_path)
    digest = "sha256:" + "0123456789abcdef" * 4
    result = _release(deploy, digest)
    assert result.returncode == 0, result.stderr
    resources = [r for r in yaml.safe_load_all(kustomize_build(deploy / "k8s" / "overlays" / "prod")) if r]
    assert _images(resources) == {f"{IMAGE}@{digest}"}
    kustomization = (deploy / "k8s" / "overlays" / "prod" / "kustomization.yaml").read_text()
    assert "# Pinned by digest" in kustomization  # the file is edited in place, its comments kept
    again = _release(deploy, "sha256:" + "f" * 64)
    assert again.returncode != 0 and "filled already" in again.stderr
    assert f"digest: {digest}" in (deploy / "k8s" / "overlays" / "prod" / "kustomization.yaml").read_text()


def test_the_release_step_refuses_what_is_not_a_digest(tmp_path: Path) -> None:
    deploy = _copy(tmp_path)
    before = (deploy / "k8s" / "overlays" / "prod" / "kustomization.yaml").read_text()
    for wrong in ("latest", "1.0.0", "sha256:abc", "sha256:" + "A" * 64, ""):
        result = _release(deploy, wrong)
        assert result.returncode != 0, wrong
    assert (deploy / "k8s" / "overlays" / "prod" / "kustomization.yaml").read_text() == before
