"""An example partner consumer: follows ``projects.events`` with a Kafka consumer group, validates every message
against the published JSON Schemas (``contracts/events``) and keeps a local SQLite table of projects up to date.

It uses only what a partner organisation has: kafka-python, jsonschema and the published contracts; nothing of the
partnership's own code. Run it with::

    python -m examples.partner_consumer.consumer --bootstrap kafka:9092 --group partner.college-mis.projects \
        --topic projects.events --schemas contracts/events --database projects.sqlite3

Delivery is at least once (a message may come twice after a crash or a rebalance); the table stays right because
each (aggregate id, version) is applied once, recorded in the same SQLite transaction as the change, and the
offsets are committed to Kafka only after that transaction.
"""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from kafka import KafkaConsumer

log = logging.getLogger("partner_consumer")
FORMATS = Draft202012Validator.FORMAT_CHECKER  # formats are checked, not only noted (dates, UUIDs, date-times, URIs)

ENVELOPE = {
    "type": "object",
    "required": ["specversion", "id", "source", "type", "subject", "time", "sequence", "data"],
    "properties": {"specversion": {"const": "1.0"}, "type": {"type": "string"},
                   "subject": {"type": "string", "format": "uuid"}, "time": {"type": "string", "format": "date-time"},
                   "dataschema": {"type": "string", "format": "uri"},
                   # an integer until contract release 2, then the Sequence extension's string of 20 digits
                   "sequence": {"anyOf": [{"type": "integer", "minimum": 1},
                                          {"type": "string", "pattern": "^[0-9]{20}$"}]},
                   "data": {"type": "object"}},
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (
    project_id TEXT PRIMARY KEY, version INTEGER NOT NULL, district TEXT, title TEXT, lead_partner TEXT,
    status TEXT NOT NULL DEFAULT 'open', rag TEXT, shortfall_percent TEXT, last_reported_on TEXT
);
CREATE TABLE IF NOT EXISTS applied (subject TEXT NOT NULL, sequence INTEGER NOT NULL, PRIMARY KEY (subject, sequence));
CREATE TABLE IF NOT EXISTS rejected (
    topic TEXT, partition INTEGER, "offset" INTEGER, reason TEXT, PRIMARY KEY (topic, partition, "offset")
);
"""


class Schemas:
    """The published JSON Schema of each event type, by CloudEvent type (``<service>.<Event>.v<n>``)."""

    def __init__(self, folder: Path) -> None:
        self._validators = {
            path.name.removesuffix(".schema.json"): Draft202012Validator(json.loads(path.read_text()),
                                                                          format_checker=FORMATS)
            for path in folder.glob("*.schema.json")
        }
        self._envelope = Draft202012Validator(ENVELOPE, format_checker=FORMATS)

    def validate(self, message: Any) -> None:
        """Raise ValidationError unless the message is a CloudEvent whose data fits its type's published schema."""
        self._envelope.validate(message)
        validator = self._validators.get(message["type"])
        if validator is None:
            raise ValidationError(f"no published schema for {message['type']}")
        validator.validate(message["data"])


def _name(event_type: str) -> str:
    """``projects.ProgressReported.v1`` -> ``ProgressReported``: the table does not care which version it came in."""
    return event_type.split(".")[1]


Handler = Callable[[sqlite3.Connection, dict[str, Any]], None]


def _opened(db: sqlite3.Connection, message: dict[str, Any]) -> None:
    data = message["data"]
    db.execute("INSERT OR REPLACE INTO projects (project_id, version, district, title, lead_partner) "
               "VALUES (?, ?, ?, ?, ?)", (message["subject"], message["sequence"], data["district"], data["title"],
                                          data["lead_partner"]))


def _progress(db: sqlite3.Connection, message: dict[str, Any]) -> None:
    data = message["data"]
    db.execute("UPDATE projects SET version = ?, rag = ?, shortfall_percent = ?, last_reported_on = ? "
               "WHERE project_id = ?", (message["sequence"], data["rag"], str(data["shortfall_percent"]),
                                        data["reported_on"], message["subject"]))


def _rag(db: sqlite3.Connection, message: dict[str, Any]) -> None:
    db.execute("UPDATE projects SET version = ?, rag = ? WHERE project_id = ?",
               (message["sequence"], message["data"]["rag"], message["subject"]))


def _status(status: str) -> Handler:
    def handle(db: sqlite3.Connection, message: dict[str, Any]) -> None:
        db.execute("UPDATE projects SET version = ?, status = ? WHERE project_id = ?",
                   (message["sequence"], status, message["subject"]))
    return handle


def _version_only(db: sqlite3.Connection, message: dict[str, Any]) -> None:
    db.execute("UPDATE projects SET version = ? WHERE project_id = ?", (message["sequence"], message["subject"]))


HANDLERS: dict[str, Handler] = {
    "ProjectOpened": _opened, "ProgressReported": _progress, "RagOverridden": _rag,
    "ProjectDeferred": _status("deferred"), "ProjectResumed": _status("open"), "ProjectClosed": _status("closed"),
}


class PartnerConsumer:
    """One member of a consumer group following a topic into a local SQLite table."""

    def __init__(self, bootstrap: str, topic: str, group: str, schemas: Path, database: Path,
                 **kafka_config: Any) -> None:
        self.topic = topic
        self.schemas = Schemas(schemas)
        self.db = sqlite3.connect(database)
        self.db.executescript(SCHEMA)
        self.consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                      auto_offset_reset="earliest", **kafka_config)

    def poll(self, timeout_ms: int = 500) -> int:
        """Apply one batch of messages; returns how many were applied (invalid ones are recorded as rejected)."""
        batches = self.consumer.poll(timeout_ms=timeout_ms)
        applied = 0
        with self.db:  # one SQLite transaction per batch
            for records in batches.values():
                for record in records:
                    applied += self._apply(record)
        if batches:
            self.consumer.commit()  # only after the table and the applied marks are committed
        return applied

    def _apply(self, record: Any) -> int:
        try:
            message = json.loads(record.value)
            self.schemas.validate(message)
            message["sequence"] = int(message["sequence"])
        except (ValueError, ValidationError) as error:
            reason = error.message if isinstance(error, ValidationError) else f"not JSON: {error}"
            log.warning("rejected message", extra={"offset": record.offset, "reason": reason})
            self.db.execute('INSERT OR IGNORE INTO rejected (topic, partition, "offset", reason) VALUES (?, ?, ?, ?)',
                            (record.topic, record.partition, record.offset, reason))
            return 0
        seen = self.db.execute("INSERT OR IGNORE INTO applied (subject, sequence) VALUES (?, ?)",
                               (message["subject"], message["sequence"]))
        if seen.rowcount == 0:
            return 0  # delivered again: already in the table
        handler = HANDLERS.get(_name(message["type"]), _version_only)
        handler(self.db, message)
        return 1

    def run(self) -> None:
        while True:
            self.poll()

    def close(self) -> None:
        self.consumer.close()
        self.db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", default="projects.events")
    parser.add_argument("--group", required=True, help="consumer group id, e.g. partner.<client id>.projects")
    parser.add_argument("--schemas", type=Path, default=Path("contracts/events"))
    parser.add_argument("--database", type=Path, default=Path("projects.sqlite3"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    consumer = PartnerConsumer(args.bootstrap, args.topic, args.group, args.schemas, args.database)
    try:
        consumer.run()
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()


if __name__ == "__main__":
    main()
