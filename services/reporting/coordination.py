"""Coordination read models (from ``tasking.events``), as of any time: taskings by district, theme group, target and
status; retasking chains; decisions by body and date; memberships and commitments; meetings; agreed actions."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from services.reporting.graphql_common import Actor, Decision, IsAuthenticated, decision_from, moment, read_model
from services.reporting.readmodel import Handlers, as_of_clause, close_current, decision_json, timestamp
from shared.consumer import Rejected
from shared.contracts import Fact, contract_type
from shared.contracts.tasking import (
    ActionAgreed,
    ActionDone,
    DistrictsCommitted,
    MeetingHeld,
    PartnerJoined,
    PartnerLeft,
    TaskingAccepted,
    TaskingCompleted,
    TaskingDeclined,
    TaskingDeliveryStarted,
    TaskingIssued,
    TaskingRetasked,
    TaskingWithdrawn,
)
from shared.envelope import Envelope
from shared.partnership import PartnershipDefinition
from shared.readstore import ReadStore, Tx

_CHANGED_BY = "changed_by TEXT NOT NULL, changed_by_organisation TEXT NOT NULL, changed_by_role TEXT NOT NULL"

DDL = [
    "CREATE TABLE IF NOT EXISTS taskings ("
    " id TEXT NOT NULL, version INTEGER NOT NULL, target_id TEXT NOT NULL, theme_group TEXT NOT NULL,"
    " district TEXT NOT NULL, share TEXT NOT NULL, unit TEXT NOT NULL, deadline TEXT NOT NULL,"
    " lead_partner TEXT NOT NULL, commissioning_level TEXT NOT NULL, status TEXT NOT NULL, retasked_from TEXT,"
    " achieved TEXT, status_reason TEXT, " + _CHANGED_BY + ", decision TEXT,"
    " valid_from TEXT NOT NULL, valid_to TEXT, PRIMARY KEY (id, version))",
    "CREATE INDEX IF NOT EXISTS taskings_current ON taskings (valid_to, district)",
    # One row per assignment change (issue or retasking): the links of the retasking chains.
    "CREATE TABLE IF NOT EXISTS tasking_changes ("
    " tasking_id TEXT NOT NULL, version INTEGER NOT NULL, kind TEXT NOT NULL, district TEXT NOT NULL,"
    " lead_partner TEXT NOT NULL, share TEXT NOT NULL, deadline TEXT NOT NULL, previous_district TEXT,"
    " previous_lead_partner TEXT, previous_share TEXT, previous_deadline TEXT, retasked_from TEXT,"
    " decision TEXT, decision_key TEXT, " + _CHANGED_BY + ", at TEXT NOT NULL, PRIMARY KEY (tasking_id, version))",
    "CREATE INDEX IF NOT EXISTS tasking_changes_from ON tasking_changes (retasked_from)",
    "CREATE TABLE IF NOT EXISTS coordination_decisions ("
    " subject TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL,"
    " decided_on TEXT NOT NULL, reason TEXT NOT NULL, meeting_id TEXT, reference TEXT, " + _CHANGED_BY + ","
    " at TEXT NOT NULL, PRIMARY KEY (subject, version))",
    "CREATE INDEX IF NOT EXISTS coordination_decisions_body ON coordination_decisions (body, decided_on)",
    "CREATE TABLE IF NOT EXISTS meetings ("
    " id TEXT PRIMARY KEY, body TEXT NOT NULL, body_kind TEXT NOT NULL, held_on TEXT NOT NULL,"
    " present TEXT NOT NULL, title TEXT NOT NULL, " + _CHANGED_BY + ", at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS memberships ("
    " id TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL, body_kind TEXT NOT NULL,"
    " organisation TEXT NOT NULL, nominated_by TEXT, is_member INTEGER NOT NULL, reason TEXT,"
    " " + _CHANGED_BY + ", decision TEXT, valid_from TEXT NOT NULL, valid_to TEXT, PRIMARY KEY (id, version))",
    "CREATE INDEX IF NOT EXISTS memberships_current ON memberships (valid_to, body)",
    "CREATE TABLE IF NOT EXISTS district_commitments ("
    " id TEXT NOT NULL, version INTEGER NOT NULL, organisation TEXT NOT NULL, districts TEXT NOT NULL,"
    " " + _CHANGED_BY + ", valid_from TEXT NOT NULL, valid_to TEXT, PRIMARY KEY (id, version))",
    "CREATE TABLE IF NOT EXISTS agreed_actions ("
    " id TEXT NOT NULL, version INTEGER NOT NULL, meeting_id TEXT NOT NULL, body TEXT NOT NULL,"
    " description TEXT NOT NULL, owner TEXT NOT NULL, due_on TEXT NOT NULL, done_on TEXT, note TEXT,"
    " " + _CHANGED_BY + ", valid_from TEXT NOT NULL, valid_to TEXT, PRIMARY KEY (id, version))",
    "CREATE INDEX IF NOT EXISTS agreed_actions_current ON agreed_actions (valid_to, due_on)",
]

_ACTIVE = ("issued", "accepted", "in_delivery")


def _who(envelope: Envelope) -> tuple[str, str, str]:
    return envelope.actor, envelope.actororganisation, envelope.actorrole


def _record_decision(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    if fact.decision is None:
        return
    d = fact.decision
    tx.execute(
        "INSERT INTO coordination_decisions (subject, version, type, body, decided_on, reason, meeting_id, reference,"
        " changed_by, changed_by_organisation, changed_by_role, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (envelope.subject, envelope.sequence, envelope.type, d.body, d.decided_on.isoformat(), d.reason, d.meeting_id,
         d.reference, *_who(envelope), timestamp(envelope.time)),
    )


def _decision_key(fact: Fact) -> str | None:
    """Events taken under one decision (the retasking and the new tasking of a transfer) share this key."""
    if fact.decision is None:
        return None
    d = fact.decision
    return json.dumps([d.body, d.decided_on.isoformat(), d.reference or "", d.reason])


# -- taskings ----------------------------------------------------------------------------------------------------


def _tasking_issued(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, TaskingIssued)
    at = timestamp(envelope.time)
    retasked_from = None if fact.retasked_from is None else str(fact.retasked_from)
    close_current(tx, "taskings", envelope.subject, at)
    tx.execute(
        "INSERT INTO taskings (id, version, target_id, theme_group, district, share, unit, deadline, lead_partner,"
        " commissioning_level, status, retasked_from, achieved, status_reason, changed_by, changed_by_organisation,"
        " changed_by_role, decision, valid_from, valid_to)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'issued', ?, NULL, NULL, ?, ?, ?, ?, ?, NULL)",
        (envelope.subject, envelope.sequence, str(fact.target_id), fact.theme_group, fact.district, str(fact.share),
         fact.unit, fact.deadline.isoformat(), fact.lead_partner, str(fact.commissioning_level), retasked_from,
         *_who(envelope), decision_json(fact), at),
    )
    tx.execute(
        "INSERT INTO tasking_changes (tasking_id, version, kind, district, lead_partner, share, deadline,"
        " retasked_from, decision, decision_key, changed_by, changed_by_organisation, changed_by_role, at)"
        " VALUES (?, ?, 'issued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (envelope.subject, envelope.sequence, fact.district, fact.lead_partner, str(fact.share),
         fact.deadline.isoformat(), retasked_from, decision_json(fact), _decision_key(fact), *_who(envelope), at),
    )
    _record_decision(tx, envelope, fact)


def _next_tasking_row(tx: Tx, envelope: Envelope, fact: Fact, **changes: Any) -> None:
    """Close the tasking's current row and insert the next one with ``changes``."""
    rows = tx.query("SELECT * FROM taskings WHERE id = ? AND valid_to IS NULL", (envelope.subject,))
    if not rows:
        raise Rejected(f"{envelope.type} for tasking {envelope.subject}, which was never issued")
    row = rows[0]
    at = timestamp(envelope.time)
    close_current(tx, "taskings", envelope.subject, at)
    actor, organisation, role = _who(envelope)
    row.update(version=envelope.sequence, changed_by=actor, changed_by_organisation=organisation,
               changed_by_role=role, decision=decision_json(fact), valid_from=at, valid_to=None, **changes)
    columns = list(row)
    tx.execute(f"INSERT INTO taskings ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
               [row[c] for c in columns])
    _record_decision(tx, envelope, fact)


