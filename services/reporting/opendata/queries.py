"""The open-data feeds: released periods, the performance reported within them, and every recorded decision."""

from __future__ import annotations

import json
from typing import Any

from services.reporting.opendata.tables import PROGRESS, PROJECTS, RELEASES
from services.reporting.readmodel import ReportingReadModel


def releases(model: ReportingReadModel) -> list[dict[str, Any]]:
    return model.store.query("SELECT starts_on, ends_on, released_at, body, decided_on, reason, reference "
                             f"FROM {RELEASES.name} ORDER BY starts_on")


def performance(model: ReportingReadModel) -> list[dict[str, Any]]:
    """Every reported figure dated within a released period, with the project's outcome and target."""
    rows = model.store.query(
        "SELECT p.project_id, j.title, j.district, j.lead_partner, j.outcomes, p.reported_on, p.outcome_id, p.actual,"
        " p.rag, p.shortfall_percent, p.correction, r.starts_on, r.ends_on"
        f" FROM {PROGRESS.name} p JOIN {RELEASES.name} r ON p.reported_on >= r.starts_on"
        f" AND p.reported_on <= r.ends_on JOIN {PROJECTS.name} j ON j.project_id = p.project_id"
        " ORDER BY p.reported_on, p.project_id, p.version, p.outcome_id")
    records = []
    for row in rows:
        outcome = json.loads(row.pop("outcomes")).get(row["outcome_id"], {})
        records.append({
            "period_start": row.pop("starts_on"), "period_end": row.pop("ends_on"), **row,
            "metric": outcome.get("metric"), "unit": outcome.get("unit"), "target_value": outcome.get("target_value"),
            "target_date": outcome.get("target_date"), "correction": bool(row["correction"]),
        })
    return records


def decisions(model: ReportingReadModel) -> list[dict[str, Any]]:
    """Every recorded decision: which body, when, why, on what; the organisation acting, never the person."""
    rows = model.store.query("SELECT subject, version, type, time, actor_organisation, decision FROM event_log "
                             "WHERE decision IS NOT NULL ORDER BY time, subject, version")
    records = []
    for row in rows:
        decision = json.loads(row["decision"])
        records.append({
            "decided_on": decision.get("decided_on"), "body": decision.get("body"),
            "reference": decision.get("reference"), "meeting_id": decision.get("meeting_id"),
            "reason": decision.get("reason"), "what": row["type"].rsplit(".v", 1)[0], "record_id": row["subject"],
            "record_version": row["version"], "recorded_at": row["time"], "organisation": row["actor_organisation"],
        })
    return records
