"""The decision rule: a decision resolves to a quorate meeting of a body of the partnership, or to a scheme of
delegation that lets the acting officer take it for that body, by the rules in force on the decision's date.

One implementation, used at entry by every service that takes decisions (priorities, tasking, projects) and by
``partnership audit decisions``. It is pure: the partnership's rules come through ``PartnershipRules`` (asked "as
of date D"), the meetings and memberships through ``MeetingRecords`` (tasking's own store, or a service's copy of
``tasking.events``).
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from shared.contracts import Decision
from shared.errors import InvalidCommand, NotYetKnown

RETRY_AFTER_SECONDS = 2


class DecisionKind(StrEnum):
    """What a decision decides: a scheme of delegation names the kinds an officer may take for a body."""

    OBJECTIVE_CHANGE = "objective.change"
    TARGET_SET = "target.set"
    TARGET_REVISE = "target.revise"
    TARGET_RETIRE = "target.retire"
    PRIORITY_AGREE = "priority.agree"
    PRIORITY_REJECT = "priority.reject"
    PRIORITY_RETIRE = "priority.retire"
    PRIORITY_RECONFIRM = "priority.reconfirm"
    SCS_REVIEW = "scs_review"
    EVIDENCE_SIFT = "evidence.sift"
    PERFORMANCE_RELEASE = "performance.release"
    TASKING = "tasking"
    TASKING_ANSWER = "tasking.answer"
    MEMBERSHIP = "membership"
    PROJECT_OPENING = "project.opening"
    PROJECT_INTERVENTION = "project.intervention"
    CONTRIBUTION_REPOINT = "project.repointing"
    PROJECT_DEFERRAL = "project.deferral"
    PROJECT_CLOSURE = "project.closure"
    RAG_OVERRIDE = "project.rag_override"
    PARTNERSHIP_RULES = "partnership.rules"
    PERSONAL_DATA_ERASURE = "personal_data.erasure"
    TEXT_REDACTION = "personal_data.redaction"
    SCRUTINY_PACK_PUBLICATION = "scrutiny.pack_publication"


# -- the partnership's rules, asked as of a date --------------------------------------------------------------------


@dataclass(frozen=True)
class BodyRule:
    """A body that may decide: the partnership board, a theme group or a district partnership, with its quorum."""

    id: str
    name: str
    kind: str
    quorum: int


@dataclass(frozen=True)
class SchemeOfDelegation:
    """Which officer role may take which kinds of decision for which body, without a meeting."""

    id: str
    body: str
    role: str
    decisions: frozenset[str]
    name: str = ""


@dataclass(frozen=True)
class DistrictRule:
    """A district of the partnership: its name and its district partnership's (a body of the same id)."""

    id: str
    name: str
    partnership: str


@dataclass(frozen=True)
class RagRule:
    """The RAG thresholds: green within ``green_within_percent`` of the trajectory, amber within
    ``amber_within_percent``, red beyond (``shared.performance``)."""

    green_within_percent: float
    amber_within_percent: float


class RulesInForce(Protocol):
    """The partnership's rules as they stood on one date."""

    @property
    def rag(self) -> RagRule: ...

    @property
    def priority_limit(self) -> int:
        """The limit on agreed priorities in one district."""
        ...

    def body(self, body_id: str) -> BodyRule | None: ...

    def scheme(self, scheme_id: str) -> SchemeOfDelegation | None: ...

    def district(self, district_id: str) -> DistrictRule | None: ...

    def all_bodies(self) -> list[BodyRule]: ...

    def all_districts(self) -> list[DistrictRule]: ...

    def all_schemes(self) -> list[SchemeOfDelegation]: ...


class PartnershipRules(Protocol):
    """The partnership's rules through time: ``as_of(D)`` is what was in force on D (None before it existed)."""

    def as_of(self, day: date) -> RulesInForce | None: ...


# -- meetings and memberships, as a service knows them -------------------------------------------------------------


