"""The coordination read model's projection: one handler per ``tasking`` contract class."""

from __future__ import annotations

import json
from functools import singledispatch
from typing import Any

from services.reporting.coordination.tables import (
    AGREED_ACTIONS,
    COORDINATION_DECISIONS,
    DISTRICT_COMMITMENTS,
    MEETINGS,
    MEMBERSHIPS,
    PARTNERSHIP_RULES,
    PUBLISHED_PACKS,
    TASKING_CHANGES,
    TASKINGS,
)
from services.reporting.rows import Patch, Rows
from services.reporting.temporal import decision_json, timestamp
from shared.contracts import Fact
from shared.contracts.tasking import (
    ActionAgreed,
    ActionDone,
    DistrictAdded,
    DistrictRenamed,
    DistrictRetired,
    DistrictsCommitted,
    MeetingHeld,
    PartnerJoined,
    PartnerLeft,
    PartnershipFounded,
    PriorityLimitChanged,
    QuorumChanged,
    RagThresholdsChanged,
    SchemesOfDelegationChanged,
    ScrutinyPackPublished,
    TaskingAccepted,
    TaskingCompleted,
    TaskingDeclined,
    TaskingDeliveryStarted,
    TaskingIssued,
    TaskingRetasked,
    TaskingWithdrawn,
)
from shared.decisions import BodyRule, DistrictRule, RagRule, SchemeOfDelegation
from shared.envelope import Envelope
from shared.rules_history import FoundedRules, RulesState, change_of


@singledispatch
def project(fact: Fact, rows: Rows, envelope: Envelope) -> None:
    """Not an event the coordination read model follows."""


def _who(envelope: Envelope) -> dict[str, str]:
    return {"changed_by": envelope.actor, "changed_by_organisation": envelope.actororganisation,
            "changed_by_role": envelope.actorrole}


def _record_decision(rows: Rows, envelope: Envelope, fact: Fact) -> None:
    if fact.decision is None:
        return
    d = fact.decision
    rows.insert(COORDINATION_DECISIONS.name, {
        "subject": envelope.subject, "version": envelope.sequence, "type": envelope.type, "body": d.body,
        "decided_on": d.decided_on.isoformat(), "reason": d.reason, "meeting_id": d.meeting_id,
        "reference": d.reference, **_who(envelope), "at": timestamp(envelope.time)})


def _decision_key(fact: Fact) -> str | None:
    """Events taken under one decision (the retasking and the new tasking of a transfer) share this key."""
    if fact.decision is None:
        return None
    d = fact.decision
    return json.dumps([d.body, d.decided_on.isoformat(), d.reference or "", d.reason])


# -- taskings ----------------------------------------------------------------------------------------------------


@project.register
def _tasking_issued(fact: TaskingIssued, rows: Rows, envelope: Envelope) -> None:
    retasked_from = None if fact.retasked_from is None else str(fact.retasked_from)
    rows.put(TASKINGS.name, envelope, {
        "id": envelope.subject, "target_id": str(fact.target_id), "theme_group": fact.theme_group,
        "district": fact.district, "share": str(fact.share), "unit": fact.unit, "deadline": fact.deadline.isoformat(),
        "lead_partner": fact.lead_partner, "commissioning_level": str(fact.commissioning_level), "status": "issued",
        "retasked_from": retasked_from, "achieved": None, "status_reason": None, **_who(envelope),
        "decision": decision_json(fact)})
    rows.insert(TASKING_CHANGES.name, {
        "tasking_id": envelope.subject, "version": envelope.sequence, "kind": "issued", "district": fact.district,
        "lead_partner": fact.lead_partner, "share": str(fact.share), "deadline": fact.deadline.isoformat(),
        "retasked_from": retasked_from, "decision": decision_json(fact), "decision_key": _decision_key(fact),
        **_who(envelope), "at": timestamp(envelope.time), "in_force_from": rows.in_force})
    _record_decision(rows, envelope, fact)


def _next_tasking_row(rows: Rows, envelope: Envelope, fact: Fact, **changes: Any) -> None:
    """The tasking's next version with ``changes`` (a tasking never issued is dead-lettered)."""
    rows.revise(TASKINGS.name, envelope.subject, envelope, **_who(envelope), decision=decision_json(fact), **changes)
    _record_decision(rows, envelope, fact)


