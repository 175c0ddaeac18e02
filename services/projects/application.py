"""Use cases of the projects service on its event store."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from services.projects.domain import KnownTasking, Parts, Project, RagThresholds, topics_of
from services.projects.known_taskings import KnownTaskings
from services.projects.refusals import Refusals
from shared.contracts import Decision
from shared.contracts.projects import (
    InterventionKind,
    Milestone,
    Outcome,
    OutcomeValue,
    ProfilePoint,
    Rag,
    RatioParts,
    ResourceCommitment,
    Risk,
    Standing,
    TaskingRef,
    programme_id,
)
from shared.decisions import DecisionKind, check_decision
from shared.errors import InvalidCommand, NotFound, NotYetKnown
from shared.eventstore import CommandContext, IdempotentIds, ServiceApplication
from shared.meeting_copy import CopiedMeetings
from shared.partnership import PartnershipDefinition, definition_in_force, load, rules
from shared.readstore import ReadStore
from shared.settings import Settings

# Per organisation; only projects are created with a key here, so the kind is not part of the name.
IDEMPOTENT_IDS = IdempotentIds(UUID("3c1f6a2e-8b4d-5e7f-9a0b-2d4c6e8f1a3b"), "{organisation}:{key}")


class ProjectsApplication(ServiceApplication):
    """Programmes and projects of every district partnership."""

    service = "projects"
    value_objects = [TaskingRef, Outcome, Milestone, ResourceCommitment, Risk, OutcomeValue, Standing, ProfilePoint,
                     RatioParts]

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.partnership = load(settings.partnership_file)
        self.known_taskings = KnownTaskings(ReadStore(settings, self.service))
        # Kept from tasking.events by services/projects/meetings.py, in the same store as the known taskings.
        self.meetings = CopiedMeetings(self.known_taskings.store)
        self.rules = self.meetings.rules(rules(settings.partnership_file))  # the rules of record, from the copy
        self.today: Callable[[], date] = self.partnership.calendar()  # a test sets it to a clock of its own
        self.delivery_index = DeliveryIndex(self)
        self.refusals = Refusals(self.known_taskings.store)  # refused reports, per project (services/projects/refusals)

    def in_force(self, day: date) -> PartnershipDefinition:
        """The partnership as the rules of record had it on ``day`` (its districts, RAG thresholds, ...)."""
        return definition_in_force(self.partnership, self.rules.as_of(day))

    def thresholds_on(self, day: date) -> RagThresholds:
        """The RAG thresholds in force on ``day``: a report is judged by those of its own date."""
        rag = self.in_force(day).rag
        return RagThresholds(Decimal(str(rag.green_within_percent)), Decimal(str(rag.amber_within_percent)))

    def close(self) -> None:
        self.known_taskings.store.close()
        super().close()

    # -- reading ----------------------------------------------------------------------------------------------------
    def project(self, project_id: UUID) -> Project:
        try:
            found: object = self.repository.get(project_id)
        except AggregateNotFoundError:
            raise NotFound(f"No project {project_id}.") from None
        if not isinstance(found, Project):
            raise NotFound(f"No project {project_id}.")
        return found

    def programme(self, district: str) -> Programme | None:
        """A district's programme, derived: the projects opened in it, in the order they were opened."""
        project_ids = self.delivery_index.projects_in(district)
        return Programme(programme_id(district), district, project_ids) if project_ids else None

    def projects_delivering(self, tasking_id: UUID) -> Iterator[Project]:
        """Every project (of any district's programme) that delivers or delivered the tasking.

        A withdrawal names no district, and a retasking may move a tasking between districts, so the candidates come
        from every programme: the projects that ever took the tasking on, as this store's own log says.
        """
        for project_id in self.delivery_index.projects_taking_on(tasking_id):
            project = self.project(project_id)
            if tasking_id in project.contributions:
                yield project

    def tasking(self, tasking_id: UUID, read_version: int | None = None) -> KnownTasking:
        """The tasking as delivery knows it, from ``tasking.events``.

        Delivery's copy may lag the tasking service by the time an event takes to arrive, so a tasking accepted a
        moment ago may still be known here as issued. Only the caller can tell: ``read_version`` is the version it
        read from the tasking service (what accepting answered, say). While delivery knows an older version, the
        change is on its way: NotYetKnown (503 with Retry-After), never a refusal on a stale copy. At that version
        or later, the copy is what the caller saw, and a tasking still issued there is refused clearly (422). No
        clock is involved: a tasking that is genuinely only issued is never answered "retry".
        """
        known = self.known_taskings.get(tasking_id)
        if known is None:
            raise NotYetKnown(f"Tasking {tasking_id} is not known to delivery yet; if it was just issued, retry "
                              "shortly.")
        if read_version is not None and known.version < read_version:
            raise NotYetKnown(f"Delivery knows tasking {tasking_id} at version {known.version}, before the version "
                              f"{read_version} you read: its change is on its way, retry shortly.",
                              tasking_id=str(tasking_id), known_version=known.version, read_version=read_version)
        return known

    # -- decisions --------------------------------------------------------------------------------------------------
    def decided(self, decision: Decision | None, district: str, *, what: str, kind: DecisionKind,
                context: CommandContext) -> Decision:
        """The shared decision rule on projects' copy of tasking's meetings: the district partnership decides about
        its own programme (at a quorate meeting, or its programme manager under its scheme of delegation)."""
        return check_decision(decision, what=what, kind=kind, bodies={district}, rules=self.rules,
                              meetings=self.meetings, acting_role=context.actor.role)

    def _decided_for(self, project: Project, decision: Decision | None, *, what: str, kind: DecisionKind,
                     context: CommandContext) -> Decision:
        """Judged after the version check (a stale command is "reload", whatever its decision)."""
        return self.decided(decision, project.district, what=what, kind=kind, context=context)

    # -- commands ---------------------------------------------------------------------------------------------------
    def open_project(self, context: CommandContext, *, district: str, title: str, lead_partner: str,
                     project_manager: str, tasking_ids: Sequence[UUID], outcomes: Sequence[Outcome],
                     milestones: Sequence[Milestone] = (), resources: Sequence[ResourceCommitment] = (),
                     risks: Sequence[Risk] = (), decision: Decision | None = None,
                     idempotency_key: str | None = None, tasking_versions: Mapping[UUID, int] | None = None,
                     ) -> Project:
        """Open a project in the district's programme (which is derived: the district's projects).

        With an idempotency key, the project's id derives from (organisation, key): a repeated request returns the
        first project. ``tasking_versions`` are the versions of the taskings the caller read (see ``tasking``).
        """
        read = dict(tasking_versions or {})
        if unknown := [str(t) for t in read if t not in tasking_ids]:
            raise InvalidCommand("tasking_versions names taskings the project does not deliver.", [
                {"field": "tasking_versions", "message": f"Not in tasking_ids: {', '.join(unknown)}."}])
        project_id = IDEMPOTENT_IDS.id_for("project", context.actor, idempotency_key)
        if not tasking_ids:
            raise InvalidCommand("A project delivers at least one accepted tasking.",
                                 [{"field": "tasking_ids", "message": "Name the taskings the project delivers."}])
        if self.in_force(decision.decided_on if decision is not None else self.today()).district(district) is None:
            raise InvalidCommand(f"{district} is not a district of the partnership.",
                                 [{"field": "district", "message": "Unknown district."}])
        taskings = [self.tasking(t, read.get(t)) for t in dict.fromkeys(tasking_ids)]
        if decision is not None:
            decision = self.decided(decision, district, what="Opening a project", kind=DecisionKind.PROJECT_OPENING,
                                    context=context)
        if project_id is not None and (existing := self._existing_project(project_id)) is not None:
            return existing
        project = Project.open(context, id=project_id or uuid4(), district=district, title=title,
                               lead_partner=lead_partner, project_manager=project_manager, taskings=taskings,
                               outcomes=outcomes, milestones=milestones, resources=resources, risks=risks,
                               decision=decision)
        for tasking in taskings:  # a share profiled before the project opened: its outcomes follow it from now
            if (known := self.known_taskings.share_profile(tasking.id)) is not None and known[2]:
                version, share, points = known
                project.react_to_share_profile(context, tasking_id=tasking.id, version=version, share=share,
                                               profile=points, thresholds=self.thresholds_on(self.today()),
                                               decision=None)
        try:
            self.save(project)
        except IntegrityError:
            # Only a retried request with the same key (its id) can meet an existing project: return what it saved.
            if project_id is None or (existing := self._existing_project(project_id)) is None:
                raise
            return existing
        return project

    def _existing_project(self, project_id: UUID) -> Project | None:
        try:
            return self.project(project_id)
        except NotFound:
            return None

    def _change(self, project: Project, expected_version: int | None, change: Callable[[Project], None]) -> Project:
        """The project as loaded for the command (``permissions``: loaded once, ownership checked) is changed and
        saved; a concurrent change meanwhile is the store's conflict (409), as for any version mismatch."""
        if expected_version is not None:
            self.at_version(project, expected_version)
        change(project)
        self.save(project)
        return project

    def report_progress(self, context: CommandContext, project: Project, *, reported_on: date,
                        values: Mapping[str, Decimal], narrative: str, correction: bool = False,
                        correction_reason: str | None = None, expected_version: int | None = None,
                        parts: Parts | None = None) -> Project:
        with self._refusal_kept(project, "report", reported_on, context):
            return self._change(project, expected_version, lambda p: p.report_progress(
                context, reported_on=reported_on, values=values, narrative=narrative,
                thresholds=self.thresholds_on(reported_on), today=self.today(), correction=correction,
                correction_reason=correction_reason, parts=parts))

    @contextmanager
    def _refusal_kept(self, project: Project, command: str, reported_on: date | None,
                      context: CommandContext) -> Iterator[None]:
        """A report or correction refused as bad data (its problems named) is kept in the refusals log."""
        try:
            yield
        except InvalidCommand as refused:
            self.refusals.record(project.id, command, reported_on, context.actor,
                                 refused.problems or [{"field": "", "message": refused.message}])
            raise

    def withdraw_report(self, context: CommandContext, project: Project, *, reported_on: date, reason: str,
                        expected_version: int | None = None) -> Project:
        return self._change(project, expected_version, lambda p: p.withdraw_report(
            context, reported_on=reported_on, reason=reason))

    def correct_report(self, context: CommandContext, project: Project, *, corrected_report_on: date,
                       reported_on: date, values: Mapping[str, Decimal], narrative: str, reason: str,
                       expected_version: int | None = None, parts: Parts | None = None) -> Project:
        with self._refusal_kept(project, "correction", reported_on, context):
            return self._change(project, expected_version, lambda p: p.correct_report(
                context, corrected_report_on=corrected_report_on, reported_on=reported_on, values=values,
                narrative=narrative, reason=reason, thresholds=self.thresholds_on(reported_on), today=self.today(),
                parts=parts))

    def override_rag(self, context: CommandContext, project: Project, *, rag: Rag, reason: str,
                     expected_version: int | None = None, decision: Decision | None = None) -> Project:
        def override(p: Project) -> None:
            p.override_rag(context, rag=rag, reason=reason, decision=self._decided_for(
                p, decision, what="Overriding the RAG", kind=DecisionKind.RAG_OVERRIDE, context=context))

        return self._change(project, expected_version, override)

    def profile_outcome(self, context: CommandContext, project: Project, *, outcome_id: str,
                        profile: Sequence[tuple[date, Decimal]], expected_version: int | None = None) -> Project:
        return self._change(project, expected_version, lambda p: p.profile_outcome(
            context, outcome_id=outcome_id, profile=profile, thresholds=self.thresholds_on(self.today())))

    def add_milestone(self, context: CommandContext, project: Project, milestone: Milestone,
                      expected_version: int | None = None) -> Project:
        return self._change(project, expected_version, lambda p: p.add_milestone(context, milestone))

    def achieve_milestone(self, context: CommandContext, project: Project, *, milestone_id: str,
                          achieved_on: date, expected_version: int | None = None) -> Project:
        return self._change(project, expected_version, lambda p: p.achieve_milestone(
            context, milestone_id=milestone_id, achieved_on=achieved_on))

    def commit_resources(self, context: CommandContext, project: Project, commitment: ResourceCommitment,
                         expected_version: int | None = None) -> Project:
        return self._change(project, expected_version, lambda p: p.commit_resources(context, commitment))

    def record_risk(self, context: CommandContext, project: Project, risk: Risk,
                    expected_version: int | None = None) -> Project:
        return self._change(project, expected_version, lambda p: p.record_risk(context, risk))

    def intervene(self, context: CommandContext, project: Project, *, kind: InterventionKind, description: str,
                  decision: Decision | None, expected_version: int | None = None, due_on: date | None = None,
                  owner: str | None = None) -> Project:
        if owner is not None and not any(o.id == owner for o in self.partnership.organisations):
            raise InvalidCommand(f"No partner organisation '{owner[:60]}' in the partnership.",
                                 [{"field": "owner", "message": "Name a partner organisation of the partnership."}])

        def intervene(p: Project) -> None:
            checked = self._decided_for(p, decision, what="An intervention", kind=DecisionKind.PROJECT_INTERVENTION,
                                        context=context)
            p.intervene(context, kind=kind, description=description, decision=checked, today=self.today(),
                        due_on=due_on, owner=owner)

        return self._change(project, expected_version, intervene)

    def defer(self, context: CommandContext, project: Project, *, decision: Decision | None,
              expected_version: int | None = None) -> Project:
        return self._change(project, expected_version, lambda p: p.defer(context, decision=self._decided_for(
            p, decision, what="Deferring a project", kind=DecisionKind.PROJECT_DEFERRAL, context=context)))

    def resume(self, context: CommandContext, project: Project, *, decision: Decision | None,
               expected_version: int | None = None) -> Project:
        return self._change(project, expected_version, lambda p: p.resume(context, decision=self._decided_for(
            p, decision, what="Resuming a project", kind=DecisionKind.PROJECT_DEFERRAL, context=context)))

    def close_project(self, context: CommandContext, project: Project, *, outcome_achieved: str, lessons: str,
                      decision: Decision | None, expected_version: int | None = None) -> Project:
        def close(p: Project) -> None:
            checked = self._decided_for(p, decision, what="Closing a project", kind=DecisionKind.PROJECT_CLOSURE,
                                        context=context)
            p.close(context, outcome_achieved=outcome_achieved, lessons=lessons, decision=checked)

        return self._change(project, expected_version, close)

    def repoint_contribution(self, context: CommandContext, project: Project, *, from_tasking_id: UUID,
                             to_tasking_id: UUID, reason: str, decision: Decision | None,
                             expected_version: int | None = None, to_tasking_version: int | None = None) -> Project:
        to = self.tasking(to_tasking_id, to_tasking_version)

        def repoint(p: Project) -> None:
            checked = self._decided_for(p, decision, what="Re-pointing a contribution",
                                        kind=DecisionKind.CONTRIBUTION_REPOINT, context=context)
            p.repoint_contribution(context, from_tasking_id=from_tasking_id, to=to, reason=reason, decision=checked)

        return self._change(project, expected_version, repoint)


