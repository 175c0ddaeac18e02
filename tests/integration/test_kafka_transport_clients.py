"""A Kafka transport closes every client it opened, however many threads asked for one at once."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from shared.transport import TransportError
from shared.transport.kafka import KafkaTransport


def _io_threads(client_id: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(f"kafka-io-{client_id}")]


@pytest.mark.integration
def test_threads_that_ask_for_partitions_at_once_leave_no_client_open_after_close(kafka_bootstrap: str) -> None:
    client_id = f"race-{uuid.uuid4().hex[:8]}"
    transport = KafkaTransport(kafka_bootstrap, client_id=client_id)
    topic = f"race.{uuid.uuid4().hex[:8]}"
    transport.ensure_topic(topic)
    start = threading.Barrier(8)

    def ask() -> None:  # as the relay and each consumer do when a system starts
        start.wait()
        transport.partitions(topic)

    askers = [threading.Thread(target=ask) for _ in range(8)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join(30)
    assert len(_io_threads(f"{client_id}-meta")) == 1
    transport.close()
    deadline = time.monotonic() + 10
    while _io_threads(client_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _io_threads(client_id) == []
    with pytest.raises(TransportError, match="closed"):  # a late worker opens nothing nobody would close
        transport.partitions(topic)
    assert _io_threads(client_id) == []
