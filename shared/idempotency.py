"""An ``Idempotency-Key`` tells the truth: the same key with the same request replays the first answer, the same key
with a different request is refused (``idempotency-key-reused``), in every service, in one place.

The HTTP edge fingerprints the request (method, path and canonical JSON body) while the command runs; the id the
service derives from the key (``IdempotentIds.id_for``) is remembered with it. The create that saves that id writes
the fingerprint as a tracking row in the same transaction as its events (no half-written state), and any later read
of that id during a keyed command compares fingerprints (the replay, and the retry that lost a race)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Recorder, Tracking, TrackingRecorder

from shared.errors import InvalidCommand

TRACKING_PREFIX = "idempotency-key:"
"""Tracking rows of this prefix hold fingerprints, not upstream positions (no consumer reads them)."""


def fingerprint(method: str, path: str, body: bytes) -> int:
    """A 63-bit hash of a request: its JSON body canonically (key order, spacing and escapes do not count)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, RecursionError):
        canonical = body
    digest = hashlib.sha256(f"{method.upper()} {path}\n".encode() + canonical).digest()
    return int.from_bytes(digest[:8], "big") >> 1  # a PostgreSQL bigint is signed


@dataclasses.dataclass
class _Keyed:
    fingerprint: int
    aggregate_id: UUID | None = None

    @property
    def tracking(self) -> Tracking:
        assert self.aggregate_id is not None
        return Tracking(TRACKING_PREFIX + self.aggregate_id.hex, self.fingerprint)


_current: ContextVar[_Keyed | None] = ContextVar("idempotent_command", default=None)


def begin_keyed_command(request_fingerprint: int | None) -> None:
    """Called by the HTTP edge for each command: its fingerprint when it carries an Idempotency-Key, else None."""
    _current.set(None if request_fingerprint is None else _Keyed(request_fingerprint))


def derived(aggregate_id: UUID) -> None:
    """The current keyed command's aggregate will have this id (``IdempotentIds.id_for``)."""
    keyed = _current.get()
    if keyed is not None:
        keyed.aggregate_id = aggregate_id


def tracking_for(events: list[Any]) -> Tracking | None:
    """The fingerprint row to save with ``events`` when they create the current keyed command's aggregate."""
    keyed = _current.get()
    if keyed is None or keyed.aggregate_id is None:
        return None
    created = any(e.originator_id == keyed.aggregate_id and e.originator_version == 1 for e in events)
    return keyed.tracking if created else None


_answering: ContextVar[str | None] = ContextVar("answering_command", default=None)


@contextmanager
def answering(name: str) -> Iterator[None]:
    """While a command that must take effect once is run (a partner's inbound command, by its CloudEvent id), the
    save of its events writes the tracking row ``name`` in their transaction; a second save under the same name is
    the store's conflict, so the command's effects are recorded at most once, whatever redelivers it."""
    token = _answering.set(name)
    try:
        yield
    finally:
        _answering.reset(token)


def answer_tracking(events: list[Any]) -> Tracking | None:
    """The once-only row to save with ``events`` while ``answering``: always 1, and a single-row tracking record
    moves only forward, so inserting it again is refused."""
    name = _answering.get()
    return Tracking(name, 1) if name is not None and events else None


def check_replay(aggregate_id: UUID, recorder: Recorder) -> None:
    """Refuses the replay of a keyed create whose first request was a different one. A record created before
    fingerprints were kept has none: it is replayed as before."""
    keyed = _current.get()
    if keyed is None or keyed.aggregate_id != aggregate_id or not isinstance(recorder, TrackingRecorder):
        return
    # One row per keyed aggregate; compared for equality (``has_tracking_id`` means "at or past a position").
    first = recorder.max_tracking_id(keyed.tracking.application_name)
    if first is None or first == keyed.fingerprint:
        return
    raise IdempotencyKeyReused(
        "This Idempotency-Key was already used for a different request: send a new key for a new request, or the "
        "same request unchanged to get its first answer.",
        [{"field": "Idempotency-Key", "code": "idempotency-key-reused",
          "message": "Already used with a different body or path."}])


class IdempotencyKeyReused(InvalidCommand):
    """The same key with a different request: replaying the first answer would hide that this one was not applied."""

    code = "idempotency-key-reused"
