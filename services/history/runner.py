"""Importing a history file: each row becomes the command it stands for, through the owning service's application
layer (the same use cases its REST API calls), in the file's order, waiting as the demo loader does for the facts
one service learns from another over the log.

All or nothing across services: the whole file is first run into a scratch embedded system (its own SQLite stores
and in-process log, the same partnership definition), which is the target system as it would be; only when every
row is accepted there is the file run into the target. Every event a row makes carries the row's provenance in its
correlation id (``import:sha256=<file>;row=<kind>/<key>``) and the importer as its actor; re-running a file applies
only the rows whose keys the target does not hold yet."""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from services.history import format as fmt
from services.history.format import DecisionRow, HistoryFile
from services.priorities.application import IDEMPOTENT_IDS as PRIORITY_IDS
from services.priorities.application import PersonalDetails, PrioritiesApplication
from services.priorities.domain import TargetTerms
from services.priorities.publication import release_performance
from services.projects.application import IDEMPOTENT_IDS as PROJECT_IDS
from services.projects.application import ProjectsApplication
from services.tasking.application import PARTNERSHIP_ID, TaskingApplication
from services.tasking.domain import IDEMPOTENT_IDS as TASKING_IDS
from services.tasking.domain import Commitment, Membership
from shared.contracts import Actor, Decision
from shared.contracts.priorities import PUBLICATION_RECORD_ID, EvidenceFigure, StrategyLevel, review_id
from shared.contracts.projects import InterventionKind, Milestone, Outcome, Rag, ResourceCommitment, Risk
from shared.contracts.tasking import CommissioningLevel, DelegationScheme
from shared.errors import ConcurrentChange, DomainError, InvalidCommand, NotYetKnown
from shared.eventstore import CommandContext, ServiceApplication
from shared.performance import DEFAULT_INTERVAL, ReportingInterval
from shared.settings import Settings
from shared.web import problem_fields

PROVENANCE_PREFIX = "import:"
COMMAND_SERVICES = ("priorities", "tasking", "projects")

RULE_CHANGES = ("quorum_change", "district_added", "district_renamed", "district_retired", "schemes_of_delegation",
                "rag_thresholds", "priority_limit")
"""The kinds of row that change the partnership's rules (tasking's ``Partnership`` record), each by a decision."""

OWNER = {"body": "tasking", "membership": "tasking", "membership_ended": "tasking", "commitment": "tasking",
         "meeting": "tasking", "tasking": "tasking",
         "tasking_step": "tasking", "transfer": "tasking", "retasking": "tasking", "action": "tasking",
         "objective": "priorities", "target": "priorities", "priority": "priorities", "evidence": "priorities",
         "target_revision": "priorities", "retirement": "priorities", "target_profile": "priorities",
         "reporting_interval": "priorities", "share_profile": "tasking", "objective_reword": "priorities",
         "priority_rejection": "priorities", "milestone_added": "projects", "resources": "projects",
         "risk": "projects", "outcome_profile": "projects",
         "project": "projects", "milestone_achieved": "projects", "progress": "projects",
         "intervention": "projects", "correction": "projects", "report_withdrawal": "projects",
         "rag_override": "projects", "deferral": "projects", "closure": "projects",
         "contribution_repoint": "projects", "scs_review": "priorities", "scs_review_closed": "priorities",
         "reconfirmation": "priorities", "performance_release": "priorities",
         **{kind: "tasking" for kind in RULE_CHANGES}}
"""The service whose commands each kind of row stands for (the owner of its aggregate)."""

CREATED_AS = {"meeting": "meeting", "tasking": "tasking", "transfer": "transfer", "action": "action",
              "objective": "objective", "target": "target", "priority": "priority", "evidence": "evidence",
              "project": "project"}
"""The kind of each created aggregate's idempotent id, as its service names it."""


def provenance(sha256: str, row: Any) -> str:
    """The correlation id of a row's events: the file (its SHA-256) and the row (its kind and key)."""
    return f"{PROVENANCE_PREFIX}sha256={sha256};row={row_key(row)}"


def row_key(row: Any) -> str:
    return f"{row.kind}/{row.key}"


def imported_row(correlation_id: str) -> str | None:
    """The ``kind/key`` of the row an event was imported from, or None for an event of a command."""
    if not correlation_id.startswith(PROVENANCE_PREFIX):
        return None
    _, _, row = correlation_id.partition(";row=")
    return row or None


@dataclasses.dataclass
class RowReport:
    row: str
    """The row's kind and key (``meeting board_march_2011``)."""
    outcome: str
    """accepted | refused | already imported | not imported (another row was refused)"""
    status: int | None = None
    code: str | None = None
    title: str | None = None
    detail: str | None = None
    errors: list[dict[str, str]] | None = None
    number: int | None = None
    """The row's number in the file's order (1 for the first row applied; a CSV folder's rows in ``seq`` order)."""
    place: str | None = None
    """Where the row is in what was read (``rows[3]`` of a JSON document, ``meeting.csv line 2``)."""

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @property
    def where(self) -> str:
        """How a person is told which row: its number, where it is, its kind and key."""
        at = f"row {self.number}" if self.number is not None else "row"
        return f"{at} ({self.place}) {self.row}" if self.place else f"{at} {self.row}"


