"""``/open-data``: the public, token-free feeds as JSON or CSV, under the Open Government Licence v3.0."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from services.reporting.opendata.queries import decisions, performance, releases, target_performance
from services.reporting.readmodel import ReportingReadModel
from shared.csv_export import Column, Kind, write_csv

LICENCE = {
    "name": "Open Government Licence v3.0",
    "url": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
    "attribution": "Contains public sector information licensed under the Open Government Licence v3.0.",
}

def _columns(*spec: str) -> list[Column]:
    """``"name"`` (text) or ``"name:kind"``: what each CSV column holds (see ``shared.csv_export``)."""
    return [Column(name, Kind(kind or "text")) for name, _, kind in (s.partition(":") for s in spec)]


_JUDGED = ("status", "stale:boolean", "direction", "forecast:number", "forecast_at:date", "forecast_method")
"""How a figure stood at its period's end (``opendata.judged``): as GraphQL's ``performance(on)`` and the pack say."""

DATASETS: dict[str, tuple[str, Callable[[ReportingReadModel], list[dict[str, Any]]], list[Column]]] = {
    "decisions": ("Every decision the partnership's bodies recorded that resolves to a recorded quorate meeting "
                  "of the body (or to its scheme of delegation): body, meeting and its date, minute reference, "
                  "reason, what it decided.", decisions,
                  _columns("decided_on:date", "body", "meeting", "meeting_held_on:date", "delegation", "reference",
                           "reason", "what", "record_id", "record_version:number", "recorded_at:datetime",
                           "organisation")),
    "performance": ("Progress of every project against its outcomes' targets, for periods released by a "
                    "decision of the partnership.", performance,
                    _columns("period_start:date", "period_end:date", "project_id", "title", "district",
                             "district_name", "lead_partner", "lead_partner_name", "reported_on:date", "outcome_id",
                             "actual:number", "rag",
                             "shortfall_percent:number", "correction:boolean", "metric", "unit",
                             "target_value:number", "target_date:date", "numerator:number",
                             "denominator:number", *_JUDGED)),
    "target-performance": ("Each county target and each district's share of it at the end of every released "
                           "period, judged as the partnership's scrutiny pack judges it: actual against expected, "
                           "RAG, status (stale when the latest report is older than the reporting interval), "
                           "direction of travel and the forecast out-turn at the deadline with its method.",
                           target_performance,
                           _columns("period_start:date", "period_end:date", "target_id", "metric", "unit", "kind",
                                    "district", "goal:number", "deadline:date", "actual:number", "expected:number",
                                    "rag", "shortfall_percent:number", "latest_reported_on:date", *_JUDGED)),
    "releases": ("The periods whose performance figures were released, and the decision that released each.",
                 releases,
                 _columns("starts_on:date", "ends_on:date", "released_at:datetime", "body", "decided_on:date",
                          "meeting", "meeting_held_on:date", "delegation", "reason", "reference")),
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
