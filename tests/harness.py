"""A whole system under test: built from settings, workers running, spoken to through its public APIs."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from services.runtime import SERVICES, System
from shared.settings import Settings

TEST_SECRET = "test-signing-key-that-is-long-enough-0123456789"


def unique(prefix: str) -> str:
    """A fresh name (topic prefix, schema prefix): tests isolate by names, not by sleeping."""
    return f"{prefix}{uuid.uuid4().hex[:10]}_"


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


class Harness:
    """Drives one System: REST and GraphQL through the ASGI app, tokens for any role."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.client = TestClient(system.asgi(), raise_server_exceptions=False)

    def token(self, role: str, org: str = "worcestershire-cc", user: str | None = None, **claims: Any) -> str:
        return self.system.tokens.mint(user or f"user-{role}", org, [role], **claims)

    def headers(self, role: str, org: str = "worcestershire-cc", **claims: Any) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token(role, org, **claims)}"}

    def graphql(self, query: str, variables: dict[str, Any] | None = None, role: str = "auditor",
                org: str = "worcestershire-cc") -> dict[str, Any]:
        response = self.client.post("/graphql", json={"query": query, "variables": variables or {}},
                                    headers=self.headers(role, org))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def settings_for(*, data_dir: Path, postgres_url: str | None = None, kafka: str | None = None,
                 **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": postgres_url,
        "schema_prefix": unique("t") if postgres_url else "",
        "kafka_bootstrap_servers": kafka,
        "topic_prefix": unique("t") if kafka else "",
        "jwt_secret": TEST_SECRET,
        "relay_poll_interval": 0.005,
    }
    values.update(overrides)
    return Settings(**values)


@contextmanager
def running_system(settings: Settings, services: tuple[str, ...] = SERVICES, workers: bool = True) -> Iterator[Harness]:
    system = System(settings, services=services)
    if workers:
        system.start_workers()
    try:
        yield Harness(system)
    finally:
        system.close()
