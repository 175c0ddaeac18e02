"""The official CloudEvents SDKs, as partners would use them, read every record of every topic of an integration run
(the seed's worked example through all three services, real Kafka): the Java SDK's Kafka binding
(``io.cloudevents:cloudevents-kafka``, Maven Central) and the Python SDK's (``cloudevents``, PyPI). Neither is ours;
``tools/judges`` only hands them the records."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka_event
from jsonschema import Draft202012Validator
from kafka import KafkaConsumer, TopicPartition

from examples.partner_consumer.consumer import Schemas
from shared.contracts import CONTRACT_RELEASE, is_released
from shared.envelope import SEQUENCE_AS_STRING_IN_RELEASE, Envelope, decode, schema_uri
from tests.harness import running_system, settings_for, wait_until
from tools.judges import read_topics_command

SERVICES_TOPICS = ("priorities.events", "tasking.events", "projects.events")
CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]

    @property
    def ours(self) -> Envelope:
        return decode(self.value)


@dataclass(frozen=True)
class Run:
    bootstrap: str
    topics: list[str]
    records: dict[tuple[str, int, int], Record]


def _every_record(bootstrap: str, topics: list[str]) -> dict[tuple[str, int, int], Record]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    found: dict[tuple[str, int, int], Record] = {}
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        while any(consumer.position(p) < ends[p] for p in partitions):
            for batch in consumer.poll(timeout_ms=500).values():
                for r in batch:
                    found[(r.topic, r.partition, r.offset)] = Record(
                        r.topic, r.partition, r.offset, r.key, r.value, {k: v for k, v in r.headers or ()})
    finally:
        consumer.close()
    return found


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str) -> Iterator[Run]:
    settings = settings_for(data_dir=tmp_path_factory.mktemp("judged"), kafka=kafka_bootstrap)
    with running_system(settings) as h:
        assert h.system.load_demo_data(timeout=120)
        wait_until(lambda: all(relay.backlog() == 0 for relay in h.system.relays), timeout=60,
                   what="every stored event published")
        topics = [settings.topic(name) for name in SERVICES_TOPICS]
        records = _every_record(kafka_bootstrap, topics)
    assert {topic for topic, _, _ in records} == set(topics)
    assert len(records) > 50
    yield Run(kafka_bootstrap, topics, records)


def _sequence_as_published(version: int) -> Any:
    # From contract release 2 the Sequence extension's string, zero-padded to 20 digits (release 1: an integer).
    return f"{version:020d}" if CONTRACT_RELEASE >= SEQUENCE_AS_STRING_IN_RELEASE else version


def test_every_record_is_in_the_kafka_bindings_structured_mode(run: Run) -> None:
    for record in run.records.values():
        assert record.headers.get("content-type") == b"application/cloudevents+json"
        assert not any(name.startswith("ce_") for name in record.headers)


def test_the_cloudevents_java_sdk_reads_every_record_of_every_topic(run: Run) -> None:
    result = subprocess.run(read_topics_command(run.bootstrap, run.topics), capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    judged = {(line["topic"], line["partition"], line["offset"]): line for line in lines}
    assert judged.keys() == run.records.keys()
    refused = [line for line in lines if not line["ok"]]
    assert not refused, refused[:3]
    for position, line in judged.items():
        ours = run.records[position].ours
        assert (line["specversion"], line["id"], line["type"], line["subject"]) == ("1.0", ours.id, ours.type,
                                                                                   ours.subject)
        assert line["source"] == ours.source and line["datacontenttype"] == "application/json"
        assert line["dataschema"] == schema_uri(ours.type)
        assert line["data"] == ours.data
        sequence = line["extensions"]["sequence"]
        expected = _sequence_as_published(ours.sequence)
        assert sequence == {"value": str(expected), "javatype": "Integer" if isinstance(expected, int) else "String"}
        assert line["extensions"]["correlationid"]["value"] == ours.correlationid


def test_the_cloudevents_python_sdk_reads_every_record_of_every_topic(run: Run) -> None:
    for record in run.records.values():
        event = from_kafka_event(KafkaMessage(headers=record.headers, key=record.key, value=record.value))
        ours = record.ours
        assert (event.get_specversion(), event.get_id(), event.get_type(), event.get_subject()) == (
            "1.0", ours.id, ours.type, ours.subject)
        assert event.get_source() == ours.source and event.get_dataschema() == schema_uri(ours.type)
        assert event.get_datacontenttype() == "application/json" and event.get_data() == ours.data
        assert event.get_extension("sequence") == _sequence_as_published(ours.sequence)
        assert event.get_extension("partitionkey") == ours.subject  # the SDK's name for the record key


def test_the_example_partner_consumer_validates_every_record_against_the_published_schemas_with_formats(
        run: Run) -> None:
    """Released types against contracts/events; this run (a pre-release environment) also carries unreleased ones,
    which are checked against the schemas they will be published with (contracts/unreleased/events)."""
    released, unreleased = Schemas(CONTRACTS / "events"), Schemas(CONTRACTS / "unreleased" / "events")
    for record in run.records.values():
        message = json.loads(record.value)
        schemas = released if is_released(message["type"]) else unreleased
        schemas.validate(message)  # raises on the first that does not fit


def _closed(schema: Any) -> Any:
    """The schema with every object closed (``additionalProperties: false``): what we publish, exactly."""
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: _closed(value) for key, value in schema.items()}
    if "properties" in closed:
        closed.setdefault("additionalProperties", False)
    return closed


def test_we_publish_no_field_that_the_schemas_do_not_declare(run: Run) -> None:
    """The published schemas stay open to additions for partners; what we send has nothing undeclared in it."""
    validators: dict[str, Draft202012Validator] = {}
    for record in run.records.values():
        message = json.loads(record.value)
        folder = CONTRACTS / "events" if is_released(message["type"]) else CONTRACTS / "unreleased" / "events"
        validator = validators.get(message["type"])
        if validator is None:
            schema = _closed(json.loads((folder / f"{message['type']}.schema.json").read_text()))
            validator = validators[message["type"]] = Draft202012Validator(schema)
        errors = [error.message for error in validator.iter_errors(message["data"])]
        assert not errors, (message["type"], errors[:3])
        assert not validator.is_valid({**message["data"], "undeclared": 1})  # the closed schema does refuse one
