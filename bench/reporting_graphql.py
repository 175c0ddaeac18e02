"""Benchmark: GraphQL latency of the roll-up and of ``asOf`` queries with a long history, on real PostgreSQL.

A synthetic history (``bench.reporting_history``, default 100,000 events: objectives, 8 targets, 48 taskings,
960 projects, monthly progress reports) is projected by the rebuild path into a fresh PostgreSQL schema; the
gateway runs as its own process (``partnership serve reporting``); this process sends each query over HTTP, one at
a time, and times it. Aim: p99 at most 50 ms for the roll-up and for ``asOf`` and ``inForceOn`` queries.

Each query is timed twice: *cold*, every request with ``Cache-Control: no-cache`` so that the gateway runs it
(a response-cache miss: version check, execution, encoding), and *warm*, plain requests that the response cache
answers (the hit and miss counts, from the gateway's ``/metrics``, are printed with them). With
``--no-cache`` the gateway runs with the cache off (``PARTNERSHIP_GRAPHQL_CACHE_MIB=0``) and only cold figures
are taken.

The partnership's rules (founded and changed a dozen times, #23) are in the history too, and in reporting's copy
of them, so ``partnership`` / ``districts`` / ``themeGroups`` with ``asOf`` and ``inForceOn`` read rules of record.

Run: ``python -m bench.reporting_graphql [--events 100000] [--requests 300] [--no-cache] [--only NAME ...]``.
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

from bench.reporting_history import History, generate, moments
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
TREE_IN_FORCE = """query($at: DateTime, $on: Date) {
  objectiveTree(asOf: $at, inForceOn: $on) { title children { title targets { metric targetValue } } }
  taskings(asOf: $at, inForceOn: $on) { district share status } }"""
PROJECTS_IN_FORCE = """query($at: DateTime, $on: Date) {
  deliveryProjectsConnection(asOf: $at, inForceOn: $on, first: 50, district: "worcester") {
  totalCount edges { node { title rag direction lastReportedOn } } } }"""
RULES_IN_FORCE = """query($at: DateTime, $on: Date) {
  partnership(asOf: $at, inForceOn: $on) { maxAgreedPrioritiesPerDistrict
    ragThresholds { greenWithinPercent amberWithinPercent } bodies { id quorum } schemesOfDelegation { id } }
  districts(asOf: $at, inForceOn: $on) { id name partnership quorum }
  themeGroups(asOf: $at, inForceOn: $on) { id quorum } }"""
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


def _rules_history(history: History) -> list[bytes]:
    """The partnership's rules founded and changed a dozen times over the history's years (as tasking publishes
    them), added to the history; the envelopes, for reporting's copy of them (``_copy_rules``)."""
    import uuid
    from datetime import date

    from services.tasking.partnership import SYSTEM, founding_of
    from shared.contracts import Actor, Decision
    from shared.contracts.tasking import PartnershipFounded, PriorityLimitChanged, QuorumChanged
    from shared.partnership import load

    officer = Actor("officer-1", "worcestershire-cc", "partnership_officer")
    subject = uuid.uuid5(uuid.NAMESPACE_URL, "bench-partnership")
    facts: list[Any] = [PartnershipFounded(actor=SYSTEM, correlation_id="f", **founding_of(load()))]
    for n in range(12):
        board = Decision(body="worcestershire-partnership", decided_on=date(2009 + n // 2, 1 + 6 * (n % 2), 1),
                         reason=f"Rules change {n}", meeting_id=str(uuid.uuid4()), meeting_version=n + 1)
        facts.append(QuorumChanged(actor=officer, correlation_id="c", decision=board, body="pstg",
                                   quorum=3 + n % 2, previous_quorum=3 + (n + 1) % 2) if n % 3 else
                     PriorityLimitChanged(actor=officer, correlation_id="c", decision=board,
                                          max_agreed_priorities_per_district=4 + n % 2,
                                          previous_max_agreed_priorities_per_district=5 - n % 2))
    before = len(history.events.get("tasking.events", []))
    for version, fact in enumerate(facts, start=1):
        history.add("tasking", subject, version, fact)
    return [value for _, value in history.events["tasking.events"][before:]]


def _copy_rules(settings: Any, envelopes: list[bytes]) -> None:
    """Reporting's copy of the rules, as its narrow consumer keeps it (the rebuild replays read models only)."""
    from shared.envelope import decode
    from shared.meeting_copy import DDL, MeetingsCopy
    from shared.readstore import ReadStore

    store = ReadStore(settings, "reporting")
    try:
        store.migrate(DDL)
        with store.transaction() as tx:
            for value in envelopes:
                MeetingsCopy().apply(tx, decode(value))
    finally:
        store.close()


def timed(client: httpx.Client, query: str, variables: list[dict[str, Any]], requests: int,
          cold: bool) -> list[float]:
    times = []
    headers = {"cache-control": "no-cache"} if cold else {}
    for n in range(requests + 20):
        started = time.perf_counter()
        response = client.post("/graphql", json={"query": query, "variables": variables[n % len(variables)]},
                               headers=headers)
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
    parser.add_argument("--no-cache", action="store_true", help="run the gateway without its response cache")
    parser.add_argument("--only", action="append", default=[],
                        help="only the queries whose name contains this (repeatable), e.g. --only inForceOn")
    args = parser.parse_args()
    with postgres() as url, tempfile.TemporaryDirectory() as tmp:
        settings = settings_for(data_dir=Path(tmp), postgres_url=url)
        history = generate(args.events)
        rule_changes = _rules_history(history)
        replay = Replay("reporting")
        for events in history.events.values():
            for _, value in events:
                replay.apply(value)
        replay.load(settings, progress=False)
        _copy_rules(settings, rule_changes)
        port = free_port()
        env = settings_env(settings) | ({"PARTNERSHIP_GRAPHQL_CACHE_MIB": "0"} if args.no_cache else {})
        gateway = Process(["serve", "reporting", "--port", str(port), "--host", "127.0.0.1"],
                          env, Path(tmp) / "gateway.log")
        try:
            from shared.auth import TokenService

            token = TokenService(TEST_SECRET, settings.jwt_issuer, settings.jwt_audience).mint(
                "bench", "worcestershire-cc", ["auditor"], ttl_seconds=3600)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                              headers={"authorization": f"Bearer {token}"}) as client:
                wait_until(lambda: _up(client), timeout=60, what="the gateway")
                at = [{"at": m.isoformat()} for m in moments(history, 50)]
                on = [{"on": m.date().isoformat()} for m in moments(history, 50, seed=12)]
                both = [{**a, **o} for a, o in zip(at, on, strict=True)]
                queries: dict[str, tuple[str, list[dict[str, Any]]]] = {
                    "roll-up (now, with projects)": (ROLLUP, [{}]),
                    "roll-up asOf": (ROLLUP_AS_OF, at),
                    "objective tree + taskings asOf": (TREE_AS_OF, at),
                    "projects page asOf": (PROJECTS_AS_OF, at),
                    "objective tree + taskings inForceOn": (TREE_IN_FORCE, on),
                    "projects page inForceOn": (PROJECTS_IN_FORCE, on),
                    "tree + taskings asOf and inForceOn": (TREE_IN_FORCE, both),
                    "partnership rules asOf and inForceOn": (RULES_IN_FORCE, both),
                }
                queries = {k: v for k, v in queries.items() if not args.only or any(o in k for o in args.only)}
                results: dict[str, list[float]] = {}
                lookups: dict[str, tuple[float, float]] = {}
                for name, (query, variables) in queries.items():
                    results[f"{name}, cold"] = timed(client, query, variables, args.requests, cold=True)
                    if not args.no_cache:
                        before = _lookups(client)
                        results[f"{name}, warm"] = timed(client, query, variables, args.requests, cold=False)
                        after = _lookups(client)
                        lookups[f"{name}, warm"] = (after[0] - before[0], after[1] - before[1])
        finally:
            gateway.terminate()
    print(f"history: {history.count:,} events, {replay.report.rows.get('delivery_projects', 0):,} project rows, "
          f"{replay.report.rows.get('delivery_outcomes', 0):,} outcome rows, "
          f"{replay.report.rows.get('event_log', 0):,} in the event log; PostgreSQL; gateway in its own process")
    print("cold: Cache-Control: no-cache, the gateway runs every request; warm: answered by the response cache"
          + (" (cache off: cold only)" if args.no_cache else ""))
    met = True
    for name, times in results.items():
        p50, p99 = percentile(times, 50), percentile(times, 99)
        met = met and p99 <= AIM_MS
        hits = f"; {lookups[name][0]:.0f} hits, {lookups[name][1]:.0f} misses" if name in lookups else ""
        print(f"{name:38s} p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   ({len(times)} requests; "
              f"p99 / aim {p99 / AIM_MS:.2f}{hits})")
    print(f"aim p99 <= {AIM_MS:.0f} ms for every query, cold and warm: {'met' if met else 'NOT met'}")


def _lookups(client: httpx.Client) -> tuple[float, float]:
    """The gateway's response-cache (hits, misses) so far, from its Prometheus metrics."""
    found = {"hit": 0.0, "miss": 0.0}
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("partnership_graphql_cache_lookups_total{"):
            head, _, value = line.rpartition(" ")
            for outcome in found:
                if f'outcome="{outcome}"' in head:
                    found[outcome] = float(value)
    return found["hit"], found["miss"]


def _up(client: httpx.Client) -> bool:
    try:
        return client.post("/graphql", json={"query": "{ districts { id } }"}).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
