"""A lean HTTP/1.1 client for the load generators: the standard library's ``http.client`` on one kept-alive
connection per thread and host.

The generators share the machine's two cores with the system they measure, so what they spend per request is taken
from the system: httpx spent about four times as much CPU per request as this. Only what the benchmarks need:
JSON bodies, headers, status, JSON or text answers.
"""

from __future__ import annotations

import http.client
import json as jsonlib
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit


class LeanResponse:
    def __init__(self, status_code: int, headers: Mapping[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


class LeanClient:
    """``post``/``get`` on ``base_url`` (or absolute URLs), with default headers; thread-safe (a connection per
    thread)."""

    def __init__(self, base_url: str = "", *, headers: Mapping[str, str] | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {k.lower(): v for k, v in (headers or {}).items()}
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self, netloc: str) -> http.client.HTTPConnection:
        connections: dict[str, http.client.HTTPConnection] = self._local.__dict__.setdefault("connections", {})
        conn = connections.get(netloc)
        if conn is None:
            host, _, port = netloc.partition(":")
            conn = connections[netloc] = http.client.HTTPConnection(host, int(port or 80), timeout=self.timeout)
        return conn

    def request(self, method: str, url: str, *, json: Any = None, headers: Mapping[str, str] | None = None,
                content: bytes | None = None) -> LeanResponse:
        parts = urlsplit(url if "://" in url else f"{self.base_url}{url}")
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        sent = {**self.headers, **{k.lower(): v for k, v in (headers or {}).items()}}
        body = content
        if json is not None:
            body = jsonlib.dumps(json).encode()
            sent.setdefault("content-type", "application/json")
        for attempt in (1, 2):
            reused = parts.netloc in self._local.__dict__.get("connections", {})
            conn = self._connection(parts.netloc)
            try:
                conn.request(method, target, body=body, headers=sent)
                answer = conn.getresponse()
                content_bytes = answer.read()
                return LeanResponse(answer.status, {k.lower(): v for k, v in answer.getheaders()}, content_bytes)
            except Exception as error:
                conn.close()
                del self._local.connections[parts.netloc]
                # A kept-alive connection the server closed while it sat idle (its keep-alive timeout) fails on
                # reuse before the request is read: reconnect once, as HTTP clients do.
                stale = reused and isinstance(error, http.client.RemoteDisconnected | ConnectionResetError
                                              | BrokenPipeError)
                if attempt == 2 or not stale:
                    raise
        raise AssertionError("unreachable")

    def post(self, url: str, *, json: Any = None, headers: Mapping[str, str] | None = None) -> LeanResponse:
        return self.request("POST", url, json=json, headers=headers)

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> LeanResponse:
        return self.request("GET", url, headers=headers)

    def close(self) -> None:
        for conn in self._local.__dict__.get("connections", {}).values():
            conn.close()
