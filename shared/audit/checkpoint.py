"""Signed checkpoints of a service's whole log: a later rewrite of whole chains is detectable too.

A checkpoint covers the events after the previous checkpoint up to a notification position. It lists their hashes
(recomputed from content) and signs, with Ed25519, the running log digest ``L_n = SHA-256(L_{n-1} || hash_n)`` over
every event since the first (``L_0`` = 32 zero bytes). Checkpoints live in ``audit_checkpoints`` in the service's own
database, are written one at a time (a table lock), and form a chain of their own (``from_digest`` = the previous
checkpoint's ``log_digest``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eventsourcing.persistence import ApplicationRecorder, TrackingRecorder
from psycopg import sql

from shared.audit.chain import GENESIS, recomputed_hash
from shared.readstore import Tx
from shared.settings import Persistence, Settings

log = logging.getLogger(__name__)

DDL = (
    "CREATE TABLE IF NOT EXISTS audit_checkpoints ("
    " sequence INTEGER PRIMARY KEY, service TEXT NOT NULL,"
    " from_position BIGINT NOT NULL, position BIGINT NOT NULL UNIQUE,"
    " from_events BIGINT NOT NULL, events BIGINT NOT NULL,"
    " from_digest TEXT NOT NULL, log_digest TEXT NOT NULL, created_at TEXT NOT NULL,"
    " public_key TEXT NOT NULL, signature TEXT NOT NULL, hashes TEXT NOT NULL)"
)
_PAGE = 5000
SIGNED_FIELDS = ("created_at", "events", "from_digest", "from_events", "from_position", "log_digest", "position",
                 "sequence", "service")


def canonical_json(values: dict[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the bytes that are signed."""
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def fold(digest: bytes, hashes: bytes) -> bytes:
    """The running log digest after these concatenated 32-byte event hashes."""
    for start in range(0, len(hashes), 32):
        digest = hashlib.sha256(digest + hashes[start:start + 32]).digest()
    return digest


def private_key(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def trusted_public_key(settings: Settings) -> str | None:
    """The published key verify trusts: the configured public key, else the signing key's own."""
    if settings.audit_public_key:
        return settings.audit_public_key.strip().lower()
    seed = settings.audit_signing_seed()
    return None if seed is None else public_key_hex(private_key(seed))


@dataclass(frozen=True)
class Checkpoint:
    """A signed digest of a service's log up to ``position`` (a notification id)."""

    sequence: int
    service: str
    from_position: int
    position: int
    from_events: int
    events: int
    from_digest: str
    log_digest: str
    created_at: str
    public_key: str
    signature: str
    hashes: str

    def signed_bytes(self) -> bytes:
        return canonical_json({name: getattr(self, name) for name in SIGNED_FIELDS})

    def signature_valid(self, public_key: str) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(
                bytes.fromhex(self.signature), self.signed_bytes())
        except (InvalidSignature, ValueError):
            return False
        return True

    def event_hashes(self) -> bytes:
        return bytes.fromhex(self.hashes)

    def summary(self) -> dict[str, Any]:
        values = asdict(self)
        values.pop("hashes")
        return values


@contextmanager
def store_transaction(recorder: ApplicationRecorder, schema: str | None, *, commit: bool) -> Iterator[Tx]:
    """A transaction on the service's own database (its schema on PostgreSQL), beside its events table."""
    datastore: Any = recorder.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=commit) as cursor:
        if schema is not None:
            cursor.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        tracking: Any = recorder if isinstance(recorder, TrackingRecorder) else None
        yield Tx(cursor, tracking, schema is not None)


def schema_of(settings: Settings, service: str) -> str | None:
    return f"{settings.schema_prefix}{service}" if settings.persistence is Persistence.POSTGRES else None


