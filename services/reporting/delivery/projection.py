"""The delivery read model's projection: one handler per contract class of ``projects``, and of the targets and
taskings (``priorities``, ``tasking``) that its roll-up keeps its own copies of."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from functools import singledispatch
from typing import Any

from services.reporting.delivery.tables import (
    ALLOCATIONS,
    INTERVENTIONS,
    MILESTONES,
    OUTCOME_COLUMNS,
    OUTCOMES,
    PROGRESS,
    PROJECTS,
    TARGETS,
    TASKINGS,
    WITHDRAWALS,
)
from services.reporting.rows import Add, Append, Latest, Rows
from services.reporting.temporal import decision_json, sorted_json, timestamp
from shared.contracts import Fact
from shared.contracts.priorities import (
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
    ProgressReportCorrected,
    ProgressReported,
    ProgressReportWithdrawn,
    ProjectClosed,
    ProjectDeferred,
    ProjectOpened,
    ProjectResumed,
    RagOverridden,
    RatioParts,
    ResourcesCommitted,
    ShareProfileAdopted,
    Standing,
)
from shared.contracts.tasking import (
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
from shared.envelope import Envelope


@singledispatch
def project(fact: Fact, rows: Rows, envelope: Envelope) -> None:
    """Not an event the delivery read model follows."""


def _revise_outcome(rows: Rows, outcome_id: str, envelope: Envelope, **changes: Any) -> None:
    """An outcome's next version, carried forward without reading it (an outcome its project's row names)."""
    at = timestamp(envelope.time)
    rows.carry(OUTCOMES.name, OUTCOME_COLUMNS, outcome_id, at, {**changes, "version": envelope.sequence,
                                                                "valid_from": at})


# -- the targets and taskings the roll-up counts against ------------------------------------------------------------


@project.register
def _target_set(fact: TargetSet | TargetRevised, rows: Rows, envelope: Envelope) -> None:
    terms = {"metric": fact.metric, "unit": fact.unit, "target_value": str(fact.target_value),
             "deadline": fact.deadline.isoformat(), "status": "current", "baseline_value": str(fact.baseline_value),
             "baseline_date": fact.baseline_date.isoformat()}
    # A revision keeps the profile and intervals declared (their own events change them): its own change is its
    # terms only, so on the in-force axis a revision dated before a profile does not carry the profile back.
    kept = rows.current(TARGETS.name, envelope.subject) if isinstance(fact, TargetRevised) else None
    if kept is not None:
        rows.revise(TARGETS.name, envelope.subject, envelope, kept, **terms)
        return
    rows.put(TARGETS.name, envelope, {"id": envelope.subject, **terms, "profile": None, "intervals": None})


def profile_json(points: Any) -> str | None:
    """A profile as a row keeps it: JSON ``[[date, value], ...]``; None when empty (the straight line)."""
    return json.dumps([[p.on.isoformat(), str(p.value)] for p in points]) if points else None


@project.register
def _target_profiled(fact: TargetProfiled, rows: Rows, envelope: Envelope) -> None:
    rows.revise(TARGETS.name, envelope.subject, envelope, profile=profile_json(fact.profile))


@project.register
def _target_interval(fact: TargetReportingIntervalSet, rows: Rows, envelope: Envelope) -> None:
    rows.revise(TARGETS.name, envelope.subject, envelope,
                intervals=Append([fact.in_force_from.isoformat(), str(fact.reporting_interval)]))


@project.register
def _over_allocated(fact: TargetOverAllocated | TargetOverAllocationCleared, rows: Rows, envelope: Envelope) -> None:
    over_by = str(fact.over_by) if isinstance(fact, TargetOverAllocated) else None
    rows.put(ALLOCATIONS.name, envelope, {"id": str(fact.target_id), "over_by": over_by, "tasked": str(fact.tasked),
                                          "improvement": str(fact.improvement)})


@project.register
def _target_retired(fact: TargetRetired, rows: Rows, envelope: Envelope) -> None:
    rows.revise(TARGETS.name, envelope.subject, envelope, status="retired")


@project.register
def _tasking_issued(fact: TaskingIssued, rows: Rows, envelope: Envelope) -> None:
    rows.insert(TASKINGS.name, {
        "id": envelope.subject, "version": envelope.sequence, "target_id": str(fact.target_id),
        "district": fact.district, "lead_partner": fact.lead_partner, "share": str(fact.share), "unit": fact.unit,
        "deadline": fact.deadline.isoformat(), "status": "issued",
        "counts_against_target": int(fact.counts_against_target), "sector": fact.sector, "profile": None,
        "valid_from": timestamp(envelope.time), "valid_to": None})


@project.register
def _share_profiled(fact: ShareProfiled, rows: Rows, envelope: Envelope) -> None:
    rows.revise(TASKINGS.name, envelope.subject, envelope, profile=profile_json(fact.profile))


_TASKING_STATUS = {TaskingAccepted: "accepted", TaskingDeliveryStarted: "in_delivery", TaskingDeclined: "declined",
                   TaskingWithdrawn: "withdrawn", TaskingCompleted: "completed"}


@project.register
def _tasking_status(fact: TaskingAccepted | TaskingDeliveryStarted | TaskingDeclined | TaskingWithdrawn
                    | TaskingCompleted, rows: Rows, envelope: Envelope) -> None:
    rows.revise(TASKINGS.name, envelope.subject, envelope, status=_TASKING_STATUS[type(fact)],
                counts_against_target=int(fact.counts_against_target))  # as tasking says


@project.register
def _tasking_retasked(fact: TaskingRetasked, rows: Rows, envelope: Envelope) -> None:
    issued_again: dict[str, str] = {"status": "issued"} if fact.issued_again else {}  # as tasking says
    rows.revise(TASKINGS.name, envelope.subject, envelope, district=fact.district, lead_partner=fact.lead_partner,
                share=str(fact.share), deadline=fact.deadline.isoformat(),
                counts_against_target=int(fact.counts_against_target), **issued_again)


# -- projects -------------------------------------------------------------------------------------------------------


@project.register
def _project_opened(fact: ProjectOpened, rows: Rows, envelope: Envelope) -> None:
    at = timestamp(envelope.time)
    rows.insert(PROJECTS.name, {
        "id": envelope.subject, "version": envelope.sequence, "programme_id": str(fact.programme_id),
        "district": fact.district, "title": fact.title, "lead_partner": fact.lead_partner,
        "project_manager": fact.project_manager, "status": "open", "rag": None, "derived_rag": None,
        "rag_override_reason": None, "direction": None, "shortfall_percent": None, "last_reported_on": None,
        "flagged": None, "interventions": 0,
        "committed_gbp": Add(sum((r.money_gbp for r in fact.resources), Decimal(0))),
        "committed_staff_days": Add(sum((r.staff_days for r in fact.resources), Decimal(0))),
        "outcome_achieved": None, "lessons": None, "opened_at": at, "valid_from": at, "valid_to": None})
    for outcome in fact.outcomes:
        rows.insert(OUTCOMES.name, {
            "id": f"{envelope.subject}:{outcome.id}", "version": envelope.sequence, "project_id": envelope.subject,
            "outcome_id": outcome.id, "tasking_id": str(outcome.tasking_id), "metric": outcome.metric,
            "unit": outcome.unit, "baseline_value": str(outcome.baseline_value),
            "baseline_date": outcome.baseline_date.isoformat(), "target_value": str(outcome.target_value),
            "target_date": outcome.target_date.isoformat(), "weight": str(outcome.weight), "actual": None,
            "counting": 1, "profile": None, "sector": outcome.sector, "parts": None, "actual_on": None,
            "valid_from": at, "valid_to": None})
    for milestone in fact.milestones:
        _milestone_row(rows, envelope, milestone.id, milestone.title, milestone.due_on)


def _milestone_row(rows: Rows, envelope: Envelope, milestone_id: str, title: str, due_on: date) -> None:
    rows.insert(MILESTONES.name, {
        "id": f"{envelope.subject}:{milestone_id}", "version": envelope.sequence, "project_id": envelope.subject,
        "milestone_id": milestone_id, "title": title, "due_on": due_on.isoformat(), "achieved_on": None,
        "valid_from": timestamp(envelope.time), "valid_to": None})


@project.register
def _progress_reported(fact: ProgressReported, rows: Rows, envelope: Envelope) -> None:
    project_row = rows.existing(PROJECTS.name, envelope.subject, envelope)
    reported_on = fact.reported_on.isoformat()
    _progress_row(rows, envelope, fact, correction=fact.correction, correction_reason=fact.correction_reason)
    # The project's standing is its latest report's: one dated before the latest (a correction of an earlier one, or
    # back-filled) leaves it, and any manual RAG has expired. On the in-force axis each report's standing is the
    # project's from its own day (``Latest``). A report without a decision is in force from its date, so the fold
    # takes reports in date order and the latest so far needs no ``Latest``: its values are the same, cheaper.
    last = project_row["last_reported_on"]
    latest = last is None or reported_on >= last
    standing: dict[str, Any] = {"rag": fact.rag.value, **_standing_of(fact)}
    if not latest or fact.decision is not None:
        standing = {column: Latest(value, reported_on, otherwise="derived_rag" if column == "rag" else None)
                    for column, value in standing.items()}
    rows.revise(PROJECTS.name, envelope.subject, envelope, project_row, rag_override_reason=None, **standing)
    # An outcome's actual is its latest report's the same way, by the report's date (``actual_on``): a report dated
    # before the latest leaves the recorded actual, and is the outcome's actual from its own day to the next one's.
    parts = _parts(fact.parts)
    for value in fact.actuals:
        outcome_id = f"{envelope.subject}:{value.outcome_id}"
        actual = {"actual": str(value.value), "parts": parts.get(value.outcome_id), "actual_on": reported_on}
        if latest and fact.decision is None:
            _revise_outcome(rows, outcome_id, envelope, **actual)  # the latest so far: its values, unread
        elif (outcome := rows.current(OUTCOMES.name, outcome_id)) is not None:
            rows.revise(OUTCOMES.name, outcome_id, envelope, outcome,
                        **{column: Latest(v, reported_on, by="actual_on") for column, v in actual.items()})


def _parts(parts: Iterable[RatioParts]) -> dict[str, str]:
    """Each ratio outcome's parts as its row keeps them: JSON ``[numerator, denominator]``."""
    return {p.outcome_id: json.dumps([str(p.numerator), str(p.denominator)]) for p in parts}


