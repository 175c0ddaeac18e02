"""The example partner producer on a real Kafka broker and PostgreSQL: it sends progress reports on its
organisation's inbound topic, reads every answer from the outcomes topic into its table, and running it again on
the same reports changes nothing (each is resent under its id and answered as the first time)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from examples.partner_producer.producer import PartnerProducer
from tests.harness import running_system, settings_for
from tests.integration.test_partner_inbound import COLLEGE, _projects, _version, clients_file

SCHEMAS = Path(__file__).resolve().parents[2] / "contracts" / "commands"


def _sent(database: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT project_id, status, version, problem FROM sent ORDER BY rowid").fetchall()


@pytest.mark.integration
def test_the_partner_producer_sends_reports_and_records_each_answer(tmp_path: Path, postgres_url: str,
                                                                     kafka_bootstrap: str) -> None:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap,
                            partner_clients_file=clients_file(tmp_path))
    database = tmp_path / "sent.sqlite3"
    group = f"partner.college-mis.{settings.topic_prefix}outcomes"
    with running_system(settings, services=("projects",)) as h:
        academy, retail = _projects(h)
        reports: list[dict[str, Any]] = [
            {"project_id": academy, "reported_on": "2013-04-01", "values": {"jobs": "150"},
             "narrative": "Cohort 1 placed", "expected_version": 1},
            {"project_id": academy, "reported_on": "2013-07-01", "values": {"hires": "12"},
             "narrative": "No such outcome", "expected_version": 2},
            {"project_id": retail, "reported_on": "2013-04-01", "values": {"jobs": "80"},
             "narrative": "The chamber's project", "expected_version": 1},
            {"project_id": academy, "reported_on": "not a date", "values": {"jobs": "1"}, "narrative": "x"},
        ]

        def run() -> list[str]:
            producer = PartnerProducer(kafka_bootstrap, COLLEGE, group, SCHEMAS, database,
                                       topic_prefix=settings.topic_prefix)
            try:
                ids = producer.send(reports)
                assert producer.wait_for_answers(60)
                return ids
            finally:
                producer.close()

        first = run()
        assert len(first) == 3  # the last report does not fit the published schema: not sent
        rows = _sent(database)
        assert [(r[0], r[1], r[2]) for r in rows] == [(academy, "accepted", 2), (academy, "refused", None),
                                                      (retail, "refused", None)]
        no_outcome, not_ours = (json.loads(str(r[3])) for r in rows[1:])
        assert no_outcome["status"] == 422 and no_outcome["detail"].endswith("The project has no such outcome.")
        assert not_ours["status"] == 403 and "Only the lead partner (chamber-of-commerce)" in not_ours["detail"]

        again = run()  # run again on the same file, as after a crash: the same ids, answered as the first time
        assert again == first and _sent(database) == rows
        assert _version(h, academy) == 2 and _version(h, retail) == 1
