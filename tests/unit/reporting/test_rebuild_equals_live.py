"""The rebuild applies the live consumer's handlers to rows in memory: on a history with every kind of change, the
rebuilt store equals the store the live consumer (``ConsumerRunner``, one transaction per batch) built, row for row,
and both skip the same messages. Embedded transport and SQLite stores (the integration test does PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from bench.reporting_history import publish
from services.reporting.projections import ReportingProjection, read_model_ddl
from services.reporting.readmodel import ReportingReadModel
from services.reporting.rebuild import TOPICS, compare, rebuild
from shared.consumer import ConsumerRunner
from shared.readstore import ReadStore
from shared.transport.embedded import EmbeddedTransport
from tests.harness import settings_for
from tests.reporting_histories import varied


def test_a_rebuilt_store_equals_the_one_the_live_consumer_built(tmp_path: Path) -> None:
    settings = settings_for(data_dir=tmp_path)
    transport = EmbeddedTransport(tmp_path / "log.sqlite3")
    history = varied()
    publish(history, transport, settings.topic_prefix)
    live = ReadStore(settings, "reporting")
    ReportingReadModel(live, read_model_ddl())
    dead_lettered = 0
    for name in TOPICS:
        runner = ConsumerRunner("reporting", live, transport, settings.topic(name), ReportingProjection(),
                                dead_letter_topic=settings.topic("reporting.dlq"), batch_size=50)
        ends = sum(transport.end_offsets(settings.topic(name)).values())
        consumed = 0
        while consumed < ends:
            consumed += runner.process_batch(timeout=0.1)
        dead_lettered += runner.status.dead_lettered
        runner.close()

    report = rebuild(settings, transport, "reporting_rebuild", progress=False)
    rebuilt = ReadStore(settings, "reporting_rebuild")
    try:
        assert report.events == live.query("SELECT COUNT(*) AS n FROM event_log")[0]["n"] == history.count - 1
        assert report.duplicates == 1
        assert sorted(s.split(":")[0] for s in report.skipped) == ["malformed", "rejected"] and dead_lettered == 2
        assert compare(live, rebuilt) == []
        # The history reached every kind of row it is meant to test.
        counts = {t: live.query(f"SELECT COUNT(*) AS n FROM {t}")[0]["n"] for t in (
            "delivery_outcomes", "delivery_milestones", "delivery_interventions", "open_releases", "tasking_changes",
            "memberships", "agreed_actions", "scs_reviews", "district_chapters", "evidence")}
        assert all(counts.values()), counts
        assert live.query("SELECT COUNT(*) AS n FROM delivery_outcomes WHERE counting = 0")[0]["n"] > 0
        assert live.query("SELECT COUNT(*) AS n FROM delivery_projects WHERE status = 'closed'")[0]["n"] == 1
        assert live.query("SELECT COUNT(*) AS n FROM event_log WHERE type = 'projects.ProgressReported.v2'"
                          " AND data NOT LIKE '%submitted_via%'")[0]["n"] > 0  # published as v1, upcast
    finally:
        rebuilt.close()
        live.close()
        transport.close()
