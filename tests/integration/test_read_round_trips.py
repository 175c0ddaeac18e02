"""What a GraphQL read costs PostgreSQL beside its own queries: the snapshot opens with its isolation level in its
BEGIN (no SET TRANSACTION after it) and ends with COMMIT (a ROLLBACK costs psycopg's prepared statements and a
DEALLOCATE ALL), and the people vault's generation (a cached answer's key) is one statement,
not a transaction of four. A write that stands alone (a sealed text's key, a relay's position) is one statement too,
not three with its BEGIN and COMMIT, and a save of events is one statement with its tracking row. Counted from
libpq's protocol trace of the store's one pooled connection."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking

from services.priorities.application import PrioritiesApplication
from shared.audit.people import PeopleVault
from shared.eventstore import record_position
from shared.readstore import ReadStore
from shared.recorder import OneStatementRecorder
from tests.harness import settings_for


def _settings(tmp_path: Path, postgres_url: str) -> Any:
    # One connection per store: the one traced is the one every statement goes through.
    return settings_for(data_dir=tmp_path, postgres_url=postgres_url, postgres_pool_size=1, postgres_max_overflow=0)


def _statements(trace: str) -> list[str]:
    """Each statement the client sent: a simple query's text, or an extended one's (its Bind; its text from its
    Parse when it sent one, a prepared statement's name otherwise)."""
    sent: list[str] = []
    parsed = ""
    for line in trace.splitlines():
        fields = line.split("\t")
        if len(fields) < 5 or fields[1] != "F":
            continue
        if fields[3] == "Query":
            sent.append(fields[4].strip().strip('"'))
        elif fields[3] == "Parse":
            parsed = re.findall(r'"([^"]*)"', fields[4])[1]
        elif fields[3] == "Bind":
            sent.append(parsed or fields[4])
            parsed = ""
    return sent


@contextmanager
def traced(store: Any, tmp_path: Path) -> Iterator[Callable[[], list[str]]]:
    """The statements the connection of a store (or of an application's recorder) sends in the block."""
    trace = tmp_path / "trace.log"
    datastore: Any = store.recorder.datastore  # type: ignore[attr-defined]
    with datastore.get_connection() as conn:
        pgconn = conn.pgconn
    with trace.open("w") as out:
        pgconn.trace(out.fileno())
        try:
            yield lambda: _statements(trace.read_text())
        finally:
            pgconn.untrace()


@pytest.fixture
def store(tmp_path: Path, postgres_url: str) -> Iterator[ReadStore]:
    read_store = ReadStore(_settings(tmp_path, postgres_url), "trips")
    read_store.query("SELECT 1 AS one")  # its search path set, once per connection
    yield read_store
    read_store.close()


def test_a_snapshot_says_its_isolation_level_in_its_begin(store: ReadStore, tmp_path: Path) -> None:
    with traced(store, tmp_path) as sent:
        with store.snapshot():
            level = store.query("SHOW transaction_isolation")[0]["transaction_isolation"]
            read_only = store.query("SHOW transaction_read_only")[0]["transaction_read_only"]
        statements = sent()
    assert (level, read_only) == ("repeatable read", "on")
    assert statements[0] == "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", statements
    assert not [s for s in statements if s.startswith("SET TRANSACTION")], statements
    # BEGIN, the two reads, COMMIT: a ROLLBACK would have psycopg drop its prepared statements (DEALLOCATE ALL)
    assert statements[1:] == ["SHOW transaction_isolation", "SHOW transaction_read_only", "COMMIT"], statements
    # The pooled connection goes back as it came: the next transaction is the default one again.
    with store.transaction(commit=False) as tx:
        assert tx.query("SHOW transaction_isolation")[0]["transaction_isolation"] == "read committed"
        assert tx.query("SHOW transaction_read_only")[0]["transaction_read_only"] == "off"


def test_the_vaults_generation_is_one_statement(tmp_path: Path, postgres_url: str) -> None:
    vault = PeopleVault(_settings(tmp_path, postgres_url))
    try:
        vault.generation()  # its search path set
        with traced(vault.store, tmp_path) as sent:
            generation = vault.generation()
            statements = sent()
        assert generation == "0.0"
        assert len(statements) == 1, statements
    finally:
        vault.store.close()


def test_a_sealed_texts_key_is_one_statement_to_write_and_one_to_read(tmp_path: Path, postgres_url: str) -> None:
    settings = _settings(tmp_path, postgres_url)
    vault, again = PeopleVault(settings), PeopleVault(settings)  # the second never held the key in its cache
    try:
        vault.generation()
        again.generation()  # both search paths set
        with traced(vault.store, tmp_path) as sent:
            sealed = vault.seal("alice", "aggregate-1", 1, {"reason": "Quorate: five of seven members present"})
            written = sent()
        assert [s.split(" (")[0] for s in written] == ["INSERT INTO sealed_text_keys"], written  # no BEGIN, COMMIT
        with traced(again.store, tmp_path) as sent:
            opened = again.open(sealed["reason"])
            read = sent()
        assert opened == "Quorate: five of seven members present"  # committed on its own: another pool reads it
        assert read == ["SELECT data_key FROM sealed_text_keys WHERE key_id = $1"], read
    finally:
        vault.store.close()
        again.store.close()


def test_a_position_alone_is_one_statement_and_never_moves_back(store: ReadStore, tmp_path: Path) -> None:
    with traced(store, tmp_path) as sent:
        record_position(store.recorder, Tracking("relay:trips.events", 7))
        statements = sent()
    assert len(statements) == 1 and "BEGIN" not in statements[0], statements  # the upsert alone (prepared)
    assert store.position("relay:trips.events") == 7
    with pytest.raises(IntegrityError):
        record_position(store.recorder, Tracking("relay:trips.events", 7))  # not ahead of the recorded one
    record_position(store.recorder, Tracking("relay:trips.events", 9))
    assert store.position("relay:trips.events") == 9


def test_a_save_of_events_is_one_statement_with_its_tracking_row_and_refuses_as_the_librarys_did(
        tmp_path: Path, postgres_url: str) -> None:
    app = PrioritiesApplication(_settings(tmp_path, postgres_url))
    try:
        recorder = app.recorder
        assert isinstance(recorder, OneStatementRecorder)
        subject, topic = uuid4(), "tests:Saved"
        with traced(app, tmp_path) as sent:
            ids = recorder.insert_events([StoredEvent(subject, 1, topic, b"{}"), StoredEvent(subject, 2, topic, b"{}")],
                                         tracking=Tracking("upstream:0", 5))
            statements = sent()
        assert len(statements) == 1 and "BEGIN" not in statements[0], statements  # no LOCK, NOTIFY, COMMIT apart
        assert ids is not None and len(ids) == 2 and ids[1] == ids[0] + 1
        assert [n.id for n in recorder.select_notifications(ids[0], 10)] == ids
        assert recorder.max_tracking_id("upstream:0") == 5
        with pytest.raises(IntegrityError):  # the version is taken: a concurrent change, as before
            recorder.insert_events([StoredEvent(subject, 2, topic, b"{}")])
        with pytest.raises(IntegrityError):  # the upstream position does not move forward: applied already
            recorder.insert_events([StoredEvent(subject, 3, topic, b"{}")], tracking=Tracking("upstream:0", 5))
        # A refused save left nothing: neither its events nor its position.
        assert [e.originator_version for e in recorder.select_events(subject)] == [1, 2]
        recorder.insert_events([StoredEvent(subject, 3, topic, b"{}")], tracking=Tracking("upstream:0", 6))
        assert recorder.max_tracking_id("upstream:0") == 6
        assert [e.originator_version for e in recorder.select_events(subject)] == [1, 2, 3]
    finally:
        app.close()
