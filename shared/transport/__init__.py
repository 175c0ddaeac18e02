"""Transport: publish to a topic with a key; read a topic from positions (topic, partition, offset).

Two implementations pass one contract suite: Kafka (the real one) and an append-only SQLite log (embedded mode).
Nothing else in the code knows which one it has.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, order=True)
class Position:
    """Where a message sits: its topic, partition and offset."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class Message:
    position: Position
    key: str | None
    value: bytes
    headers: Headers = field(default=())


class TransportError(RuntimeError):
    """The transport could not accept or deliver a message (broker down, timeout)."""


class Publisher(ABC):
    """Sends messages; ``flush`` returns only when every message sent so far is acknowledged."""

    @abstractmethod
    def publish(self, topic: str, key: str | None, value: bytes, headers: Headers = ()) -> None: ...

    @abstractmethod
    def flush(self, timeout: float = 30.0) -> None: ...

    @abstractmethod
    def close(self) -> None: ...


class Reader(ABC):
    """Reads every partition of one topic from the given start offsets (the consumer's own tracking)."""

    @abstractmethod
    def poll(self, max_messages: int, timeout: float) -> Sequence[Message]: ...

    def poll_values(self, max_messages: int, timeout: float) -> Sequence[tuple[int, int, bytes]]:
        """``poll`` reduced to (partition, offset, value): all a bulk reader such as a read-model rebuild needs, which
        a transport may give for less than whole messages."""
        return [(m.position.partition, m.position.offset, m.value) for m in self.poll(max_messages, timeout)]

    @abstractmethod
    def close(self) -> None: ...


class Transport(ABC):
    @abstractmethod
    def ensure_topic(self, topic: str, partitions: int = 3) -> None: ...

    @abstractmethod
    def partitions(self, topic: str) -> list[int]: ...

    @abstractmethod
    def end_offsets(self, topic: str) -> dict[int, int]:
        """The next offset to be written, per partition."""

    @abstractmethod
    def publisher(self) -> Publisher: ...

    @abstractmethod
    def reader(self, topic: str, start: Mapping[int, int]) -> Reader:
        """A reader from ``start[partition]`` (missing partitions start at 0)."""

    def group_reader(self, topic: str, group: str, positions: Callable[[Sequence[int]], Mapping[int, int]]) -> Reader:
        """A reader of the partitions this process is given, each from ``positions(partitions)``: here all of
        them; Kafka with consumer groups on shares them among the members of ``group``."""
        return self.reader(topic, positions(self.partitions(topic)))

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release shared resources."""


def partition_for(key: str | None, partitions: int) -> int:
    """Kafka's default partitioner (murmur2 of the key), so both transports place a key alike."""
    if key is None or partitions <= 1:
        return 0
    return (_murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def _murmur2(data: bytes) -> int:
    # Port of Kafka's Utils.murmur2 (kafka-python ships the same), kept here so the embedded log needs no Kafka.
    length = len(data)
    seed = 0x9747B28C
    m = 0x5BD1E995
    r = 24
    h = seed ^ length
    length4 = length // 4
    for i in range(length4):
        i4 = i * 4
        k = (data[i4] & 0xFF) + ((data[i4 + 1] & 0xFF) << 8) + ((data[i4 + 2] & 0xFF) << 16) + (
            (data[i4 + 3] & 0xFF) << 24
        )
        k = (k * m) & 0xFFFFFFFF
        k ^= (k % 0x100000000) >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
        h &= 0xFFFFFFFF
    extra = length % 4
    if extra >= 3:
        h ^= (data[(length & ~3) + 2] & 0xFF) << 16
    if extra >= 2:
        h ^= (data[(length & ~3) + 1] & 0xFF) << 8
    if extra >= 1:
        h ^= data[length & ~3] & 0xFF
        h = (h * m) & 0xFFFFFFFF
    h ^= (h % 0x100000000) >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= (h % 0x100000000) >> 15
    return h
