"""Subscriptions under load: N ``gql`` websocket subscribers on the GraphQL gateway while ``bench.workload``'s
commands flow at ``--rate`` per second, with every service's web and worker as separate processes on real Kafka
and PostgreSQL (``bench.load.deployed``: the gateway hears the reporting worker's commits by LISTEN/NOTIFY).

The subscribers hold a mix of grants (partnership officer, Worcester's district coordinator, the PSTG's lead,
Wychavon's programme manager, a partner officer of the college); all subscribe after one cursor taken before the
commands start. After the run, each one's received updates are compared with the change feed itself (read from
PostgreSQL) filtered by the one visibility rule for its grants: every update it is entitled to, exactly once, in
order, and nothing else. Lag is from the row's ``committedAt`` (written in the projection's transaction) to its
arrival at the subscriber.

Prints: commands accepted, updates in the feed, per-subscriber check (missing / extra / duplicated / out of
order), and the lag p50/p99/max. Exit 1 when any subscriber's updates differ from what it is entitled to.

Run: ``python -m bench.subscriptions [--subscribers 50] [--rate 40] [--duration 60]``. Uses
KAFKA_BOOTSTRAP_SERVERS / TEST_POSTGRES_URL when set, else starts both on loopback.
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
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import httpx

from bench import cpu
from bench.load import deployed
from bench.walking_skeleton import real_servers
from bench.workload import COLLEGE, OFFICER, PSTG_LEAD, WORCESTER, Workload, percentile
from services.reporting import change_feed
from services.reporting.subscriptions import may_see
from services.runtime import make_tokens
from shared.auth import Principal
from shared.readstore import ReadStore
from tests.harness import settings_for
from tests.live_client import UPDATES

WYCHAVON = {"role": "programme_manager", "org": "wychavon-district-council", "district": "wychavon"}
GRANTS = [OFFICER, WORCESTER, PSTG_LEAD, WYCHAVON, COLLEGE]


@dataclass
class Result:
    subscribers: int
    rate: float
    duration: float
    commands_accepted: int = 0
    feed_updates: int = 0
    delivered: int = 0
    entitled: int = 0
    subscribers_exact: int = 0
    problems: list[str] = field(default_factory=list)
    lag_p50_ms: float | None = None
    lag_p99_ms: float | None = None
    lag_max_ms: float | None = None
    client_loop_lag_p99_ms: float | None = None
    load_average: float | None = None
    commit_lag_p99_ms: float | None = None
    late_updates: int = 0
    reconnects: int = 0
    late_to_every_entitled: int = 0
    delivery_lag_p50_ms: float | None = None
    delivery_lag_p99_ms: float | None = None
    gateway_cpu_ms_per_delivery: float | None = None
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and self.subscribers_exact == self.subscribers


@dataclass
class Received:
    who: dict[str, str]
    principal: Principal
    positions: list[int] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    reconnects: int = 0
    errors: list[str] = field(default_factory=list)


def _position(cursor: str) -> int:
    return int(json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))[1])


async def _subscribe(ws_url: str, token: str, after: str, into: Received, ready: asyncio.Event,
                     counter: list[int], total: int) -> None:
    """Subscribes after ``after``; when the connection is lost, reconnects after the last cursor received (as a
    graphql-ws client's retry does), so what it receives is still checked against what it is entitled to."""
    from gql import Client, gql
    from gql.transport.websockets import WebsocketsTransport

    cursor, joined = after, False
    while True:
        transport = WebsocketsTransport(url=ws_url, init_payload={"authorization": f"Bearer {token}"},
                                        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL], ack_timeout=60,
                                        connect_timeout=60)
        request = gql(UPDATES)
        request.variable_values = {"after": cursor}
        try:
            async with Client(transport=transport, execute_timeout=None) as session:
                if not joined:
                    joined = True
                    counter[0] += 1
                    if counter[0] == total:
                        ready.set()
                async for result in session.subscribe(request):
                    now = time.time()
                    update = result["updates"]
                    cursor = update["cursor"]
                    into.positions.append(_position(cursor))
                    into.arrivals.append(now)
                    into.lags.append(now - datetime.fromisoformat(update["committedAt"]).timestamp())
            return
        except asyncio.CancelledError:
            raise
        except Exception as error:
            into.reconnects += 1
            into.errors.append(repr(error)[:300])
            if into.reconnects > 20:
                return
            await asyncio.sleep(0.5)


class CommitWatch:
    """When each feed row became visible to a reader of its own (a LISTEN on the feed's channel, one read per
    wake, in this process): splits the lag into the projection's commit and the gateway's delivery."""

    def __init__(self, database_url: str, schema: str, after: int) -> None:
        self.database_url, self.schema, self.last = database_url, schema, after
        self.visible_at: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="commit-watch")

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.database_url, autocommit=True) as listen, \
                psycopg.connect(self.database_url, autocommit=True) as read:
            listen.execute(sql.SQL("LISTEN {}").format(sql.Identifier(f"{self.schema}_changes"[:63])))
            read.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
            while not self._stop.is_set():
                for _ in listen.notifies(timeout=0.05, stop_after=1):
                    pass
                rows = read.execute("SELECT position FROM change_feed WHERE position > %s ORDER BY position",
                                    (self.last,)).fetchall()
                now = time.time()
                for (position,) in rows:
                    self.visible_at[int(position)] = now
                    self.last = int(position)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