class CheckpointLog:
    """The ``audit_checkpoints`` table of one service."""

    def __init__(self, service: str, recorder: ApplicationRecorder, schema: str | None) -> None:
        self.service = service
        self.recorder = recorder
        self.schema = schema
        self._ready = False

    def _ensure(self) -> None:
        if not self._ready:
            with store_transaction(self.recorder, self.schema, commit=True) as tx:
                tx.execute(DDL)
            self._ready = True

    def all(self) -> list[Checkpoint]:
        self._ensure()
        with store_transaction(self.recorder, self.schema, commit=False) as tx:
            rows = tx.query("SELECT * FROM audit_checkpoints ORDER BY sequence")
        values: list[dict[str, Any]] = [{k: (int(v) if k in _INTS else str(v)) for k, v in row.items()} for row in rows]
        return [Checkpoint(**row) for row in values]

    def last_position(self) -> int:
        self._ensure()
        with store_transaction(self.recorder, self.schema, commit=False) as tx:
            rows = tx.query("SELECT MAX(position) AS p FROM audit_checkpoints")
        return int(rows[0]["p"] or 0)

    def write(self, key: Ed25519PrivateKey, now: datetime | None = None) -> Checkpoint | None:
        """Sign the log from the last checkpoint to its current head; None when nothing was recorded since."""
        self._ensure()
        with store_transaction(self.recorder, self.schema, commit=True) as tx:
            if self.schema is not None:  # one writer at a time, so that checkpoints are consecutive
                tx.execute("LOCK TABLE audit_checkpoints IN SHARE ROW EXCLUSIVE MODE")
            rows = tx.query("SELECT sequence, position, events, log_digest FROM audit_checkpoints"
                            " ORDER BY sequence DESC LIMIT 1")
            last: dict[str, Any] = rows[0] if rows else {"sequence": 0, "position": 0, "events": 0,
                                                         "log_digest": GENESIS.hex()}
            hashes, position = self._hashes_after(int(last["position"]))
            if not hashes:
                return None
            values: dict[str, Any] = {
                "sequence": int(last["sequence"]) + 1, "service": self.service,
                "from_position": int(last["position"]), "position": position,
                "from_events": int(last["events"]), "events": int(last["events"]) + len(hashes) // 32,
                "from_digest": str(last["log_digest"]),
                "log_digest": fold(bytes.fromhex(str(last["log_digest"])), hashes).hex(),
                "created_at": (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds"),
            }
            checkpoint = Checkpoint(**values, public_key=public_key_hex(key), signature="", hashes=hashes.hex())
            checkpoint = Checkpoint(**{**asdict(checkpoint), "signature": key.sign(checkpoint.signed_bytes()).hex()})
            columns = list(asdict(checkpoint))
            tx.execute(f"INSERT INTO audit_checkpoints ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                       [getattr(checkpoint, c) for c in columns])
        return checkpoint

    def _hashes_after(self, position: int) -> tuple[bytes, int]:
        parts: list[bytes] = []
        while True:
            page = self.recorder.select_notifications(start=position, limit=_PAGE, inclusive_of_start=False)
            if not page:
                return b"".join(parts), position
            parts.extend(recomputed_hash(n) for n in page)
            position = page[-1].id


_INTS = {"sequence", "from_position", "position", "from_events", "events"}


class Checkpointer:
    """Writes a checkpoint every ``every`` events, after the save that crossed the mark (and on demand)."""

    def __init__(self, log: CheckpointLog, key: Ed25519PrivateKey | None, every: int) -> None:
        self.log = log
        self.key = key
        self.every = every
        self._last_position: int | None = None

    @classmethod
    def for_service(cls, service: str, recorder: ApplicationRecorder, settings: Settings) -> Checkpointer:
        seed = settings.audit_signing_seed()
        if seed is None and settings.audit_checkpoint_every:
            log.warning("no audit signing key: checkpoints are off", extra={"service": service})
        return cls(CheckpointLog(service, recorder, schema_of(settings, service)),
                   None if seed is None else private_key(seed), settings.audit_checkpoint_every)

    def checkpoint(self) -> Checkpoint | None:
        if self.key is None:
            raise RuntimeError("PARTNERSHIP_AUDIT_SIGNING_KEY must be set to sign checkpoints outside the "
                               "embedded mode")
        checkpoint = self.log.write(self.key)
        if checkpoint is not None:
            self._last_position = checkpoint.position
        return checkpoint

    def after_recorded(self, notification_ids: Sequence[int]) -> None:
        if self.key is None or not self.every or not notification_ids:
            return
        try:
            if self._last_position is None:
                self._last_position = self.log.last_position()
            if max(notification_ids) - self._last_position >= self.every:
                self.checkpoint()
        except Exception:
            # The events are committed; a missed checkpoint is taken at the next mark, so only log it.
            log.exception("writing an audit checkpoint failed", extra={"service": self.log.service})
