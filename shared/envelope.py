"""The wire format: CloudEvents 1.0 in the Kafka binding's structured mode, one event per Kafka message (key =
aggregate id, header ``content-type: application/cloudevents+json``, no ``ce_`` headers), so any official
CloudEvents SDK reads it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from pydantic_core import from_json

import shared.contracts
from shared.contracts import (
    SCHEMA_BASE_URI,
    ContractError,
    Fact,
    contract_type,
    from_data,
    to_data,
)

CONTENT_TYPE = "application/cloudevents+json"
SPEC_VERSION = "1.0"
HEADERS: tuple[tuple[str, bytes], ...] = (("content-type", CONTENT_TYPE.encode()),)
"""The Kafka record headers of every event: the binding's structured mode (the body holds every attribute)."""

SEQUENCE_AS_STRING_IN_RELEASE = 2
"""Contract release 2 writes ``sequence`` as the CloudEvents Sequence extension says: a string, here the aggregate
version zero-padded to 20 digits so that it orders as a string. Until then it stays the integer partners have (a
breaking change for them, so it waits for the release); ``decode`` reads both."""

PUBLIC_EVENTS_ONLY_IN_RELEASE = 2
"""From contract release 2 only public integration events are published (``shared.contracts.publication``): the
internal ones stay off the topics and out of the published contracts."""

ENVELOPE_CHANGES: dict[int, tuple[str, ...]] = {
    SEQUENCE_AS_STRING_IN_RELEASE: (
        "`sequence` becomes a string, the aggregate version zero-padded to 20 digits (the CloudEvents Sequence "
        "extension's type; it orders as a string); read it as an integer with int(...).",
        "Internal bookkeeping events are no longer published; their schemas are withdrawn (the public events carry "
        "the same facts).",
    ),
}
"""Changes to the envelope itself, by the contract release that makes them (listed in its change notice)."""


def publishes_internal_events() -> bool:
    """Whether the release partners have still publishes internal events (release 1 did)."""
    return shared.contracts.CONTRACT_RELEASE < PUBLIC_EVENTS_ONLY_IN_RELEASE


def wire_sequence(version: int) -> int | str:
    """The ``sequence`` attribute as the current release writes it."""
    if shared.contracts.CONTRACT_RELEASE >= SEQUENCE_AS_STRING_IN_RELEASE:
        return f"{version:020d}"
    return version


def schema_uri(type_name: str) -> str:
    """The ``dataschema`` of an event type: the ``$id`` of its published JSON Schema (contracts/events)."""
    return SCHEMA_BASE_URI + type_name


@dataclass(frozen=True)
class Envelope:
    """A parsed CloudEvent: who/what/when around one event's contract data."""

    id: str
    source: str
    type: str
    subject: str
    time: datetime
    sequence: int
    data: dict[str, Any]
    actor: str
    actororganisation: str
    actorrole: str
    correlationid: str
    decisionref: str | None = None
    parsed: Fact | None = field(default=None, compare=False, repr=False)

    @property
    def aggregate_id(self) -> str:
        return self.subject

    @property
    def version(self) -> int:
        return self.sequence

    def fact(self) -> Fact:
        """The data as its typed contract (raises ContractError if it does not fit)."""
        if self.parsed is not None:
            return self.parsed
        return from_data(self.type, self.data)


def wrap(event: Any, source: str) -> Envelope:
    """Envelope a stored domain event (an eventsourcing event inheriting a contract)."""
    type_name, data = to_data(event)
    originator_id: UUID = event.originator_id
    version: int = event.originator_version
    decision = event.decision
    return Envelope(
        id=f"{originator_id}:{version}",
        source=source,
        type=type_name,
        subject=str(originator_id),
        time=event.timestamp,
        sequence=version,
        data=data,
        actor=event.actor.user_id,
        actororganisation=event.actor.organisation,
        actorrole=event.actor.role,
        correlationid=event.correlation_id,
        decisionref=(decision.reference or f"{decision.body}@{decision.decided_on.isoformat()}")
        if decision
        else None,
    )


def encode(envelope: Envelope) -> bytes:
    body: dict[str, Any] = {
        "specversion": SPEC_VERSION,
        "id": envelope.id,
        "source": envelope.source,
        "type": envelope.type,
        "subject": envelope.subject,
        "time": envelope.time.isoformat(),
        "datacontenttype": "application/json",
        "dataschema": schema_uri(envelope.type),
        "sequence": wire_sequence(envelope.sequence),
        "actor": envelope.actor,
        "actororganisation": envelope.actororganisation,
        "actorrole": envelope.actorrole,
        "correlationid": envelope.correlationid,
        "data": envelope.data,
    }
    if envelope.decisionref is not None:
        body["decisionref"] = envelope.decisionref
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


class MalformedMessage(ValueError):
    """A message that is not a CloudEvent of a known contract: it belongs on the dead-letter topic."""


_REQUIRED = ("id", "source", "type", "subject", "time", "sequence", "data", "actor", "actororganisation",
             "actorrole", "correlationid")
_REQUIRED_NAMES = frozenset(_REQUIRED)


def decode(raw: bytes) -> Envelope:
    """Parse a message; MalformedMessage (never another error) when it is not a valid event of ours."""
    try:
        body = from_json(raw)  # about twice as fast as json.loads on our messages
    except ValueError:
        # What it refuses, json.loads may still take (a byte order mark, UTF-16, a lone surrogate): its verdict.
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise MalformedMessage(f"not JSON: {error}") from error
    if not isinstance(body, dict):
        raise MalformedMessage("a CloudEvent must be a JSON object")
    if body.get("specversion") != SPEC_VERSION:
        raise MalformedMessage(f"specversion must be {SPEC_VERSION!r}")
    if not body.keys() >= _REQUIRED_NAMES:
        missing = [name for name in _REQUIRED if name not in body]
        raise MalformedMessage(f"missing CloudEvent attribute(s): {', '.join(missing)}")
    if not isinstance(body["data"], dict):
        raise MalformedMessage("data must be a JSON object")
    try:
        subject = _subject(str(body["subject"]))
        time = datetime.fromisoformat(str(body["time"]))
        sequence = int(body["sequence"])
        parsed = from_data(str(body["type"]), body["data"])  # validated once, kept for the handlers; upcast if old
    except (ValueError, TypeError) as error:
        if isinstance(error, ContractError):
            raise MalformedMessage(str(error)) from error
        raise MalformedMessage(f"bad attribute: {error}") from error
    return Envelope(
        id=str(body["id"]),
        source=str(body["source"]),
        type=contract_type(type(parsed)),
        subject=subject,
        time=time,
        sequence=sequence,
        data=body["data"],
        actor=str(body["actor"]),
        actororganisation=str(body["actororganisation"]),
        actorrole=str(body["actorrole"]),
        correlationid=str(body["correlationid"]),
        decisionref=None if body.get("decisionref") is None else str(body["decisionref"]),
        parsed=parsed,
    )


@lru_cache(maxsize=1 << 16)
def _subject(value: str) -> str:
    """The aggregate id in its canonical form (an aggregate's events come many times over: remembered)."""
    return str(UUID(value))