def _progress_row(rows: Rows, envelope: Envelope, fact: ProgressReported | ProgressReportCorrected, *,
                  correction: bool, correction_reason: str | None) -> None:
    rows.insert(PROGRESS.name, {
        "project_id": envelope.subject, "version": envelope.sequence, "reported_on": fact.reported_on.isoformat(),
        "reported_values": sorted_json({v.outcome_id: str(v.value) for v in fact.values}),
        "actuals": sorted_json({v.outcome_id: str(v.value) for v in fact.actuals}),
        "narrative": fact.narrative, "rag": fact.rag.value,
        "direction": fact.direction.value if fact.direction else None,
        "shortfall_percent": str(fact.shortfall_percent), "correction": int(correction),
        "correction_reason": correction_reason, "reported_by": fact.actor.user_id,
        "reported_by_organisation": fact.actor.organisation, "recorded_at": timestamp(envelope.time),
        "parts": sorted_json({p.outcome_id: [str(p.numerator), str(p.denominator)] for p in fact.parts})
        if fact.parts else None})


def _withdrawal_row(rows: Rows, envelope: Envelope, fact: ProgressReportWithdrawn | ProgressReportCorrected,
                    reported_on: str, corrected_to: str | None) -> None:
    rows.insert(WITHDRAWALS.name, {
        "project_id": envelope.subject, "version": envelope.sequence, "reported_on": reported_on,
        "reason": fact.reason, "corrected_to": corrected_to, "withdrawn_by": fact.actor.user_id,
        "withdrawn_by_organisation": fact.actor.organisation, "recorded_at": timestamp(envelope.time)})


