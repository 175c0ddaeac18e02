"""The broker goes away: commands are still accepted (they are in each service's own store), the worker's /readyz
says its relay is degraded, and when the broker returns the relay catches up by itself and the read models converge.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.workload import MEETINGS, Workload
from services.audit.reconcile import reconcile
from tests.chaos.test_faults import mint_for
from tests.harness import (
    Process,
    RecordedMeeting,
    free_port,
    running_system,
    settings_env,
    settings_for,
    wait_until,
)

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(300)]


def test_commands_are_accepted_while_the_broker_is_down_and_flow_on_when_it_returns(
        tmp_path: Path, kafka_broker: Any, kafka_bootstrap: str, postgres_url: str,
        say: Callable[[str], None]) -> None:
    # Five processes (and a reconciler) of a few stores each: small pools stay within the server's 200 connections.
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap,
                            postgres_pool_size=2, postgres_max_overflow=8)
    env = {**settings_env(settings), "PARTNERSHIP_POSTGRES_POOL_SIZE": "2", "PARTNERSHIP_POSTGRES_MAX_OVERFLOW": "6"}
    port = free_port()
    with running_system(settings, workers=False) as h:
        workers = [Process(["worker", "priorities", "--port", str(port)], env, tmp_path / "priorities.log"),
                   *(Process(["worker", name], env, tmp_path / f"{name}.log")
                     for name in ("tasking", "projects", "reporting"))]
        readyz = f"http://127.0.0.1:{port}/readyz"

        def ready() -> httpx.Response | None:
            try:
                return httpx.get(readyz, timeout=5)
            except httpx.HTTPError:
                return None

        try:
            workload = Workload(h.client, mint_for(h), concurrency=10)
            workload.prepare()
            wait_until(lambda: (r := ready()) is not None and r.status_code == 200, 90, "the worker to be ready")
            topic = settings.topic("priorities.events")
            # Objectives and targets are decisions at the meetings prepare recorded in tasking: once priorities'
            # copy has them (through the broker), those steps need nothing more from it.
            for name, (body, _) in MEETINGS.items():
                h.wait_meeting_known(RecordedMeeting(workload.setup[name], int(workload.setup[f"{name}_version"]),
                                                     body, date(2011, 5, 10)), ("priorities",), timeout=90)

            kafka_broker.stop()
            try:
                down_at = time.monotonic()
                accepted_before = workload.stats.accepted_commands
                # Only the first steps need nothing from the broker: objectives and targets, in their own store.
                give_up = time.monotonic() + 60
                while workload.stats.commands["set target"] < 10 and time.monotonic() < give_up:
                    if not workload.command():
                        time.sleep(0.05)
                accepted_down = workload.stats.accepted_commands - accepted_before
                assert accepted_down >= 20 and not workload.stats.failed, workload.stats.examples
                degraded = wait_until(
                    lambda: (r := ready()) is not None and r.json()["relays"][topic]["degraded"] and r, 90,
                    "the worker's /readyz to report the relay degraded")
                assert degraded.status_code == 503 and degraded.json()["checks"]["broker"] != "ok"
                web = h.client.get("/readyz")  # the web process stays ready: commands need only the database
                assert web.status_code == 200 and web.json()["checks"]["broker"] != "ok", web.text
                down_for = time.monotonic() - down_at
            finally:
                kafka_broker.start()
            returned_at = time.monotonic()
            report = reconcile(settings, wait=90)
            caught_up = time.monotonic() - returned_at
            assert report.ok, "\n".join(map(str, report.differences))
            recovered = wait_until(lambda: (r := ready()) is not None and r.status_code == 200 and r, 60,
                                   "the relay to recover")
            assert not recovered.json()["relays"][topic]["degraded"]
            say(f"broker down {down_for:.1f}s: {accepted_down} commands accepted meanwhile, relay reported "
                  f"degraded; after the broker returned the read models converged in {caught_up:.1f}s "
                  f"({report.counts['events']})")
        finally:
            for worker in workers:
                worker.terminate()
