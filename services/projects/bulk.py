"""Bulk progress upload: a partner system sends many progress reports at once, as CSV or JSON.

Nothing is half-applied: every row is parsed, authorized and checked against its project (rows of one project in
order, each on the state the rows before it left) before anything is stored; then every report is saved in one
transaction, or none is. The answer is a report per row: accepted (with the project's new version and RAG), or
refused with the reasons in words a partnership officer understands.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from services.projects.application import ProjectsApplication
from services.projects.domain import Project
from services.projects.permissions import Partner, reporting_for_own_organisation
from shared.contracts.projects import Submission
from shared.csv_export import Column, Kind, write_csv
from shared.errors import DomainError, InvalidCommand
from shared.eventstore import CommandContext
from shared.fields import clean_text, parse_day, parse_figure
from shared.web import PROBLEM_BASE, PROBLEM_JSON, correlation_id

MAX_ROWS = 10_000
MAX_BYTES = 5_000_000
CSV_COLUMNS = ("project_id", "reported_on", "outcome_id", "value", "narrative")
OPTIONAL_CSV_COLUMNS = ("correction", "correction_reason", "expected_version")


@dataclass
class Row:
    """One progress report of one project, as uploaded (``number`` counts data rows from 1)."""

    number: int
    project_id: UUID | None = None
    reported_on: date | None = None
    values: dict[str, Decimal] = field(default_factory=dict)
    narrative: str = ""
    correction: bool = False
    correction_reason: str | None = None
    expected_version: int | None = None
    reasons: list[str] = field(default_factory=list)


class RowOutcome(BaseModel):
    row: int
    project_id: UUID | None
    status: str
    """``accepted`` (stored), ``valid`` (would have been accepted; nothing stored because another row was refused)
    or ``refused``."""
    reasons: list[str] = []
    version: int | None = None
    rag: str | None = None


class BulkReport(BaseModel):
    upload_id: str
    """The correlation id every stored report of this upload carries."""
    applied: bool
    accepted: int
    refused: int
    rows: list[RowOutcome]


# -- parsing --------------------------------------------------------------------------------------------------------


def _flag(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    text = str(raw or "").strip().lower()
    if text in ("", "false", "no", "0", "n"):
        return False
    if text in ("true", "yes", "1", "y"):
        return True
    return None


def _fill(row: Row, raw: dict[str, Any]) -> Row:
    """Parse the fields of one row, noting each problem as a reason."""
    try:
        row.project_id = UUID(str(raw.get("project_id") or "").strip())
    except ValueError:
        row.reasons.append("project_id is not a project id (a UUID).")
    try:
        reported_on = raw.get("reported_on")
        if not isinstance(reported_on, str):  # a number is not a date (JSON rows)
            raise ValueError("not text")
        row.reported_on = parse_day(reported_on)
    except ValueError:
        row.reasons.append("reported_on is not a date (YYYY-MM-DD).")
    values = raw.get("values")
    if values is None and raw.get("outcome_id") not in (None, ""):
        values = {str(raw["outcome_id"]).strip(): raw.get("value")}
    if not isinstance(values, dict) or not values:
        row.reasons.append("Give the outcome and its actual value (outcome_id and value, or values).")
    else:
        for outcome_id, value in values.items():
            try:
                row.values[str(outcome_id)] = parse_figure(str(value))
            except ValueError as error:
                row.reasons.append(f"The value of {outcome_id} is {error}.")
    row.narrative = _text(row, "narrative", raw.get("narrative"))
    correction = _flag(raw.get("correction"))
    if correction is None:
        row.reasons.append("correction is true or false.")
    row.correction = bool(correction)
    row.correction_reason = _text(row, "correction_reason", raw.get("correction_reason")) or None
    for outcome_id in row.values:
        _text(row, "outcome_id", outcome_id, multi_line=False)
    expected = raw.get("expected_version")
    if expected not in (None, ""):
        try:
            row.expected_version = int(str(expected).strip())
        except ValueError:
            row.reasons.append("expected_version is a whole number.")
    return row


def _text(row: Row, name: str, raw: Any, *, multi_line: bool = True) -> str:
    """A text cell by the same rule as every command's text fields (``shared.fields``); a refusal is a reason."""
    try:
        return clean_text(str(raw or "").strip(), multi_line=multi_line)
    except ValueError as error:
        row.reasons.append(f"{name}: the text may not contain it: {error}.")
        return ""


