"""A partner organisation's inbound commands to projects: ``partner.<organisation>.commands`` in, each answered on
``partner.<organisation>.outcomes`` (``services.partners.inbound`` says what travels).

Who sent a record is the topic's: its organisation's one command-sending client (``ClientRegistry.command_sender``),
whose Kafka user alone may write the topic. The command runs as that client's REST call would, through the same
code (``services.partners.inbound.COMMANDS``: each command's ``services.projects.progress.ReportedCommand``, whose
function its REST handler calls), and is answered with what REST would answer.

Exactly once in effect, by the CloudEvent ``id``:

- the command's events are saved with a once-only tracking row named after (organisation, id) in their
  transaction (``shared.idempotency.answering``), so a redelivered or resent record can never apply twice;
- its answer is kept (``partner_command_receipts``) before it is published, and the topic position is recorded
  after; a record whose answer is kept is answered with that answer again (the duplicate "as the first"), and one
  whose effects are stored but whose answer was not yet kept (a crash in between) is answered from the stored events;
- answers are published at least once, each copy the same bytes under the same id: a partner drops repeats by id.

A record that is no command (not JSON, not a CloudEvent, a type not in ``COMMANDS``) is dead-lettered once
(``shared.consumer.DeadLetters``) and answered as refused (``malformed-command``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from services.partners.inbound import (
    COMMANDS,
    HEADERS,
    MAX_RECORD_BYTES,
    SPEC_VERSION,
    CommandAccepted,
    CommandRefused,
    Problem,
    RecordRef,
    commands_topic,
    encode,
    outcome,
    outcomes_topic,
)
from services.projects.application import ProjectsApplication
from services.projects.progress import FieldsInvalid
from shared import idempotency, metrics
from shared.auth import PartnerClient
from shared.consumer import _Runner, origin_of
from shared.errors import DomainError, NotPermitted
from shared.readstore import ReadStore
from shared.transport import Message, Publisher, Transport, TransportError
from shared.web import problem_body, refusal_body

log = logging.getLogger(__name__)

RECEIPTS_DDL = (
    "CREATE TABLE IF NOT EXISTS partner_command_receipts ("
    " organisation TEXT NOT NULL, command_id TEXT NOT NULL, outcome TEXT NOT NULL,"
    " PRIMARY KEY (organisation, command_id))"
)
SOURCE = "/services/projects"
GUARD_PREFIX = "partner-command:"
"""Tracking rows of this prefix mark a partner's command as applied (no consumer reads them as positions)."""
RETRIES = 5


class Malformed(ValueError):
    """A record that is not a command: dead-lettered, and refused with what could be read of it."""

    def __init__(self, reason: str, command_id: str | None = None, command_type: str | None = None) -> None:
        super().__init__(reason)
        self.command_id = command_id
        self.command_type = command_type


@dataclass(frozen=True)
class Received:
    id: str
    type: str
    data: dict[str, Any]


def parse(raw: bytes) -> Received:
    """A record as a command, or Malformed saying why not."""
    if len(raw) > MAX_RECORD_BYTES:
        raise Malformed(f"a command is at most {MAX_RECORD_BYTES} bytes")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise Malformed(f"not JSON: {error}") from None
    if not isinstance(body, dict):
        raise Malformed("a command is a CloudEvent: a JSON object")
    command_id = body.get("id") if isinstance(body.get("id"), str) and body["id"].strip() else None
    command_type = body.get("type") if isinstance(body.get("type"), str) else None
    if command_id is not None and len(command_id) > 200:
        raise Malformed("id is at most 200 characters", None, command_type)
    if body.get("specversion") != SPEC_VERSION:
        raise Malformed(f"specversion must be {SPEC_VERSION!r}", command_id, command_type)
    missing = [name for name in ("id", "source", "type", "data") if name not in body]
    if missing:
        raise Malformed(f"missing CloudEvent attribute(s): {', '.join(missing)}", command_id, command_type)
    if command_id is None:
        raise Malformed("id must be a non-empty string", None, command_type)
    if command_type not in COMMANDS:
        raise Malformed(f"unknown command type {command_type!r} (commands: {', '.join(sorted(COMMANDS))})",
                        command_id, command_type)
    if not isinstance(body["data"], dict):
        raise Malformed("data must be a JSON object", command_id, command_type)
    return Received(command_id, command_type, body["data"])


def guard_name(organisation: str, command_id: str) -> str:
    digest = hashlib.sha256(f"{organisation}\n{command_id}".encode()).hexdigest()[:40]
    return f"{GUARD_PREFIX}{digest}"


