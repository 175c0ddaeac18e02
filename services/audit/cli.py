"""``partnership audit ...``: the auditor's commands. They read; only ``checkpoint`` (adds a signed digest) and
``erase`` and ``redact`` (destroy keys, and record the decision in tasking's log as a new event) write; none
changes a stored event."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from tqdm import tqdm

from services.audit.auditor import Auditor
from shared.errors import NotFound
from shared.settings import Settings

audit = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)

ServiceOption = Annotated[str | None, typer.Option("--service", "-s", help="One service (default: every service)")]


def _settings() -> Settings:
    from shared import logs

    settings = Settings()
    logs.configure(settings.log_level)
    return settings


@contextmanager
def _auditor() -> Iterator[Auditor]:
    from services.runtime import service_specs

    auditor = Auditor(_settings(), service_specs())
    try:
        yield auditor
    except NotFound as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from error
    finally:
        auditor.close()


@contextmanager
def _progress(total: int, what: str) -> Iterator[Callable[[int], None]]:
    with tqdm(total=total, desc=what, unit="event", file=sys.stderr, disable=None) as bar:
        yield bar.update


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


@audit.command()
def export(service: ServiceOption = None,
           aggregate: Annotated[UUID | None, typer.Option(help="Only this aggregate's events")] = None,
           source: Annotated[str, typer.Option(help="store (the event stores) or kafka (the topics)")] = "store",
           out: Annotated[Path | None, typer.Option(help="File to write (default: standard output)")] = None,
           bundle: Annotated[bool, typer.Option(
               help="An export bundle for the standalone verifier: stored bytes, proofs, checkpoints, "
                    "cosignatures (docs/audit.md)")] = False) -> None:
    """The full history as JSON Lines: of every service, of one service, or of one aggregate."""
    stream = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        if bundle:
            with _auditor() as auditor:
                heads = auditor.head()
                total = heads.get(service, 0) if service else sum(heads.values())
                with _progress(0 if aggregate else total, "bundle") as progress:
                    for record in auditor.bundle(service, aggregate, progress):
                        stream.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
            return
        if source == "kafka":
            _export_topics(service, aggregate, stream)
            return
        if source != "store":
            raise typer.BadParameter("source must be store or kafka")
        with _auditor() as auditor:
            heads = auditor.head()
            total = heads.get(service, 0) if service else sum(heads.values())
            with _progress(0 if aggregate else total, "export") as progress:
                for record in auditor.export(service, aggregate, progress):
                    stream.write(_json(record) + "\n")
    finally:
        if out:
            stream.close()


def _export_topics(service: str | None, aggregate: UUID | None, stream: Any) -> None:
    from services.runtime import make_transport, service_specs

    settings = _settings()
    transport = make_transport(settings)
    try:
        for name in [service] if service else list(service_specs()):
            topic = settings.topic(f"{name}.events")
            ends = transport.end_offsets(topic)
            reader = transport.reader(topic, dict.fromkeys(ends, 0))
            remaining = sum(ends.values())
            with _progress(remaining, f"export {topic}") as progress:
                while remaining > 0:
                    messages = reader.poll(500, 1.0)
                    for message in messages:
                        if message.position.offset >= ends.get(message.position.partition, 0):
                            continue
                        remaining -= 1
                        body = json.loads(message.value)
                        if aggregate is None or body.get("subject") == str(aggregate):
                            stream.write(_json({"topic": topic, "partition": message.position.partition,
                                                "offset": message.position.offset, "event": body}) + "\n")
                    progress(len(messages))
            reader.close()
    finally:
        transport.close()


@audit.command()
def verify(service: ServiceOption = None,
           public_key: Annotated[str | None, typer.Option(help="The published checkpoint key (64 hex digits)")] = None,
           witnesses: Annotated[int, typer.Option(help="Require a checkpoint cosigned by this many witnesses")] = 0,
           witness_key: Annotated[list[str] | None, typer.Option(
               help="A witness's cosignature key (name+hash+base64); default PARTNERSHIP_AUDIT_WITNESS_KEYS")] = None,
           ) -> None:
    """Recompute every hash chain and checkpoint; exit 1 naming the first bad event and why."""
    from shared.audit.standalone import VerifierKey

    keys = [VerifierKey.parse(k) for k in witness_key] if witness_key else None
    with _auditor() as auditor:
        heads = auditor.head()
        with _progress(heads.get(service, 0) if service else sum(heads.values()), "verify") as progress:
            reports = auditor.verify(service, public_key, progress, witnesses=witnesses, witness_keys_=keys)
    problems = [p for r in reports for p in r.problems]
    for report in reports:
        typer.echo(f"{report.service}: {report.events} events in {report.aggregates} aggregates, "
                   f"{report.coverage()}: {'intact' if report.ok else f'{len(report.problems)} problem(s)'}")
    if problems:
        typer.echo(f"FAILED. First bad event: {problems[0]}", err=True)
        for problem in problems[1:20]:
            typer.echo(f"  also: {problem}", err=True)
        raise typer.Exit(1)
    uncovered = sum(r.uncovered for r in reports)
    typer.echo("verified: every chain and checkpoint is intact"
               + (f"; {uncovered} recent event(s) not yet covered by a signed checkpoint (protected by their "
                  "chains only until the next one)" if uncovered else ""))


@audit.command()
def history(aggregate_id: UUID, as_json: Annotated[bool, typer.Option("--json", help="JSON Lines only")] = False
            ) -> None:
    """Every event of one aggregate: when, who, which decision, what changed (in words, then as JSON)."""
    with _auditor() as auditor:
        for entry in auditor.history(aggregate_id):
            if not as_json:
                typer.echo(entry["text"])
            typer.echo(_json(entry))


@audit.command()
def state(aggregate_id: UUID, as_of: Annotated[datetime, typer.Option("--as-of", help="ISO time (UTC if no zone)")]
          ) -> None:
    """The aggregate as it was at a time: its events up to then, replayed."""
    with _auditor() as auditor:
        typer.echo(json.dumps(auditor.state(aggregate_id, as_of), indent=2, sort_keys=True, default=str))


@audit.command()
def replay(until: Annotated[datetime, typer.Option(help="ISO time (UTC if no zone): events after it are left out")],
           query: Annotated[str, typer.Option(help="A GraphQL query to answer from the rebuilt read models")] =
           "{ __typename }") -> None:
    """Rebuild the reporting read models as of a time into a fresh store and print a GraphQL answer from them."""
    from services.audit.replay import replay_until

    with _auditor() as auditor:
        heads = auditor.head()
        with _progress(sum(heads.values()), "replay") as progress:
            answer = replay_until(auditor, until, query, progress=progress)
    typer.echo(json.dumps(answer, indent=2, sort_keys=True, default=str))
    if answer.get("errors"):
        raise typer.Exit(1)


@audit.command()
def decisions() -> None:
    """Decisions: every state change that should carry a decision and does not, and every stored decision whose body,
    meeting, date or quorum does not resolve (exit 1 when there is any)."""
    with _auditor() as auditor:
        heads = auditor.head()
        with _progress(sum(heads.values()) * 2 + heads.get("tasking", 0), "decisions") as progress:
            missing = auditor.missing_decisions(progress)
            unresolved = auditor.unresolved_decisions(progress)
        minuted = auditor.minuted_quorum_decisions()
        body_name = auditor.body_names()  # beside each decision's body id, its name (a retired one's last)
    for item in missing:
        typer.echo(_json(item.__dict__))
    for bad in unresolved:
        typer.echo(_json({**bad.__dict__, "body_name": body_name(bad.decision["body"]),
                          "problem": "; ".join(bad.problems)}))
    for resting in minuted:
        typer.echo(_json({**resting.__dict__, "body_name": body_name(resting.decision["body"]),
                          "note": "quorum as minuted"}))
    typer.echo(f"{len(missing)} state change(s) without the decision they need, {len(unresolved)} decision(s) that "
               "do not resolve to a quorate meeting of a body of the partnership, "
               f"{len(minuted)} decision(s) at a meeting whose quorum is as minuted (no attendance recorded)",
               err=True)
    if missing or unresolved:
        raise typer.Exit(1)


@audit.command()
def checkpoint(service: ServiceOption = None) -> None:
    """Sign each service's log head now (adds a checkpoint; changes no event)."""
    with _auditor() as auditor:
        for name in [service] if service else list(auditor.logs):
            written = auditor.checkpoint(name)
            typer.echo(f"{name}: " + ("nothing new since the last checkpoint" if written is None else
                                      f"checkpoint of tree size {written.tree_size} at position "
                                      f"{written.position}, root {written.root_hash}"))


