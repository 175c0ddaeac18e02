"""The projects worker consumes partners' inbound topics as its own Kafka user, with the grants deploy/k8s gives it
(``kafka-users.yaml``: the ``partner.`` prefix), on a broker that authenticates with SCRAM-SHA-512 and enforces ACLs:
the college's system sends a report as its user, the projects service (every one of its Kafka clients as the
``projects`` user) applies it and answers, and the college reads the answer. A grant missing from the manifest would
fail here, not first on the cluster."""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from examples.partner_producer.producer import PartnerProducer
from services.partners.inbound import commands_topic, outcomes_topic
from services.partners.kafka_users import kafka_users, user_name
from services.runtime import partner_topics
from shared.auth import ClientRegistry
from shared.transport.kafka import KafkaTransport
from tests.harness import running_system, settings_for
from tests.integration.test_partner_inbound import CHAMBER, COLLEGE, _version, clients_file
from tests.integration.test_projects_api import TaskingPartner, manager, project_body
from tools.kafka_acls import apply_users
from tools.realservers import KafkaBroker

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "contracts" / "commands"


class _OperatorSide:
    """The harness's system, publishing as the broker's operator: the tasking service's events are not the
    projects user's to write (its grants say so), so the test writes them as tasking would."""

    def __init__(self, system: Any, transport: KafkaTransport) -> None:
        self._system = system
        self.transport = transport

    def __getattr__(self, name: str) -> Any:
        return getattr(self._system, name)


def test_the_projects_worker_answers_a_partner_with_the_grants_the_manifests_give_it(
        tmp_path: Path, postgres_url: str, kafka_acl_broker: KafkaBroker) -> None:
    clients = clients_file(tmp_path)
    registry = ClientRegistry.from_file(clients, known_topics=partner_topics(), secrets_needed=False)
    services = [u for u in yaml.safe_load_all((ROOT / "deploy" / "k8s" / "base" / "kafka-users.yaml").read_text())
                if u and u["metadata"]["name"] == "projects"]
    users = [*services, *kafka_users(registry, "partnership", partner_topics())]
    passwords = {str(u["metadata"]["name"]): secrets.token_urlsafe(24) for u in users}
    admin = KafkaAdminClient(bootstrap_servers=kafka_acl_broker.bootstrap)
    try:
        apply_users(admin, users, passwords)
        # Topics are the Topic Operator's to create on the cluster (nobody else may): the operator creates them.
        admin.create_topics([NewTopic(t, 3, 1) for t in (
            "projects.events", "projects.dlq", "tasking.events",
            *(name(org) for org in (COLLEGE, CHAMBER) for name in (commands_topic, outcomes_topic)))])
    finally:
        admin.close()

    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_acl_broker.sasl_bootstrap,
                            partner_clients_file=clients, topic_prefix="", kafka_security_protocol="SASL_PLAINTEXT",
                            kafka_sasl_mechanism="SCRAM-SHA-512", kafka_username="projects",
                            kafka_password=passwords["projects"])
    operator = KafkaTransport(kafka_acl_broker.bootstrap)
    try:
        with running_system(settings, services=("projects",)) as h:
            tasking = TaskingPartner(h)
            tasking.system = _OperatorSide(h.system, operator)  # type: ignore[assignment]
            tasking_id = tasking.accepted_tasking()
            opened = h.client.post("/projects/projects", json=project_body(tasking_id), headers=manager(h))
            assert opened.status_code == 201, opened.text
            academy = opened.json()["id"]

            college_user = user_name("college-mis")
            college = PartnerProducer(kafka_acl_broker.sasl_bootstrap, COLLEGE, "partner.college-mis.outcomes",
                                      SCHEMAS, tmp_path / "sent.sqlite3", security_protocol="SASL_PLAINTEXT",
                                      sasl_mechanism="SCRAM-SHA-512", sasl_plain_username=college_user,
                                      sasl_plain_password=passwords[college_user])
            try:
                [sent] = college.send([{"project_id": academy, "reported_on": "2013-04-01",
                                        "values": {"jobs": "150"}, "narrative": "Cohort 1 placed",
                                        "expected_version": 1}])
                assert college.wait_for_answers(60)
            finally:
                college.close()
            with sqlite3.connect(tmp_path / "sent.sqlite3") as db:
                assert db.execute("SELECT command_id, status, version FROM sent").fetchall() == [
                    (sent, "accepted", 2)]
            assert _version(h, academy) == 2
    finally:
        operator.close()
