"""Benchmark of the walking skeleton on real Kafka and PostgreSQL.

1. End-to-end lag: commands sent over HTTP at a steady rate to the priorities web process; the relay and the
   projection run as their own processes; lag = from the command's 201 to its row being in the read model that
   GraphQL serves (polled every 2 ms). Prints p50/p99 and whether the aim (p99 <= 100 ms at 200 commands/s) is met.
2. Replay: a fresh projection rebuilds the read model from the start of the topic; its rate beside the raw
   kafka-python consume rate of the same topic in this process (aim: at least half).

Run: ``make bench`` or ``python -m bench.walking_skeleton [--rate 200] [--commands 2000] [--preload 20000]``.
Uses KAFKA_BOOTSTRAP_SERVERS / TEST_POSTGRES_URL when set, else starts both on loopback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from bench.lean_http import LeanClient
from services.reporting.projections import ReportingProjection, read_model_ddl
from services.reporting.readmodel import ReportingReadModel
from services.runtime import System
from shared.consumer import ConsumerRunner
from shared.contracts import Actor
from shared.contracts.priorities import StrategyLevel
from shared.eventstore import CommandContext
from shared.readstore import ReadStore
from tests.copies import board_meeting
from tests.harness import BOARD_DAY, Process, free_port, settings_env, settings_for, unique, wait_until


@contextlib.contextmanager
def real_servers() -> Iterator[tuple[str, str]]:
    from tools.realservers import KafkaBroker, PostgresServer

    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    postgres = os.environ.get("TEST_POSTGRES_URL")
    from bench import cpu

    with contextlib.ExitStack() as stack:
        pids: set[int] = set()
        if not kafka:
            broker = stack.enter_context(KafkaBroker())
            kafka, pids = broker.bootstrap, pids | {broker.pid or 0}
        if not postgres:
            # pg_stat_statements counts the statements a command costs (bench.statements); off, it costs nothing.
            server = stack.enter_context(PostgresServer(extra_settings={
                "shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.track": "all"}))
            postgres, pids = server.url, pids | {server.pid or 0}
        if pids:  # the CPU of the servers started here, not of others on the machine (unless both are given)
            cpu.watch_servers(pids - {0})
        yield kafka, postgres


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def measure_lag(tmp: Path, kafka: str, postgres: str, rate: float, commands: int) -> dict[str, float]:
    tmp.mkdir(parents=True, exist_ok=True)
    settings = settings_for(data_dir=tmp, postgres_url=postgres, kafka=kafka)
    env = settings_env(settings)
    port = free_port()
    processes = [
        Process(["serve", "priorities", "--port", str(port), "--host", "127.0.0.1"], env, tmp / "web.log"),
        Process(["worker", "priorities"], env, tmp / "relay.log"),
        Process(["worker", "reporting"], env, tmp / "projection.log"),
    ]
    store = ReportingReadModel(ReadStore(settings, "reporting"), read_model_ddl()).store
    system = System(settings, services=())
    token = system.tokens.mint("bench", "worcestershire-cc", ["partnership_officer"], ttl_seconds=3600)
    url = f"http://127.0.0.1:{port}/priorities/objectives"
    accepted: dict[str, float] = {}
    latencies: list[float] = []
    on_topic: dict[str, float] = {}
    visible: dict[str, float] = {}
    done = threading.Event()

    def tail(consumer: KafkaConsumer) -> None:
        # Where the lag goes: when each event reached the topic (the relay's part) vs the read model (the projection's).
        while not done.is_set():
            for records in consumer.poll(timeout_ms=50).values():
                now = time.perf_counter()
                for record in records:
                    on_topic.setdefault(record.key.decode(), now)

    def watch() -> None:
        while not done.is_set():
            pending = [i for i in list(accepted) if i not in visible][:500]
            if pending:
                marks = ", ".join("?" for _ in pending)
                rows = store.query(f"SELECT id FROM objectives WHERE id IN ({marks})", pending)
                now = time.perf_counter()
                for row in rows:
                    visible.setdefault(row["id"], now)
            time.sleep(0.002)

    try:
        with contextlib.closing(LeanClient(timeout=10, headers={"authorization": f"Bearer {token}"})) as client:
            wait_until(lambda: _up(client, f"http://127.0.0.1:{port}/healthz"), 60, "the web process")
            for n in range(20):  # warm up connections and caches
                client.post(url, json={"title": f"warm-up {n}", "level": "scs", "strategy": "SCS"})
            topic = settings.topic("priorities.events")
            consumer = KafkaConsumer(bootstrap_servers=kafka, group_id=None, enable_auto_commit=False,
                                     fetch_max_wait_ms=100)
            partitions = consumer.partitions_for_topic(topic) or set()
            consumer.assign([TopicPartition(topic, p) for p in partitions])
            consumer.seek_to_end()
            consumer.poll(timeout_ms=100)
            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            tailer = threading.Thread(target=tail, args=(consumer,), daemon=True)
            tailer.start()
            interval = 1.0 / rate
            errors: list[int] = []

            def send(n: int) -> None:
                sent = time.perf_counter()
                response = client.post(url, json={"title": f"objective {n}", "level": "scs", "strategy": "SCS"})
                if response.status_code == 201:
                    accepted[response.json()["id"]] = now = time.perf_counter()
                    latencies.append((now - sent) * 1000)
                else:
                    errors.append(response.status_code)

            # Open loop: commands leave on schedule whatever the previous one's latency.
            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=32) as pool:
                for n in range(commands):
                    pause = start + n * interval - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
                    pool.submit(send, n)
            elapsed = time.perf_counter() - start
            wait_until(lambda: all(i in visible for i in accepted), 60, "every command in the read model")
            done.set()
            watcher.join()
            tailer.join()
            consumer.close()
    finally:
        for process in processes:
            process.terminate()
        store.close()
        system.close()
    lags = [(visible[i] - t) * 1000 for i, t in accepted.items()]
    relayed = [(on_topic[i] - t) * 1000 for i, t in accepted.items() if i in on_topic]
    projected = [(visible[i] - on_topic[i]) * 1000 for i in accepted if i in on_topic]
    return {"commands": len(accepted), "errors": len(errors), "achieved_rate": len(accepted) / elapsed,
            "p50_ms": statistics.median(lags), "p99_ms": percentile(lags, 99), "max_ms": max(lags),
            "command_p50_ms": statistics.median(latencies), "command_p99_ms": percentile(latencies, 99),
            "relayed_p50_ms": statistics.median(relayed), "relayed_p99_ms": percentile(relayed, 99),
            "projected_p50_ms": statistics.median(projected), "projected_p99_ms": percentile(projected, 99)}


def _up(client: LeanClient, url: str) -> bool:
    try:
        return client.get(url).status_code == 200
    except OSError:
        return False


def measure_replay(tmp: Path, kafka: str, postgres: str, preload: int) -> dict[str, float]:
    tmp.mkdir(parents=True, exist_ok=True)
    settings = settings_for(data_dir=tmp, postgres_url=postgres, kafka=kafka)
    system = System(settings, services=("priorities",))
    app = system.application("priorities")
    context = CommandContext(Actor("bench", "worcestershire-cc", "partnership_officer"), "bench")
    adopted = board_meeting(app.local, BOARD_DAY, "Adopted by the partnership board")
    for n in range(preload):
        app.add_objective(context, title=f"objective {n}", level=StrategyLevel.SCS, strategy="SCS", decision=adopted)
    relay = system.relays[0]
    while relay.publish_batch():
        pass
    topic = relay.topic
    ends = system.transport.end_offsets(topic)
    total = sum(ends.values())

    # Baseline: the raw kafka-python consume rate of the same topic, in this process.
    consumer = KafkaConsumer(bootstrap_servers=kafka, group_id=None, enable_auto_commit=False,
                             max_partition_fetch_bytes=4 * 1024 * 1024)
    consumer.assign([TopicPartition(topic, p) for p in ends])
    consumer.seek_to_beginning()
    started, count = time.perf_counter(), 0
    while count < total:
        for records in consumer.poll(timeout_ms=500, max_records=5000).values():
            count += len(records)
    raw_rate = count / (time.perf_counter() - started)
    consumer.close()

    # The projection rebuilding a fresh read model (its own schema) from the start of the topic.
    fresh = settings.model_copy(update={"schema_prefix": unique("replay")})
    store = ReadStore(fresh, "reporting")
    ReportingReadModel(store, read_model_ddl())
    runner = ConsumerRunner("replay", store, system.transport, topic, ReportingProjection(),
                            dead_letter_topic=fresh.topic("replay.dlq"), batch_size=500)
    started, count = time.perf_counter(), 0
    while count < total:
        count += runner.process_batch(timeout=0.5)
    replay_rate = count / (time.perf_counter() - started)
    runner.close()
    store.close()
    system.close()
    return {"events": total, "raw_consume_per_s": raw_rate, "replay_per_s": replay_rate,
            "ratio": replay_rate / raw_rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="commands per second")
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--preload", type=int, default=20000, help="events for the replay measurement")
    args = parser.parse_args()
    with real_servers() as (kafka, postgres), tempfile.TemporaryDirectory() as tmp:
        lag = measure_lag(Path(tmp) / "lag", kafka, postgres, args.rate, args.commands)
        print(f"end-to-end lag over {lag['commands']:.0f} commands at {lag['achieved_rate']:.0f} commands/s "
              f"(asked {args.rate:.0f}/s, {lag['errors']:.0f} errors): p50 {lag['p50_ms']:.1f} ms, "
              f"p99 {lag['p99_ms']:.1f} ms, max {lag['max_ms']:.1f} ms")
        print(f"  command latency (request -> 201): p50 {lag['command_p50_ms']:.1f} ms, "
              f"p99 {lag['command_p99_ms']:.1f} ms")
        print(f"  201 -> on the topic (relay): p50 {lag['relayed_p50_ms']:.1f} ms, p99 {lag['relayed_p99_ms']:.1f} ms;"
              f" topic -> read model (projection): p50 {lag['projected_p50_ms']:.1f} ms, "
              f"p99 {lag['projected_p99_ms']:.1f} ms")
        met = lag["p99_ms"] <= 100 and lag["achieved_rate"] >= 0.95 * args.rate and lag["errors"] == 0
        print(f"aim p99 <= 100 ms at {args.rate:.0f} commands/s: {'met' if met else 'NOT met'}")
        replay = measure_replay(Path(tmp) / "replay", kafka, postgres, args.preload)
        print(f"replay of {replay['events']:.0f} events: projection {replay['replay_per_s']:.0f} events/s, "
              f"raw kafka-python consume {replay['raw_consume_per_s']:.0f} msgs/s, "
              f"ratio {replay['ratio']:.2f}")
        print(f"aim replay >= 0.5 x raw consume: {'met' if replay['ratio'] >= 0.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
