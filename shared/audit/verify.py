"""Verification of one service's log: every aggregate's hash chain, then every signed checkpoint over the log.

Reads the store once in notification order. A problem names the event (aggregate id, version, position) and why;
the first problem found is the first bad event in the log's order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from eventsourcing.persistence import ApplicationRecorder

from shared.audit.chain import GENESIS, HEADER_LENGTH, MAGIC
from shared.audit.checkpoint import Checkpoint, fold

PAGE = 5000
GENESIS_HEX = GENESIS.hex().encode()


@dataclass(frozen=True)
class Problem:
    """Why verification failed, and where."""

    service: str
    reason: str
    aggregate_id: str | None = None
    version: int | None = None
    position: int | None = None

    def __str__(self) -> str:
        if self.aggregate_id is None:
            return f"{self.service}: {self.reason}"
        where = f" (log position {self.position})" if self.position is not None else ""
        return f"{self.service}: event {self.aggregate_id} version {self.version}{where}: {self.reason}"


@dataclass
class Report:
    """What was checked and what was wrong."""

    service: str
    events: int = 0
    aggregates: int = 0
    checkpoints: int = 0
    events_under_checkpoint: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Segment:
    checkpoint: Checkpoint
    hashes: bytes
    trusted: bool
    seen: int = 0
    reported: bool = False

    @property
    def expected(self) -> int:
        return len(self.hashes) // 32


def _check_checkpoints(service: str, checkpoints: list[Checkpoint], public_key: str | None,
                       report: Report) -> list[_Segment]:
    segments: list[_Segment] = []
    previous: Checkpoint | None = None
    for cp in sorted(checkpoints, key=lambda c: c.sequence):
        name = f"checkpoint #{cp.sequence} (position {cp.position}, signed {cp.created_at})"
        problems: list[str] = []
        if public_key is None:
            problems.append(f"{name} cannot be checked: no trusted public key was given")
        elif cp.public_key.lower() != public_key.lower():
            problems.append(f"{name} is signed by another key ({cp.public_key[:16]}...), not the published one")
        elif not cp.signature_valid(public_key):
            problems.append(f"{name} has an invalid signature: it was altered after it was signed")
        expected_from = (0, 0, GENESIS.hex(), 1) if previous is None else (
            previous.position, previous.events, previous.log_digest, previous.sequence + 1)
        if (cp.from_position, cp.from_events, cp.from_digest, cp.sequence) != expected_from:
            problems.append(f"{name} does not follow the checkpoint before it: a checkpoint was removed or altered")
        hashes = cp.event_hashes()
        if len(hashes) // 32 != cp.events - cp.from_events or fold(bytes.fromhex(cp.from_digest), hashes).hex() \
                != cp.log_digest:
            problems.append(f"{name}: its list of event hashes does not give its signed log digest")
        report.problems.extend(Problem(service, reason) for reason in problems)
        segments.append(_Segment(cp, hashes, trusted=not problems))
        previous = cp
    report.checkpoints = len(segments)
    return segments


def verify_log(service: str, recorder: ApplicationRecorder, checkpoints: list[Checkpoint], public_key: str | None,
               progress: Callable[[int], None] | None = None, page: int = PAGE) -> Report:
    """Recompute every event's hash and chain link, and compare each with the checkpoints that signed it."""
    report = Report(service)
    problems = report.problems
    segments = _check_checkpoints(service, checkpoints, public_key, report)
    seg_index = 0
    segment = segments[0] if segments else None
    # The loop is the hot path (benchmarked in bench/audit_verify.py): locals only, one fast test per event.
    seg_start, seg_end = (segment.checkpoint.from_position, segment.checkpoint.position) if segment else (0, -1)
    heads: dict[object, tuple[int, bytes, str]] = {}
    no_head = (0, GENESIS_HEX, "")
    sha256 = hashlib.sha256
    fromhex = bytes.fromhex
    position = 0
    events = under_checkpoint = 0
    while True:
        notifications = recorder.select_notifications(start=position, limit=page, inclusive_of_start=False)
        if not notifications:
            break
        for n in notifications:
            position = n.id
            version = n.originator_version
            state = n.state
            last_version, expected_prev, aggregate_id = heads.get(n.originator_id, no_head)
            if not aggregate_id:
                aggregate_id = str(n.originator_id)
            computed: bytes | None = None
            if state[:8] == MAGIC and state[137:138] == b"\n":
                prev_hex = state[8:72]
                own_hex = state[73:137]
                try:
                    computed = sha256(fromhex(prev_hex.decode()) + f"{aggregate_id}\n{version}\n{n.topic}\n".encode()
                                      + state[HEADER_LENGTH:]).digest()
                except ValueError:
                    computed = GENESIS
                if not (computed.hex().encode() == own_hex and version == last_version + 1
                        and prev_hex == expected_prev):
                    _chain_problem(service, problems, aggregate_id, version, position, computed, own_hex, prev_hex,
                                   last_version, expected_prev)
            else:
                problems.append(Problem(service, "it carries no chain header (written before hash chaining, or "
                                        "the header was removed)", aggregate_id, version, position))
                own_hex = b""
            if version > last_version:
                heads[n.originator_id] = (version, own_hex, aggregate_id)
            # -- the checkpoint whose range holds this position ---------------------------------------------------
            if position > seg_end and segment is not None:
                while segment is not None and position > segment.checkpoint.position:
                    _close(service, segment, problems)
                    seg_index += 1
                    segment = segments[seg_index] if seg_index < len(segments) else None
                seg_start, seg_end = (segment.checkpoint.from_position, segment.checkpoint.position) if segment \
                    else (0, -1)
            if segment is not None and position > seg_start and segment.trusted:
                i = segment.seen
                segment.seen = i + 1
                under_checkpoint += 1
                if not segment.reported and (i >= segment.expected or computed != segment.hashes[32 * i:32 * i + 32]):
                    segment.reported = True
                    cp = segment.checkpoint
                    reason = (f"it is not among the events signed in checkpoint #{cp.sequence} of {cp.created_at} "
                              "(inserted since)") if i >= segment.expected else (
                              f"it differs from the event signed at this place in checkpoint #{cp.sequence} of "
                              f"{cp.created_at} (rewritten, removed or reordered since)")
                    problems.append(Problem(service, reason, aggregate_id, version, position))
        events += len(notifications)
        if progress is not None:
            progress(len(notifications))
    while segment is not None:
        _close(service, segment, problems)
        seg_index += 1
        segment = segments[seg_index] if seg_index < len(segments) else None
    report.events = events
    report.events_under_checkpoint = under_checkpoint
    report.aggregates = len(heads)
    return report


