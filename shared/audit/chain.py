"""Hash chains over stored events: every stored event carries its predecessor's hash and its own.

A stored event's ``state`` is a fixed 138-byte ASCII header followed by the library's JSON of the event (the
*payload*)::

    #audit1 <prev: 64 hex digits> <hash: 64 hex digits>\\n<payload>

    hash = SHA-256( prev (32 raw bytes) || originator_id "\\n" version "\\n" topic "\\n" payload )

``prev`` is the hash of the same aggregate's previous version (32 zero bytes for version 1). The payload is hashed
exactly as stored (no re-encoding), so an auditor needs no knowledge of the JSON it holds. docs/audit.md is the
specification.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    AggregateRecorder,
    EventStore,
    IntegrityError,
    Mapper,
    Notification,
    Recording,
    StoredEvent,
    Tracking,
    TrackingRecorder,
)

log = logging.getLogger(__name__)

GENESIS = bytes(32)
MAGIC = b"#audit1 "
HEADER_LENGTH = len(MAGIC) + 64 + 1 + 64 + 1
_PREV = slice(len(MAGIC), len(MAGIC) + 64)
_OWN = slice(len(MAGIC) + 65, len(MAGIC) + 129)
FIRST_VERSION = 1


class ChainError(RuntimeError):
    """An event cannot be chained: its predecessor is not in the store."""


def canonical_prefix(originator_id: UUID | str, version: int, topic: str) -> bytes:
    """The bytes hashed before the payload: originator id, version and topic, each ended by a line feed."""
    return f"{originator_id}\n{version}\n{topic}\n".encode()


def event_hash(prev: bytes, originator_id: UUID | str, version: int, topic: str, payload: bytes | memoryview) -> bytes:
    """SHA-256(prev || canonical bytes): the hash a stored event carries."""
    digest = hashlib.sha256(prev)
    digest.update(canonical_prefix(originator_id, version, topic))
    digest.update(payload)
    return digest.digest()


def seal(prev: bytes, originator_id: UUID | str, version: int, topic: str, payload: bytes) -> tuple[bytes, bytes]:
    """The stored state (header + payload) and the event's own hash."""
    own = event_hash(prev, originator_id, version, topic, payload)
    return MAGIC + prev.hex().encode() + b" " + own.hex().encode() + b"\n" + payload, own


@dataclass(frozen=True)
class Link:
    """What a stored event's header says: its predecessor's hash and its own (hex, as stored)."""

    prev_hex: bytes
    own_hex: bytes


class MalformedHeader(ValueError):
    """A stored state that starts like a chain header but is not one."""


def link_of(state: bytes) -> Link | None:
    """The chain header of a stored state; None when it carries none (stored before chaining, or stripped)."""
    if not state.startswith(MAGIC):
        return None
    if len(state) < HEADER_LENGTH or state[HEADER_LENGTH - 1] != 0x0A or state[_OWN.start - 1] != 0x20:
        raise MalformedHeader("the chain header is cut short or malformed")
    return Link(state[_PREV], state[_OWN])


def payload_of(state: bytes) -> bytes:
    return state[HEADER_LENGTH:] if state.startswith(MAGIC) else state


def recomputed_hash(stored: StoredEvent) -> bytes:
    """The hash of a stored event from its content and its stored predecessor hash (genesis if it has none)."""
    link = link_of(stored.state)
    prev = GENESIS if link is None else bytes.fromhex(link.prev_hex.decode("ascii"))
    payload = memoryview(stored.state)[HEADER_LENGTH:] if link is not None else stored.state
    return event_hash(prev, stored.originator_id, stored.originator_version, stored.topic, payload)


class HeadCache:
    """Recently seen hashes per (aggregate id, version), so a command's save needs no extra read of its
    predecessor (the aggregate was just loaded). Only hashes of committed events are kept."""

    def __init__(self, maxsize: int = 10_000) -> None:
        self._hashes: dict[tuple[str, int], bytes] = {}
        self._maxsize = maxsize
        self._lock = threading.Lock()

    def get(self, originator_id: UUID | str, version: int) -> bytes | None:
        return self._hashes.get((str(originator_id), version))

    def put(self, originator_id: UUID | str, version: int, own: bytes) -> None:
        with self._lock:
            if len(self._hashes) >= self._maxsize:
                self._hashes.clear()
            self._hashes[(str(originator_id), version)] = own