@project.register
def _accepted(fact: TaskingAccepted, rows: Rows, envelope: Envelope) -> None:
    _next_tasking_row(rows, envelope, fact, status="accepted", status_reason=None)


@project.register
def _declined(fact: TaskingDeclined, rows: Rows, envelope: Envelope) -> None:
    _next_tasking_row(rows, envelope, fact, status="declined", status_reason=fact.reason)


@project.register
def _delivery_started(fact: TaskingDeliveryStarted, rows: Rows, envelope: Envelope) -> None:
    _next_tasking_row(rows, envelope, fact, status="in_delivery", status_reason=None)


@project.register
def _completed(fact: TaskingCompleted, rows: Rows, envelope: Envelope) -> None:
    _next_tasking_row(rows, envelope, fact, status="completed", achieved=str(fact.achieved), status_reason=None)


@project.register
def _withdrawn(fact: TaskingWithdrawn, rows: Rows, envelope: Envelope) -> None:
    _next_tasking_row(rows, envelope, fact, status="withdrawn", status_reason=fact.reason)


@project.register
def _retasked(fact: TaskingRetasked, rows: Rows, envelope: Envelope) -> None:
    changes: dict[str, Any] = {"district": fact.district, "lead_partner": fact.lead_partner,
                               "share": str(fact.share), "deadline": fact.deadline.isoformat(),
                               "status_reason": fact.reason}
    if fact.issued_again:  # tasking says what the retasking leaves
        changes["status"] = "issued"
    _next_tasking_row(rows, envelope, fact, **changes)
    rows.insert(TASKING_CHANGES.name, {
        "tasking_id": envelope.subject, "version": envelope.sequence, "kind": "retasked", "district": fact.district,
        "lead_partner": fact.lead_partner, "share": str(fact.share), "deadline": fact.deadline.isoformat(),
        "previous_district": fact.previous_district, "previous_lead_partner": fact.previous_lead_partner,
        "previous_share": str(fact.previous_share), "previous_deadline": fact.previous_deadline.isoformat(),
        "retasked_from": None, "decision": decision_json(fact), "decision_key": _decision_key(fact),
        **_who(envelope), "at": timestamp(envelope.time), "in_force_from": rows.in_force})


# -- memberships, commitments, meetings, actions -----------------------------------------------------------------


@project.register
def _joined(fact: PartnerJoined, rows: Rows, envelope: Envelope) -> None:
    rows.put(MEMBERSHIPS.name, envelope, {
        "id": envelope.subject, "body": fact.body, "body_kind": str(fact.body_kind), "organisation": fact.organisation,
        "nominated_by": fact.nominated_by, "is_member": 1, "reason": None, **_who(envelope),
        "decision": decision_json(fact)})
    _record_decision(rows, envelope, fact)


@project.register
def _left(fact: PartnerLeft, rows: Rows, envelope: Envelope) -> None:
    rows.revise(MEMBERSHIPS.name, envelope.subject, envelope, body=fact.body, organisation=fact.organisation,
                is_member=0, reason=fact.reason, **_who(envelope), decision=decision_json(fact))
    _record_decision(rows, envelope, fact)


@project.register
def _committed(fact: DistrictsCommitted, rows: Rows, envelope: Envelope) -> None:
    rows.put(DISTRICT_COMMITMENTS.name, envelope, {
        "id": envelope.subject, "organisation": fact.organisation, "districts": json.dumps(sorted(fact.districts)),
        **_who(envelope)})


@project.register
def _meeting_held(fact: MeetingHeld, rows: Rows, envelope: Envelope) -> None:
    rows.insert(MEETINGS.name, {
        "id": envelope.subject, "body": fact.body, "body_kind": str(fact.body_kind),
        "held_on": fact.held_on.isoformat(), "present": json.dumps(fact.present), "title": fact.title,
        **_who(envelope), "at": timestamp(envelope.time)})


@project.register
def _action_agreed(fact: ActionAgreed, rows: Rows, envelope: Envelope) -> None:
    rows.put(AGREED_ACTIONS.name, envelope, {
        "id": envelope.subject, "meeting_id": str(fact.meeting_id), "body": fact.body,
        "description": fact.description, "owner": fact.owner, "due_on": fact.due_on.isoformat(), "done_on": None,
        "note": None, **_who(envelope)})


@project.register
def _action_done(fact: ActionDone, rows: Rows, envelope: Envelope) -> None:
    rows.revise(AGREED_ACTIONS.name, envelope.subject, envelope, done_on=fact.done_on.isoformat(), note=fact.note,
                **_who(envelope))