@dataclasses.dataclass
class ImportReport:
    file: str
    sha256: str
    imported: bool
    rows: list[RowReport]
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    """Seconds spent: the dry run, and the run into the target."""

    @property
    def refused(self) -> list[RowReport]:
        return [r for r in self.rows if r.outcome == "refused"]

    def as_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.outcome] = counts.get(row.outcome, 0) + 1
        return {"file": self.file, "sha256": self.sha256, "imported": self.imported, "counts": counts,
                "seconds": {k: round(v, 3) for k, v in self.timings.items()}, "rows": [r.as_dict() for r in self.rows]}


class _Cited(InvalidCommand):
    pass


WaitFor = Callable[[Callable[[], bool], str], None]


def waiter(timeout: float) -> WaitFor:
    def wait_for(predicate: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise DomainError(f"Waited {timeout:.0f}s for {what}; is every service's worker running?")
            time.sleep(0.02)
    return wait_for


class Applier:
    """Applies rows to one system's applications (a scratch one for the dry run, or the target)."""

    def __init__(self, applications: dict[str, ServiceApplication], importer: Actor, sha256: str,
                 wait_for: WaitFor) -> None:
        self.priorities: PrioritiesApplication = applications["priorities"]  # type: ignore[assignment]
        self.tasking: TaskingApplication = applications["tasking"]  # type: ignore[assignment]
        self.projects: ProjectsApplication = applications["projects"]  # type: ignore[assignment]
        self.importer = importer
        self.sha256 = sha256
        self.wait_for = wait_for
        self.ids: dict[tuple[str, str], UUID] = {}
        self.refused: set[tuple[str, str]] = set()
        self.tasked: dict[UUID, list[UUID]] = {}
        self.entries: dict[UUID, int | None] = {}
        self.entries_copied: dict[tuple[str, UUID], int | None] = {}
        """The file's taskings of each target (a revision waits for them to reach priorities)."""

    # -- ids -----------------------------------------------------------------------------------------------------
    def idempotency_key(self, kind: str, key: str) -> str:
        return f"history:{kind}:{key}"

    def actor(self, by: fmt.ActingFor | None) -> Actor:
        """The importer, acting for the organisation and in the role the row names."""
        if by is None:
            return self.importer
        return Actor(self.importer.user_id, by.organisation, by.role)

    def context(self, row: Any, by: fmt.ActingFor | None = None) -> CommandContext:
        return CommandContext(self.actor(by or row.by), provenance(self.sha256, row))

    def created_id(self, kind: str, key: str, by: fmt.ActingFor | None = None) -> UUID:
        """The id the owning service derives for a created row (its idempotent id, from the actor and the key)."""
        ids = {"priorities": PRIORITY_IDS, "tasking": TASKING_IDS, "projects": PROJECT_IDS}[OWNER[kind]]
        derived = ids.id_for(CREATED_AS[kind], self.actor(by), self.idempotency_key(kind, key))
        assert derived is not None
        return derived

    def touched(self, row: Any) -> tuple[str, UUID]:
        """The service and the aggregate a row's command changes (or creates)."""
        kind = row.kind
        if kind in ("membership", "membership_ended"):
            return "tasking", Membership.id_for(row.body, row.organisation)
        if kind == "commitment":
            return "tasking", Commitment.id_for(row.organisation)
        if kind in CREATED_AS:
            return OWNER[kind], self.created_id(kind, row.key, row.by)
        if kind in ("tasking_step", "retasking"):
            return "tasking", self._tasking_id(row.tasking, "tasking")
        if kind == "share_profile":
            return "tasking", self._tasking_id(row.tasking, "tasking")
        if kind in ("target_revision", "target_profile", "reporting_interval"):
            return "priorities", self._cite("target", row.target, "target")
        if kind == "objective_reword":
            return "priorities", self._cite("objective", row.objective, "objective")
        if kind == "priority_rejection":
            return "priorities", self._cite("priority", row.priority, "priority")
        if kind == "retirement":
            return "priorities", self._cite(row.retires, row.item, "item")
        if kind in RULE_CHANGES:
            return "tasking", PARTNERSHIP_ID
        if kind == "scs_review":
            return "priorities", review_id(row.number)
        if kind == "scs_review_closed":
            return "priorities", self._cite("scs_review", row.review, "review")
        if kind == "reconfirmation":
            return "priorities", self._cite("priority", row.priority, "priority")
        if kind == "performance_release":
            return "priorities", PUBLICATION_RECORD_ID
        return "projects", self._cite("project", row.project, "project")

    def _cite(self, kind: str, key: str | None, field: str) -> UUID:
        if key is None:
            raise _Cited("A row cites nothing where it must.", [{"field": field, "message": "Required."}])
        if (kind, key) in self.refused:
            raise _Cited(f"It cites the {kind} '{key}', which was refused above.",
                         [{"field": field, "message": f"The {kind} '{key}' was refused."}])
        found = self.ids.get((kind, key))
        if found is None:
            if kind == "tasking" and ("transfer", key) in self.ids:
                return self.ids[("transfer", key)]
            raise _Cited(f"It cites the {kind} '{key}', which no earlier row of the file records.",
                         [{"field": field, "message": f"No earlier {kind} row has the key '{key}'."}])
        return found

    def _tasking_id(self, key: str, field: str) -> UUID:
        if ("transfer", key) in self.ids:
            return self.ids[("transfer", key)]
        if ("transfer", key) in self.refused:
            raise _Cited(f"It cites the tasking '{key}', which was refused above.",
                         [{"field": field, "message": f"The tasking '{key}' was refused."}])
        return self._cite("tasking", key, field)

    # -- decisions -----------------------------------------------------------------------------------------------
    def decision(self, row: DecisionRow | None, service: str) -> Decision | None:
        if row is None:
            return None
        meeting_id: str | None = None
        version: int | None = None
        if row.meeting is not None:
            mid = self._cite("meeting", row.meeting, "decision.meeting")
            meeting_id = str(mid)
            # A meeting's entry in its minute book never changes once recorded, and a copy that has a meeting and
            # its roll keeps them: each is read once per meeting, not once per decision taken there (reading the
            # entry replays the body's whole minute book, which grows with every meeting of the file).
            if service == "tasking":
                if mid not in self.entries:
                    self.entries[mid] = self.tasking.meeting_version(self.tasking.meeting(mid))
                version = self.entries[mid]
            elif (service, mid) in self.entries_copied:
                version = self.entries_copied[(service, mid)]
            else:
                copy = self.priorities.meetings if service == "priorities" else self.projects.meetings

                def arrived() -> bool:
                    meeting = copy.meeting(mid)
                    return meeting is not None and all(copy.membership_version(meeting.body, org) >= v
                                                       for org, v in meeting.roll)

                self.wait_for(arrived, f"the meeting '{row.meeting}' to reach the {service} service")
                copied = copy.meeting(mid)
                version = None if copied is None else copied.entry
                self.entries_copied[(service, mid)] = version
        return Decision(body=row.body, decided_on=row.decided_on, reason=row.reason, meeting_id=meeting_id,
                        meeting_version=version, reference=row.reference, delegation=row.delegation)

    # -- rows ------------------------------------------------------------------------------------------------------
    def apply(self, row: Any) -> None:
        getattr(self, f"_{row.kind}")(self.context(row), row)

    def _key(self, row: Any) -> str:
        return self.idempotency_key(row.kind, row.key)

    def _body(self, context: CommandContext, row: fmt.Body) -> None:
        defined = self.tasking.definition.body(row.key)
        if defined is None:
            raise InvalidCommand(
                f"The partnership has no body '{row.key}': bodies are defined in the partnership file, not imported.",
                [{"field": "key", "message": "Not a body of the partnership's definition."}])
        differ = [f"{name} is {mine!r} there, not {theirs!r}" for name, mine, theirs in (
            ("name", defined.name, row.name), ("body_kind", str(defined.kind), row.body_kind),
            ("quorum", defined.quorum, row.quorum)) if mine != theirs]
        if differ:
            raise InvalidCommand(f"The body '{row.key}' differs from the partnership file's: {'; '.join(differ)}.",
                                 [{"field": "key", "message": "Not as the partnership file defines it."}])

    def _membership_ended(self, context: CommandContext, row: fmt.MembershipEnded) -> None:
        seat = self.tasking.membership(row.body, row.organisation)
        self.tasking.leave(context, body=row.body, organisation=row.organisation,
                           expected_version=seat.version if seat is not None else 0, reason=row.reason,
                           left_on=row.left_on, decision=self.decision(row.decision, "tasking"))

    def _membership(self, context: CommandContext, row: fmt.Membership) -> None:
        self.tasking.join(context, body=row.body, organisation=row.organisation, nominated_by=row.nominated_by,
                          joined_on=row.joined_on, decision=self.decision(row.decision, "tasking"))

    def _commitment(self, context: CommandContext, row: fmt.Commitment) -> None:
        self.tasking.declare_commitment(context, organisation=row.organisation, districts=row.districts)

    def _meeting(self, context: CommandContext, row: fmt.Meeting) -> None:
        meeting = self.tasking.hold_meeting(context, body=row.body, held_on=row.held_on, present=row.present,
                                            title=row.title, idempotency_key=self._key(row),
                                            quorum_as_minuted=row.quorum_as_minuted)
        self.ids[("meeting", row.key)] = meeting.id

    def _objective(self, context: CommandContext, row: fmt.Objective) -> None:
        parent = None if row.parent is None else self._cite("objective", row.parent, "parent")
        objective = self.priorities.add_objective(
            context, title=row.title, level=_enum(StrategyLevel, row.level, "level"), strategy=row.strategy,
            parent_id=parent, decision=self.decision(row.decision, "priorities"), idempotency_key=self._key(row))
        self.ids[("objective", row.key)] = objective.id

    def _target(self, context: CommandContext, row: fmt.Target) -> None:
        target = self.priorities.set_target(
            context, objective_id=self._cite("objective", row.objective, "objective"),
            terms=TargetTerms(metric=row.metric, unit=row.unit, baseline_value=row.baseline_value,
                              baseline_date=row.baseline_date, target_value=row.target_value, deadline=row.deadline,
                              data_source=row.data_source, owner_organisation=row.owner_organisation),
            decision=self.decision(row.decision, "priorities"), idempotency_key=self._key(row),
            reporting_interval=(DEFAULT_INTERVAL if row.reporting_interval is None
                                else _enum(ReportingInterval, row.reporting_interval, "reporting_interval")))
        self.ids[("target", row.key)] = target.id

    def _priority(self, context: CommandContext, row: fmt.Priority) -> None:
        priority = self.priorities.propose_priority(
            context, district=row.district, title=row.title, rationale=row.rationale,
            objective_id=self._cite("objective", row.objective, "objective"), evidence_refs=row.evidence_refs,
            idempotency_key=self._key(row))
        if row.agreed is not None:
            priority = self.priorities.agree_priority(self.context(row, row.agreed_by), priority,
                                                      expected_version=priority.version,
                                                      decision=self.decision(row.agreed, "priorities"))
        self.ids[("priority", row.key)] = priority.id

    def _evidence(self, context: CommandContext, row: fmt.Evidence) -> None:
        evidence = self.priorities.submit_evidence(
            context, district=row.district, title=row.title, summary=row.summary, source=row.source,
            evidence_date=row.evidence_date,
            figures=[EvidenceFigure(label=f.label, value=f.value, unit=f.unit) for f in row.figures],
            objective_ids=[self._cite("objective", k, "objectives") for k in row.objectives],
            priority_ids=[self._cite("priority", k, "priorities") for k in row.priorities],
            contact=None if row.contact is None else PersonalDetails(
                row.contact.person_id, row.contact.name, row.contact.email, row.contact.phone),
            idempotency_key=self._key(row))
        if row.contact is not None and row.contact.erased:
            # Erased where the history came from: erased here too, so their details are refused for good.
            self.priorities.vault.erase(row.contact.person_id, f"erased before the history was exported ({row.key})")
        if row.accepted is not None:
            evidence = self.priorities.accept_evidence(self.context(row, row.accepted_by), evidence.id,
                                                       expected_version=evidence.version,
                                                       decision=self.decision(row.accepted, "priorities"))
        if row.noted is not None or row.noted_reason is not None:
            evidence = self.priorities.note_evidence(self.context(row, row.noted_by), evidence.id,
                                                     expected_version=evidence.version, reason=row.noted_reason or "",
                                                     decision=self.decision(row.noted, "priorities"))
        self.ids[("evidence", row.key)] = evidence.id

    def _tasking(self, context: CommandContext, row: fmt.Tasking) -> None:
        target_id = self._cite("target", row.target, "target")
        self.wait_for(lambda: self.tasking.known_target(target_id) is not None,
                      f"the target '{row.target}' to reach the tasking service")
        tasking = self.tasking.issue(
            context, target_id=target_id, theme_group=row.theme_group, district=row.district, share=row.share,
            deadline=row.deadline, lead_partner=row.lead_partner,
            commissioning_level=_enum(CommissioningLevel, row.commissioning_level, "commissioning_level"),
            decision=self.decision(row.decision, "tasking"), idempotency_key=self._key(row), sector=row.sector)
        self.ids[("tasking", row.key)] = tasking.id
        self.tasked.setdefault(target_id, []).append(tasking.id)

    def _tasking_step(self, context: CommandContext, row: fmt.TaskingAnswer) -> None:
        app = self.tasking
        tasking = app.tasking(self._tasking_id(row.tasking, "tasking"))
        decision = self.decision(row.decision, "tasking")
        if row.step == "accept":
            app.accept(context, tasking, tasking.version, decision)
        elif row.step == "decline":
            app.decline(context, tasking, tasking.version, row.reason or "", decision)
        elif row.step == "start_delivery":
            app.start_delivery(context, tasking, tasking.version)
        elif row.step == "complete":
            app.complete(context, tasking, tasking.version, row.achieved or Decimal(0), decision)
        else:
            app.withdraw(context, tasking, tasking.version, row.reason or "", decision)

    def _transfer(self, context: CommandContext, row: fmt.Transfer) -> None:
        tasking = self.tasking.tasking(self._tasking_id(row.tasking, "tasking"))
        _, moved = self.tasking.transfer(
            context, tasking, tasking.version, decision=self.decision(row.decision, "tasking"),
            district=row.district, lead_partner=row.lead_partner, share=row.share, deadline=row.deadline,
            idempotency_key=self._key(row))
        self.ids[("transfer", row.key)] = moved.id
        self.tasked.setdefault(UUID(str(tasking.target_id)), []).append(moved.id)

    def _retasking(self, context: CommandContext, row: fmt.Retasking) -> None:
        tasking = self.tasking.tasking(self._tasking_id(row.tasking, "tasking"))
        self.tasking.retask(context, tasking, tasking.version, decision=self.decision(row.decision, "tasking"),
                            district=row.district, lead_partner=row.lead_partner, share=row.share,
                            deadline=row.deadline)

    def _action(self, context: CommandContext, row: fmt.Action) -> None:
        action = self.tasking.agree_action(context, meeting_id=self._cite("meeting", row.meeting, "meeting"),
                                           description=row.description, owner=row.owner, due_on=row.due_on,
                                           idempotency_key=self._key(row))
        if row.done_on is not None:
            action = self.tasking.action_done(self.context(row, row.done_by), action, action.version, row.done_on,
                                              row.note)
        self.ids[("action", row.key)] = action.id

    def _project(self, context: CommandContext, row: fmt.Project) -> None:
        taskings = {key: self._tasking_id(key, "taskings") for key in row.taskings}
        for key, tasking_id in taskings.items():
            upstream = self.tasking.tasking(tasking_id).version

            def known(tasking_id: UUID = tasking_id, upstream: int = upstream) -> bool:
                copy = self.projects.known_taskings.get(tasking_id)
                return copy is not None and copy.version >= upstream

            self.wait_for(known, f"the tasking '{key}' to reach the projects service")
        outcomes = []
        for o in row.outcomes:
            if o.tasking not in taskings:
                raise _Cited(f"The outcome '{o.id}' counts towards the tasking '{o.tasking}', which the project "
                             "does not deliver.", [{"field": "outcomes", "message": "Not in taskings."}])
            known_tasking = self.projects.tasking(taskings[o.tasking])
            outcomes.append(Outcome(id=o.id, tasking_id=taskings[o.tasking], metric=o.metric,
                                    unit=o.unit or known_tasking.unit, baseline_value=o.baseline_value,
                                    baseline_date=o.baseline_date, target_value=o.target_value,
                                    target_date=o.target_date, weight=o.weight))
        project = self.projects.open_project(
            context, district=row.district, title=row.title, lead_partner=row.lead_partner,
            project_manager=row.project_manager, tasking_ids=list(taskings.values()), outcomes=outcomes,
            milestones=[Milestone(m.id, m.title, m.due_on) for m in row.milestones],
            resources=[ResourceCommitment(r.organisation, r.money_gbp, r.staff_days, r.note) for r in row.resources],
            risks=[Risk(r.id, r.description, r.likelihood, r.impact, r.owner, r.mitigation) for r in row.risks],
            decision=self.decision(row.decision, "projects"), idempotency_key=self._key(row))
        self.ids[("project", row.key)] = project.id

    def _milestone_achieved(self, context: CommandContext, row: fmt.MilestoneAchieved) -> None:
        project = self.projects.project(self._cite("project", row.project, "project"))
        self.projects.achieve_milestone(context, project, milestone_id=row.milestone, achieved_on=row.achieved_on)

    def _progress(self, context: CommandContext, row: fmt.Progress) -> None:
        project = self.projects.project(self._cite("project", row.project, "project"))
        self.projects.report_progress(context, project, reported_on=row.reported_on, values=row.values,
                                      narrative=row.narrative)

    def _intervention(self, context: CommandContext, row: fmt.Intervention) -> None:
        project = self.projects.project(self._cite("project", row.project, "project"))
        self.projects.intervene(context, project, kind=_enum(InterventionKind, row.intervention, "intervention"),
                                description=row.description, decision=self.decision(row.decision, "projects"),
                                due_on=row.due_on, owner=row.owner)

    def _target_revision(self, context: CommandContext, row: fmt.TargetRevision) -> None:
        target_id = self._cite("target", row.target, "target")
        # The rule that a target is never revised below what is tasked of it counts the taskings as tasking said
        # them: the file's taskings of this target must have reached the priorities service first.
        versions = {tid: self.tasking.tasking(tid).version for tid in self.tasked.get(target_id, ())}

        def known() -> bool:
            try:
                self.priorities.tasked.tasked(target_id, versions)
            except NotYetKnown:
                return False
            return True

        self.wait_for(known, f"the taskings of the target '{row.target}' to reach the priorities service")
        target = self.priorities.target(target_id)
        self.priorities.revise_target(
            context, target_id, expected_version=target.version,
            terms=TargetTerms(metric=row.metric, unit=row.unit, baseline_value=row.baseline_value,
                              baseline_date=row.baseline_date, target_value=row.target_value, deadline=row.deadline,
                              data_source=row.data_source, owner_organisation=row.owner_organisation),
            decision=self.decision(row.decision, "priorities"), tasking_versions=versions)

    def _retirement(self, context: CommandContext, row: fmt.Retirement) -> None:
        item = self._cite(row.retires, row.item, "item")
        decision = self.decision(row.decision, "priorities")
        app = self.priorities
        if row.retires == "objective":
            app.retire_objective(context, item, expected_version=app.objective(item).version, decision=decision)
        elif row.retires == "target":
            app.retire_target(context, item, expected_version=app.target(item).version, decision=decision)
        else:
            priority = app.priority(item)
            app.retire_priority(context, priority, expected_version=priority.version, decision=decision)

    def _target_profile(self, context: CommandContext, row: fmt.TargetProfile) -> None:
        target = self.priorities.target(self._cite("target", row.target, "target"))
        self.priorities.profile_target(context, target.id, expected_version=target.version,
                                       profile=[(p.on, p.value) for p in row.profile],
                                       decision=self.decision(row.decision, "priorities"))

    def _reporting_interval(self, context: CommandContext, row: fmt.ReportingIntervalChange) -> None:
        target = self.priorities.target(self._cite("target", row.target, "target"))
        self.priorities.set_reporting_interval(
            context, target.id, expected_version=target.version,
            reporting_interval=_enum(ReportingInterval, row.reporting_interval, "reporting_interval"),
            in_force_from=row.in_force_from, decision=self.decision(row.decision, "priorities"))

    def _share_profile(self, context: CommandContext, row: fmt.ShareProfile) -> None:
        tasking = self.tasking.tasking(self._tasking_id(row.tasking, "tasking"))
        self.tasking.profile_share(context, tasking, tasking.version, profile=[(p.on, p.value) for p in row.profile],
                                   decision=self.decision(row.decision, "tasking"))

    def _objective_reword(self, context: CommandContext, row: fmt.ObjectiveReword) -> None:
        objective = self.priorities.objective(self._cite("objective", row.objective, "objective"))
        self.priorities.reword_objective(context, objective.id, expected_version=objective.version, title=row.title,
                                         decision=self.decision(row.decision, "priorities"))

    def _priority_rejection(self, context: CommandContext, row: fmt.PriorityRejection) -> None:
        priority = self.priorities.priority(self._cite("priority", row.priority, "priority"))
        self.priorities.reject_priority(context, priority, expected_version=priority.version,
                                        decision=self.decision(row.decision, "priorities"))

    def _milestone_added(self, context: CommandContext, row: fmt.MilestoneAdded) -> None:
        project = self.projects.project(self._cite("project", row.project, "project"))
        m = row.milestone
        self.projects.add_milestone(context, project, Milestone(m.id, m.title, m.due_on))

    def _resources(self, context: CommandContext, row: fmt.ResourcesCommitted) -> None:
        project = self.projects.project(self._cite("project", row.project, "project"))
        r = row.commitment
        self.projects.commit_resources(context, project,
                                       ResourceCommitment(r.organisation, r.money_gbp, r.staff_days, r.note))

    def _risk(self, context: CommandContext, row: fmt.RiskRecorded) -> None:
        project = self.projects.project(self._cite("project", row.project, "project"))
        r = row.risk
        self.projects.record_risk(context, project, Risk(r.id, r.description, r.likelihood, r.impact, r.owner,
                                                         r.mitigation))

    def _outcome_profile(self, context: CommandContext, row: fmt.OutcomeProfile) -> None:
        project = self.projects.project(self._cite("project", row.project, "project"))
        self.projects.profile_outcome(context, project, outcome_id=row.outcome,
                                      profile=[(p.on, p.value) for p in row.profile])

    def _correction(self, context: CommandContext, row: fmt.Correction) -> None:
        project = self.projects.project(self._cite("project", row.project, "project"))
        self.projects.correct_report(context, project, corrected_report_on=row.corrected_report_on,
                                     reported_on=row.reported_on, values=row.values, narrative=row.narrative,
                                     reason=row.reason)

    def _report_withdrawal(self, context: CommandContext, row: fmt.ReportWithdrawal) -> None:
        project = self.projects.project(self._cite("project", row.project, "project"))
        self.projects.withdraw_report(context, project, reported_on=row.reported_on, reason=row.reason)

    def _rag_override(self, context: CommandContext, row: fmt.RagOverride) -> None:
        project = self.projects.project(self._cite("project", row.project, "project"))
        self.projects.override_rag(context, project, rag=_enum(Rag, row.rag, "rag"), reason=row.reason,
                                   decision=self.decision(row.decision, "projects"))

    def _deferral(self, context: CommandContext, row: fmt.Deferral) -> None:
        project = self.projects.project(self._cite("project", row.project, "project"))
        change = self.projects.defer if row.step == "defer" else self.projects.resume
        change(context, project, decision=self.decision(row.decision, "projects"))

    def _closure(self, context: CommandContext, row: fmt.Closure) -> None:
        project = self.projects.project(self._cite("project", row.project, "project"))
        self.projects.close_project(context, project, outcome_achieved=row.outcome_achieved, lessons=row.lessons,
                                    decision=self.decision(row.decision, "projects"))

    def _contribution_repoint(self, context: CommandContext, row: fmt.ContributionRepoint) -> None:
        project = self.projects.project(self._cite("project", row.project, "project"))
        from_id = self._tasking_id(row.from_tasking, "from_tasking")
        to_id = self._tasking_id(row.to_tasking, "to_tasking")
        self._wait_tasking_known(to_id, row.to_tasking)
        self.projects.repoint_contribution(context, project, from_tasking_id=from_id, to_tasking_id=to_id,
                                           reason=row.reason, decision=self.decision(row.decision, "projects"))

    def _wait_tasking_known(self, tasking_id: UUID, key: str) -> None:
        """The projects service judges a tasking by its copy: wait for the copy to reach tasking's version."""
        upstream = self.tasking.tasking(tasking_id).version

        def known() -> bool:
            copy = self.projects.known_taskings.get(tasking_id)
            return copy is not None and copy.version >= upstream

        self.wait_for(known, f"the tasking '{key}' to reach the projects service")

    def _scs_review(self, context: CommandContext, row: fmt.ScsReview) -> None:
        latest = self.priorities.latest_review()
        number = 1 if latest is None else latest.number + 1
        if row.number != number:
            raise InvalidCommand(f"The next SCS review is number {number}, not {row.number}.",
                                 [{"field": "number", "message": f"The next review is number {number}."}])
        review = self.priorities.start_review(context, decision=self.decision(row.decision, "priorities"))
        self.ids[("scs_review", row.key)] = review.id

    def _scs_review_closed(self, context: CommandContext, row: fmt.ScsReviewClosed) -> None:
        review = self.priorities.review(self._cite("scs_review", row.review, "review"))
        self.priorities.close_review(context, review.id, expected_version=review.version,
                                     decision=self.decision(row.decision, "priorities"))

    def _reconfirmation(self, context: CommandContext, row: fmt.Reconfirmation) -> None:
        priority = self.priorities.priority(self._cite("priority", row.priority, "priority"))
        self.priorities.reconfirm_priority(context, priority, expected_version=priority.version,
                                           decision=self.decision(row.decision, "priorities"))

    def _performance_release(self, context: CommandContext, row: fmt.PerformanceRelease) -> None:
        release_performance(self.priorities, context, starts_on=row.starts_on, ends_on=row.ends_on,
                            decision=self.decision(row.decision, "priorities"))

    # -- the partnership's rules ------------------------------------------------------------------------------------
    def _rules_changed(self, change: Callable[[Decision | None], Any], row: Any) -> None:
        """A change of the rules, then a wait for the other services' copies of the rules to hold it: every later
        row is judged by the rules as of its own date, in whichever service runs it."""
        version = change(self.decision(row.decision, "tasking")).version
        for name, copy in (("priorities", self.priorities.meetings), ("projects", self.projects.meetings)):
            def holds(copy: Any = copy) -> bool:
                return bool(copy.rules_version() >= version)

            self.wait_for(holds, f"the {row.kind} '{row.key}' to reach the {name} service")

    def _quorum_change(self, context: CommandContext, row: fmt.QuorumChange) -> None:
        self._rules_changed(lambda decision: self.tasking.change_quorum(
            context, body=row.body, quorum=row.quorum, decision=decision), row)

    def _district_added(self, context: CommandContext, row: fmt.DistrictAdded) -> None:
        self._rules_changed(lambda decision: self.tasking.add_district(
            context, district=row.district, name=row.name, partnership=row.partnership, quorum=row.quorum,
            decision=decision), row)

    def _district_renamed(self, context: CommandContext, row: fmt.DistrictRenamed) -> None:
        self._rules_changed(lambda decision: self.tasking.rename_district(
            context, district=row.district, name=row.name, partnership=row.partnership, decision=decision), row)

    def _district_retired(self, context: CommandContext, row: fmt.DistrictRetired) -> None:
        self._rules_changed(lambda decision: self.tasking.retire_district(
            context, district=row.district, decision=decision), row)

    def _schemes_of_delegation(self, context: CommandContext, row: fmt.SchemesOfDelegation) -> None:
        schemes = [DelegationScheme(s.id, row.body, s.role, list(s.decisions), s.name) for s in row.schemes]
        self._rules_changed(lambda decision: self.tasking.change_schemes(
            context, body=row.body, schemes=schemes, decision=decision), row)

    def _rag_thresholds(self, context: CommandContext, row: fmt.RagThresholds) -> None:
        self._rules_changed(lambda decision: self.tasking.change_rag_thresholds(
            context, green_within_percent=row.green_within_percent, amber_within_percent=row.amber_within_percent,
            decision=decision), row)

    def _priority_limit(self, context: CommandContext, row: fmt.PriorityLimit) -> None:
        self._rules_changed(lambda decision: self.tasking.change_priority_limit(
            context, limit=row.max_agreed_priorities_per_district, decision=decision), row)

    # -- what the target holds ----------------------------------------------------------------------------------
    def holds(self, row: Any) -> bool:
        """Whether the target already holds this row (an event of its aggregate names the row's kind and key)."""
        if row.kind == "body":  # checked against the partnership file: nothing is written, nothing to write again
            return True
        service, aggregate_id = self.touched(row)
        app = {"priorities": self.priorities, "tasking": self.tasking, "projects": self.projects}[service]
        wanted = row_key(row)
        return any(imported_row(getattr(event, "correlation_id", "")) == wanted
                   for event in app.events.get(aggregate_id))

    def remember(self, row: Any) -> None:
        """A row the target already holds: what later rows cite it by."""
        if row.kind in CREATED_AS:
            self.ids[(row.kind, row.key)] = self.created_id(row.kind, row.key, row.by)
        if row.kind == "scs_review":
            self.ids[(row.kind, row.key)] = review_id(row.number)
        if row.kind in ("tasking", "transfer"):
            held = self.tasking.tasking(self.ids[(row.kind, row.key)])
            self.tasked.setdefault(UUID(str(held.target_id)), []).append(held.id)


def _enum(cls: Any, value: str, field: str) -> Any:
    try:
        return cls(value)
    except ValueError:
        raise InvalidCommand(f"'{value}' is not a {field} ({', '.join(m.value for m in cls)}).",
                             [{"field": field, "message": f"One of {', '.join(m.value for m in cls)}."}]) from None


def _refusal(ref: str, error: DomainError) -> RowReport:
    status, code, title, detail, extra = problem_fields(error)
    return RowReport(ref, "refused", status, code, title, detail, extra.get("errors"))


def _apply_again_if_changed_meanwhile(applier: Applier, row: Any, attempts: int = 5) -> None:
    """Apply a row; when its aggregate was changed between the read and the write by a service's own reaction to
    an earlier row (a project adopting the profile just given to its share), read it again and apply the row to
    it, as a client told 409 would. A failed write wrote nothing: the store refuses the whole transaction."""
    for attempt in range(attempts):
        try:
            applier.apply(row)
            return
        except IntegrityError:
            if attempt == attempts - 1:
                raise ConcurrentChange(f"The {row.kind} '{row.key}' kept meeting changes made meanwhile; run the "
                                       "file again (the rows already imported are kept).") from None
            time.sleep(0.05 * (attempt + 1))


def run_rows(applier: Applier, rows: list[Any], held: set[int] | None = None) -> list[RowReport]:
    """Apply every row in order; one refused row does not stop the rest being tried (each gets its report)."""
    reports = []
    for index, row in enumerate(rows):
        ref = fmt.row_ref(row)
        if held is not None and index in held:
            applier.remember(row)
            reports.append(RowReport(ref, "already imported"))
            continue
        try:
            try:
                _apply_again_if_changed_meanwhile(applier, row)
            except ValueError as error:  # a value the domain's own types refuse (a date, a decimal, an enum)
                raise InvalidCommand(str(error)) from error
        except DomainError as error:
            applier.refused.add((row.kind, row.key))
            if row.kind == "transfer":
                applier.refused.add(("tasking", row.key))
            reports.append(_refusal(ref, error))
            continue
        reports.append(RowReport(ref, "accepted"))
    return reports


def events_of(app: ServiceApplication) -> Iterator[Any]:
    """Every event of a service's store, in its log's order."""
    start = 1
    while True:
        notifications = app.recorder.select_notifications(start=start, limit=500)
        if not notifications:
            return
        for notification in notifications:
            yield app.mapper.to_domain_event(notification)
        start = notifications[-1].id + 1


@contextmanager
def scratch_system(settings: Settings) -> Iterator[dict[str, ServiceApplication]]:
    """A throwaway embedded system of the command services (SQLite stores, in-process log), with the target's
    partnership definition: where the dry run is made."""
    from services.runtime import System

    # In memory where the machine has it (tmpfs): the scratch stores are thrown away after the run, so paying for
    # their commits to reach the disk (one per row per service, and the workers' own) buys nothing.
    memory = Path("/dev/shm")
    with tempfile.TemporaryDirectory(prefix="history-dry-run-", dir=memory if memory.is_dir() else None) as folder:
        scratch = settings.model_copy(update={
            "data_dir": Path(folder), "database_url": None, "people_database_url": None, "schema_prefix": "",
            "kafka_bootstrap_servers": None, "topic_prefix": ""})
        system = System(scratch, services=COMMAND_SERVICES)
        system.start_workers()
        try:
            yield system.applications
        finally:
            system.close()


def import_history(history: HistoryFile, applications: dict[str, ServiceApplication], importer: Actor,
                   settings: Settings, timeout: float = 120.0) -> ImportReport:
    """Import a history file into the target's applications, all or nothing (see the module's docstring).

    The target's workers (running here or elsewhere) must carry each service's events to the others."""
    rows = history.rows
    wait_for = waiter(timeout)
    target = Applier(applications, importer, history.sha256, wait_for)
    fresh = not any(app.holds_history() for app in applications.values())
    held: set[int] = set()
    if not fresh:
        foreign = _foreign_history(applications)
        if foreign:
            reason = DomainError(
                f"The system already holds history that no import recorded ({foreign}): a history file is "
                "imported into an empty system, or imported again into the one it was imported into.")
            return _report(history, False, [_refusal(fmt.row_ref(row), reason) for row in rows[:1]]
                           + [RowReport(fmt.row_ref(row), "not imported") for row in rows[1:]])
        for index, row in enumerate(rows):
            try:
                holds = target.holds(row)
            except DomainError:  # it cites a row the target does not hold: not imported either
                holds = False
            if holds:
                held.add(index)
                target.remember(row)
        if len(held) == len(rows):
            return _report(history, False, [RowReport(fmt.row_ref(row), "already imported") for row in rows])
    started = time.perf_counter()
    with scratch_system(settings) as scratch:
        dry = run_rows(Applier(scratch, importer, history.sha256, wait_for), rows)
    timings = {"dry_run": time.perf_counter() - started}
    if any(report.outcome == "refused" for report in dry):
        for report in dry:
            if report.outcome == "accepted":
                report.outcome = "not imported"
        return _report(history, False, dry, timings)
    started = time.perf_counter()
    reports = run_rows(target, rows, held)
    timings["target"] = time.perf_counter() - started
    return _report(history, not any(r.outcome == "refused" for r in reports), reports, timings)


def _report(history: HistoryFile, imported: bool, rows: list[RowReport],
            timings: dict[str, float] | None = None) -> ImportReport:
    for number, (report, place) in enumerate(zip(rows, history.places, strict=True), start=1):
        report.number, report.place = number, place
    return ImportReport(history.name, history.sha256, imported, rows, timings or {})


def _foreign_history(applications: dict[str, ServiceApplication]) -> str | None:
    for name, app in applications.items():
        for event in events_of(app):
            if app.is_founding(event):  # recorded by the service itself at start (tasking's partnership rules)
                continue
            correlation = getattr(event, "correlation_id", "")
            if imported_row(correlation) is None:
                return f"{name}: {type(event).__qualname__} of {correlation or 'no correlation id'}"
    return None
