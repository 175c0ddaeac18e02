"""Signed tree heads (checkpoints) of a service's log: a Merkle tree over every event, signed as a C2SP checkpoint.

Each checkpoint extends the tree from the previous one's size to the log's head: it stores its new entries (position,
aggregate id, version, event hash: the leaves), the root hash and the signed note (``origin / size / root``, Ed25519,
golang.org/x/mod/sumdb/note format). Checkpoints live in ``audit_tree_heads`` in the service's own database, written
one at a time (a table lock); witnesses' cosignatures of them in ``audit_cosignatures``. A checkpoint is written every
``audit_checkpoint_every`` events, within ``audit_checkpoint_interval`` seconds of any commit (the worker's loop), and
at a clean shutdown. docs/audit.md is the specification.
"""

from __future__ import annotations

import base64
import logging
import struct
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eventsourcing.persistence import ApplicationRecorder, TrackingRecorder
from psycopg import sql

from shared.audit.chain import recomputed_hash
from shared.audit.standalone import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    Signature,
    TreeHead,
    VerifierKey,
    checkpoint_text,
    cosigned_message,
    leaf_data,
    leaf_hash,
    split_note,
    verify_cosignature,
)
from shared.audit.tlog import MerkleTree
from shared.readstore import Tx
from shared.settings import Persistence, Settings

log = logging.getLogger(__name__)

DDL = (
    "CREATE TABLE IF NOT EXISTS audit_tree_heads ("
    " tree_size BIGINT PRIMARY KEY, from_size BIGINT NOT NULL, position BIGINT NOT NULL,"
    " root_hash TEXT NOT NULL, note TEXT NOT NULL, created_at TEXT NOT NULL, entries TEXT NOT NULL,"
    " published_at TEXT)",
    "CREATE TABLE IF NOT EXISTS audit_cosignatures ("
    " tree_size BIGINT NOT NULL, witness TEXT NOT NULL, cosignature TEXT NOT NULL, cosigned_at BIGINT NOT NULL,"
    " received_at TEXT NOT NULL, PRIMARY KEY (tree_size, witness))",
)
_PAGE = 5000
_WRITE_ATTEMPTS = 5