@dataclass(frozen=True)
class MeetingRecord:
    """A meeting as its body's minute book records it.

    ``entry`` is its place in the body's minute book (the ``meeting_version`` a decision names); ``roll`` the
    version of each present partner's membership of the body when the meeting was recorded, so a copy can tell
    whether it has heard of those memberships yet.
    """

    id: UUID
    body: str
    held_on: date
    title: str
    present: tuple[str, ...]
    entry: int
    roll: tuple[tuple[str, int], ...] = ()
    quorum_as_minuted: str | None = None
    """The minute reference recording a historic meeting as quorate, when its attendance was never minuted."""

    @property
    def minuted_quorum(self) -> bool:
        """Whether its quorum rests on the minutes' word alone ("quorum as minuted"), not on who was present."""
        return bool(self.quorum_as_minuted) and not self.present


class MeetingRecords(Protocol):
    """Meetings and memberships: tasking's own, or a service's copy of them from ``tasking.events``."""

    authoritative: bool
    """True in tasking (the owner): nothing is on its way, so an unknown meeting is simply not held."""

    def minute_book_version(self, body: str) -> int:
        """How many meetings of the body this store knows (the last entry of its minute book; 0 for none)."""
        ...

    def meeting(self, meeting_id: UUID) -> MeetingRecord | None: ...

    def book_and_meeting(self, body: str, meeting_id: UUID) -> tuple[int, MeetingRecord | None]:
        """``minute_book_version(body)`` and then ``meeting(meeting_id)``: read in that order, or in one read."""
        ...

    def membership_version(self, body: str, organisation: str) -> int:
        """The version of the partner's membership of the body this store knows (0 for none)."""
        ...

    def member_on(self, body: str, organisation: str, day: date) -> bool:
        """Was the partner's membership of the body in force on ``day``?"""
        ...

    def memberships(self, body: str, organisations: Sequence[str], day: date) -> dict[str, tuple[int, bool]]:
        """For each partner named: the version of its membership of the body this store knows (0 for none) and
        whether it was in force on ``day``. A whole roll in one read (``PerPartner`` asks one partner at a time)."""
        ...


class PerPartner(ABC):
    """``memberships`` by asking ``membership_version`` and ``member_on`` for each partner: for stores where a
    partner is a lookup in memory or one aggregate, not a query."""

    @abstractmethod
    def membership_version(self, body: str, organisation: str) -> int:
        """The version of the partner's membership of the body this store knows (0 for none)."""

    @abstractmethod
    def member_on(self, body: str, organisation: str, day: date) -> bool:
        """Was the partner's membership of the body in force on ``day``?"""

    def memberships(self, body: str, organisations: Sequence[str], day: date) -> dict[str, tuple[int, bool]]:
        return {org: (self.membership_version(body, org), self.member_on(body, org, day)) for org in organisations}

    @abstractmethod
    def minute_book_version(self, body: str) -> int: ...

    @abstractmethod
    def meeting(self, meeting_id: UUID) -> MeetingRecord | None: ...

    def book_and_meeting(self, body: str, meeting_id: UUID) -> tuple[int, MeetingRecord | None]:
        known = self.minute_book_version(body)  # the book first (see resolve_meeting)
        return known, self.meeting(meeting_id)


@dataclass(frozen=True)
class Period:
    """A membership in force from ``joined_on`` until the day before ``left_on`` (open while None)."""

    joined_on: date
    left_on: date | None = None

    def covers(self, day: date) -> bool:
        return self.joined_on <= day and (self.left_on is None or day < self.left_on)


def in_force_on(periods: Iterable[Period], day: date) -> bool:
    return any(period.covers(day) for period in periods)


# -- refusals ---------------------------------------------------------------------------------------------------


class DecisionNotValid(InvalidCommand):
    """A decision that does not resolve: 422, with a code saying which part failed and the field named."""

    def __init__(self, code: str, message: str, field: str, **details: object) -> None:
        super().__init__(message, [{"field": field, "message": message}], **details)
        self.code = code


class MeetingNotYetKnown(NotYetKnown):
    """The decision names a minute-book version this copy has not reached: retry once the events arrive."""


def _not_held(message: str, field: str = "decision.meeting_id") -> DecisionNotValid:
    return DecisionNotValid("meeting-not-held", message, field)


# -- the rule -----------------------------------------------------------------------------------------------------


