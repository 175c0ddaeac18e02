"""The published contracts, generated from the single definitions: what partner organisations build against.

``partnership contracts`` (``make contracts``) writes, under ``contracts/``:

- ``events/<service>.<Event>.v<n>.schema.json``: the JSON Schema (2020-12) of each event type and version;
- ``asyncapi.yaml``: AsyncAPI 3.0, every topic, its key and its messages (CloudEvents whose ``data`` is one of the
  event schemas);
- ``openapi/<service>.json``: the OpenAPI document of each service's REST API, and ``openapi/system.json`` for the
  routes of the process itself (the OAuth2 token endpoint, the open-data feed, GraphQL, health);
- ``schema.graphql``: the GraphQL SDL of the gateway;
- ``unreleased/events/<service>.<Event>.v<n>.schema.json``: the schema of each event contract declared for the next
  contract release (``shared.contracts``): generated apart, free to change, not in AsyncAPI, never on a topic that
  partners read. The release moves them to ``events/`` (docs/partners.md, "Contract releases").

A published event schema is not overwritten by an incompatible one (see ``compatibility``): a change that removes or
retypes a field needs a new version of the event.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from services.partners import inbound
from services.partners.compatibility import incompatibilities
from services.partners.openapi import published
from shared.contracts import CONTRACT_RELEASE, ContractError, all_contracts, is_released, json_schema, resolve
from shared.contracts.audit import CHECKPOINTS_TOPIC
from shared.contracts.publication import is_public
from shared.envelope import CONTENT_TYPE, SEQUENCE_AS_STRING_IN_RELEASE, publishes_internal_events
from shared.settings import Settings

ASYNCAPI_VERSION = "3.1.0"
PARTNER_LISTENER_PORT = 9094
"""The Strimzi listener partners connect to (deploy/k8s/base/kafka.yaml ``external``): TLS and SCRAM-SHA-512."""
KAFKA_ENVIRONMENTS: tuple[tuple[str, str, str], ...] = (
    ("production", "partnership", "Production (deploy/k8s/overlays/prod)"),
    ("development", "partnership-dev", "Development cluster (deploy/k8s/overlays/dev)"),
)
"""(server name, Kubernetes namespace, description) of every cluster with a partner listener."""
KAFKA_BINDING_VERSION = "0.5.0"
_SIGNING_KEY = "contract-generation-only-key-0123456789abcdef"


class IncompatibleChange(RuntimeError):
    """An event schema changed incompatibly within its published version."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        self.problems = problems
        lines = [f"{name}: {problem}" for name, found in sorted(problems.items()) for problem in found]
        super().__init__("incompatible change(s) to published event schemas; declare a new version of the event "
                         "(@contract(SERVICE, version=n + 1)) with an upcaster instead:\n  " + "\n  ".join(lines))


def _json(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


UNRELEASED = "unreleased"
"""The folder (under contracts/) of the schemas of contracts declared for the next release."""


def event_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of every event type and version, by CloudEvent type (unreleased ones included)."""
    return {type_name: json_schema(cls) for type_name, cls in all_contracts()}


def published_type(type_name: str) -> bool:
    """Is this event type in the published contracts? Released, and (from release 2) public."""
    return is_released(type_name) and (publishes_internal_events() or is_public(resolve(type_name)))


def released_schemas(schemas: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Only the schemas of the releases partners have: what is published."""
    every = schemas if schemas is not None else event_schemas()
    return {name: schema for name, schema in every.items() if published_type(name)}


def _sequence_schema() -> dict[str, Any]:
    if CONTRACT_RELEASE >= SEQUENCE_AS_STRING_IN_RELEASE:
        return {"type": "string", "pattern": "^[0-9]{20}$",
                "description": "The aggregate's version, zero-padded to 20 digits (orders as a string)."}
    return {"type": "integer", "minimum": 1, "description": "The aggregate's version."}


def _cloud_event_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "A CloudEvent 1.0 in structured JSON mode. `subject` is the aggregate id (also the Kafka key), "
                       "`sequence` the aggregate's version: one aggregate's events arrive in order, and a consumer "
                       "that saw (subject, sequence) before may skip it (messages can be delivered twice).",
        "required": ["specversion", "id", "source", "type", "subject", "time", "sequence", "datacontenttype",
                     "actor", "actororganisation", "actorrole", "correlationid", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string", "description": "<subject>:<sequence>, unique per event."},
            "source": {"type": "string", "description": "The publishing service, e.g. /services/projects."},
            "type": {"type": "string", "description": "<service>.<Event>.v<version>: names the data's schema."},
            "subject": {"type": "string", "format": "uuid", "description": "The aggregate id."},
            "time": {"type": "string", "format": "date-time"},
            "sequence": _sequence_schema(),
            "datacontenttype": {"const": "application/json"},
            "dataschema": {"type": "string", "format": "uri",
                           "description": "The $id of the data's published JSON Schema (contracts/events); absent "
                                          "from records published before it was added."},
            "actor": {"type": "string", "description": "Opaque id of the user, or client:<id> for a partner system."},
            "actororganisation": {"type": "string"},
            "actorrole": {"type": "string"},
            "correlationid": {"type": "string", "description": "Ties the command to its events and logs."},
            "decisionref": {"type": "string", "description": "The decision's reference, or body@date."},
            "data": {"type": "object"},
        },
    }