def _stands(rows: Rows, envelope: Envelope, standing: Standing,
            outcome_changes: dict[str, dict[str, Any]] | None = None) -> None:
    """The project's latest report and its outcomes' actual values are what stands after the change (as the
    project derived it): a withdrawn report's values no longer count in any roll-up."""
    project_row = rows.existing(PROJECTS.name, envelope.subject, envelope)
    rag = standing.rag.value if standing.rag else None
    rows.revise(PROJECTS.name, envelope.subject, envelope, project_row, rag=rag, derived_rag=rag,
                rag_override_reason=None, direction=standing.direction.value if standing.direction else None,
                shortfall_percent=None if standing.shortfall_percent is None else str(standing.shortfall_percent),
                last_reported_on=standing.reported_on.isoformat() if standing.reported_on else None)
    actuals = {v.outcome_id: str(v.value) for v in standing.actuals}
    parts = _parts(standing.parts)
    for outcome_id in rows.current_ids(OUTCOMES.name, project_id=envelope.subject):
        own = outcome_id.split(":", 1)[1]
        _revise_outcome(rows, outcome_id, envelope, actual=actuals.get(own), parts=parts.get(own),
                        actual_on=standing.reported_on.isoformat() if own in actuals and standing.reported_on
                        else None, **(outcome_changes or {}).get(outcome_id, {}))


