"""A browser app on another origin calls the GraphQL gateway, in a real headless Chromium (Debian's chromium): a page
served from an allowed origin (a second loopback port) sends a token and gets data, its preflight cached for the
next call; a page from an origin not allowed is refused by the browser itself (its fetch fails, nothing is sent
beyond the preflight)."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.harness import chromium, free_port, running_system, serving, settings_for

pytestmark = pytest.mark.e2e

PAGE = """<!doctype html><meta charset="utf-8"><title>dashboard</title><script>
(async () => {
  const calls = [];
  for (const attempt of [1, 2]) {  // the second call must reuse the cached preflight
    try {
      const answer = await fetch(%(api)s + "/graphql", {method: "POST", headers: {
        "Authorization": "Bearer " + %(token)s, "Content-Type": "application/json"},
        body: JSON.stringify({query: "{ districts { name } }"})});
      calls.push({status: answer.status, body: await answer.json(),
                  correlation: answer.headers.get("X-Correlation-ID")});
    } catch (error) {
      calls.push({error: String(error)});
    }
  }
  await fetch("/result", {method: "POST", body: JSON.stringify(calls)});
})();
</script>"""


@dataclass
class Seen:
    """What reached the API: (method, path, Origin) of each request."""

    requests: list[tuple[str, str, str]] = field(default_factory=list)

    def of(self, origin: str) -> list[tuple[str, str]]:
        return [(method, path) for method, path, seen in self.requests if seen == origin]


def _recording(app: Any, seen: Seen) -> Any:
    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            origin = dict(scope["headers"]).get(b"origin", b"").decode()
            seen.requests.append((scope["method"], scope["path"], origin))
        await app(scope, receive, send)
    return asgi


class _PageServer:
    """A site of its own on a loopback port: the page at /, and /result where the page posts what it got."""

    def __init__(self) -> None:
        self.page = ""  # written once the API's address and a token are known
        self.results: queue.Queue[Any] = queue.Queue()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = site.page.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                site.results.put(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _open(chromium: str, url: str, profile: Path, site: _PageServer) -> Any:
    browser = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
         f"--user-data-dir={profile}", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        return site.results.get(timeout=60)
    except queue.Empty:
        browser.kill()
        pytest.fail(f"the page at {url} posted no result: {browser.communicate(timeout=10)[1][-2000:]}")
    finally:
        if browser.poll() is None:
            browser.terminate()
            try:
                browser.wait(10)
            except subprocess.TimeoutExpired:
                browser.kill()
                browser.wait(10)


@dataclass
class Sites:
    api: str
    allowed: _PageServer
    other: _PageServer
    seen: Seen


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    allowed, other = _PageServer(), _PageServer()
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    settings = settings_for(data_dir=tmp_path_factory.mktemp("cors-browser"), cors_origins=[allowed.origin])
    with running_system(settings, workers=False) as h:
        seen = Seen()
        try:
            with serving(_recording(h.system.asgi(), seen), port=port, lifespan="off"):
                allowed.page = other.page = PAGE % {"api": json.dumps(api), "token": json.dumps(h.token("auditor"))}
                yield Sites(api, allowed, other, seen)
        finally:
            allowed.close()
            other.close()


def test_a_page_of_an_allowed_origin_gets_data_with_its_token(sites: Sites, tmp_path: Path) -> None:
    calls = _open(chromium(), sites.allowed.origin + "/", tmp_path / "profile", sites.allowed)
    assert len(calls) == 2
    for call in calls:
        assert "error" not in call, call
        assert call["status"] == 200
        assert "errors" not in call["body"], call["body"]
        assert {"name": "Wyre Forest"} in call["body"]["data"]["districts"]
        assert call["correlation"]  # an exposed header the page's script can read
    # One preflight for two calls: the browser kept its answer (max_age).
    assert sites.seen.of(sites.allowed.origin) == [("OPTIONS", "/graphql"), ("POST", "/graphql"),
                                                    ("POST", "/graphql")]


def test_a_page_of_an_origin_not_allowed_is_refused_by_the_browser(sites: Sites, tmp_path: Path) -> None:
    calls = _open(chromium(), sites.other.origin + "/", tmp_path / "profile", sites.other)
    assert len(calls) == 2
    for call in calls:
        assert call.get("error", "").startswith("TypeError"), call  # "Failed to fetch": the page learns nothing
    # The browser asked and, refused, sent nothing else: no query with the token ever left it.
    requests = sites.seen.of(sites.other.origin)
    assert requests and set(requests) == {("OPTIONS", "/graphql")}
