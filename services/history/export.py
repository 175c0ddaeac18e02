"""Exporting a system's history in the import's format: each service's events, merged in the order they were
recorded, become the rows whose commands made them. A row the system imported keeps its key (from the events'
provenance), so exporting an imported history gives back the file's keys; anything else is keyed by its id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from services.history import format as fmt
from services.history.runner import events_of, imported_row
from services.priorities.application import PrioritiesApplication
from services.tasking.application import TaskingApplication
from shared.contracts import Decision
from shared.contracts.personal import SealedPersonalData
from shared.contracts.priorities import (
    ChapterPriorityAgreed,
    ChapterPriorityRetired,
    DistrictChapterOpened,
    EvidenceAccepted,
    EvidenceNoted,
    EvidenceSubmitted,
    ObjectiveAdded,
    ObjectiveRetired,
    ObjectiveReworded,
    PerformanceReleased,
    PriorityAgreed,
    PriorityProposed,
    PriorityReconfirmed,
    PriorityRejected,
    PriorityRetired,
    ScsReviewClosed,
    ScsReviewOpened,
    ScsReviewPriorityResolved,
    TargetProfiled,
    TargetReportingIntervalSet,
    TargetRetired,
    TargetRevised,
    TargetSet,
)
from shared.contracts.projects import (
    ContributionClosed,
    ContributionRepointed,
    InterventionRecorded,
    MilestoneAchieved,
    MilestoneAdded,
    OutcomeProfiled,
    ProgrammeOpened,
    ProgressReportCorrected,
    ProgressReported,
    ProgressReportWithdrawn,
    ProjectAddedToProgramme,
    ProjectClosed,
    ProjectDeferred,
    ProjectOpened,
    ProjectResumed,
    RagOverridden,
    ResourcesCommitted,
    RiskRecorded,
    ShareProfileAdopted,
)
from shared.contracts.tasking import (
    ActionAgreed,
    ActionDone,
    DistrictAdded,
    DistrictRenamed,
    DistrictRetired,
    DistrictsCommitted,
    FreeTextRedacted,
    MeetingEntered,
    MeetingHeld,
    PartnerJoined,
    PartnerLeft,
    PartnershipFounded,
    PersonalDataErased,
    PriorityLimitChanged,
    QuorumChanged,
    RagThresholdsChanged,
    SchemesOfDelegationChanged,
    ShareProfiled,
    TargetOverAllocated,
    TargetOverAllocationCleared,
    TaskingAccepted,
    TaskingCompleted,
    TaskingDeclined,
    TaskingDeliveryStarted,
    TaskingIssued,
    TaskingRetasked,
    TaskingWithdrawn,
)
from shared.eventstore import ServiceApplication
from shared.partnership import PartnershipDefinition

CONSEQUENCES = (DistrictChapterOpened, ChapterPriorityAgreed, ChapterPriorityRetired, ProgrammeOpened,
                ProjectAddedToProgramme, TargetOverAllocated, TargetOverAllocationCleared, ShareProfileAdopted,
                ScsReviewPriorityResolved, ContributionClosed)
"""Events another event's command made as well, or a service made by its own rule on learning of it (a chapter, a
programme, an over-allocation, a project adopting its share's new profile, a review's priority resolved by its
re-confirmation or retirement, a project's contribution closed when its tasking was withdrawn or moved): no row of
their own. A contribution re-pointed after a retasking upstream is one too (``upstream_version`` set)."""

CUSTODY = (PersonalDataErased, FreeTextRedacted)
"""Acts on this system's own custody of personal data (an erasure, a redaction), not the partnership's history: no
row. What they did travels in the rows: an erased contact is exported as erased, a redacted text as
``[redacted]``, and no row carries a pseudonym."""

STEPS = {TaskingAccepted: "accept", TaskingDeclined: "decline", TaskingDeliveryStarted: "start_delivery",
         TaskingCompleted: "complete", TaskingWithdrawn: "withdraw"}


class NotExportable(ValueError):
    """An event no row of the format stands for yet."""


class _Exporter:
    def __init__(self, erased: Callable[[str], bool] = lambda person_id: False) -> None:
        self.erased = erased
        """Whether a contact's personal details were erased (their key destroyed in the people vault)."""
        self.keys: dict[UUID, str] = {}
        self.rows: list[tuple[Any, int, dict[str, Any]]] = []  # (position, order, row data)
        self.open: dict[tuple[str, UUID], dict[str, Any]] = {}
        self.transfers: set[tuple[str, UUID]] = set()
        self.set_by: dict[UUID, str] = {}
        """Each target's setting command (a reporting interval set with it belongs to its row)."""

    def key(self, event: Any, fallback: str) -> str:
        row = imported_row(event.correlation_id)
        return row.partition("/")[2] if row else fallback

    def cite(self, aggregate_id: UUID | str | None) -> str | None:
        if aggregate_id is None:
            return None
        return self.keys.get(UUID(str(aggregate_id)), str(aggregate_id))

    def decision(self, decision: Decision | None) -> dict[str, Any] | None:
        if decision is None:
            return None
        return {"body": decision.body, "decided_on": decision.decided_on, "reason": decision.reason,
                "meeting": self.cite(decision.meeting_id), "reference": decision.reference,
                "delegation": decision.delegation}

    @staticmethod
    def by(event: Any) -> dict[str, str]:
        return {"organisation": event.actor.organisation, "role": event.actor.role}

    def add(self, event: Any, data: dict[str, Any], created: UUID | None = None) -> dict[str, Any]:
        data["by"] = self.by(event)
        if created is not None:
            self.keys[created] = data["key"]
        self.rows.append((event.timestamp, len(self.rows), data))
        return data

    def event(self, event: Any) -> None:
        aid: UUID = event.originator_id
        default = f"{aid}" if event.originator_version == 1 else f"{aid}/{event.originator_version}"
        key = self.key(event, default)
        if isinstance(event, (*CONSEQUENCES, *CUSTODY, PartnershipFounded)):
            return  # the founding: recorded by tasking from the partnership definition, not history entered
        if isinstance(event, ContributionRepointed) and event.upstream_version is not None:
            return  # the project's own reaction to a retasking row
        if isinstance(event, PartnerJoined):
            self.add(event, {"kind": "membership", "key": key, "body": event.body, "organisation": event.organisation,
                             "joined_on": event.joined_on, "nominated_by": event.nominated_by,
                             "decision": self.decision(event.decision)})
        elif isinstance(event, PartnerLeft):
            self.add(event, {"kind": "membership_ended", "key": key, "body": event.body,
                             "organisation": event.organisation, "left_on": event.left_on, "reason": event.reason,
                             "decision": self.decision(event.decision)})
        elif isinstance(event, DistrictsCommitted):
            self.add(event, {"kind": "commitment", "key": key, "organisation": event.organisation,
                             "districts": list(event.districts)})
        elif isinstance(event, MeetingHeld):
            self.open[("meeting", aid)] = self.add(event, {
                "kind": "meeting", "key": key, "body": event.body, "held_on": event.held_on, "title": event.title,
                "present": list(event.present)}, aid)
        elif isinstance(event, MeetingEntered):  # the minute book's entry: a quorum as minuted is recorded there
            meeting = self.open.pop(("meeting", UUID(str(event.meeting_id))), None)
            if meeting is not None and event.quorum_as_minuted:
                meeting["quorum_as_minuted"] = event.quorum_as_minuted
        elif isinstance(event, TaskingIssued):
            common = {"key": key, "district": event.district, "lead_partner": event.lead_partner,
                      "share": event.share, "decision": self.decision(event.decision)}
            if event.retasked_from is not None:
                self.transfers.add((event.correlation_id, UUID(str(event.retasked_from))))
                self.add(event, {"kind": "transfer", "tasking": self.cite(event.retasked_from),
                                 "deadline": event.deadline, **common}, aid)
            else:
                self.add(event, {"kind": "tasking", "target": self.cite(event.target_id),
                                 "theme_group": event.theme_group, "deadline": event.deadline,
                                 "commissioning_level": str(event.commissioning_level),
                                 "sector": getattr(event, "sector", None), **common}, aid)
        elif isinstance(event, TaskingRetasked):
            if (event.correlation_id, aid) not in self.transfers:
                self.add(event, {"kind": "retasking", "key": key, "tasking": self.cite(aid),
                                 "district": event.district, "lead_partner": event.lead_partner,
                                 "share": event.share, "deadline": event.deadline,
                                 "decision": self.decision(event.decision)})
        elif type(event) in STEPS or any(isinstance(event, cls) for cls in STEPS):
            step = next(name for cls, name in STEPS.items() if isinstance(event, cls))
            self.add(event, {"kind": "tasking_step", "key": key, "tasking": self.cite(aid), "step": step,
                             "reason": getattr(event, "reason", None), "achieved": getattr(event, "achieved", None),
                             "decision": self.decision(event.decision)})
        elif isinstance(event, ActionAgreed):
            self.open[("action", aid)] = self.add(event, {
                "kind": "action", "key": key, "meeting": self.cite(event.meeting_id), "owner": event.owner,
                "due_on": event.due_on, "description": event.description}, aid)
        elif isinstance(event, ActionDone):
            self._merge(event, ("action", aid), {"done_on": event.done_on, "note": event.note,
                                                        "done_by": self.by(event)})
        elif isinstance(event, ObjectiveAdded):
            self.add(event, {"kind": "objective", "key": key, "title": event.title, "level": str(event.level),
                             "strategy": event.strategy, "parent": self.cite(event.parent_id),
                             "decision": self.decision(event.decision)}, aid)
        elif isinstance(event, TargetSet):
            self.set_by[aid] = event.correlation_id
            self.open[("target", aid)] = self.add(event, {
                             "kind": "target", "key": key, "objective": self.cite(event.objective_id),
                             "metric": event.metric, "unit": event.unit, "baseline_value": event.baseline_value,
                             "baseline_date": event.baseline_date, "target_value": event.target_value,
                             "deadline": event.deadline, "data_source": event.data_source,
                             "owner_organisation": event.owner_organisation,
                             "decision": self.decision(event.decision)}, aid)
        elif isinstance(event, PriorityProposed):
            self.open[("priority", aid)] = self.add(event, {
                "kind": "priority", "key": key, "district": event.district, "title": event.title,
                "rationale": event.rationale, "objective": self.cite(event.objective_id),
                "evidence_refs": list(event.evidence_refs)}, aid)
        elif isinstance(event, PriorityAgreed):
            self._merge(event, ("priority", aid), {"agreed": self.decision(event.decision),
                                                          "agreed_by": self.by(event)})
        elif isinstance(event, EvidenceSubmitted):
            self.open[("evidence", aid)] = self.add(event, {
                "kind": "evidence", "key": key, "district": event.district, "title": event.title,
                "summary": event.summary, "source": event.source, "evidence_date": event.evidence_date,
                "figures": [{"label": f.label, "value": f.value, "unit": f.unit} for f in event.figures],
                "objectives": [self.cite(o) for o in event.objective_ids],
                "priorities": [self.cite(p) for p in event.priority_ids], "contact": self.contact(event.contact)}, aid)
        elif isinstance(event, EvidenceAccepted):
            self._merge(event, ("evidence", aid), {"accepted": self.decision(event.decision),
                                                          "accepted_by": self.by(event)})
        elif isinstance(event, EvidenceNoted):
            self._merge(event, ("evidence", aid), {"noted": self.decision(event.decision), "noted_reason": event.reason,
                                                   "noted_by": self.by(event)})
        elif isinstance(event, ProjectOpened):
            self.add(event, {
                "kind": "project", "key": key, "district": event.district, "title": event.title,
                "lead_partner": event.lead_partner, "project_manager": event.project_manager,
                "taskings": [self.cite(t.tasking_id) for t in event.taskings],
                "outcomes": [{"id": o.id, "tasking": self.cite(o.tasking_id), "metric": o.metric, "unit": o.unit,
                              "baseline_value": o.baseline_value, "baseline_date": o.baseline_date,
                              "target_value": o.target_value, "target_date": o.target_date, "weight": o.weight}
                             for o in event.outcomes],
                "milestones": [{"id": m.id, "title": m.title, "due_on": m.due_on} for m in event.milestones],
                "resources": [{"organisation": r.organisation, "money_gbp": r.money_gbp,
                               "staff_days": r.staff_days, "note": r.note} for r in event.resources],
                "risks": [{"id": r.id, "description": r.description, "likelihood": r.likelihood,
                           "impact": r.impact, "owner": r.owner, "mitigation": r.mitigation} for r in event.risks],
                "decision": self.decision(event.decision)}, aid)
        elif isinstance(event, MilestoneAchieved):
            self.add(event, {"kind": "milestone_achieved", "key": key, "project": self.cite(aid),
                             "milestone": event.milestone_id, "achieved_on": event.achieved_on})
        elif isinstance(event, ProgressReported) and not event.correction:
            self.add(event, {"kind": "progress", "key": key, "project": self.cite(aid),
                             "reported_on": event.reported_on,
                             "values": {v.outcome_id: v.value for v in event.values}, "narrative": event.narrative})
        elif isinstance(event, InterventionRecorded):
            self.add(event, {"kind": "intervention", "key": key, "project": self.cite(aid),
                             "intervention": str(event.kind), "description": event.description,
                             "decision": self.decision(event.decision), "due_on": event.due_on,
                             "owner": event.owner})
        elif isinstance(event, TargetReportingIntervalSet):
            target = self.open.get(("target", aid))
            version = getattr(event, "originator_version", 0)  # a stored event: its aggregate's version
            if version == 2 and target is not None and self.set_by.get(aid) == event.correlation_id:
                target["reporting_interval"] = str(event.reporting_interval)  # set with the target, not changed
            else:
                self.add(event, {"kind": "reporting_interval", "key": key, "target": self.cite(aid),
                                 "reporting_interval": str(event.reporting_interval),
                                 "in_force_from": event.in_force_from, "decision": self.decision(event.decision)})
        elif isinstance(event, (TargetProfiled, ShareProfiled)):
            profiled = ({"kind": "target_profile", "target": self.cite(aid)} if isinstance(event, TargetProfiled)
                        else {"kind": "share_profile", "tasking": self.cite(aid)})
            self.add(event, {**profiled, "key": key, "profile": [{"on": p.on, "value": p.value} for p in event.profile],
                             "decision": self.decision(event.decision)})
        elif isinstance(event, ObjectiveReworded):
            self.add(event, {"kind": "objective_reword", "key": key, "objective": self.cite(aid), "title": event.title,
                             "decision": self.decision(event.decision)})
        elif isinstance(event, PriorityRejected):
            self.add(event, {"kind": "priority_rejection", "key": key, "priority": self.cite(aid),
                             "decision": self.decision(event.decision)})
        elif isinstance(event, MilestoneAdded):
            m = event.milestone
            self.add(event, {"kind": "milestone_added", "key": key, "project": self.cite(aid),
                             "milestone": {"id": m.id, "title": m.title, "due_on": m.due_on}})
        elif isinstance(event, ResourcesCommitted):
            c = event.commitment
            self.add(event, {"kind": "resources", "key": key, "project": self.cite(aid), "commitment": {
                "organisation": c.organisation, "money_gbp": c.money_gbp, "staff_days": c.staff_days, "note": c.note}})
        elif isinstance(event, RiskRecorded):
            r = event.risk
            self.add(event, {"kind": "risk", "key": key, "project": self.cite(aid), "risk": {
                "id": r.id, "description": r.description, "likelihood": r.likelihood, "impact": r.impact,
                "owner": r.owner, "mitigation": r.mitigation}})
        elif isinstance(event, OutcomeProfiled):
            self.add(event, {"kind": "outcome_profile", "key": key, "project": self.cite(aid),
                             "outcome": event.outcome_id,
                             "profile": [{"on": p.on, "value": p.value} for p in event.profile]})
        elif isinstance(event, TargetRevised):
            self.add(event, {"kind": "target_revision", "key": key, "target": self.cite(aid), "metric": event.metric,
                             "unit": event.unit, "baseline_value": event.baseline_value,
                             "baseline_date": event.baseline_date, "target_value": event.target_value,
                             "deadline": event.deadline, "data_source": event.data_source,
                             "owner_organisation": event.owner_organisation,
                             "decision": self.decision(event.decision)})
        elif isinstance(event, (ObjectiveRetired, TargetRetired, PriorityRetired)):
            retires = {ObjectiveRetired: "objective", TargetRetired: "target", PriorityRetired: "priority"}
            self.add(event, {"kind": "retirement", "key": key,
                             "retires": next(v for cls, v in retires.items() if isinstance(event, cls)),
                             "item": self.cite(aid), "decision": self.decision(event.decision)})
        elif isinstance(event, ProgressReportCorrected):
            self.add(event, {"kind": "correction", "key": key, "project": self.cite(aid),
                             "corrected_report_on": event.corrected_report_on, "reported_on": event.reported_on,
                             "values": {v.outcome_id: v.value for v in event.values}, "narrative": event.narrative,
                             "reason": event.reason})
        elif isinstance(event, ProgressReportWithdrawn):
            self.add(event, {"kind": "report_withdrawal", "key": key, "project": self.cite(aid),
                             "reported_on": event.reported_on, "reason": event.reason})
        elif isinstance(event, RagOverridden):
            self.add(event, {"kind": "rag_override", "key": key, "project": self.cite(aid), "rag": str(event.rag),
                             "reason": event.reason, "decision": self.decision(event.decision)})
        elif isinstance(event, (ProjectDeferred, ProjectResumed)):
            self.add(event, {"kind": "deferral", "key": key, "project": self.cite(aid),
                             "step": "defer" if isinstance(event, ProjectDeferred) else "resume",
                             "decision": self.decision(event.decision)})
        elif isinstance(event, ProjectClosed):
            self.add(event, {"kind": "closure", "key": key, "project": self.cite(aid),
                             "outcome_achieved": event.outcome_achieved, "lessons": event.lessons,
                             "decision": self.decision(event.decision)})
        elif isinstance(event, ContributionRepointed):
            self.add(event, {"kind": "contribution_repoint", "key": key, "project": self.cite(aid),
                             "from_tasking": self.cite(event.from_tasking_id),
                             "to_tasking": self.cite(event.to_tasking_id), "reason": event.reason,
                             "decision": self.decision(event.decision)})
        elif isinstance(event, ScsReviewOpened):
            self.add(event, {"kind": "scs_review", "key": key, "number": event.number,
                             "decision": self.decision(event.decision)}, aid)
        elif isinstance(event, ScsReviewClosed):
            self.add(event, {"kind": "scs_review_closed", "key": key, "review": self.cite(aid),
                             "decision": self.decision(event.decision)})
        elif isinstance(event, PriorityReconfirmed):
            self.add(event, {"kind": "reconfirmation", "key": key, "priority": self.cite(aid),
                             "decision": self.decision(event.decision)})
        elif isinstance(event, PerformanceReleased):
            self.add(event, {"kind": "performance_release", "key": key, "starts_on": event.starts_on,
                             "ends_on": event.ends_on, "decision": self.decision(event.decision)})
        elif isinstance(event, RULE_EVENTS):
            self.add(event, {"key": key, **_rule_change(event), "decision": self.decision(event.decision)})
        else:
            raise NotExportable(f"{type(event).__qualname__} ({aid} version {event.originator_version}) has no row "
                                "in the history format yet: the history cannot be exported whole.")

    def contact(self, sealed: SealedPersonalData | None) -> dict[str, Any] | None:
        """A contact as the export writes it: the opaque id alone, never the sealed details (no read of the system
        shows them, and a copy in clear would be beyond the reach of their erasure)."""
        if sealed is None:
            return None
        return {"person_id": sealed.person_id, "erased": self.erased(sealed.person_id)}

    def _merge(self, event: Any, opened: tuple[str, UUID], fields: dict[str, Any]) -> None:
        """A later event of a row's aggregate that the row carries (agreed, accepted, done): the row moves to it."""
        data = self.open.pop(opened)
        data.update(fields)
        self.rows = [item for item in self.rows if item[2] is not data]
        self.rows.append((event.timestamp, len(self.rows), data))

    def document(self, definition: PartnershipDefinition) -> fmt.HistoryDocument:
        ordered = sorted(self.rows, key=lambda item: (item[0], item[1]))
        bodies = [{"kind": "body", "key": b.id, "name": b.name, "body_kind": str(b.kind), "quorum": b.quorum}
                  for b in definition.bodies]  # first: the file fits only a partnership with these bodies
        return fmt.HistoryDocument.model_validate({"partnership": definition.id, "rows": [
            *bodies, *({k: v for k, v in data.items() if v is not None} for _, _, data in ordered)]})