def _standing_of(report: ProgressReported | ProgressReportCorrected) -> dict[str, Any]:
    """The project's standing as a report gives it (its RAG as derived, before any manual override)."""
    return {"derived_rag": report.rag.value, "direction": report.direction.value if report.direction else None,
            "shortfall_percent": str(report.shortfall_percent), "last_reported_on": report.reported_on.isoformat()}


_STANDING = ("derived_rag", "direction", "shortfall_percent", "last_reported_on")
_ACTUAL = ("actual", "parts", "actual_on")


def _taken_back(rows: Rows, envelope: Envelope, standing: Standing, taken_back_on: str,
                correction: ProgressReportCorrected | None = None) -> None:
    """A withdrawal or correction of the reports dated ``taken_back_on``, in force from that day (``shared.in_force``).
    Of the latest report: what stands is projects' standing, in the record and in force. Of an older one: the record
    keeps the latest report's standing (``Latest``, by the date taken back), and on the in-force axis, from that day
    to the next report's, the project and its outcomes stand as the later of the correction and what stood the day
    before (the latest report in force then)."""
    project_row = rows.existing(PROJECTS.name, envelope.subject, envelope)
    last = project_row["last_reported_on"]
    if last is None or taken_back_on >= last:
        _stands(rows, envelope, standing)
        return
    was = rows.in_force_before(PROJECTS.name, envelope.subject, taken_back_on) or {}
    stands: dict[str, Any] = {column: was.get(column) for column in _STANDING}
    corrected_on = correction.reported_on.isoformat() if correction is not None else ""
    if correction is not None and corrected_on >= (stands["last_reported_on"] or ""):
        stands = _standing_of(correction)
    # As after any change of timeline, a manual RAG has expired: the RAG is the one derived.
    rows.revise(PROJECTS.name, envelope.subject, envelope, project_row, rag_override_reason=None,
                rag=Latest(stands["derived_rag"], taken_back_on, otherwise="derived_rag"),
                **{column: Latest(value, taken_back_on) for column, value in stands.items()})
    corrected = {v.outcome_id: str(v.value) for v in correction.actuals} if correction is not None else {}
    parts = _parts(correction.parts) if correction is not None else {}
    for outcome_id in rows.current_ids(OUTCOMES.name, project_id=envelope.subject):
        outcome = rows.current(OUTCOMES.name, outcome_id)
        if outcome is None:
            continue
        before = rows.in_force_before(OUTCOMES.name, outcome_id, taken_back_on) or {}
        actual: dict[str, Any] = {column: before.get(column) for column in _ACTUAL}
        own = outcome_id.split(":", 1)[1]
        if own in corrected and corrected_on >= (actual["actual_on"] or ""):
            actual = {"actual": corrected[own], "parts": parts.get(own), "actual_on": corrected_on}
        rows.revise(OUTCOMES.name, outcome_id, envelope, outcome,
                    **{column: Latest(value, taken_back_on, by="actual_on") for column, value in actual.items()})


@project.register
def _progress_report_withdrawn(fact: ProgressReportWithdrawn, rows: Rows, envelope: Envelope) -> None:
    _withdrawal_row(rows, envelope, fact, fact.reported_on.isoformat(), None)
    _taken_back(rows, envelope, fact.standing, fact.reported_on.isoformat())


@project.register
def _progress_report_corrected(fact: ProgressReportCorrected, rows: Rows, envelope: Envelope) -> None:
    _withdrawal_row(rows, envelope, fact, fact.corrected_report_on.isoformat(), fact.reported_on.isoformat())
    _progress_row(rows, envelope, fact, correction=True, correction_reason=fact.reason)
    _taken_back(rows, envelope, fact.standing, fact.corrected_report_on.isoformat(), fact)


