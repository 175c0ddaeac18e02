"""A whole system under test: built from settings, workers running, spoken to through its public APIs."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from services.runtime import SERVICES, System
from shared.settings import Settings

TEST_SECRET = "test-signing-key-that-is-long-enough-0123456789"
TEST_AUDIT_KEY = "a7" * 32  # checkpoints are signed wherever a store is not embedded; tests sign with this seed


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


BOARD_DAY = date(2011, 3, 15)
"""The partnership board's meeting that adopts the tests' objectives (a decision like any other)."""

SEATED_ON = date(2010, 4, 1)
"""When the tables the tests seat came into force: before every meeting the tests record."""

QUORATE_TABLES = {
    "worcestershire-partnership": ["worcestershire-cc", "nhs-worcestershire", "west-mercia-police", "hw-fire",
                                   "chamber-of-commerce"],
    "pstg": ["worcestershire-cc", "chamber-of-commerce", "worcester-college"],
    "communities-theme-group": ["worcestershire-cc", "vcs-alliance", "west-mercia-police"],
    "health-theme-group": ["nhs-worcestershire", "worcestershire-cc", "vcs-alliance"],
}
"""Partners enough to make each body quorate (a district partnership: its council, the college or police, the VCS)."""

_DISTRICT_COUNCILS = {"worcester": "worcester-city-council", "bromsgrove": "bromsgrove-dc",
                      "malvern-hills": "malvern-hills-dc", "redditch": "redditch-bc", "wychavon": "wychavon-dc",
                      "wyre-forest": "wyre-forest-dc"}


@dataclass(frozen=True)
class RecordedMeeting:
    """A meeting tasking recorded: what a decision taken at it names."""

    id: str
    meeting_version: int
    body: str
    held_on: date

    def __str__(self) -> str:
        return self.id

    def decision(self, reason: str, reference: str | None = None) -> dict[str, Any]:
        """A decision taken at this meeting, as a command's ``decision`` field."""
        return {"body": self.body, "decided_on": self.held_on.isoformat(), "reason": reason,
                "meeting_id": self.id, "meeting_version": self.meeting_version, "reference": reference}


def quorate_table(body: str) -> list[str]:
    if body in QUORATE_TABLES:
        return QUORATE_TABLES[body]
    return [_DISTRICT_COUNCILS[body], "vcs-alliance", "west-mercia-police"]


class Harness:
    """Drives one System: REST and GraphQL through the ASGI app, tokens for any role."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.client = TestClient(system.asgi(), raise_server_exceptions=False)
        self._meetings: dict[tuple[str, date, tuple[str, ...]], RecordedMeeting] = {}
        self._fed: dict[tuple[str, date, tuple[str, ...]], dict[str, Any]] = {}

    def pseudonym(self, subject: str) -> str | None:
        """The pseudonym the people vault issued the person of this subject (what events and answers show)."""
        from shared.audit.people import vault_for

        return vault_for(self.system.settings).pseudonym_of(subject)

    def token(self, role: str, org: str = "worcestershire-cc", user: str | None = None, **claims: Any) -> str:
        return self.system.tokens.mint(user or f"user-{role}", org, [role], **claims)

    def headers(self, role: str, org: str = "worcestershire-cc", **claims: Any) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token(role, org, **claims)}"}

    # -- tables, meetings and decisions (every decision stands on a recorded quorate meeting) ---------------------
    def seat(self, body: str, organisation: str, *, joined_on: date = SEATED_ON,
             nominated_by: str | None = None) -> None:
        """Seat a partner at a body's table (nothing if it sits there already)."""
        response = self.client.post("/tasking/memberships", json={
            "body": body, "organisation": organisation, "nominated_by": nominated_by,
            "joined_on": joined_on.isoformat()}, headers=self.headers("partnership_officer"))
        assert response.status_code == 201 or "already a member" in response.text, response.text

    def meeting(self, body: str, held_on: date, present: list[str] | None = None,
                headers: dict[str, str] | None = None) -> RecordedMeeting:
        """Record a meeting of ``body`` in tasking; with no ``present``, a quorate one (its table seated first)."""
        if present is None:
            present = quorate_table(body)
            for organisation in present:
                self.seat(body, organisation)
        response = self.client.post("/tasking/meetings", json={
            "body": body, "held_on": held_on.isoformat(), "present": present, "title": f"{body} meeting"},
            headers=headers or self.headers("partnership_officer"))
        assert response.status_code == 201, response.text
        created = response.json()
        return RecordedMeeting(str(created["id"]), int(created["meeting_version"]), body, held_on)

    def decision(self, body: str, held_on: date | str, reason: str = "Decided at the meeting",
                 reference: str | None = None, *, known_to: tuple[str, ...] = ("priorities", "projects"),
                 present: list[str] | None = None) -> dict[str, Any]:
        """A decision at a freshly recorded quorate meeting of ``body``, once the services in ``known_to`` that run
        here have heard of the meeting and of the memberships behind it."""
        day = date.fromisoformat(held_on) if isinstance(held_on, str) else held_on
        key = (body, day, tuple(present or ()))
        meeting = self._meetings.get(key)  # one meeting of a body a day serves all the day's decisions
        if meeting is None:
            meeting = self._meetings[key] = self.meeting(body, day, present)
        self.wait_meeting_known(meeting, known_to)
        return meeting.decision(reason, reference)

    def board_decision(self, reason: str = "Adopted by the partnership board", held_on: date = BOARD_DAY
                       ) -> dict[str, Any]:
        """A decision of the partnership board at a quorate meeting (adding an objective is one): recorded in
        tasking when it runs here, else fed into priorities' copy of tasking's meetings as tasking's events would."""
        if "tasking" in self.system.applications:
            return self.decision("worcestershire-partnership", held_on, reason)
        from tests.copies import board_decision

        key = ("worcestershire-partnership", held_on, ("fed",))
        if key not in self._fed:
            self._fed[key] = board_decision(self.system.applications["priorities"].local, held_on, reason)
        return {**self._fed[key], "reason": reason}

    def wait_meeting_known(self, meeting: RecordedMeeting, services: tuple[str, ...] = ("priorities", "projects"),
                           timeout: float = 30.0) -> None:
        from shared.contracts import Decision
        from shared.decisions import MeetingNotYetKnown, MeetingRecords, resolve_meeting

        decision = Decision(meeting.body, meeting.held_on, "waiting", meeting_id=meeting.id,
                            meeting_version=meeting.meeting_version)
        for name in services:
            if name not in self.system.applications:
                continue
            records = self.system.applications[name].meetings  # type: ignore[attr-defined]

            def known(records: MeetingRecords = records) -> bool:
                try:
                    resolve_meeting(decision, records)
                except MeetingNotYetKnown:
                    return False
                return True

            wait_until(known, timeout, what=f"{name} to hear of the meeting of {meeting.body}")

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
        "audit_signing_key": TEST_AUDIT_KEY,
        "dev_tokens": True,  # distributed tests sign in with the development tokens (OIDC: test_oidc_keycloak)
        "relay_poll_interval": 0.005,
        # The suite is a pre-release environment: events of contracts not yet released flow like the others
        # (tests/integration/test_unreleased_contracts.py proves they are held where partners read the topics).
        "publish_unreleased_events": True,
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


