"""The people vault: pseudonyms for actors, and per-record keys for free text that may name people.

Events never carry a person's identity-provider subject: the actor an event records is a pseudonym
(``person:<32 hex>``) the vault issues the first time the person acts. The vault's ``people`` row links it to the
subject and the name the token gave; that link is the erasable personal data. Free text that may name people
(``SEALED_FIELDS``) is stored as ``sealed:v1:<key id>:<ciphertext>`` under a key of its own per stored event, so the
hash chain commits to the ciphertext; redaction destroys the key, and the text then reads as ``[redacted]``.

One vault serves every service (its own store: ``people.sqlite3`` or the ``<prefix>people`` schema) rather than a
table per service store: one pseudonym per person across the system, so reporting names the same person alike
whichever service recorded the act, and erasure is one transaction instead of four that could disagree. Each
service and reporting reach it through ``vault_for(settings)``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import StoredEvent

from shared.audit.chain import ChainedMapper
from shared.contracts import Actor, Decision
from shared.fields import SEALED_PREFIX
from shared.readstore import ReadStore
from shared.settings import Settings

log = logging.getLogger(__name__)

PSEUDONYM_PREFIX = "person:"
CLIENT_PREFIX = "client:"
REDACTED = "[redacted]"
UNAVAILABLE = "[sealed: its key is not in this people vault]"
"""A sealed text whose key this vault never held: a misconfiguration (a service or reporting pointed at another
vault than the one that sealed it: PARTNERSHIP_PEOPLE_DATABASE_URL), never shown as a redaction."""
ERASED_NAME = "an erased person"
SEALED_FIELDS = frozenset({"reason", "narrative", "correction_reason", "status_reason"})
"""Free-text fields sealed wherever an event (or its decision) has them: a decision's reason, a status change's
reason (a retirement, rejection, deferral, withdrawal, intervention), and a report's narrative and its correction
reason. Officers write these in their own words, and they are where people get named ("as agreed with ...").
Titles, names of bodies and descriptions of places or projects are not: they name things, and reporting needs them
in clear."""
SEALED_BY_EVENT: dict[str, frozenset[str]] = {"InterventionRecorded": frozenset({"description"})}
"""Fields sealed in one event only: an intervention's description is what the programme manager did, in their own
words (a project's or a risk's description names things and stays in clear)."""
_SEALED = re.compile(r"sealed:v1:[0-9a-f]{32}:[A-Za-z0-9_=-]+")
_CACHE_SECONDS = 30.0
"""How long a process trusts what it read from the vault (a pseudonym, a key). An erasure clears the erasing
process's cache at once; other processes see it within this time."""

DDL = (
    "CREATE TABLE IF NOT EXISTS people (pseudonym TEXT PRIMARY KEY, subject_digest TEXT NOT NULL, subject TEXT,"
    " name TEXT, created_at TEXT NOT NULL, erased_at TEXT, erased_reason TEXT)",
    "CREATE INDEX IF NOT EXISTS people_by_digest ON people (subject_digest)",
    "CREATE TABLE IF NOT EXISTS sealed_text_keys (key_id TEXT PRIMARY KEY, author TEXT NOT NULL, aggregate_id TEXT,"
    " aggregate_version INTEGER, data_key TEXT, created_at TEXT NOT NULL, redacted_at TEXT, redacted_reason TEXT)",
    "CREATE INDEX IF NOT EXISTS sealed_text_keys_by_author ON sealed_text_keys (author)",
    "CREATE TABLE IF NOT EXISTS people_vault_secret (id INTEGER PRIMARY KEY, secret TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS people_erasures (erasure_id TEXT PRIMARY KEY, pseudonym TEXT NOT NULL,"
    " decision TEXT NOT NULL, redacted_keys INTEGER NOT NULL, erased_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS people_redactions (redaction_id TEXT PRIMARY KEY, aggregate_id TEXT,"
    " aggregate_version INTEGER, author TEXT, reason TEXT NOT NULL, keys INTEGER NOT NULL, redacted_at TEXT NOT NULL)",
)


