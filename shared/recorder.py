"""A service's PostgreSQL event store writes each save in one statement.

The library's recorder sends a save as a pipelined transaction: BEGIN, the tracking row (a policy's upstream
position, or a keyed create's fingerprint), ``SET LOCAL lock_timeout``, ``LOCK TABLE``, ``NOTIFY``, the INSERT and
COMMIT, with a pipeline sync on entering the transaction, one after the INSERT and one on leaving it. That was a
sixth of a command's statements and about a twentieth of a web process's CPU (``bench.load --profile``).

``OneStatementRecorder`` sends the same work as one call of a function in the service's schema, in autocommit: the
statement is the transaction. It does what the library's transaction does, in the same order: the tracking row,
refused unless it moves forward; the table locked in exclusive mode until the commit, so notification ids become
visible in commit order (the relay reads everything after its position and must not pass over a later commit);
the library's NOTIFY; the insert, returning the notification ids. A duplicate version or a tracking row that does not
move forward is a unique violation, which the datastore turns into the library's ``IntegrityError`` as before.

(The library's own ``es_insert_events`` function is not used: it takes no lock and writes no tracking row.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier, Literal


class OneStatementRecorder(PostgresProcessRecorder):
    """The library's process recorder, with a save of events sent as one statement (see the module doc)."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events",
                 tracking_table_name: str = "notification_tracking") -> None:
        super().__init__(datastore, events_table_name=events_table_name, tracking_table_name=tracking_table_name)
        self._one_statement = datastore.single_row_tracking  # the legacy multi-row tracking keeps the library's way
        function = Identifier(datastore.schema, f"record_{events_table_name}")
        self._record_statement = SQL(
            "SELECT notification_id FROM {function}(%s, %s::text, %s::bigint) AS notification_id"
        ).format(function=function)
        self.sql_create_statements.append(SQL(
            "CREATE OR REPLACE FUNCTION {function}(events {event}[], tracking_name text, tracking_id bigint)"
            " RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$"
            " BEGIN"
            "  IF tracking_name IS NOT NULL THEN"
            "   INSERT INTO {tracking} VALUES (tracking_name, tracking_id) ON CONFLICT (application_name)"
            "    DO UPDATE SET notification_id = tracking_id WHERE {tracking}.notification_id < tracking_id;"
            "   IF NOT FOUND THEN"
            "    RAISE EXCEPTION 'Failed to record tracking for % %', tracking_name, tracking_id"
            "     USING ERRCODE = 'unique_violation';"
            "   END IF;"
            "  END IF;"
            "  SET LOCAL lock_timeout = {lock_timeout};"
            "  LOCK TABLE {events} IN EXCLUSIVE MODE;"
            "  NOTIFY {channel};"
            "  RETURN QUERY INSERT INTO {events} AS t (originator_id, originator_version, topic, state)"
            "   SELECT e.originator_id, e.originator_version, e.topic, e.state FROM unnest(events) AS e"
            "   RETURNING t.notification_id;"
            " END;"
            " $BODY$"
        ).format(function=function, event=Identifier(datastore.schema, self.stored_event_type_name),
                 tracking=Identifier(datastore.schema, tracking_table_name),
                 events=Identifier(datastore.schema, events_table_name),
                 lock_timeout=Literal(f"{datastore.lock_timeout}s"), channel=Identifier(self.channel_name)))

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's own insert_events
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if not stored_events or not self._one_statement:
            library: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return library
        with self.datastore.get_connection() as conn, conn.cursor() as cursor:  # autocommit, its errors translated
            self._insert_stored_events(cursor, stored_events, **kwargs)
            return [int(row["notification_id"]) for row in cursor.fetchall()]

    def _insert_stored_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent],
                              **kwargs: Any) -> None:
        if not self._one_statement:
            super()._insert_stored_events(curs, stored_events, **kwargs)
            return
        tracking: Tracking | None = kwargs.get("tracking")
        events = [self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
                  for e in stored_events]
        curs.execute(self._record_statement, (events, tracking.application_name if tracking else None,
                                              tracking.notification_id if tracking else None), prepare=True)
