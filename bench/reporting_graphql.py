"""Benchmark: GraphQL latency of the roll-up and of ``asOf`` queries with a long history, on real PostgreSQL.

A synthetic history (``bench.reporting_history``, default 100,000 events: objectives, 8 targets, 48 taskings,
960 projects, monthly progress reports) is projected by the rebuild path into a fresh PostgreSQL schema; the
gateway runs as its own process (``partnership serve reporting``); this process sends each query over HTTP, one at
a time, and times it. Aim: p99 at most 50 ms for the roll-up and for ``asOf`` queries.

Run: ``python -m bench.reporting_graphql [--events 100000] [--requests 300]``.
Uses TEST_POSTGRES_URL when set, else starts PostgreSQL on loopback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.reporting_history import generate, moments
from bench.walking_skeleton import percentile
from services.reporting.rebuild import Replay
from tests.harness import TEST_SECRET, Process, free_port, settings_env, settings_for, wait_until

AIM_MS = 50.0

ROLLUP = """{ deliveryRollups { targetId metric actual percentOfTarget
  shares { district actual percentOfShare projects { title contribution rag } } } }"""
ROLLUP_AS_OF = """query($at: DateTime) { deliveryRollups(asOf: $at) { targetId actual percentOfTarget
  shares { district actual percentOfShare } } }"""
TREE_AS_OF = """query($at: DateTime) {
  objectiveTree(asOf: $at) { title children { title targets { metric targetValue } } }
  taskings(asOf: $at) { district share status } }"""
PROJECTS_AS_OF = """query($at: DateTime) { deliveryProjectsConnection(asOf: $at, first: 50, district: "worcester") {
  totalCount edges { node { title rag direction lastReportedOn } } } }"""


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    if url := os.environ.get("TEST_POSTGRES_URL"):
        yield url
        return
    from tools.realservers import PostgresServer

    with PostgresServer() as server:
        yield server.url


def timed(client: httpx.Client, query: str, variables: list[dict[str, Any]], requests: int) -> list[float]:
    times = []
    for n in range(requests + 20):
        started = time.perf_counter()
        response = client.post("/graphql", json={"query": query, "variables": variables[n % len(variables)]})
        elapsed = (time.perf_counter() - started) * 1000
        body = response.json()
        assert response.status_code == 200 and not body.get("errors"), body
        if n >= 20:  # warm-up
            times.append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with postgres() as url, tempfile.TemporaryDirectory() as tmp:
        settings = settings_for(data_dir=Path(tmp), postgres_url=url)
        history = generate(args.events)
        replay = Replay("reporting")
        for events in history.events.values():
            for _, value in events:
                replay.apply(value)
        replay.load(settings, progress=False)
        port = free_port()
        gateway = Process(["serve", "reporting", "--port", str(port), "--host", "127.0.0.1"],
                          settings_env(settings), Path(tmp) / "gateway.log")
        try:
            from shared.auth import TokenService

            token = TokenService(TEST_SECRET, settings.jwt_issuer, settings.jwt_audience).mint(
                "bench", "worcestershire-cc", ["auditor"], ttl_seconds=3600)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                              headers={"authorization": f"Bearer {token}"}) as client:
                wait_until(lambda: _up(client), timeout=60, what="the gateway")
                at = [{"at": m.isoformat()} for m in moments(history, 50)]
                results = {
                    "roll-up (now, with projects)": timed(client, ROLLUP, [{}], args.requests),
                    "roll-up asOf": timed(client, ROLLUP_AS_OF, at, args.requests),
                    "objective tree + taskings asOf": timed(client, TREE_AS_OF, at, args.requests),
                    "projects page asOf": timed(client, PROJECTS_AS_OF, at, args.requests),
                }
        finally:
            gateway.terminate()
    print(f"history: {history.count:,} events, {replay.report.rows.get('delivery_projects', 0):,} project rows, "
          f"{replay.report.rows.get('delivery_outcomes', 0):,} outcome rows, "
          f"{replay.report.rows.get('event_log', 0):,} in the event log; PostgreSQL; gateway in its own process")
    met = True
    for name, times in results.items():
        p50, p99 = percentile(times, 50), percentile(times, 99)
        met = met and p99 <= AIM_MS
        print(f"{name:32s} p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   ({len(times)} requests; "
              f"p99 / aim {p99 / AIM_MS:.2f})")
    print(f"aim p99 <= {AIM_MS:.0f} ms for every query: {'met' if met else 'NOT met'}")


def _up(client: httpx.Client) -> bool:
    try:
        return client.post("/graphql", json={"query": "{ districts { id } }"}).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
