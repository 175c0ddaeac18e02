"""Event-store setup: each service is an ``eventsourcing`` Application on PostgreSQL or SQLite, chosen by settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid5

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    Repository,
    project_aggregate,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    EventStore,
    InterfaceError,
    JSONTranscoder,
    Mapper,
    OperationalError,
    ProcessRecorder,
    StoredEvent,
    Tracking,
    TrackingRecorder,
    Transcoding,
    UUIDAsHex,
)
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from eventsourcing.utils import retry
from psycopg import sql

from shared import idempotency
from shared.audit.chain import ChainedEventStore, ChainedMapper
from shared.audit.checkpoint import Checkpointer
from shared.audit.people import PeopleMapper, vault_for
from shared.contracts import Actor, Decision, Fact
from shared.contracts.personal import SealedPersonalData
from shared.errors import StaleVersion
from shared.pgpool import check_pool_cheaply
from shared.readstore import schema_setup
from shared.settings import Persistence, Settings

A = TypeVar("A", bound=Aggregate)


@retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's own insert_tracking
def record_position(recorder: TrackingRecorder, tracking: Tracking) -> None:
    """``insert_tracking`` as one statement on PostgreSQL: the upsert alone is its own transaction, where the library
    wraps it in BEGIN and COMMIT (three statements, in a relay's every batch and a reader's every passed-over event)."""
    if not isinstance(recorder, PostgresTrackingRecorder):
        recorder.insert_tracking(tracking)
        return
    with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:  # autocommit, its errors translated
        recorder._insert_tracking(cursor, tracking)


class _DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class _DataclassAsDict(Transcoding):
    """Stores a small value object (Actor, Decision, ...) as a dict of its fields."""

    def __init__(self, cls: type[Any]) -> None:
        self.type = cls
        self.name = cls.__name__.lower()

    def encode(self, obj: Any) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**data)


VALUE_OBJECTS: list[type[Any]] = [Actor, Decision, SealedPersonalData]


def service_transcoder(value_objects: Sequence[type[Any]] = ()) -> JSONTranscoder:
    """The transcoder of a service's stored events: what an auditor needs to read them without the service."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), _DateAsISO()):
        transcoder.register(transcoding)
    for cls in [*VALUE_OBJECTS, *value_objects]:
        transcoder.register(_DataclassAsDict(cls))
    return transcoder


class AccountableAggregate(Aggregate):
    """An aggregate whose every event carries the actor, the correlation id and, where one was taken, the decision."""

    def _happened(self, event_class: type[Fact], context: CommandContext, **fields: Any) -> None:
        self.trigger_event(
            event_class,  # type: ignore[arg-type]
            actor=context.actor,
            correlation_id=context.correlation_id,
            **fields,
        )


@dataclasses.dataclass(frozen=True)
class CommandContext:
    """Who asks, and the correlation id that ties the command to its events, logs and read-model rows."""

    actor: Actor
    correlation_id: str


def stored_channel(settings: Settings, service: str) -> str:
    """The channel name (PostgreSQL identifiers are at most 63 bytes)."""
    return f"{settings.schema_prefix}{service}_stored"[-63:]


@dataclasses.dataclass(frozen=True)
class IdempotentIds:
    """How a service derives a created aggregate's id from its creator and an ``Idempotency-Key``, so that a retried
    create finds the first result (after a restart too, or when the retry races the original).

    ``layout`` is the name hashed, from ``{kind}``, ``{user}``, ``{organisation}`` and ``{key}``. A service keeps the
    namespace and layout it first used: its stored aggregates' ids were derived with them."""

    namespace: UUID
    layout: str

    def id_for(self, kind: str, actor: Actor, key: str | None) -> UUID | None:
        """The id of a ``kind`` created by ``actor`` with ``key``; None without a key (the create gets a fresh id)."""
        if not key:
            return None
        derived = uuid5(self.namespace, self.layout.format(kind=kind, user=actor.user_id,
                                                           organisation=actor.organisation, key=key))
        idempotency.derived(derived)  # its first request's fingerprint is saved with it, a replay's compared
        return derived