RULE_EVENTS = (QuorumChanged, DistrictAdded, DistrictRenamed, DistrictRetired, SchemesOfDelegationChanged,
               RagThresholdsChanged, PriorityLimitChanged)


def _rule_change(event: Any) -> dict[str, Any]:
    """The row of a change of the partnership's rules (its kind and terms; the key and decision are added)."""
    if isinstance(event, QuorumChanged):
        return {"kind": "quorum_change", "body": event.body, "quorum": event.quorum}
    if isinstance(event, DistrictAdded):
        return {"kind": "district_added", "district": event.district, "name": event.name,
                "partnership": event.partnership, "quorum": event.quorum}
    if isinstance(event, DistrictRenamed):
        return {"kind": "district_renamed", "district": event.district, "name": event.name,
                "partnership": event.partnership}
    if isinstance(event, DistrictRetired):
        return {"kind": "district_retired", "district": event.district}
    if isinstance(event, SchemesOfDelegationChanged):
        return {"kind": "schemes_of_delegation", "body": event.body, "schemes": [
            {"id": s.id, "role": s.role, "decisions": list(s.decisions), "name": s.name} for s in event.schemes]}
    if isinstance(event, RagThresholdsChanged):
        return {"kind": "rag_thresholds", "green_within_percent": event.green_within_percent,
                "amber_within_percent": event.amber_within_percent}
    return {"kind": "priority_limit",
            "max_agreed_priorities_per_district": event.max_agreed_priorities_per_district}


def export_history(applications: dict[str, ServiceApplication]) -> fmt.HistoryDocument:
    """The whole history of the command services' stores, as one document (raises ``NotExportable``)."""
    events = [event for name in ("tasking", "priorities", "projects") for event in events_of(applications[name])]
    events.sort(key=lambda event: event.timestamp)
    priorities = applications["priorities"]
    assert isinstance(priorities, PrioritiesApplication)
    erased = priorities.vault.erased()
    exporter = _Exporter(lambda person_id: person_id in erased)
    for event in events:
        exporter.event(event)
    tasking = applications["tasking"]
    assert isinstance(tasking, TaskingApplication)
    return exporter.document(tasking.definition)