class UnknownPerson(LookupError):
    """No personal data of this person is held."""


@dataclass(frozen=True)
class PersonErasure:
    pseudonyms: list[str]
    redacted_texts: int
    erased_at: str
    decision: dict[str, Any]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def is_pseudonym(user_id: str) -> bool:
    return user_id.startswith(PSEUDONYM_PREFIX)


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


class _TtlCache:
    def __init__(self, size: int = 4096) -> None:
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is None or found[0] < time.monotonic():
                return None
            self._items.move_to_end(key)
            return found[1]

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + _CACHE_SECONDS, value)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_NAMES = _TtlCache()
"""The display name each subject's token gave, noted when the principal acts (``note_name``), for the vault to
record with the pseudonym when the act is stored."""


def note_name(subject: str, name: str | None) -> None:
    if name:
        _NAMES.put(subject, name)


class PeopleVault:
    """Pseudonyms and sealed-text keys in the ``people`` store."""

    def __init__(self, settings: Settings) -> None:
        if settings.people_database_url:  # a deployment with a database per service: the vault has its own
            settings = settings.model_copy(update={"database_url": settings.people_database_url})
        self.store = ReadStore(settings, "people")
        self.store.migrate(DDL)
        self._secret: bytes | None = None
        self._pseudonyms = _TtlCache()
        self._keys = _TtlCache()
        self._names = _TtlCache()
        self._warned = False

    def close(self) -> None:
        self.store.close()

    # -- pseudonyms ----------------------------------------------------------------------------------------------

    def _digest(self, subject: str) -> str:
        """A keyed hash of the subject: how the vault finds a person's pseudonym without indexing the subject, and
        what stays after erasure (so an old event read again maps to the erased pseudonym, never a new link)."""
        if self._secret is None:
            with self.store.transaction() as tx:
                tx.execute("INSERT INTO people_vault_secret (id, secret) VALUES (1, ?) ON CONFLICT (id) DO NOTHING",
                           (secrets.token_hex(32),))
                self._secret = bytes.fromhex(tx.query("SELECT secret FROM people_vault_secret WHERE id = 1")[0]
                                             ["secret"])
        return hmac.new(self._secret, subject.encode(), hashlib.sha256).hexdigest()

    def pseudonym_for(self, subject: str, name: str | None = None) -> str:
        """The pseudonym a person acts under: issued the first time they act (or again after they were erased:
        a returning person is not re-linked to what was erased)."""
        if is_pseudonym(subject) or subject.startswith(CLIENT_PREFIX):
            return subject  # already a pseudonym (an actor copied from an upstream event), or a partner system
        name = name or _NAMES.get(subject)
        cached = self._pseudonyms.get(subject)
        if cached is not None and cached[1] == name:
            return str(cached[0])
        digest = self._digest(subject)
        with self.store.transaction() as tx:
            rows = tx.query("SELECT pseudonym, name FROM people WHERE subject_digest = ? AND erased_at IS NULL"
                            " ORDER BY created_at LIMIT 1", (digest,))
            if rows:
                pseudonym = str(rows[0]["pseudonym"])
                if name and rows[0]["name"] != name:
                    tx.execute("UPDATE people SET name = ? WHERE pseudonym = ?", (name, pseudonym))
            else:
                pseudonym = PSEUDONYM_PREFIX + uuid.uuid4().hex
                tx.execute("INSERT INTO people (pseudonym, subject_digest, subject, name, created_at)"
                           " VALUES (?, ?, ?, ?, ?)", (pseudonym, digest, subject, name, _now()))
        self._pseudonyms.put(subject, (pseudonym, name))
        return pseudonym

    def pseudonym_of(self, subject: str) -> str | None:
        """The pseudonym a person acts under now, if they have acted and are not erased (nothing is issued)."""
        with self.store.transaction(commit=False) as tx:
            rows = tx.query("SELECT pseudonym FROM people WHERE subject_digest = ? AND erased_at IS NULL"
                            " ORDER BY created_at LIMIT 1", (self._digest(subject),))
        return str(rows[0]["pseudonym"]) if rows else None

    def legacy_pseudonym(self, subject: str) -> str:
        """The upcaster's answer for an event stored before pseudonyms: the person's first pseudonym, erased or
        not (issued now if they never acted since), so every old event of one person reads as one pseudonym."""
        if is_pseudonym(subject) or subject.startswith(CLIENT_PREFIX):
            return subject
        cached = self._pseudonyms.get("legacy:" + subject)
        if cached is not None:
            return str(cached)
        digest = self._digest(subject)
        with self.store.transaction() as tx:
            rows = tx.query("SELECT pseudonym FROM people WHERE subject_digest = ? ORDER BY created_at LIMIT 1",
                            (digest,))
        pseudonym = str(rows[0]["pseudonym"]) if rows else self.pseudonym_for(subject)
        self._pseudonyms.put("legacy:" + subject, pseudonym)
        return pseudonym

    def names(self, pseudonyms: Iterable[str]) -> dict[str, str | None]:
        """Each pseudonym's name while the person is not erased (None: erased, unknown or never named)."""
        wanted = sorted({p for p in pseudonyms if is_pseudonym(p)})
        found: dict[str, str | None] = {}
        missing = []
        for pseudonym in wanted:
            cached = self._names.get(pseudonym)
            if cached is not None:
                found[pseudonym] = cached[0]
            else:
                missing.append(pseudonym)
        if missing:
            marks = ", ".join("?" for _ in missing)
            with self.store.transaction(commit=False) as tx:
                rows = tx.query(f"SELECT pseudonym, name FROM people WHERE pseudonym IN ({marks})"
                                " AND erased_at IS NULL", missing)
            named = {str(r["pseudonym"]): r["name"] for r in rows}
            for pseudonym in missing:
                found[pseudonym] = named.get(pseudonym)
                self._names.put(pseudonym, (found[pseudonym],))
        return found

    def name_of(self, pseudonym: str) -> str | None:
        return self.names([pseudonym]).get(pseudonym)

    def erased_pseudonyms(self) -> set[str]:
        with self.store.transaction(commit=False) as tx:
            rows = tx.query("SELECT pseudonym FROM people WHERE erased_at IS NOT NULL")
        return {str(r["pseudonym"]) for r in rows}

    def generation(self) -> str:
        """Moves with every erasure and redaction: part of a cached answer's key (``graphql_cache``)."""
        # One statement (its own snapshot of both tables): it was a transaction of four in every GraphQL read.
        row = self.store.query("SELECT (SELECT COUNT(*) FROM people_erasures) AS erasures,"
                               " (SELECT COUNT(*) FROM people_redactions) AS redacted")[0]
        return f"{row['erasures']}.{row['redacted']}"

    # -- sealed text ---------------------------------------------------------------------------------------------

    def seal(self, author: str, aggregate_id: str, version: int, fields: dict[str, str]) -> dict[str, str]:
        """Each field's text sealed under one new key for this stored event (AES-256-GCM; the key id is the
        associated data, so a ciphertext cannot be passed off under another key)."""
        key_id = uuid.uuid4().hex
        key = AESGCM.generate_key(256)
        self.store.execute("INSERT INTO sealed_text_keys (key_id, author, aggregate_id, aggregate_version, data_key,"
                           " created_at) VALUES (?, ?, ?, ?, ?, ?)", (key_id, author, aggregate_id, version, key.hex(),
                                                                      _now()))
        self._keys.put(key_id, (key,))
        sealed = {}
        for field_name, text in fields.items():
            nonce = os.urandom(12)
            cipher = AESGCM(key).encrypt(nonce, text.encode(), key_id.encode())
            sealed[field_name] = f"{SEALED_PREFIX}{key_id}:{base64.urlsafe_b64encode(nonce + cipher).decode()}"
        return sealed

    def _key(self, key_id: str) -> bytes | bool | None:
        """The key; None once destroyed; False when this vault never held it."""
        cached = self._keys.get(key_id)
        if cached is not None:
            return cached[0]  # type: ignore[no-any-return]
        rows = self.store.query("SELECT data_key FROM sealed_text_keys WHERE key_id = ?", (key_id,))
        if not rows:
            if not self._warned:
                self._warned = True
                log.error("a sealed text's key is not in this people vault: is PARTNERSHIP_PEOPLE_DATABASE_URL "
                          "the same for every service and reporting?", extra={"key_id": key_id})
            return False
        key = bytes.fromhex(rows[0]["data_key"]) if rows[0]["data_key"] else None
        self._keys.put(key_id, (key,))
        return key

    def open(self, value: str) -> str:
        """The text a sealed value holds, or ``[redacted]`` once its key was destroyed (a value not sealed is
        returned as it is)."""
        if not is_sealed(value):
            return value
        key_id, _, body = value[len(SEALED_PREFIX):].partition(":")
        key = self._key(key_id)
        if key is False:
            return UNAVAILABLE
        if not isinstance(key, bytes):
            return REDACTED
        try:
            raw = base64.urlsafe_b64decode(body.encode())
            text = AESGCM(key).decrypt(raw[:12], raw[12:], key_id.encode()).decode()
        except (InvalidTag, ValueError):
            return REDACTED
        # A text composed around another's sealed text (a project's flag quoting the retasking's reason) holds it
        # sealed still, under its author's key: opened too (or redacted with that key), never shown as ciphertext.
        return self.open_text(text) if SEALED_PREFIX in text else text

    def open_text(self, text: str) -> str:
        """Every sealed value inside a text (a JSON column, a rendered line) opened; JSON strings stay JSON."""
        if SEALED_PREFIX not in text:
            return text
        if text.startswith(SEALED_PREFIX) and _SEALED.fullmatch(text):
            return self.open(text)
        return _SEALED.sub(lambda m: json.dumps(self.open(m.group(0)))[1:-1], text)

    def open_value(self, value: Any) -> Any:
        """A JSON-ready value (or a row) with every sealed text in it opened."""
        if isinstance(value, str):
            return self.open_text(value)
        if isinstance(value, dict):
            return {k: self.open_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.open_value(v) for v in value]
        return value

    def redact(self, aggregate_id: str, reason: str, version: int | None = None) -> int:
        """Destroy the keys of one record's texts (every version, or one): how a text that names someone other
        than its author is redacted. Returns how many keys were destroyed."""
        redacted_at = _now()
        with self.store.transaction() as tx:
            # One version, or every one: two statements, since PostgreSQL cannot type a parameter that is only
            # ever compared with NULL (``? IS NULL`` with None fails there: "could not determine data type").
            one = "" if version is None else " AND aggregate_version = ?"
            count = tx.execute("UPDATE sealed_text_keys SET data_key = NULL, redacted_at = ?, redacted_reason = ?"
                               f" WHERE aggregate_id = ?{one} AND redacted_at IS NULL",
                               (redacted_at, reason, aggregate_id, *(() if version is None else (version,))))
            if count:
                tx.execute("INSERT INTO people_redactions (redaction_id, aggregate_id, aggregate_version, author,"
                           " reason, keys, redacted_at) VALUES (?, ?, ?, NULL, ?, ?, ?)",
                           (uuid.uuid4().hex, aggregate_id, version, reason, count, redacted_at))
        self._keys.clear()
        self._names.clear()
        return count

    # -- erasure -------------------------------------------------------------------------------------------------

    def erase(self, subject: str, decision: dict[str, Any]) -> PersonErasure:
        """Erase a person: unlink their pseudonyms from their subject and name, and destroy the keys of every text
        they wrote. Events keep their pseudonym (the person's acts stay accountable, by role and organisation);
        ``decision`` (who decided, when, why) is kept with the erasure. Unknown: ``UnknownPerson``."""
        digest = self._digest(subject)
        erased_at = _now()
        with self.store.transaction() as tx:
            rows = tx.query("SELECT pseudonym FROM people WHERE subject_digest = ? OR pseudonym = ?",
                            (digest, subject))
            if not rows:
                raise UnknownPerson(f"no personal data of {subject!r} is held: nobody of that id has acted here")
            pseudonyms = sorted(str(r["pseudonym"]) for r in rows)
            marks = ", ".join("?" for _ in pseudonyms)
            tx.execute(f"UPDATE people SET subject = NULL, name = NULL, erased_at = COALESCE(erased_at, ?),"
                       f" erased_reason = COALESCE(erased_reason, ?) WHERE pseudonym IN ({marks})",
                       (erased_at, decision["reason"], *pseudonyms))
            redacted = tx.execute(f"UPDATE sealed_text_keys SET data_key = NULL, redacted_at = ?,"
                                  f" redacted_reason = ? WHERE author IN ({marks}) AND redacted_at IS NULL",
                                  (erased_at, "erasure of its author", *pseudonyms))
            if redacted:
                tx.execute("INSERT INTO people_redactions (redaction_id, aggregate_id, aggregate_version, author,"
                           " reason, keys, redacted_at) VALUES (?, NULL, NULL, ?, ?, ?, ?)",
                           (uuid.uuid4().hex, ", ".join(pseudonyms), "erasure of its author", redacted, erased_at))
            for pseudonym in pseudonyms:
                tx.execute("INSERT INTO people_erasures (erasure_id, pseudonym, decision, redacted_keys, erased_at)"
                           " VALUES (?, ?, ?, ?, ?)", (uuid.uuid4().hex, pseudonym,
                                                       json.dumps(decision, sort_keys=True), redacted, erased_at))
        for cache in (self._pseudonyms, self._keys, self._names):
            cache.clear()
        _NAMES.clear()
        return PersonErasure(pseudonyms, redacted, erased_at, decision)

    def erasures(self) -> list[dict[str, Any]]:
        """Every erasure, with its decision, and every redaction, oldest first: what an auditor reads."""
        with self.store.transaction(commit=False) as tx:
            erased = tx.query("SELECT pseudonym, decision, redacted_keys, erased_at FROM people_erasures")
            redacted = tx.query("SELECT aggregate_id, aggregate_version, author, reason, keys, redacted_at"
                                " FROM people_redactions")
        entries = [{"kind": "erasure", "at": r["erased_at"], "pseudonym": r["pseudonym"],
                    "decision": json.loads(r["decision"]), "redacted_texts": r["redacted_keys"]} for r in erased]
        entries += [{"kind": "redaction", "at": r["redacted_at"], "aggregate_id": r["aggregate_id"],
                     "version": r["aggregate_version"], "author": r["author"], "reason": r["reason"],
                     "keys": r["keys"]} for r in redacted]
        return sorted(entries, key=lambda e: (str(e["at"]), e["kind"]))


