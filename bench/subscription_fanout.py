"""The gateway's subscription fan-out alone: what N subscribers cost compared with 1, in the same run.

``bench.subscriptions`` runs the whole system (every service, Kafka) and checks every subscriber gets what it is
entitled to; on a shared machine its lag is mostly everyone else's CPU. This bench isolates the part that grows
with the number of subscribers: the GraphQL gateway (``partnership serve reporting``, its own process, on
PostgreSQL) delivering the change feed. The bench writes feed rows itself at ``--rate`` per second (each with a
``pg_notify`` in its transaction, as the projection does: ``change_feed.append``), so nothing but the gateway's
delivery is measured.

One gateway process serves, in turn: one subscriber for ``--duration`` seconds, then ``--subscribers`` at once
for as long, each subscribed with ``graphql-transport-ws`` (raw websockets, the client kept light) with the
dashboard's document (``tests.live_client.UPDATES``) as a partnership officer, so every subscriber is entitled to
every row. Lag is from the row's ``committed_at`` to its arrival at the subscriber. Prints, for each phase: the
updates each subscriber got (and whether every one, once, in order), lag p50/p95/p99/max, the gateway's CPU
seconds and CPU per delivery; then the N-subscriber figures as a ratio of the 1-subscriber ones.

Run: ``python -m bench.subscription_fanout [--subscribers 50] [--rate 40] [--duration 30]``. Uses TEST_POSTGRES_URL
when set, else starts PostgreSQL on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import httpx

from bench.workload import percentile
from services.runtime import make_tokens
from tests.harness import Process, free_port, settings_env, settings_for, wait_until
from tests.live_client import UPDATES

DISTRICTS = ["worcester", "wychavon", "malvern-hills", "bromsgrove", "redditch", "wyre-forest"]


@dataclass
class Phase:
    subscribers: int
    rows_written: int = 0
    delivered: int = 0
    exact: int = 0
    lag_p50_ms: float = 0.0
    lag_p95_ms: float = 0.0
    lag_p99_ms: float = 0.0
    lag_max_ms: float = 0.0
    gateway_cpu_s: float = 0.0
    gateway_cpu_ms_per_delivery: float = 0.0
    problems: list[str] = field(default_factory=list)


def _position(cursor: str) -> int:
    return int(json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))[1])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (and its reaped children), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


class Writer:
    """Feed rows at ``rate`` per second, one transaction each, announced by NOTIFY as the projection does."""

    def __init__(self, database_url: str, schema: str, rate: float) -> None:
        self.database_url, self.schema, self.rate = database_url, schema, rate
        self.written: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="feed-writer")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
            tick, next_at, n = 1.0 / self.rate, time.monotonic(), 0
            while not self._stop.is_set():
                now = time.monotonic()
                if now < next_at:
                    time.sleep(min(next_at - now, 0.005))
                    continue
                next_at += tick
                n += 1
                moment = datetime.now(UTC).isoformat()
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(hashtext('partnership-change-feed:' || "
                                 "current_schema()))")
                    inserted = conn.execute(
                        "INSERT INTO change_feed (kind, subject, subject_type, version, event_type, occurred_at,"
                        " committed_at, district, theme_group, organisation, title, rag, previous_rag, status,"
                        " previous_status, decision) VALUES ('progress_reported', %s, 'project', %s,"
                        " 'projects.ProgressReported', %s, %s, %s, NULL, 'worcester-city-council', %s, 'green',"
                        " 'amber', 'open', NULL, NULL) RETURNING position",
                        (f"bench-project-{n % 40}", n, moment, datetime.now(UTC).isoformat(),
                         DISTRICTS[n % len(DISTRICTS)], f"Bench project {n % 40}")).fetchone()
                    conn.execute("SELECT pg_notify(left(current_schema() || '_changes', 63), '')")
                assert inserted is not None
                self.written.append(int(inserted[0]))


@dataclass
class Received:
    positions: list[int] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def _subscribe(ws_url: str, token: str, after: str, into: Received, joined: asyncio.Event,
                     stop: asyncio.Event) -> None:
    import websockets

    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                                  max_size=None, open_timeout=60, ping_timeout=60) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        ack = json.loads(await ws.recv())
        if ack.get("type") != "connection_ack":
            into.errors.append(f"not acknowledged: {ack}")
            joined.set()
            return
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": UPDATES, "variables": {"after": after}}}))
        joined.set()
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            now = time.time()
            message = json.loads(raw)
            if message.get("type") == "ping":
                await ws.send(json.dumps({"type": "pong"}))
                continue
            if message.get("type") != "next":
                into.errors.append(str(message)[:300])
                continue
            if message["payload"].get("errors"):
                into.errors.append(str(message["payload"]["errors"])[:300])
                continue
            update = message["payload"]["data"]["updates"]
            into.positions.append(_position(update["cursor"]))
            into.lags.append(now - datetime.fromisoformat(update["committedAt"]).timestamp())


def _phase(ws_url: str, token: str, after: str, subscribers: int, writer_args: tuple[str, str, float],
           duration: float, gateway_pid: int) -> Phase:
    phase = Phase(subscribers=subscribers)
    received = [Received() for _ in range(subscribers)]
    writer = Writer(*writer_args)

    async def main() -> None:
        stop = asyncio.Event()
        joined = [asyncio.Event() for _ in range(subscribers)]
        tasks = [asyncio.create_task(_subscribe(ws_url, token, after, into, ready, stop))
                 for into, ready in zip(received, joined, strict=True)]
        await asyncio.wait_for(asyncio.gather(*(j.wait() for j in joined)), 120)
        await asyncio.sleep(1.0)  # every subscription is registered with the broadcaster
        cpu_before = _cpu_seconds(gateway_pid)
        writer.start()
        await asyncio.sleep(duration)
        await asyncio.to_thread(writer.stop)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(len(r.positions) < len(writer.written) for r in received):
            await asyncio.sleep(0.2)
        phase.gateway_cpu_s = round(_cpu_seconds(gateway_pid) - cpu_before, 2)
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())
    phase.rows_written = len(writer.written)
    lags = [lag for r in received for lag in r.lags]
    for number, r in enumerate(received):
        phase.delivered += len(r.positions)
        if r.positions == writer.written:
            phase.exact += 1
        else:
            disordered = sum(1 for a, b in pairwise(r.positions) if b <= a)
            phase.problems.append(f"subscriber {number}: {len(r.positions)} of {len(writer.written)}, "
                                  f"{disordered} out of order; errors {r.errors[:1]}")
    if lags:
        phase.lag_p50_ms = round(percentile(lags, 50) * 1000, 1)
        phase.lag_p95_ms = round(percentile(lags, 95) * 1000, 1)
        phase.lag_p99_ms = round(percentile(lags, 99) * 1000, 1)
        phase.lag_max_ms = round(max(lags) * 1000, 1)
    if phase.delivered:
        phase.gateway_cpu_ms_per_delivery = round(phase.gateway_cpu_s * 1000 / phase.delivered, 3)
    return phase


def run(postgres: str, *, subscribers: int, rate: float, duration: float) -> list[Phase]:
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="partnership-fanout-")))
        settings = settings_for(data_dir=work, postgres_url=postgres)
        tokens = make_tokens(settings)
        token = tokens.mint("bench-officer", "worcestershire-county-council", ["partnership_officer"],
                            ttl_seconds=3600 + int(duration) * 4)
        port = free_port()
        env = {**settings_env(settings), "PARTNERSHIP_LOG_LEVEL": "WARNING"}
        gateway = Process(["serve", "reporting", "--port", str(port), "--host", "127.0.0.1"], env,
                          work / "web-reporting.log")
        stack.callback(gateway.terminate)
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _ready(f"{url}/readyz"), 120, "the gateway")
        phases = []
        for count in (1, subscribers):
            after = httpx.post(f"{url}/graphql", json={"query": "{ updatesCursor }"},
                               headers={"authorization": f"Bearer {token}"}, timeout=30).json()["data"]["updatesCursor"]
            phases.append(_phase(url.replace("http://", "ws://") + "/graphql", token, after, count,
                                 (postgres, f"{settings.schema_prefix}reporting", rate), duration,
                                 gateway.popen.pid))
        return phases


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def report_text(phases: list[Phase], rate: float, duration: float) -> str:
    lines = [f"subscription fan-out: feed rows at {rate:g}/s for {duration:g}s per phase, one gateway process "
             f"(machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f})"]
    for p in phases:
        lines.append(f"  {p.subscribers:>3} subscriber(s): {p.rows_written} rows, {p.delivered} deliveries, "
                     f"{p.exact} of {p.subscribers} got every row once in order; lag p50 {p.lag_p50_ms} ms, "
                     f"p95 {p.lag_p95_ms} ms, p99 {p.lag_p99_ms} ms, max {p.lag_max_ms} ms; gateway CPU "
                     f"{p.gateway_cpu_s} s ({p.gateway_cpu_ms_per_delivery} ms per delivery)")
        lines += [f"    PROBLEM {problem}" for problem in p.problems[:5]]
    one, many = phases[0], phases[-1]

    def ratio(a: float, b: float) -> str:
        return f"{b / a:.1f}x" if a else "n/a"

    lines.append(f"  {many.subscribers} vs 1: lag p50 {ratio(one.lag_p50_ms, many.lag_p50_ms)}, "
                 f"p99 {ratio(one.lag_p99_ms, many.lag_p99_ms)}; gateway CPU "
                 f"{ratio(one.gateway_cpu_s, many.gateway_cpu_s)} for {ratio(one.delivered, many.delivered)} the "
                 f"deliveries")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.subscription_fanout", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--rate", type=float, default=40.0, help="feed rows per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per phase")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        postgres = os.environ.get("TEST_POSTGRES_URL")
        if not postgres:
            from tools.realservers import PostgresServer

            postgres = stack.enter_context(PostgresServer()).url
        phases = run(postgres, subscribers=args.subscribers, rate=args.rate, duration=args.duration)
    print(report_text(phases, args.rate, args.duration))
    if args.json:
        print(json.dumps([asdict(p) for p in phases], sort_keys=True))
    return 0 if all(not p.problems for p in phases) else 1


if __name__ == "__main__":
    sys.exit(main())
