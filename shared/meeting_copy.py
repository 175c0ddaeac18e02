"""A service's copy of the meetings and memberships its decisions stand on, kept from ``tasking.events``.

Only these event types are read: ``MeetingEntered``, ``PartnerJoined``, ``PartnerLeft``, and the partnership's rules
(``PartnershipFounded`` and every change since, ``shared.rules_history.RULE_CHANGES``: the rules a decision is judged
by, as of its date); every other tasking event is none of this copy's business. The copy answers the decision rule
(``shared.decisions.MeetingRecords``) as a non-authoritative store: a minute-book version or membership it has not
reached yet is "retry", not "never". Each service that takes decisions without owning meetings wires it in an
upstream-copy module of its own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from shared.consumer import ConsumerRunner
from shared.contracts import Decision, from_data
from shared.contracts.tasking import (
    MeetingEntered,
    PartnerJoined,
    PartnerLeft,
    PartnershipFounded,
    QuorumChanged,
)
from shared.decisions import MeetingRecord, Period
from shared.envelope import Envelope
from shared.partnership import FoundingRules
from shared.readstore import ReadStore, Tx
from shared.rules_history import RULE_CHANGES, FoundedRules, QuorumChange, RuleChange, RulesOfRecord, change_of
from shared.service import WaitFor
from shared.settings import Settings
from shared.transport import Transport

DDL = [
    "CREATE TABLE IF NOT EXISTS copied_meetings ("
    " id TEXT PRIMARY KEY, body TEXT NOT NULL, held_on TEXT NOT NULL, title TEXT NOT NULL, present TEXT NOT NULL,"
    " entry INTEGER NOT NULL, roll TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS copied_minute_books (body TEXT PRIMARY KEY, version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS copied_memberships ("
    " body TEXT NOT NULL, organisation TEXT NOT NULL, version INTEGER NOT NULL, periods TEXT NOT NULL,"
    " PRIMARY KEY (body, organisation))",
    # A historic meeting whose quorum rests on its minute reference ("quorum as minuted"): a table of its own, so a
    # copy made before it existed needs no change to copied_meetings.
    "CREATE TABLE IF NOT EXISTS copied_minuted_quorums (id TEXT PRIMARY KEY, reference TEXT NOT NULL)",
    # The partnership's rules: the founding event's data as published, and each quorum change (its version).
    "CREATE TABLE IF NOT EXISTS copied_partnership_founding (partnership TEXT PRIMARY KEY, type TEXT NOT NULL,"
    " data TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS copied_quorum_changes (version INTEGER PRIMARY KEY, body TEXT NOT NULL,"
    " quorum INTEGER NOT NULL, decided_on TEXT NOT NULL, recorded_at TEXT NOT NULL)",
    # Every other change of the rules (districts, schemes, RAG thresholds, the priority limit): the event as
    # published, read back through its contract (``shared.rules_history.change_of``); version: the partnership's.
    "CREATE TABLE IF NOT EXISTS copied_rule_changes (version INTEGER PRIMARY KEY, type TEXT NOT NULL,"
    " data TEXT NOT NULL, recorded_at TEXT NOT NULL)",
]


class MeetingsCopy:
    """MeetingEntered / PartnerJoined / PartnerLeft -> the copy's tables, in the runner's transaction."""

    def apply(self, tx: Tx, envelope: Envelope) -> None:
        fact = envelope.fact()
        if isinstance(fact, MeetingEntered):
            roll = [[entry.organisation, entry.version] for entry in fact.roll]
            tx.execute(
                "INSERT INTO copied_meetings (id, body, held_on, title, present, entry, roll)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (str(fact.meeting_id), fact.body, fact.held_on.isoformat(), fact.title, json.dumps(fact.present),
                 envelope.sequence, json.dumps(roll)))
            if fact.quorum_as_minuted:
                tx.execute("INSERT INTO copied_minuted_quorums (id, reference) VALUES (?, ?)"
                           " ON CONFLICT (id) DO NOTHING", (str(fact.meeting_id), fact.quorum_as_minuted))
            # One book's entries come in order (one aggregate, one partition): its version is the last one seen.
            tx.execute(
                "INSERT INTO copied_minute_books (body, version) VALUES (?, ?)"
                " ON CONFLICT (body) DO UPDATE SET version = excluded.version"
                " WHERE excluded.version > copied_minute_books.version",
                (fact.body, envelope.sequence))
        elif isinstance(fact, PartnerJoined):
            periods = self._periods(tx, fact.body, fact.organisation)
            periods.append(Period(fact.joined_on or envelope.time.date()))
            self._store(tx, fact.body, fact.organisation, envelope.sequence, periods)
        elif isinstance(fact, PartnershipFounded):
            tx.execute("INSERT INTO copied_partnership_founding (partnership, type, data) VALUES (?, ?, ?)"
                       " ON CONFLICT (partnership) DO NOTHING",
                       (fact.partnership, envelope.type, json.dumps(envelope.data, sort_keys=True)))
        elif isinstance(fact, QuorumChanged) and fact.decision is not None:
            tx.execute("INSERT INTO copied_quorum_changes (version, body, quorum, decided_on, recorded_at)"
                       " VALUES (?, ?, ?, ?, ?) ON CONFLICT (version) DO NOTHING",
                       (envelope.sequence, fact.body, fact.quorum, fact.decision.decided_on.isoformat(),
                        _utc_text(envelope.time)))
        elif isinstance(fact, RULE_CHANGES) and fact.decision is not None:
            tx.execute("INSERT INTO copied_rule_changes (version, type, data, recorded_at) VALUES (?, ?, ?, ?)"
                       " ON CONFLICT (version) DO NOTHING",
                       (envelope.sequence, envelope.type, json.dumps(envelope.data, sort_keys=True),
                        _utc_text(envelope.time)))
        elif isinstance(fact, PartnerLeft):
            periods = self._periods(tx, fact.body, fact.organisation)
            if periods:
                last = periods[-1]
                periods[-1] = Period(last.joined_on, fact.left_on or envelope.time.date())
            self._store(tx, fact.body, fact.organisation, envelope.sequence, periods)

    @staticmethod
    def _periods(tx: Tx, body: str, organisation: str) -> list[Period]:
        rows = tx.query("SELECT periods FROM copied_memberships WHERE body = ? AND organisation = ?",
                        (body, organisation))
        return _decode_periods(rows[0]["periods"]) if rows else []

    @staticmethod
    def _store(tx: Tx, body: str, organisation: str, version: int, periods: list[Period]) -> None:
        encoded = json.dumps([[p.joined_on.isoformat(), p.left_on.isoformat() if p.left_on else None]
                              for p in periods])
        tx.execute(
            "INSERT INTO copied_memberships (body, organisation, version, periods) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (body, organisation) DO UPDATE SET version = excluded.version, periods = excluded.periods",
            (body, organisation, version, encoded))


def _utc_text(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds")


def _decode_periods(raw: str) -> list[Period]:
    return [Period(date.fromisoformat(start), date.fromisoformat(end) if end else None)
            for start, end in json.loads(raw)]


class CopiedMeetings:
    """The copy, read by the decision rule: it may lag tasking, so it is not authoritative."""

    authoritative = False

    def __init__(self, store: ReadStore) -> None:
        self.store = store
        store.migrate(DDL)
        # The rules as last read, with the mark they were read at: asked again, one query says whether they moved.
        self._read_rules: tuple[tuple[Any, ...], FoundedRules | None, list[tuple[str, RuleChange]]] | None = None

    def minute_book_version(self, body: str) -> int:
        rows = self.store.query("SELECT version FROM copied_minute_books WHERE body = ?", [body])
        return int(rows[0]["version"]) if rows else 0

    def meeting(self, meeting_id: UUID) -> MeetingRecord | None:
        rows = self.store.query("SELECT * FROM copied_meetings WHERE id = ?", [str(meeting_id)])
        return self._record(rows[0]) if rows else None

    def book_and_meeting(self, body: str, meeting_id: UUID) -> tuple[int, MeetingRecord | None]:
        """The book's version and the meeting in one statement (one snapshot: no commit lands between them)."""
        row = self.store.query(
            "SELECT b.version AS book_version, m.* FROM (SELECT 1 AS one) AS one"
            " LEFT JOIN copied_minute_books b ON b.body = ? LEFT JOIN copied_meetings m ON m.id = ?",
            [body, str(meeting_id)])[0]
        known = int(row.pop("book_version") or 0)
        return known, self._record(row) if row["id"] is not None else None

    def _record(self, row: dict[str, Any]) -> MeetingRecord:
        present = tuple(json.loads(row["present"]))
        minuted = None if present else self.store.query(
            "SELECT reference FROM copied_minuted_quorums WHERE id = ?", [row["id"]])
        return MeetingRecord(id=UUID(row["id"]), body=row["body"], held_on=date.fromisoformat(row["held_on"]),
                             title=row["title"], present=present, entry=int(row["entry"]),
                             roll=tuple((org, int(version)) for org, version in json.loads(row["roll"])),
                             quorum_as_minuted=minuted[0]["reference"] if minuted else None)

    def rules_version(self) -> int:
        """The version of tasking's record of the rules this copy holds (0 before the founding reached it): a
        writer that changed the rules waits for it before a command here is judged by them."""
        row = self.store.query(
            "SELECT (SELECT COUNT(*) FROM copied_partnership_founding) AS founded,"
            " (SELECT MAX(version) FROM copied_quorum_changes) AS quorums,"
            " (SELECT MAX(version) FROM copied_rule_changes) AS others")[0]
        return max(int(row["founded"]), int(row["quorums"] or 0), int(row["others"] or 0))

    def rules(self, definition: FoundedRules, recorded_by: datetime | None = None) -> RulesOfRecord:
        """The partnership's rules of record from this copy, as of any date: the founding tasking published and
        the quorum changes since (those recorded by ``recorded_by``, when given); ``definition``'s rules until the
        founding has reached the copy."""
        names = definition.district_names() if isinstance(definition, FoundingRules) else None
        moment = None if recorded_by is None else _utc_text(recorded_by)

        def read() -> tuple[FoundedRules, list[RuleChange]]:
            founding, changes = self._latest_rules(names)
            # Recorded-by filtering in memory: the copy is read once per change of it, not once per question.
            return founding or definition, [c for at, c in changes if moment is None or at <= moment]

        return RulesOfRecord.reading(read)

    def _latest_rules(self, names: dict[str, str] | None) -> tuple[FoundedRules | None, list[tuple[str, RuleChange]]]:
        """The founding and every change (with the moment it was recorded), read again only when the copy moved: one
        small query says whether it did."""
        mark = (*self.store.query(
            "SELECT (SELECT COUNT(*) FROM copied_partnership_founding) AS founded,"
            " (SELECT MAX(version) FROM copied_quorum_changes) AS quorums,"
            " (SELECT MAX(version) FROM copied_rule_changes) AS others")[0].values(), tuple(sorted(names or {})))
        read = self._read_rules
        if read is None or read[0] != mark:
            read = self._read_rules = (mark, self._founding(names), self._rule_changes())
        return read[1], read[2]

    def _founding(self, names: dict[str, str] | None) -> FoundedRules | None:
        rows = self.store.query("SELECT type, data FROM copied_partnership_founding")
        if not rows:
            return None
        founded = from_data(rows[0]["type"], json.loads(rows[0]["data"]))
        assert isinstance(founded, PartnershipFounded)
        return FoundedRules.of(founded, names)

    def _rule_changes(self) -> list[tuple[str, RuleChange]]:
        """The changes of the rules this copy holds, each with the moment it was recorded, in the order tasking
        recorded them."""
        found: list[tuple[int, str, RuleChange]] = [
            (int(row["version"]), row["recorded_at"],
             QuorumChange(row["body"], int(row["quorum"]), date.fromisoformat(row["decided_on"])))
            for row in self.store.query("SELECT * FROM copied_quorum_changes")]
        for row in self.store.query("SELECT * FROM copied_rule_changes"):
            change = change_of(from_data(row["type"], json.loads(row["data"])))
            if change is not None:
                found.append((int(row["version"]), row["recorded_at"], change))
        return [(at, change) for _, at, change in sorted(found, key=lambda entry: entry[0])]

    def membership_version(self, body: str, organisation: str) -> int:
        rows = self.store.query("SELECT version FROM copied_memberships WHERE body = ? AND organisation = ?",
                                [body, organisation])
        return int(rows[0]["version"]) if rows else 0

    def member_on(self, body: str, organisation: str, day: date) -> bool:
        rows = self.store.query("SELECT periods FROM copied_memberships WHERE body = ? AND organisation = ?",
                                [body, organisation])
        return bool(rows) and any(period.covers(day) for period in _decode_periods(rows[0]["periods"]))

    def memberships(self, body: str, organisations: Sequence[str], day: date) -> dict[str, tuple[int, bool]]:
        # One query for the whole roll: asked a partner at a time, a decision at a meeting of ten was twenty
        # queries, a sixth of a command's web CPU (bench.load --profile).
        wanted = sorted(set(organisations))
        found: dict[str, tuple[int, bool]] = {org: (0, False) for org in wanted}
        if wanted:
            rows = self.store.query(
                "SELECT organisation, version, periods FROM copied_memberships WHERE body = ? AND organisation IN "
                f"({', '.join('?' for _ in wanted)})", [body, *wanted])
            for row in rows:
                found[row["organisation"]] = (int(row["version"]), any(
                    period.covers(day) for period in _decode_periods(row["periods"])))
        return found


