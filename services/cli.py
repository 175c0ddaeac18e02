"""``partnership``: run the system (embedded or one part of it), mint dev tokens, write the published contracts."""

from __future__ import annotations

import gc
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
import yaml

from services.audit.cli import audit
from services.reporting.commands import readmodel_cli, report_cli
from shared import logs, tracing
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

    tracing.configure("all")
    system = System(_settings())
    _freeze_startup_heap()
    system.start_workers()
    if demo:
        system.load_demo_data()
    _on_termination(threading.Event())  # uvicorn re-raises SIGTERM after its graceful stop: close first
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
    tracing.configure(service)
    system = System(_settings(), services=(service,))
    app = system.reporting_asgi() if service == "reporting" else system.asgi()
    _freeze_startup_heap()
    _on_termination(threading.Event())
    try:
        uvicorn.run(app, host=host, port=port, log_config=None)
    finally:
        system.close()


def _freeze_startup_heap() -> None:
    """Keep what start-up built (modules, schema, app: ~160,000 objects) out of the garbage collector's full passes.
    Each full pass walked all of it, ~85 ms on our machines, every few dozen requests of a busy gateway: its
    tail latency. What requests allocate is still collected."""
    gc.collect()
    gc.freeze()


@cli.command()
def gateway(port: int = 8000, host: str = "0.0.0.0") -> None:
    """The GraphQL gateway (the reporting service's web process)."""
    serve("reporting", port=port, host=host)


def _on_termination(stop: threading.Event) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())


@cli.command()
def worker(service: str,
           port: Annotated[int, typer.Option(help="Port of /healthz, /readyz and /metrics (0: none)")] = 0,
           host: str = "0.0.0.0") -> None:
    """One service's worker: its relay (own log -> own topic) and its consumers (upstream topics)."""
    from services.runtime import SERVICES, System

    if service not in SERVICES:
        raise typer.BadParameter(f"service must be one of {', '.join(SERVICES)}")
    tracing.configure(service)
    system = System(_settings(), services=(service,))
    stop = threading.Event()
    _on_termination(stop)
    _freeze_startup_heap()  # a full pass over start-up's objects was a projection's and a relay's lag outlier too
    system.start_workers()
    server: uvicorn.Server | None = None
    if port:
        server = uvicorn.Server(uvicorn.Config(system.worker_asgi(), host=host, port=port, log_config=None))
        threading.Thread(target=server.run, name="worker-http", daemon=True).start()
    stop.wait()
    if server is not None:
        server.should_exit = True
    system.close()  # workers finish their batch and record their position first
    tracing.shutdown()


@cli.command()
def demo(database: Annotated[list[str] | None, typer.Option(
            help="SERVICE=URL for a service whose database is not PARTNERSHIP_DATABASE_URL (repeatable)",
            envvar="PARTNERSHIP_DEMO_DATABASES")] = None,
         timeout: Annotated[float, typer.Option(help="Seconds to wait for each upstream fact")] = 120.0) -> None:
    """Load the worked example into empty stores of a running system (its workers carry it downstream); once."""
    from services.runtime import load_demo, service_specs

    settings = _settings()
    urls = dict(item.split("=", 1) for item in database or [])
    specs = service_specs()
    unknown = set(urls) - set(specs)
    if unknown:
        raise typer.BadParameter(f"no such service: {', '.join(sorted(unknown))}")
    applications = {name: spec.application(settings.model_copy(update={"database_url": urls.get(name,
                                                                        settings.database_url)}))
                    for name, spec in specs.items()}
    try:
        loaded = load_demo(specs, applications, timeout)
    finally:
        for application in applications.values():
            application.close()
    typer.echo("demo data loaded" if loaded else "stores already hold events: demo data not loaded again")


@cli.command()
def token(user: Annotated[str, typer.Option(help="Subject id of the user (no personal data)")],
          org: Annotated[str, typer.Option(help="Organisation id, e.g. worcestershire-cc")],
          role: Annotated[list[Role], typer.Option(help="Role(s) to grant")],
          district: str | None = None, theme_group: str | None = None, ttl: int = 3600,
          grant: Annotated[list[str] | None, typer.Option(
              help="A further role in a scope of its own, ROLE:SCOPE (programme_manager:wychavon)")] = None) -> None:
    """Mint a bearer token for local use (signed with this environment's key: the embedded mode's)."""
    from services.runtime import make_tokens
    from shared.auth import Grant

    grants = []
    for text in grant or []:
        name, _, scope = text.partition(":")
        try:
            grants.append(Grant(Role(name), scope or None))
        except ValueError as error:
            raise typer.BadParameter(f"{text!r}: expected ROLE:SCOPE with a role of {', '.join(Role)}") from error
    tokens = make_tokens(_settings())
    typer.echo(tokens.mint(user, org, [r.value for r in role], district=district, theme_group=theme_group,
                           ttl_seconds=ttl, grants=grants))


@cli.command()
def contracts(out: Path = Path("contracts"),
              release_plan: Annotated[bool, typer.Option(
                  "--release-plan", help="Print what the next contract release would publish and drop, and the "
                                         "draft of its change notice, instead of writing")] = False) -> None:
    """Regenerate the published contracts: event JSON Schemas, AsyncAPI, OpenAPI per service, GraphQL SDL."""
    from services.partners.contracts import IncompatibleChange, write

    if release_plan:
        from services.partners.release import notice_draft
        from services.partners.release import release_plan as plan

        typer.echo(notice_draft(plan()))
        return
    try:
        for relative in write(out):
            typer.echo(out / relative)
    except IncompatibleChange as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from error