def _accepted(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, TaskingAccepted)
    _next_tasking_row(tx, envelope, fact, status="accepted", status_reason=None)


def _declined(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, TaskingDeclined)
    _next_tasking_row(tx, envelope, fact, status="declined", status_reason=fact.reason)


def _delivery_started(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, TaskingDeliveryStarted)
    _next_tasking_row(tx, envelope, fact, status="in_delivery", status_reason=None)


def _completed(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, TaskingCompleted)
    _next_tasking_row(tx, envelope, fact, status="completed", achieved=str(fact.achieved), status_reason=None)


def _withdrawn(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, TaskingWithdrawn)
    _next_tasking_row(tx, envelope, fact, status="withdrawn", status_reason=fact.reason)


def _retasked(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, TaskingRetasked)
    changes: dict[str, Any] = {"district": fact.district, "lead_partner": fact.lead_partner,
                               "share": str(fact.share), "deadline": fact.deadline.isoformat(),
                               "status_reason": fact.reason}
    if fact.district != fact.previous_district:
        changes["status"] = "issued"  # the newly tasked district must accept it
    _next_tasking_row(tx, envelope, fact, **changes)
    tx.execute(
        "INSERT INTO tasking_changes (tasking_id, version, kind, district, lead_partner, share, deadline,"
        " previous_district, previous_lead_partner, previous_share, previous_deadline, retasked_from, decision,"
        " decision_key, changed_by, changed_by_organisation, changed_by_role, at)"
        " VALUES (?, ?, 'retasked', ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)",
        (envelope.subject, envelope.sequence, fact.district, fact.lead_partner, str(fact.share),
         fact.deadline.isoformat(), fact.previous_district, fact.previous_lead_partner, str(fact.previous_share),
         fact.previous_deadline.isoformat(), decision_json(fact), _decision_key(fact), *_who(envelope),
         timestamp(envelope.time)),
    )