def minuted_quorums(store: ReadStore) -> dict[str, str]:
    """The copy's meetings whose quorum is as minuted: meeting id -> the minute reference."""
    store.migrate(DDL[-1:])
    return {row["id"]: row["reference"] for row in store.query("SELECT id, reference FROM copied_minuted_quorums")}


def meetings_consumer(service: str, store: ReadStore, settings: Settings, transport: Transport) -> ConsumerRunner:
    """The narrow consumer of ``tasking.events`` that keeps ``service``'s copy (its own tracking name)."""
    return ConsumerRunner(f"{service}-meetings", store, transport, settings.topic("tasking.events"), MeetingsCopy(),
                          dead_letter_topic=settings.topic(f"{service}.dlq"), batch_size=settings.consumer_batch_size)


def decision_at(copy: CopiedMeetings, meeting_id: UUID, wait_for: WaitFor, reason: str,
                reference: str | None = None) -> Decision:
    """A decision at a meeting tasking recorded, once its event and the memberships behind it reached ``copy``
    (the demos: every demo decision cites a recorded meeting)."""

    def arrived() -> bool:
        meeting = copy.meeting(meeting_id)
        return meeting is not None and all(copy.membership_version(meeting.body, org) >= version
                                           for org, version in meeting.roll)

    wait_for(arrived, f"the meeting {meeting_id} to reach this service's copy")
    meeting = copy.meeting(meeting_id)
    assert meeting is not None
    return Decision(body=meeting.body, decided_on=meeting.held_on, reason=reason, meeting_id=str(meeting.id),
                    meeting_version=meeting.entry, reference=reference)