def check_decision(decision: Decision | None, *, what: str, kind: DecisionKind, bodies: Collection[str] | None,
                   rules: PartnershipRules, meetings: MeetingRecords, acting_role: str | None = None,
                   needs_reference: bool = False) -> Decision:
    """The decision, if it resolves; refused (422, the field named) or deferred (503) otherwise.

    It resolves when the body was one of the partnership's on the decision's date, is one of ``bodies`` (who may
    take this decision; None: any body), and either the meeting named was recorded as held by that body on that
    date and quorate by the memberships in force that day, or the scheme of delegation named lets the acting
    officer's role take this kind of decision for that body.
    """
    if decision is None:
        raise DecisionNotValid("decision-required",
                               f"{what} is a decision: say which body decided it, at which meeting, when and why.",
                               "decision")
    if not decision.reason.strip():
        raise DecisionNotValid("decision-required", f"{what} needs the reason for the decision.", "decision.reason")
    if needs_reference and not (decision.reference or "").strip():
        raise DecisionNotValid("decision-required", f"{what} needs the decision's reference (minute number).",
                               "decision.reference")
    in_force = rules.as_of(decision.decided_on)
    body = in_force.body(decision.body) if in_force is not None else None
    if body is None:
        raise DecisionNotValid("unknown-body", f"No body '{decision.body}' of the partnership existed on "
                                               f"{decision.decided_on.isoformat()}.", "decision.body")
    assert in_force is not None
    if bodies is not None and body.id not in bodies:
        deciders = sorted((rule.name if (rule := in_force.body(b)) is not None else b) for b in bodies)
        raise DecisionNotValid("wrong-body", f"{what} is decided by the {' or the '.join(deciders)}, not by the "
                                             f"{body.name}.", "decision.body")
    if decision.delegation:
        return _delegated(decision, in_force, body, kind=kind, acting_role=acting_role, what=what)
    meeting, seats = _resolved(decision, meetings, in_force)
    if meeting.minuted_quorum:
        return decision  # quorum as minuted: the minutes say it was quorate, and no attendance was recorded
    present = members_present(meeting, meetings, seats)
    if len(present) < body.quorum:
        raise DecisionNotValid(
            "not-quorate",
            f"The meeting of {body.name} on {meeting.held_on.isoformat()} was not quorate: {len(present)} "
            f"member(s) present, {body.quorum} needed.", "decision.meeting_id",
            members_present=len(present), quorum=body.quorum)
    return decision


def resolve_meeting(decision: Decision, meetings: MeetingRecords, in_force: RulesInForce | None = None
                    ) -> MeetingRecord:
    """The meeting the decision names, recorded as held by its body on its date (503 while a copy is behind).

    A refusal names the bodies by their names in ``in_force`` (a person reads it), the meeting by its title too."""
    return _resolved(decision, meetings, in_force)[0]


Seats = dict[str, tuple[int, bool]]
"""For each partner: the version of its membership of the body known here, and whether it was in force that day."""