class InboundCommands(_Runner):
    """One organisation's inbound topic -> projects' store, each record answered on its outcomes topic."""

    def __init__(self, app: ProjectsApplication, store: ReadStore, transport: Transport, client: PartnerClient, *,
                 topic: str, outcomes: str, dead_letter_topic: str, batch_size: int = 100) -> None:
        super().__init__("projects-partner-commands", transport, topic, dead_letter_topic=dead_letter_topic,
                         batch_size=batch_size, recorder=store.recorder)
        self.app = app
        self.store = store
        self.client = client
        self.organisation = client.organisation
        self.principal = client.principal()
        self.outcomes = outcomes
        self._publisher: Publisher | None = None
        store.migrate([RECEIPTS_DDL])

    def _last_position(self, tracking_name: str) -> int | None:
        return self.store.position(tracking_name)

    def process_batch(self, timeout: float = 0.2) -> int:
        messages = self._ensure_reader().poll(self.batch_size, timeout)
        for message in messages:
            self._process(message)
        return len(messages)

    # -- one record -------------------------------------------------------------------------------------------------
    def _process(self, message: Message) -> None:
        try:
            command = parse(message.value)
        except Malformed as error:
            self._dead_letter(message, f"malformed: {error}")
            refused = CommandRefused(
                command_id=error.command_id, command_type=error.command_type, status="refused",
                problem=Problem(**problem_body(400, "malformed-command", "The record is not a command", str(error))),
                origin=origin_of(message))
            answer = self._keep(error.command_id, outcome(self.organisation, SOURCE, refused)) \
                if error.command_id is not None else outcome(self.organisation, SOURCE, refused)
            self._answer(message, answer)
            return
        kept = self._kept(command.id)
        if kept is None:
            kept = self._keep(command.id, outcome(self.organisation, SOURCE, self._execute(command)))
            self.status.applied += 1
            metrics.CONSUMER_APPLIED.labels(self.name, self.topic).inc()
        else:
            self.status.duplicates += 1
            metrics.CONSUMER_DUPLICATES.labels(self.name, self.topic).inc()
        self._answer(message, kept)

    def _execute(self, command: Received) -> CommandAccepted | CommandRefused:
        """Run the command once (its effects under the once-only row), or find that it ran."""
        guard = guard_name(self.organisation, command.id)
        if command.type not in self.client.commands:
            return self._refused(command, NotPermitted(
                f"{self.client.client_id} is not granted {command.type} (the partner clients file's commands)."))
        for _attempt in range(RETRIES):
            if self.app.process_recorder.max_tracking_id(guard) is not None:
                return self._already_applied(command)
            try:
                with idempotency.answering(guard):
                    project = COMMANDS[command.type].handler().run(self.app, self.principal, command.data,
                                                                   command.id)
            except FieldsInvalid as invalid:
                return CommandRefused(command_id=command.id, command_type=command.type, status="refused",
                                      problem=Problem(**invalid.problem))
            except DomainError as error:
                return self._refused(command, error)
            except IntegrityError:
                continue  # applied meanwhile (the guard says so next time round), or a concurrent change: again
            return CommandAccepted(command_id=command.id, command_type=command.type, status="accepted",
                                   record=RecordRef(type="project", id=project.id, version=project.version))
        raise RuntimeError(f"{self.name}: could not apply command {command.id} after {RETRIES} attempts")

    @staticmethod
    def _refused(command: Received, error: DomainError) -> CommandRefused:
        return CommandRefused(command_id=command.id, command_type=command.type, status="refused",
                              problem=Problem(**refusal_body(error)))

    def _already_applied(self, command: Received) -> CommandAccepted:
        """A command whose events are stored but whose answer was not kept: the answer, from those events (they
        carry its id as their correlation id)."""
        project_id = UUID(str(command.data["project_id"]))
        version = max(event.originator_version for event in self.app.repository.event_store.get(project_id)
                      if getattr(event, "correlation_id", None) == command.id)
        return CommandAccepted(command_id=command.id, command_type=command.type, status="accepted",
                               record=RecordRef(type="project", id=project_id, version=version))

    # -- answers ----------------------------------------------------------------------------------------------------
    def _kept(self, command_id: str) -> dict[str, Any] | None:
        rows = self.store.query("SELECT outcome FROM partner_command_receipts WHERE organisation = ? AND "
                                "command_id = ?", [self.organisation, command_id])
        return json.loads(rows[0]["outcome"]) if rows else None

    def _keep(self, command_id: str, answer: dict[str, Any]) -> dict[str, Any]:
        """Keep the answer unless one is kept already (another replica's, in a rebalance): the kept one stands."""
        with self.store.transaction() as tx:
            tx.execute("INSERT INTO partner_command_receipts (organisation, command_id, outcome) VALUES (?, ?, ?) "
                       "ON CONFLICT DO NOTHING", [self.organisation, command_id, json.dumps(answer, sort_keys=True)])
        kept = self._kept(command_id)
        assert kept is not None
        return kept

    def _answer(self, message: Message, answer: dict[str, Any]) -> None:
        """Publish the answer (acknowledged), then record the record's position."""
        if self._publisher is None:
            self._publisher = self.transport.publisher()
        try:
            self._publisher.publish(self.outcomes, str(answer["subject"]), encode(answer), HEADERS)
            self._publisher.flush()
        except TransportError:
            self._close_publisher()
            raise
        with self.store.transaction() as tx:
            tx.record_position(self._tracking(message))
        self._committed([message], [])

    def _close_publisher(self) -> None:
        if self._publisher is not None:
            publisher, self._publisher = self._publisher, None
            try:
                publisher.close()
            except Exception:
                log.exception("closing the outcomes publisher failed")

    def close(self) -> None:
        super().close()
        self._close_publisher()


def inbound_consumers(app: ProjectsApplication, settings: Any, transport: Transport,
                      clients: Any) -> list[InboundCommands]:
    """One runner per organisation whose command-sending client is granted a command projects owns."""
    runners: list[InboundCommands] = []
    for client in sorted(clients, key=lambda c: c.organisation):
        if not any(COMMANDS[name].service == "projects" for name in client.commands if name in COMMANDS):
            continue
        topic = settings.topic(commands_topic(client.organisation))
        outcomes = settings.topic(outcomes_topic(client.organisation))
        transport.ensure_topic(topic)
        transport.ensure_topic(outcomes)
        runners.append(InboundCommands(app, app.known_taskings.store, transport, client, topic=topic,
                                       outcomes=outcomes, dead_letter_topic=settings.topic("projects.dlq"),
                                       batch_size=settings.consumer_batch_size))
    return runners