@project.register
def _share_profile_adopted(fact: ShareProfileAdopted, rows: Rows, envelope: Envelope) -> None:
    """The project's RAG as projects derived it again against the share's profile (outcomes without their own)."""
    _stands(rows, envelope, fact.standing)


@project.register
def _outcome_profiled(fact: OutcomeProfiled, rows: Rows, envelope: Envelope) -> None:
    """The outcome's profile, and the project's RAG as projects derived it again against the profile."""
    _stands(rows, envelope, fact.standing,
            {f"{envelope.subject}:{fact.outcome_id}": {"profile": profile_json(fact.profile)}})


@project.register
def _rag_overridden(fact: RagOverridden, rows: Rows, envelope: Envelope) -> None:
    rows.revise(PROJECTS.name, envelope.subject, envelope, rag=fact.rag.value, rag_override_reason=fact.reason)


@project.register
def _milestone_added(fact: MilestoneAdded, rows: Rows, envelope: Envelope) -> None:
    _milestone_row(rows, envelope, fact.milestone.id, fact.milestone.title, fact.milestone.due_on)
    rows.revise(PROJECTS.name, envelope.subject, envelope)


@project.register
def _milestone_achieved(fact: MilestoneAchieved, rows: Rows, envelope: Envelope) -> None:
    rows.revise(MILESTONES.name, f"{envelope.subject}:{fact.milestone_id}", envelope,
                achieved_on=fact.achieved_on.isoformat())
    rows.revise(PROJECTS.name, envelope.subject, envelope)


@project.register
def _resources_committed(fact: ResourcesCommitted, rows: Rows, envelope: Envelope) -> None:
    rows.revise(PROJECTS.name, envelope.subject, envelope, committed_gbp=Add(fact.commitment.money_gbp),
                committed_staff_days=Add(fact.commitment.staff_days))


@project.register
def _intervention_recorded(fact: InterventionRecorded, rows: Rows, envelope: Envelope) -> None:
    revised = rows.revise(PROJECTS.name, envelope.subject, envelope, flagged=None, interventions=Add(1))
    rows.insert(INTERVENTIONS.name, {
        "project_id": envelope.subject, "version": envelope.sequence, "district": revised["district"],
        "kind": fact.kind.value, "description": fact.description, "triggers": json.dumps(list(fact.triggers)),
        "decision": decision_json(fact), "actor": fact.actor.user_id, "actor_organisation": fact.actor.organisation,
        "recorded_at": timestamp(envelope.time), "due_on": fact.due_on.isoformat() if fact.due_on else None,
        "owner": fact.owner or revised["lead_partner"]})


@project.register
def _project_deferred(fact: ProjectDeferred, rows: Rows, envelope: Envelope) -> None:
    rows.revise(PROJECTS.name, envelope.subject, envelope, status="deferred")


@project.register
def _project_resumed(fact: ProjectResumed, rows: Rows, envelope: Envelope) -> None:
    rows.revise(PROJECTS.name, envelope.subject, envelope, status="open")


@project.register
def _project_closed(fact: ProjectClosed, rows: Rows, envelope: Envelope) -> None:
    rows.revise(PROJECTS.name, envelope.subject, envelope, status="closed", outcome_achieved=fact.outcome_achieved,
                lessons=fact.lessons)


@project.register
def _contribution_repointed(fact: ContributionRepointed, rows: Rows, envelope: Envelope) -> None:
    for outcome_id in rows.current_ids(OUTCOMES.name, project_id=envelope.subject,
                                       tasking_id=str(fact.from_tasking_id)):
        _revise_outcome(rows, outcome_id, envelope, tasking_id=str(fact.to_tasking_id), counting=1)
    rows.revise(PROJECTS.name, envelope.subject, envelope,
                flagged=fact.reason if fact.upstream_version is not None else None)


@project.register
def _contribution_closed(fact: ContributionClosed, rows: Rows, envelope: Envelope) -> None:
    for outcome_id in rows.current_ids(OUTCOMES.name, project_id=envelope.subject, tasking_id=str(fact.tasking_id)):
        _revise_outcome(rows, outcome_id, envelope, counting=0)
    rows.revise(PROJECTS.name, envelope.subject, envelope, flagged=fact.reason)
