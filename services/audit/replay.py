"""Rebuild the reporting read models as of a time into a fresh store, and answer GraphQL from it.

The events come from the services' own (verifiable) stores, up to and including ``until``; they are published into
a fresh embedded log and applied by the reporting service's own projection and consumer runner, exactly as the
running system applies them from Kafka.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from services.audit.auditor import Auditor
from services.reporting.graphql import schema
from services.reporting.projections import ReportingProjection, read_model_ddl
from services.reporting.readmodel import ReportingReadModel
from shared.audit.people import vault_for
from shared.auth import Grant, Principal, Role
from shared.consumer import ConsumerRunner
from shared.envelope import encode, wrap
from shared.readstore import ReadStore
from shared.settings import Persistence, Settings
from shared.transport.embedded import EmbeddedTransport


def replay_until(auditor: Auditor, until: datetime, query: str, variables: dict[str, Any] | None = None,
                 progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """The GraphQL answer to ``query`` from read models rebuilt from every event recorded up to ``until``."""
    at = until.replace(tzinfo=UTC) if until.tzinfo is None else until
    settings = auditor.settings
    with tempfile.TemporaryDirectory(prefix="partnership-replay-") as tmp:
        prefix = f"{settings.schema_prefix}replay{uuid.uuid4().hex[:8]}_"
        fresh = Settings(**{**settings.model_dump(), "data_dir": Path(tmp), "schema_prefix": prefix,
                            "kafka_bootstrap_servers": None})
        transport = EmbeddedTransport(Path(tmp) / "replay-log.sqlite3")
        store = ReadStore(fresh, "reporting")
        try:
            model = ReportingReadModel(store, read_model_ddl(), people=vault_for(auditor.settings))
            projection = ReportingProjection()
            for name, service_log in auditor.logs.items():
                topic = f"{name}.events"
                transport.ensure_topic(topic, 3)
                publisher = transport.publisher()
                published = 0
                for notification in service_log.notifications():
                    event: Any = service_log.mapper.to_published_event(notification)
                    stamp = event.timestamp if event.timestamp.tzinfo else event.timestamp.replace(tzinfo=UTC)
                    if stamp > at:
                        continue
                    envelope = wrap(event, source=f"/services/{name}")
                    publisher.publish(topic, envelope.subject, encode(envelope))
                    published += 1
                publisher.flush()
                publisher.close()
                runner = ConsumerRunner("reporting", store, transport, topic, projection,
                                        dead_letter_topic="reporting.dlq", batch_size=500)
                consumed = 0
                while consumed < published:
                    batch = runner.process_batch(timeout=0.05)
                    consumed += batch
                    if progress is not None and batch:
                        progress(batch)
                runner.close()
            principal = Principal(user_id="audit-replay", organisation="audit", grants=frozenset({Grant(Role.AUDITOR)}))
            result = schema.execute_sync(query, variable_values=variables,
                                         context_value={"model": model, "principal": principal})
            answer: dict[str, Any] = {"data": result.data}
            if result.errors:
                answer["errors"] = [error.message for error in result.errors]
            return answer
        finally:
            store.close()
            transport.close()
            if fresh.persistence is Persistence.POSTGRES and fresh.database_url:
                with psycopg.connect(fresh.database_url, autocommit=True) as conn:
                    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(f"{prefix}reporting")))
