"""Open data: a public, read-only feed of decisions and performance, as CSV or JSON, under the Open Government
Licence v3.0 (docs/open-data.md).

No personal data: organisations, bodies, districts and figures only; never a user id, a project manager, a
narrative or evidence. Performance figures of a period appear only once the partnership released that period
(``priorities.PerformanceReleased``, a decision recorded with its actor): approval before public display.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import strawberry
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from strawberry.types import Info

from services.reporting.graphql_common import IsAuthenticated, read_model
from services.reporting.readmodel import ReportingReadModel, rows, timestamp
from shared.contracts import Fact, contract_type
from shared.contracts.priorities import PerformanceReleased
from shared.contracts.projects import ProgressReported, ProjectOpened
from shared.csv_export import Column, Kind, write_csv
from shared.envelope import Envelope
from shared.readstore import Tx

LICENCE = {
    "name": "Open Government Licence v3.0",
    "url": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
    "attribution": "Contains public sector information licensed under the Open Government Licence v3.0.",
}

DDL = [
    "CREATE TABLE IF NOT EXISTS open_releases ("
    " starts_on TEXT NOT NULL, ends_on TEXT NOT NULL, released_at TEXT NOT NULL, body TEXT NOT NULL,"
    " decided_on TEXT NOT NULL, reason TEXT NOT NULL, reference TEXT, PRIMARY KEY (starts_on, ends_on))",
    "CREATE TABLE IF NOT EXISTS open_projects ("
    " project_id TEXT PRIMARY KEY, title TEXT NOT NULL, district TEXT NOT NULL, lead_partner TEXT NOT NULL,"
    " outcomes TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS open_progress ("
    " project_id TEXT NOT NULL, version INTEGER NOT NULL, reported_on TEXT NOT NULL, outcome_id TEXT NOT NULL,"
    " actual TEXT NOT NULL, rag TEXT NOT NULL, shortfall_percent TEXT NOT NULL, correction INTEGER NOT NULL,"
    " PRIMARY KEY (project_id, version, outcome_id))",
    "CREATE INDEX IF NOT EXISTS open_progress_reported_on ON open_progress (reported_on)",
]


def _released(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, PerformanceReleased) and fact.decision is not None
    decision = fact.decision
    rows(tx).insert("open_releases", {
        "starts_on": fact.starts_on.isoformat(), "ends_on": fact.ends_on.isoformat(),
        "released_at": timestamp(envelope.time), "body": decision.body, "decided_on": decision.decided_on.isoformat(),
        "reason": decision.reason, "reference": decision.reference})


def _project_opened(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, ProjectOpened)
    outcomes = {o.id: {"metric": o.metric, "unit": o.unit, "target_value": str(o.target_value),
                       "target_date": o.target_date.isoformat()} for o in fact.outcomes}
    rows(tx).insert("open_projects", {
        "project_id": envelope.subject, "title": fact.title, "district": fact.district,
        "lead_partner": fact.lead_partner, "outcomes": json.dumps(outcomes, sort_keys=True)})


def _progress_reported(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, ProgressReported)
    reported_on, rag, shortfall = fact.reported_on.isoformat(), str(fact.rag), str(fact.shortfall_percent)
    rows(tx).insert_many("open_progress", [
        {"project_id": envelope.subject, "version": envelope.sequence, "reported_on": reported_on,
         "outcome_id": value.outcome_id, "actual": str(value.value), "rag": rag, "shortfall_percent": shortfall,
         "correction": int(fact.correction)} for value in fact.actuals])


HANDLERS: dict[str, Callable[[Tx, Envelope, Fact], None]] = {
    contract_type(PerformanceReleased): _released,
    contract_type(ProjectOpened): _project_opened,
    contract_type(ProgressReported): _progress_reported,
}


# -- the feeds ------------------------------------------------------------------------------------------------------


def releases(model: ReportingReadModel) -> list[dict[str, Any]]:
    return model.store.query("SELECT starts_on, ends_on, released_at, body, decided_on, reason, reference "
                             "FROM open_releases ORDER BY starts_on")


def performance(model: ReportingReadModel) -> list[dict[str, Any]]:
    """Every reported figure dated within a released period, with the project's outcome and target."""
    rows = model.store.query(
        "SELECT p.project_id, j.title, j.district, j.lead_partner, j.outcomes, p.reported_on, p.outcome_id, p.actual,"
        " p.rag, p.shortfall_percent, p.correction, r.starts_on, r.ends_on"
        " FROM open_progress p JOIN open_releases r ON p.reported_on >= r.starts_on AND p.reported_on <= r.ends_on"
        " JOIN open_projects j ON j.project_id = p.project_id ORDER BY p.reported_on, p.project_id, p.version,"
        " p.outcome_id")
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