# -- memberships, commitments, meetings, actions -----------------------------------------------------------------


def _joined(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, PartnerJoined)
    at = timestamp(envelope.time)
    close_current(tx, "memberships", envelope.subject, at)
    tx.execute(
        "INSERT INTO memberships (id, version, body, body_kind, organisation, nominated_by, is_member, reason,"
        " changed_by, changed_by_organisation, changed_by_role, decision, valid_from, valid_to)"
        " VALUES (?, ?, ?, ?, ?, ?, 1, NULL, ?, ?, ?, ?, ?, NULL)",
        (envelope.subject, envelope.sequence, fact.body, str(fact.body_kind), fact.organisation, fact.nominated_by,
         *_who(envelope), decision_json(fact), at),
    )
    _record_decision(tx, envelope, fact)


def _left(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, PartnerLeft)
    at = timestamp(envelope.time)
    rows = tx.query("SELECT body_kind, nominated_by FROM memberships WHERE id = ? AND valid_to IS NULL",
                    (envelope.subject,))
    kind = rows[0]["body_kind"] if rows else ""
    close_current(tx, "memberships", envelope.subject, at)
    tx.execute(
        "INSERT INTO memberships (id, version, body, body_kind, organisation, nominated_by, is_member, reason,"
        " changed_by, changed_by_organisation, changed_by_role, decision, valid_from, valid_to)"
        " VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, NULL)",
        (envelope.subject, envelope.sequence, fact.body, kind, fact.organisation,
         rows[0]["nominated_by"] if rows else None, fact.reason, *_who(envelope), decision_json(fact), at),
    )
    _record_decision(tx, envelope, fact)


