"""Verification of one service's log: every aggregate's hash chain, then the signed Merkle tree heads over the log.

Reads the store once in notification order. A problem names the event (aggregate id, version, position) and why. The
signed checkpoints' entries (authenticated: they give each signed root) say what the log held when it was signed, so
an event deleted, rewritten, inserted or moved since is named as itself, never as a neighbour. Events after the
last checkpoint are reported as not yet covered (a count and their positions).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from eventsourcing.persistence import ApplicationRecorder

from shared.audit.chain import GENESIS, HEADER_LENGTH, MAGIC, recomputed_hash
from shared.audit.checkpoint import Cosignature, Entry, StoredHead
from shared.audit.standalone import TreeHead, VerifierKey, open_checkpoint, split_note, verify_cosignature
from shared.audit.tlog import MerkleTree

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
    tree_size: int = 0
    uncovered: int = 0
    uncovered_positions: tuple[int, int] | None = None
    witnessed_size: int | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def coverage(self) -> str:
        """In words: what the signed checkpoints cover, and what not yet."""
        text = (f"{self.checkpoints} signed checkpoints covering {self.events_under_checkpoint} events "
                f"(tree size {self.tree_size})")
        if self.uncovered and self.uncovered_positions is not None:
            first, last = self.uncovered_positions
            text += (f"; {self.uncovered} event(s) not yet covered (log positions {first}"
                     f"{'' if first == last else f'-{last}'})")
        if self.witnessed_size is not None:
            text += f"; witnessed up to tree size {self.witnessed_size}"
        return text


def _signed_heads(service: str, heads: Sequence[StoredHead], key: VerifierKey | None,
                  report: Report) -> list[tuple[StoredHead, TreeHead]]:
    """The checkpoints whose notes verify with the published key, each extending the one before, in order."""
    trusted: list[tuple[StoredHead, TreeHead]] = []
    size = 0
    for stored in sorted(heads, key=lambda h: h.tree_size):
        name = f"checkpoint of tree size {stored.tree_size} (signed {stored.created_at})"
        if key is None:
            report.problems.append(Problem(service, f"{name} cannot be checked: no trusted public key was given"))
            break
        try:
            head = open_checkpoint(stored.note, [key])
        except ValueError as error:
            report.problems.append(Problem(service, f"{name}: {error} (altered after it was signed, or signed by "
                                                    "another key)"))
            break
        if stored.from_size != size or head.size != stored.tree_size or head.size <= size:
            report.problems.append(Problem(service, f"{name} does not extend the checkpoint before it (of tree size "
                                                    f"{size}): a checkpoint was removed or altered"))
            break
        trusted.append((stored, head))
        size = head.size
    report.checkpoints = len(trusted)
    report.tree_size = size
    return trusted


def _signed_entries(service: str, trusted: Sequence[tuple[StoredHead, TreeHead]], report: Report) -> list[Entry]:
    """The entries the trusted checkpoints signed (each checkpoint's must give its signed root), in order."""
    entries: list[Entry] = []
    tree = MerkleTree()
    for stored, head in trusted:
        added = stored.entries()
        tree.extend(entry.leaf for entry in added)
        if len(added) != stored.tree_size - stored.from_size or tree.root(head.size) != head.root:
            report.problems.append(Problem(service, f"the checkpoint of tree size {head.size}: its stored entries do "
                                                    "not give its signed root hash (they were altered)"))
            break
        entries.extend(added)
    return entries


def _stored_entries(recorder: ApplicationRecorder, page: int) -> list[Entry]:
    """Every stored event as a log entry (its recomputed hash): the slow path's second read."""
    entries: list[Entry] = []
    position = 0
    while notifications := recorder.select_notifications(start=position, limit=page, inclusive_of_start=False):
        entries.extend(Entry(n.id, str(n.originator_id), n.originator_version, recomputed_hash(n))
                       for n in notifications)
        position = notifications[-1].id
    return entries


def _witnessed(heads: Sequence[StoredHead], cosignatures: Sequence[Cosignature], keys: Sequence[VerifierKey],
               required: int) -> int | None:
    """The largest trusted tree size cosigned by ``required`` distinct configured witnesses."""
    by_size: dict[int, list[Cosignature]] = {}
    for cosignature in cosignatures:
        by_size.setdefault(cosignature.tree_size, []).append(cosignature)
    best: int | None = None
    for stored in heads:
        text = split_note(stored.note)[0]
        names = set()
        for cosignature in by_size.get(stored.tree_size, []):
            try:
                _, signatures = split_note(text + "\n" + cosignature.cosignature + "\n")
            except ValueError:
                continue
            for signature in signatures:
                for key in keys:
                    if verify_cosignature(text, signature, key) is not None:
                        names.add(key.name)
        if len(names) >= required:
            best = stored.tree_size
    return best


def verify_log(service: str, recorder: ApplicationRecorder, heads: list[StoredHead], public_key: VerifierKey | None,
               progress: Callable[[int], None] | None = None, page: int = PAGE, *,
               cosignatures: Sequence[Cosignature] = (), witness_keys: Sequence[VerifierKey] = (),
               witnesses: int = 0) -> Report:
    """Recompute every event's hash, chain link and leaf, rebuild the tree, and compare its roots with the signed
    ones; where they differ, compare the log with the entries its checkpoints signed, to name what changed."""
    report = Report(service)
    problems = report.problems
    trusted = _signed_heads(service, heads, public_key, report)
    if witnesses:
        report.witnessed_size = _witnessed([stored for stored, _ in trusted], cosignatures, witness_keys, witnesses)
        if report.witnessed_size is None:
            problems.append(Problem(service, f"no checkpoint is cosigned by {witnesses} of the configured witnesses"))
    # The loop is the hot path (benchmarked in bench/audit_verify.py): locals only, one fast test per event.
    heads_seen: dict[int, tuple[int, bytes, str]] = {}
    no_head = (0, GENESIS_HEX, "")
    sha256 = hashlib.sha256
    fromhex = bytes.fromhex
    topics: dict[str, bytes] = {}
    leaves: list[bytes] = []
    add_leaf = leaves.append
    signed_size = report.tree_size
    first_uncovered: int | None = None
    position = 0
    while True:
        notifications = recorder.select_notifications(start=position, limit=page, inclusive_of_start=False)
        if not notifications:
            break
        for n in notifications:
            position = n.id
            version = n.originator_version
            state = n.state
            key = n.originator_id.int  # type: ignore[union-attr]  # our recorders give UUIDs; an int hashes faster
            last_version, expected_prev, aggregate_id = heads_seen.get(key, no_head)
            if not aggregate_id:
                aggregate_id = str(n.originator_id)
            entry_prefix = f"{aggregate_id}\n{version}\n".encode()
            if state[:8] == MAGIC and state[137:138] == b"\n":
                prev_hex = state[8:72]
                own_hex = state[73:137]
                topic = topics.get(n.topic)
                if topic is None:
                    topic = topics[n.topic] = f"{n.topic}\n".encode()
                try:
                    computed = sha256(fromhex(prev_hex.decode()) + entry_prefix + topic
                                      + state[HEADER_LENGTH:]).digest()
                except ValueError:  # not hex: the header was tampered with
                    computed = GENESIS
                if not (computed.hex().encode() == own_hex and version == last_version + 1
                        and prev_hex == expected_prev):
                    _chain_problem(service, problems, aggregate_id, version, position, computed, own_hex, prev_hex,
                                   last_version, expected_prev)
            else:
                problems.append(Problem(service, "it carries no chain header (written before hash chaining, or "
                                        "the header was removed)", aggregate_id, version, position))
                own_hex = b""
                computed = GENESIS
            if version > last_version:
                heads_seen[key] = (version, own_hex, aggregate_id)
            add_leaf(sha256(b"\x00" + entry_prefix + computed).digest())
        if first_uncovered is None and len(leaves) > signed_size:
            first_uncovered = notifications[signed_size - (len(leaves) - len(notifications))].id
        report.events += len(notifications)
        if progress is not None:
            progress(len(notifications))
    report.aggregates = len(heads_seen)
    tree = MerkleTree(leaves)
    if len(leaves) >= signed_size and all(tree.root(head.size) == head.root for _, head in trusted):
        report.events_under_checkpoint = signed_size
        report.uncovered = len(leaves) - signed_size
        if report.uncovered and first_uncovered is not None:
            report.uncovered_positions = (first_uncovered, position)
        return report
    # The slow path: the log changed after it was signed. Name each event as itself.
    signed = _signed_entries(service, trusted, report)
    stored = _stored_entries(recorder, page)
    first = next((i for i, (a, b) in enumerate(zip(signed, stored, strict=False)) if a.hash != b.hash),
                 min(len(signed), len(stored)))
    report.events_under_checkpoint = first
    _diagnose(service, signed[first:], stored[first:], report)
    return report


def _diagnose(service: str, signed: list[Entry], stored: list[Entry], report: Report) -> None:
    """What became of the signed entries from the first difference on: each one gone, rewritten or moved is named
    as itself (the slow path: only for a log that changed after it was signed)."""
    problems = report.problems
    stored_by_key = {(e.aggregate_id, e.version): e for e in stored}
    signed_keys = {(e.aggregate_id, e.version) for e in signed}
    for entry in signed:
        found = stored_by_key.get((entry.aggregate_id, entry.version))
        if found is None:
            problems.append(Problem(service, "it is gone: the signed checkpoints hold it at this log position, and "
                                             "the store no longer does (deleted since it was signed)",
                                    entry.aggregate_id, entry.version, entry.position))
        elif found.hash != entry.hash:
            problems.append(Problem(service, "it was rewritten after it was signed: it differs from the event the "
                                             "signed checkpoints hold for this aggregate and version",
                                    found.aggregate_id, found.version, found.position))
    # Of what is stored and signed alike, the order must be the signed order.
    in_both_signed = [(e.aggregate_id, e.version) for e in signed
                      if (found := stored_by_key.get((e.aggregate_id, e.version))) is not None and found.hash == e.hash]
    wanted = set(in_both_signed)
    in_both_stored = [(e.aggregate_id, e.version) for e in stored if (e.aggregate_id, e.version) in wanted]
    for expected, actual in zip(in_both_signed, in_both_stored, strict=True):
        if expected != actual:
            moved = stored_by_key[actual]
            problems.append(Problem(service, "it is stored out of the signed order (reordered since it was signed)",
                                    moved.aggregate_id, moved.version, moved.position))
            break
    # Stored events the checkpoints do not hold: inserted among signed ones, or simply not yet covered at the end.
    last_signed_at = max((i for i, e in enumerate(stored) if (e.aggregate_id, e.version) in signed_keys), default=-1)
    for i, entry in enumerate(stored):
        if (entry.aggregate_id, entry.version) not in signed_keys and i < last_signed_at:
            problems.append(Problem(service, "it was inserted among signed events: the signed checkpoints do "
                                             "not hold it", entry.aggregate_id, entry.version, entry.position))
    tail = [e for e in stored[last_signed_at + 1:] if (e.aggregate_id, e.version) not in signed_keys]
    report.uncovered = len(tail)
    if tail:
        report.uncovered_positions = (tail[0].position, tail[-1].position)


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