partners = typer.Typer(no_args_is_help=True, help="Partner organisations' systems: their grants on the broker.")
cli.add_typer(partners, name="partners")


@partners.command("kafka-users")
def partners_kafka_users(
        clients: Annotated[Path, typer.Option(help="The partner clients file (PARTNERSHIP_PARTNER_CLIENTS_FILE)",
                                              exists=True, dir_okay=False, readable=True)],
        cluster: Annotated[str, typer.Option(help="The Strimzi Kafka cluster the users belong to")] = "partnership",
) -> None:
    """Print one Strimzi KafkaUser per client granted topics (read-only) or commands (its organisation's inbound
    topic), and the KafkaTopics of those inbound and outcomes topics (sorted, to commit with the manifests)."""
    from services.partners.kafka_users import inbound_topics, kafka_users, render
    from services.runtime import partner_topics
    from shared.auth import ClientRegistry

    known = partner_topics()
    try:
        # Only the grants are needed: the clients' secrets stay where the services read them.
        registry = ClientRegistry.from_file(clients, known_topics=known, secrets_needed=False)
        typer.echo(render([*kafka_users(registry, cluster, known), *inbound_topics(registry, cluster)]), nl=False)
    except (ValueError, yaml.YAMLError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error


@partners.command("clients-configmap")
def partners_clients_configmap(
        clients: Annotated[Path, typer.Option(help="The partner clients file (PARTNERSHIP_PARTNER_CLIENTS_FILE)",
                                              exists=True, dir_okay=False, readable=True)],
) -> None:
    """Print the ConfigMap that carries the partner clients file to the projects worker (deploy/k8s/base)."""
    from services.partners.clients_config import render
    from services.runtime import partner_topics
    from shared.auth import ClientRegistry

    try:
        ClientRegistry.from_file(clients, known_topics=partner_topics(), secrets_needed=False)  # valid, or refused
        typer.echo(render(clients.read_text()), nl=False)
    except (ValueError, yaml.YAMLError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error


history_import = typer.Typer(no_args_is_help=True, help="Bring a partnership's history onto the system.")
history_export = typer.Typer(no_args_is_help=True, help="Take a partnership's history out of the system.")
cli.add_typer(history_import, name="import")
cli.add_typer(history_export, name="export")


@history_import.command("history")
def import_history(
        path: Annotated[Path, typer.Argument(help="A history file (JSON) or a folder of its CSV files", exists=True)],
        by: Annotated[str, typer.Option(help="Who imports (their subject id: the events' actor)")],
        organisation: Annotated[str, typer.Option(help="The organisation they import for (rows may name another)")],
        role: Annotated[Role, typer.Option(help="Their role (rows may name another)")] = Role.PARTNERSHIP_OFFICER,
        workers: Annotated[bool, typer.Option(
            help="Run the command services' relays and consumers here while importing (--no-workers when a "
                 "running system's workers carry the events between the services)")] = True,
        report: Annotated[Path | None, typer.Option(help="Write the report per row here (JSON)")] = None,
        timeout: Annotated[float, typer.Option(help="Seconds to wait for each fact from another service")] = 120.0,
) -> None:
    """Import a history file, all or nothing: each row through its owning service's commands, as of its own date.
    Prints a line per refused row (exit 1) or the counts; re-importing the same file changes nothing."""
    import json

    from services.history import format as fmt
    from services.history.runner import COMMAND_SERVICES
    from services.history.runner import import_history as run_import
    from services.runtime import System
    from shared.contracts import Actor

    settings = _settings()
    try:
        history = fmt.read(path)
    except fmt.FormatProblem as problem:
        for item in problem.problems:
            typer.echo(f"{item['row']}: {item['detail']}", err=True)
        raise typer.Exit(1) from problem
    system = System(settings, services=COMMAND_SERVICES)
    if workers:
        system.start_workers()
    try:
        result = run_import(history, system.applications, Actor(by, organisation, role.value), settings, timeout)
    finally:
        system.close()
    if report is not None:
        report.write_text(json.dumps(result.as_dict(), indent=2) + "\n")
    for row in result.refused:
        typer.echo(f"{row.where}: {row.title} ({row.status} {row.code}): {row.detail}", err=True)
    counts = result.as_dict()["counts"]
    typer.echo(f"{history.name} (sha256 {history.sha256}): "
               + ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
               + ("" if result.imported or result.refused else "; nothing changed"))
    if result.refused:
        raise typer.Exit(1)


@history_export.command("history")
def export_history(path: Annotated[Path, typer.Argument(
        help="Where to write: a .json file, or a folder for the CSV files")]) -> None:
    """Export the whole history in the import's format (an imported row keeps its key)."""
    from services.history import format as fmt
    from services.history.export import NotExportable
    from services.history.export import export_history as run_export
    from services.history.runner import COMMAND_SERVICES
    from services.runtime import service_specs

    settings = _settings()
    specs = service_specs()
    applications = {name: specs[name].application(settings) for name in COMMAND_SERVICES}
    try:
        document = run_export(applications)
    except NotExportable as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    finally:
        for application in applications.values():
            application.close()
    fmt.write(document, path)
    typer.echo(f"{len(document.rows)} rows written to {path}")


cli.add_typer(report_cli, name="report")
cli.add_typer(readmodel_cli, name="readmodel")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
