"""The strategy read model's projection: one handler per public ``priorities`` contract class."""

from __future__ import annotations

import json
from functools import singledispatch
from typing import Any

from services.reporting.rows import Add, Remove, Rows
from services.reporting.strategy.tables import (
    DISTRICT_CHAPTERS,
    DISTRICT_PRIORITIES,
    EVIDENCE,
    OBJECTIVES,
    SCS_REVIEWS,
    TARGETS,
)
from services.reporting.temporal import decision_json, timestamp
from shared.contracts import Fact
from shared.contracts.priorities import (
    EvidenceAccepted,
    EvidenceNoted,
    EvidenceSubmitted,
    ObjectiveAdded,
    ObjectiveRetired,
    ObjectiveReworded,
    PriorityAgreed,
    PriorityProposed,
    PriorityReconfirmed,
    PriorityRejected,
    PriorityRetired,
    ScsReviewClosed,
    ScsReviewOpened,
    ScsReviewPriorityResolved,
    TargetRetired,
    TargetRevised,
    TargetSet,
    chapter_id,
)
from shared.envelope import Envelope


@singledispatch
def project(fact: Fact, rows: Rows, envelope: Envelope) -> None:
    """Not an event the strategy read model follows."""


def _accountable(fact: Fact) -> dict[str, Any]:
    return {"changed_by": fact.actor.user_id, "changed_by_organisation": fact.actor.organisation,
            "changed_by_role": fact.actor.role, "decision": decision_json(fact)}


def _first(rows: Rows, table: str, envelope: Envelope, fact: Fact, **values: Any) -> None:
    """The first row of an entity (its creation event)."""
    rows.put(table, envelope, {"id": envelope.subject, **values, **_accountable(fact),
                               "added_at": timestamp(envelope.time)})


def _next(rows: Rows, table: str, envelope: Envelope, fact: Fact, **changes: Any) -> None:
    rows.revise(table, envelope.subject, envelope, **_accountable(fact), **changes)


@project.register
def _objective_added(fact: ObjectiveAdded, rows: Rows, envelope: Envelope) -> None:
    _first(rows, OBJECTIVES.name, envelope, fact, title=fact.title, level=fact.level.value, strategy=fact.strategy,
           parent_id=None if fact.parent_id is None else str(fact.parent_id), status="active", status_reason=None)


@project.register
def _objective_reworded(fact: ObjectiveReworded, rows: Rows, envelope: Envelope) -> None:
    _next(rows, OBJECTIVES.name, envelope, fact, title=fact.title)


@project.register
def _objective_retired(fact: ObjectiveRetired, rows: Rows, envelope: Envelope) -> None:
    _next(rows, OBJECTIVES.name, envelope, fact, status="retired", status_reason=fact.reason)


def _terms(fact: TargetSet | TargetRevised) -> dict[str, Any]:
    return {"metric": fact.metric, "unit": fact.unit, "baseline_value": str(fact.baseline_value),
            "baseline_date": fact.baseline_date.isoformat(), "target_value": str(fact.target_value),
            "deadline": fact.deadline.isoformat(), "data_source": fact.data_source,
            "owner_organisation": fact.owner_organisation}


@project.register
def _target_set(fact: TargetSet, rows: Rows, envelope: Envelope) -> None:
    _first(rows, TARGETS.name, envelope, fact, objective_id=str(fact.objective_id), **_terms(fact), status="active",
           status_reason=None)


@project.register
def _target_revised(fact: TargetRevised, rows: Rows, envelope: Envelope) -> None:
    _next(rows, TARGETS.name, envelope, fact, **_terms(fact))


@project.register
def _target_retired(fact: TargetRetired, rows: Rows, envelope: Envelope) -> None:
    _next(rows, TARGETS.name, envelope, fact, status="retired", status_reason=fact.reason)