def private_key(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def origin_of(settings: Settings, service: str) -> str:
    """The log's origin line (and its key's name): unique per service's log."""
    return f"{settings.audit_log_origin.rstrip('/')}/{service}"


def trusted_public_key(settings: Settings) -> str | None:
    """The published key verify trusts (raw Ed25519, hex): the configured public key, else the signing key's own."""
    if settings.audit_public_key:
        return settings.audit_public_key.strip().lower()
    seed = settings.audit_signing_seed()
    return None if seed is None else public_key_hex(private_key(seed))


def verifier_key(public_hex: str, origin: str) -> VerifierKey:
    """The note verifier key of a log: its origin as the name, the raw Ed25519 key."""
    return VerifierKey(origin, ALG_ED25519, bytes.fromhex(public_hex))


def witness_keys(settings: Settings) -> list[VerifierKey]:
    """The witnesses' cosignature keys the service accepts (``name+hash+base64(0x04 || key)``)."""
    keys = [VerifierKey.parse(text) for text in settings.audit_witness_keys]
    for key in keys:
        if key.alg != ALG_COSIGNATURE_V1:
            raise ValueError(f"witness key {key.name!r} is not a cosignature/v1 (0x04) key")
    return keys


class NoteSigner:
    """Signs a log's checkpoints as a C2SP signed note under the log's origin."""

    def __init__(self, seed: bytes, origin: str) -> None:
        self._key = private_key(seed)
        self.origin = origin
        self.verifier = verifier_key(public_key_hex(self._key), origin)

    def sign(self, text: str) -> str:
        signature = Signature(self.origin, self.verifier.id, self._key.sign(text.encode()))
        return text + "\n" + signature.line


class Cosigner:
    """A witness's key: cosigns checkpoints as C2SP tlog-cosignature/v1 (Ed25519, key type 0x04)."""

    def __init__(self, seed: bytes, name: str) -> None:
        self._key = private_key(seed)
        self.name = name
        self.verifier = VerifierKey(name, ALG_COSIGNATURE_V1, bytes.fromhex(public_key_hex(self._key)))

    def cosign(self, text: str, timestamp: int | None = None) -> Signature:
        """The cosignature line of a checkpoint's text, at ``timestamp`` (UNIX seconds; default now)."""
        at = int(datetime.now(UTC).timestamp()) if timestamp is None else timestamp
        signed = struct.pack(">Q", at) + self._key.sign(cosigned_message(at, text))
        return Signature(self.name, self.verifier.id, signed)


@dataclass(frozen=True)
class Entry:
    """One leaf: the event at a log position, its aggregate id and version, and its (recomputed) hash."""

    position: int
    aggregate_id: str
    version: int
    hash: bytes

    @property
    def leaf(self) -> bytes:
        return leaf_hash(leaf_data(self.aggregate_id, self.version, self.hash))

    def line(self) -> str:
        return f"{self.position} {self.aggregate_id} {self.version} {self.hash.hex()}\n"

    @classmethod
    def parse(cls, line: str) -> Entry:
        position, aggregate_id, version, hash_hex = line.split(" ")
        return cls(int(position), aggregate_id, int(version), bytes.fromhex(hash_hex))


def parse_entries(text: str) -> list[Entry]:
    return [Entry.parse(line) for line in text.splitlines() if line]


@dataclass(frozen=True)
class StoredHead:
    """A checkpoint as stored: the signed note, the entries it added, where the log was."""

    tree_size: int
    from_size: int
    position: int
    root_hash: str
    note: str
    created_at: str
    entries_text: str = field(repr=False)
    published_at: str | None = None

    def entries(self) -> list[Entry]:
        return parse_entries(self.entries_text)

    def head(self) -> TreeHead:
        return TreeHead.parse(split_note(self.note)[0])

    def summary(self) -> dict[str, Any]:
        return {"tree_size": self.tree_size, "from_size": self.from_size, "position": self.position,
                "root_hash": self.root_hash, "note": self.note, "created_at": self.created_at,
                "published_at": self.published_at}


@dataclass(frozen=True)
class Cosignature:
    """A witness's cosignature/v1 line of a checkpoint, as received."""

    tree_size: int
    witness: str
    cosignature: str
    cosigned_at: int
    received_at: str


class CosignatureRefused(ValueError):
    """A cosignature that does not verify, is of an unknown witness, or of a checkpoint this log never signed."""


def schema_of(settings: Settings, service: str) -> str | None:
    return f"{settings.schema_prefix}{service}" if settings.persistence is Persistence.POSTGRES else None


@contextmanager
def store_transaction(recorder: ApplicationRecorder, schema: str | None, *, commit: bool) -> Iterator[Tx]:
    """A transaction on the service's own database (its schema on PostgreSQL), beside its events table."""
    datastore: Any = recorder.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=commit) as cursor:
        if schema is not None:
            cursor.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        tracking: Any = recorder if isinstance(recorder, TrackingRecorder) else None
        yield Tx(cursor, tracking, schema is not None)


_COLUMNS = ("tree_size", "from_size", "position", "root_hash", "note", "created_at", "entries", "published_at")


def _head(row: dict[str, Any]) -> StoredHead:
    return StoredHead(int(row["tree_size"]), int(row["from_size"]), int(row["position"]), str(row["root_hash"]),
                      str(row["note"]), str(row["created_at"]), str(row["entries"]),
                      None if row.get("published_at") is None else str(row["published_at"]))


