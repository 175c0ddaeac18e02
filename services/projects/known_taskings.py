"""Delivery's copy of upstream taskings: what ``tasking.events`` said of each tasking (its district, lead partner,
share and status), in the projects service's own database: the lookup a command needs to open a project against an
accepted tasking. A copy of upstream facts, not a decision of this context, so a table (exactly once per (tasking
id, version) by the consumer runner's ``seen_events``), not events re-published on ``projects.events``."""

from __future__ import annotations

import json
import logging
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from services.projects.domain import KnownTasking
from shared.contracts.tasking import (
    ShareProfiled,
    TaskingAccepted,
    TaskingCompleted,
    TaskingDeclined,
    TaskingDeliveryStarted,
    TaskingIssued,
    TaskingRetasked,
    TaskingWithdrawn,
)
from shared.envelope import Envelope
from shared.readstore import ReadStore, Tx

log = logging.getLogger(__name__)

KNOWN_TASKINGS_DDL = [
    "CREATE TABLE IF NOT EXISTS known_taskings ("
    " id TEXT PRIMARY KEY, version INTEGER NOT NULL, target_id TEXT NOT NULL, theme_group TEXT NOT NULL,"
    " district TEXT NOT NULL, lead_partner TEXT NOT NULL, share TEXT NOT NULL, unit TEXT NOT NULL,"
    " deadline TEXT NOT NULL, status TEXT NOT NULL)",
    # A table of its own (not a column), so that a copy made before it keeps working: each share's profile as
    # tasking last said it (ShareProfiled), for a project opened after it to take into account.
    "CREATE TABLE IF NOT EXISTS known_share_profiles ("
    " id TEXT PRIMARY KEY, version INTEGER NOT NULL, share TEXT NOT NULL, profile TEXT NOT NULL)",
]


class KnownTaskings:
    """The taskings delivery has learnt of, in the projects service's own database."""

    def __init__(self, store: ReadStore) -> None:
        self.store = store
        store.migrate(KNOWN_TASKINGS_DDL)

    def get(self, tasking_id: UUID) -> KnownTasking | None:
        rows = self.store.query("SELECT * FROM known_taskings WHERE id = ?", [str(tasking_id)])
        return _known(rows[0]) if rows else None

    def in_district(self, district: str) -> list[KnownTasking]:
        rows = self.store.query("SELECT * FROM known_taskings WHERE district = ? ORDER BY id", [district])
        return [_known(r) for r in rows]

    def share_profile(self, tasking_id: UUID) -> tuple[int, Decimal, tuple[tuple[date, Decimal], ...]] | None:
        """The share's profile as tasking last said it: (tasking version, share, points); None: never profiled."""
        rows = self.store.query("SELECT * FROM known_share_profiles WHERE id = ?", [str(tasking_id)])
        if not rows:
            return None
        points = tuple((date.fromisoformat(d), Decimal(v)) for d, v in json.loads(rows[0]["profile"]))
        return int(rows[0]["version"]), Decimal(rows[0]["share"]), points

    def apply(self, tx: Tx, envelope: Envelope) -> None:
        """The ConsumerRunner's handler: one tasking event into the table (inside the runner's transaction)."""
        fact = envelope.fact()
        tasking_id = envelope.subject
        if isinstance(fact, ShareProfiled):
            tx.execute(
                "INSERT INTO known_share_profiles (id, version, share, profile) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET version = excluded.version, share = excluded.share,"
                " profile = excluded.profile WHERE known_share_profiles.version < excluded.version",
                (tasking_id, envelope.sequence, str(fact.share),
                 json.dumps([[p.on.isoformat(), str(p.value)] for p in fact.profile])))
        if isinstance(fact, TaskingIssued):
            tx.execute(
                "INSERT INTO known_taskings (id, version, target_id, theme_group, district, lead_partner, share,"
                " unit, deadline, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'issued') ON CONFLICT (id) DO NOTHING",
                (tasking_id, envelope.sequence, str(fact.target_id), fact.theme_group, fact.district,
                 fact.lead_partner, str(fact.share), fact.unit, fact.deadline.isoformat()),
            )
            return
        status = {TaskingAccepted: "accepted", TaskingDeliveryStarted: "in_delivery", TaskingDeclined: "declined",
                  TaskingWithdrawn: "withdrawn", TaskingCompleted: "completed"}.get(type(fact))
        if status is not None:
            changed = tx.execute("UPDATE known_taskings SET status = ?, version = ? WHERE id = ? AND version < ?",
                                 (status, envelope.sequence, tasking_id, envelope.sequence))
        elif isinstance(fact, TaskingRetasked):
            # What the retasking leaves is tasking's to say (issued again when moved to another district).
            changed = tx.execute(
                "UPDATE known_taskings SET district = ?, lead_partner = ?, share = ?, deadline = ?, version = ?,"
                " status = CASE WHEN ? THEN 'issued' ELSE status END WHERE id = ? AND version < ?",
                (fact.district, fact.lead_partner, str(fact.share), fact.deadline.isoformat(), envelope.sequence,
                 fact.issued_again, tasking_id, envelope.sequence),
            )
        else:
            # Other tasking events only move the version delivery knows.
            tx.execute("UPDATE known_taskings SET version = ? WHERE id = ? AND version < ?",
                       (envelope.sequence, tasking_id, envelope.sequence))
            return
        if changed == 0:
            log.warning("tasking event for a tasking not known here (or older than known)",
                        extra={"tasking": tasking_id, "version": envelope.sequence, "type": envelope.type})


def _known(row: dict[str, Any]) -> KnownTasking:
    return KnownTasking(id=UUID(row["id"]), version=int(row["version"]), target_id=UUID(row["target_id"]),
                        district=row["district"], lead_partner=row["lead_partner"], share=Decimal(row["share"]),
                        unit=row["unit"], deadline=date.fromisoformat(row["deadline"]), status=row["status"])