class ChainedMapper(Mapper[UUID]):
    """Reads stored events whose state carries a chain header (and, for old stores, ones that do not)."""

    def __init__(self, *args: Any, heads: HeadCache | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heads = heads or HeadCache()

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        state = stored_event.state
        if state.startswith(MAGIC) and len(state) >= HEADER_LENGTH:
            self.heads.put(stored_event.originator_id, stored_event.originator_version,
                           bytes.fromhex(state[_OWN].decode("ascii")))
            stored_event = StoredEvent(originator_id=stored_event.originator_id,
                                       originator_version=stored_event.originator_version,
                                       topic=stored_event.topic, state=state[HEADER_LENGTH:])
        return super().to_domain_event(stored_event)

    def to_published_event(self, stored_event: StoredEvent) -> Any:
        """The event as it leaves the service (a topic, an export): here the same as it is read."""
        return self.to_domain_event(stored_event)


class ChainedEventStore(EventStore[UUID]):
    """Stores events with their chain header: the predecessor's hash comes from the same batch, the head cache,
    or (once) the store; ``on_recorded`` hears the notification ids of every committed batch.

    A write refused as a conflict whose positions already hold exactly these events (same bytes, so the same chain
    hashes) is our own: the recorder retried an insert whose COMMIT landed while its acknowledgement was lost (a
    database restart). It counts as done, so a command applied once is never reported as a concurrent change."""

    def __init__(self, mapper: ChainedMapper, recorder: AggregateRecorder,
                 on_recorded: Callable[[Sequence[int]], None] | None = None) -> None:
        super().__init__(mapper, recorder)
        self.heads = mapper.heads
        self.on_recorded = on_recorded

    def put(self, domain_events: Sequence[Any], **kwargs: Any) -> list[Recording[UUID]]:
        plain = [self.mapper.to_stored_event(event) for event in domain_events]
        in_batch: dict[tuple[str, int], bytes] = {}
        stored: list[StoredEvent] = []
        for event in plain:
            prev = self._predecessor_hash(event.originator_id, event.originator_version, in_batch)
            state, own = seal(prev, event.originator_id, event.originator_version, event.topic, event.state)
            in_batch[(str(event.originator_id), event.originator_version)] = own
            stored.append(StoredEvent(originator_id=event.originator_id, originator_version=event.originator_version,
                                      topic=event.topic, state=state))
        try:
            notification_ids = self.recorder.insert_events(stored, **kwargs)
        except IntegrityError:
            if not self._already_recorded(stored, kwargs.get("tracking")):
                raise  # a genuine concurrent change
            # Committed by an earlier attempt; its notification ids are not known here, so the recordings are
            # empty and the next save's checkpoint mark covers these events.
            log.warning("write found already recorded: a retried insert met its own committed events",
                        extra={"events": [f"{e.originator_id}@{e.originator_version}" for e in stored]})
            notification_ids = None
        for (originator_id, version), own in in_batch.items():
            self.heads.put(originator_id, version, own)
        recordings: list[Recording[UUID]] = []
        if notification_ids:
            for domain_event, event, notification_id in zip(domain_events, stored, notification_ids, strict=True):
                recordings.append(Recording(domain_event, Notification(
                    originator_id=event.originator_id, originator_version=event.originator_version,
                    topic=event.topic, state=event.state, id=notification_id)))
            if self.on_recorded is not None:
                self.on_recorded(notification_ids)
        return recordings

    def _already_recorded(self, stored: Sequence[StoredEvent], tracking: Tracking | None) -> bool:
        """Whether every position of ``stored`` holds exactly that event (and ``tracking``, if any, is recorded)."""
        if not stored:
            return False
        if tracking is not None:
            recorder = self.recorder
            if not isinstance(recorder, TrackingRecorder) or not recorder.has_tracking_id(
                    tracking.application_name, tracking.notification_id):
                return False
        wanted: dict[str, list[StoredEvent]] = {}
        for event in stored:
            wanted.setdefault(str(event.originator_id), []).append(event)
        for events in wanted.values():
            versions = [e.originator_version for e in events]
            found = {e.originator_version: e for e in self.recorder.select_events(
                events[0].originator_id, gt=min(versions) - 1, lte=max(versions))}
            for event in events:
                there = found.get(event.originator_version)
                if there is None or there.topic != event.topic or bytes(there.state) != event.state:
                    return False
        return True

    def _predecessor_hash(self, originator_id: UUID | str, version: int,
                          in_batch: dict[tuple[str, int], bytes]) -> bytes:
        if version <= FIRST_VERSION:
            return GENESIS
        found = in_batch.get((str(originator_id), version - 1)) or self.heads.get(originator_id, version - 1)
        if found is not None:
            return found
        previous = list(self.recorder.select_events(originator_id, gt=version - 2, lte=version - 1))
        if not previous:
            raise ChainError(f"cannot chain {originator_id} version {version}: version {version - 1} is not stored")
        link = link_of(previous[0].state)
        own = bytes.fromhex(link.own_hex.decode("ascii")) if link is not None else recomputed_hash(previous[0])
        self.heads.put(originator_id, version - 1, own)
        return own
