"""The outside judges of the deployment artefacts, installed once into the cache (never into the work tree).

- kustomize and kube-score: ``go install`` from the Go module proxy, one binary per version.
- checkov: from PyPI into a virtualenv of its own, because its pins would downgrade the test environment's.
- compose-config: ``tests/deploy/composeconfig``, a small Go program around compose-go, the loader that
  ``docker compose config`` runs (interpolation, the Compose schema, dependency checks), built from its go.sum.

``python -m tools.deploytools prefetch`` installs all four (``make test`` runs it); the tests call the same
functions, so a test run on a machine where prefetch did not run installs what it needs first.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from tools.realservers import cache_dir

__all__ = ["CHECKOV_VERSION", "KUBE_SCORE", "KUSTOMIZE", "GoTool", "checkov", "compose_config", "go_tool", "main"]

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_CONFIG_SOURCE = ROOT / "tests" / "deploy" / "composeconfig"
CHECKOV_VERSION = "3.3.30"


class ToolInstallError(RuntimeError):
    """A judge could not be installed (no Go toolchain, a registry refused, a build failed)."""


@dataclass(frozen=True)
class GoTool:
    """A command installed with ``go install module@version``."""

    name: str
    module: str
    version: str


KUSTOMIZE = GoTool("kustomize", "sigs.k8s.io/kustomize/kustomize/v5", "v5.8.1")
KUBE_SCORE = GoTool("kube-score", "github.com/zegl/kube-score/cmd/kube-score", "v1.20.0")


def _tools_dir() -> Path:
    return cache_dir() / "deploy-tools"


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """One installer at a time per tool (pytest-xdist workers, a prefetch beside a test run)."""
    path = _tools_dir() / f".{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _go() -> str:
    found = shutil.which("go") or next((p for p in ("/usr/local/go/bin/go",) if Path(p).exists()), None)
    if found is None:
        raise ToolInstallError("no Go toolchain: the deployment judges are installed with `go install`")
    return found


def _run(command: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
         timeout: float = 1800) -> None:
    # The timeout only catches a hung install: on CI's idle cores each takes a few minutes at most, on a busy
    # development machine up to a quarter of an hour.
    try:
        result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                                check=False)
    except subprocess.TimeoutExpired as error:
        raise ToolInstallError(f"{' '.join(command)} did not finish within {timeout:.0f}s") from error
    if result.returncode != 0:
        raise ToolInstallError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-4000:]}")


def _go_env(gobin: Path) -> dict[str, str]:
    # -modcacherw: the module cache stays deletable; CGO off: static binaries, no C compiler needed.
    return {**os.environ, "GOBIN": str(gobin), "CGO_ENABLED": "0", "GOFLAGS": "-modcacherw -buildvcs=false"}


def go_tool(tool: GoTool) -> Path:
    """The binary of ``tool``, installed from the Go module proxy on first use."""
    target = _tools_dir() / f"{tool.name}-{tool.version}" / tool.name
    if target.exists():
        return target
    with _locked(tool.name):
        if not target.exists():
            with tempfile.TemporaryDirectory(dir=_tools_dir()) as scratch:
                _run([_go(), "install", f"{tool.module}@{tool.version}"], env=_go_env(Path(scratch)))
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(Path(scratch) / tool.name, target)
    return target


def checkov() -> Path:
    """The ``checkov`` command, from PyPI into its own virtualenv on first use."""
    venv = _tools_dir() / f"checkov-{CHECKOV_VERSION}"
    command = venv / "bin" / "checkov"
    marker = venv / ".complete"
    if marker.exists():
        return command
    with _locked("checkov"):
        if not marker.exists():
            shutil.rmtree(venv, ignore_errors=True)
            _run([sys.executable, "-m", "venv", str(venv)])
            _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                  f"checkov=={CHECKOV_VERSION}"])
            marker.touch()
    return command


def compose_config() -> Path:
    """The compose-go checker built from ``tests/deploy/composeconfig`` (rebuilt when its source changes)."""
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum", "main.go"):
        digest.update((COMPOSE_CONFIG_SOURCE / name).read_bytes())
    target = _tools_dir() / f"compose-config-{digest.hexdigest()[:12]}" / "compose-config"
    if target.exists():
        return target
    with _locked("compose-config"):
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".partial")
            env = _go_env(target.parent) | {"GOFLAGS": "-modcacherw -buildvcs=false -mod=readonly"}
            _run([_go(), "build", "-o", str(partial), "."], cwd=COMPOSE_CONFIG_SOURCE, env=env)
            os.replace(partial, target)
    return target


def _cmd_prefetch() -> int:
    # One after the other: beside the Go builds, checkov's pip install (its resolver is CPU-bound too) took over
    # three times as long on a busy machine.
    installers: list[tuple[str, Callable[[], Path]]] = [
        ("kustomize", partial(go_tool, KUSTOMIZE)), ("kube-score", partial(go_tool, KUBE_SCORE)),
        ("checkov", checkov), ("compose-config", compose_config)]
    for name, install in installers:
        started = time.monotonic()
        path = install()
        print(f"{name}: {path} ({time.monotonic() - started:.1f}s)", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``prefetch`` installs every deployment judge into the cache and prints where and how long it took."""
    parser = argparse.ArgumentParser(prog="python -m tools.deploytools", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prefetch", help="install kustomize, kube-score, checkov and the compose checker")
    parser.parse_args(argv)
    try:
        return _cmd_prefetch()
    except ToolInstallError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
