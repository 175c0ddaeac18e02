"""Use cases of the tasking service on its event store, with the targets it knows from ``priorities.events``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, project_aggregate
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from services.tasking import known_targets
from services.tasking.domain import (
    DATA_PROTECTION_REGISTER_ID,
    IDEMPOTENT_IDS,
    AgreedAction,
    Allotted,
    Commitment,
    DataProtectionRegister,
    KnownTarget,
    Meeting,
    Membership,
    MinuteBook,
    PublishedScrutinyPack,
    TargetAllocation,
    Tasking,
    derived_id,
)
from services.tasking.partnership import Partnership, differences
from shared.contracts import Decision
from shared.contracts.projects import ProfilePoint
from shared.contracts.tasking import (
    BodyKind,
    BodyQuorum,
    CommissioningLevel,
    DelegationScheme,
    DistrictName,
    MembershipVersion,
    TopicPosition,
)
from shared.decisions import DecisionKind, MeetingRecord, PerPartner, check_decision, minute_book_id
from shared.errors import ConcurrentChange, NotFound, NotYetKnown, RuleViolated
from shared.eventstore import CommandContext, ServiceApplication
from shared.partnership import PartnershipDefinition, definition_in_force, load
from shared.readstore import ReadStore
from shared.rules_history import FoundedRules, RuleChange, RulesOfRecord
from shared.settings import Settings

LOCAL_DDL = [
    # Targets as known from priorities.events (written by the consumer, with its position, in one transaction).
    *known_targets.DDL,
    # Which taskings share a target. Written before the tasking is saved, so it is a superset of the truth:
    # a row whose tasking was never saved is skipped when the shares are added up.
    "CREATE TABLE IF NOT EXISTS target_taskings ("
    " target_id TEXT NOT NULL, tasking_id TEXT NOT NULL, PRIMARY KEY (target_id, tasking_id))",
]

RETRY_AFTER_SECONDS = 2

A = TypeVar("A", bound=Aggregate)

_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


_log = logging.getLogger(__name__)
PARTNERSHIP_ID = derived_id("partnership")
"""The partnership's one record of its rules."""


def _allotted(target: KnownTarget) -> Allotted:
    return Allotted(metric=target.metric, unit=target.unit, target_value=target.target_value,
                    baseline_value=target.baseline_value, tasked=Decimal(0))


def _process_lock(key: str) -> threading.Lock:
    with _process_locks_guard:
        return _process_locks.setdefault(key, threading.Lock())


