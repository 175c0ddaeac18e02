"""The open-data read model's projection: released periods, and projects' figures without personal data."""

from __future__ import annotations

import json
from functools import singledispatch

from services.reporting.opendata.tables import PROGRESS, PROJECTS, RELEASES
from services.reporting.rows import Rows
from services.reporting.temporal import timestamp
from shared.consumer import Rejected
from shared.contracts import Fact
from shared.contracts.priorities import PerformanceReleased
from shared.contracts.projects import ProgressReported, ProjectOpened
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
        "reason": decision.reason, "reference": decision.reference})


@project.register
def _project_opened(fact: ProjectOpened, rows: Rows, envelope: Envelope) -> None:
    outcomes = {o.id: {"metric": o.metric, "unit": o.unit, "target_value": str(o.target_value),
                       "target_date": o.target_date.isoformat()} for o in fact.outcomes}
    rows.insert(PROJECTS.name, {
        "project_id": envelope.subject, "title": fact.title, "district": fact.district,
        "lead_partner": fact.lead_partner, "outcomes": json.dumps(outcomes, sort_keys=True)})


@project.register
def _progress_reported(fact: ProgressReported, rows: Rows, envelope: Envelope) -> None:
    reported_on, rag, shortfall = fact.reported_on.isoformat(), str(fact.rag), str(fact.shortfall_percent)
    rows.insert_many(PROGRESS.name, [
        {"project_id": envelope.subject, "version": envelope.sequence, "reported_on": reported_on,
         "outcome_id": value.outcome_id, "actual": str(value.value), "rag": rag, "shortfall_percent": shortfall,
         "correction": int(fact.correction)} for value in fact.actuals])
