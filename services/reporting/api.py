"""The reporting service's HTTP surface: the GraphQL gateway at ``/graphql`` and the scrutiny packs at ``/reports``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.responses import HTMLResponse, Response

from services.reporting.audit import AuditTrailFactory
from services.reporting.changes import Scope
from services.reporting.graphql import graphql_router
from services.reporting.opendata.api import open_data_router
from services.reporting.pack_publish import publications_router
from services.reporting.pack_render import TABLES, MissingGlyphs, to_csv, to_csv_zip, to_html, to_pdf
from services.reporting.packs import PackRequest, build_pack
from services.reporting.readmodel import ReportingReadModel
from services.reporting.trusted_documents import TrustedDocuments
from shared.auth import ClientRegistry, Principal, Role, TokenService
from shared.devtools import install_api_docs
from shared.errors import InvalidCommand
from shared.fields import Day, Moment
from shared.partnership import PartnershipDefinition, load
from shared.settings import Settings
from shared.web import install_problem_handlers, require_role

PackReader = Annotated[Principal, Depends(require_role(Role.SCRUTINY_MEMBER, Role.AUDITOR,
                                                         Role.PARTNERSHIP_OFFICER))]


def _check_scope(definition: PartnershipDefinition, districts: list[str], theme_groups: list[str],
                 model: ReportingReadModel | None = None) -> None:
    """A scope names districts and theme groups of the partnership (founded by the definition, or of record when
    ``model`` is given: one added by decision since, or retired since, whose records a pack still reads): an
    unknown one is refused, never an empty pack (or, unnoticed, the county's)."""
    known_districts = {d.id for d in definition.districts}
    if model is not None:
        known_districts |= set(model.provenance.districts_of_record())
    known_groups = {b.id for b in definition.bodies if b.kind == "theme_group"}
    problems = [{"field": "district", "message": f"No district '{d}'; one of {', '.join(sorted(known_districts))}."}
                for d in districts if d not in known_districts]
    problems += [{"field": "themeGroup", "message": f"No theme group '{g}'; one of {', '.join(sorted(known_groups))}."}
                 for g in theme_groups if g not in known_groups]
    if problems:
        raise InvalidCommand("The scope names no such district or theme group.", problems)


def reports_router(model: ReportingReadModel) -> APIRouter:
    router = APIRouter(prefix="/reports", tags=["scrutiny packs"])

    @router.get("/scrutiny", summary="A scrutiny pack for a committee, its scope and a period",
                response_class=Response,
                responses={200: {"content": {"text/html": {}, "application/pdf": {}, "text/csv": {},
                                             "application/zip": {}},
                                 "description": "The pack: an HTML page, a PDF, one CSV table or a ZIP of all"}})
    def scrutiny_pack(
        principal: PackReader,
        start: Annotated[Day, Query(alias="from", description="First day of the period (business date)")],
        end: Annotated[Day, Query(alias="to", description="Last day of the period (business date)")],
        committee: Annotated[str, Query(max_length=200)] = "Scrutiny committee",
        district: Annotated[list[str] | None, Query(description="Districts in scope (none: the county)")] = None,
        theme_group: Annotated[list[str] | None, Query(alias="themeGroup")] = None,
        as_of: Annotated[Moment | None, Query(alias="asOf", description="Read the records as they stood then")]
        = None,
        previous: Annotated[Moment | None, Query(description="When the previous pack was produced")] = None,
        format: Literal["html", "pdf", "csv"] = "html",
        table: Annotated[str | None, Query(description=f"For csv, one table: {', '.join(TABLES)}")] = None,
    ) -> Response:
        if start > end:
            raise InvalidCommand("The period ends before it starts.",
                                 [{"field": "to", "message": "must not be before `from`"}])
        if table is not None and table not in TABLES:
            raise InvalidCommand(f"No table '{table}'.", [{"field": "table", "message": f"one of {', '.join(TABLES)}"}])
        _check_scope(load(model.store.settings.partnership_file), district or [], theme_group or [], model)
        pack = build_pack(model.store, PackRequest(
            committee=committee, start=start, end=end, as_of=as_of, previous=previous,
            scope=Scope(frozenset(district or ()), frozenset(theme_group or ()))))
        name = f"scrutiny-pack-{start}-{end}"
        if format == "pdf":
            try:
                pdf = to_pdf(pack)
            except MissingGlyphs as missing:  # refused rather than printed as "?"
                raise InvalidCommand(str(missing), [{"field": "format", "message": "the PDF cannot draw "
                                                     f"{missing.characters!r}; the HTML pack can"}]) from missing
            return Response(pdf, media_type="application/pdf",
                            headers={"content-disposition": f'inline; filename="{name}.pdf"'})
        if format == "csv":
            if table is not None:
                return Response(to_csv(pack, table), media_type="text/csv; charset=utf-8",
                                headers={"content-disposition": f'attachment; filename="{name}-{table}.csv"'})
            return Response(to_csv_zip(pack), media_type="application/zip",
                            headers={"content-disposition": f'attachment; filename="{name}-csv.zip"'})
        return HTMLResponse(to_html(pack))

    return router


def reporting_router(model: ReportingReadModel, tokens: TokenService, settings: Settings,
                     auditor: AuditTrailFactory | None = None) -> APIRouter:
    """Everything the reporting service serves, for the embedded app and the gateway process alike."""
    router = APIRouter()
    trusted = TrustedDocuments.from_registry(ClientRegistry.from_settings(settings, secrets_needed=False))
    router.include_router(graphql_router(model, tokens, settings.service_urls, settings.graphql_cache_mib * 2**20,
                                         auditor, trusted), prefix="/graphql")
    router.include_router(reports_router(model))
    router.include_router(publications_router(model, settings.service_urls, auditor))  # public when papers are
    router.include_router(open_data_router(model))  # public, no token: docs/open-data.md
    return router


def create_app(model: ReportingReadModel, tokens: TokenService, settings: Settings | None = None,
               auditor: AuditTrailFactory | None = None) -> FastAPI:
    app = FastAPI(title="Reporting service and GraphQL gateway", version="1.0", docs_url=None, redoc_url=None)
    app.state.tokens = tokens
    install_problem_handlers(app)
    install_api_docs(app)
    app.include_router(reporting_router(model, tokens, settings or Settings(), auditor))
    return app
