"""Use cases of the priorities service on its event store: load, ask the domain, save (several aggregates at once
where one rule spans them, so that either everything or nothing is written)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, Recording

from services.priorities.domain import (
    DistrictChapter,
    DistrictPriority,
    Evidence,
    Objective,
    ScsReview,
    Target,
    TargetRules,
    TargetTerms,
    agree_priority,
    reconfirm_priority,
    retire_priority,
)
from services.priorities.tasked import TaskedShares
from shared.audit.checkpoint import schema_of
from shared.audit.vault import PersonalDataVault, PersonErased
from shared.contracts import Decision
from shared.contracts.personal import SealedPersonalData
from shared.contracts.priorities import EvidenceFigure, StrategyLevel, chapter_id, review_id
from shared.contracts.projects import ProfilePoint
from shared.decisions import DecisionKind, check_decision
from shared.errors import InvalidCommand, NotFound, RuleViolated
from shared.eventstore import AccountableAggregate, CommandContext, IdempotentIds, ServiceApplication
from shared.meeting_copy import CopiedMeetings
from shared.partnership import PartnershipDefinition, definition_in_force, load, rules
from shared.performance import DEFAULT_INTERVAL, ReportingInterval
from shared.readstore import ReadStore
from shared.settings import Settings

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class PersonalDetails:
    """A person's details as given in a command: sealed before they reach an event."""

    person_id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None


# Per user: one officer's key never meets another's.
IDEMPOTENT_IDS = IdempotentIds(UUID("9d3a51e2-4b7c-5f08-a6e1-3c2b7d90f4e5"), "{kind}:{user}:{key}")

A = TypeVar("A", bound=AccountableAggregate)