def parse_csv(text: str) -> list[Row]:
    """One row per outcome value: project_id, reported_on, outcome_id, value, narrative (+ optional columns)."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in CSV_COLUMNS if c not in columns]
    if missing:
        raise InvalidCommand(f"The CSV lacks the column(s): {', '.join(missing)}.",
                             [{"field": c, "message": "Required column."} for c in missing])
    unknown = [c for c in columns if c not in CSV_COLUMNS + OPTIONAL_CSV_COLUMNS]
    if unknown:
        raise InvalidCommand(f"The CSV has unknown column(s): {', '.join(unknown)}.",
                             [{"field": c, "message": "Unknown column."} for c in unknown])
    rows = []
    for number, raw in enumerate(reader, start=1):
        cleaned = {(k or "").strip(): v for k, v in raw.items()}
        if None in raw or "" in cleaned:
            rows.append(Row(number, reasons=["The row has more cells than the header has columns."]))
            continue
        rows.append(_fill(Row(number), cleaned))
    return rows


def parse_json(text: str) -> list[Row]:
    """``{"rows": [...]}`` or a list; a row has ``values`` ({outcome id: value}) or ``outcome_id`` and ``value``."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidCommand(f"The body is not JSON: {error.msg} at line {error.lineno}.") from error
    items = document.get("rows") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise InvalidCommand("Send a list of rows, or an object with a list in rows.",
                             [{"field": "rows", "message": "A list of progress reports."}])
    allowed = {*CSV_COLUMNS, *OPTIONAL_CSV_COLUMNS, "values"}
    rows = []
    for number, raw in enumerate(items, start=1):
        if not isinstance(raw, dict):
            rows.append(Row(number, reasons=["A row is an object."]))
            continue
        row = _fill(Row(number), raw)
        row.reasons += [f"Unknown field {name}." for name in sorted(raw.keys() - allowed)]
        rows.append(row)
    return rows


# -- validating and applying ----------------------------------------------------------------------------------------


def _reasons(error: DomainError) -> list[str]:
    if isinstance(error, InvalidCommand) and error.problems:
        return [p["message"] for p in error.problems]
    return [error.message]


def report_in_bulk(application: ProjectsApplication, context: CommandContext, rows: list[Row]) -> BulkReport:
    """Check every row on the projects as they stand, then save every report in one transaction, or none."""
    if not rows:
        raise InvalidCommand("The upload has no rows.", [{"field": "rows", "message": "Send at least one row."}])
    if len(rows) > MAX_ROWS:
        raise InvalidCommand(f"An upload has at most {MAX_ROWS} rows; split it.")
    projects: dict[UUID, Project | None] = {}
    outcomes: list[RowOutcome] = []
    for row in rows:
        project = None
        if not row.reasons and row.project_id is not None:
            if row.project_id not in projects:
                try:
                    projects[row.project_id] = application.project(row.project_id)
                except DomainError as error:
                    projects[row.project_id] = None
                    row.reasons += _reasons(error)
            project = projects[row.project_id]
            if project is None and not row.reasons:
                row.reasons.append(f"No project {row.project_id}.")
        if project is not None and not row.reasons:
            _check_and_apply(application, context, project, row)
        outcomes.append(RowOutcome(row=row.number, project_id=row.project_id,
                                   status="refused" if row.reasons else "valid", reasons=row.reasons,
                                   version=project.version if project is not None and not row.reasons else None,
                                   rag=project.rag.value if project is not None and not row.reasons and project.rag
                                   else None))
    refused = sum(1 for o in outcomes if o.status == "refused")
    if refused:
        for outcome in outcomes:
            outcome.version = outcome.rag = None
        return BulkReport(upload_id=context.correlation_id, applied=False, accepted=0, refused=refused,
                          rows=outcomes)
    application.save(*(p for p in projects.values() if p is not None))  # one transaction: all, or none
    for outcome in outcomes:
        outcome.status = "accepted"
    return BulkReport(upload_id=context.correlation_id, applied=True, accepted=len(outcomes), refused=0,
                      rows=outcomes)


def _check_and_apply(application: ProjectsApplication, context: CommandContext, project: Project, row: Row) -> None:
    # That only the lead partner reports is the domain's rule: report_progress refuses another organisation's row.
    if row.expected_version is not None and row.expected_version != project.version:
        row.reasons.append(f"The project is at version {project.version}, not {row.expected_version}: it changed "
                           "since you read it.")
        return
    assert row.reported_on is not None
    try:
        project.report_progress(context, reported_on=row.reported_on, values=row.values, narrative=row.narrative,
                                thresholds=application.thresholds_on(row.reported_on), today=application.today(),
                                correction=row.correction,
                                correction_reason=row.correction_reason, submitted_via=Submission.BULK_UPLOAD)
    except DomainError as error:  # the aggregate checks before it records: a refused row changed nothing
        row.reasons += _reasons(error)


