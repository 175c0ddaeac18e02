"""``partnership report ...`` and ``partnership readmodel ...``: scrutiny packs from the command line, and the
read-model rebuild with its comparison."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from services.reporting.changes import Scope
from shared import logs
from shared.settings import Settings

report_cli = typer.Typer(no_args_is_help=True, add_completion=False, help="Reports for scrutiny committees.")


def _settings() -> Settings:
    settings = Settings()
    logs.configure(settings.log_level)
    return settings


@report_cli.command("scrutiny")
def scrutiny(
    start: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day of the period")],
    end: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day of the period")],
    committee: Annotated[str, typer.Option(help="The committee's name, printed on the pack")] = "Scrutiny committee",
    district: Annotated[list[str] | None, typer.Option(help="A district in scope (repeat; none: the county)")]
    = None,
    theme_group: Annotated[list[str] | None, typer.Option(help="A theme group in scope (repeat)")] = None,
    as_of: Annotated[str | None, typer.Option(help="Read the records as they stood then (ISO date-time)")] = None,
    previous: Annotated[str | None, typer.Option(help="When the previous pack was produced (ISO date-time)")]
    = None,
    out: Annotated[Path, typer.Option(help="Folder to write pack.html, pack.pdf and the CSV files to")]
    = Path("scrutiny-pack"),
    formats: Annotated[str, typer.Option("--format", help="Any of html,pdf,csv,json (json: the canonical JSON a "
                                                          "published pack's SHA-256 is of)")] = "html,pdf,csv",
) -> None:
    """Write a scrutiny pack (HTML page, PDF, CSV tables) for a committee, its scope and a period."""
    from services.reporting.pack_render import TABLES, MissingGlyphs, digest, to_csv, to_html, to_json, to_pdf
    from services.reporting.packs import PackRequest, build_pack
    from services.reporting.projections import read_model_ddl
    from services.reporting.readmodel import ReportingReadModel
    from shared.readstore import ReadStore

    wanted = {f.strip() for f in formats.split(",") if f.strip()}
    if not wanted <= {"html", "pdf", "csv", "json"}:
        raise typer.BadParameter("formats are html, pdf, csv and json", param_hint="--format")
    request = PackRequest(
        committee=committee, start=start.date(), end=end.date(),
        scope=Scope(frozenset(district or ()), frozenset(theme_group or ())),
        as_of=datetime.fromisoformat(as_of) if as_of else None,
        previous=datetime.fromisoformat(previous) if previous else None)
    if request.start > request.end:
        raise typer.BadParameter("the period ends before it starts", param_hint="--to")
    store = ReadStore(_settings(), "reporting")
    try:
        model = ReportingReadModel(store, read_model_ddl())
        pack = build_pack(model.store, request)
    finally:
        store.close()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if "html" in wanted:
        (out / "pack.html").write_text(to_html(pack))
        written.append("pack.html")
    if "pdf" in wanted:
        try:
            (out / "pack.pdf").write_bytes(to_pdf(pack))
        except MissingGlyphs as missing:  # refused, never printed as "?"
            typer.echo(f"pack.pdf not written: {missing}", err=True)
            raise typer.Exit(2) from missing
        written.append("pack.pdf")
    if "json" in wanted:
        (out / "pack.json").write_bytes(to_json(pack))
        written.append(f"pack.json (SHA-256 {digest(pack)})")
    if "csv" in wanted:
        for table in TABLES:
            (out / f"{table}.csv").write_text(to_csv(pack, table))
            written.append(f"{table}.csv")
    typer.echo(f"{out}: {', '.join(written)}")


readmodel_cli = typer.Typer(no_args_is_help=True, add_completion=False,
                            help="Rebuild the reporting read models from the topics, and compare two stores.")


@readmodel_cli.command("rebuild")
def rebuild_command(
    into: Annotated[str, typer.Option(help="The store to drop and rebuild (a schema, or a SQLite file's name)")]
    = "reporting_rebuild",
    progress: Annotated[bool, typer.Option(help="Show progress bars")] = True,
) -> None:
    """Drop the store INTO and replay every topic from the start into it (the live store is not touched)."""
    from services.reporting.rebuild import rebuild
    from services.runtime import make_transport

    settings = _settings()
    transport = make_transport(settings)
    try:
        report = rebuild(settings, transport, into, progress=progress)
    finally:
        transport.close()
    typer.echo(f"{into}: {report.events} events replayed in {report.seconds:.1f} s ({report.rate:,.0f} events/s), "
               f"{report.duplicates} redelivered copies skipped, {sum(report.rows.values()):,} rows loaded")
    for reason in report.skipped:
        typer.echo(f"  not applied (the live consumer dead-letters it too): {reason}")


@readmodel_cli.command("compare")
def compare_command(
    live: Annotated[str, typer.Option(help="The live store")] = "reporting",
    rebuilt: Annotated[str, typer.Option(help="The rebuilt store")] = "reporting_rebuild",
) -> None:
    """Say whether two read-model stores hold the same rows, or show the differences (exit status 1)."""
    from services.reporting.rebuild import compare
    from shared.readstore import ReadStore

    settings = _settings()
    stores = ReadStore(settings, live), ReadStore(settings, rebuilt)
    try:
        differences = compare(*stores)
    finally:
        for store in stores:
            store.close()
    if not differences:
        typer.echo(f"{rebuilt} equals {live}: every read-model table holds the same rows")
        return
    for difference in differences:
        typer.echo(f"{difference.table}: {difference.only_live} row(s) only in {live}, "
                   f"{difference.only_rebuilt} only in {rebuilt}")
        for example in difference.examples:
            typer.echo(f"  {example}")
    raise typer.Exit(1)