@dataclass(frozen=True)
class Programme:
    """A district's programme as shown: its projects. Derived, not an aggregate: it guards no rule of its own."""

    id: UUID
    district: str
    project_ids: list[UUID]


class DeliveryIndex:
    """Which projects ever took a tasking on, and which were opened in each district, read from this service's own
    notification log.

    A retasking or withdrawal then loads just the projects delivering the tasking instead of every project of every
    programme (which grows with the partnership's history). Only two events give a project a tasking (opening it, and
    re-pointing a contribution to another tasking); the log is read incrementally from where the index left off, and
    the notification order is commit order, so nothing committed before a reaction is missed. The index is a
    superset: callers check the project's current contributions.
    """

    _PAGE = 1000

    def __init__(self, app: ProjectsApplication) -> None:
        self.app = app
        self.position = 0
        self.projects: dict[UUID, set[UUID]] = {}
        self.districts: dict[str, list[UUID]] = {}
        # Stored under the events' old names too (``RENAMED_EVENTS``).
        self.topics = [*topics_of(Project.Opened), *topics_of(Project.ContributionRepointed)]
        self.lock = threading.Lock()

    def projects_taking_on(self, tasking_id: UUID) -> list[UUID]:
        with self.lock:
            self._catch_up()
            return sorted(self.projects.get(tasking_id, ()))

    def projects_in(self, district: str) -> list[UUID]:
        with self.lock:
            self._catch_up()
            return list(self.districts.get(district, ()))

    def _catch_up(self) -> None:
        while page := self.app.recorder.select_notifications(start=self.position, limit=self._PAGE,
                                                              topics=self.topics, inclusive_of_start=False):
            for notification in page:
                event = self.app.mapper.to_domain_event(notification)
                if isinstance(event, Project.Opened):
                    taken_on = [UUID(str(ref.tasking_id)) for ref in event.taskings]
                    self.districts.setdefault(event.district, []).append(event.originator_id)
                elif isinstance(event, Project.ContributionRepointed):
                    taken_on = [UUID(str(event.to_tasking_id))]
                else:
                    continue
                for tasking_id in taken_on:
                    self.projects.setdefault(tasking_id, set()).add(event.originator_id)
            self.position = page[-1].id