# -- the report as CSV ---------------------------------------------------------------------------------------------

REPORT_COLUMNS = (Column("row", Kind.NUMBER), Column("project_id"), Column("status"), Column("version", Kind.NUMBER),
                  Column("rag"), Column("reasons"))


def report_csv(report: BulkReport) -> str:
    """The report, one line per uploaded row (reasons joined by "; "), through the one CSV writer: a reason quoting
    what was uploaded (an outcome id, say) cannot run as a formula in the partner's spreadsheet."""
    return write_csv(REPORT_COLUMNS, ([o.row, o.project_id and str(o.project_id), o.status, o.version, o.rag,
                                       "; ".join(o.reasons)] for o in report.rows))


# -- HTTP -----------------------------------------------------------------------------------------------------------


async def _application(request: Request) -> ProjectsApplication:
    application: ProjectsApplication = request.app.state.application
    return application


router = APIRouter()


def _accepts_only_csv(request: Request) -> bool:
    kinds = {part.split(";")[0].strip().lower() for part in request.headers.get("accept", "").split(",")}
    return "text/csv" in kinds and not kinds & {"application/json", "application/problem+json", "*/*"}

_BODY = {
    "requestBody": {"required": True, "content": {
        "text/csv": {"schema": {"type": "string"}, "example": (
            "project_id,reported_on,outcome_id,value,narrative,expected_version\n"
            "0b6f9a52-5d1e-4c5e-9a43-0e1f3c2b7d11,2013-04-01,jobs,150,Cohort 1 placed,3\n")},
        "application/json": {"schema": {"type": "object", "properties": {"rows": {"type": "array", "items": {
            "type": "object", "required": ["project_id", "reported_on", "values", "narrative"],
            "properties": {"project_id": {"type": "string", "format": "uuid"},
                           "reported_on": {"type": "string", "format": "date"},
                           "values": {"type": "object", "additionalProperties": {"type": "string"}},
                           "narrative": {"type": "string"}, "correction": {"type": "boolean"},
                           "correction_reason": {"type": "string"}, "expected_version": {"type": "integer"}}}}}}},
    }},
    "responses": {"200": {"content": {"text/csv": {"schema": {"type": "string"}}}}, "422": {
        "description": "Some rows were refused and nothing was stored: the problem carries the report, which says why "
                       "per row (as CSV when the request accepts only text/csv). An upload that cannot be read at "
                       "all (empty, not UTF-8) is a plain problem.",
        "content": {"text/csv": {"schema": {"type": "string"}}, PROBLEM_JSON: {"schema": {"anyOf": [
            {"allOf": [{"$ref": "#/components/schemas/Problem"}, {"$ref": "#/components/schemas/BulkReport"}]},
            {"$ref": "#/components/schemas/Problem"}]}}}}},
}


@router.post("/progress/bulk", response_model=BulkReport, openapi_extra=_BODY, tags=["partners"],
             summary="Report progress of many projects at once (CSV or JSON): all rows stored, or none")
async def upload_progress(request: Request,
                          principal: Partner,
                          application: Annotated[ProjectsApplication, Depends(_application)]) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BYTES:
        raise InvalidCommand(f"An upload is at most {MAX_BYTES // 1_000_000} MB; split it.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidCommand("The upload is not UTF-8 text.") from error
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "text/csv":
        rows = parse_csv(text)
    elif kind == "application/json":
        rows = parse_json(text)
    else:
        raise InvalidCommand("Send the rows as text/csv or application/json.")
    grant = reporting_for_own_organisation(principal)
    context = CommandContext(principal.actor(grant), correlation_id(request))
    report = report_in_bulk(application, context, rows)
    if _accepts_only_csv(request):
        return Response(report_csv(report), status_code=200 if report.applied else 422,
                        media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": 'attachment; filename="upload-report.csv"'})
    if report.applied:
        return report
    body = {"type": PROBLEM_BASE + "bulk-refused", "title": "Rows were refused; nothing was stored",
            "status": 422, "detail": f"{report.refused} of {len(report.rows)} row(s) refused: correct them and send "
                                     "the whole upload again.", **report.model_dump(mode="json")}
    return JSONResponse(body, status_code=422, media_type=PROBLEM_JSON)
