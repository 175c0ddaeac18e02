"""One contract, two transports: Kafka (real broker) and the embedded SQLite log behave alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.transport import Message, Transport, partition_for
from shared.transport.embedded import EmbeddedTransport
from shared.transport.kafka import KafkaTransport
from tests.harness import unique


@pytest.fixture(params=["embedded", "kafka"])
def transport(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Transport]:
    if request.param == "kafka":
        bootstrap = request.getfixturevalue("kafka_bootstrap")
        chosen: Transport = KafkaTransport(bootstrap)
    else:
        chosen = EmbeddedTransport(tmp_path / "log.sqlite3")
    yield chosen
    chosen.close()


def _read_all(transport: Transport, topic: str, count: int, start: dict[int, int] | None = None) -> list[Message]:
    reader = transport.reader(topic, start or {})
    got: list[Message] = []
    try:
        for _ in range(100):
            got.extend(reader.poll(500, 0.2))
            if len(got) >= count:
                break
    finally:
        reader.close()
    return got


pytestmark = pytest.mark.integration


def test_messages_of_one_key_keep_their_order_in_one_partition(transport: Transport) -> None:
    topic = unique("contract") + "order"
    transport.ensure_topic(topic, 3)
    publisher = transport.publisher()
    keys = [f"aggregate-{i}" for i in range(5)]
    for n in range(20):
        for key in keys:
            publisher.publish(topic, key, f"{key}:{n}".encode())
    publisher.flush()
    publisher.close()
    messages = _read_all(transport, topic, 100)
    assert len(messages) == 100
    for key in keys:
        mine = [m for m in messages if m.key == key]
        assert [m.value.decode() for m in mine] == [f"{key}:{n}" for n in range(20)]
        assert {m.position.partition for m in mine} == {partition_for(key, 3)}


def test_a_reader_resumes_from_the_given_positions(transport: Transport) -> None:
    topic = unique("contract") + "resume"
    transport.ensure_topic(topic, 1)
    publisher = transport.publisher()
    for n in range(10):
        publisher.publish(topic, "k", str(n).encode(), (("h", b"v"),))
    publisher.flush()
    publisher.close()
    messages = _read_all(transport, topic, 4, start={0: 6})
    assert [m.value for m in messages] == [b"6", b"7", b"8", b"9"]
    assert [m.position.offset for m in messages] == [6, 7, 8, 9]
    assert messages[0].headers == (("h", b"v"),)
    assert transport.end_offsets(topic) == {0: 10}


def test_an_idle_topic_polls_empty_without_error(transport: Transport) -> None:
    topic = unique("contract") + "idle"
    transport.ensure_topic(topic, 2)
    assert transport.partitions(topic) == [0, 1]
    reader = transport.reader(topic, {})
    assert list(reader.poll(10, 0.1)) == []
    reader.close()
