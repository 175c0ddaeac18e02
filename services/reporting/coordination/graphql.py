"""The coordination read model in GraphQL: taskings (and pages of them), retasking chains, decisions, memberships,
commitments, meetings, agreed actions (and pages of them) and districts missing a kind of partner."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from services.reporting.coordination import queries
from services.reporting.graphql_common import (
    AFTER,
    BEFORE,
    FIRST,
    IN_FORCE_ON,
    LAST,
    Actor,
    Connection,
    Decision,
    IsAuthenticated,
    decision_from,
    moment,
    paginate,
    read_model,
)
from services.reporting.graphql_node import Node, key_parts, one, parse_id, register, scoped_id, typed_id
from services.reporting.provenance import quorum_in_words
from services.reporting.temporal import When, at, in_force_day, recorded_moment
from shared.meeting_copy import minuted_quorums


def _actor(row: dict[str, Any]) -> Actor:
    return Actor(user_id=row["changed_by"], organisation=row["changed_by_organisation"], role=row["changed_by_role"])


@strawberry.type
class Tasking(Node):
    id: strawberry.ID = strawberry.field(description=(
        "Unique among all objects: the tasking's id when read now; read with asOf or inForceOn, an opaque id "
        "naming that moment too (node(id:) and tasking(id:) answer as of it)."))
    tasking_id: strawberry.ID = strawberry.field(description="The tasking's own id, the same at every moment.")
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
    in_force_from: date = strawberry.field(description="The day this version is in force from (its decision's).")

    @staticmethod
    def from_row(row: dict[str, Any], when: When = None) -> Tasking:
        return Tasking(
            id=scoped_id("Tasking", row["id"], when), tasking_id=strawberry.ID(row["id"]), version=row["version"],
            target_id=strawberry.ID(row["target_id"]),
            theme_group=row["theme_group"], district=row["district"], share=Decimal(row["share"]), unit=row["unit"],
            deadline=date.fromisoformat(row["deadline"]), lead_partner=row["lead_partner"],
            commissioning_level=row["commissioning_level"], status=row["status"],
            status_reason=row["status_reason"],
            retasked_from=strawberry.ID(row["retasked_from"]) if row["retasked_from"] else None,
            achieved=Decimal(row["achieved"]) if row["achieved"] else None, changed_by=_actor(row),
            decision=decision_from(row["decision"]), valid_from=datetime.fromisoformat(row["valid_from"]),
            valid_to=moment(row["valid_to"]), in_force_from=date.fromisoformat(row["in_force_from"]),
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
class DecisionTaken(Node):
    """A decision as it rode on a coordination event: which body, when, why, at which meeting, on what."""

    id: strawberry.ID = strawberry.field(description="Unique among all objects (opaque): the event's subject and "
                                                     "version name it.")
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
    raw: strawberry.Private[dict[str, Any]]

    @strawberry.field(description="The deciding body by its name.")
    def body_name(self, info: Info) -> str:
        return read_model(info).provenance.body_name(self.body)

    @strawberry.field(description="The title of the meeting it was taken at; null under a scheme of delegation or "
                                  "when it does not resolve to a recorded quorate meeting of its body.")
    def meeting_title(self, info: Info) -> str | None:
        shown = read_model(info).provenance.meeting(self.raw)
        return shown.title if shown else None

    @strawberry.field(description="The date of the meeting it was taken at (null as for meetingTitle).")
    def meeting_held_on(self, info: Info) -> date | None:
        shown = read_model(info).provenance.meeting(self.raw)
        return shown.held_on if shown else None

    @strawberry.field(description="Whether it resolves to a recorded quorate meeting of its body (or a scheme of "
                                  "delegation); the public sees only those that do.")
    def resolves(self, info: Info) -> bool:
        return read_model(info).provenance.resolves(self.raw)


def _decision_on(store: Any, row: dict[str, Any]) -> dict[str, Any]:
    """The whole decision as it rode on the event (the row keeps the fields it filters on)."""
    found = store.query("SELECT decision FROM event_log WHERE subject = ? AND version = ?",
                        [row["subject"], row["version"]])
    if found and found[0]["decision"]:
        return dict(json.loads(found[0]["decision"]))
    return {"body": row["body"], "decided_on": row["decided_on"], "reason": row["reason"],
            "meeting_id": row["meeting_id"], "reference": row["reference"]}


@strawberry.type
class Membership(Node):
    id: strawberry.ID = strawberry.field(description=(
        "Unique among all objects (opaque): the body and organisation name it, and the moment it was read at when "
        "that is not now (node(id:) answers as of it)."))
    body: str
    body_kind: str
    organisation: str
    nominated_by: str | None
    is_member: bool
    reason: str | None
    changed_by: Actor
    valid_from: datetime
    valid_to: datetime | None
    in_force_from: date | None = strawberry.field(default=None,
                                                  description="The day this version is in force from.")


@strawberry.type
class DistrictCommitment:
    organisation: str
    districts: list[str]
    valid_from: datetime


@strawberry.type
class Meeting(Node):
    id: strawberry.ID = strawberry.field(description="The meeting's own id (a recorded meeting does not change).")
    body: str
    held_on: date
    present: list[str]
    title: str
    recorded_by: Actor
    quorum_as_minuted: str | None = strawberry.field(default=None, description=(
        "For a historic meeting whose attendance was never minuted (present is empty): the minute reference that "
        "records it as quorate, its quorum's only evidence. Null when present says who attended."))
    quorum: str = strawberry.field(default="attendance recorded", description=(
        "How the meeting's quorum is evidenced, in words: 'quorum as minuted (<reference>)' or 'attendance "
        "recorded'."))


@strawberry.type
class AgreedAction(Node):
    id: strawberry.ID = strawberry.field(description=(
        "Unique among all objects: the action's own id when read now; read with asOf or inForceOn, an opaque id "
        "naming that moment too (node(id:) answers as of it)."))
    action_id: strawberry.ID = strawberry.field(description="The action's own id, the same at every moment.")
    version: int
    meeting_id: strawberry.ID
    body: str
    description: str
    owner: str
    due_on: date
    done_on: date | None
    overdue: bool

    @staticmethod
    def from_row(row: dict[str, Any], today: date, when: When = None) -> AgreedAction:
        due = date.fromisoformat(row["due_on"])
        done = date.fromisoformat(row["done_on"]) if row["done_on"] else None
        return AgreedAction(id=scoped_id("AgreedAction", row["id"], when), action_id=strawberry.ID(row["id"]),
                            version=row["version"],
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


def _today(as_of: datetime | None, in_force_on: date | None = None) -> date:
    """The day overdue is judged on: the in-force day asked, else asOf's, else today."""
    return in_force_on or (as_of or datetime.now(UTC)).date()


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Taskings by district, theme group, target, status or lead partner, as of a time.")
    def taskings(self, info: Info, as_of: datetime | None = None,
                 in_force_on: IN_FORCE_ON = None, district: str | None = None,
                 theme_group: str | None = None, target_id: strawberry.ID | None = None, status: str | None = None,
                 lead_partner: str | None = None) -> list[Tasking]:
        rows = queries.taskings(read_model(info).store, as_of, district=district, theme_group=theme_group,
                        target_id=None if target_id is None else str(target_id), status=status,
                        lead_partner=lead_partner, in_force_on=in_force_on)
        when = at(as_of, in_force_on)
        return [Tasking.from_row(r, when) for r in rows]

    @strawberry.field(permission_classes=[IsAuthenticated])
    def tasking(self, info: Info, id: strawberry.ID, as_of: datetime | None = None,
                in_force_on: IN_FORCE_ON = None) -> Tasking | None:
        return _tasking(info, str(id), at(as_of, in_force_on))

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The retasking chain a tasking belongs to: who decided each change, when, why.")
    def retasking_chain(self, info: Info, tasking_id: strawberry.ID,
                        as_of: datetime | None = None, in_force_on: IN_FORCE_ON = None) -> RetaskingChain:
        model = read_model(info)
        chain = queries.retasking_chain(model.store, str(tasking_id), model.provenance, as_of, in_force_on)
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
    def decisions(self, info: Info, as_of: datetime | None = None,
                  in_force_on: IN_FORCE_ON = None, body: str | None = None,
                  decided_from: date | None = None, decided_to: date | None = None) -> list[DecisionTaken]:
        model = read_model(info)
        rows = queries.decisions(model.store, as_of, body=body, decided_from=decided_from, decided_to=decided_to,
                                 in_force_on=in_force_on)
        taken = [_decision_taken(model.store, r) for r in rows]
        principal = info.context.get("principal")
        if principal is not None and principal.is_public:  # as open data: only the decisions that resolve
            taken = [d for d in taken if model.provenance.resolves(d.raw)]
        return taken

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Who sits at which table (current members unless includeFormer), as of a time.")
    def memberships(self, info: Info, as_of: datetime | None = None,
                    in_force_on: IN_FORCE_ON = None, body: str | None = None,
                    organisation: str | None = None, include_former: bool = False) -> list[Membership]:
        rows = queries.memberships(read_model(info).store, as_of, body=body, organisation=organisation,
                           include_former=include_former, in_force_on=in_force_on)
        return [_membership(r, at(as_of, in_force_on)) for r in rows]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The districts each county-wide partner commits to.")
    def district_commitments(self, info: Info, as_of: datetime | None = None, in_force_on: IN_FORCE_ON = None,
                             organisation: str | None = None) -> list[DistrictCommitment]:
        return [DistrictCommitment(organisation=r["organisation"], districts=json.loads(r["districts"]),
                                   valid_from=datetime.fromisoformat(r["valid_from"]))
                for r in queries.commitments(read_model(info).store, as_of, organisation,
                                                                                 in_force_on)]

    @strawberry.field(permission_classes=[IsAuthenticated])
    def meetings(self, info: Info, as_of: datetime | None = None,
                 in_force_on: IN_FORCE_ON = None, body: str | None = None) -> list[Meeting]:
        store = read_model(info).store
        minuted = minuted_quorums(store)
        return [_meeting(r, minuted) for r in queries.meetings(store, as_of, body, in_force_on)]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Actions agreed at meetings, by body or owner; overdue is judged on asOf's date.")
    def agreed_actions(self, info: Info, as_of: datetime | None = None,
                       in_force_on: IN_FORCE_ON = None, body: str | None = None,
                       owner: str | None = None) -> list[AgreedAction]:
        today, when = _today(as_of, in_force_on), at(as_of, in_force_on)
        return [AgreedAction.from_row(r, today, when)
                for r in queries.agreed_actions(read_model(info).store, as_of, body=body, owner=owner,
                                                in_force_on=in_force_on)]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Agreed actions past their due date and not done (on asOf's date, default today).")
    def overdue_actions(self, info: Info, as_of: datetime | None = None, in_force_on: IN_FORCE_ON = None,
                        owner: str | None = None) -> list[AgreedAction]:
        today, when = _today(as_of, in_force_on), at(as_of, in_force_on)
        return [AgreedAction.from_row(r, today, when)
                for r in queries.agreed_actions(read_model(info).store, as_of, owner=owner, overdue_on=today,
                                                in_force_on=in_force_on)]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Districts holding a live tasking with no partner of this kind (council, nhs, "
                                  "police, fire, college, voluntary_sector, business) at their partnership's table.")
    def districts_without_partner_kind(self, info: Info, kind: str,
                                       as_of: datetime | None = None,
                                       in_force_on: IN_FORCE_ON = None) -> list[DistrictWithoutPartnerKind]:
        model = read_model(info)
        return [DistrictWithoutPartnerKind(district=d["district"],
                                           district_name=model.provenance.district_name(d["district"]),
                                           partner_kinds=d["partner_kinds"], partners=d["partners"],
                                           taskings=[Tasking.from_row(t, at(as_of, in_force_on))
                                                     for t in d["taskings"]])
                for d in queries.districts_without_partner_kind(model.store, kind, model.partnership, as_of,
                                                                             in_force_on)]

    @strawberry.field(permission_classes=[IsAuthenticated], description="Taskings, a page at a time.")
    def taskings_connection(self, info: Info, first: FIRST = None, after: AFTER = None,
                            last: LAST = None, before: BEFORE = None,
                            as_of: datetime | None = None, in_force_on: IN_FORCE_ON = None, district: str | None = None,
                            theme_group: str | None = None, target_id: strawberry.ID | None = None,
                            status: str | None = None, lead_partner: str | None = None) -> Connection[Tasking]:
        rows = queries.taskings(read_model(info).store, as_of, district=district, theme_group=theme_group,
                                target_id=None if target_id is None else str(target_id), status=status,
                                lead_partner=lead_partner, in_force_on=in_force_on)
        when = at(as_of, in_force_on)
        return paginate(rows, lambda r: (r["target_id"], r["district"], r["id"]),
                        lambda r: Tasking.from_row(r, when), first, after, last, before)

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Agreed actions, a page at a time; overdueOnly keeps those past due and not done.")
    def agreed_actions_connection(self, info: Info, first: FIRST = None, after: AFTER = None,
                                  last: LAST = None, before: BEFORE = None,
                                  as_of: datetime | None = None,
                                  in_force_on: IN_FORCE_ON = None, body: str | None = None, owner: str | None = None,
                                  overdue_only: bool = False) -> Connection[AgreedAction]:
        today, when = _today(as_of, in_force_on), at(as_of, in_force_on)
        rows = queries.agreed_actions(read_model(info).store, as_of, body=body, owner=owner,
                                      overdue_on=today if overdue_only else None, in_force_on=in_force_on)
        return paginate(rows, lambda r: (r["due_on"], r["id"]), lambda r: AgreedAction.from_row(r, today, when),
                        first, after, last, before)


def _tasking(info: Info, key: str, when: When) -> Tasking | None:
    """One tasking at ``when``; ``key`` may be a moment-scoped id (``graphql_node``), whose moment then holds
    unless ``when`` names one."""
    parsed = parse_id(key)
    if parsed.type_name not in (None, "Tasking"):
        return None
    when = when if when is not None else parsed.when
    row = queries.tasking(read_model(info).store, parsed.key, recorded_moment(when), in_force_day(when))
    return Tasking.from_row(row, when) if row else None


register("Tasking", ("tasking", "taskings", "taskingsConnection"), _tasking)


def _decision_taken(store: Any, r: dict[str, Any]) -> DecisionTaken:
    return DecisionTaken(id=typed_id("DecisionTaken", (r["subject"], r["version"])),
                         subject=strawberry.ID(r["subject"]), version=r["version"], event_type=r["type"],
                         body=r["body"], decided_on=date.fromisoformat(r["decided_on"]), reason=r["reason"],
                         meeting_id=r["meeting_id"], reference=r["reference"], recorded_by=_actor(r),
                         recorded_at=datetime.fromisoformat(r["at"]), raw=_decision_on(store, r))


def _membership(r: dict[str, Any], when: When) -> Membership:
    return Membership(id=typed_id("Membership", (r["body"], r["organisation"]), when), body=r["body"],
                      body_kind=r["body_kind"], organisation=r["organisation"], nominated_by=r["nominated_by"],
                      is_member=bool(r["is_member"]), reason=r["reason"], changed_by=_actor(r),
                      valid_from=datetime.fromisoformat(r["valid_from"]), valid_to=moment(r["valid_to"]),
                      in_force_from=date.fromisoformat(r["in_force_from"]))


def _meeting(r: dict[str, Any], minuted: dict[str, str]) -> Meeting:
    return Meeting(id=strawberry.ID(r["id"]), body=r["body"], held_on=date.fromisoformat(r["held_on"]),
                   present=json.loads(r["present"]), title=r["title"], recorded_by=_actor(r),
                   quorum_as_minuted=minuted.get(r["id"]), quorum=quorum_in_words(minuted.get(r["id"])))


def _decision_node(info: Info, key: str, when: When) -> DecisionTaken | None:
    parts = key_parts(key, 2)
    if parts is None:
        return None
    store = read_model(info).store
    found = [r for r in queries.decisions(store, recorded_moment(when), in_force_on=in_force_day(when))
             if r["subject"] == parts[0] and r["version"] == parts[1]]
    if not found:
        return None
    taken = _decision_taken(store, found[0])
    principal = info.context.get("principal")
    if principal is not None and principal.is_public and not read_model(info).provenance.resolves(taken.raw):
        return None  # as the decisions query: the public sees only the decisions that resolve
    return taken


def _membership_node(info: Info, key: str, when: When) -> Membership | None:
    parts = key_parts(key, 2)
    if parts is None:
        return None
    rows = queries.memberships(read_model(info).store, recorded_moment(when), body=str(parts[0]),
                               organisation=str(parts[1]), include_former=True, in_force_on=in_force_day(when))
    return _membership(rows[0], when) if rows else None


def _meeting_node(info: Info, key: str, when: When) -> Meeting | None:
    store = read_model(info).store
    found = one(queries.meetings(store, recorded_moment(when), None, in_force_day(when)), key)
    return _meeting(found, minuted_quorums(store)) if found else None


def _action_node(info: Info, key: str, when: When) -> AgreedAction | None:
    parsed = parse_id(key)
    if parsed.type_name not in (None, "AgreedAction"):
        return None
    when = when if when is not None else parsed.when
    moment_, day = recorded_moment(when), in_force_day(when)
    found = one(queries.agreed_actions(read_model(info).store, moment_, in_force_on=day), parsed.key)
    return AgreedAction.from_row(found, _today(moment_, day), when) if found else None


register("DecisionTaken", "decisions", _decision_node, own_ids=False)
register("Membership", "memberships", _membership_node, own_ids=False)
register("Meeting", "meetings", _meeting_node)
register("AgreedAction", ("agreedActions", "agreedActionsConnection", "overdueActions"), _action_node)