class PrioritiesApplication(ServiceApplication):
    """The strategy's event store: objectives, targets, district chapters and priorities, evidence, SCS reviews."""

    service = "priorities"
    value_objects = [EvidenceFigure, ProfilePoint]

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._vault: PersonalDataVault | None = None
        self.definition: PartnershipDefinition = load(settings.partnership_file)
        self.target_rules = TargetRules(units=frozenset(self.definition.units),
                                        organisations=frozenset(o.id for o in self.definition.organisations))
        self.local = ReadStore(settings, self.service)
        self.meetings = CopiedMeetings(self.local)  # kept from tasking.events (services/priorities/meetings.py)
        self.rules = self.meetings.rules(rules(settings.partnership_file))  # the rules of record, from the copy
        self.tasked = TaskedShares(self.local)  # kept from tasking.events too (services/priorities/tasked.py)
        self.boards = frozenset(b.id for b in self.definition.bodies if b.kind == "partnership_board")
        self.county_bodies = self.boards | {b.id for b in self.definition.bodies if b.kind == "theme_group"}

    def close(self) -> None:
        self.local.close()
        super().close()

    # -- decisions -------------------------------------------------------------------------------------------------
    def decided(self, decision: Decision | None, *, what: str, kind: DecisionKind, bodies: frozenset[str],
                context: CommandContext) -> Decision:
        """The shared decision rule, on priorities' copy of tasking's meetings and memberships."""
        return check_decision(decision, what=what, kind=kind, bodies=bodies, rules=self.rules,
                              meetings=self.meetings, acting_role=context.actor.role)

    def _objective_bodies(self, level: StrategyLevel) -> frozenset[str]:
        """The SCS is the partnership board's; a county strategy is its theme group's (or the board's)."""
        return self.boards if level is StrategyLevel.SCS else self.county_bodies

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """Save, then log each recorded event: one line with its aggregate, actor and correlation id."""
        recordings = super().save(*objs, **kwargs)
        for recording in recordings:
            event: Any = recording.domain_event
            log.info("event recorded", extra={
                "event": type(event).__qualname__, "aggregate_id": str(event.originator_id),
                "version": event.originator_version, "correlation_id": event.correlation_id,
                "actor": event.actor.user_id, "actor_organisation": event.actor.organisation,
                "actor_role": event.actor.role})
        return recordings

    def in_force(self, day: date) -> PartnershipDefinition:
        """The partnership as the rules of record had it on ``day`` (districts, the priority limit, ...)."""
        return definition_in_force(self.definition, self.rules.as_of(day))

    def priority_limit_on(self, day: date) -> int:
        """The limit on agreed priorities in one district in force on ``day``."""
        return self.in_force(day).max_agreed_priorities_per_district

    @property
    def priority_limit(self) -> int:
        """The limit in force today."""
        return self.priority_limit_on(self.definition.calendar()())

    # -- objectives ----------------------------------------------------------------------------------------------
    def add_objective(self, context: CommandContext, *, title: str, level: StrategyLevel, strategy: str,
                      parent_id: UUID | None = None, decision: Decision | None = None,
                      idempotency_key: str | None = None) -> Objective:
        decision = self.decided(decision, what="Adding an objective", kind=DecisionKind.OBJECTIVE_CHANGE,
                                bodies=self._objective_bodies(level), context=context)

        def add(new_id: UUID | None) -> Objective:
            parent = None if parent_id is None else self._objective_for("parent_id", parent_id)
            return Objective.add(context, title=title, level=level, strategy=strategy, parent=parent,
                                 decision=decision, id=new_id)

        return self._create_once("objective", context, idempotency_key, Objective, add)

    def reword_objective(self, context: CommandContext, objective_id: UUID, *, expected_version: int, title: str,
                         decision: Decision | None) -> Objective:
        objective = self.at_version(self.objective(objective_id), expected_version)
        decision = self.decided(decision, what="Rewording an objective", kind=DecisionKind.OBJECTIVE_CHANGE,
                                bodies=self._objective_bodies(objective.level), context=context)
        objective.reword(context, title=title, decision=decision)
        self.save(objective)
        return objective

    def retire_objective(self, context: CommandContext, objective_id: UUID, *, expected_version: int,
                         decision: Decision | None) -> Objective:
        objective = self.at_version(self.objective(objective_id), expected_version)
        decision = self.decided(decision, what="Retiring an objective", kind=DecisionKind.OBJECTIVE_CHANGE,
                                bodies=self._objective_bodies(objective.level), context=context)
        objective.retire(context, decision=decision)
        self.save(objective)
        return objective

    def objective(self, objective_id: UUID) -> Objective:
        return self._get(objective_id, Objective, "objective")

    # -- targets ---------------------------------------------------------------------------------------------------
    def set_target(self, context: CommandContext, *, objective_id: UUID, terms: TargetTerms,
                   decision: Decision | None = None, idempotency_key: str | None = None,
                   reporting_interval: ReportingInterval = DEFAULT_INTERVAL) -> Target:
        decision = self.decided(decision, what="Setting a target", kind=DecisionKind.TARGET_SET,
                                bodies=self.county_bodies, context=context)

        def set_(new_id: UUID | None) -> Target:
            objective = self._objective_for("objective_id", objective_id)
            return Target.set(context, objective=objective, terms=terms, rules=self.target_rules,
                              decision=decision, id=new_id, reporting_interval=reporting_interval)

        return self._create_once("target", context, idempotency_key, Target, set_)

    def revise_target(self, context: CommandContext, target_id: UUID, *, expected_version: int, terms: TargetTerms,
                      decision: Decision | None, tasking_versions: Mapping[UUID, int] | None = None) -> Target:
        target = self.at_version(self.target(target_id), expected_version)
        decision = self.decided(decision, what="Revising a target", kind=DecisionKind.TARGET_REVISE,
                                bodies=self.county_bodies, context=context)
        target.revise(context, terms=terms, rules=self.target_rules, decision=decision,
                      tasked=self.tasked.tasked(target_id, tasking_versions))
        self.save(target)
        return target

    def retire_target(self, context: CommandContext, target_id: UUID, *, expected_version: int,
                      decision: Decision | None) -> Target:
        target = self.at_version(self.target(target_id), expected_version)
        decision = self.decided(decision, what="Retiring a target", kind=DecisionKind.TARGET_RETIRE,
                                bodies=self.county_bodies, context=context)
        target.retire(context, decision=decision)
        self.save(target)
        return target

    def profile_target(self, context: CommandContext, target_id: UUID, *, expected_version: int,
                       profile: Sequence[tuple[date, Decimal]], decision: Decision | None) -> Target:
        target = self.at_version(self.target(target_id), expected_version)
        decision = self.decided(decision, what="Profiling a target", kind=DecisionKind.TARGET_REVISE,
                                bodies=self.county_bodies, context=context)
        target.set_profile(context, profile=profile, decision=decision)
        self.save(target)
        return target

    def set_reporting_interval(self, context: CommandContext, target_id: UUID, *, expected_version: int,
                               reporting_interval: ReportingInterval, in_force_from: date,
                               decision: Decision | None) -> Target:
        target = self.at_version(self.target(target_id), expected_version)
        decision = self.decided(decision, what="Changing a target's reporting interval",
                                kind=DecisionKind.TARGET_REVISE, bodies=self.county_bodies, context=context)
        target.set_reporting_interval(context, reporting_interval=reporting_interval, in_force_from=in_force_from,
                                      decision=decision)
        self.save(target)
        return target

    def target(self, target_id: UUID) -> Target:
        return self._get(target_id, Target, "target")

    # -- district priorities -----------------------------------------------------------------------------------------
    def propose_priority(self, context: CommandContext, *, district: str, title: str,
                         rationale: str, objective_id: UUID, evidence_refs: Iterable[str] = (),
                         idempotency_key: str | None = None) -> DistrictPriority:
        self._known_district(district)

        def propose(new_id: UUID | None) -> DistrictPriority:
            objective = self._objective_for("objective_id", objective_id)
            return DistrictPriority.propose(context, district=district, title=title,
                                            rationale=rationale, objective=objective, evidence_refs=evidence_refs,
                                            id=new_id)

        return self._create_once("priority", context, idempotency_key, DistrictPriority, propose)

    def agree_priority(self, context: CommandContext, priority: DistrictPriority, *, expected_version: int,
                       decision: Decision | None) -> DistrictPriority:
        """Agree a proposed priority: the priority and its district's chapter are saved together, or neither."""
        self.at_version(priority, expected_version)
        decision = self.decided(decision, what="Agreeing a priority", kind=DecisionKind.PRIORITY_AGREE,
                                bodies=frozenset({priority.district}), context=context)
        chapter = self.chapter(priority.district) or DistrictChapter.open(context, district=priority.district)
        agree_priority(context, priority, chapter, decision=decision,
                       limit=self.priority_limit_on(decision.decided_on))
        self.save(priority, chapter)
        return priority

    def reject_priority(self, context: CommandContext, priority: DistrictPriority, *, expected_version: int,
                        decision: Decision | None) -> DistrictPriority:
        self.at_version(priority, expected_version)
        decision = self.decided(decision, what="Rejecting a priority", kind=DecisionKind.PRIORITY_REJECT,
                                bodies=frozenset({priority.district}), context=context)
        priority.reject(context, decision=decision)
        self.save(priority)
        return priority

    def retire_priority(self, context: CommandContext, priority: DistrictPriority, *, expected_version: int,
                        decision: Decision | None) -> DistrictPriority:
        self.at_version(priority, expected_version)
        decision = self.decided(decision, what="Retiring a priority", kind=DecisionKind.PRIORITY_RETIRE,
                                bodies=frozenset({priority.district}), context=context)
        chapter = self.chapter(priority.district)
        if chapter is None:
            raise RuleViolated(f"The priority '{priority.title}' was never agreed: there is nothing to retire.")
        review = self.open_review()
        retire_priority(context, priority, chapter, review, decision=decision)
        self.save(*(a for a in (priority, chapter, review) if a is not None))
        return priority

    def reconfirm_priority(self, context: CommandContext, priority: DistrictPriority, *, expected_version: int,
                           decision: Decision | None) -> DistrictPriority:
        self.at_version(priority, expected_version)
        decision = self.decided(decision, what="Re-confirming a priority", kind=DecisionKind.PRIORITY_RECONFIRM,
                                bodies=frozenset({priority.district}), context=context)
        review = self.open_review()
        if review is None:
            raise RuleViolated("No SCS review is open: priorities are re-confirmed in a review.")
        reconfirm_priority(context, priority, review, decision=decision)
        self.save(priority, review)
        return priority

    def priority(self, priority_id: UUID) -> DistrictPriority:
        return self._get(priority_id, DistrictPriority, "district priority")

    def chapter(self, district: str) -> DistrictChapter | None:
        """The district's chapter of the SCS, or None while it has never agreed a priority."""
        self._known_district(district)
        return self._find(chapter_id(district), DistrictChapter)

    # -- SCS reviews -------------------------------------------------------------------------------------------------
    def latest_review(self) -> ScsReview | None:
        # Reviews are numbered 1, 2, ... with ids derived from the number: a handful in a partnership's life.
        latest: ScsReview | None = None
        number = 1
        while (found := self._find(review_id(number), ScsReview)) is not None:
            latest, number = found, number + 1
        return latest

    def open_review(self) -> ScsReview | None:
        latest = self.latest_review()
        return latest if latest is not None and latest.is_open else None

    def start_review(self, context: CommandContext, *, decision: Decision | None) -> ScsReview:
        """Open the next SCS review over every priority agreed now, in every district."""
        decision = self.decided(decision, what="Opening an SCS review", kind=DecisionKind.SCS_REVIEW,
                                bodies=self.boards, context=context)
        previous = self.latest_review()
        districts = {d.id for d in self.definition.districts} | {
            d.id for d in self.in_force(decision.decided_on).districts}  # a district retired since keeps its chapter
        agreed = [pid for d in sorted(districts) if (c := self.chapter(d)) is not None for pid in c.agreed]
        review = ScsReview.open(context, number=1 if previous is None else previous.number + 1, previous=previous,
                                agreed_priorities=agreed, decision=decision)
        self.save(review)
        return review

    def close_review(self, context: CommandContext, scs_review_id: UUID, *, expected_version: int,
                     decision: Decision | None) -> ScsReview:
        review = self.at_version(self.review(scs_review_id), expected_version)
        decision = self.decided(decision, what="Closing an SCS review", kind=DecisionKind.SCS_REVIEW,
                                bodies=self.boards, context=context)
        review.close(context, decision=decision)
        self.save(review)
        return review

    def review(self, scs_review_id: UUID) -> ScsReview:
        return self._get(scs_review_id, ScsReview, "SCS review")

    # -- evidence ----------------------------------------------------------------------------------------------------
    def submit_evidence(self, context: CommandContext, *, district: str, title: str,
                        summary: str, source: str, evidence_date: date, figures: Iterable[EvidenceFigure] = (),
                        objective_ids: Iterable[UUID] = (), priority_ids: Iterable[UUID] = (),
                        contact: PersonalDetails | None = None, idempotency_key: str | None = None) -> Evidence:
        self._known_district(district)
        objectives, priorities = list(objective_ids), list(priority_ids)
        sealed = None if contact is None else self._seal(contact)

        def submit(new_id: UUID | None) -> Evidence:
            for objective_id in objectives:
                self._objective_for("objective_ids", objective_id)
            for priority_id in priorities:
                priority = self._find(priority_id, DistrictPriority)
                if priority is None or priority.district != district:
                    raise InvalidCommand(f"No priority {priority_id} of the {district} district exists.",
                                         [{"field": "priority_ids", "message": "No such priority of this district."}])
            return Evidence.submit(context, district=district, title=title,
                                   summary=summary, source=source, evidence_date=evidence_date, figures=figures,
                                   objective_ids=objectives, priority_ids=priorities, contact=sealed, id=new_id)

        return self._create_once("evidence", context, idempotency_key, Evidence, submit)

    def accept_evidence(self, context: CommandContext, evidence_id: UUID, *, expected_version: int,
                        decision: Decision | None = None) -> Evidence:
        evidence = self.at_version(self.evidence(evidence_id), expected_version)
        decision = self.decided(decision, what="Accepting evidence", kind=DecisionKind.EVIDENCE_SIFT,
                                bodies=self.county_bodies, context=context)
        evidence.accept(context, decision=decision)
        self.save(evidence)
        return evidence

    def note_evidence(self, context: CommandContext, evidence_id: UUID, *, expected_version: int, reason: str,
                      decision: Decision | None = None) -> Evidence:
        evidence = self.at_version(self.evidence(evidence_id), expected_version)
        decision = self.decided(decision, what="Noting evidence", kind=DecisionKind.EVIDENCE_SIFT,
                                bodies=self.county_bodies, context=context)
        evidence.note(context, reason=reason, decision=decision)
        self.save(evidence)
        return evidence

    def evidence(self, evidence_id: UUID) -> Evidence:
        return self._get(evidence_id, Evidence, "evidence")

    @property
    def vault(self) -> PersonalDataVault:
        """Per-person keys for personal data in events (crypto-shredding: docs/audit.md)."""
        if self._vault is None:
            self._vault = PersonalDataVault(self.recorder, schema_of(self.settings, self.service))
        return self._vault

    def _seal(self, contact: PersonalDetails) -> SealedPersonalData:
        fields = {k: v for k, v in (("name", contact.name), ("email", contact.email), ("phone", contact.phone)) if v}
        try:
            return self.vault.seal(contact.person_id, fields)
        except PersonErased as error:
            raise RuleViolated(str(error)) from error

    # -- plumbing ----------------------------------------------------------------------------------------------------
    def _create_once(self, kind: str, context: CommandContext, key: str | None, cls: type[A],
                     create: Callable[[UUID | None], A]) -> A:
        """Create and save; with an idempotency key, the aggregate's id derives from (kind, user, key), so a retried
        request finds the first result (even after a restart, or when the retry races the original)."""
        new_id = IDEMPOTENT_IDS.id_for(kind, context.actor, key)
        if new_id is None:
            aggregate = create(None)
            self.save(aggregate)
            return aggregate
        existing = self._find(new_id, cls)
        if existing is not None:
            return existing
        aggregate = create(new_id)
        try:
            self.save(aggregate)
        except IntegrityError:
            return self._get(new_id, cls, kind)
        return aggregate

    def _find(self, aggregate_id: UUID, cls: type[A]) -> A | None:
        try:
            found: Any = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, cls) else None

    def _get(self, aggregate_id: UUID, cls: type[A], what: str) -> A:
        found = self._find(aggregate_id, cls)
        if found is None:
            raise NotFound(f"No {what} {aggregate_id} exists.")
        return found

    def _objective_for(self, field: str, objective_id: UUID) -> Objective:
        found = self._find(objective_id, Objective)
        if found is None:
            raise InvalidCommand(f"No objective {objective_id} exists.",
                                 [{"field": field, "message": "No such objective."}])
        return found

    def _known_district(self, district: str) -> None:
        """A district of the partnership by the rules of record, today's or one retired since (its records are still
        read), or one the definition founded."""
        day = self.definition.calendar()()
        today = self.in_force(day)
        if district not in self.rules.districts_of_record(day) and self.definition.district(district) is None:
            known = ", ".join(d.id for d in today.districts)
            raise NotFound(f"'{district}' is not a district of the {self.definition.name} (known: {known}).")

