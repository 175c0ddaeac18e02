"""The open-data feeds: released periods, the performance reported within them, and every recorded decision."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from services.reporting.opendata import judged
from services.reporting.opendata.tables import PROGRESS, PROJECTS, RELEASES, WITHDRAWALS
from services.reporting.readmodel import ReportingReadModel


def releases(model: ReportingReadModel) -> list[dict[str, Any]]:
    """The released periods whose release resolves (a decision at a recorded quorate meeting of a board, or its
    officer under a scheme of delegation): names, never ids. A release that does not resolve releases nothing."""
    provenance = model.provenance
    rows = model.store.query("SELECT starts_on, ends_on, released_at, body, decided_on, reason, reference, decision"
                             f" FROM {RELEASES.name} ORDER BY starts_on")
    shown = []
    for row in rows:
        decision = json.loads(row.pop("decision"))
        if not provenance.resolves(decision):
            continue
        meeting = provenance.meeting(decision)
        shown.append({**row, "body": provenance.body_name(row["body"]),
                      "meeting": meeting.title if meeting else None,
                      "meeting_held_on": meeting.held_on.isoformat() if meeting else None,
                      "delegation": provenance.scheme_name(decision.get("delegation"))})
    return shown


def performance(model: ReportingReadModel) -> list[dict[str, Any]]:
    """Every reported figure dated within a released period, with the project's outcome and target (a figure of a
    report withdrawn or corrected as a mistake is not one), and how the outcome stood at the period's end as GraphQL's
    ``performance(on)`` says it: status (``stale`` when its latest report is older than the interval), direction,
    forecast out-turn at its target date and the method (``opendata.judged``)."""
    rows = model.store.query(
        "SELECT p.project_id, j.title, j.district, j.lead_partner, j.outcomes, p.reported_on, p.outcome_id, p.actual,"
        " p.rag, p.shortfall_percent, p.correction, p.numerator, p.denominator, r.starts_on, r.ends_on"
        f" FROM {PROGRESS.name} p JOIN {RELEASES.name} r ON p.reported_on >= r.starts_on"
        f" AND p.reported_on <= r.ends_on JOIN {PROJECTS.name} j ON j.project_id = p.project_id"
        f" WHERE NOT EXISTS (SELECT 1 FROM {WITHDRAWALS.name} w WHERE w.project_id = p.project_id"
        " AND w.reported_on = p.reported_on AND w.version > p.version)"
        " ORDER BY p.reported_on, p.project_id, p.version, p.outcome_id")
    released = {(r["starts_on"], r["ends_on"]) for r in releases(model)}  # only periods whose release resolves
    records = []
    forecasts = judged.ProjectForecasts(model)
    provenance = model.provenance
    for row in rows:
        if (row["starts_on"], row["ends_on"]) not in released:
            continue
        outcome = json.loads(row.pop("outcomes")).get(row["outcome_id"], {})
        at_end = forecasts.of(row["project_id"], row["outcome_id"], date.fromisoformat(row["ends_on"]))
        records.append({
            "period_start": row.pop("starts_on"), "period_end": row.pop("ends_on"), **row,
            # The ids join with the other files; the names are what a reader reads (a retired district: its last).
            "district_name": provenance.district_name(row["district"]),
            "lead_partner_name": provenance.organisation_name(row["lead_partner"]),
            "metric": outcome.get("metric"), "unit": outcome.get("unit"), "target_value": outcome.get("target_value"),
            "target_date": outcome.get("target_date"), "correction": bool(row["correction"]), **at_end,
        })
    return records


def target_performance(model: ReportingReadModel) -> list[dict[str, Any]]:
    """Each county target and district share at the end of each released period, as GraphQL's ``performance(on)``
    and the scrutiny pack judge them: status, RAG, direction, forecast out-turn and its method."""
    return judged.target_performance(model, releases(model))


def decisions(model: ReportingReadModel) -> list[dict[str, Any]]:
    """Every recorded decision that resolves (to a recorded quorate meeting of a body of the partnership, or to a
    scheme of delegation): which body, at which meeting, when, why, on what; names, never ids; the organisation
    acting, never the person. One that does not resolve is the audit's to name, not the public's to read."""
    provenance = model.provenance
    rows = model.store.query("SELECT subject, version, type, time, actor_organisation, decision FROM event_log "
                             "WHERE decision IS NOT NULL ORDER BY time, subject, version")
    records = []
    for row in rows:
        decision = json.loads(row["decision"])
        if not provenance.resolves(decision):
            continue
        meeting = provenance.meeting(decision)
        records.append({
            "decided_on": decision.get("decided_on"), "body": provenance.body_name(decision["body"]),
            "meeting": meeting.title if meeting else None,
            "meeting_held_on": meeting.held_on.isoformat() if meeting else None,
            "delegation": provenance.scheme_name(decision.get("delegation")),
            "reference": decision.get("reference"), "reason": decision.get("reason"),
            "what": row["type"].rsplit(".v", 1)[0], "record_id": row["subject"], "record_version": row["version"],
            "recorded_at": row["time"], "organisation": provenance.organisation_name(row["actor_organisation"]),
        })
    return records