_VAULTS: dict[tuple[str, str, str], PeopleVault] = {}
_HOLDERS: dict[tuple[str, str, str], int] = {}
_VAULTS_LOCK = threading.Lock()


def _key(settings: Settings) -> tuple[str, str, str]:
    return (str(settings.people_database_url or settings.database_url or ""), settings.schema_prefix,
            str(settings.data_dir))


def hold_vault(settings: Settings) -> Callable[[], None]:
    """Keep these settings' vault open while a composition root runs; the returned release closes it (its pool)
    when the last holder lets go. A later ``vault_for`` opens it again."""
    key = _key(settings)
    with _VAULTS_LOCK:
        _HOLDERS[key] = _HOLDERS.get(key, 0) + 1

    def release() -> None:
        with _VAULTS_LOCK:
            _HOLDERS[key] -= 1
            if _HOLDERS[key] > 0:
                return
            del _HOLDERS[key]
            vault = _VAULTS.pop(key, None)
        if vault is not None:
            vault.close()

    return release


def vault_for(settings: Settings) -> PeopleVault:
    """The process's vault for these settings' stores (one pool per database, shared by every service in it)."""
    key = _key(settings)
    with _VAULTS_LOCK:
        vault = _VAULTS.get(key)
        if vault is None:
            vault = _VAULTS[key] = PeopleVault(settings)
        return vault


