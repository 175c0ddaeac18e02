"""Refused progress reports: each report (or correction) refused as bad data, with its problems, kept per project so
a programme manager sees whose figures needed correcting (``GET /projects/{id}/progress/refusals``). A refusal
changes no project (the aggregate stays as it was): this is a log beside the event store, in the service's own
database, naming the organisation and role that sent it, never the person."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from shared.contracts import Actor
from shared.readstore import ReadStore

REFUSALS_DDL = [
    "CREATE TABLE IF NOT EXISTS progress_refusals ("
    " project_id TEXT NOT NULL, refused_at TEXT NOT NULL, command TEXT NOT NULL, reported_on TEXT,"
    " organisation TEXT NOT NULL, role TEXT NOT NULL, problems TEXT NOT NULL)",
]


class Refusals:
    def __init__(self, store: ReadStore) -> None:
        self.store = store
        store.migrate(REFUSALS_DDL)

    def record(self, project_id: UUID, command: str, reported_on: date | None, actor: Actor,
               problems: list[dict[str, str]]) -> None:
        with self.store.transaction() as tx:
            tx.execute("INSERT INTO progress_refusals (project_id, refused_at, command, reported_on, organisation,"
                       " role, problems) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (str(project_id), datetime.now(UTC).isoformat(), command,
                        reported_on.isoformat() if reported_on else None, actor.organisation, actor.role,
                        json.dumps(problems, sort_keys=True)))

    def of(self, project_id: UUID) -> list[dict[str, Any]]:
        rows = self.store.query("SELECT * FROM progress_refusals WHERE project_id = ? ORDER BY refused_at",
                                [str(project_id)])
        return [{**r, "problems": json.loads(r["problems"])} for r in rows]
