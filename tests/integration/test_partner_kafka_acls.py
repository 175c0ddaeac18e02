"""A partner's grants hold on a broker that enforces them: the KafkaUsers ``partnership partners kafka-users``
generates from the partner clients file, applied as Strimzi's User Operator would (``tools.kafka_acls``) to a
broker authenticating with SCRAM-SHA-512 and authorizing with KRaft's StandardAuthorizer (as deploy/k8s configures
the cluster). Each partner's user reads what it is granted and nothing else, writes nothing it is not granted, and
another organisation's user cannot write an organisation's inbound topic (``partner.<organisation>.commands``)."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    NewTopic,
    ResourcePatternFilter,
    ResourceType,
)
from kafka.errors import (
    GroupAuthorizationFailedError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from services.partners.inbound import commands_topic, outcomes_topic
from services.partners.kafka_users import kafka_users, user_name
from services.runtime import partner_topics
from shared.auth import ClientRegistry
from tools.kafka_acls import acl_bindings, apply_users
from tools.realservers import KafkaBroker

pytestmark = pytest.mark.integration

CLIENTS = """clients:
  - client_id: college
    organisation: worcester-college
    topics: [projects.events]
    commands: [projects.ReportProgress.v1]
  - client_id: police-rms
    organisation: west-mercia-police
    topics: [tasking.events]
    commands: [projects.ReportProgress.v1]
  - client_id: college-reader
    organisation: worcester-college
    topics: [projects.events]
