"""Benchmark: the read-model rebuild against the raw kafka-python consume rate, on real Kafka and PostgreSQL.

A synthetic history (``bench.reporting_history``: objectives, targets, taskings, projects, monthly progress reports)
is published to the three topics. Baseline: a plain KafkaConsumer reading all of it from the start, in this
process. Then ``partnership readmodel rebuild`` (``services.reporting.rebuild.rebuild``) replays it into a fresh
PostgreSQL schema; its rate counts everything (replay and bulk load, which runs while the replay does). For
comparison, the per-event path (the live consumer, ``ConsumerRunner``) replays the first ``--per-event`` events
into another fresh schema.
Aim: the rebuild at least half the raw consume rate.

Its real bound (issue 20): the rebuild reads every event and writes the rows they make, so the bound is the raw
consume of the topics and a raw ``COPY`` of the same rows together (the rows the rebuild left, copied from memory
into bare tables of the same columns, then the same keys and indexes built, as the rebuild does), both timed in
this run. Printed with the
rebuild's share of that bound, the time 1,000,000 events would take at the measured rate, and the resident memory
of this process (which rebuilds in itself) at its peak.

``--serve N``: then the gateway (``partnership serve reporting``) and the reporting worker start on the rebuilt
store, and their resident memory is printed at idle, at most during N rounds of GraphQL reads and after them: the
processes whose memory the history could grow.

Run: ``python -m bench.reporting_rebuild [--events 100000] [--per-event 20000] [--serve 0]``.
Uses KAFKA_BOOTSTRAP_SERVERS / TEST_POSTGRES_URL when set, else starts both on loopback.
"""

from __future__ import annotations

import argparse
import io
import resource
import tempfile
import time
from pathlib import Path

import psycopg
from kafka import KafkaConsumer, TopicPartition
from psycopg import sql

from bench.reporting_history import generate, publish
from bench.walking_skeleton import real_servers
from services.reporting.projections import ReportingProjection, read_model_ddl
from services.reporting.readmodel import ReportingReadModel
from services.reporting.rebuild import TOPICS, rebuild
from shared.consumer import ConsumerRunner
from shared.readstore import ReadStore
from shared.transport.kafka import KafkaTransport
from tests.harness import settings_for


def raw_consume_rate(kafka: str, topics: list[str], expected: int) -> float:
    consumer = KafkaConsumer(bootstrap_servers=kafka, group_id=None, enable_auto_commit=False,
                             max_partition_fetch_bytes=8 * 1024 * 1024)
    partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
    consumer.assign(partitions)
    consumer.seek_to_beginning()
    count = 0
    started = time.perf_counter()
    while count < expected:
        for records in consumer.poll(timeout_ms=500, max_records=5000).values():
            count += len(records)
    rate = count / (time.perf_counter() - started)
    consumer.close()
    return rate


def raw_copy_seconds(postgres: str, schema: str) -> tuple[float, int]:
    """Seconds to ``COPY`` (binary) every row of ``schema``'s tables from memory into bare tables made ``LIKE`` them
    and then build the same indexes (primary keys' included), and how many rows: the write half of the rebuild's
    bound."""
    bound = f"{schema}_raw_copy"
    with psycopg.connect(postgres, autocommit=True) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_type = 'BASE TABLE'",
            (schema,))]
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(bound)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(bound)))
        held: dict[str, bytes] = {}
        rows = 0
        for table in tables:
            source, target = sql.Identifier(schema, table), sql.Identifier(bound, table)
            conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS)").format(target, source))
            buffer = io.BytesIO()
            with conn.cursor().copy(sql.SQL("COPY {} TO STDOUT (FORMAT binary)").format(source)) as copy:
                for data in copy:
                    buffer.write(data)
            held[table] = buffer.getvalue()
            rows += int(conn.execute(sql.SQL("SELECT count(*) FROM {}").format(source)).fetchone()[0])  # type: ignore[index]
        indexes = [str(row[0]).replace(f" ON {schema}.", f" ON {bound}.").replace(f' ON "{schema}".', f' ON "{bound}".')
                   for row in conn.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = %s", (schema,))]
        started = time.perf_counter()
        with conn.transaction():
            for table, data in held.items():
                with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN (FORMAT binary)").format(
                        sql.Identifier(bound, table))) as copy:
                    for start in range(0, len(data), 1 << 20):
                        copy.write(data[start:start + (1 << 20)])
            for index in indexes:
                conn.execute(index)  # read from the catalogue, not from input
        seconds = time.perf_counter() - started
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(bound)))
    return seconds, rows


READS = ('{ objectivesConnection(first: 10) { totalCount edges { node { id title } } } '
         'targetsConnection(first: 10) { totalCount edges { node { id metric } } } }',
         '{ objectives { id title } }')