def _committed(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, DistrictsCommitted)
    at = timestamp(envelope.time)
    close_current(tx, "district_commitments", envelope.subject, at)
    tx.execute(
        "INSERT INTO district_commitments (id, version, organisation, districts, changed_by, changed_by_organisation,"
        " changed_by_role, valid_from, valid_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        (envelope.subject, envelope.sequence, fact.organisation, json.dumps(sorted(fact.districts)),
         *_who(envelope), at),
    )


def _meeting_held(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, MeetingHeld)
    tx.execute(
        "INSERT INTO meetings (id, body, body_kind, held_on, present, title, changed_by, changed_by_organisation,"
        " changed_by_role, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (envelope.subject, fact.body, str(fact.body_kind), fact.held_on.isoformat(), json.dumps(fact.present),
         fact.title, *_who(envelope), timestamp(envelope.time)),
    )


def _action_agreed(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, ActionAgreed)
    at = timestamp(envelope.time)
    close_current(tx, "agreed_actions", envelope.subject, at)
    tx.execute(
        "INSERT INTO agreed_actions (id, version, meeting_id, body, description, owner, due_on, done_on, note,"
        " changed_by, changed_by_organisation, changed_by_role, valid_from, valid_to)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, NULL)",
        (envelope.subject, envelope.sequence, str(fact.meeting_id), fact.body, fact.description, fact.owner,
         fact.due_on.isoformat(), *_who(envelope), at),
    )


def _action_done(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, ActionDone)
    at = timestamp(envelope.time)
    rows = tx.query("SELECT * FROM agreed_actions WHERE id = ? AND valid_to IS NULL", (envelope.subject,))
    if not rows:
        return
    row = rows[0]
    close_current(tx, "agreed_actions", envelope.subject, at)
    actor, organisation, role = _who(envelope)
    row.update(version=envelope.sequence, done_on=fact.done_on.isoformat(), note=fact.note, changed_by=actor,
               changed_by_organisation=organisation, changed_by_role=role, valid_from=at, valid_to=None)
    columns = list(row)
    tx.execute(f"INSERT INTO agreed_actions ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
               [row[c] for c in columns])


HANDLERS: Handlers = {
    contract_type(TaskingIssued): _tasking_issued,
    contract_type(TaskingAccepted): _accepted,
    contract_type(TaskingDeclined): _declined,
    contract_type(TaskingDeliveryStarted): _delivery_started,
    contract_type(TaskingCompleted): _completed,
    contract_type(TaskingWithdrawn): _withdrawn,
    contract_type(TaskingRetasked): _retasked,
    contract_type(PartnerJoined): _joined,
    contract_type(PartnerLeft): _left,
    contract_type(DistrictsCommitted): _committed,
    contract_type(MeetingHeld): _meeting_held,
    contract_type(ActionAgreed): _action_agreed,
    contract_type(ActionDone): _action_done,
}

# -- queries -----------------------------------------------------------------------------------------------------


def taskings(store: ReadStore, as_of: datetime | None = None, *, district: str | None = None,
             theme_group: str | None = None, target_id: str | None = None, status: str | None = None,
             lead_partner: str | None = None) -> list[dict[str, Any]]:
    clause, params = as_of_clause(as_of)
    for column, value in (("district", district), ("theme_group", theme_group), ("target_id", target_id),
                          ("status", status), ("lead_partner", lead_partner)):
        if value is not None:
            clause += f" AND {column} = ?"
            params.append(value)
    return store.query(f"SELECT * FROM taskings WHERE {clause} ORDER BY target_id, district, id", params)


def _fmt(raw: str) -> str:
    value = Decimal(raw).normalize()
    return f"{int(value):,}" if value == value.to_integral_value() else f"{value:,f}"


