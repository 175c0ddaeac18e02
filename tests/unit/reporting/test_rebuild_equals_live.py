"""The rebuild applies the live consumer's handlers to rows in memory: on a history with every kind of change, the
rebuilt store equals the store the live consumer (``ConsumerRunner``, one transaction per batch) built, row for row,
and both skip the same messages. Embedded transport and SQLite stores (the integration test does PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from bench.reporting_history import publish
from services.reporting.rebuild import compare, rebuild
from shared.readstore import ReadStore
from shared.transport import Message, Reader, TransportError
from shared.transport.embedded import EmbeddedTransport
from tests.harness import settings_for
from tests.reporting_histories import project_live, varied


def test_a_rebuilt_store_equals_the_one_the_live_consumer_built(tmp_path: Path) -> None:
    settings = settings_for(data_dir=tmp_path)
    transport = EmbeddedTransport(tmp_path / "log.sqlite3")
    history = varied()
    publish(history, transport, settings.topic_prefix)
    live, dead_lettered = project_live(settings, transport, batch_size=50, timeout=0.1)

    report = rebuild(settings, transport, "reporting_rebuild", progress=False)
    rebuilt = ReadStore(settings, "reporting_rebuild")
    try:
        assert report.events == live.query("SELECT COUNT(*) AS n FROM event_log")[0]["n"] == history.count - 2
        assert report.duplicates == 1
        assert sorted(s.split(":")[0] for s in report.skipped) == ["malformed", "rejected", "rejected"]
        assert dead_lettered == 3
        differences = compare(live, rebuilt)
        assert differences == [], differences
        # The history reached every kind of row it is meant to test.
        counts = {t: live.query(f"SELECT COUNT(*) AS n FROM {t}")[0]["n"] for t in (
            "delivery_outcomes", "delivery_milestones", "delivery_interventions", "open_releases", "tasking_changes",
            "memberships", "agreed_actions", "scs_reviews", "district_chapters", "evidence", "partnership_rules")}
        assert all(counts.values()), counts
        assert live.query("SELECT COUNT(*) AS n FROM delivery_outcomes WHERE counting = 0")[0]["n"] > 0
        # A change entered after one dated later refolded an entity's in-force segments (a segment re-made at the
        # same day and last change, with the new one's own change in it), live and rebuilt alike.
        refolded = {t: live.query(f"SELECT COUNT(*) AS n FROM {t}_in_force s WHERE EXISTS (SELECT 1 FROM"
                                  f" {t}_in_force n WHERE n.id = s.id AND n.valid_from = s.valid_to"
                                  " AND n.in_force_from = s.in_force_from AND n.version = s.version)")[0]["n"]
                    for t in ("taskings", "delivery_projects", "delivery_outcomes", "memberships")}
        assert any(refolded.values()), refolded
        # Accruals (a sum, a count, keyed parts of the rules' bodies) kept as each event's own change, and refolded
        # alike: a contribution entered before one dated earlier, a quorum changed before one decided earlier.
        for table, kind in (("delivery_projects", "add"), ("delivery_projects", "latest"), ("district_chapters", "add"),
                            ("partnership_rules", "patch"), ("scs_reviews", "remove")):
            assert live.query(f"SELECT COUNT(*) AS n FROM {table} WHERE own_changes LIKE ?",
                              [f'%"{kind}"%'])[0]["n"], (table, kind)
        sums = live.query("SELECT s.committed_gbp FROM delivery_projects_in_force s WHERE s.valid_to IS NULL AND"
                          " EXISTS (SELECT 1 FROM delivery_projects_in_force c WHERE c.id = s.id AND"
                          " c.valid_to IS NOT NULL AND c.in_force_from = s.in_force_from"
                          " AND c.committed_gbp <> s.committed_gbp)")
        assert sums, "no sum in force on a day was refolded by a contribution entered out of date order"
        assert live.query("SELECT COUNT(*) AS n FROM delivery_projects WHERE status = 'closed'")[0]["n"] == 1
        assert live.query("SELECT COUNT(*) AS n FROM event_log WHERE type = 'projects.ProgressReported.v3'"
                          " AND data NOT LIKE '%submitted_via%'")[0]["n"] > 0  # published as v1, upcast
    finally:
        rebuilt.close()
        live.close()
        transport.close()


class _BrokenReader(Reader):
    """Gives one batch, then loses the broker."""

    def __init__(self, reader: Reader) -> None:
        self._reader, self._polls = reader, 0

    def poll(self, max_messages: int, timeout: float) -> Sequence[Message]:
        self._polls += 1
        if self._polls > 1:
            raise TransportError("broker gone")
        return self._reader.poll(max_messages, timeout)

    def close(self) -> None:
        self._reader.close()


class _BrokenTransport(EmbeddedTransport):
    def reader(self, topic: str, start: Mapping[int, int]) -> Reader:
        return _BrokenReader(super().reader(topic, start))


def test_a_rebuild_that_fails_midway_rolls_its_load_back_and_leaves_no_thread(tmp_path: Path) -> None:
    settings = settings_for(data_dir=tmp_path)
    transport = _BrokenTransport(tmp_path / "log.sqlite3")
    publish(varied(), transport, settings.topic_prefix)
    with pytest.raises(TransportError):
        rebuild(settings, transport, "reporting_rebuild", progress=False, poll_size=5)
    assert not [t for t in threading.enumerate() if t.name.startswith("rebuild-load")]
    store = ReadStore(settings, "reporting_rebuild")
    try:
        assert store.query("SELECT COUNT(*) AS n FROM event_log")[0]["n"] == 0
    finally:
        store.close()
        transport.close()
