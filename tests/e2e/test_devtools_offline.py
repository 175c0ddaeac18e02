"""The developer tools work offline: GraphiQL at ``/graphql`` and Swagger UI / ReDoc at ``/<service>/docs`` and
``/<service>/redoc`` load every script from the app itself (the npm packages of the root ``package.json``). A real
headless Chromium whose name resolution reaches only 127.0.0.1 draws each tool, and its network log shows no
request for anything but the app on loopback. Without ``node_modules`` the pages say how to install the assets.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.harness import Harness, chromium, running_system, serving, settings_for
from tools.judges import npm_installed

pytestmark = pytest.mark.e2e

# (path, what the tool draws once its scripts ran and it read the schema)
PAGES = [
    ("/graphql", re.compile(r'class="[^"]*graphiql-execute-button')),
    ("/priorities/docs", re.compile(r'class="[^"]*opblock-summary')),
    ("/tasking/docs", re.compile(r'class="[^"]*opblock-summary')),
    ("/docs", re.compile(r'class="[^"]*opblock-summary')),
    ("/projects/redoc", re.compile(r'class="[^"]*api-content')),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Harness, str]]:
    npm_installed()  # npm ci of the root package.json, as make run and make test do
    with running_system(settings_for(data_dir=tmp_path_factory.mktemp("devtools"))) as h, \
            serving(h.system.asgi()) as url:
        yield h, url


def _browse(url: str, work: Path) -> tuple[str, list[dict[str, str]]]:
    """The DOM after the page's scripts ran, and every request the browser started (its network log)."""
    netlog = work / "netlog.json"
    done = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
         f"--user-data-dir={work / 'profile'}", "--window-size=1280,1000",
         # the browser's own form-autofill lookup would otherwise count as the page's (it carries its origin)
         "--disable-features=AutofillServerCommunication",
         # offline: no name resolves, so nothing but the app on 127.0.0.1 can answer
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--proxy-server=direct://",
         f"--log-net-log={netlog}", "--net-log-capture-mode=Default",
         "--virtual-time-budget=20000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    text = netlog.read_text().rstrip()
    if not text.endswith("}"):  # the log is closed on exit; tolerate a missing tail all the same
        text = text.rstrip(",") + "]}"
    log = json.loads(text)
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return done.stdout, [{"url": e["params"]["url"], "initiator": e["params"].get("initiator", ""),
                          "isolation": e["params"].get("network_isolation_key", "")}
                         for e in log["events"] if e["type"] == start_job and "url" in e.get("params", {})]


def _for_the_page(request: dict[str, str], base: str) -> bool:
    """Asked by the page (the document, its scripts, styles, workers, fetches), not by the browser's own services
    (update checks, network time), which a fresh profile starts whatever it shows and the resolver refuses."""
    return request["initiator"] == base or request["isolation"].startswith("http://127.0.0.1 ")


@pytest.mark.parametrize(("path", "drawn"), PAGES, ids=[p for p, _ in PAGES])
def test_each_tool_renders_offline_from_loopback_only(served: tuple[Harness, str], path: str, drawn: re.Pattern[str],
                                                      tmp_path: Path, say: Callable[[str], None]) -> None:
    _, base = served
    dom, requests = _browse(base + path, tmp_path)
    assert drawn.search(dom), f"{path} drew nothing:\n{dom[:3000]}"
    asked = sorted({r["url"] for r in requests if _for_the_page(r, base)})
    assert f"{base}{path}" in asked and any("/_devtools/" in u for u in asked), asked
    elsewhere = [u for u in asked if not u.startswith(base + "/")]
    assert not elsewhere, f"{path} asked beyond 127.0.0.1: {elsewhere}"
    say(f"{path}: drawn offline; the page asked for {len(asked)} URLs, all on {base}")


@pytest.mark.parametrize("path", ["/graphql", "/docs", "/redoc", *(f"/{s}/{t}" for s in
                                  ("priorities", "tasking", "projects", "audit") for t in ("docs", "redoc"))])
def test_no_served_page_names_another_host(served: tuple[Harness, str], path: str) -> None:
    h, _ = served
    page = h.client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text
    assert "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]  # the browser refuses any other host
    referenced = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)', page.text) + re.findall(
        r'url:\s*["\']([^"\']+)', page.text)
    assert referenced, page.text
    assert all(ref.startswith("/") and not ref.startswith("//") for ref in referenced), referenced
    assert not re.search(r"https?://|//(?:unpkg|cdn|fonts\.)", page.text), page.text
    for ref in (r for r in referenced if "/_devtools/" in r):
        assert h.client.get(ref).status_code == 200, ref


def test_only_the_named_assets_are_served(served: tuple[Harness, str]) -> None:
    h, _ = served
    refused = h.client.get("/_devtools/..%2Fpackage.json")
    assert refused.status_code == 404
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert h.client.get("/_devtools/swagger-ui-bundle.js").headers["content-type"].startswith("text/javascript")


def test_without_the_npm_packages_the_pages_say_how_to_install_them(served: tuple[Harness, str], tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    h, _ = served
    monkeypatch.setenv("PARTNERSHIP_NODE_MODULES", str(tmp_path))  # an empty node_modules
    for path, tool in (("/graphql", "GraphiQL"), ("/priorities/docs", "Swagger UI"), ("/tasking/redoc", "ReDoc")):
        page = h.client.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 503
        assert f"{tool} is not installed" in page.text and "make run" in page.text and "npm" in page.text
    asset = h.client.get("/_devtools/graphiql.umd.js")
    assert asset.status_code == 503 and asset.json()["type"].endswith("DEVTOOLS_NOT_INSTALLED")