class TaskingApplication(ServiceApplication):
    service = "tasking"
    value_objects = [MembershipVersion, TopicPosition, BodyQuorum, DelegationScheme, ProfilePoint, DistrictName]

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._books: dict[UUID, MinuteBook] = {}
        self._kept_lock = threading.Lock()  # the minute books and the rules of record kept in memory
        self._rules_read: tuple[int, tuple[FoundedRules, Sequence[RuleChange]]] | None = None
        """The rules of record as last read, with the version of the partnership record they were read at."""
        self.definition: PartnershipDefinition = load(settings.partnership_file)
        # The rules of record: founded once from the definition, changed by decisions, asked as of a decision's date.
        self.partnership_differences = self._found_partnership()
        names = {d.id: d.name for d in self.definition.districts}  # for a founding recorded before it named them
        # One load of the partnership record per question, not one for its rules and another for its changes.
        self.rules = RulesOfRecord.reading(lambda: self._rules_of_record(names))
        self.meetings = TaskingMeetings(self)
        self.local = ReadStore(settings, self.service)
        self.local.migrate(LOCAL_DDL)

    # -- the partnership's rules -------------------------------------------------------------------------------
    def is_founding(self, event: object) -> bool:
        return isinstance(event, Partnership.Founded)

    def holds_history(self) -> bool:
        first = self.recorder.select_notifications(start=None, limit=2)  # ids may have gaps: count, not compare
        return len(first) > 1 or (len(first) == 1 and first[0].originator_id != PARTNERSHIP_ID)

    def partnership(self) -> Partnership:
        found = self._find(PARTNERSHIP_ID, Partnership)
        if found is None:  # founded at start-up; only a store emptied under a running process lacks it
            raise NotYetKnown("The partnership's rules are not recorded yet.")
        return found

    def _rules_of_record(self, names: dict[str, str]) -> tuple[FoundedRules, Sequence[RuleChange]]:
        """Read again only when the record moved. Every decision judged here asks, and loading the record (the
        founding with the whole definition, then each change) each time was about 7 % of the web process's CPU
        (``bench.load --profile``). Whether it moved is one query for its events after the version last read
        (another process may have changed the rules). The rules hold no personal data."""
        with self._kept_lock:
            read = self._rules_read
        if read is not None and not list(self.events.get(originator_id=PARTNERSHIP_ID, gt=read[0])):
            return read[1]
        partnership = self.partnership()
        rules = (partnership.founded_rules(names), tuple(partnership.changes))
        with self._kept_lock:
            if self._rules_read is None or self._rules_read[0] < partnership.version:
                self._rules_read = (partnership.version, rules)
        return rules

    def _found_partnership(self) -> list[str]:
        """Found the partnership's record from the definition into an empty store (once, whichever process is
        first); on a store that has it, report where the definition differs, and apply nothing."""
        existing = self._find(PARTNERSHIP_ID, Partnership)
        if existing is None:
            try:
                self.save(Partnership.found(self.definition, id=PARTNERSHIP_ID))
                return []
            except IntegrityError:  # another process founded it first
                existing = self._find(PARTNERSHIP_ID, Partnership)
                assert existing is not None
        said = differences(self.definition, existing)
        for difference in said:
            _log.warning("partnership definition differs from the record (not applied; a change is a decision): %s",
                         difference)
        return said

    def definition_on(self, day: date) -> PartnershipDefinition:
        """The partnership as the rules of record had it on ``day``: the districts, bodies and schemes a command
        dated then is checked against."""
        return definition_in_force(self.definition, self.rules.as_of(day))

    def _rules_decision(self, decision: Decision | None, context: CommandContext, what: str,
                        body: str | None = None) -> Decision:
        """A change of the rules is the board's decision (a body's own schemes, the body's too), judged by the rules
        in force on its date."""
        boards = {b.id for b in self.definition.bodies if b.kind == BodyKind.PARTNERSHIP_BOARD}
        return self._decision(decision, boards | ({body} if body else set()), what=what,
                              kind=DecisionKind.PARTNERSHIP_RULES, context=context)

    def _change_rules(self, expected_version: int | None, change: Callable[[Partnership], None]) -> Partnership:
        partnership = self.partnership()
        if expected_version is not None:
            self.at_version(partnership, expected_version)
        change(partnership)
        self.save(partnership)
        return partnership

    def change_quorum(self, context: CommandContext, *, body: str, quorum: int, decision: Decision | None,
                      expected_version: int | None = None) -> Partnership:
        """A board decision changes a body's quorum from the decision's date (judged by the rules in force then)."""
        checked = self._rules_decision(decision, context, "Changing a quorum")
        return self._change_rules(expected_version, lambda p: p.change_quorum(
            context, body=body, quorum=quorum, decision=checked))

    def add_district(self, context: CommandContext, *, district: str, name: str, partnership: str, quorum: int,
                     decision: Decision | None, expected_version: int | None = None) -> Partnership:
        checked = self._rules_decision(decision, context, "Adding a district")
        return self._change_rules(expected_version, lambda p: p.add_district(
            context, district=district, name=name, partnership=partnership, quorum=quorum, decision=checked))

    def rename_district(self, context: CommandContext, *, district: str, name: str, partnership: str,
                        decision: Decision | None, expected_version: int | None = None) -> Partnership:
        checked = self._rules_decision(decision, context, "Renaming a district")
        return self._change_rules(expected_version, lambda p: p.rename_district(
            context, district=district, name=name, partnership=partnership, decision=checked))

    def retire_district(self, context: CommandContext, *, district: str, decision: Decision | None,
                        expected_version: int | None = None) -> Partnership:
        checked = self._rules_decision(decision, context, "Retiring a district")
        return self._change_rules(expected_version, lambda p: p.retire_district(
            context, district=district, decision=checked))

    def change_schemes(self, context: CommandContext, *, body: str, schemes: list[DelegationScheme],
                       decision: Decision | None, expected_version: int | None = None) -> Partnership:
        checked = self._rules_decision(decision, context, "Changing schemes of delegation", body=body)
        return self._change_rules(expected_version, lambda p: p.change_schemes(
            context, body=body, schemes=schemes, decision=checked))

    def change_rag_thresholds(self, context: CommandContext, *, green_within_percent: float,
                              amber_within_percent: float, decision: Decision | None,
                              expected_version: int | None = None) -> Partnership:
        checked = self._rules_decision(decision, context, "Changing the RAG thresholds")
        return self._change_rules(expected_version, lambda p: p.change_rag_thresholds(
            context, green_within_percent=green_within_percent, amber_within_percent=amber_within_percent,
            decision=checked))

    def change_priority_limit(self, context: CommandContext, *, limit: int, decision: Decision | None,
                              expected_version: int | None = None) -> Partnership:
        checked = self._rules_decision(decision, context, "Changing the limit on agreed priorities")
        return self._change_rules(expected_version, lambda p: p.change_priority_limit(
            context, limit=limit, decision=checked))

    def close(self) -> None:
        self.local.close()
        super().close()

    # -- loading -----------------------------------------------------------------------------------------------
    def _get(self, aggregate_id: UUID, cls: type[A], what: str) -> A:
        try:
            found: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(f"No {what} {aggregate_id} is recorded.") from None
        if not isinstance(found, cls):
            raise NotFound(f"No {what} {aggregate_id} is recorded.")
        return found

    def _find(self, aggregate_id: UUID, cls: type[A]) -> A | None:
        try:
            found: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, cls) else None


    def _save_idempotent(self, created: A, *others: Aggregate) -> A:
        """Save; when a retried request with the same idempotency key won the race, return what it saved."""
        try:
            self.save(created, *others)
        except IntegrityError:
            existing = self._find(created.id, type(created))
            if existing is None:
                raise
            return existing
        return created

    def tasking(self, tasking_id: UUID) -> Tasking:
        return self._get(tasking_id, Tasking, "tasking")

    def meeting(self, meeting_id: UUID) -> Meeting:
        return self._get(meeting_id, Meeting, "meeting")

    def action(self, action_id: UUID) -> AgreedAction:
        return self._get(action_id, AgreedAction, "agreed action")

    def membership(self, body: str, organisation: str) -> Membership | None:
        return self._find(Membership.id_for(body, organisation), Membership)

    def memberships_of(self, body: str, organisations: Sequence[str]) -> dict[str, Membership | None]:
        """Each partner's seat at ``body``'s table (None: never sat there), all read in one statement."""
        ids = {organisation: Membership.id_for(body, organisation) for organisation in organisations}
        found = self.aggregates(list(ids.values()))
        return {organisation: seat if isinstance(seat := found.get(id_), Membership) else None
                for organisation, id_ in ids.items()}

    def commitment(self, organisation: str) -> Commitment | None:
        return self._find(Commitment.id_for(organisation), Commitment)

    # -- upstream targets --------------------------------------------------------------------------------------
    def known_target(self, target_id: UUID) -> KnownTarget | None:
        return known_targets.known_target(self.local, target_id)

    def target(self, target_id: UUID) -> KnownTarget:
        target = self.known_target(target_id)
        if target is None:
            # The target may have been set a moment ago and its event still be on its way from priorities.
            raise NotYetKnown(
                f"The target {target_id} is not known to tasking yet. If it was set just now, its event is still "
                f"on its way: retry in {RETRY_AFTER_SECONDS} seconds. If it persists, check the target id.",
                retry_after=RETRY_AFTER_SECONDS,
            )
        return target

    def taskings_of_target(self, target_id: UUID) -> list[Tasking]:
        rows = self.local.query("SELECT tasking_id FROM target_taskings WHERE target_id = ? ORDER BY tasking_id",
                                [str(target_id)])
        found = self.aggregates([UUID(row["tasking_id"]) for row in rows])  # one statement for them all
        return [tasking for tasking in found.values() if isinstance(tasking, Tasking)]

    def all_taskings(self) -> list[Tasking]:
        rows = self.local.query("SELECT tasking_id FROM target_taskings ORDER BY tasking_id")
        found = (self._find(UUID(row["tasking_id"]), Tasking) for row in rows)
        return [tasking for tasking in found if tasking is not None]

    def allocated(self, target_id: UUID, excluding: UUID | None = None) -> Decimal:
        """The shares of a target held by taskings that count (not declined, not withdrawn)."""
        return sum((t.share for t in self.taskings_of_target(target_id)
                    if t.counts_against_target and t.id != excluding), Decimal(0))

    @contextmanager
    def _allocating(self, target_id: UUID) -> Iterator[None]:
        """One allocation of a target at a time: in this process by a lock, across processes by an advisory lock
        held for the duration (PostgreSQL), so two theme-group leads cannot both give the last 200 jobs."""
        with _process_lock(f"{self.local.schema}:{target_id}"):
            if not self.local.postgres:
                yield
                return
            with self.local.transaction() as tx:
                key = int.from_bytes(target_id.bytes[:8], "big", signed=True)
                tx.execute("SELECT pg_advisory_xact_lock(?)", (key,))
                yield

    def allocation(self, target_id: UUID) -> TargetAllocation | None:
        """Whether the target was recorded over-allocated (None: never was)."""
        return self._find(TargetAllocation.id_for(target_id), TargetAllocation)

    def judged_allocation(self, context: CommandContext, allotted: Allotted, target_id: UUID, *,
                          changed: Tasking | None = None) -> TargetAllocation | None:
        """The target's allocation changed by its shares now, ``changed`` (unsaved) as it stands after the
        command (the result unsaved; None: nothing to record)."""
        tasked = self.allocated(target_id, excluding=None if changed is None else changed.id)
        if changed is not None and changed.counts_against_target:
            tasked += changed.share
        return TargetAllocation.judge(self.allocation(target_id), context, target_id=target_id,
                                      allotted=replace(allotted, tasked=tasked),
                                      cleared_by=None if changed is None else changed.id)

    def _save_freeing(self, context: CommandContext, tasking: Tasking) -> None:
        """Save a change that may free part of a share, with the clearing of an over-allocation it puts right, in
        one transaction: the allocation never says over-allocated once the shares are within the target."""
        target = self.known_target(tasking.target_id)
        if target is None:
            self.save(tasking)
            return
        with self._allocating(tasking.target_id):
            allocation = self.judged_allocation(context, _allotted(target), tasking.target_id, changed=tasking)
            self.save(tasking, *([] if allocation is None else [allocation]))

    def _index(self, target_id: UUID, tasking_id: UUID) -> None:
        self.local.execute("INSERT INTO target_taskings (target_id, tasking_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                           (str(target_id), str(tasking_id)))

    # -- decisions ---------------------------------------------------------------------------------------------
    def _decision(self, decision: Decision | None, bodies: set[str], *, what: str, kind: DecisionKind,
                  context: CommandContext, needs_reference: bool = False) -> Decision:
        """The shared decision rule, on tasking's own meetings and memberships (the authority on them)."""
        return check_decision(decision, what=what, kind=kind, bodies=bodies, rules=self.rules,
                              meetings=self.meetings, acting_role=context.actor.role,
                              needs_reference=needs_reference)

    def _tasking_bodies(self, theme_group: str) -> set[str]:
        boards = {b.id for b in self.definition.bodies if b.kind == BodyKind.PARTNERSHIP_BOARD}
        return {theme_group, *boards}

    # -- taskings ----------------------------------------------------------------------------------------------
    def issue(self, context: CommandContext, *, target_id: UUID, theme_group: str, district: str, share: Decimal,
              deadline: date, lead_partner: str, commissioning_level: CommissioningLevel, decision: Decision | None,
              idempotency_key: str | None = None, sector: str | None = None) -> Tasking:
        new_id = IDEMPOTENT_IDS.id_for("tasking", context.actor, idempotency_key)
        if new_id is not None and (existing := self._find(new_id, Tasking)) is not None:
            return existing
        target = self.target(target_id)
        checked = self._decision(decision, self._tasking_bodies(theme_group), what="A tasking",
                                 kind=DecisionKind.TASKING, context=context)
        with self._allocating(target_id):
            tasking = Tasking.issue(
                context, target=target, theme_group=theme_group, district=district, share=share, deadline=deadline,
                lead_partner=lead_partner, commissioning_level=commissioning_level, decision=checked,
                allocated_elsewhere=self.allocated(target_id), lead_membership=self.membership(district, lead_partner),
                definition=self.definition_on(checked.decided_on), id=new_id, sector=sector,
            )
            self._index(target_id, tasking.id)
            return self._save_idempotent(tasking)

    def _answer(self, tasking: Tasking, expected_version: int) -> Tasking:
        """The tasking the command was authorized on (``permissions`` loaded it), at the version the caller read."""
        self.at_version(tasking, expected_version)
        return tasking

    def _optional_decision(self, decision: Decision | None, bodies: set[str], what: str, kind: DecisionKind,
                           context: CommandContext) -> Decision | None:
        return None if decision is None else self._decision(decision, bodies, what=what, kind=kind,
                                                            context=context)

    def accept(self, context: CommandContext, tasking: Tasking, expected_version: int,
               decision: Decision | None = None) -> Tasking:
        tasking = self._answer(tasking, expected_version)
        tasking.accept(context, self._optional_decision(decision, {tasking.district}, "Accepting a tasking",
                                                            DecisionKind.TASKING_ANSWER, context))
        self.save(tasking)
        return tasking

    def decline(self, context: CommandContext, tasking: Tasking, expected_version: int, reason: str,
                decision: Decision | None = None) -> Tasking:
        tasking = self._answer(tasking, expected_version)
        tasking.decline(context, reason, self._optional_decision(
            decision, {tasking.district}, "Declining a tasking", DecisionKind.TASKING_ANSWER, context))
        self._save_freeing(context, tasking)
        return tasking

    def start_delivery(self, context: CommandContext, tasking: Tasking, expected_version: int) -> Tasking:
        tasking = self._answer(tasking, expected_version)
        tasking.start_delivery(context)
        self.save(tasking)
        return tasking

    def complete(self, context: CommandContext, tasking: Tasking, expected_version: int, achieved: Decimal,
                 decision: Decision | None = None) -> Tasking:
        tasking = self._answer(tasking, expected_version)
        bodies = {tasking.district, *self._tasking_bodies(tasking.theme_group)}
        tasking.complete(context, achieved, self._optional_decision(decision, bodies, "Completing a tasking",
                                                                      DecisionKind.TASKING, context))
        self.save(tasking)
        return tasking

    def withdraw(self, context: CommandContext, tasking: Tasking, expected_version: int, reason: str,
                 decision: Decision | None) -> Tasking:
        tasking = self._answer(tasking, expected_version)
        checked = self._decision(decision, self._tasking_bodies(tasking.theme_group), what="Withdrawing a tasking",
                                 kind=DecisionKind.TASKING, context=context)
        tasking.withdraw(context, reason, checked)
        self._save_freeing(context, tasking)
        return tasking

    def retask(self, context: CommandContext, tasking: Tasking, expected_version: int, *, decision: Decision | None,
               district: str | None = None, lead_partner: str | None = None, share: Decimal | None = None,
               deadline: date | None = None) -> Tasking:
        tasking = self._answer(tasking, expected_version)
        checked = self._decision(decision, self._tasking_bodies(tasking.theme_group), what="A retasking",
                                 kind=DecisionKind.TASKING, context=context, needs_reference=True)
        target = self.target(tasking.target_id)
        with self._allocating(tasking.target_id):  # read it again under the lock: a concurrent retasking shows
            tasking = self._answer(self.tasking(tasking.id), expected_version)
            new_district = district or tasking.district
            new_lead = lead_partner or tasking.lead_partner
            tasking.retask(context, target=target, decision=checked,
                           allocated_elsewhere=self.allocated(tasking.target_id, excluding=tasking.id),
                           lead_membership=self.membership(new_district, new_lead),
                           definition=self.definition_on(checked.decided_on),
                           district=district, lead_partner=lead_partner, share=share, deadline=deadline)
            allocation = self.judged_allocation(context, _allotted(target), tasking.target_id, changed=tasking)
            self.save(tasking, *([] if allocation is None else [allocation]))
        return tasking

    def profile_share(self, context: CommandContext, tasking: Tasking, expected_version: int, *,
                      profile: Sequence[tuple[date, Decimal]], decision: Decision | None) -> Tasking:
        """Set or remove a share's profile, by a decision of the theme group (or the board)."""
        tasking = self._answer(tasking, expected_version)
        checked = self._decision(decision, self._tasking_bodies(tasking.theme_group), what="Profiling a share",
                                 kind=DecisionKind.TASKING, context=context)
        tasking.set_profile(context, profile=profile, decision=checked)
        self.save(tasking)
        return tasking

    def transfer(self, context: CommandContext, tasking: Tasking, expected_version: int, *, decision: Decision | None,
                 district: str, lead_partner: str, share: Decimal, deadline: date | None = None,
                 idempotency_key: str | None = None) -> tuple[Tasking, Tasking]:
        """Move part of a share to another district (one decision: the remainder retasked, the part issued)."""
        new_id = IDEMPOTENT_IDS.id_for("transfer", context.actor, idempotency_key)
        if new_id is not None and (existing := self._find(new_id, Tasking)) is not None:
            return self.tasking(tasking.id), existing
        tasking = self._answer(tasking, expected_version)
        checked = self._decision(decision, self._tasking_bodies(tasking.theme_group), what="A retasking",
                                 kind=DecisionKind.TASKING, context=context, needs_reference=True)
        target = self.target(tasking.target_id)
        with self._allocating(tasking.target_id):  # read it again under the lock: a concurrent retasking shows
            tasking = self._answer(self.tasking(tasking.id), expected_version)
            moved = tasking.transfer_share(context, target=target, decision=checked, district=district,
                                           lead_partner=lead_partner, share=share, deadline=deadline,
                                           lead_membership=self.membership(district, lead_partner),
                                           definition=self.definition_on(checked.decided_on), new_id=new_id)
            self._index(tasking.target_id, moved.id)
            self.save(tasking, moved)  # both or neither: the chain is never half-written
        return tasking, moved

    # -- memberships -------------------------------------------------------------------------------------------
    def join(self, context: CommandContext, *, body: str, organisation: str, nominated_by: str | None = None,
             joined_on: date | None = None, decision: Decision | None = None) -> Membership:
        checked = self._optional_decision(decision, {body, nominated_by or body}, "A membership",
                                          DecisionKind.MEMBERSHIP, context)
        today = date.today()
        membership = Membership.join(
            context, existing=self.membership(body, organisation), body=body, organisation=organisation,
            definition=self.definition_on(joined_on or today), joined_on=joined_on or today, today=today,
            nominated_by=nominated_by,
            nominator_membership=self.membership(nominated_by, organisation) if nominated_by else None,
            decision=checked,
        )
        self.save(membership)
        return membership

    def leave(self, context: CommandContext, *, body: str, organisation: str, expected_version: int, reason: str,
              left_on: date | None = None, decision: Decision | None = None) -> Membership:
        membership = self.membership(body, organisation)
        if membership is None:
            raise NotFound(f"'{organisation}' has never been a member of '{body}'.")
        self.at_version(membership, expected_version)
        today = date.today()
        membership.leave(context, reason, left_on=left_on or today, today=today,
                         decision=self._optional_decision(decision, {body}, "A membership", DecisionKind.MEMBERSHIP,
                                                          context))
        self.save(membership)
        return membership

    def declare_commitment(self, context: CommandContext, *, organisation: str, districts: list[str],
                           expected_version: int | None = None) -> Commitment:
        existing = self.commitment(organisation)
        if existing is not None and expected_version is not None:
            self.at_version(existing, expected_version)
        commitment = Commitment.declare(context, existing=existing, organisation=organisation, districts=districts,
                                        definition=self.definition_on(self.definition.calendar()()))
        self.save(commitment)
        return commitment

    # -- meetings and agreed actions ---------------------------------------------------------------------------
    def hold_meeting(self, context: CommandContext, *, body: str, held_on: date, present: list[str], title: str = "",
                     idempotency_key: str | None = None, quorum_as_minuted: str | None = None) -> Meeting:
        """Record a meeting and enter it in its body's minute book, together (one transaction).
        ``quorum_as_minuted``: a historic meeting's minute reference, its quorum's evidence when no attendance was
        minuted (``Meeting.hold``)."""
        new_id = IDEMPOTENT_IDS.id_for("meeting", context.actor, idempotency_key)
        if new_id is not None and (existing := self._find(new_id, Meeting)) is not None:
            return existing
        meeting_id = new_id or uuid4()
        for _attempt in range(5):
            # Built afresh on each attempt: a failed save has already taken the pending events of the last one.
            meeting = Meeting.hold(context, body=body, held_on=held_on, present=present, title=title,
                                   definition=self.definition_on(held_on), id=meeting_id,
                                   quorum_as_minuted=quorum_as_minuted)
            roll = [MembershipVersion(org, seat.version if (seat := self.membership(body, org)) else 0)
                    for org in meeting.present]
            book = MinuteBook.enter(context, self.minute_book(body), meeting, roll,
                                    quorum_as_minuted.strip() if quorum_as_minuted else None)
            try:
                self.save(meeting, book)
            except IntegrityError:
                if (existing := self._find(meeting_id, Meeting)) is not None:
                    return existing  # a retry with the same key won the race
                continue  # another meeting of the body was entered at the same time: enter after it
            return meeting
        raise ConcurrentChange("Meetings of this body were being recorded at the same time; send it again.")

    def minute_book(self, body: str) -> MinuteBook | None:
        """The body's minute book as stored now. Kept in memory and brought up to date from the store on each read
        (only the entries recorded since), not replayed whole: it grows by an entry at every meeting of the body, and
        every meeting recorded and every decision judged here reads it (a history of years made that quadratic). It
        holds no personal data (meeting ids, entry numbers, minute references), which is what keeps the other
        aggregates uncached (``ServiceApplication.aggregate_cache_size``)."""
        book_id = minute_book_id(body)
        with self._kept_lock:
            known = self._books.get(book_id)
        if known is None:
            book = self._find(book_id, MinuteBook)
        else:
            book = project_aggregate(deepcopy(known), self.events.get(originator_id=book_id, gt=known.version))
        if book is not None:
            with self._kept_lock:
                current = self._books.get(book_id)
                if current is None or current.version < book.version:
                    self._books[book_id] = deepcopy(book)  # a copy: the command changes the one returned
        return book

    def meeting_version(self, meeting: Meeting) -> int | None:
        """The meeting's entry in its body's minute book: the ``meeting_version`` its decisions name."""
        book = self.minute_book(meeting.body)
        return None if book is None else book.entries.get(meeting.id)

    def agree_action(self, context: CommandContext, *, meeting_id: UUID, description: str, owner: str,
                     due_on: date, idempotency_key: str | None = None) -> AgreedAction:
        new_id = IDEMPOTENT_IDS.id_for("action", context.actor, idempotency_key)
        if new_id is not None and (existing := self._find(new_id, AgreedAction)) is not None:
            return existing
        action = AgreedAction.agree(context, meeting=self.meeting(meeting_id), description=description, owner=owner,
                                    due_on=due_on, definition=self.definition, id=new_id)
        return self._save_idempotent(action)

    def action_done(self, context: CommandContext, action: AgreedAction, expected_version: int, done_on: date,
                    note: str = "") -> AgreedAction:
        """``action``: as ``permissions`` loaded it for its owner or its body's keeper."""
        self.at_version(action, expected_version)
        action.mark_done(context, done_on, note)
        self.save(action)
        return action


    # -- the data-protection register --------------------------------------------------------------------------
    def _data_protection_decision(self, decision: Decision, kind: DecisionKind, what: str,
                                  context: CommandContext) -> Decision:
        boards = {b.id for b in self.definition.bodies if b.kind == BodyKind.PARTNERSHIP_BOARD}
        return self._decision(decision, boards, what=what, kind=kind, context=context)

    def check_erasure(self, context: CommandContext, decision: Decision) -> Decision:
        """The decision to erase a person, checked before anything is erased (an erasure cannot be undone)."""
        return self._data_protection_decision(decision, DecisionKind.PERSONAL_DATA_ERASURE,
                                              "Erasing a person's personal data", context)

    def check_redaction(self, context: CommandContext, decision: Decision) -> Decision:
        return self._data_protection_decision(decision, DecisionKind.TEXT_REDACTION, "Redacting free text", context)

    def register(self) -> DataProtectionRegister | None:
        return self._find(DATA_PROTECTION_REGISTER_ID, DataProtectionRegister)

    def record_erasure(self, context: CommandContext, *, decision: Decision, pseudonyms: list[str],
                       redacted_texts: int, contact_details_in: list[str]) -> DataProtectionRegister:
        checked = self.check_erasure(context, decision)
        return self._in_register(lambda register: DataProtectionRegister.record_erasure(
            context, register, decision=checked, pseudonyms=pseudonyms, redacted_texts=redacted_texts,
            contact_details_in=contact_details_in))

    def record_redaction(self, context: CommandContext, *, decision: Decision, record_id: str,
                         record_version: int | None, keys: int) -> DataProtectionRegister:
        checked = self.check_redaction(context, decision)
        return self._in_register(lambda register: DataProtectionRegister.record_redaction(
            context, register, decision=checked, record_id=record_id, record_version=record_version, keys=keys))

    def _in_register(self, record: Callable[[DataProtectionRegister | None], DataProtectionRegister],
                     ) -> DataProtectionRegister:
        for _attempt in range(5):
            register = record(self.register())  # built afresh: a failed save has taken the pending events
            try:
                self.save(register)
            except IntegrityError:
                continue  # another erasure or redaction was recorded at the same time: record after it
            return register
        raise ConcurrentChange("Erasures were being recorded at the same time; run it again.")

    # -- published scrutiny packs ------------------------------------------------------------------------------
    def scrutiny_pack(self, pack_id: UUID) -> PublishedScrutinyPack | None:
        return self._find(pack_id, PublishedScrutinyPack)

    def publish_scrutiny_pack(self, context: CommandContext, *, decision: Decision | None, committee: str,
                              meeting_on: date, **fields: Any) -> PublishedScrutinyPack:
        """Record that a pack was published for a committee's meeting: the partnership officer's delegated
        decision (or the board's at a meeting), once per meeting."""
        boards = {b.id for b in self.definition.bodies if b.kind == BodyKind.PARTNERSHIP_BOARD}
        checked = self._decision(decision, boards, what="Publishing a scrutiny pack",
                                 kind=DecisionKind.SCRUTINY_PACK_PUBLICATION, context=context)
        pack = PublishedScrutinyPack.publish(context, decision=checked, committee=committee, meeting_on=meeting_on,
                                             **fields)
        if self.scrutiny_pack(pack.id) is not None:
            raise RuleViolated(f"A pack was already published for {committee}'s meeting on {meeting_on.isoformat()}:"
                               " a published pack is not replaced.")
        try:
            self.save(pack)
        except IntegrityError as race:
            raise RuleViolated(f"A pack was already published for {committee}'s meeting on "
                               f"{meeting_on.isoformat()}.") from race
        return pack


class TaskingMeetings(PerPartner):
    """Tasking's own meetings and memberships, as the decision rule reads them: the authority (nothing on its way)."""

    authoritative = True

    def __init__(self, application: TaskingApplication) -> None:
        self.application = application

    def minute_book_version(self, body: str) -> int:
        book = self.application.minute_book(body)
        return 0 if book is None else book.version

    def meeting(self, meeting_id: UUID) -> MeetingRecord | None:
        meeting = self.application._find(meeting_id, Meeting)
        if meeting is None:
            return None
        book = self.application.minute_book(meeting.body)
        return None if book is None else book.record_of(meeting)

    def membership_version(self, body: str, organisation: str) -> int:
        seat = self.application.membership(body, organisation)
        return 0 if seat is None else seat.version

    def member_on(self, body: str, organisation: str, day: date) -> bool:
        seat = self.application.membership(body, organisation)
        return seat is not None and seat.in_force_on(day)

    def memberships(self, body: str, organisations: Sequence[str], day: date) -> dict[str, tuple[int, bool]]:
        # Each partner's membership is loaded once, not once for its version and again for the day.
        seats = self.application.memberships_of(body, organisations)  # and in one statement
        return {org: (0, False) if seat is None else (seat.version, seat.in_force_on(day))
                for org, seat in seats.items()}