@project.register
def _pack_published(fact: ScrutinyPackPublished, rows: Rows, envelope: Envelope) -> None:
    assert fact.decision is not None  # tasking records none without
    rows.insert(PUBLISHED_PACKS.name, {
        "id": envelope.subject, "committee": fact.committee, "meeting_on": fact.meeting_on.isoformat(),
        "starts_on": fact.starts_on.isoformat(), "ends_on": fact.ends_on.isoformat(),
        "districts": json.dumps(sorted(fact.districts)), "theme_groups": json.dumps(sorted(fact.theme_groups)),
        "records_as_of": fact.records_as_of,
        "positions": json.dumps([{"topic": p.topic, "events": p.events} for p in fact.positions]),
        "sha256": fact.sha256, "renderer_version": fact.renderer_version, "papers_public": int(fact.papers_public),
        "decision": decision_json(fact) or "{}", **_who(envelope), "at": timestamp(envelope.time)})


# -- the partnership's rules ---------------------------------------------------------------------------------------

RULES_NAME = "The partnership's rules"


def _rules_row(state: RulesState) -> dict[str, Any]:
    """The rules as one row: bodies, districts and schemes as JSON objects by id (sorted: one text per state)."""
    return {
        "name": RULES_NAME,
        "bodies": json.dumps({b.id: {"name": b.name, "kind": b.kind, "quorum": b.quorum}
                              for b in state.all_bodies()}, sort_keys=True),
        "districts": json.dumps({d.id: {"name": d.name, "partnership": d.partnership}
                                 for d in state.all_districts()}, sort_keys=True),
        "schemes_of_delegation": json.dumps({s.id: {"body": s.body, "role": s.role, "decisions": sorted(s.decisions),
                                                    "name": s.name} for s in state.all_schemes()}, sort_keys=True),
        "green_within_percent": state.rag.green_within_percent, "amber_within_percent": state.rag.amber_within_percent,
        "max_agreed_priorities_per_district": state.priority_limit}


def _rules_state(row: Any) -> RulesState:
    bodies = json.loads(row["bodies"])
    districts = json.loads(row["districts"])
    schemes = json.loads(row["schemes_of_delegation"])
    return RulesState(
        bodies={k: BodyRule(k, v["name"], v["kind"], v["quorum"]) for k, v in bodies.items()},
        districts={k: DistrictRule(k, v["name"], v["partnership"]) for k, v in districts.items()},
        schemes={k: SchemeOfDelegation(k, v["body"], v["role"], frozenset(v["decisions"]), v["name"])
                 for k, v in schemes.items()},
        rag=RagRule(row["green_within_percent"], row["amber_within_percent"]),
        priority_limit=row["max_agreed_priorities_per_district"])


@project.register
def _partnership_founded(fact: PartnershipFounded, rows: Rows, envelope: Envelope) -> None:
    rows.put(PARTNERSHIP_RULES.name, envelope, {
        "id": envelope.subject, **_rules_row(FoundedRules.of(fact).state), **_who(envelope), "decision": None})


_KEYED = ("bodies", "districts", "schemes_of_delegation")
"""The rules' JSON objects by id: a change's own part of each is the keys it changed (a ``Patch``)."""


def _rules_changed(fact: Fact, rows: Rows, envelope: Envelope) -> None:
    """A change of the rules, on the rules as last recorded: only the parts it changed are its own change (of a
    JSON object by id, only the keys it changed), so on the in-force axis a back-dated change of one body's quorum
    leaves another body's, changed later or entered earlier, where it is."""
    change = change_of(fact)
    current = rows.existing(PARTNERSHIP_RULES.name, envelope.subject, envelope)
    if change is None:
        return
    changed: dict[str, Any] = {k: Patch.between(current[k], v) if k in _KEYED else v
                               for k, v in _rules_row(change.applied_to(_rules_state(current))).items()
                               if current[k] != v}
    rows.revise(PARTNERSHIP_RULES.name, envelope.subject, envelope, current, **changed, **_who(envelope),
                decision=decision_json(fact))


for _contract in (QuorumChanged, DistrictAdded, DistrictRenamed, DistrictRetired, SchemesOfDelegationChanged,
                  RagThresholdsChanged, PriorityLimitChanged):
    project.register(_contract)(_rules_changed)
