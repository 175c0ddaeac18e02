"""``partnership``: run the system (embedded or one part of it), mint dev tokens, write the published contracts."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from services.audit.cli import audit
from services.reporting.commands import readmodel_cli, report_cli
from shared import logs
from shared.auth import Role
from shared.settings import Settings

cli = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
cli.add_typer(audit, name="audit", help="Auditors: export, verify, history, state, replay, decisions.")


def _settings() -> Settings:
    settings = Settings()
    logs.configure(settings.log_level)
    return settings


@cli.command()
def run(port: Annotated[int, typer.Option(help="HTTP port")] = 8000,
        host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
        demo: Annotated[bool, typer.Option(help="Load the worked example into an empty store")] = True) -> None:
    """Every service, worker and the GraphQL gateway in one process (embedded default: SQLite, embedded log)."""
    from services.runtime import System

    system = System(_settings())
    system.start_workers()
    if demo:
        system.load_demo_data()
    try:
        uvicorn.run(system.asgi(), host=host, port=port, log_config=None)
    finally:
        system.close()


@cli.command()
def serve(service: str, port: int = 8000, host: str = "0.0.0.0") -> None:
    """One service's web process (REST API; ``reporting`` serves the GraphQL gateway)."""
    from services.runtime import SERVICES, System

    if service not in SERVICES:
        raise typer.BadParameter(f"service must be one of {', '.join(SERVICES)}")
    system = System(_settings(), services=(service,))
    app = system.reporting_asgi() if service == "reporting" else system.asgi()
    try:
        uvicorn.run(app, host=host, port=port, log_config=None)
    finally:
        system.close()


@cli.command()
def gateway(port: int = 8000, host: str = "0.0.0.0") -> None:
    """The GraphQL gateway (the reporting service's web process)."""
    serve("reporting", port=port, host=host)


@cli.command()
def worker(service: str) -> None:
    """One service's worker: its relay (own log -> own topic) and its consumers (upstream topics)."""
    from services.runtime import SERVICES, System

    if service not in SERVICES:
        raise typer.BadParameter(f"service must be one of {', '.join(SERVICES)}")
    system = System(_settings(), services=(service,))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    system.start_workers()
    stop.wait()
    system.close()  # workers finish their batch and record their position first


@cli.command()
def token(user: Annotated[str, typer.Option(help="Subject id of the user (no personal data)")],
          org: Annotated[str, typer.Option(help="Organisation id, e.g. worcestershire-cc")],
          role: Annotated[list[Role], typer.Option(help="Role(s) to grant")],
          district: str | None = None, theme_group: str | None = None, ttl: int = 3600) -> None:
    """Mint a bearer token for local use (signed with this environment's key)."""
    from services.runtime import make_tokens

    tokens = make_tokens(_settings())
    typer.echo(tokens.mint(user, org, [r.value for r in role], district=district, theme_group=theme_group,
                           ttl_seconds=ttl))


@cli.command()
def contracts(out: Path = Path("contracts")) -> None:
    """Regenerate the published contracts: event JSON Schemas, AsyncAPI, OpenAPI per service, GraphQL SDL."""
    from services.partners.contracts import IncompatibleChange, write

    try:
        for relative in write(out):
            typer.echo(out / relative)
    except IncompatibleChange as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from error


cli.add_typer(report_cli, name="report")
cli.add_typer(readmodel_cli, name="readmodel")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