def _resolved(decision: Decision, meetings: MeetingRecords, in_force: RulesInForce | None
              ) -> tuple[MeetingRecord, Seats | None]:
    """The meeting, and on a copy the seats of its roll and of those present, read together (the quorum counts
    them next: one read, not two)."""

    def named(body_id: str) -> str:
        body = in_force.body(body_id) if in_force is not None else None
        return f"the {body.name}" if body is not None else f"'{body_id}'"

    if not decision.meeting_id:
        raise _not_held("Name the meeting the decision was taken at (meeting_id), or the scheme of delegation "
                        "it was taken under (delegation).")
    try:
        meeting_id = UUID(decision.meeting_id)
    except ValueError:
        raise _not_held(f"'{decision.meeting_id[:60]}' is not a meeting id.") from None
    if decision.meeting_version is None or decision.meeting_version < 1:
        raise _not_held("Give the meeting_version that recording the meeting answered.", "decision.meeting_version")
    # The book's version is read before the meeting (or with it, in one read): a copy's commit landing between two
    # reads the other way round would show the meeting missing and the book past it, "never held" for a meeting
    # that had just arrived. The authority has nothing on its way, so it is not asked (a load of the minute book
    # saved per decision).
    known, meeting = ((0, meetings.meeting(meeting_id)) if meetings.authoritative
                      else meetings.book_and_meeting(decision.body, meeting_id))
    if meeting is None:
        if not meetings.authoritative and known < decision.meeting_version:
            raise MeetingNotYetKnown(
                f"The meeting {meeting_id} is not known here yet (the minute book of '{decision.body}' is known "
                f"to entry {known}, the decision names entry {decision.meeting_version}): its event is on its "
                f"way; retry in {RETRY_AFTER_SECONDS} seconds.",
                retry_after=RETRY_AFTER_SECONDS, known_version=known, meeting_version=decision.meeting_version)
        raise _not_held(f"No meeting {meeting_id} of {named(decision.body)} was recorded as held.")
    if meeting.body != decision.body:
        raise _not_held(f"The meeting '{meeting.title}' ({meeting_id}) was of {named(meeting.body)}, not of "
                        f"{named(decision.body)}.")
    called = f"The meeting '{meeting.title}' of {named(meeting.body)} ({meeting_id})"
    if meeting.held_on != decision.decided_on:
        raise _not_held(f"{called} was held on {meeting.held_on.isoformat()}, not on "
                        f"{decision.decided_on.isoformat()}.", "decision.decided_on")
    if meeting.entry != decision.meeting_version:
        raise _not_held(f"{called} is entry {meeting.entry} of its minute book, not "
                        f"{decision.meeting_version}.", "decision.meeting_version")
    if meetings.authoritative:
        return meeting, None
    seats = meetings.memberships(meeting.body, sorted({*(org for org, _ in meeting.roll), *meeting.present}),
                                 meeting.held_on)
    behind = [org for org, version in meeting.roll if seats[org][0] < version]
    if behind:
        raise MeetingNotYetKnown(
            f"The memberships of {', '.join(behind)} behind the meeting {meeting_id} are not known here yet: "
            f"retry in {RETRY_AFTER_SECONDS} seconds.", retry_after=RETRY_AFTER_SECONDS)
    return meeting, seats


def members_present(meeting: MeetingRecord, meetings: MeetingRecords, seats: Seats | None = None) -> set[str]:
    """The partners present whose membership of the body was in force on the meeting's date (quorum counts them);
    ``seats``, when they were read already with the meeting's roll."""
    if seats is None:
        seats = meetings.memberships(meeting.body, list(meeting.present), meeting.held_on)
    return {org for org in meeting.present if seats[org][1]}


def _delegated(decision: Decision, in_force: RulesInForce, body: BodyRule, *, kind: DecisionKind,
               acting_role: str | None, what: str) -> Decision:
    scheme = in_force.scheme(decision.delegation or "")
    if scheme is None:
        raise DecisionNotValid("not-delegated", f"No scheme of delegation '{decision.delegation}' was in force on "
                                                f"{decision.decided_on.isoformat()}.", "decision.delegation")
    if decision.meeting_id:
        raise DecisionNotValid("not-delegated", "A delegated decision is taken by an officer, not at a meeting: "
                                                "name the scheme or the meeting, not both.", "decision.meeting_id")
    if scheme.body != body.id:
        raise DecisionNotValid("not-delegated", f"The scheme '{scheme.id}' delegates for '{scheme.body}', not for "
                                                f"{body.name}.", "decision.delegation")
    if kind.value not in scheme.decisions:
        raise DecisionNotValid("not-delegated", f"The scheme '{scheme.id}' does not delegate this decision "
                                                f"({what.lower()}).", "decision.delegation")
    if acting_role is not None and acting_role != scheme.role:
        raise DecisionNotValid("not-delegated", f"The scheme '{scheme.id}' delegates to the {scheme.role}, not to "
                                                f"the {acting_role}.", "decision.delegation")
    return decision