@audit.command("public-key")
def public_key(note_keys: Annotated[bool, typer.Option(
        "--note-keys", help="Each service log's note verifier key (name+hash+base64), for witnesses and the "
                            "standalone verifier")] = False) -> None:
    """The Ed25519 public key that checkpoints are signed with (publish it; verify trusts it)."""
    from services.runtime import service_specs
    from shared.audit.checkpoint import origin_of, trusted_public_key, verifier_key

    settings = _settings()
    key = trusted_public_key(settings)
    if key is None:
        typer.echo("no audit signing key is configured", err=True)
        raise typer.Exit(1)
    if not note_keys:
        typer.echo(key)
        return
    for name in service_specs():
        typer.echo(f"{name}: {verifier_key(key, origin_of(settings, name))}")


TokenOption = Annotated[str | None, typer.Option(
    "--token", envvar="PARTNERSHIP_TOKEN", show_envvar=True,
    help="The bearer token of the partnership officer taking the decision (the identity provider's, or in the "
         "embedded mode one from `partnership token`)")]
DelegationOption = Annotated[str | None, typer.Option(
    help="The scheme of delegation the officer decides under (default: the partnership's scheme for data "
         "protection)")]


@dataclass(frozen=True)
class _Decided:
    """A checked data-protection decision, and how to record what it did in tasking's log."""

    decision: Any
    record: Callable[..., Any]