def close_vaults() -> None:
    with _VAULTS_LOCK:
        for vault in _VAULTS.values():
            vault.close()
        _VAULTS.clear()


# -- the seam: every stored event passes through the service's mapper ---------------------------------------------


def _sealed_fields(event: Any) -> frozenset[str]:
    return SEALED_FIELDS | frozenset(
        name for klass in type(event).__mro__ for name in SEALED_BY_EVENT.get(klass.__name__, ()))


class PeopleMapper(ChainedMapper):
    """A service's mapper: on the way into the store, the actor's subject becomes their pseudonym and the free
    text is sealed (before the chain header, so the chain commits to the ciphertext); on the way out, an event
    stored before pseudonyms is upcast to its actor's pseudonym, and the free text is opened for the service's own
    use (``[redacted]`` once its key is gone). What the relay publishes stays sealed (``to_published_event``)."""

    def __init__(self, *args: Any, vault: Callable[[], PeopleVault], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._vault = vault

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        state = dict(vars(domain_event))
        actor = state.get("actor")
        if not isinstance(actor, Actor):
            return super().to_stored_event(domain_event)
        vault = self._vault()
        pseudonym = vault.pseudonym_for(actor.user_id)
        state["actor"] = dataclasses.replace(actor, user_id=pseudonym)
        texts = {name: state[name] for name in _sealed_fields(domain_event)
                 if isinstance(state.get(name), str) and state[name] and not is_sealed(state[name])}
        decision = state.get("decision")
        if isinstance(decision, Decision) and decision.reason and not is_sealed(decision.reason):
            texts["decision.reason"] = decision.reason
        if texts:
            sealed = vault.seal(pseudonym, str(state["originator_id"]), int(state["originator_version"]), texts)
            for name, value in sealed.items():
                if name == "decision.reason":
                    state["decision"] = dataclasses.replace(state["decision"], reason=value)
                else:
                    state[name] = value
        copy = object.__new__(type(domain_event))
        object.__setattr__(copy, "__dict__", state)
        return super().to_stored_event(copy)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return self._read(stored_event, opened=True)

    def to_published_event(self, stored_event: StoredEvent) -> Any:
        return self._read(stored_event, opened=False)

    def _read(self, stored_event: StoredEvent, *, opened: bool) -> Any:
        event = super().to_domain_event(stored_event)
        state = event.__dict__
        actor = state.get("actor")
        if not isinstance(actor, Actor):
            return event
        vault = self._vault()
        if not is_pseudonym(actor.user_id) and not actor.user_id.startswith(CLIENT_PREFIX):
            # The upcaster of events stored before pseudonyms: the stored bytes (and their hash) stay as they are.
            state["actor"] = dataclasses.replace(actor, user_id=vault.legacy_pseudonym(actor.user_id))
        if opened:
            for name in _sealed_fields(event):
                if is_sealed(state.get(name)):
                    state[name] = vault.open(state[name])
            decision = state.get("decision")
            if isinstance(decision, Decision) and is_sealed(decision.reason):
                state["decision"] = dataclasses.replace(decision, reason=vault.open(decision.reason))
        return event
