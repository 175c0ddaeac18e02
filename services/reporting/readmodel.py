"""The reporting store: the event log (history of every aggregate, and a count of each event type applied) beside
the read models' tables (``services.reporting.registry``), and the handle on it that GraphQL and the packs read."""

from __future__ import annotations

import json
from functools import cached_property
from typing import TYPE_CHECKING, Any

from services.reporting import schema
from services.reporting.rows import Rows
from services.reporting.temporal import as_of_clause, decision_json, sorted_json, timestamp
from shared.audit.people import PeopleVault, vault_for
from shared.contracts import Fact
from shared.envelope import Envelope
from shared.fields import SEALED_PREFIX
from shared.meeting_copy import DDL as COPY_DDL
from shared.partnership import PartnershipDefinition, load, rules
from shared.readstore import ReadStore

if TYPE_CHECKING:
    from services.reporting.provenance import Provenance

__all__ = ["DDL", "ReportingReadModel", "as_of_clause", "log_event", "timestamp"]

DDL = [
    "CREATE TABLE IF NOT EXISTS event_log ("
    " subject TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL, source TEXT NOT NULL,"
    " time TEXT NOT NULL, actor TEXT NOT NULL, actor_organisation TEXT NOT NULL, actor_role TEXT NOT NULL,"
    " correlation_id TEXT NOT NULL, decision TEXT, data TEXT NOT NULL,"
    " PRIMARY KEY (subject, version))",
    "CREATE INDEX IF NOT EXISTS event_log_time ON event_log (time)",
    # A counter, not a set: applying an event twice would show, so it also witnesses exactly-once in effect.
    "CREATE TABLE IF NOT EXISTS event_counts (type TEXT PRIMARY KEY, n INTEGER NOT NULL)",
]


def log_event(into: Rows, envelope: Envelope, fact: Fact) -> None:
    into.insert("event_log", {
        "subject": envelope.subject, "version": envelope.sequence, "type": envelope.type, "source": envelope.source,
        "time": timestamp(envelope.time), "actor": envelope.actor, "actor_organisation": envelope.actororganisation,
        "actor_role": envelope.actorrole, "correlation_id": envelope.correlationid, "decision": decision_json(fact),
        "data": sorted_json(envelope.data)})
    into.count("event_counts", envelope.type)


class ReportingReadModel:
    """The reporting store with every read model's tables."""

    def __init__(self, store: ReadStore, ddl: list[str], people: PeopleVault | None = None) -> None:
        self.store = store
        schema.migrate(store, [*DDL, *ddl])  # refuses a store made by other DDL (a column added: rebuild it)
        store.migrate(COPY_DDL)  # the copy of tasking's meetings decisions are judged on (a consumer of its own)
        # The live projection's change feed (its own tables, outside the read models': a rebuild starts a new one).
        from services.reporting.change_feed import ChangeSignal, migrate_feed

        migrate_feed(store)
        self.changes = ChangeSignal()
        """Announced after each commit of the live projection that appended to the change feed."""
        # Rows keep free text sealed as the topics carried it; every read opens it, or shows it redacted.
        self._people = people
        # Most texts a row holds are not sealed: they skip finding the vault (a settings lookup per value, which was
        # a fifth of the gateway's CPU under load).
        store.opener = lambda text: self.people.open_text(text) if SEALED_PREFIX in text else text

    @property
    def people(self) -> PeopleVault:
        """The people vault: names while not erased, and the keys of sealed text."""
        return self._people or vault_for(self.store.settings)

    @property
    def partnership(self) -> PartnershipDefinition:
        """The partnership this deployment is configured with (``PARTNERSHIP_PARTNERSHIP_FILE``), as the services'."""
        return load(self.store.settings.partnership_file)

    @cached_property
    def provenance(self) -> Provenance:
        """Which decisions resolve (the one rule, on reporting's copy of tasking's meetings) and their names."""
        from services.reporting.provenance import Provenance

        return Provenance(self.store, rules(self.store.settings.partnership_file), self.partnership)

    def history(self, aggregate_id: str) -> list[dict[str, Any]]:
        rows = self.store.query("SELECT * FROM event_log WHERE subject = ? ORDER BY version", [aggregate_id])
        for row in rows:
            row["data"] = json.loads(row["data"])
            row["decision"] = json.loads(row["decision"]) if row["decision"] else None
        return rows

    def event_count(self) -> int:
        rows = self.store.query("SELECT COUNT(*) AS n FROM event_log")
        return int(rows[0]["n"])

    def event_counts(self) -> dict[str, int]:
        """How many events of each type were applied (each exactly once)."""
        return {row["type"]: int(row["n"]) for row in self.store.query("SELECT type, n FROM event_counts")}