@contextmanager
def _data_protection_decision(settings: Settings, token: str | None, kind: str, reason: str,
                              reference: str | None, delegation: str | None) -> Iterator[_Decided]:
    """The decision of a signed-in partnership officer under a scheme of delegation, checked by tasking's decision
    rule before anything is destroyed; yields the recorder of the decided fact in tasking's chained log (the
    register of erasures and redactions). Refusals exit 2, naming what is wrong."""
    from uuid import uuid4

    from services.runtime import make_tokens
    from services.tasking import SPEC as TASKING
    from services.tasking.application import TaskingApplication
    from services.tasking.permissions import data_protection_role
    from shared.auth import AuthenticationError
    from shared.contracts import Decision
    from shared.errors import InvalidCommand, NotPermitted
    from shared.eventstore import CommandContext

    if not reason.strip():
        typer.echo("the decision needs a reason (--reason)", err=True)
        raise typer.Exit(2)
    if not token:
        typer.echo("an erasure or redaction is decided by a signed-in partnership officer: give their bearer "
                   "token (--token or PARTNERSHIP_TOKEN)", err=True)
        raise typer.Exit(2)
    try:
        principal = make_tokens(settings).verify(token)
        grant = data_protection_role(principal)
    except (AuthenticationError, NotPermitted) as error:
        typer.echo(f"refused: {error}", err=True)
        raise typer.Exit(2) from error
    application = TASKING.application(settings)
    assert isinstance(application, TaskingApplication)
    try:
        definition = application.definition
        schemes = [s for s in definition.schemes_of_delegation if kind in s.decisions]
        scheme = next((s for s in schemes if s.id == delegation), None) if delegation else \
            (schemes[0] if schemes else None)
        if scheme is None:
            typer.echo(f"refused: no scheme of delegation {delegation or ''} delegates {kind}".replace("  ", " "),
                       err=True)
            raise typer.Exit(2)
        decision = Decision(body=scheme.body, decided_on=definition.calendar()(), reason=reason.strip(),
                            reference=reference, delegation=scheme.id)
        context = CommandContext(actor=principal.actor(grant), correlation_id=f"audit-{uuid4()}")
        check = application.check_erasure if kind == "personal_data.erasure" else application.check_redaction
        try:
            checked = check(context, decision)
        except InvalidCommand as error:
            typer.echo(f"refused: {error}", err=True)
            raise typer.Exit(2) from error
        record = application.record_erasure if kind == "personal_data.erasure" else application.record_redaction

        yield _Decided(checked, lambda **fields: record(context, decision=checked, **fields))
    finally:
        application.close()