def _kafka_servers() -> dict[str, Any]:
    """The brokers partners connect to: each cluster's external listener, TLS with SCRAM-SHA-512."""
    servers: dict[str, Any] = {}
    for name, namespace, description in KAFKA_ENVIRONMENTS:
        servers[name] = {
            "host": f"{{bootstrap}}:{PARTNER_LISTENER_PORT}",
            "protocol": "kafka-secure",
            "description": f"{description}: the external listener, TLS (the cluster CA from the Secret "
                           f"partnership-cluster-ca-cert in namespace {namespace}) with SCRAM-SHA-512.",
            "variables": {"bootstrap": {
                "description": f"The load-balancer address of the Service partnership-kafka-external-bootstrap in "
                               f"namespace {namespace} (given to each partner with its credentials)."}},
            "security": [{"$ref": "#/components/securitySchemes/partnerScram"}],
        }
    return servers


def asyncapi(topics: dict[str, str], schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """AsyncAPI 3.0: ``topics`` maps each service to its topic; every event type is a message of its service's."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for service, topic in topics.items():
        names = [name for name in schemas if name.split(".", 1)[0] == service]
        for name in names:
            schema = schemas[name]
            messages[name] = {
                "name": name,
                "title": schema["title"],
                "summary": schema.get("description") or name,
                "contentType": "application/cloudevents+json",
                "correlationId": {"location": "$message.payload#/correlationid"},
                "headers": {"type": "object", "properties": {"content-type": {
                    "const": CONTENT_TYPE, "description": "The CloudEvents Kafka binding's structured mode: the "
                                                          "record's value is the whole CloudEvent."}}},
                "bindings": {"kafka": {
                    "key": {"type": "string", "format": "uuid",
                            "description": "The aggregate id (the CloudEvent subject): one aggregate, one partition."},
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }},
                **({"tags": [{"name": "superseded", "description": "A version superseded by a later one: its "
                                   "records stay on the topic, new ones carry the later version (see the summary)."}]}
                   if schema.get("deprecated") else {}),
                "payload": {"allOf": [
                    {"$ref": "#/components/schemas/CloudEvent"},
                    {"type": "object", "properties": {"type": {"const": name},
                                                      "data": {"$ref": f"./events/{name}.schema.json"}}},
                ]},
            }
        channels[topic] = {
            "address": topic,
            "title": f"{service} events",
            "description": f"Every event of the {service} service, in commit order per aggregate; key = aggregate id; "
                           "kept for ever (the log is the record). Partners read it with a consumer group "
                           "(group id prefix partner.<client id>.) and the ACLs their client is granted.",
            "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in names},
            "bindings": {"kafka": {"topic": topic, "partitions": 3, "bindingVersion": KAFKA_BINDING_VERSION}},
        }
        operations[f"{service}Events"] = {
            "action": "send",
            "title": f"The {service} service publishes its events",
            "channel": {"$ref": f"#/channels/{topic}"},
            "messages": [{"$ref": f"#/channels/{topic}/messages/{name}"} for name in names],
        }
    inbound_channels, inbound_operations, inbound_messages = inbound.asyncapi_parts(KAFKA_BINDING_VERSION)
    channels.update(inbound_channels)
    operations.update(inbound_operations)
    messages.update(inbound_messages)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Partnership governance events",
            "version": f"{CONTRACT_RELEASE}.0.0",
            "description": "The topics partner organisations may follow, and the inbound topic on which an "
                           "organisation's system sends commands, answered on its outcomes topic. Each message is a "
                           "CloudEvent whose data is one of the published JSON Schemas (contracts/events, "
                           "contracts/commands). A schema changes within its version only by optional additions; "
                           "anything else is a new version (a new type).",
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": _kafka_servers(),
        "channels": channels,
        "operations": operations,
        "components": {"schemas": {"CloudEvent": _cloud_event_schema(), **inbound.envelope_schemas()},
                       "messages": messages,
                       "securitySchemes": {"partnerScram": {
                           "type": "scramSha512",
                           "description": "The Kafka user of the partner's client (partner-<client id>, written by "
                                          "`partnership partners kafka-users`); its password is in the Secret of "
                                          "that name. Read-only (the topics granted, groups partner.<client id>.*) "
                                          "but for a client granted commands: it writes its organisation's inbound "
                                          "topic and reads its outcomes topic."}}},
    }


def _rest_and_graphql() -> Iterator[tuple[str, str]]:
    """The OpenAPI documents and the GraphQL SDL, from a system built (not started) on throwaway embedded stores."""
    from services.reporting.graphql import schema
    from services.runtime import System

    with tempfile.TemporaryDirectory(prefix="contracts-") as data_dir:
        system = System(Settings(data_dir=Path(data_dir), jwt_secret=_SIGNING_KEY))
        try:
            for name, application in system.applications.items():
                api = system.specs[name].create_api(application, system.tokens)
                yield f"openapi/{name}.json", _json(published(api.openapi(), name))
            yield "openapi/reporting.json", _json(published(system.reporting_asgi().openapi(), None))
            yield "openapi/system.json", _json(published(system.asgi().openapi(), None))
        finally:
            system.close()
    yield "schema.graphql", schema.as_str() + "\n"


def render(published: Path | None = None) -> dict[str, str]:
    """Every contract file's path (relative to the contracts folder) and content.

    With ``published`` (the committed folder), refuses an event schema that changed incompatibly within its version.
    """
    from services.runtime import service_specs

    schemas = event_schemas()
    released = released_schemas(schemas)
    if published is not None:
        check_compatible(published, released)
    files = {f"events/{name}.schema.json": _json(schema) for name, schema in released.items()}
    files.update({f"{UNRELEASED}/events/{name}.schema.json": _json(schema) for name, schema in schemas.items()
                  if not is_released(name)})
    files.update({f"commands/{name}.schema.json": _json(schema) for name, schema in inbound.schemas().items()})
    topics = {spec.name: spec.topic for spec in service_specs().values()}
    if any(name.startswith("audit.") for name in released):  # the signed checkpoints, for witnesses (docs/audit.md)
        topics["audit"] = CHECKPOINTS_TOPIC
    files["asyncapi.yaml"] = yaml.safe_dump(asyncapi(topics, released), sort_keys=False, allow_unicode=True,
                                            width=120)
    files.update(_rest_and_graphql())
    from services.history.format import json_schemas as history_schemas  # the history file's rows (#26)

    files.update({f"history/{name}": _json(schema) for name, schema in history_schemas().items()})
    return files


def check_compatible(published: Path, schemas: dict[str, dict[str, Any]] | None = None) -> None:
    """Raise IncompatibleChange when a published event type is gone (or declared unreleased again) or its schema
    changed incompatibly. Unreleased schemas are free to change: they are not compared."""
    current = schemas if schemas is not None else released_schemas()
    problems: dict[str, list[str]] = {}
    for path in sorted((published / "commands").glob("*.schema.json")):  # a partner's commands and their answers
        name = path.name.removesuffix(".schema.json")
        if name not in inbound.schemas():
            problems[name] = ["the published command (or answer) is no longer declared"]
        elif found := incompatibilities(json.loads(path.read_text()), inbound.schemas()[name]):
            problems[name] = found
    for path in sorted((published / "events").glob("*.schema.json")):
        name = path.name.removesuffix(".schema.json")
        if name not in current:
            if _withdrawn_internal(name):
                continue  # the release that publishes public events only withdraws it, in its notice
            problems[name] = ["the published event type is no longer declared (keep it, or its upcaster)"]
            continue
        found = incompatibilities(json.loads(path.read_text()), current[name])
        if found:
            problems[name] = found
    if problems:
        raise IncompatibleChange(problems)


def _withdrawn_internal(type_name: str) -> bool:
    try:
        return not publishes_internal_events() and not is_public(resolve(type_name))
    except ContractError:
        return False


def write(out: Path) -> list[str]:
    """Regenerate every contract under ``out``; files no longer generated are removed. Returns the paths written."""
    files = render(out if out.exists() else None)
    for stale in [p for p in out.rglob("*") if p.is_file() and str(p.relative_to(out)) not in files]:
        if stale.suffix in {".json", ".yaml", ".graphql"}:
            stale.unlink()
    for relative, content in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
    return sorted(files)