class Process:
    """One ``partnership`` process (web or worker) with its own environment, killed at the end."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        import os
        import subprocess
        import sys

        self.args = args
        self.log_path = log_path
        self._log = log_path.open("ab")
        full_env = {**os.environ, **env}
        self.popen = subprocess.Popen([sys.executable, "-m", "services.cli", *args], env=full_env,
                                      stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        """SIGKILL: no chance to finish a batch or record a position."""
        import os
        import signal

        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)

    def terminate(self, timeout: float = 15.0) -> None:
        import os
        import signal
        import subprocess

        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def chromium() -> str:
    """Debian's Chromium for the browser tests: missing is a failure in CI (make test installs it), a skip elsewhere."""
    import os
    import shutil

    import pytest

    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: scripts/ensure-system-packages.sh installs it")
        pytest.skip("chromium is not installed (scripts/ensure-system-packages.sh installs it)")
    return found


@contextmanager
def serving(app: Any, port: int | None = None, **config: Any) -> Iterator[str]:
    """``app`` under a real uvicorn on a loopback port, for clients outside this process; yields its base URL."""
    import threading

    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), what="the app to listen")
        assert server.started, "the app did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a child process the same settings."""
    env = {
        "PARTNERSHIP_DATA_DIR": str(settings.data_dir),
        "PARTNERSHIP_SCHEMA_PREFIX": settings.schema_prefix,
        "PARTNERSHIP_TOPIC_PREFIX": settings.topic_prefix,
        "PARTNERSHIP_JWT_SECRET": TEST_SECRET,
        "PARTNERSHIP_DEV_TOKENS": "true",
        "PARTNERSHIP_RELAY_POLL_INTERVAL": str(settings.relay_poll_interval),
        "PARTNERSHIP_LOG_LEVEL": "WARNING",
        "PARTNERSHIP_PUBLISH_UNRELEASED_EVENTS": str(settings.publishes_unreleased_events).lower(),
        "PARTNERSHIP_AUDIT_SIGNING_KEY": settings.audit_signing_key.get_secret_value() if settings.audit_signing_key
        else TEST_AUDIT_KEY,
    }
    if settings.database_url:
        env["PARTNERSHIP_DATABASE_URL"] = settings.database_url
    if settings.people_database_url:
        env["PARTNERSHIP_PEOPLE_DATABASE_URL"] = settings.people_database_url
    if settings.kafka_bootstrap_servers:
        env["PARTNERSHIP_KAFKA_BOOTSTRAP_SERVERS"] = settings.kafka_bootstrap_servers
    return env
