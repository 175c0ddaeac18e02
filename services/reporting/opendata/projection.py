"""The open-data read model's projection: released periods, and projects' figures without personal data."""

from __future__ import annotations

import json
from functools import singledispatch

from services.reporting.opendata.tables import PROGRESS, PROJECTS, RELEASES, WITHDRAWALS
from services.reporting.rows import Rows
from services.reporting.temporal import decision_json, timestamp
from shared.consumer import Rejected
from shared.contracts import Fact
from shared.contracts.priorities import PerformanceReleased
from shared.contracts.projects import (
    ProgressReportCorrected,
    ProgressReported,
    ProgressReportWithdrawn,
    ProjectOpened,
)
from shared.envelope import Envelope


@singledispatch
def project(fact: Fact, rows: Rows, envelope: Envelope) -> None:
    """Not an event the open-data read model follows."""


@project.register
def _released(fact: PerformanceReleased, rows: Rows, envelope: Envelope) -> None:
    if fact.decision is None:  # the contract requires one: a release is a decision
        raise Rejected(f"{envelope.type} of {envelope.subject} carries no decision")
    decision = fact.decision
    rows.insert(RELEASES.name, {
        "starts_on": fact.starts_on.isoformat(), "ends_on": fact.ends_on.isoformat(),
        "released_at": timestamp(envelope.time), "body": decision.body, "decided_on": decision.decided_on.isoformat(),
        "reason": decision.reason, "reference": decision.reference, "decision": decision_json(fact)})


@project.register
def _project_opened(fact: ProjectOpened, rows: Rows, envelope: Envelope) -> None:
    outcomes = {o.id: {"metric": o.metric, "unit": o.unit, "target_value": str(o.target_value),
                       "target_date": o.target_date.isoformat()} for o in fact.outcomes}
    rows.insert(PROJECTS.name, {
        "project_id": envelope.subject, "title": fact.title, "district": fact.district,
        "lead_partner": fact.lead_partner, "outcomes": json.dumps(outcomes, sort_keys=True)})


@project.register
def _progress_reported(fact: ProgressReported, rows: Rows, envelope: Envelope) -> None:
    _figures(fact, rows, envelope, correction=fact.correction)


def _figures(fact: ProgressReported | ProgressReportCorrected, rows: Rows, envelope: Envelope, *,
             correction: bool) -> None:
    reported_on, rag, shortfall = fact.reported_on.isoformat(), str(fact.rag), str(fact.shortfall_percent)
    parts = {p.outcome_id: (str(p.numerator), str(p.denominator)) for p in fact.parts}
    rows.insert_many(PROGRESS.name, [
        {"project_id": envelope.subject, "version": envelope.sequence, "reported_on": reported_on,
         "outcome_id": value.outcome_id, "actual": str(value.value), "rag": rag, "shortfall_percent": shortfall,
         "correction": int(correction), "numerator": parts.get(value.outcome_id, (None, None))[0],
         "denominator": parts.get(value.outcome_id, (None, None))[1]} for value in fact.actuals])


@project.register
def _withdrawn(fact: ProgressReportWithdrawn, rows: Rows, envelope: Envelope) -> None:
    rows.insert(WITHDRAWALS.name, {"project_id": envelope.subject, "version": envelope.sequence,
                                   "reported_on": fact.reported_on.isoformat(), "corrected_to": None,
                                   "recorded_at": timestamp(envelope.time)})


@project.register
def _corrected(fact: ProgressReportCorrected, rows: Rows, envelope: Envelope) -> None:
    rows.insert(WITHDRAWALS.name, {"project_id": envelope.subject, "version": envelope.sequence,
                                   "reported_on": fact.corrected_report_on.isoformat(),
                                   "corrected_to": fact.reported_on.isoformat(),
                                   "recorded_at": timestamp(envelope.time)})
    _figures(fact, rows, envelope, correction=True)