def _chain_problem(service: str, problems: list[Problem], aggregate_id: str, version: int, position: int,
                   computed: bytes, own_hex: bytes, prev_hex: bytes, last_version: int, expected_prev: bytes) -> None:
    """Which of the event's checks failed, in words (the slow path: only for a bad event)."""
    if computed.hex().encode() != own_hex:
        problems.append(Problem(service, "its stored hash does not match its id, version, topic or content "
                                "(edited, moved or reordered after it was written)", aggregate_id, version, position))
    if version > last_version + 1:
        problems.append(Problem(service, f"it is missing: the next stored event of this aggregate is version "
                                f"{version} (deleted?)", aggregate_id, last_version + 1, None))
    elif version <= last_version:
        problems.append(Problem(service, f"it is stored out of order, after version {last_version} (reordered)",
                                aggregate_id, version, position))
    elif prev_hex != expected_prev:
        problems.append(Problem(service, "its predecessor hash does not match the stored previous version (an "
                                "earlier event was changed, removed or reordered)", aggregate_id, version, position))


def _close(service: str, segment: _Segment, problems: list[Problem]) -> None:
    if segment.trusted and not segment.reported and segment.seen != segment.expected:
        cp = segment.checkpoint
        problems.append(Problem(service, f"checkpoint #{cp.sequence} of {cp.created_at} signed {segment.expected} "
                                f"events up to position {cp.position}; {segment.seen} are stored now (events were "
                                "removed)"))
