"""The gateway judged by an outside judge: the GraphQL over HTTP audit suite of ``graphql-http`` (the GraphQL
Foundation's reference implementation, from npm, pinned) runs against the gateway served by uvicorn on loopback.
No audit may fail or warn."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.harness import running_system, serving, settings_for
from tools.judges import node_command

GRAPHQL_HTTP = "graphql-http@1.23.1"  # pinned in the root package.json, with its peer graphql 16.11.0
HERE = Path(__file__).parent / "graphql_http"


@pytest.fixture(scope="module")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_system(settings_for(data_dir=tmp_path_factory.mktemp("graphql-http"))) as h, \
            serving(h.system.asgi()) as url:
        yield f"{url}/graphql"


def test_the_gateway_passes_the_graphql_over_http_audits(gateway_url: str, say: Callable[[str], None]) -> None:
    # npm ci of the root package.json; the script's import resolves in the root node_modules
    done = subprocess.run(node_command(HERE / "audit.mjs", gateway_url), capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    failed = [r for r in results if r["status"] == "error"]
    warned = {r["id"]: r for r in results if r["status"] == "warn"}
    counts = {status: sum(1 for r in results if r["status"] == status) for status in ("ok", "notice", "warn", "error")}
    say(f"graphql-http {GRAPHQL_HTTP.split('@')[1]} audit: {len(results)} audits, {counts}; warnings: "
        + "; ".join(f"{i} {r['name']} ({r['reason']})" for i, r in warned.items()))
    assert not failed, "\n".join(f"{r['id']} {r['name']}: {r['reason']}" for r in failed)
    assert not warned, {i: (r["name"], r["reason"]) for i, r in warned.items()}