class Subscribers:
    """N subscriptions on one event loop in a thread of their own."""

    def __init__(self, ws_url: str, tokens: list[tuple[dict[str, str], str, Principal]], after: str) -> None:
        self.received = [Received(who, principal) for who, _, principal in tokens]
        self.loop_lags: list[float] = []
        self._tokens = tokens
        self._after = after
        self._ws_url = ws_url
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._thread = threading.Thread(target=self._run, daemon=True, name="subscribers")

    def start(self, timeout: float = 120.0) -> None:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the subscribers did not all connect in time")

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        ready = asyncio.Event()
        counter = [0]

        async def probe() -> None:  # how late this loop runs its timers: the client's own share of the lag
            while True:
                due = time.monotonic() + 0.1
                await asyncio.sleep(0.1)
                self.loop_lags.append(time.monotonic() - due)

        async def main() -> None:
            self._tasks = [asyncio.create_task(probe())]
            self._tasks += [asyncio.create_task(_subscribe(self._ws_url, token, self._after, into, ready, counter,
                                                          len(self._tokens)))
                           for (_, token, _), into in zip(self._tokens, self.received, strict=True)]
            await ready.wait()
            self._ready.set()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        self._loop.run_until_complete(main())

    def stop(self) -> None:
        for task in self._tasks:
            self._loop.call_soon_threadsafe(task.cancel)
        self._thread.join(30)


def run(kafka: str, postgres: str, *, subscribers: int, rate: float, duration: float, threads: int = 16,
        quiet: bool = False) -> Result:
    result = Result(subscribers=subscribers, rate=rate, duration=duration)
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="partnership-subscriptions-")))
        settings = settings_for(data_dir=work, postgres_url=postgres, kafka=kafka)
        tokens = make_tokens(settings)
        minted: dict[tuple[tuple[str, str], ...], str] = {}

        def token_of(who: dict[str, str]) -> str:
            key = tuple(sorted(who.items()))
            if key not in minted:
                minted[key] = tokens.mint(f"bench-{who['role']}", who["org"], [who["role"]],
                                          district=who.get("district"), theme_group=who.get("theme_group"),
                                          ttl_seconds=int(duration) + 3600)
            return minted[key]

        client = stack.enter_context(deployed(settings, work))
        workload = Workload(client, lambda who: {"authorization": f"Bearer {token_of(who)}"},
                            concurrency=max(16, int(rate * 3)))
        workload.prepare()
        gateway = client.urls["reporting"]
        cursor = httpx.post(f"{gateway}/graphql", json={"query": "{ updatesCursor }"},
                            headers={"authorization": f"Bearer {token_of(OFFICER)}"}, timeout=30).json()
        after = cursor["data"]["updatesCursor"]
        chosen = [GRANTS[i % len(GRANTS)] for i in range(subscribers)]
        subscribed = Subscribers(gateway.replace("http://", "ws://") + "/graphql",
                                 [(who, token_of(who), tokens.verify(token_of(who))) for who in chosen], after)
        watch = CommitWatch(postgres, f"{settings.schema_prefix}reporting", _position(after))
        watch.start()
        subscribed.start()
        if not quiet:
            print(f"  {subscribers} subscribers connected after {after}", flush=True)

        pool = stack.enter_context(ThreadPoolExecutor(max_workers=threads, thread_name_prefix="client"))
        cpu_before = cpu.snapshot()
        started = time.monotonic()
        tick, next_at = 1.0 / rate, started
        while (now := time.monotonic()) < started + duration:
            if now < next_at:
                time.sleep(min(next_at - now, 0.005))
                continue
            next_at += tick
            pool.submit(workload.command)
        pool.shutdown(wait=True)
        elapsed = time.monotonic() - started
        result.commands_accepted = workload.stats.accepted_commands
        result.load_average = round(os.getloadavg()[0], 1)  # the whole machine's, other users included

        store = ReadStore(settings, "reporting")
        try:
            start = _position(after)
            # Wait for the projection to settle (the feed's head stops moving), then for the subscribers.
            head, stable_since = -1, time.monotonic()
            while time.monotonic() - stable_since < 3.0:
                now_head = change_feed.head(store)
                if now_head != head:
                    head, stable_since = now_head, time.monotonic()
                time.sleep(0.5)
            feed = change_feed.read_after(store, start, 10_000_000)
        finally:
            store.close()
        expected = {id(r): [int(row["position"]) for row in feed
                            if may_see(r.principal, row["district"], row["theme_group"], row["organisation"])]
                    for r in subscribed.received}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(len(r.positions) < len(expected[id(r)])
                                                  for r in subscribed.received):
            time.sleep(0.5)
        time.sleep(1.0)  # anything beyond what it is entitled to would show now
        subscribed.stop()
        watch.stop()
        gateway_log = work / "web-reporting.log"
        if gateway_log.exists() and any(r.errors for r in subscribed.received):
            lines = gateway_log.read_text(errors="replace").splitlines()
            print("  the gateway's log, last lines:\n" + "\n".join(lines[-25:]), file=sys.stderr)
        result.cpu_seconds = {part: round(seconds, 1) for part, seconds in
                              cpu.cpu_seconds(cpu_before, cpu.snapshot()).items()}
        del elapsed

        result.feed_updates = len(feed)
        lags: list[float] = []
        commit_lags = [watch.visible_at[int(row["position"])] - datetime.fromisoformat(row["committed_at"]).timestamp()
                       for row in feed if int(row["position"]) in watch.visible_at]
        delivery_lags = [arrived - watch.visible_at[position] for received in subscribed.received
                         for position, arrived in zip(received.positions, received.arrivals, strict=True)
                         if position in watch.visible_at]
        late: dict[int, int] = {}
        for received in subscribed.received:
            for position, arrived in zip(received.positions, received.arrivals, strict=True):
                if position in watch.visible_at and arrived - watch.visible_at[position] > 1.0:
                    late[position] = late.get(position, 0) + 1
        result.late_updates = len(late)
        result.late_to_every_entitled = sum(1 for position, n in late.items()
                                            if n == sum(1 for r in subscribed.received if position in r.positions))
        if commit_lags and delivery_lags:
            result.commit_lag_p99_ms = round(percentile(commit_lags, 99) * 1000, 1)
            result.delivery_lag_p50_ms = round(percentile(delivery_lags, 50) * 1000, 1)
            result.delivery_lag_p99_ms = round(percentile(delivery_lags, 99) * 1000, 1)
        for number, received in enumerate(subscribed.received):
            wanted = expected[id(received)]
            result.entitled += len(wanted)
            result.delivered += len(received.positions)
            lags.extend(received.lags)
            result.reconnects += received.reconnects
            if received.positions == wanted:
                result.subscribers_exact += 1
                continue
            got = received.positions
            missing = len(set(wanted) - set(got))
            extra = len(set(got) - set(wanted))
            duplicated = len(got) - len(set(got))
            disordered = sum(1 for a, b in pairwise(got) if b <= a)
            result.problems.append(f"subscriber {number} ({received.who['role']}): {missing} missing, {extra} extra, "
                                   f"{duplicated} duplicated, {disordered} out of order; errors {received.errors[:1]}")
        if lags:
            result.lag_p50_ms = round(percentile(lags, 50) * 1000, 1)
            result.lag_p99_ms = round(percentile(lags, 99) * 1000, 1)
            result.lag_max_ms = round(max(lags) * 1000, 1)
        gateway_cpu = result.cpu_seconds.get("web reporting")
        if gateway_cpu and result.delivered:
            result.gateway_cpu_ms_per_delivery = round(gateway_cpu * 1000 / result.delivered, 3)
        if subscribed.loop_lags:
            result.client_loop_lag_p99_ms = round(percentile(subscribed.loop_lags, 99) * 1000, 1)
    return result