@audit.command()
def erase(person: Annotated[str, typer.Argument(help="The person's identity-provider subject (or pseudonym)")],
          reason: Annotated[str, typer.Option(help="Why (e.g. the erasure request and its reference)")],
          token: TokenOption = None, delegation: DelegationOption = None,
          reference: Annotated[str | None, typer.Option(help="The decision's reference")] = None) -> None:
    """Erase a person in every service at once: unlink their pseudonym from their subject and name, destroy the
    keys of every text they wrote, and destroy their contact details' key wherever a service holds them. Events,
    hashes and the decisions they took stay (by pseudonym, role and organisation). The erasure is a decision of the
    partnership officer under delegation, with its reason, recorded in tasking's chained log
    (``PersonalDataErased``). An unknown person is an error."""
    from shared.audit.people import UnknownPerson, vault_for

    settings = _settings()
    with _data_protection_decision(settings, token, "personal_data.erasure", reason, reference,
                                   delegation) as decided, _auditor() as auditor:
        decision = decided.decision
        contacts = [name for name, log in auditor.logs.items() if log.vault.holds(person)]
        try:
            erasure = vault_for(auditor.settings).erase(person, {
                "body": decision.body, "decided_on": decision.decided_on.isoformat(), "reason": decision.reason,
                "reference": reference, "delegation": decision.delegation})
        except UnknownPerson as error:
            if not contacts:
                typer.echo(f"{error}; nor does any service hold contact details under that id", err=True)
                raise typer.Exit(1) from error
            erasure = None
        for name in contacts:
            auditor.log_of(name).vault.erase(person, reason)
        register = decided.record(pseudonyms=list(erasure.pseudonyms) if erasure else [],
                          redacted_texts=erasure.redacted_texts if erasure else 0, contact_details_in=contacts)
    if erasure is not None:
        typer.echo(f"{person}: erased as {', '.join(erasure.pseudonyms)} at {erasure.erased_at} "
                   f"({erasure.redacted_texts} texts redacted; decided by the partnership officer under "
                   f"{decision.delegation} on {decision.decided_on.isoformat()}: {reason})")
    for name in contacts:
        typer.echo(f"{person}: contact details erased in {name}")
    typer.echo(f"recorded in tasking's log: data-protection register {register.id} version {register.version}")


@audit.command()
def erasures(as_json: Annotated[bool, typer.Option("--json", help="As JSON Lines")] = False) -> None:
    """Every erasure (with the decision behind it) and every redaction, oldest first."""
    from shared.audit.people import vault_for

    for entry in vault_for(_settings()).erasures():
        if as_json:
            typer.echo(_json(entry))
        elif entry["kind"] == "erasure":
            decision = entry["decision"]
            by = f"the officer under {decision['delegation']}" if decision.get("delegation") else decision["body"]
            typer.echo(f"{entry['at']}: {entry['pseudonym']} erased ({entry['redacted_texts']} texts redacted); "
                       f"decided by {by} on {decision['decided_on']}: {decision['reason']}")
        else:
            what = entry["aggregate_id"] or f"the texts of {entry['author']}"
            typer.echo(f"{entry['at']}: {what} redacted ({entry['keys']} keys): {entry['reason']}")


@audit.command()
def redact(aggregate_id: Annotated[str, typer.Argument(help="The record whose free text is to be redacted")],
           reason: Annotated[str, typer.Option(help="Why (e.g. it names someone who asked to be erased)")],
           version: Annotated[int | None, typer.Option(help="Only this version's texts")] = None,
           token: TokenOption = None, delegation: DelegationOption = None,
           reference: Annotated[str | None, typer.Option(help="The decision's reference")] = None) -> None:
    """Redact a record's free text (reasons, narratives) by destroying its keys: for text that names someone other
    than its author. Reads then show [redacted]; the events and their hashes stay. A decision of the partnership
    officer under delegation, recorded in tasking's chained log (``FreeTextRedacted``)."""
    from shared.audit.people import vault_for

    settings = _settings()
    with _data_protection_decision(settings, token, "personal_data.redaction", reason, reference,
                                   delegation) as decided:
        count = vault_for(settings).redact(aggregate_id, reason, version)
        if count == 0:
            typer.echo(f"no sealed text of {aggregate_id} is left to redact", err=True)
            raise typer.Exit(1)
        register = decided.record(record_id=aggregate_id, record_version=version, keys=count)
    typer.echo(f"{aggregate_id}: {count} record keys destroyed ({reason}); recorded in tasking's log: "
               f"data-protection register {register.id} version {register.version}")