"""
COLLEGE, POLICE = "worcester-college", "west-mercia-police"


class Grants:
    def __init__(self, broker: KafkaBroker, users: list[dict[str, Any]], passwords: dict[str, str]) -> None:
        self.broker, self.users, self.passwords = broker, users, passwords

    def config(self, client_id: str, password: str | None = None) -> dict[str, Any]:
        name = user_name(client_id)
        return {"bootstrap_servers": self.broker.sasl_bootstrap, "security_protocol": "SASL_PLAINTEXT",
                "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": name,
                "sasl_plain_password": password if password is not None else self.passwords[name]}

    def producer(self, client_id: str, password: str | None = None) -> KafkaProducer:
        return KafkaProducer(**self.config(client_id, password), max_block_ms=8000, request_timeout_ms=8000,
                             retries=0)

    def read(self, client_id: str, topic: str, group: str) -> list[bytes]:
        """Every record of ``topic``'s partition 0, read as ``client_id`` under consumer group ``group`` (its offset
        committed, as a partner's consumer does); the broker's refusal raised."""
        consumer = KafkaConsumer(**self.config(client_id), group_id=group, auto_offset_reset="earliest",
                                 enable_auto_commit=False)
        try:
            partition = TopicPartition(topic, 0)
            consumer.assign([partition])
            values: list[bytes] = []
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:
                for records in consumer.poll(timeout_ms=500).values():
                    values.extend(record.value for record in records)
                if values:
                    break
            consumer.commit()
            return values
        finally:
            consumer.close()


@pytest.fixture(scope="module")
def grants(kafka_acl_broker: KafkaBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Grants]:
    path: Path = tmp_path_factory.mktemp("clients") / "partner-clients.yaml"
    path.write_text(CLIENTS)
    known = partner_topics()
    registry = ClientRegistry.from_file(path, known_topics=known, secrets_needed=False)
    users = kafka_users(registry, "partnership", known)
    # Generated here, as Strimzi generates each user's password into its Secret: none is written anywhere.
    passwords = {str(user["metadata"]["name"]): secrets.token_urlsafe(24) for user in users}
    admin = KafkaAdminClient(bootstrap_servers=kafka_acl_broker.bootstrap)
    try:
        topics = ["projects.events", "tasking.events",
                  *(t(org) for org in (COLLEGE, POLICE) for t in (commands_topic, outcomes_topic))]
        admin.create_topics([NewTopic(t, 1, 1) for t in topics])
        apply_users(admin, users, passwords)
    finally:
        admin.close()
    operator = KafkaProducer(bootstrap_servers=kafka_acl_broker.bootstrap)
    operator.send("projects.events", b"a projects event").get(10)
    operator.send("tasking.events", b"a tasking event").get(10)
    operator.send(outcomes_topic(COLLEGE), b"an answer to the college").get(10)
    operator.close()
    yield Grants(kafka_acl_broker, users, passwords)


def _group(client_id: str) -> str:
    return f"partner.{client_id}.{uuid.uuid4().hex[:8]}"


def test_the_generated_acls_are_the_broker_acls(grants: Grants) -> None:
    admin = KafkaAdminClient(bootstrap_servers=grants.broker.bootstrap)
    try:
        found, _error = admin.describe_acls(ACLFilter(
            principal=None, host="*", operation=ACLOperation.ANY, permission_type=ACLPermissionType.ANY,
            resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)))
    finally:
        admin.close()
    def key(acl: ACL) -> tuple[str, str, int, int, str, int]:
        pattern = acl.resource_pattern
        return (acl.principal, acl.host, acl.operation, acl.permission_type, pattern.resource_name,
                pattern.pattern_type)

    assert {key(a) for a in found} == {key(a) for user in grants.users for a in acl_bindings(user)}


def test_a_partner_reads_its_granted_topic_under_its_groups(grants: Grants) -> None:
    assert grants.read("college", "projects.events", _group("college")) == [b"a projects event"]


def test_a_partner_reads_no_topic_it_is_not_granted(grants: Grants) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        grants.read("college", "tasking.events", _group("college"))


def test_a_partner_uses_no_consumer_group_but_its_own(grants: Grants) -> None:
    # police-rms's prefix, and a service's group: neither is the college's.
    for group in (_group("police-rms"), "projects-projection"):
        with pytest.raises(GroupAuthorizationFailedError):
            grants.read("college", "projects.events", group)


def test_a_partner_writes_no_topic_it_only_reads(grants: Grants) -> None:
    producer = grants.producer("college")
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            producer.send("projects.events", b"forged").get(10)
    finally:
        producer.close(timeout=5)


def _end_offset(grants: Grants, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=grants.broker.bootstrap)
    try:
        partition = TopicPartition(topic, 0)
        return int(consumer.end_offsets([partition])[partition])
    finally:
        consumer.close()


def test_an_organisations_sender_writes_its_inbound_topic_and_reads_its_outcomes(grants: Grants) -> None:
    before = _end_offset(grants, commands_topic(COLLEGE))
    producer = grants.producer("college")
    try:
        producer.send(commands_topic(COLLEGE), b'{"specversion":"1.0"}').get(10)
    finally:
        producer.close(timeout=5)
    assert _end_offset(grants, commands_topic(COLLEGE)) == before + 1
    assert grants.read("college", outcomes_topic(COLLEGE), _group("college")) == [b"an answer to the college"]
    # Write-only: what else the inbound topic holds is not the sender's to read, nor another organisation's
    # answers.
    for topic in (commands_topic(COLLEGE), outcomes_topic(POLICE)):
        with pytest.raises(TopicAuthorizationFailedError):
            grants.read("college", topic, _group("college"))


def test_another_organisations_user_cannot_write_an_organisations_inbound_topic(grants: Grants) -> None:
    # Each of the two senders may write its own organisation's topic, and neither the other's; nor may a client of
    # the same organisation that is granted no command.
    before = {org: _end_offset(grants, commands_topic(org)) for org in (COLLEGE, POLICE)}
    for client_id, organisation in (("police-rms", COLLEGE), ("college", POLICE), ("college-reader", COLLEGE)):
        producer = grants.producer(client_id)
        try:
            with pytest.raises(TopicAuthorizationFailedError):
                producer.send(commands_topic(organisation), b'{"specversion":"1.0"}').get(10)
        finally:
            producer.close(timeout=5)
    assert {org: _end_offset(grants, commands_topic(org)) for org in (COLLEGE, POLICE)} == before


def test_a_wrong_password_is_refused(grants: Grants) -> None:
    def refusals() -> int:
        text = grants.broker.log_file.read_text(errors="replace") if grants.broker.log_file.exists() else ""
        return text.count("invalid credentials with SASL mechanism SCRAM-SHA-512")

    before = refusals()
    with pytest.raises(KafkaError):  # the client only sees that it cannot bootstrap
        admin = KafkaAdminClient(**grants.config("college", password=secrets.token_urlsafe(24)),
                                 bootstrap_timeout_ms=5000, request_timeout_ms=5000)
        admin.close()
    assert refusals() > before  # the broker says why: the credentials