def _columns(*spec: str) -> list[Column]:
    """``"name"`` (text) or ``"name:kind"``: what each CSV column holds (see ``shared.csv_export``)."""
    return [Column(name, Kind(kind or "text")) for name, _, kind in (s.partition(":") for s in spec)]


DATASETS: dict[str, tuple[str, Callable[[ReportingReadModel], list[dict[str, Any]]], list[Column]]] = {
    "decisions": ("Every decision the partnership's bodies recorded: body, date, reference, reason, what it "
                  "decided.", decisions,
                  _columns("decided_on:date", "body", "reference", "meeting_id", "reason", "what", "record_id",
                           "record_version:number", "recorded_at:datetime", "organisation")),
    "performance": ("Progress of every project against its outcomes' targets, for periods released by a "
                    "decision of the partnership.", performance,
                    _columns("period_start:date", "period_end:date", "project_id", "title", "district",
                             "lead_partner", "reported_on:date", "outcome_id", "actual:number", "rag",
                             "shortfall_percent:number", "correction:boolean", "metric", "unit",
                             "target_value:number", "target_date:date")),
    "releases": ("The periods whose performance figures were released, and the decision that released each.",
                 releases,
                 _columns("starts_on:date", "ends_on:date", "released_at:datetime", "body", "decided_on:date",
                          "reason", "reference")),
}


def open_data_router(model: ReportingReadModel) -> APIRouter:
    """``/open-data``: public, read-only, no token; each dataset as ``.json`` or ``.csv``."""
    router = APIRouter(prefix="/open-data", tags=["open data"])
    link = f'<{LICENCE["url"]}>; rel="license"'

    @router.get("", summary="The open-data catalogue (Open Government Licence v3.0)")
    def catalogue(request: Request) -> JSONResponse:
        base = str(request.url).rstrip("/")
        return JSONResponse({
            "licence": LICENCE,
            "datasets": [{"name": name, "description": description,
                          "distributions": {kind: f"{base}/{name}.{kind}" for kind in ("json", "csv")}}
                         for name, (description, _, _) in DATASETS.items()],
        }, headers={"Link": link})

    @router.get("/{name}.{kind}", summary="One dataset as JSON or CSV")
    def dataset(name: str, kind: str) -> Response:
        if name not in DATASETS or kind not in ("json", "csv"):
            raise HTTPException(404, "No such dataset: see /open-data for the catalogue.")
        description, read, columns = DATASETS[name]
        records = read(model)
        headers = {"Link": link, "Cache-Control": "public, max-age=300"}
        if kind == "csv":
            headers["Content-Disposition"] = f'inline; filename="{name}.csv"'
            return Response(write_csv(columns, records), media_type="text/csv; charset=utf-8", headers=headers)
        return JSONResponse({"dataset": name, "description": description, "licence": LICENCE,
                             "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
                             "records": records}, headers=headers)

    return router


@strawberry.type
class PerformanceRelease:
    starts_on: date
    ends_on: date
    released_at: datetime
    body: str
    decided_on: date
    reason: str
    reference: str | None


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Periods whose performance figures were released for public display (open data).")
    def performance_releases(self, info: Info) -> list[PerformanceRelease]:
        return [PerformanceRelease(starts_on=date.fromisoformat(r["starts_on"]),
                                   ends_on=date.fromisoformat(r["ends_on"]),
                                   released_at=datetime.fromisoformat(r["released_at"]), body=r["body"],
                                   decided_on=date.fromisoformat(r["decided_on"]), reason=r["reason"],
                                   reference=r["reference"])
                for r in releases(read_model(info))]
