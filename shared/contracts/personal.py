"""Personal data inside events: sealed under the person's own key in the service's vault (crypto-shredding).

Only the opaque ``person_id`` and the ciphertext are stored in the event (and covered by its hash); erasing the
person destroys the key, so the fields read as erased while the event and its hash chain stay intact.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SealedPersonalData:
    """A person's details (name, e-mail, phone), encrypted under that person's key: ``shared.audit.vault``."""

    person_id: str
    """The opaque id of the person (the key's name in the vault)."""
    sealed: str
    """The details, encrypted under the person's key (URL-safe base64); erased when the key is."""