def served_memory(settings: object, reads: int) -> str:
    """The gateway and the reporting worker on the rebuilt store: resident MB idle / peak over ``reads`` rounds of
    ``READS`` / after."""
    from bench.lean_http import LeanClient
    from bench.memory import resident_mb
    from services.runtime import make_tokens
    from shared.settings import Settings
    from tests.harness import Process, free_port, settings_env, wait_until

    assert isinstance(settings, Settings)
    env = {**settings_env(settings), "PARTNERSHIP_LOG_LEVEL": "WARNING"}
    port = free_port()
    work = Path(settings.data_dir)
    gateway = Process(["serve", "reporting", "--port", str(port), "--host", "127.0.0.1"], env, work / "gateway.log")
    worker = Process(["worker", "reporting"], env, work / "worker.log")
    client = LeanClient(f"http://127.0.0.1:{port}", timeout=120)
    try:
        wait_until(lambda: _ready(client), 300, "the gateway on the rebuilt store")
        time.sleep(10.0)
        pids = {"gateway": gateway.popen.pid, "reporting worker": worker.popen.pid}
        rss = {name: resident_mb(pid) for name, pid in pids.items()}
        idle, peak = dict(rss), dict(rss)
        token = make_tokens(settings).mint("bench-officer", "worcestershire-cc", ["partnership_officer"])
        headers = {"authorization": f"Bearer {token}"}
        started = time.perf_counter()
        for _ in range(reads):
            for query in READS:
                answer = client.post("/graphql", json={"query": query}, headers=headers)
                assert answer.status_code == 200 and "errors" not in answer.json(), answer.text[:300]
            peak = {name: max(peak[name], resident_mb(pid)) for name, pid in pids.items()}
        per_round = (time.perf_counter() - started) / max(reads, 1)
        after = {name: resident_mb(pid) for name, pid in pids.items()}
    finally:
        client.close()
        gateway.terminate()
        worker.terminate()
    return (f"resident memory MB on the rebuilt store (idle / peak over {reads} rounds of {len(READS)} GraphQL reads "
            f"/ after): " + ", ".join(f"{name} {idle[name]:.0f}/{peak[name]:.0f}/{after[name]:.0f}" for name in pids)
            + f"; {per_round * 1000:.0f} ms a round")


def _ready(client: object) -> bool:
    try:
        return client.get("/readyz").status_code == 200  # type: ignore[attr-defined, no-any-return]
    except OSError:
        return False


def per_event_rate(settings: object, transport: KafkaTransport, limit: int) -> float:
    from shared.settings import Settings

    assert isinstance(settings, Settings)
    store = ReadStore(settings, "reporting_per_event")
    ReportingReadModel(store, read_model_ddl())
    projection = ReportingProjection()
    runner = ConsumerRunner("reporting", store, transport, settings.topic("projects.events"), projection,
                            dead_letter_topic=settings.topic("reporting.dlq"), batch_size=500)
    done = 0
    started = time.perf_counter()
    while done < limit:
        done += runner.process_batch(timeout=1.0)
    rate = done / (time.perf_counter() - started)
    runner.close()
    store.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--per-event", type=int, default=20_000, help="events for the per-event path (0: skip)")
    parser.add_argument("--serve", type=int, default=0,
                        help="then serve the rebuilt store and print the memory over this many rounds of reads")
    args = parser.parse_args()
    with real_servers() as (kafka, postgres), tempfile.TemporaryDirectory() as tmp:
        settings = settings_for(data_dir=Path(tmp), postgres_url=postgres, kafka=kafka)
        transport = KafkaTransport(kafka)
        history = generate(args.events)
        publish(history, transport, settings.topic_prefix)
        topics = [settings.topic(t) for t in TOPICS]
        raw = raw_consume_rate(kafka, topics, history.count)
        report = rebuild(settings, transport, "reporting", progress=False)
        copy_seconds, copied = raw_copy_seconds(postgres, f"{settings.schema_prefix}reporting")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        replay_only = report.events / report.replay_seconds
        per_event = per_event_rate(settings, transport, min(args.per_event, history.count)) \
            if args.per_event else None
        served = served_memory(settings, args.serve) if args.serve else ""
        transport.close()
    ratio = report.rate / raw
    print(f"history: {history.count:,} events ({', '.join(f'{k} {len(v):,}' for k, v in history.events.items())})")
    print(f"raw kafka-python consume: {raw:,.0f} msgs/s")
    print(f"rebuild (replay + bulk load into PostgreSQL): {report.rate:,.0f} events/s "
          f"({report.seconds:.1f} s; until the last event was applied {replay_only:,.0f} events/s, "
          f"{sum(report.rows.values()):,} rows loaded)")
    if per_event is not None:
        print(f"per-event path (live consumer, PostgreSQL): {per_event:,.0f} events/s "
              f"(rebuild is {report.rate / per_event:.1f}x faster)")
    print(f"ratio rebuild / raw consume: {ratio:.2f}; aim >= 0.5: {'met' if ratio >= 0.5 else 'NOT met'}")
    bound = history.count / (history.count / raw + copy_seconds)
    print(f"raw COPY of the same rows ({copied:,} rows, then their keys and indexes): {copy_seconds:.1f} s "
          f"({copied / copy_seconds:,.0f} rows/s)")
    print(f"real bound (raw consume, then raw COPY): {bound:,.0f} events/s; rebuild / bound: {report.rate / bound:.2f} "
          f"(aim >= 0.5: {'met' if report.rate / bound >= 0.5 else 'NOT met'})")
    print(f"1,000,000 events at these rates: rebuild {1_000_000 / report.rate:,.0f} s, bound "
          f"{1_000_000 / bound:,.0f} s; the rebuilding process's peak resident memory {peak_mb:,.0f} MB")
    if served:
        print(served)


if __name__ == "__main__":
    main()