def problems_of(decision: Decision, *, rules: PartnershipRules, meetings: MeetingRecords) -> list[str]:
    """Why a stored decision does not resolve (empty when it does): the audit's re-check. Who may take which
    decision is each command's rule, so only body, meeting, date, quorum and scheme are judged here."""
    try:
        if decision.delegation:
            in_force = rules.as_of(decision.decided_on)
            body = in_force.body(decision.body) if in_force is not None else None
            scheme = in_force.scheme(decision.delegation) if in_force is not None else None
            if body is None:
                return [f"no body '{decision.body}' on {decision.decided_on.isoformat()}"]
            if scheme is None or scheme.body != body.id:
                return [f"no scheme of delegation '{decision.delegation}' for '{decision.body}'"]
            return []
        check_decision(decision, what="The decision", kind=DecisionKind.TASKING, bodies=None, rules=rules,
                       meetings=_Settled(meetings))
    except DecisionNotValid as refused:
        return [refused.message]
    return []


class _Settled:
    """An authoritative view of a store (the audit reads tasking's own): a version it lacks was never recorded."""

    authoritative = True

    def __init__(self, inner: MeetingRecords) -> None:
        self.inner = inner

    def minute_book_version(self, body: str) -> int:
        return self.inner.minute_book_version(body)

    def meeting(self, meeting_id: UUID) -> MeetingRecord | None:
        return self.inner.meeting(meeting_id)

    def book_and_meeting(self, body: str, meeting_id: UUID) -> tuple[int, MeetingRecord | None]:
        return self.inner.book_and_meeting(body, meeting_id)

    def membership_version(self, body: str, organisation: str) -> int:
        return self.inner.membership_version(body, organisation)

    def member_on(self, body: str, organisation: str, day: date) -> bool:
        return self.inner.member_on(body, organisation, day)

    def memberships(self, body: str, organisations: Sequence[str], day: date) -> dict[str, tuple[int, bool]]:
        return self.inner.memberships(body, organisations, day)


MINUTE_BOOKS = uuid.UUID("3b8f6e0c-2d41-5a97-b1c4-7e2a9d05f613")


def minute_book_id(body: str) -> UUID:
    """The id of a body's minute book, the same in every service."""
    return uuid.uuid5(MINUTE_BOOKS, body)


class MeetingsOfRecord(PerPartner):
    """Tasking's meetings and memberships rebuilt from its stored events (the audit's re-check reads them):
    authoritative, as tasking's own store is."""

    authoritative = True

    def __init__(self) -> None:
        self._meetings: dict[UUID, MeetingRecord] = {}
        self._books: dict[str, int] = {}
        self._seats: dict[tuple[str, str], tuple[int, list[Period]]] = {}

    def apply(self, fact: object, version: int, recorded_on: date) -> None:
        """One of tasking's events, in the order of its log (others are ignored)."""
        from shared.contracts.tasking import MeetingEntered, PartnerJoined, PartnerLeft

        if isinstance(fact, MeetingEntered):
            meeting_id = UUID(str(fact.meeting_id))
            self._meetings[meeting_id] = MeetingRecord(meeting_id, fact.body, fact.held_on, fact.title,
                                                       tuple(fact.present), version,
                                                       quorum_as_minuted=fact.quorum_as_minuted)
            self._books[fact.body] = max(version, self._books.get(fact.body, 0))
        elif isinstance(fact, PartnerJoined):
            _, periods = self._seats.get((fact.body, fact.organisation), (0, []))
            self._seats[(fact.body, fact.organisation)] = (version, [*periods,
                                                                     Period(fact.joined_on or recorded_on)])
        elif isinstance(fact, PartnerLeft):
            _, periods = self._seats.get((fact.body, fact.organisation), (0, []))
            if periods:
                periods = [*periods[:-1], Period(periods[-1].joined_on, fact.left_on or recorded_on)]
            self._seats[(fact.body, fact.organisation)] = (version, periods)

    def minute_book_version(self, body: str) -> int:
        return self._books.get(body, 0)

    def meeting(self, meeting_id: UUID) -> MeetingRecord | None:
        return self._meetings.get(meeting_id)

    def membership_version(self, body: str, organisation: str) -> int:
        return self._seats.get((body, organisation), (0, []))[0]

    def member_on(self, body: str, organisation: str, day: date) -> bool:
        return in_force_on(self._seats.get((body, organisation), (0, []))[1], day)