def report_text(result: Result) -> str:
    lines = [
        f"subscriptions: {result.subscribers} subscribers while {result.rate:g} commands/s were offered for "
        f"{result.duration:g}s; {result.commands_accepted} commands accepted",
        f"  change feed: {result.feed_updates} updates; delivered {result.delivered} of the {result.entitled} the "
        f"subscribers' grants entitle them to",
        f"  exactly once and in order: {result.subscribers_exact} of {result.subscribers} subscribers "
        f"({result.reconnects} reconnections after a lost connection, each resuming after its last cursor)",
        *(f"  PROBLEM {p}" for p in result.problems[:20]),
        f"  lag (committed in the read model -> received by the subscriber): p50 {result.lag_p50_ms} ms, "
        f"p99 {result.lag_p99_ms} ms, max {result.lag_max_ms} ms (the subscribers' own event loop ran its timers "
        f"late by p99 {result.client_loop_lag_p99_ms} ms)",
        f"  of which: written -> committed and visible p99 {result.commit_lag_p99_ms} ms (a LISTEN of the bench's "
        f"own); visible -> received p50 {result.delivery_lag_p50_ms} ms, p99 {result.delivery_lag_p99_ms} ms; "
        f"{result.late_updates} updates reached someone over 1 s after they were visible, "
        f"{result.late_to_every_entitled} of them late to every subscriber entitled to them",
    ]
    if result.cpu_seconds:
        lines.append(f"  CPU seconds by part: {result.cpu_seconds} (machine: {os.cpu_count()} cores, load average "
                     f"{result.load_average} at the end of the commands); the gateway's CPU per update delivered: "
                     f"{result.gateway_cpu_ms_per_delivery} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.subscriptions", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--rate", type=float, default=40.0, help="commands per second offered")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    args = parser.parse_args(argv)
    with real_servers() as (kafka, postgres):
        result = run(kafka, postgres, subscribers=args.subscribers, rate=args.rate, duration=args.duration)
    print(report_text(result))
    if args.json:
        print(json.dumps(asdict(result), sort_keys=True))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
