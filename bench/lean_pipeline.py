"""The lean pipeline: the I/O one command of the system has to do, and nothing else, as the baseline the system's
cost is measured against (issue 20).

One command is one HTTP request to a minimal ASGI endpoint under uvicorn (no framework, no validation library), one
PostgreSQL transaction that stores the event and notifies the relay, a relay woken by ``NOTIFY`` that publishes to
Kafka with the system's producer settings and records its position, three consumers (one per downstream reader:
tasking, projects, reporting) that each apply a batch in one transaction with their offsets, and one primary-key
read of the reporting consumer's row. Every part is a process of its own, as the system's are, so the CPU of each is
counted apart (``bench.cpu``: ``lean web``, ``lean relay``, ``lean consumer <name>``).

Run alone: ``python -m bench.lean_pipeline --rate 40 --duration 60``. ``python -m bench.load --baseline`` runs it
beside the system, on the same broker and database, at the same rate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

CONSUMERS = ("tasking", "projects", "reporting")
"""The downstream readers of one command's event in the system: each applies it in a transaction of its own."""
TOPIC = "lean.events"
SCHEMA = "lean"

DDL = [
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.events (id BIGSERIAL PRIMARY KEY, aggregate_id TEXT NOT NULL,"
    " version INTEGER NOT NULL, type TEXT NOT NULL, data JSONB NOT NULL, UNIQUE (aggregate_id, version))",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.relay (name TEXT PRIMARY KEY, position BIGINT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.offsets (consumer TEXT NOT NULL, partition INTEGER NOT NULL,"
    " next_offset BIGINT NOT NULL, PRIMARY KEY (consumer, partition))",
    *(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.read_{name} (aggregate_id TEXT PRIMARY KEY, version INTEGER NOT NULL,"
      " type TEXT NOT NULL, data JSONB NOT NULL, applied_at DOUBLE PRECISION NOT NULL)" for name in CONSUMERS),
    # A command's write as one statement, as the system's event store sends it (shared.recorder): the lock, the
    # insert and the notice in the statement's own transaction.
    f"CREATE OR REPLACE FUNCTION {SCHEMA}.record(p_aggregate text, p_type text, p_data jsonb) RETURNS bigint"
    " LANGUAGE plpgsql AS $$ DECLARE recorded bigint; BEGIN"
    f" LOCK TABLE {SCHEMA}.events IN EXCLUSIVE MODE;"
    f" INSERT INTO {SCHEMA}.events (aggregate_id, version, type, data) VALUES (p_aggregate, 1, p_type, p_data)"
    " RETURNING id INTO recorded;"
    " NOTIFY lean_stored; RETURN recorded; END $$",
]


def producer_config(bootstrap: str) -> dict[str, Any]:
    """The system's producer settings (``shared.transport.kafka.KafkaTransport``), so the relay costs the same."""
    return dict(bootstrap_servers=bootstrap, client_id="lean-relay", enable_idempotence=True, acks="all",
                linger_ms=1, max_block_ms=10_000, delivery_timeout_ms=30_000, request_timeout_ms=10_000)


# -- the endpoint ----------------------------------------------------------------------------------------------------


class LeanEndpoint:
    """``POST /commands`` stores one event (and notifies the relay) in one transaction; ``GET /records/<id>`` reads the
    reporting consumer's row by primary key. Plain ASGI on an async psycopg pool."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.pool: Any = None

    async def _startup(self) -> None:
        from psycopg_pool import AsyncConnectionPool

        # Autocommit: a statement alone is its own transaction (no BEGIN before it, no ROLLBACK when it goes back).
        self.pool = AsyncConnectionPool(self.dsn, min_size=2, max_size=4, open=False, kwargs={"autocommit": True})
        await self.pool.open()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await self._startup()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.pool.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path, method = scope["path"], scope["method"]
        if method == "POST" and path == "/commands":
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            try:
                command = json.loads(body)
                aggregate_id, kind, data = str(command["aggregate_id"]), str(command["type"]), command["data"]
            except (ValueError, KeyError, TypeError):
                await self._answer(send, 400, {"title": "a command is {aggregate_id, type, data}"})
                return
            async with self.pool.connection() as conn:
                # Commits in the order of their ids, as the event store's inserts do (the same exclusive lock, in
                # its function): without it a relay reading "id > position" passes over an id whose transaction
                # commits after a higher one's, and that event is never published (1 of 3,600 at 120/s here).
                cursor = await conn.execute(f"SELECT {SCHEMA}.record(%s, %s, %s)",
                                            (aggregate_id, kind, json.dumps(data)))
                row = await cursor.fetchone()
            await self._answer(send, 201, {"id": aggregate_id, "position": row[0] if row else None})
        elif method == "GET" and path.startswith("/records/"):
            async with self.pool.connection() as conn:
                cursor = await conn.execute(
                    f"SELECT aggregate_id, version, type, data FROM {SCHEMA}.read_reporting WHERE aggregate_id = %s",
                    (path.removeprefix("/records/"),))
                found = await cursor.fetchone()
            if found is None:
                await self._answer(send, 404, {"title": "not yet read"})
            else:
                await self._answer(send, 200, {"id": found[0], "version": found[1], "type": found[2],
                                               "data": found[3]})
        elif method == "GET" and path == "/readyz":
            await self._answer(send, 200, {"ready": True})
        else:
            await self._answer(send, 404, {"title": "no such route"})

    @staticmethod
    async def _answer(send: Any, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


def serve(dsn: str, port: int) -> None:
    import uvicorn

    # The system's web processes run uvicorn with the same defaults (its own loop and HTTP parser choice).
    uvicorn.run(LeanEndpoint(dsn), host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- the relay -------------------------------------------------------------------------------------------------------


def relay(dsn: str, bootstrap: str) -> None:
    """Woken by NOTIFY (or every second): publish what was stored after its position, flush, record the position."""
    from kafka import KafkaProducer

    producer = KafkaProducer(**producer_config(bootstrap))
    stop = _stopping()
    with psycopg.connect(dsn, autocommit=True) as listener, psycopg.connect(dsn) as conn:
        listener.execute("LISTEN lean_stored")
        conn.execute(f"INSERT INTO {SCHEMA}.relay (name, position) VALUES ('lean', 0) ON CONFLICT DO NOTHING")
        conn.commit()
        position = conn.execute(f"SELECT position FROM {SCHEMA}.relay WHERE name = 'lean'").fetchone()[0]  # type: ignore[index]
        conn.commit()
        while not stop.is_set():
            rows = conn.execute(f"SELECT id, aggregate_id, type, data::text FROM {SCHEMA}.events WHERE id > %s"
                                " ORDER BY id LIMIT 500", (position,)).fetchall()
            conn.commit()
            if not rows:
                if select.select([listener.fileno()], [], [], 1.0)[0]:
                    for _ in listener.notifies(timeout=0):
                        pass
                continue
            sent = []
            for event_id, aggregate_id, kind, data in rows:
                value = f'{{"id":{event_id},"aggregate_id":"{aggregate_id}","type":"{kind}","data":{data}}}'
                sent.append(producer.send(TOPIC, key=aggregate_id.encode(), value=value.encode()))
            producer.flush()
            if any(future.failed() for future in sent):
                continue  # not acknowledged: publish the batch again (readers apply each event once)
            position = rows[-1][0]
            conn.execute(f"UPDATE {SCHEMA}.relay SET position = %s WHERE name = 'lean'", (position,))
            conn.commit()
    producer.close()


# -- a consumer ------------------------------------------------------------------------------------------------------


def consume(dsn: str, bootstrap: str, name: str) -> None:
    """A downstream reader: each polled batch applied in one transaction together with its offsets (exactly once in
    effect, as the system's consumers are); its group's partitions seek to the offsets stored."""
    from kafka import KafkaConsumer, TopicPartition

    stop = _stopping()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id=f"lean-{name}", group_id=None,
                             enable_auto_commit=False, auto_offset_reset="earliest", fetch_max_wait_ms=100,
                             max_partition_fetch_bytes=4 * 1024 * 1024)
    known = time.monotonic() + 30
    while not (found := consumer.partitions_for_topic(TOPIC)) and time.monotonic() < known:
        consumer.topics()  # the metadata may not know the topic yet: ask, then look again
        time.sleep(0.1)
    partitions = sorted(found or {0})
    tps = [TopicPartition(TOPIC, p) for p in partitions]
    consumer.assign(tps)
    with psycopg.connect(dsn) as conn:
        stored: dict[int, int] = dict(conn.execute(
            f"SELECT partition, next_offset FROM {SCHEMA}.offsets WHERE consumer = %s",
                                   (name,)).fetchall())
        conn.commit()
        for tp in tps:
            if tp.partition in stored:
                consumer.seek(tp, stored[tp.partition])
        while not stop.is_set():
            batch = consumer.poll(timeout_ms=200, max_records=500)
            if not batch:
                continue
            now = time.time()
            with conn.transaction(), conn.cursor() as cursor:
                rows = []
                offsets = []
                for tp, records in batch.items():
                    for record in records:
                        event = json.loads(record.value)
                        rows.append((event["aggregate_id"], 1, event["type"], json.dumps(event["data"]), now))
                    offsets.append((name, tp.partition, records[-1].offset + 1))
                cursor.executemany(
                    f"INSERT INTO {SCHEMA}.read_{name} (aggregate_id, version, type, data, applied_at)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (aggregate_id) DO NOTHING", rows)
                cursor.executemany(
                    f"INSERT INTO {SCHEMA}.offsets (consumer, partition, next_offset) VALUES (%s, %s, %s)"
                    " ON CONFLICT (consumer, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset",
                    offsets)
    consumer.close()


def _stopping() -> threading.Event:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    return stop


# -- running it ------------------------------------------------------------------------------------------------------


def prepare(dsn: str, bootstrap: str) -> None:
    """Fresh tables and the topic (three partitions, as the system's topics)."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        for statement in DDL:
            conn.execute(statement)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="lean-admin")
    try:
        admin.delete_topics([TOPIC])
        time.sleep(1.0)
    except Exception:  # absent on a first run
        pass
    for _ in range(20):
        try:
            admin.create_topics([NewTopic(TOPIC, 3, 1)])
            break
        except TopicAlreadyExistsError:
            time.sleep(0.5)  # the deletion is still being carried out
    admin.close()


@contextmanager
def running(dsn: str, bootstrap: str, work: Path) -> Iterator[str]:
    """The endpoint, the relay and the three consumers as processes; yields the endpoint's base URL."""
    from tests.harness import free_port, wait_until

    prepare(dsn, bootstrap)
    port = free_port()
    commands = [["web", "--port", str(port)], ["relay"], *(["consumer", "--name", name] for name in CONSUMERS)]
    processes = []
    env = {**os.environ, "LEAN_DSN": dsn, "LEAN_KAFKA": bootstrap}
    try:
        for args in commands:
            log = (work / f"lean-{'-'.join(args[:1] + args[2:3])}.log").open("wb")
            processes.append(subprocess.Popen([sys.executable, "-m", "bench.lean_pipeline", *args], env=env,
                                              stdout=log, stderr=subprocess.STDOUT))
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _ready(url), 60, "the lean endpoint")
        yield url
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def _ready(url: str) -> bool:
    from bench.lean_http import LeanClient

    try:
        client = LeanClient(url, timeout=2)
        ok = client.get("/readyz").status_code == 200
        client.close()
        return ok
    except OSError:
        return False


@dataclass
class LeanResult:
    rate: float
    duration: float
    commands_attempted: int = 0
    commands_accepted: int = 0
    reads: int = 0
    errors: int = 0
    behind: int = 0
    lag_p50_ms: float = 0.0
    lag_p99_ms: float = 0.0
    unseen: int = 0
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    elapsed: float = 0.0
    statements_per_command: float | None = None
    """PostgreSQL statements per accepted command (``bench.statements``; None without pg_stat_statements)."""
    statements_sent_per_command: float | None = None
    """Of them, those its clients sent (none of the lean pipeline's run inside a function)."""
    top_statements: list[tuple[int, str]] = field(default_factory=list)
    idle_cpu_ms_per_s: dict[str, float] = field(default_factory=dict)
    """CPU ms per second of each part with no load (``idle`` seconds after the warm-up, before the measured run)."""

    @property
    def ok(self) -> bool:
        return self.errors == 0 and self.unseen == 0 and self.commands_accepted == self.commands_attempted


def _lean_part(part: str) -> bool:
    return part.startswith("lean") or part in ("kafka", "postgresql", "load generator")


def run(kafka: str, postgres: str, *, rate: float, duration: float, threads: int = 32,
        work: Path | None = None, warmup: float = 10.0, idle: float = 0.0) -> LeanResult:
    """Offer ``rate`` commands a second (each with its one read) for ``duration`` seconds, open loop, after
    ``warmup`` seconds at the same rate that are not measured (the broker's JIT and the pools warm up, as the
    system's do while its workload prepares)."""
    from bench import cpu
    from bench.lean_http import LeanClient
    from bench.statements import StatementCounter
    from bench.workload import percentile

    result = LeanResult(rate=rate, duration=duration)
    with tempfile.TemporaryDirectory(prefix="partnership-lean-") as tmp, \
            running(postgres, kafka, work or Path(tmp)) as url:
        client = LeanClient(url, timeout=30)
        accepted: dict[str, float] = {}
        lock = threading.Lock()
        busy = threading.Semaphore(threads)
        previous: list[str] = []

        def command() -> None:
            try:
                aggregate_id = str(uuid.uuid4())
                answer = client.post("/commands", json={"aggregate_id": aggregate_id, "type": "ProgressReported",
                                                        "data": {"actual": "120", "reported_on": "2012-06-30"}})
                with lock:
                    if answer.status_code == 201:
                        accepted[aggregate_id] = time.time()
                        result.commands_accepted += 1
                    else:
                        result.errors += 1
                    read_id = previous[-1] if previous else aggregate_id
                    previous.append(aggregate_id)
                if client.get(f"/records/{read_id}").status_code in (200, 404):
                    with lock:
                        result.reads += 1
            except OSError:
                with lock:
                    result.errors += 1
            finally:
                busy.release()

        with psycopg.connect(postgres, autocommit=True) as probe, \
                ThreadPoolExecutor(max_workers=threads, thread_name_prefix="lean-client") as pool:
            tick = 1.0 / rate
            warm_until = time.monotonic() + warmup
            next_at = time.monotonic()
            while (now := time.monotonic()) < warm_until:
                if now < next_at:
                    time.sleep(min(next_at - now, 0.005))
                    continue
                next_at += tick
                busy.acquire()
                pool.submit(command)
            deadline_warm = time.monotonic() + 30
            while time.monotonic() < deadline_warm and probe.execute(
                    f"SELECT count(*) FROM {SCHEMA}.read_reporting").fetchone()[0] < len(accepted):  # type: ignore[index]
                time.sleep(0.1)
            with lock:
                accepted.clear()
                result.commands_accepted = result.reads = result.errors = 0
            if idle > 0:
                result.idle_cpu_ms_per_s = cpu.idle_ms_per_second(idle, keep=_lean_part)
            counter = StatementCounter(postgres).__enter__()
            before = cpu.snapshot()
            started = time.monotonic()
            next_at = started
            while (now := time.monotonic()) < started + duration:
                if now < next_at:
                    time.sleep(min(next_at - now, 0.005))
                    continue
                next_at += tick
                if not busy.acquire(blocking=False):
                    result.behind += 1
                    busy.acquire()
                result.commands_attempted += 1
                pool.submit(command)
            result.elapsed = time.monotonic() - started
            pool.shutdown(wait=True)
            counter.__exit__(None, None, None)
            if counter.result is not None:
                result.statements_per_command = round(counter.result.per_command(result.commands_accepted), 1)
                result.statements_sent_per_command = round(counter.result.sent_per_command(result.commands_accepted), 1)
                result.top_statements = counter.result.top
            result.cpu_seconds = {part: round(s, 2) for part, s in cpu.cpu_seconds(before, cpu.snapshot()).items()
                                  if _lean_part(part)}
            pool.shutdown(wait=True)
            # Lag: from acceptance to the row in the reporting consumer's table (its own clock: one machine).
            deadline = time.monotonic() + 30
            lags: list[float] = []
            while time.monotonic() < deadline:
                with lock:
                    wanted = dict(accepted)
                rows = probe.execute(f"SELECT aggregate_id, applied_at FROM {SCHEMA}.read_reporting").fetchall()
                applied = {r[0]: r[1] for r in rows}
                lags = [max(applied[key] - at, 0.0) for key, at in wanted.items() if key in applied]
                if len(lags) == len(wanted):
                    break
                time.sleep(0.2)
            result.unseen = len(accepted) - len(lags)
        client.close()
        if lags:
            result.lag_p50_ms = round(percentile(lags, 50) * 1000, 1)
            result.lag_p99_ms = round(percentile(lags, 99) * 1000, 1)
    return result


def report_text(result: LeanResult) -> str:
    per = ", ".join(f"{part} {seconds * 1000 / max(result.commands_accepted, 1):.2f}"
                    for part, seconds in result.cpu_seconds.items())
    return (f"lean pipeline: {result.rate:g}/s offered for {result.duration:g}s: {result.commands_accepted} of "
            f"{result.commands_attempted} accepted, {result.reads} reads, {result.errors} errors, "
            f"{result.behind} issued late; lag p50 {result.lag_p50_ms} ms, p99 {result.lag_p99_ms} ms"
            f"{f', {result.unseen} never seen' if result.unseen else ''}\n  CPU ms per command: {per}"
            f"\n  PostgreSQL statements per command: {result.statements_per_command}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lean_pipeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="part")
    web = sub.add_parser("web")
    web.add_argument("--port", type=int, required=True)
    sub.add_parser("relay")
    consumer = sub.add_parser("consumer")
    consumer.add_argument("--name", choices=CONSUMERS, required=True)
    parser.add_argument("--rate", type=float, default=40.0)
    parser.add_argument("--duration", type=float, default=60.0)
    args = parser.parse_args(argv)
    dsn, bootstrap = os.environ.get("LEAN_DSN", ""), os.environ.get("LEAN_KAFKA", "")
    if args.part == "web":
        serve(dsn, args.port)
    elif args.part == "relay":
        relay(dsn, bootstrap)
    elif args.part == "consumer":
        consume(dsn, bootstrap, args.name)
    else:
        from bench.walking_skeleton import real_servers

        with real_servers() as (kafka, postgres):
            result = run(kafka, postgres, rate=args.rate, duration=args.duration)
        print(report_text(result))
        return 0 if result.ok else 1
    return 0


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    sys.exit(main())