def retasking_chain(store: ReadStore, tasking_id: str, definition: PartnershipDefinition,
                    as_of: datetime | None = None) -> dict[str, Any]:
    """Every tasking linked to this one by retasking (its origin and all it was split into), and each decision
    that changed them, as steps "Worcester 1,200 -> Worcester 1,000 + Wychavon 200"."""
    at_clause, at_params = ("", []) if as_of is None else (" AND at <= ?", [timestamp(as_of)])
    changes = store.query(f"SELECT * FROM tasking_changes WHERE 1 = 1{at_clause} ORDER BY at, tasking_id, version",
                          at_params)
    parent = {c["tasking_id"]: c["retasked_from"] for c in changes if c["kind"] == "issued"}
    root = tasking_id
    while parent.get(root):
        root = str(parent[root])
    family = {root}
    grew = True
    while grew:
        before = len(family)
        family |= {child for child, origin in parent.items() if origin in family}
        grew = len(family) > before
    ours = [c for c in changes if c["tasking_id"] in family]
    origin = [c for c in ours if c["kind"] == "issued" and c["tasking_id"] == root]
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for change in ours:
        if change["kind"] == "retasked" or (change["kind"] == "issued" and change["retasked_from"]):
            grouped[change["decision_key"] or f"{change['tasking_id']}:{change['version']}"].append(change)
    steps = [_step(group, definition) for group in grouped.values()]
    steps.sort(key=lambda step: (step["decided_on"] or "", step["at"]))
    return {"root": root, "taskings": sorted(family), "origin": origin, "steps": steps}


def _district_name(definition: PartnershipDefinition, district: str) -> str:
    found = definition.district(district)
    return found.name if found else district


def _step(group: list[dict[str, Any]], definition: PartnershipDefinition) -> dict[str, Any]:
    before = [{"tasking_id": c["tasking_id"], "district": c["previous_district"],
               "lead_partner": c["previous_lead_partner"], "share": c["previous_share"],
               "deadline": c["previous_deadline"]} for c in group if c["kind"] == "retasked"]
    after = [{"tasking_id": c["tasking_id"], "district": c["district"], "lead_partner": c["lead_partner"],
              "share": c["share"], "deadline": c["deadline"]}
             for c in sorted(group, key=lambda c: (c["kind"] != "retasked", c["district"]))]  # kept, then new
    first = group[0]
    decision = json.loads(first["decision"]) if first["decision"] else None

    def say(assignments: list[dict[str, Any]]) -> str:
        return " + ".join(f"{_district_name(definition, a['district'])} {_fmt(a['share'])}" for a in assignments)

    summary = f"{say(before) or '(none)'} -> {say(after)}"
    if decision:
        body = definition.body(decision["body"])
        who = f"{body.name} ({body.id})" if body else decision["body"]
        summary += f", decided by {who} on {decision['decided_on']} because {decision['reason']}"
        if decision.get("reference"):
            summary += f" [{decision['reference']}]"
    return {"before": before, "after": after, "decision": first["decision"],
            "decided_on": decision["decided_on"] if decision else None, "summary": summary, "at": first["at"],
            "changed_by": first["changed_by"], "changed_by_organisation": first["changed_by_organisation"],
            "changed_by_role": first["changed_by_role"]}


def decisions(store: ReadStore, as_of: datetime | None = None, *, body: str | None = None,
              decided_from: date | None = None, decided_to: date | None = None) -> list[dict[str, Any]]:
    clause, params = "1 = 1", []
    if as_of is not None:
        clause += " AND at <= ?"
        params.append(timestamp(as_of))
    if body is not None:
        clause += " AND body = ?"
        params.append(body)
    if decided_from is not None:
        clause += " AND decided_on >= ?"
        params.append(decided_from.isoformat())
    if decided_to is not None:
        clause += " AND decided_on <= ?"
        params.append(decided_to.isoformat())
    return store.query(f"SELECT * FROM coordination_decisions WHERE {clause} ORDER BY decided_on, at, subject",
                       params)


def memberships(store: ReadStore, as_of: datetime | None = None, *, body: str | None = None,
                organisation: str | None = None, include_former: bool = False) -> list[dict[str, Any]]:
    clause, params = as_of_clause(as_of)
    if not include_former:
        clause += " AND is_member = 1"
    for column, value in (("body", body), ("organisation", organisation)):
        if value is not None:
            clause += f" AND {column} = ?"
            params.append(value)
    return store.query(f"SELECT * FROM memberships WHERE {clause} ORDER BY body, organisation", params)


