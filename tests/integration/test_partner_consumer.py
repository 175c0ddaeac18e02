"""The example partner consumer on a real Kafka broker: it follows projects.events in a consumer group, validates
every message against the published schemas, keeps its table right, and resumes from its group's offsets."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from examples.partner_consumer.consumer import PartnerConsumer
from tests.harness import running_system, settings_for, wait_until
from tests.integration.test_projects_api import TaskingPartner, manager, project_body

SCHEMAS = Path(__file__).resolve().parents[2] / "contracts" / "events"


def _rows(database: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as db:
        return db.execute(sql).fetchall()


@pytest.mark.integration
def test_the_partner_consumer_keeps_its_table_of_projects_up_to_date(tmp_path: Path, kafka_bootstrap: str) -> None:
    settings = settings_for(data_dir=tmp_path, kafka=kafka_bootstrap)
    database = tmp_path / "partner.sqlite3"
    topic = settings.topic("projects.events")
    group = f"partner.college-mis.{settings.topic_prefix}"
    with running_system(settings, services=("projects",)) as h:
        tasking_id = TaskingPartner(h).accepted_tasking()
        project_id = h.client.post("/projects/projects", json=project_body(tasking_id), headers=manager(h)).json()["id"]
        college = h.headers("partner_officer", "worcester-college")
        reported = h.client.post(f"/projects/projects/{project_id}/progress", headers=college, json={
            "reported_on": "2013-04-01", "values": {"jobs": "100"}, "narrative": "Slow start", "expected_version": 1})
        assert reported.status_code == 200, reported.text
        publisher = h.system.transport.publisher()
        try:  # what a broken or hostile producer could put on the topic
            publisher.publish(topic, project_id, b"not json")
            publisher.publish(topic, project_id, b'{"specversion": "1.0", "id": "x", "source": "/x", "type": '
                                                 b'"projects.ProgressReported.v1", "subject": "%s", "time": '
                                                 b'"2013-05-01T00:00:00+00:00", "sequence": 9, "data": {"rag": "blue"}}'
                              % project_id.encode())
            publisher.flush()
        finally:
            publisher.close()

        consumer = PartnerConsumer(kafka_bootstrap, topic, group, SCHEMAS, database)
        try:
            wait_until(lambda: consumer.poll() >= 0 and len(_rows(database, "SELECT * FROM rejected")) == 2,
                       what="the partner consumer to read the topic")
            assert _rows(database, "SELECT project_id, title, lead_partner, rag, last_reported_on FROM projects") == [
                (project_id, "Engineering skills academy", "worcester-college", "red", "2013-04-01")]
            reasons = [str(r[0]) for r in _rows(database, "SELECT reason FROM rejected ORDER BY \"offset\"")]
            assert reasons[0].startswith("not JSON") and "blue" in reasons[1]
        finally:
            consumer.close()

        again = h.client.post(f"/projects/projects/{project_id}/progress", headers=college, json={
            "reported_on": "2013-07-01", "values": {"jobs": "230"}, "narrative": "Recovering", "expected_version": 2})
        assert again.status_code == 200, again.text
        resumed = PartnerConsumer(kafka_bootstrap, topic, group, SCHEMAS, database)  # same group: its offsets
        try:
            wait_until(lambda: resumed.poll() >= 0 and _rows(database, "SELECT last_reported_on FROM projects")
                       == [("2013-07-01",)], what="the second report")
            applied = f"SELECT count(*) FROM applied WHERE subject = '{project_id}'"
            assert _rows(database, applied) == [(3,)]  # opened, two reports: each once
            assert len(_rows(database, "SELECT * FROM rejected")) == 2
        finally:
            resumed.close()