@audit.command()
def reconcile(
        wait: Annotated[float, typer.Option(help="Seconds to let the system converge before a difference counts")]
        = 0.0,
        as_json: Annotated[bool, typer.Option("--json", help="The report as JSON")] = False) -> None:
    """Compare every service's event store with its topic and with every read model (counts, ids, versions, a
    digest per aggregate); print the differences and exit 1 when there is any."""
    from services.audit.reconcile import reconcile as run_reconciliation

    report = run_reconciliation(_settings(), wait=wait)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2, sort_keys=True))
    else:
        counts = report.counts
        for service, events in counts.get("events", {}).items():
            typer.echo(f"{service}: {events} events in {counts['aggregates'][service]} aggregates, "
                       f"digest {counts['store_digest'][service]}")
        typer.echo(f"topics: {counts.get('topic_messages')} messages, redeliveries {counts.get('topic_redeliveries')}")
        typer.echo(f"reporting event_log: {counts.get('event_log')} events; dead letters: {counts.get('dead_letters')}")
        for difference in report.differences:
            typer.echo(f"DIFFERENCE {difference}", err=True)
    if not report.ok:
        typer.echo(f"{len(report.differences)} difference(s)", err=True)
        raise typer.Exit(1)
    if not as_json:
        typer.echo("reconciled: every stored event is on its topic and in every read model, once")


@audit.command()
def witness(
        name: Annotated[str, typer.Option(help="The witness's name (its cosignature key's name), e.g. a domain")],
        signing_key: Annotated[str, typer.Option(
            envvar="PARTNERSHIP_WITNESS_SIGNING_KEY", show_default=False,
            help="The witness's Ed25519 seed, 64 hex digits (from the environment only)")],
        log_key: Annotated[list[str] | None, typer.Option(
            help="A log's note verifier key, as `audit public-key --note-keys` prints it (repeat per log)")] = None,
        state_dir: Annotated[Path, typer.Option(help="Where the witness keeps its copy and its state")] =
        Path("witness"),
        service_url: Annotated[str | None, typer.Option(
            help="Base URL of the audit API (POST /audit/cosignatures, GET /audit/consistency)")] = None,
        token: Annotated[str | None, typer.Option(envvar="PARTNERSHIP_WITNESS_TOKEN", show_default=False,
                                                  help="Bearer token of a client with the witness role")] = None,
        print_key: Annotated[bool, typer.Option(help="Print this witness's cosignature key and stop")] = False,
) -> None:
    """Witness the services' audit logs: follow audit.checkpoints, check each checkpoint is consistent with the last
    one seen, cosign it, keep a copy, return the cosignature; a fork is reported and never cosigned."""
    import threading

    from services.audit.witness import Witness, http_client
    from services.runtime import make_transport
    from shared.audit.checkpoint import Cosigner
    from shared.audit.standalone import VerifierKey
    from shared.contracts.audit import CHECKPOINTS_TOPIC

    try:
        cosigner = Cosigner(bytes.fromhex(signing_key.strip()), name)
    except ValueError as error:
        raise typer.BadParameter(f"the signing key must be 64 hex digits: {error}") from error
    if print_key:
        typer.echo(str(cosigner.verifier))
        return
    if not log_key:
        raise typer.BadParameter("give each log's key with --log-key (from `partnership audit public-key "
                                 "--note-keys`)")
    try:
        keys = [VerifierKey.parse(k) for k in log_key]
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    submit = proofs = None
    if service_url:
        if not token:
            raise typer.BadParameter("returning cosignatures needs a witness token (PARTNERSHIP_WITNESS_TOKEN)")
        submit, proofs = http_client(service_url, token)
    settings = _settings()
    transport = make_transport(settings)
    follower = Witness(cosigner, state_dir, keys, proofs)
    stop = threading.Event()
    from services.cli import _on_termination

    _on_termination(stop)
    typer.echo(f"witness {name}: following {settings.topic(CHECKPOINTS_TOPIC)}; copy in {state_dir}", err=True)
    try:
        follower.follow(transport, settings.topic(CHECKPOINTS_TOPIC), stop, submit)
    finally:
        transport.close()
    for fork in follower.forks:
        typer.echo(str(fork), err=True)
    if follower.forks:
        raise typer.Exit(1)
