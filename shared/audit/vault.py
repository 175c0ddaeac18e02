"""The personal-data vault: one AES-256-GCM key per person in the service's own database (crypto-shredding).

Events hold only ``SealedPersonalData`` (the person's opaque id and the ciphertext). Erasing a person destroys the
key (the row keeps the person id and when and why it was erased), so their details can never be read again while
every event, its hash and every decision they took stay as they were.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import ApplicationRecorder

from shared.audit.checkpoint import store_transaction
from shared.contracts.personal import SealedPersonalData

ERASED = "[erased]"
PERSONAL_FIELDS = ("name", "email", "phone")
DDL = (
    "CREATE TABLE IF NOT EXISTS personal_data_keys ("
    " person_id TEXT PRIMARY KEY, data_key TEXT, created_at TEXT NOT NULL, erased_at TEXT, erased_reason TEXT)"
)


class PersonErased(Exception):
    """The person was erased: no new personal data of theirs may be recorded."""


@dataclass(frozen=True)
class Erasure:
    person_id: str
    erased_at: str
    reason: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def encrypt(key: bytes, person_id: str, fields: dict[str, str]) -> str:
    nonce = os.urandom(12)
    plaintext = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(nonce + AESGCM(key).encrypt(nonce, plaintext, person_id.encode())).decode()


def decrypt(key: bytes, person_id: str, sealed: str) -> dict[str, str]:
    raw = base64.urlsafe_b64decode(sealed.encode())
    fields: dict[str, str] = json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], person_id.encode()))
    return fields


class PersonalDataVault:
    """Per-person keys in ``personal_data_keys`` beside the service's events."""

    def __init__(self, recorder: ApplicationRecorder, schema: str | None) -> None:
        self.recorder = recorder
        self.schema = schema
        with store_transaction(recorder, schema, commit=True) as tx:
            tx.execute(DDL)

    def seal(self, person_id: str, fields: dict[str, str]) -> SealedPersonalData:
        """Encrypt a person's details under their key (made on first use); refused once they were erased."""
        with store_transaction(self.recorder, self.schema, commit=True) as tx:
            tx.execute("INSERT INTO personal_data_keys (person_id, data_key, created_at) VALUES (?, ?, ?)"
                       " ON CONFLICT (person_id) DO NOTHING", (person_id, AESGCM.generate_key(256).hex(), _now()))
            row = tx.query("SELECT data_key FROM personal_data_keys WHERE person_id = ?", (person_id,))[0]
        if row["data_key"] is None:
            raise PersonErased(f"The personal data of {person_id} was erased: it cannot be recorded again.")
        return SealedPersonalData(person_id=person_id, sealed=encrypt(bytes.fromhex(row["data_key"]), person_id,
                                                                      fields))

    def open(self, data: SealedPersonalData) -> dict[str, str] | None:
        """The person's details, or None once the key was destroyed."""
        key = self._key(data.person_id)
        if key is None:
            return None
        try:
            return decrypt(key, data.person_id, data.sealed)
        except (InvalidTag, ValueError):
            return None

    def erase(self, person_id: str, reason: str) -> Erasure:
        """Destroy the person's key (idempotent): their sealed details become unreadable for good."""
        with store_transaction(self.recorder, self.schema, commit=True) as tx:
            tx.execute("INSERT INTO personal_data_keys (person_id, data_key, created_at) VALUES (?, NULL, ?)"
                       " ON CONFLICT (person_id) DO NOTHING", (person_id, _now()))
            tx.execute("UPDATE personal_data_keys SET data_key = NULL, erased_at = ?, erased_reason = ?"
                       " WHERE person_id = ? AND erased_at IS NULL", (_now(), reason, person_id))
            row = tx.query("SELECT erased_at, erased_reason FROM personal_data_keys WHERE person_id = ?",
                           (person_id,))[0]
        return Erasure(person_id, str(row["erased_at"]), str(row["erased_reason"]))

    def holds(self, person_id: str) -> bool:
        """Does the vault know this person (their details sealed, or already erased)?"""
        with store_transaction(self.recorder, self.schema, commit=False) as tx:
            return bool(tx.query("SELECT 1 FROM personal_data_keys WHERE person_id = ?", (person_id,)))

    def erased(self) -> set[str]:
        with store_transaction(self.recorder, self.schema, commit=False) as tx:
            rows = tx.query("SELECT person_id FROM personal_data_keys WHERE erased_at IS NOT NULL")
        return {str(r["person_id"]) for r in rows}

    def _key(self, person_id: str) -> bytes | None:
        with store_transaction(self.recorder, self.schema, commit=False) as tx:
            rows = tx.query("SELECT data_key FROM personal_data_keys WHERE person_id = ?", (person_id,))
        return bytes.fromhex(rows[0]["data_key"]) if rows and rows[0]["data_key"] else None


def open_personal_data(value: Any, vault: PersonalDataVault | None) -> Any:
    """A JSON-ready value with every sealed person's details opened, or shown as erased."""
    if isinstance(value, dict):
        if set(value) == {"person_id", "sealed"}:
            opened = None if vault is None else vault.open(SealedPersonalData(**value))
            if opened is None:
                return {"person_id": value["person_id"], "erased": True, **dict.fromkeys(PERSONAL_FIELDS, ERASED)}
            return {"person_id": value["person_id"], "erased": False, **opened}
        return {k: open_personal_data(v, vault) for k, v in value.items()}
    if isinstance(value, list):
        return [open_personal_data(v, vault) for v in value]
    return value