def _chapter_counts(fact: PriorityAgreed | PriorityRetired, rows: Rows, envelope: Envelope, delta: int) -> None:
    """The district's chapter (``chapter_id(district)``) from the priorities' own public events: agreeing one takes
    a place, retiring one frees it (an ``Add``: on the in-force axis the count on a day is of the agreements and
    retirements decided by then). Its versions are the chapter aggregate's: opened as version 1 by the first
    agreement, which is its version 2, and one more per agreement or retirement."""
    chapter = str(chapter_id(fact.district))
    current = rows.current(DISTRICT_CHAPTERS.name, chapter)
    if current is not None:
        rows.revise(DISTRICT_CHAPTERS.name, chapter, envelope, current, **_accountable(fact),
                    version=current["version"] + 1, agreed_count=Add(delta))
        return
    if delta < 0:
        rows.existing(DISTRICT_CHAPTERS.name, chapter, envelope)  # a retirement in a chapter never opened
    at = timestamp(envelope.time)
    rows.insert(DISTRICT_CHAPTERS.name, {"id": chapter, "version": 2, "district": fact.district,
                                         "agreed_count": Add(delta), "added_at": at, **_accountable(fact),
                                         "valid_from": at, "valid_to": None})


@project.register
def _priority_proposed(fact: PriorityProposed, rows: Rows, envelope: Envelope) -> None:
    _first(rows, DISTRICT_PRIORITIES.name, envelope, fact, district=fact.district, title=fact.title,
           rationale=fact.rationale, objective_id=str(fact.objective_id),
           evidence_refs=json.dumps(list(fact.evidence_refs)), status="proposed", status_reason=None,
           reconfirmed_in=None)


@project.register
def _priority_agreed(fact: PriorityAgreed, rows: Rows, envelope: Envelope) -> None:
    _next(rows, DISTRICT_PRIORITIES.name, envelope, fact, status="agreed", status_reason=None)
    _chapter_counts(fact, rows, envelope, +1)


@project.register
def _priority_rejected(fact: PriorityRejected, rows: Rows, envelope: Envelope) -> None:
    _next(rows, DISTRICT_PRIORITIES.name, envelope, fact, status="rejected", status_reason=fact.reason)


@project.register
def _priority_retired(fact: PriorityRetired, rows: Rows, envelope: Envelope) -> None:
    _next(rows, DISTRICT_PRIORITIES.name, envelope, fact, status="retired", status_reason=fact.reason)
    _chapter_counts(fact, rows, envelope, -1)


@project.register
def _priority_reconfirmed(fact: PriorityReconfirmed, rows: Rows, envelope: Envelope) -> None:
    _next(rows, DISTRICT_PRIORITIES.name, envelope, fact, reconfirmed_in=str(fact.review_id))


@project.register
def _evidence_submitted(fact: EvidenceSubmitted, rows: Rows, envelope: Envelope) -> None:
    figures = [{"label": f.label, "value": str(f.value), "unit": f.unit} for f in fact.figures]
    _first(rows, EVIDENCE.name, envelope, fact, district=fact.district, title=fact.title, summary=fact.summary,
           source=fact.source, evidence_date=fact.evidence_date.isoformat(), figures=json.dumps(figures),
           objective_ids=json.dumps([str(i) for i in fact.objective_ids]),
           priority_ids=json.dumps([str(i) for i in fact.priority_ids]), status="submitted", status_reason=None)


@project.register
def _evidence_accepted(fact: EvidenceAccepted, rows: Rows, envelope: Envelope) -> None:
    _next(rows, EVIDENCE.name, envelope, fact, status="accepted")


@project.register
def _evidence_noted(fact: EvidenceNoted, rows: Rows, envelope: Envelope) -> None:
    _next(rows, EVIDENCE.name, envelope, fact, status="noted", status_reason=fact.reason)


@project.register
def _review_opened(fact: ScsReviewOpened, rows: Rows, envelope: Envelope) -> None:
    _first(rows, SCS_REVIEWS.name, envelope, fact, number=fact.number, status="open",
           outstanding=json.dumps([str(p) for p in fact.outstanding]))


@project.register
def _review_resolved(fact: ScsReviewPriorityResolved, rows: Rows, envelope: Envelope) -> None:
    rows.revise(SCS_REVIEWS.name, envelope.subject, envelope, **_accountable(fact),
                outstanding=Remove(str(fact.priority_id)))


@project.register
def _review_closed(fact: ScsReviewClosed, rows: Rows, envelope: Envelope) -> None:
    _next(rows, SCS_REVIEWS.name, envelope, fact, status="closed")
