"""Proves tools.realservers: real Kafka and PostgreSQL servers that work, and keep their data over restarts."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from typing import TYPE_CHECKING

import psycopg
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

if TYPE_CHECKING:
    from tests.conftest import ExternalKafka, ExternalPostgres
    from tools.realservers import KafkaBroker, PostgresServer

pytestmark = pytest.mark.integration

KEYS = [f"key-{i}" for i in range(10)]


def _new_topic(bootstrap: str, partitions: int = 3) -> str:
    topic = f"realservers-{uuid.uuid4().hex[:12]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics({topic: {"num_partitions": partitions, "replication_factor": 1}}, wait_for_metadata=True)
    finally:
        admin.close()
    return topic


def _produce(bootstrap: str, topic: str, count: int, first_seq: int = 0) -> None:
    """``count`` messages round-robin over KEYS; the value is ``key:seq`` with seq rising per key."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    try:
        for n in range(first_seq, first_seq + count):
            key = KEYS[n % len(KEYS)]
            producer.send(topic, key=key.encode(), value=f"{key}:{n // len(KEYS)}".encode())
        producer.flush(timeout=30)
    finally:
        producer.close()


def _consume(bootstrap: str, topic: str, expected: int, group_id: str | None = None) -> list[tuple[str, str]]:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    received: list[tuple[str, str]] = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + 60
        while len(received) < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                received.extend((r.key.decode(), r.value.decode()) for r in records)
    finally:
        consumer.close()
    return received


def _assert_in_order_per_key(received: list[tuple[str, str]], per_key: int) -> None:
    seqs: dict[str, list[int]] = defaultdict(list)
    for key, value in received:
        value_key, seq = value.rsplit(":", 1)
        assert value_key == key
        seqs[key].append(int(seq))
    assert seqs == {key: list(range(per_key)) for key in KEYS}


def test_kafka_idempotent_produce_then_consume_in_order_per_key(kafka_bootstrap: str) -> None:
    topic = _new_topic(kafka_bootstrap)
    _produce(kafka_bootstrap, topic, 100)

    received = _consume(kafka_bootstrap, topic, 100, group_id=f"g-{topic}")

    assert len(received) == 100
    _assert_in_order_per_key(received, per_key=10)


def test_postgres_connects_creates_table_and_database(
    postgres_server: PostgresServer | ExternalPostgres, postgres_url: str
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE realservers_probe (id int PRIMARY KEY, note text)")
        conn.execute("INSERT INTO realservers_probe VALUES (1, 'hello')")
        assert conn.execute("SELECT note FROM realservers_probe WHERE id = 1").fetchone() == ("hello",)
        conn.execute("DROP TABLE realservers_probe")

    name = f"realservers_{uuid.uuid4().hex[:8]}"
    other_url = postgres_server.create_database(name)
    assert other_url == postgres_server.url_for(name)
    assert postgres_server.create_database(name) == other_url  # idempotent
    with psycopg.connect(other_url) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (name,)


def test_kafka_restart_keeps_messages(kafka_broker: KafkaBroker | ExternalKafka) -> None:
    bootstrap = kafka_broker.bootstrap
    topic = _new_topic(bootstrap)
    _produce(bootstrap, topic, 50)

    kafka_broker.restart()

    assert kafka_broker.bootstrap == bootstrap
    _produce(bootstrap, topic, 50, first_seq=50)
    received = _consume(bootstrap, topic, 100)
    assert len(received) == 100
    _assert_in_order_per_key(received, per_key=10)


def test_kafka_kill_then_start_recovers_messages(kafka_broker: KafkaBroker | ExternalKafka) -> None:
    bootstrap = kafka_broker.bootstrap
    topic = _new_topic(bootstrap)
    _produce(bootstrap, topic, 30)

    kafka_broker.kill()
    kafka_broker.start()

    received = _consume(bootstrap, topic, 30)
    assert len(received) == 30


def test_postgres_restart_keeps_rows(postgres_server: PostgresServer | ExternalPostgres) -> None:
    url = postgres_server.url
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE restart_probe (id int PRIMARY KEY)")
        conn.execute("INSERT INTO restart_probe VALUES (42)")

    postgres_server.restart()

    assert postgres_server.url == url
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT id FROM restart_probe").fetchall() == [(42,)]
        conn.execute("DROP TABLE restart_probe")


def test_postgres_kill_then_start_recovers_committed_rows(
    postgres_server: PostgresServer | ExternalPostgres,
) -> None:
    url = postgres_server.url
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kill_probe (id int PRIMARY KEY)")
        conn.execute("INSERT INTO kill_probe SELECT generate_series(1, 1000)")

    postgres_server.kill()
    postgres_server.start()

    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM kill_probe").fetchone() == (1000,)
        conn.execute("DROP TABLE kill_probe")