class CheckpointLog:
    """The ``audit_tree_heads`` and ``audit_cosignatures`` tables of one service, and its tree (kept in memory)."""

    def __init__(self, service: str, recorder: ApplicationRecorder, schema: str | None, origin: str) -> None:
        self.service = service
        self.recorder = recorder
        self.schema = schema
        self.origin = origin
        self._ready = False
        self._tree = MerkleTree()
        self._leaf_of: dict[tuple[str, int], int] = {}
        self._tree_lock = threading.RLock()  # write() holds it while tree() catches up

    def _ensure(self) -> None:
        if not self._ready:
            with store_transaction(self.recorder, self.schema, commit=True) as tx:
                for statement in DDL:
                    tx.execute(statement)
            self._ready = True

    def all(self) -> list[StoredHead]:
        self._ensure()
        with store_transaction(self.recorder, self.schema, commit=False) as tx:
            rows = tx.query(f"SELECT {', '.join(_COLUMNS)} FROM audit_tree_heads ORDER BY tree_size")
        return [_head(row) for row in rows]

    def latest(self) -> StoredHead | None:
        self._ensure()
        with store_transaction(self.recorder, self.schema, commit=False) as tx:
            rows = tx.query(f"SELECT {', '.join(_COLUMNS)} FROM audit_tree_heads ORDER BY tree_size DESC LIMIT 1")
        return _head(rows[0]) if rows else None

    def last_position(self) -> int:
        self._ensure()
        with store_transaction(self.recorder, self.schema, commit=False) as tx:
            rows = tx.query("SELECT MAX(position) AS p FROM audit_tree_heads")
        return int(rows[0]["p"] or 0)

    def tree(self, size: int | None = None) -> MerkleTree:
        """The tree over the stored checkpoints' entries (for proofs), brought up to date from the table."""
        self._ensure()
        with self._tree_lock:
            with store_transaction(self.recorder, self.schema, commit=False) as tx:
                self._catch_up(tx)
            if size is not None and size > self._tree.size:
                raise ValueError(f"no checkpoint of {self.service} has tree size {size}")
            return self._tree

    def leaf_index(self, aggregate_id: str, version: int) -> int | None:
        """Where an event sits in the signed tree (after ``tree()``); None when no checkpoint covers it yet."""
        return self._leaf_of.get((aggregate_id, version))

    def _extend(self, entries: Sequence[Entry]) -> None:
        start = self._tree.size
        self._tree.extend(entry.leaf for entry in entries)
        for offset, entry in enumerate(entries):
            self._leaf_of[(entry.aggregate_id, entry.version)] = start + offset

    def _restart(self) -> None:
        self._tree = MerkleTree()
        self._leaf_of = {}

    def _catch_up(self, tx: Tx) -> None:
        rows = tx.query("SELECT tree_size, from_size, entries FROM audit_tree_heads WHERE tree_size > ?"
                        " ORDER BY tree_size", [self._tree.size])
        for row in rows:
            if int(row["from_size"]) != self._tree.size:  # rows changed under us: start again from the table
                self._restart()
                self._catch_up(tx)
                return
            self._extend(parse_entries(str(row["entries"])))

    def write(self, signer: NoteSigner, now: datetime | None = None) -> StoredHead | None:
        """Sign the tree up to the log's current head; None when nothing was recorded since the last checkpoint.

        The new events are read and hashed before the transaction (the store ends a transaction idle for seconds,
        and a first checkpoint of a large store takes longer), and the transaction only checks, under its lock,
        that no other writer signed in between (else it reads again)."""
        self._ensure()
        for _ in range(_WRITE_ATTEMPTS):
            latest = self.latest()
            size, position = (latest.tree_size, latest.position) if latest is not None else (0, 0)
            entries = self._entries_after(position)
            if not entries:
                return None
            leaves = [entry.leaf for entry in entries]
            with self._tree_lock:
                self.tree()  # caught up with the table before the transaction, too
                try:
                    written = self._insert(signer, now, size, position, entries, leaves)
                except Exception:
                    self._restart()  # the tree may hold leaves of a checkpoint that was not stored
                    raise
            if written is not None:
                return written
        raise RuntimeError(f"{self.service}: other writers kept signing checkpoints; try again")

    def _insert(self, signer: NoteSigner, now: datetime | None, size: int, position: int, entries: list[Entry],
                leaves: list[bytes]) -> StoredHead | None:
        """Store the checkpoint extending ``size`` by ``entries``; None if another writer extended it meanwhile."""
        with store_transaction(self.recorder, self.schema, commit=True) as tx:
            if self.schema is not None:  # one writer at a time, so that checkpoints extend each other
                tx.execute("LOCK TABLE audit_tree_heads IN SHARE ROW EXCLUSIVE MODE")
            rows = tx.query("SELECT tree_size, position FROM audit_tree_heads ORDER BY tree_size DESC LIMIT 1")
            if ((int(rows[0]["tree_size"]), int(rows[0]["position"])) if rows else (0, 0)) != (size, position):
                return None
            if self._tree.size != size:
                self._restart()
                self._catch_up(tx)
            start = self._tree.size
            self._tree.extend(leaves)
            for offset, entry in enumerate(entries):
                self._leaf_of[(entry.aggregate_id, entry.version)] = start + offset
            new_size = size + len(entries)
            root = self._tree.root(new_size)
            stored = StoredHead(
                tree_size=new_size, from_size=size, position=entries[-1].position, root_hash=root.hex(),
                note=signer.sign(checkpoint_text(self.origin, new_size, root)),
                created_at=(now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds"),
                entries_text="".join(entry.line() for entry in entries))
            tx.execute(f"INSERT INTO audit_tree_heads ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * 8)})",
                       [stored.tree_size, stored.from_size, stored.position, stored.root_hash, stored.note,
                        stored.created_at, stored.entries_text, None])
        return stored

    def _entries_after(self, position: int) -> list[Entry]:
        entries: list[Entry] = []
        while page := self.recorder.select_notifications(start=position, limit=_PAGE, inclusive_of_start=False):
            entries.extend(Entry(n.id, str(n.originator_id), n.originator_version, recomputed_hash(n)) for n in page)
            position = page[-1].id
        return entries

    # -- publication ----------------------------------------------------------------------------------------
    def unpublished(self) -> list[StoredHead]:
        self._ensure()
        with store_transaction(self.recorder, self.schema, commit=False) as tx:
            rows = tx.query(f"SELECT {', '.join(_COLUMNS)} FROM audit_tree_heads WHERE published_at IS NULL"
                            " ORDER BY tree_size")
        return [_head(row) for row in rows]

    def mark_published(self, tree_size: int, at: datetime | None = None) -> None:
        with store_transaction(self.recorder, self.schema, commit=True) as tx:
            tx.execute("UPDATE audit_tree_heads SET published_at = ? WHERE tree_size = ?",
                       [(at or datetime.now(UTC)).isoformat(timespec="microseconds"), tree_size])

    # -- cosignatures ---------------------------------------------------------------------------------------
    def cosignatures(self) -> list[Cosignature]:
        self._ensure()
        with store_transaction(self.recorder, self.schema, commit=False) as tx:
            rows = tx.query("SELECT tree_size, witness, cosignature, cosigned_at, received_at FROM audit_cosignatures"
                            " ORDER BY tree_size, witness")
        return [Cosignature(int(r["tree_size"]), str(r["witness"]), str(r["cosignature"]), int(r["cosigned_at"]),
                            str(r["received_at"])) for r in rows]

    def add_cosignature(self, note: str, keys: Sequence[VerifierKey]) -> list[Cosignature]:
        """Keep the cosignatures in ``note`` (a checkpoint of this log with witness signature lines) that verify
        against ``keys``; CosignatureRefused when none does or the checkpoint is not one this log signed."""
        try:
            text, signatures = split_note(note)
            head = TreeHead.parse(text)
        except ValueError as error:
            raise CosignatureRefused(f"not a cosigned checkpoint: {error}") from None
        stored = {h.tree_size: h for h in self.all()}.get(head.size)
        if head.origin != self.origin or stored is None or split_note(stored.note)[0] != text:
            raise CosignatureRefused(f"{head.origin} at size {head.size} is not a checkpoint this log signed")
        kept: list[Cosignature] = []
        received = datetime.now(UTC).isoformat(timespec="microseconds")
        for signature in signatures:
            for key in keys:
                timestamp = verify_cosignature(text, signature, key)
                if timestamp is not None:
                    kept.append(Cosignature(head.size, key.name, signature.line.rstrip("\n"), timestamp, received))
        if not kept:
            raise CosignatureRefused("no signature line is a valid cosignature/v1 by a configured witness key")
        with store_transaction(self.recorder, self.schema, commit=True) as tx:
            for cosignature in kept:
                tx.execute("DELETE FROM audit_cosignatures WHERE tree_size = ? AND witness = ?",
                           [cosignature.tree_size, cosignature.witness])
                tx.execute("INSERT INTO audit_cosignatures (tree_size, witness, cosignature, cosigned_at,"
                           " received_at) VALUES (?, ?, ?, ?, ?)",
                           [cosignature.tree_size, cosignature.witness, cosignature.cosignature,
                            cosignature.cosigned_at, cosignature.received_at])
        return kept


Publish = Callable[[StoredHead, list[bytes]], None]
"""Sends a checkpoint (with the consistency proof from the checkpoint before it) to the checkpoints topic."""


class Checkpointer:
    """Writes a checkpoint every ``every`` events (after the save that crossed the mark), within ``interval`` seconds
    of any commit (``run``, the worker's loop, which also publishes them), at a clean shutdown and on demand."""

    def __init__(self, log: CheckpointLog, signer: NoteSigner | None, every: int, interval: float) -> None:
        self.log = log
        self.signer = signer
        self.every = every
        self.interval = interval
        self._last_position: int | None = None

    @classmethod
    def for_service(cls, service: str, recorder: ApplicationRecorder, settings: Settings) -> Checkpointer:
        seed = settings.audit_signing_seed()
        origin = origin_of(settings, service)
        if seed is None:
            if not settings.audit_checkpoints_off_unsafe:
                raise RuntimeError(
                    "PARTNERSHIP_AUDIT_SIGNING_KEY must be set outside the embedded mode: without it no checkpoint "
                    "is signed and tampering with the log goes unseen. To run without checkpoints anyway, set "
                    "PARTNERSHIP_AUDIT_CHECKPOINTS_OFF_UNSAFE=true.")
            log.warning("audit checkpoints are switched off (PARTNERSHIP_AUDIT_CHECKPOINTS_OFF_UNSAFE): tampering "
                        "with the log will not be detected", extra={"service": service})
        return cls(CheckpointLog(service, recorder, schema_of(settings, service), origin),
                   None if seed is None else NoteSigner(seed, origin), settings.audit_checkpoint_every,
                   settings.audit_checkpoint_interval)

    def checkpoint(self) -> StoredHead | None:
        if self.signer is None:
            raise RuntimeError("PARTNERSHIP_AUDIT_SIGNING_KEY must be set to sign checkpoints outside the "
                               "embedded mode")
        written = self.log.write(self.signer)
        if written is not None:
            self._last_position = written.position
        return written

    def after_recorded(self, notification_ids: Sequence[int]) -> None:
        if self.signer is None or not self.every or not notification_ids:
            return
        try:
            if self._last_position is None:
                self._last_position = self.log.last_position()
            if max(notification_ids) - self._last_position >= self.every:
                self.checkpoint()
        except Exception:
            # The events are committed; the worker's timed checkpoint covers them, so only log it.
            log.exception("writing an audit checkpoint failed", extra={"service": self.log.service})

    def due(self) -> bool:
        """Whether events were recorded after the last checkpoint."""
        head = self.log.recorder.max_notification_id() or 0
        return head > self.log.last_position()

    def publish_pending(self, publish: Publish) -> int:
        """Publish every checkpoint not yet published, oldest first, each with its consistency proof."""
        pending = self.log.unpublished()
        if not pending:
            return 0
        tree = self.log.tree(pending[-1].tree_size)
        for stored in pending:
            publish(stored, tree.consistency_proof(stored.from_size, stored.tree_size))
            self.log.mark_published(stored.tree_size)
        return len(pending)

    def run(self, stop: threading.Event, publish: Publish | None = None) -> None:
        """Every half interval: sign what was recorded since the last checkpoint, then publish what is unpublished,
        so that every commit is covered within ``interval`` seconds. At stop, a last checkpoint."""
        if self.signer is None:
            return
        while True:
            stopping = stop.wait(self.interval / 2)
            try:
                if self.due():
                    self.checkpoint()
                if publish is not None:
                    self.publish_pending(publish)
            except Exception:
                log.exception("the timed audit checkpoint failed; retrying", extra={"service": self.log.service})
            if stopping:
                return

    def close(self) -> None:
        """At a clean shutdown: cover what this process recorded (the worker publishes it if this one cannot)."""
        if self.signer is None:
            return
        try:
            if self.due():
                self.checkpoint()
        except Exception:
            log.exception("the shutdown audit checkpoint failed", extra={"service": self.log.service})


def b64(values: Sequence[bytes]) -> list[str]:
    return [base64.b64encode(v).decode() for v in values]