def commitments(store: ReadStore, as_of: datetime | None = None,
                organisation: str | None = None) -> list[dict[str, Any]]:
    clause, params = as_of_clause(as_of)
    if organisation is not None:
        clause += " AND organisation = ?"
        params.append(organisation)
    return store.query(f"SELECT * FROM district_commitments WHERE {clause} ORDER BY organisation", params)


def meetings(store: ReadStore, as_of: datetime | None = None, body: str | None = None) -> list[dict[str, Any]]:
    clause, params = "1 = 1", []
    if as_of is not None:
        clause += " AND at <= ?"
        params.append(timestamp(as_of))
    if body is not None:
        clause += " AND body = ?"
        params.append(body)
    return store.query(f"SELECT * FROM meetings WHERE {clause} ORDER BY held_on, id", params)


def agreed_actions(store: ReadStore, as_of: datetime | None = None, *, body: str | None = None,
                   owner: str | None = None, overdue_on: date | None = None) -> list[dict[str, Any]]:
    clause, params = as_of_clause(as_of)
    for column, value in (("body", body), ("owner", owner)):
        if value is not None:
            clause += f" AND {column} = ?"
            params.append(value)
    if overdue_on is not None:
        clause += " AND done_on IS NULL AND due_on < ?"
        params.append(overdue_on.isoformat())
    return store.query(f"SELECT * FROM agreed_actions WHERE {clause} ORDER BY due_on, id", params)


def districts_without_partner_kind(store: ReadStore, kind: str, definition: PartnershipDefinition,
                                   as_of: datetime | None = None) -> list[dict[str, Any]]:
    """Districts holding a live tasking (issued, accepted, in delivery) with no partner of ``kind`` at their
    partnership's table (members, including theme groups' representatives)."""
    held: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in taskings(store, as_of):
        if row["status"] in _ACTIVE:
            held[row["district"]].append(row)
    answer = []
    for district, rows in sorted(held.items()):
        seated = [m["organisation"] for m in memberships(store, as_of, body=district)]
        kinds = sorted({o.kind for org in seated if (o := definition.organisation(org)) is not None})
        if kind not in kinds:
            answer.append({"district": district, "district_name": _district_name(definition, district),
                           "taskings": rows, "partner_kinds": kinds, "partners": seated})
    return answer


# -- GraphQL -----------------------------------------------------------------------------------------------------


def _actor(row: dict[str, Any]) -> Actor:
    return Actor(user_id=row["changed_by"], organisation=row["changed_by_organisation"], role=row["changed_by_role"])


@strawberry.type
class Tasking:
    id: strawberry.ID
    version: int
    target_id: strawberry.ID
    theme_group: str
    district: str
    share: Decimal
    unit: str
    deadline: date
    lead_partner: str
    commissioning_level: str
    status: str
    status_reason: str | None
    retasked_from: strawberry.ID | None
    achieved: Decimal | None
    changed_by: Actor
    decision: Decision | None
    valid_from: datetime
    valid_to: datetime | None

    @staticmethod
    def from_row(row: dict[str, Any]) -> Tasking:
        return Tasking(
            id=strawberry.ID(row["id"]), version=row["version"], target_id=strawberry.ID(row["target_id"]),
            theme_group=row["theme_group"], district=row["district"], share=Decimal(row["share"]), unit=row["unit"],
            deadline=date.fromisoformat(row["deadline"]), lead_partner=row["lead_partner"],
            commissioning_level=row["commissioning_level"], status=row["status"],
            status_reason=row["status_reason"],
            retasked_from=strawberry.ID(row["retasked_from"]) if row["retasked_from"] else None,
            achieved=Decimal(row["achieved"]) if row["achieved"] else None, changed_by=_actor(row),
            decision=decision_from(row["decision"]), valid_from=datetime.fromisoformat(row["valid_from"]),
            valid_to=moment(row["valid_to"]),
        )


