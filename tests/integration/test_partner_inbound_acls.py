"""A partner's inbound topic end to end with SASL and ACLs on, as the Kubernetes overlay runs them: the KafkaUsers
generated from the partner clients file are applied to a broker that authenticates with SCRAM-SHA-512 and enforces
ACLs (``tools.kafka_acls``, ``KafkaBroker(scram=True)``). The college's system, as its own Kafka user, sends a
progress report with the example producer and reads the answer; the chamber's user, which may write its own
organisation's inbound topic, cannot write the college's nor read its answers, and nothing of the college's changes.

The partnership's processes use the broker's operator listener here (one process runs every consumer, so one Kafka
user could not be each service's); the services' own users are checked in tests/deploy against what they consume."""

from __future__ import annotations

import json
import secrets
import sqlite3
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import TopicAuthorizationFailedError

from examples.partner_producer.producer import PartnerProducer
from services.partners.inbound import REPORT_PROGRESS, commands_topic, outcomes_topic
from services.partners.kafka_users import kafka_users, user_name
from services.runtime import partner_topics
from shared.auth import ClientRegistry
from tests.harness import running_system, settings_for, wait_until
from tests.integration.test_partner_inbound import CHAMBER, COLLEGE, _progress_rows, _projects, _version, clients_file
from tools.kafka_acls import apply_users
from tools.realservers import KafkaBroker

pytestmark = pytest.mark.integration
SCHEMAS = Path(__file__).resolve().parents[2] / "contracts" / "commands"


def _scram(user: str, password: str) -> dict[str, Any]:
    return {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": user,
            "sasl_plain_password": password}


def _partitions(broker: KafkaBroker, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap)
    try:
        return len(consumer.partitions_for_topic(topic) or ())
    finally:
        consumer.close()


def _end_offsets(broker: KafkaBroker, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        return sum(int(offset) for offset in consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


def test_a_partner_sends_as_its_kafka_user_and_another_organisations_user_is_refused(
        tmp_path: Path, postgres_url: str, kafka_acl_broker: KafkaBroker) -> None:
    clients = clients_file(tmp_path)  # college-mis and chamber-portal, each granted progress reports
    registry = ClientRegistry.from_file(clients, known_topics=partner_topics(), secrets_needed=False)
    users = kafka_users(registry, "partnership", partner_topics())
    passwords = {str(u["metadata"]["name"]): secrets.token_urlsafe(24) for u in users}  # as Strimzi generates them
    admin = KafkaAdminClient(bootstrap_servers=kafka_acl_broker.bootstrap)
    try:
        apply_users(admin, users, passwords)
    finally:
        admin.close()
    college_user, chamber_user = user_name("college-mis"), user_name("chamber-portal")

    # Unprefixed topics: the ACLs name partner.<organisation>.commands literally, as on the cluster.
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_acl_broker.bootstrap,
                            partner_clients_file=clients, topic_prefix="")
    with running_system(settings, services=("projects", "reporting")) as h:
        academy, retail = _projects(h)
        wait_until(lambda: _partitions(kafka_acl_broker, commands_topic(COLLEGE)) == 3, 30,
                   "the worker to create the college's inbound topic")  # a partner may create none

        college = PartnerProducer(kafka_acl_broker.sasl_bootstrap, COLLEGE, "partner.college-mis.outcomes", SCHEMAS,
                                  tmp_path / "sent.sqlite3", **_scram(college_user, passwords[college_user]))
        try:
            [sent] = college.send([{"project_id": academy, "reported_on": "2013-04-01", "values": {"jobs": "150"},
                                    "narrative": "Cohort 1 placed", "expected_version": 1}])
            assert college.wait_for_answers(60)
        finally:
            college.close()
        with sqlite3.connect(tmp_path / "sent.sqlite3") as db:
            assert db.execute("SELECT command_id, status, version FROM sent").fetchall() == [(sent, "accepted", 2)]

        # The chamber's system, as its own user, writes a report on the college's project into the college's
        # topic: the broker refuses the write, so no consumer ever sees it.
        before = _end_offsets(kafka_acl_broker, commands_topic(COLLEGE))
        forged = {"specversion": "1.0", "id": str(uuid4()), "source": "/partners/chamber-portal",
                  "type": REPORT_PROGRESS, "data": {"project_id": academy, "reported_on": "2013-07-01",
                                                    "values": {"jobs": "999"}, "narrative": "Forged",
                                                    "expected_version": 2}}
        chamber = KafkaProducer(bootstrap_servers=kafka_acl_broker.sasl_bootstrap, max_block_ms=8000,
                                request_timeout_ms=8000, retries=0, **_scram(chamber_user, passwords[chamber_user]))
        try:
            with pytest.raises(TopicAuthorizationFailedError):
                chamber.send(commands_topic(COLLEGE), key=academy.encode(),
                             value=json.dumps(forged).encode()).get(10)
            # Its own organisation's topic it may write (the same forged report there is the chamber's, refused as
            # not its project, and answered on the chamber's outcomes).
            chamber.send(commands_topic(CHAMBER), key=academy.encode(), value=json.dumps(forged).encode()).get(10)
        finally:
            chamber.close(timeout=5)
        assert _end_offsets(kafka_acl_broker, commands_topic(COLLEGE)) == before

        # The example producer, run with the chamber's credentials for the college, says so rather than waiting.
        misused = PartnerProducer(kafka_acl_broker.sasl_bootstrap, COLLEGE, "partner.chamber-portal.outcomes",
                                  SCHEMAS, tmp_path / "misused.sqlite3",
                                  **_scram(chamber_user, passwords[chamber_user]))
        try:
            with pytest.raises(TopicAuthorizationFailedError):
                misused.send([{**forged["data"], "expected_version": 2}])
        finally:
            misused.close()
        assert _end_offsets(kafka_acl_broker, commands_topic(COLLEGE)) == before

        # Nor may the chamber's user read the college's answers.
        spy = KafkaConsumer(bootstrap_servers=kafka_acl_broker.sasl_bootstrap, group_id="partner.chamber-portal.x",
                            enable_auto_commit=False, auto_offset_reset="earliest",
                            **_scram(chamber_user, passwords[chamber_user]))
        try:
            spy.assign([TopicPartition(outcomes_topic(COLLEGE), 0)])
            with pytest.raises(TopicAuthorizationFailedError):
                for _ in range(20):
                    spy.poll(timeout_ms=500)
        finally:
            spy.close()

        wait_until(lambda: _end_offsets(kafka_acl_broker, outcomes_topic(CHAMBER)) >= 1, 60,
                   "the chamber's own record answered")
        answers = _answers(kafka_acl_broker, outcomes_topic(CHAMBER))
        assert [a["data"]["status"] for a in answers] == ["refused"]
        assert "Only the lead partner (worcester-college)" in answers[0]["data"]["problem"]["detail"]
        rows = _progress_rows(h, academy)
        assert [(r["version"], json.loads(r["reported_values"])) for r in rows] == [(2, {"jobs": "150"})]
        assert _version(h, academy) == 2 and _version(h, retail) == 1


def _answers(broker: KafkaBroker, topic: str) -> list[dict[str, Any]]:
    consumer = KafkaConsumer(topic, bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=3000)
    try:
        return [json.loads(record.value) for record in consumer]
    finally:
        consumer.close()
