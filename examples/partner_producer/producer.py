"""An example partner producer: sends progress reports on the organisation's inbound topic
(``partner.<organisation>.commands``) and reads the answer to each from ``partner.<organisation>.outcomes``.

It uses only what a partner organisation has: kafka-python, jsonschema and the published contracts
(``contracts/commands``); nothing of the partnership's own code. Run it with::

    python -m examples.partner_producer.producer --bootstrap kafka:9094 --organisation worcester-college \
        --group partner.college-mis.outcomes --reports reports.jsonl --database sent.sqlite3

(with ``--username partner-college-mis``, ``PARTNER_KAFKA_PASSWORD`` and ``--cafile`` on the external listener).

Each line of ``--reports`` is one report: ``{"project_id": ..., "reported_on": ..., "values": {...}, "narrative":
..., "expected_version": n}``. Its command id is derived from the line itself, so running the producer again on the
same file (after a crash, say) resends each report under the id it had: the partnership answers it as the first
time and applies it once. The ``sent`` table keeps each command and, once it arrives, its answer (accepted with the
project's new version, or refused with the problem REST would have given).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from kafka import KafkaConsumer, KafkaProducer

log = logging.getLogger("partner_producer")
FORMATS = Draft202012Validator.FORMAT_CHECKER
COMMAND = "projects.ReportProgress.v1"
IDS = uuid.UUID("5f0e7d3c-2b1a-4c9d-8e7f-6a5b4c3d2e1f")  # this system's own namespace for its command ids

SCHEMA = """
CREATE TABLE IF NOT EXISTS sent (
    command_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, report TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'sent', version INTEGER, problem TEXT
);
"""


def command_id(report: dict[str, Any]) -> str:
    """The same report, the same id: a resend is recognised as the command already sent."""
    return str(uuid.uuid5(IDS, json.dumps(report, sort_keys=True, separators=(",", ":"))))


class PartnerProducer:
    """Sends reports as CloudEvents and records the answers, for one organisation."""

    def __init__(self, bootstrap: str, organisation: str, group: str, schemas: Path, database: Path, *,
                 source: str = "/partners/example-producer", topic_prefix: str = "", **kafka_config: Any) -> None:
        self.commands = f"{topic_prefix}partner.{organisation}.commands"
        self.outcomes = f"{topic_prefix}partner.{organisation}.outcomes"
        self.source = source
        self.validator = Draft202012Validator(json.loads((schemas / f"{COMMAND}.schema.json").read_text()),
                                              format_checker=FORMATS)
        self.db = sqlite3.connect(database)
        self.db.executescript(SCHEMA)
        # acks=all: a report counts as sent only once every in-sync replica has it.
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", **kafka_config)
        self.consumer = KafkaConsumer(self.outcomes, bootstrap_servers=bootstrap, group_id=group,
                                      enable_auto_commit=False, auto_offset_reset="earliest", **kafka_config)

    def send(self, reports: Iterable[dict[str, Any]]) -> list[str]:
        """Validate each report against the published schema, then send it keyed by its project (one project's
        reports arrive in order). Returns the command ids; a report that does not validate is not sent."""
        ids: list[str] = []
        pending = []
        for report in reports:
            errors = sorted(e.message for e in self.validator.iter_errors(report))
            if errors:
                log.warning("report not sent: it does not fit the published schema", extra={"errors": errors})
                continue
            identifier = command_id(report)
            record = {"specversion": "1.0", "id": identifier, "source": self.source, "type": COMMAND,
                      "datacontenttype": "application/json", "data": report}
            with self.db:
                self.db.execute("INSERT OR IGNORE INTO sent (command_id, project_id, report) VALUES (?, ?, ?)",
                                (identifier, report["project_id"], json.dumps(report)))
            pending.append(self.producer.send(self.commands, key=str(report["project_id"]).encode(),
                                              value=json.dumps(record).encode(),
                                              headers=[("content-type", b"application/cloudevents+json")]))
            ids.append(identifier)
        self.producer.flush()
        for future in pending:
            # A write the broker refused (a user without the grant: TopicAuthorizationFailedError) raises here,
            # rather than leaving the report waiting for an answer that cannot come; it stays in ``sent`` unanswered
            # and is sent again, under its id, by the next run.
            future.get(timeout=30)
        return ids

    def read_answers(self, timeout_ms: int = 500) -> int:
        """Record the answers that arrived; returns how many commands were answered for the first time. An answer
        may come twice (the same bytes): recorded once. Offsets are committed after the table."""
        batches = self.consumer.poll(timeout_ms=timeout_ms)
        answered = 0
        with self.db:
            for records in batches.values():
                for record in records:
                    answered += self._record(json.loads(record.value))
        if batches:
            self.consumer.commit()
        return answered

    def _record(self, answer: dict[str, Any]) -> int:
        data = answer.get("data") or {}
        identifier = data.get("command_id")
        if identifier is None:
            log.warning("a record that was no command was refused", extra={"origin": data.get("origin")})
            return 0
        if data.get("status") == "accepted":
            changed = self.db.execute("UPDATE sent SET status = 'accepted', version = ? WHERE command_id = ? AND "
                                      "status = 'sent'", (data["record"]["version"], identifier))
        else:
            changed = self.db.execute("UPDATE sent SET status = 'refused', problem = ? WHERE command_id = ? AND "
                                      "status = 'sent'", (json.dumps(data.get("problem")), identifier))
        return changed.rowcount

    def unanswered(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM sent WHERE status = 'sent'").fetchone()[0])

    def wait_for_answers(self, timeout: float = 60.0) -> bool:
        """Read answers until every command sent has one (True), or ``timeout`` seconds pass (False)."""
        deadline = time.monotonic() + timeout
        while self.unanswered():
            if time.monotonic() > deadline:
                return False
            self.read_answers()
        return True

    def close(self) -> None:
        self.producer.close()
        self.consumer.close()
        self.db.close()


def _security(args: argparse.Namespace) -> dict[str, Any]:
    if not args.username:
        return {}
    return {"security_protocol": "SASL_SSL" if args.cafile else "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": args.username, "sasl_plain_password": os.environ["PARTNER_KAFKA_PASSWORD"],
            **({"ssl_cafile": str(args.cafile)} if args.cafile else {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--organisation", required=True, help="your organisation's id, e.g. worcester-college")
    parser.add_argument("--group", required=True, help="consumer group id for the answers: partner.<client id>.*")
    parser.add_argument("--reports", type=Path, required=True, help="one JSON report per line")
    parser.add_argument("--schemas", type=Path, default=Path("contracts/commands"))
    parser.add_argument("--database", type=Path, default=Path("sent.sqlite3"))
    parser.add_argument("--username", help="your Kafka user, partner-<client id> (password: PARTNER_KAFKA_PASSWORD)")
    parser.add_argument("--cafile", type=Path, help="the cluster CA, for the TLS listener")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    reports = [json.loads(line) for line in args.reports.read_text().splitlines() if line.strip()]
    producer = PartnerProducer(args.bootstrap, args.organisation, args.group, args.schemas, args.database,
                               **_security(args))
    try:
        producer.send(reports)
        if not producer.wait_for_answers():
            log.warning("some reports are not answered yet: run again on the same file (each is resent under its id, "
                        "answered as the first time and applied once)")
        for command, status, version, problem in producer.db.execute(
                "SELECT command_id, status, version, problem FROM sent ORDER BY rowid"):
            print(command, status, version if version is not None else json.loads(problem or "null"))
    finally:
        producer.close()


if __name__ == "__main__":
    main()