@strawberry.type
class Assignment:
    tasking_id: strawberry.ID
    district: str
    lead_partner: str
    share: Decimal
    deadline: date

    @staticmethod
    def from_dict(row: dict[str, Any]) -> Assignment:
        return Assignment(tasking_id=strawberry.ID(row["tasking_id"]), district=row["district"],
                          lead_partner=row["lead_partner"], share=Decimal(row["share"]),
                          deadline=date.fromisoformat(row["deadline"]))


@strawberry.type
class RetaskingStep:
    summary: str
    before: list[Assignment]
    after: list[Assignment]
    decision: Decision | None
    decided_by: Actor
    recorded_at: datetime


@strawberry.type
class RetaskingChain:
    root: strawberry.ID
    taskings: list[strawberry.ID]
    origin: list[Assignment]
    steps: list[RetaskingStep]


@strawberry.type
class DecisionTaken:
    """A decision as it rode on a coordination event: which body, when, why, at which meeting, on what."""

    subject: strawberry.ID
    version: int
    event_type: str
    body: str
    decided_on: date
    reason: str
    meeting_id: str | None
    reference: str | None
    recorded_by: Actor
    recorded_at: datetime


@strawberry.type
class Membership:
    body: str
    body_kind: str
    organisation: str
    nominated_by: str | None
    is_member: bool
    reason: str | None
    changed_by: Actor
    valid_from: datetime
    valid_to: datetime | None


@strawberry.type
class DistrictCommitment:
    organisation: str
    districts: list[str]
    valid_from: datetime


@strawberry.type
class Meeting:
    id: strawberry.ID
    body: str
    held_on: date
    present: list[str]
    title: str
    recorded_by: Actor


@strawberry.type
class AgreedAction:
    id: strawberry.ID
    version: int
    meeting_id: strawberry.ID
    body: str
    description: str
    owner: str
    due_on: date
    done_on: date | None
    overdue: bool

    @staticmethod
    def from_row(row: dict[str, Any], today: date) -> AgreedAction:
        due = date.fromisoformat(row["due_on"])
        done = date.fromisoformat(row["done_on"]) if row["done_on"] else None
        return AgreedAction(id=strawberry.ID(row["id"]), version=row["version"],
                            meeting_id=strawberry.ID(row["meeting_id"]), body=row["body"],
                            description=row["description"], owner=row["owner"], due_on=due, done_on=done,
                            overdue=done is None and today > due)


@strawberry.type
class DistrictWithoutPartnerKind:
    district: str
    district_name: str
    partner_kinds: list[str]
    partners: list[str]
    taskings: list[Tasking]