class _ReplayCheckingRepository(Repository[UUID]):
    """Every replay of a keyed create reads the aggregate its key derives (``_find``, ``_get``, after a lost race
    too): here it is refused if the first request was a different one (``shared.idempotency``)."""

    def get(self, aggregate_id: UUID, **kwargs: Any) -> Any:
        aggregate = super().get(aggregate_id, **kwargs)
        idempotency.check_replay(aggregate_id, self.event_store.recorder)
        return aggregate


class ServiceApplication(Application[UUID]):
    """A bounded context's event store. Its recorder is a process recorder, so policies that react to upstream
    messages save their events together with the upstream position (exactly-once in effect)."""

    service: ClassVar[str]
    value_objects: ClassVar[list[type[Any]]] = []
    aggregate_cache_size: ClassVar[int] = 0
    """Aggregates kept in memory (and brought up to date from the store on each read; other processes' writes are
    seen). Off by default: a service holding personal data must not keep it in memory after it is erased."""

    def __init__(self, settings: Settings) -> None:
        self.name = self.service
        self.settings = settings
        with schema_setup(settings, self.service):
            env = settings.store_env(self.service)
            if self.aggregate_cache_size:
                env["AGGREGATE_CACHE_MAXSIZE"] = str(self.aggregate_cache_size)
            super().__init__(env=env)
            if settings.persistence is Persistence.POSTGRES:
                self._announce_stored_events()
        check_pool_cheaply(self.recorder)

    def is_founding(self, event: object) -> bool:
        """Whether ``event`` is one the service records by itself into an empty store when it starts (tasking's
        founding of the partnership's rules): not history anyone entered."""
        return False

    def holds_history(self) -> bool:
        """Whether the store holds events beyond what the service founds by itself when it starts."""
        return self.recorder.max_notification_id() is not None

    @property
    def stored_channel(self) -> str:
        """The PostgreSQL channel on which each commit of new events is announced (for the relay)."""
        return stored_channel(self.settings, self.service)

    def _announce_stored_events(self) -> None:
        # NOTIFY is transactional: the relay hears of events when they are committed, never before, and one
        # announcement per statement is enough (the relay reads everything after its position).
        recorder: Any = self.recorder
        schema = sql.Identifier(f"{self.settings.schema_prefix}{self.service}")
        function = sql.SQL("{}.announce_stored_events").format(schema)
        with recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(sql.SQL(
                "CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS"
                " $$ BEGIN PERFORM pg_notify(TG_ARGV[0], ''); RETURN NULL; END $$"
            ).format(function=function))
            cursor.execute(sql.SQL(
                "CREATE OR REPLACE TRIGGER announce_stored_events AFTER INSERT ON {schema}.{table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION {function}({channel})"
            ).format(schema=schema, table=sql.Identifier(recorder.events_table_name), function=function,
                     channel=sql.Literal(self.stored_channel)))

    def construct_repository(self) -> Repository[UUID]:
        plain = super().construct_repository()
        return _ReplayCheckingRepository(
            event_store=plain.event_store, snapshot_store=plain.snapshot_store,
            cache_maxsize=self.aggregate_cache_size or None, fastforward=plain.fastforward,
            fastforward_skipping=plain.fastforward_skipping, deepcopy_from_cache=plain.deepcopy_from_cache)

    def _record(self, processing_event: ProcessingEvent[UUID]) -> Any:
        # A keyed create's fingerprint, or a partner command's once-only row, is a tracking row of the same
        # transaction as its events.
        if processing_event.tracking is None:
            processing_event.tracking = (idempotency.tracking_for(processing_event.events)
                                         or idempotency.answer_tracking(processing_event.events))
        return super()._record(processing_event)

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    def construct_mapper(self) -> Mapper[UUID]:
        # Stored events carry a hash chain (shared.audit.chain); the mapper strips its header when reading. It is
        # also where actors become pseudonyms and free text is sealed (shared.audit.people): the one seam every
        # stored event passes, whichever command, policy or loader made it.
        return PeopleMapper(self.construct_transcoder(), vault=lambda: vault_for(self.settings))

    def construct_event_store(self) -> EventStore[UUID]:
        assert isinstance(self.mapper, ChainedMapper)
        self.checkpointer = Checkpointer.for_service(self.service, self.recorder, self.settings)
        return ChainedEventStore(self.mapper, self.recorder, on_recorded=self.checkpointer.after_recorded)

    @property
    def process_recorder(self) -> ProcessRecorder:
        recorder = self.recorder
        assert isinstance(recorder, ProcessRecorder)
        return recorder

    def record_position(self, tracking: Tracking) -> None:
        """A position with nothing else to write (a relay's, or events a reader passes over); the library's
        IntegrityError when it is not ahead of the recorded one, as with ``insert_tracking``."""
        record_position(self.process_recorder, tracking)

    @staticmethod
    def at_version(aggregate: A, expected_version: int) -> A:
        """Optimistic concurrency: the command was written against ``expected_version``; a newer one is a 409."""
        if aggregate.version != expected_version:
            raise StaleVersion(
                f"It has changed since you read it (now version {aggregate.version}, you sent {expected_version}):"
                " reload and decide again.",
                current_version=aggregate.version, expected_version=expected_version,
            )
        return aggregate

    def aggregates(self, ids: Sequence[UUID]) -> dict[UUID, Aggregate]:
        """The aggregates of ``ids`` that are stored, by id, read in one statement (a meeting's roll, a target's
        taskings: one round trip, not one per aggregate), each projected from its events as the repository would
        give it. A service that caches aggregates or keeps snapshots reads them one by one through its repository
        (which does both)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        stored = self._select_events_of(wanted) if self.repository.cache is None and self.snapshots is None \
            and len(wanted) > 1 else None
        if stored is None:
            return {found.id: found for found in (self._get_or_none(id_) for id_ in wanted) if found is not None}
        events: dict[UUID | str, list[Any]] = {}
        for item in stored:
            events.setdefault(item.originator_id, []).append(self.mapper.to_domain_event(item))
        found: dict[UUID, Aggregate] = {}
        for aggregate_id in wanted:
            if aggregate_id in events:
                aggregate = project_aggregate(None, events[aggregate_id])
                if aggregate is not None:
                    idempotency.check_replay(aggregate_id, self.recorder)  # as the repository's ``get`` does
                    found[aggregate_id] = aggregate
        return found

    def _get_or_none(self, aggregate_id: UUID) -> Aggregate | None:
        try:
            found: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found

    def _select_events_of(self, ids: Sequence[UUID]) -> list[StoredEvent] | None:
        """The stored events of ``ids`` in one select, each aggregate's in version order (None: a recorder this
        does not know how to ask)."""
        recorder: Any = self.recorder
        if isinstance(recorder, PostgresAggregateRecorder):
            statement = sql.SQL("SELECT * FROM {schema}.{table} WHERE originator_id = ANY(%s) "
                                "ORDER BY originator_id, originator_version").format(
                schema=sql.Identifier(recorder.datastore.schema), table=sql.Identifier(recorder.events_table_name))
            with recorder.datastore.get_connection() as connection, connection.cursor() as cursor:
                cursor.execute(statement, [list(ids)], prepare=True)
                return [StoredEvent(originator_id=row["originator_id"], originator_version=row["originator_version"],
                                    topic=row["topic"], state=bytes(row["state"])) for row in cursor.fetchall()]
        if isinstance(recorder, SQLiteAggregateRecorder):
            marks = ", ".join("?" for _ in ids)
            with recorder.datastore.transaction(commit=False) as cursor:
                cursor.execute(f"SELECT * FROM {recorder.events_table_name} WHERE originator_id IN ({marks}) "
                               "ORDER BY originator_id, originator_version", [id_.hex for id_ in ids])
                return [StoredEvent(originator_id=recorder.convert_originator_id(row["originator_id"]),
                                    originator_version=row["originator_version"], topic=row["topic"],
                                    state=row["state"]) for row in cursor.fetchall()]
        return None

    def save_with_tracking(self, tracking: Tracking, *aggregates: Aggregate) -> None:
        """Save the aggregates' new events and the upstream position they answer, in one transaction.

        Raises the library's IntegrityError when that position was already recorded (or an aggregate was
        changed concurrently): the caller decides which, with ``has_tracking_id``. A retried insert that meets this
        very write, committed unacknowledged, is no error (``ChainedEventStore``).
        """
        events = [event for aggregate in aggregates for event in aggregate.collect_events()]
        if events:
            self.events.put(events, tracking=tracking)
        else:
            self.record_position(tracking)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(_DateAsISO())
        for cls in [*VALUE_OBJECTS, *self.value_objects]:
            transcoder.register(_DataclassAsDict(cls))
