"""The auditor's view of every service's event store: export, verify, history, state as of a time, completeness.

It reads the stores themselves (not the read models, which are derived and could be rebuilt), with small
connection pools, and never writes an event. Services are read through their own event classes and
transcodings, found from the composition root's service list.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory, Notification, StoredEvent
from eventsourcing.utils import Environment
from pydantic_core import to_jsonable_python

from shared.audit.chain import link_of
from shared.audit.checkpoint import (
    CheckpointLog,
    Cosignature,
    CosignatureRefused,
    NoteSigner,
    StoredHead,
    b64,
    origin_of,
    schema_of,
    trusted_public_key,
    verifier_key,
    witness_keys,
)
from shared.audit.decisions import DECISION_REQUIRED
from shared.audit.people import PeopleMapper, vault_for
from shared.audit.standalone import BUNDLE_FORMAT, VerifierKey
from shared.audit.vault import PersonalDataVault, open_personal_data
from shared.audit.verify import Report, verify_log
from shared.contracts import to_data
from shared.errors import InvalidCommand, NotFound
from shared.eventstore import service_transcoder
from shared.readstore import schema_setup
from shared.service import ServiceSpec
from shared.settings import Settings

log = logging.getLogger(__name__)

PAGE = 2000
Progress = Callable[[int], None]


def _moment(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class ServiceLog:
    """One service's event store, read-only: its events, checkpoints and personal-data vault."""

    def __init__(self, settings: Settings, service: str, value_objects: list[type[Any]]) -> None:
        self.service = service
        self.settings = settings
        env = {**settings.store_env(service), "POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "4"}
        with schema_setup(settings, service):
            self._factory = InfrastructureFactory.construct(Environment(service, env))
            self.recorder: ApplicationRecorder = self._factory.application_recorder()
        self.mapper = PeopleMapper(service_transcoder(value_objects), vault=lambda: vault_for(settings))
        self.schema = schema_of(settings, service)
        self.origin = origin_of(settings, service)
        self.checkpoint_log = CheckpointLog(service, self.recorder, self.schema, self.origin)

    @cached_property
    def vault(self) -> PersonalDataVault:
        return PersonalDataVault(self.recorder, self.schema)

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def notifications(self, progress: Progress | None = None) -> Iterator[Notification]:
        position = 0
        while page := self.recorder.select_notifications(start=position, limit=PAGE, inclusive_of_start=False):
            yield from page
            position = page[-1].id
            if progress is not None:
                progress(len(page))

    def stored_events(self, aggregate_id: UUID) -> list[StoredEvent]:
        return list(self.recorder.select_events(aggregate_id))

    def record(self, stored: StoredEvent, position: int | None = None) -> dict[str, Any]:
        """One event as an auditor reads it: who, when, which decision, what (personal data opened or erased)."""
        event: Any = self.mapper.to_domain_event(stored)
        type_name, data = to_data(event)
        link = link_of(stored.state)
        actor = event.actor
        return {
            "service": self.service, "position": position, "aggregate_id": str(stored.originator_id),
            "version": stored.originator_version, "type": type_name, "topic": stored.topic,
            "time": _moment(event.timestamp).isoformat(),
            "actor": {"user_id": actor.user_id, "name": vault_for(self.settings).name_of(actor.user_id),
                      "organisation": actor.organisation, "role": actor.role,
                      "erased": actor.user_id in self.erased},
            "correlation_id": event.correlation_id,
            "decision": data.pop("decision", None),
            "data": open_personal_data({k: v for k, v in data.items() if k not in ("actor", "correlation_id")},
                                       self.vault),
            "prev_hash": None if link is None else link.prev_hex.decode(),
            "hash": None if link is None else link.own_hex.decode(),
        }

    @cached_property
    def erased(self) -> set[str]:
        return self.vault.erased() | vault_for(self.settings).erased_pseudonyms()

    def close(self) -> None:
        self._factory.close()


@dataclass(frozen=True)
class UnresolvedDecision:
    """A stored decision whose body, meeting, date or quorum does not resolve (``shared.decisions``)."""

    service: str
    aggregate_id: str
    version: int
    type: str
    time: str
    decision: dict[str, Any]
    problems: list[str]


@dataclass(frozen=True)
class MinutedDecision:
    """A stored decision whose meeting's quorum is "as minuted": evidenced by the minute reference alone."""

    service: str
    aggregate_id: str
    version: int
    type: str
    time: str
    decision: dict[str, Any]
    quorum_as_minuted: str


@dataclass(frozen=True)
class MissingDecision:
    """A state change that should carry a decision reference and does not."""

    service: str
    aggregate_id: str
    version: int
    type: str
    time: str
    actor: dict[str, Any]


class Auditor:
    """Every service's log, for the auditor's commands, REST endpoints and GraphQL fields."""

    def __init__(self, settings: Settings, specs: Mapping[str, ServiceSpec],
                 services: tuple[str, ...] | None = None) -> None:
        """``specs``: the event-sourced services whose stores it reads (the composition root's), ``services`` of
        them only when given."""
        self.settings = settings
        self.logs: dict[str, ServiceLog] = {
            name: ServiceLog(settings, name, list(getattr(spec.application, "value_objects", [])))
            for name, spec in specs.items() if services is None or name in services
        }

    def close(self) -> None:
        for service_log in self.logs.values():
            service_log.close()

    def log_of(self, service: str) -> ServiceLog:
        try:
            return self.logs[service]
        except KeyError:
            raise NotFound(f"No service {service!r} (known: {', '.join(self.logs)}).") from None

    # -- export ----------------------------------------------------------------------------------------------
    def export(self, service: str | None = None, aggregate_id: UUID | None = None,
               progress: Progress | None = None) -> Iterator[dict[str, Any]]:
        """The full history, event by event in log order (of one service, or of one aggregate)."""
        if aggregate_id is not None:
            found, events = self._find(aggregate_id)
            yield from (found.record(e) for e in events)
            return
        for name in [service] if service else list(self.logs):
            service_log = self.log_of(name)
            for notification in service_log.notifications(progress):
                yield service_log.record(notification, notification.id)

    def _find(self, aggregate_id: UUID) -> tuple[ServiceLog, list[StoredEvent]]:
        for service_log in self.logs.values():
            events = service_log.stored_events(aggregate_id)
            if events:
                return service_log, events
        raise NotFound(f"No aggregate {aggregate_id} in any service's event store.")

    # -- history and state -------------------------------------------------------------------------------------
    def history(self, aggregate_id: UUID) -> list[dict[str, Any]]:
        """Every event of one aggregate: when, who, which decision, what changed (in words and as JSON)."""
        found, events = self._find(aggregate_id)
        entries: list[dict[str, Any]] = []
        aggregate: Any = None
        before: dict[str, Any] = {}
        for stored in events:
            entry = found.record(stored)
            aggregate = found.mapper.to_domain_event(stored).mutate(aggregate)
            after = _state_of(aggregate)
            entry["changes"] = {k: {"from": before.get(k), "to": v} for k, v in after.items()
                                if k not in ("id", "version", "created_on", "modified_on") and before.get(k) != v}
            entry["text"] = _in_words(entry)
            entries.append(entry)
            before = after
        return entries

    def state(self, aggregate_id: UUID, as_of: datetime) -> dict[str, Any]:
        """The aggregate as it was at ``as_of``: its events up to then, replayed."""
        found, events = self._find(aggregate_id)
        at = _moment(as_of)
        aggregate: Any = None
        decisions: list[dict[str, Any]] = []  # every decision behind the state, not only the creating one
        for stored in events:
            event: Any = found.mapper.to_domain_event(stored)
            if _moment(event.timestamp) > at:
                break
            aggregate = event.mutate(aggregate)
            if event.decision is not None:
                decisions.append({"version": event.originator_version, "type": to_data(event)[0],
                                  "time": _moment(event.timestamp).isoformat(),
                                  **to_jsonable_python(event.decision)})
        if aggregate is None:
            raise NotFound(f"{aggregate_id} did not exist yet at {at.isoformat()}.")
        return {"service": found.service, "type": type(aggregate).__qualname__, "as_of": at.isoformat(),
                **_state_of(aggregate), "decisions": decisions}

    # -- verification ------------------------------------------------------------------------------------------
    def verify(self, service: str | None = None, public_key: str | None = None,
               progress: Progress | None = None, witnesses: int = 0,
               witness_keys_: list[VerifierKey] | None = None) -> list[Report]:
        """Every chain and checkpoint; with ``witnesses``, a checkpoint cosigned by that many configured witnesses."""
        key = public_key or trusted_public_key(self.settings)
        keys = witness_keys(self.settings) if witness_keys_ is None else witness_keys_
        reports = []
        for name in [service] if service else list(self.logs):
            service_log = self.log_of(name)
            reports.append(verify_log(
                name, service_log.recorder, service_log.checkpoint_log.all(),
                None if key is None else verifier_key(key, service_log.origin), progress,
                cosignatures=service_log.checkpoint_log.cosignatures() if witnesses else (),
                witness_keys=keys, witnesses=witnesses))
        return reports

    def checkpoints(self, service: str) -> list[StoredHead]:
        return self.log_of(service).checkpoint_log.all()

    def cosignatures(self, service: str) -> list[Cosignature]:
        return self.log_of(service).checkpoint_log.cosignatures()

    def checkpoint(self, service: str) -> StoredHead | None:
        """Sign the service's log head now (the one write an auditor may ask for: it adds, never changes)."""
        seed = self.settings.audit_signing_seed()
        if seed is None:
            raise RuntimeError("PARTNERSHIP_AUDIT_SIGNING_KEY is not set: checkpoints cannot be signed")
        service_log = self.log_of(service)
        return service_log.checkpoint_log.write(NoteSigner(seed, service_log.origin))

    def log_of_origin(self, origin: str) -> ServiceLog:
        for service_log in self.logs.values():
            if service_log.origin == origin:
                return service_log
        raise NotFound(f"No service's log has the origin {origin!r}.")

    def add_cosignature(self, note: str) -> list[Cosignature]:
        """Keep a witness's cosignature of one of our checkpoints (checked against the configured witness keys)."""
        try:
            origin = note.split("\n", 1)[0]
            return self.log_of_origin(origin).checkpoint_log.add_cosignature(note, witness_keys(self.settings))
        except CosignatureRefused as error:
            raise InvalidCommand(str(error)) from None

    def consistency(self, service: str, first: int, second: int) -> dict[str, Any]:
        """The consistency proof between two tree sizes of a service's signed tree."""
        checkpoint_log = self.log_of(service).checkpoint_log
        try:
            proof = checkpoint_log.tree(second).consistency_proof(first, second)
        except ValueError as error:
            raise InvalidCommand(str(error)) from None
        return {"service": service, "origin": checkpoint_log.origin, "first": first, "second": second,
                "proof": b64(proof)}

    def inclusion(self, service_log: ServiceLog, stored: StoredEvent) -> dict[str, Any]:
        """An event's inclusion proof against the latest signed checkpoint (or why there is none yet)."""
        checkpoint_log = service_log.checkpoint_log
        latest = checkpoint_log.latest()
        tree = checkpoint_log.tree()
        index = checkpoint_log.leaf_index(str(stored.originator_id), stored.originator_version)
        if latest is None or index is None or index >= latest.tree_size:
            return {"covered": False, "reason": "not yet covered by a signed checkpoint"}
        return {"covered": True, "leaf_index": index, "tree_size": latest.tree_size,
                "leaf_hash": base64.b64encode(tree.leaf(index)).decode(),
                "proof": b64(tree.inclusion_proof(index, latest.tree_size)), "checkpoint": latest.note}

    def proofs(self, aggregate_id: UUID) -> list[dict[str, Any]]:
        """Every stored event of one aggregate with its stored bytes and its inclusion proof (verified reads)."""
        found, events = self._find(aggregate_id)
        return [{"service": found.service, "origin": found.origin, "aggregate_id": str(e.originator_id),
                 "version": e.originator_version, "topic": e.topic,
                 "state": base64.b64encode(bytes(e.state)).decode(), "inclusion": self.inclusion(found, e)}
                for e in events]

    def bundle(self, service: str | None = None, aggregate_id: UUID | None = None,
               progress: Progress | None = None) -> Iterator[dict[str, Any]]:
        """An export bundle (docs/audit.md): every signed checkpoint with its consistency proof and cosignatures, and
        every event's stored bytes with its inclusion proof against the latest checkpoint, for the standalone
        verifier. With ``aggregate_id``, only that aggregate's events (the log is then not complete)."""
        yield {"kind": "bundle", "format": BUNDLE_FORMAT, "created_at": datetime.now(UTC).isoformat()}
        if aggregate_id is not None:
            found, events = self._find(aggregate_id)
            logs: list[tuple[ServiceLog, Iterator[tuple[int | None, Any]]]] = [
                (found, ((found.checkpoint_log.leaf_index(str(e.originator_id), e.originator_version), e)
                         for e in events))]
            found.checkpoint_log.tree()  # the leaf indexes
        else:
            logs = [(self.log_of(name), enumerate(self.log_of(name).notifications(progress)))
                    for name in ([service] if service else list(self.logs))]
        for service_log, indexed in logs:
            checkpoint_log = service_log.checkpoint_log
            heads = checkpoint_log.all()
            tree = checkpoint_log.tree()
            latest = heads[-1].tree_size if heads else 0
            cosignatures: dict[int, list[str]] = {}
            for cosignature in checkpoint_log.cosignatures():
                cosignatures.setdefault(cosignature.tree_size, []).append(cosignature.cosignature)
            yield {"kind": "log", "service": service_log.service, "origin": service_log.origin,
                   "complete": aggregate_id is None, "tree_size": latest}
            previous = 0
            for stored in heads:
                yield {"kind": "checkpoint", "origin": service_log.origin, "size": stored.tree_size,
                       "note": stored.note, "consistency_proof": b64(tree.consistency_proof(previous,
                                                                                             stored.tree_size)),
                       "cosignatures": cosignatures.get(stored.tree_size, [])}
                previous = stored.tree_size
            for index, event in indexed:
                if index is None:
                    continue  # an aggregate's event no checkpoint covers yet: it has no place to prove
                record: dict[str, Any] = {
                    "kind": "event", "origin": service_log.origin, "index": index,
                    "position": getattr(event, "id", None), "aggregate_id": str(event.originator_id),
                    "version": event.originator_version, "topic": event.topic,
                    "state": base64.b64encode(bytes(event.state)).decode()}
                if index < latest:
                    record["inclusion_proof"] = b64(tree.inclusion_proof(index, latest))
                yield record

    def head(self) -> dict[str, int]:
        return {name: service_log.head() for name, service_log in self.logs.items()}

    # -- decision completeness ---------------------------------------------------------------------------------
    def missing_decisions(self, progress: Progress | None = None) -> list[MissingDecision]:
        """Every state change of a type in ``DECISION_REQUIRED`` that carries no decision."""
        missing: list[MissingDecision] = []
        for service_log in self.logs.values():
            for notification in service_log.notifications(progress):
                event: Any = service_log.mapper.to_domain_event(notification)
                type_name, _ = to_data(event)
                if type_name in DECISION_REQUIRED and event.decision is None:
                    actor = event.actor
                    missing.append(MissingDecision(
                        service_log.service, str(notification.originator_id), notification.originator_version,
                        type_name, _moment(event.timestamp).isoformat(),
                        {"user_id": actor.user_id, "organisation": actor.organisation, "role": actor.role}))
        return missing


    def unresolved_decisions(self, progress: Progress | None = None) -> list[UnresolvedDecision]:
        """Every stored decision that does not resolve to a quorate meeting of a body of the partnership on its date
        (or to a scheme of delegation), judged on tasking's stored meetings and memberships."""
        from shared.decisions import problems_of

        partnership = self._rules_of_record(progress)
        meetings = self._meetings_of_record(progress)
        unresolved: list[UnresolvedDecision] = []
        for service_log in self.logs.values():
            for notification in service_log.notifications(progress):
                event = service_log.mapper.to_domain_event(notification)
                decision = event.decision
                if decision is None:
                    continue
                problems = problems_of(decision, rules=partnership, meetings=meetings)
                if problems:
                    type_name, _ = to_data(event)
                    unresolved.append(UnresolvedDecision(
                        service_log.service, str(notification.originator_id), notification.originator_version,
                        type_name, _moment(event.timestamp).isoformat(), to_jsonable_python(decision), problems))
        return unresolved


    def body_names(self) -> Callable[[str], str]:
        """A body by today's name as the rules of record have it (a district partnership retired since by its last
        name; the id only for one the partnership never had): what the commands print beside a decision's body."""
        from shared.partnership import load

        rules = self._rules_of_record()
        today = load(self.settings.partnership_file).calendar()()
        return lambda body: rules.body_name(body, today) or body

    def _rules_of_record(self, progress: Progress | None = None) -> Any:
        """The partnership's rules as tasking's stored ``Partnership`` has them (founding and every change since),
        each decision then judged by the rules in force on its date; the definition's where no founding is stored."""
        from shared.contracts.tasking import PartnershipFounded
        from shared.partnership import rules
        from shared.rules_history import FoundedRules, RuleChange, RulesOfRecord, change_of

        definition = rules(self.settings.partnership_file)
        founding: FoundedRules | None = None
        changes: list[RuleChange] = []
        if "tasking" in self.logs:
            tasking = self.logs["tasking"]
            for notification in tasking.notifications(progress):
                event: Any = tasking.mapper.to_domain_event(notification)
                if isinstance(event, PartnershipFounded):
                    founding = FoundedRules.of(event, definition.district_names())
                elif (change := change_of(event)) is not None:
                    changes.append(change)
        return RulesOfRecord(lambda: founding or definition, lambda: changes)

    def _meetings_of_record(self, progress: Progress | None = None) -> Any:
        from shared.decisions import MeetingsOfRecord

        meetings = MeetingsOfRecord()
        if "tasking" in self.logs:
            tasking = self.logs["tasking"]
            for notification in tasking.notifications(progress):
                event: Any = tasking.mapper.to_domain_event(notification)
                meetings.apply(event, notification.originator_version, _moment(event.timestamp).date())
        return meetings

    def minuted_quorum_decisions(self, progress: Progress | None = None) -> list[MinutedDecision]:
        """Every stored decision taken at a meeting whose quorum rests on its minute reference alone ("quorum as
        minuted": a historic meeting whose attendance was never minuted). They resolve; they are counted apart."""
        meetings = self._meetings_of_record(progress)
        minuted: list[MinutedDecision] = []
        for service_log in self.logs.values():
            for notification in service_log.notifications(progress):
                event: Any = service_log.mapper.to_domain_event(notification)
                decision = event.decision
                if decision is None or not decision.meeting_id:
                    continue
                try:
                    meeting = meetings.meeting(UUID(decision.meeting_id))
                except ValueError:
                    continue
                if meeting is not None and meeting.minuted_quorum:
                    type_name, _ = to_data(event)
                    minuted.append(MinutedDecision(
                        service_log.service, str(notification.originator_id), notification.originator_version,
                        type_name, _moment(event.timestamp).isoformat(), to_jsonable_python(decision),
                        meeting.quorum_as_minuted or ""))
        return minuted


def _state_of(aggregate: Any) -> dict[str, Any]:
    public = {k: v for k, v in vars(aggregate).items() if not k.startswith("_")}
    values = {"id": aggregate.id, "version": aggregate.version, "created_on": aggregate.created_on,
              "modified_on": aggregate.modified_on, **public}
    state: dict[str, Any] = to_jsonable_python(values, fallback=str)
    return state


def _in_words(entry: dict[str, Any]) -> str:
    actor = entry["actor"]
    person = "an erased person" if actor["erased"] else actor.get("name") or actor["user_id"]
    who = f"{person} ({actor['role']}, {actor['organisation']})"
    what = entry["type"].split(".")[1]
    text = f"{entry['time']}: version {entry['version']}, {what}, by {who}"
    decision = entry["decision"]
    if decision:
        text += (f"; decided by {decision['body']} on {decision['decided_on']}"
                 f"{' at meeting ' + decision['meeting_id'] if decision.get('meeting_id') else ''}"
                 f"{' (ref ' + decision['reference'] + ')' if decision.get('reference') else ''}"
                 f": {decision['reason']}")
    changes = entry.get("changes") or {}
    if changes:
        text += "; changed " + ", ".join(f"{k} from {v['from']!r} to {v['to']!r}" if v["from"] is not None
                                         else f"{k} to {v['to']!r}" for k, v in changes.items())
    return text