def _today(as_of: datetime | None) -> date:
    return (as_of or datetime.now(UTC)).date()


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Taskings by district, theme group, target, status or lead partner, as of a time.")
    def taskings(self, info: Info, as_of: datetime | None = None, district: str | None = None,
                 theme_group: str | None = None, target_id: strawberry.ID | None = None, status: str | None = None,
                 lead_partner: str | None = None) -> list[Tasking]:
        rows = taskings(read_model(info).store, as_of, district=district, theme_group=theme_group,
                        target_id=None if target_id is None else str(target_id), status=status,
                        lead_partner=lead_partner)
        return [Tasking.from_row(r) for r in rows]

    @strawberry.field(permission_classes=[IsAuthenticated])
    def tasking(self, info: Info, id: strawberry.ID, as_of: datetime | None = None) -> Tasking | None:
        clause, params = as_of_clause(as_of)
        rows = read_model(info).store.query(f"SELECT * FROM taskings WHERE id = ? AND {clause}", [str(id), *params])
        return Tasking.from_row(rows[0]) if rows else None

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The retasking chain a tasking belongs to: who decided each change, when, why.")
    def retasking_chain(self, info: Info, tasking_id: strawberry.ID,
                        as_of: datetime | None = None) -> RetaskingChain:
        model = read_model(info)
        chain = retasking_chain(model.store, str(tasking_id), model.partnership, as_of)
        return RetaskingChain(
            root=strawberry.ID(chain["root"]), taskings=[strawberry.ID(t) for t in chain["taskings"]],
            origin=[Assignment.from_dict(o) for o in chain["origin"]],
            steps=[RetaskingStep(summary=s["summary"], before=[Assignment.from_dict(b) for b in s["before"]],
                                 after=[Assignment.from_dict(a) for a in s["after"]],
                                 decision=decision_from(s["decision"]), decided_by=_actor(s),
                                 recorded_at=datetime.fromisoformat(s["at"])) for s in chain["steps"]],
        )

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Decisions on taskings and memberships, by body and date range.")
    def decisions(self, info: Info, as_of: datetime | None = None, body: str | None = None,
                  decided_from: date | None = None, decided_to: date | None = None) -> list[DecisionTaken]:
        rows = decisions(read_model(info).store, as_of, body=body, decided_from=decided_from, decided_to=decided_to)
        return [DecisionTaken(subject=strawberry.ID(r["subject"]), version=r["version"], event_type=r["type"],
                              body=r["body"], decided_on=date.fromisoformat(r["decided_on"]), reason=r["reason"],
                              meeting_id=r["meeting_id"], reference=r["reference"], recorded_by=_actor(r),
                              recorded_at=datetime.fromisoformat(r["at"])) for r in rows]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Who sits at which table (current members unless includeFormer), as of a time.")
    def memberships(self, info: Info, as_of: datetime | None = None, body: str | None = None,
                    organisation: str | None = None, include_former: bool = False) -> list[Membership]:
        rows = memberships(read_model(info).store, as_of, body=body, organisation=organisation,
                           include_former=include_former)
        return [Membership(body=r["body"], body_kind=r["body_kind"], organisation=r["organisation"],
                           nominated_by=r["nominated_by"], is_member=bool(r["is_member"]), reason=r["reason"],
                           changed_by=_actor(r), valid_from=datetime.fromisoformat(r["valid_from"]),
                           valid_to=moment(r["valid_to"])) for r in rows]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The districts each county-wide partner commits to.")
    def district_commitments(self, info: Info, as_of: datetime | None = None,
                             organisation: str | None = None) -> list[DistrictCommitment]:
        return [DistrictCommitment(organisation=r["organisation"], districts=json.loads(r["districts"]),
                                   valid_from=datetime.fromisoformat(r["valid_from"]))
                for r in commitments(read_model(info).store, as_of, organisation)]

    @strawberry.field(permission_classes=[IsAuthenticated])
    def meetings(self, info: Info, as_of: datetime | None = None, body: str | None = None) -> list[Meeting]:
        return [Meeting(id=strawberry.ID(r["id"]), body=r["body"], held_on=date.fromisoformat(r["held_on"]),
                        present=json.loads(r["present"]), title=r["title"], recorded_by=_actor(r))
                for r in meetings(read_model(info).store, as_of, body)]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Actions agreed at meetings, by body or owner; overdue is judged on asOf's date.")
    def agreed_actions(self, info: Info, as_of: datetime | None = None, body: str | None = None,
                       owner: str | None = None) -> list[AgreedAction]:
        today = _today(as_of)
        return [AgreedAction.from_row(r, today)
                for r in agreed_actions(read_model(info).store, as_of, body=body, owner=owner)]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Agreed actions past their due date and not done (on asOf's date, default today).")
    def overdue_actions(self, info: Info, as_of: datetime | None = None,
                        owner: str | None = None) -> list[AgreedAction]:
        today = _today(as_of)
        return [AgreedAction.from_row(r, today)
                for r in agreed_actions(read_model(info).store, as_of, owner=owner, overdue_on=today)]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Districts holding a live tasking with no partner of this kind (council, nhs, "
                                  "police, fire, college, voluntary_sector, business) at their partnership's table.")
    def districts_without_partner_kind(self, info: Info, kind: str,
                                       as_of: datetime | None = None) -> list[DistrictWithoutPartnerKind]:
        return [DistrictWithoutPartnerKind(district=d["district"], district_name=d["district_name"],
                                           partner_kinds=d["partner_kinds"], partners=d["partners"],
                                           taskings=[Tasking.from_row(t) for t in d["taskings"]])
                for d in districts_without_partner_kind(read_model(info).store, kind, read_model(info).partnership,
                                                        as_of)]

