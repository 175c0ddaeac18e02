"""Outside judges of what we publish, installed from registries, never written by us: the CloudEvents Java SDK
(Maven Central) and the npm tools of the root ``package.json`` (``npm ci``). The tests call these; ``make test``
fetches them up front (``python -m tools.judges prefetch``). The same ``npm ci`` brings the developer tools' browser
assets (``shared/devtools.py``), which ``make run`` installs with ``python -m tools.judges npm``.

Only the small drivers beside this file are ours: ``ReadTopics.java`` hands each Kafka record to the SDK's own
deserializer and prints its verdict; ``asyncapi_parse.mjs`` prints the AsyncAPI parser's diagnostics.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.realservers import ServerStartError, _file_lock, cache_dir

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
POM = HERE / "pom.xml"
READ_TOPICS = HERE / "ReadTopics.java"
ASYNCAPI_PARSE = HERE / "asyncapi_parse.mjs"
NODE_MODULES = ROOT / "node_modules"


def _digest(*paths: Path) -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(path.read_bytes())
    return sha.hexdigest()[:16]


def _tool(program: str, debian_package: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise ServerStartError(f"{program!r} not found on PATH: install Debian's {debian_package} package")
    return found


def cloudevents_classpath(*, quiet: bool = True) -> str:
    """The classpath of the CloudEvents Java SDK judge: its jars (fetched with Maven once, cached outside the work
    tree) and ``ReadTopics`` compiled against them."""
    home = cache_dir() / f"cloudevents-judge-{_digest(POM, READ_TOPICS)}"
    libs, classes, done = home / "libs", home / "classes", home / ".complete"
    if not done.exists():
        with _file_lock(home.parent / f"{home.name}.lock"):
            if not done.exists():
                staging = Path(tempfile.mkdtemp(prefix="judge-", dir=home.parent))
                try:
                    fetched = subprocess.run(
                        [_tool("mvn", "maven"), "-B", "--no-transfer-progress", *(["-q"] if quiet else []),
                         "-f", str(POM), "dependency:copy-dependencies", f"-DoutputDirectory={staging / 'libs'}",
                         "-DincludeScope=runtime"], capture_output=quiet, text=True, check=False)
                    if fetched.returncode != 0:
                        raise ServerStartError(f"Maven could not fetch the CloudEvents SDK:\n{fetched.stdout[-3000:]}"
                                               f"\n{fetched.stderr[-3000:]}")
                    compiled = subprocess.run(
                        [_tool("javac", "openjdk-17-jdk-headless"), "-cp", str(staging / "libs" / "*"), "-d",
                         str(staging / "classes"), str(READ_TOPICS)], capture_output=True, text=True, check=False)
                    if compiled.returncode != 0:
                        raise ServerStartError(f"javac failed on {READ_TOPICS.name}:\n{compiled.stderr[-3000:]}")
                    shutil.rmtree(home, ignore_errors=True)
                    staging.chmod(0o755)
                    staging.rename(home)
                    done.touch()
                finally:
                    shutil.rmtree(staging, ignore_errors=True)
    return f"{classes}:{libs / '*'}"


def read_topics_command(bootstrap: str, topics: list[str]) -> list[str]:
    """The command that reads every record of ``topics`` with the CloudEvents Java SDK (one JSON line each)."""
    return [_tool("java", "openjdk-17-jre-headless"), "-cp", cloudevents_classpath(), "ReadTopics", bootstrap,
            *topics]


def npm_installed(*, quiet: bool = True) -> Path:
    """``node_modules`` as the lock file says (``npm ci``, again only when the lock changed)."""
    lock = ROOT / "package-lock.json"
    stamp = NODE_MODULES / f".installed-{_digest(lock)}"
    if not stamp.exists():
        with _file_lock(cache_dir() / "npm-ci.lock"):
            if not stamp.exists():
                result = subprocess.run([_tool("npm", "npm"), "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                                        cwd=ROOT, capture_output=quiet, text=True, check=False)
                if result.returncode != 0:
                    raise ServerStartError(f"npm ci failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
                stamp.touch()
    return NODE_MODULES


def node_command(script: Path, *args: str) -> list[str]:
    npm_installed()
    return [_tool("node", "nodejs"), str(script), *args]


def npm_bin(name: str) -> str:
    return str(npm_installed() / ".bin" / name)


def main(argv: list[str]) -> int:
    if argv == ["npm"]:  # ``make run``: the developer tools' assets; the system runs without them
        try:
            print(f"npm packages: {npm_installed(quiet=False)}", flush=True)
        except ServerStartError as error:
            print(f"GraphiQL, Swagger UI and ReDoc will say they are not installed: {error}", file=sys.stderr)
        return 0
    if argv != ["prefetch"]:
        print("usage: python -m tools.judges prefetch|npm", file=sys.stderr)
        return 2
    print(f"CloudEvents Java SDK judge: {cloudevents_classpath(quiet=False)}", flush=True)
    print(f"npm packages: {npm_installed(quiet=False)}", flush=True)
    return 0
