"""A partner organisation's inbound topics: its system sends commands on ``partner.<organisation>.commands`` and
reads the answer to each on ``partner.<organisation>.outcomes``.

One place says which commands there are (``COMMANDS``: the CloudEvent type, the service that owns and consumes it,
the JSON Schema of its ``data``), how a record and its answer are shaped, and the topics' names. The clients file
grants a client commands (``commands: [projects.ReportProgress.v1]``); one client per organisation may be granted
any, and its Kafka user alone may write the organisation's inbound topic (``kafka_users``). So the topic names who
sent a record: its organisation, and the client whose roles the command is checked against, exactly as that
client's REST call would be. Nothing in the record's body says who sent it.

A record is a CloudEvent 1.0 in the Kafka binding's structured mode (``content-type: application/cloudevents+json``):
``specversion``, ``id`` (the partner's own, unique per command: a record sent again with the same id is answered as
the first was and changes nothing more), ``source``, ``type`` (a command of ``COMMANDS``) and ``data`` (its schema).
Each answer is a CloudEvent too, ``partner.CommandAccepted.v1`` (the record created or changed: its id and version)
or ``partner.CommandRefused.v1`` (the problem+json body REST answers the same command with), its ``correlationid``
and ``data.command_id`` the command's ``id``, keyed by it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID, uuid5

from pydantic import BaseModel, Field

from shared.auth import Role

if TYPE_CHECKING:
    from services.projects.progress import ReportedCommand

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json"
HEADERS: tuple[tuple[str, bytes], ...] = (("content-type", CONTENT_TYPE.encode()),)
ACCEPTED = "partner.CommandAccepted.v1"
REFUSED = "partner.CommandRefused.v1"
MAX_RECORD_BYTES = 1_000_000
SCHEMA_BASE_URI = "urn:partnership:commands:"
"""The ``$id`` prefix of the commands' and answers' schemas (contracts/commands), and their ``dataschema``."""
_OUTCOME_IDS = UUID("9d3b0c52-7a1e-4f3a-8c6d-2b5e7f9a1c4d")


def commands_topic(organisation: str) -> str:
    """Where the organisation's system sends commands (its Kafka user may write it, no one else's)."""
    return f"partner.{organisation}.commands"


def outcomes_topic(organisation: str) -> str:
    """Where each of the organisation's commands is answered (its Kafka user may read it)."""
    return f"partner.{organisation}.outcomes"


@dataclass(frozen=True)
class Command:
    """A command a partner's system may send: its CloudEvent type, the service that consumes it, and its data's
    model (the REST body's, with what the REST path names)."""

    type_name: str
    service: str
    summary: str
    rest: str
    """The REST operation that takes the same command (and refuses it in the same words)."""

    def handler(self) -> ReportedCommand[Any]:
        """The owning service's one function for the command (the one its REST handler calls)."""
        from services.projects import progress

        handlers: dict[str, ReportedCommand[Any]] = {
            REPORT_PROGRESS: progress.REPORT_PROGRESS, WITHDRAW_REPORT: progress.WITHDRAW_REPORT,
            CORRECT_REPORT: progress.CORRECT_REPORT, ACHIEVE_MILESTONE: progress.ACHIEVE_MILESTONE,
            RECORD_RISK: progress.RECORD_RISK, COMMIT_RESOURCES: progress.COMMIT_RESOURCES}
        return handlers[self.type_name]

    def model(self) -> type[BaseModel]:
        return self.handler().data

    @property
    def roles(self) -> frozenset[Role]:
        """The roles that may send it through REST: a client is granted the command only if it holds one."""
        from services.projects.permissions import LEADERS, REPORTERS

        return frozenset(LEADERS if self.type_name in (ACHIEVE_MILESTONE, RECORD_RISK, COMMIT_RESOURCES)
                         else REPORTERS)


REPORT_PROGRESS = "projects.ReportProgress.v1"
WITHDRAW_REPORT = "projects.WithdrawReport.v1"
CORRECT_REPORT = "projects.CorrectReport.v1"
ACHIEVE_MILESTONE = "projects.AchieveMilestone.v1"
RECORD_RISK = "projects.RecordRisk.v1"
COMMIT_RESOURCES = "projects.CommitResources.v1"
COMMANDS: dict[str, Command] = {
    REPORT_PROGRESS: Command(REPORT_PROGRESS, "projects", "Report a project's actual values at a date (its lead "
                             "partner's system)", "POST /projects/{project_id}/progress of the projects API"),
    WITHDRAW_REPORT: Command(WITHDRAW_REPORT, "projects", "Withdraw a mistaken progress report, with a reason (its "
                             "lead partner's system)", "POST /projects/{project_id}/progress/withdrawals of the "
                             "projects API"),
    CORRECT_REPORT: Command(CORRECT_REPORT, "projects", "Supersede a mistaken progress report by a correction, with "
                            "a reason (its lead partner's system)", "POST /projects/{project_id}/progress/"
                            "corrections of the projects API"),
    ACHIEVE_MILESTONE: Command(ACHIEVE_MILESTONE, "projects", "Record a project's milestone as achieved (its lead "
                               "partner's system)", "POST /projects/{project_id}/milestones/{milestone_id}/achieved of "
                               "the projects API"),
    RECORD_RISK: Command(RECORD_RISK, "projects", "Record or re-assess a project's risk (its lead partner's system)",
                         "POST /projects/{project_id}/risks of the projects API"),
    COMMIT_RESOURCES: Command(COMMIT_RESOURCES, "projects", "Commit the organisation's own resources (money, staff "
                              "days) to a project", "POST /projects/{project_id}/resources of the projects API"),
}


class RecordRef(BaseModel):
    type: Literal["project"] = Field(description="What kind of record the command created or changed.")
    id: UUID
    version: int = Field(ge=1, description="The record's version after the command (send it as expected_version "
                                           "with the next command on it).")


class CommandAccepted(BaseModel):
    """A command was applied: the record it created or changed, at its resulting version."""

    command_id: str = Field(description="The command's CloudEvent id.")
    command_type: str
    status: Literal["accepted"]
    record: RecordRef


class Problem(BaseModel):
    """The problem+json body (RFC 9457) REST gives for the same command; ``errors`` lists invalid fields."""

    model_config = {"extra": "allow"}
    type: str
    title: str
    status: int
    detail: str | None = None


class CommandRefused(BaseModel):
    """A command was refused and changed nothing: why, in REST's words. A record that was no command at all (not a
    CloudEvent of a known command) is refused as ``malformed-command`` and also dead-lettered."""

    command_id: str | None = Field(description="The command's CloudEvent id (none when the record had none).")
    command_type: str | None
    status: Literal["refused"]
    problem: Problem
    origin: str | None = Field(None, description="Where the record was read (topic:partition:offset), for a record "
                                                 "without an id.")


def outcome_id(organisation: str, command_id: str) -> str:
    """The answer's own CloudEvent id: the same for every copy of the answer to one command."""
    return str(uuid5(_OUTCOME_IDS, f"{organisation}\n{command_id}"))


def outcome(organisation: str, source: str, data: CommandAccepted | CommandRefused) -> dict[str, Any]:
    """The answer to one command, as a CloudEvent (a dict, stored as it is published so a repeat is the same)."""
    type_name = ACCEPTED if isinstance(data, CommandAccepted) else REFUSED
    key = data.command_id if data.command_id is not None else (getattr(data, "origin", None) or "")
    return {
        "specversion": SPEC_VERSION, "id": outcome_id(organisation, key), "source": source, "type": type_name,
        "subject": key, "time": datetime.now(UTC).isoformat(), "datacontenttype": "application/json",
        "dataschema": SCHEMA_BASE_URI + type_name, "correlationid": key,
        "data": data.model_dump(mode="json", exclude_none=True),
    }


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


# -- published schemas ----------------------------------------------------------------------------------------------


@cache
def schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each command's data and of both answers' data, by CloudEvent type."""
    found: dict[str, dict[str, Any]] = {}
    for command in COMMANDS.values():
        found[command.type_name] = _schema(command.type_name, command.model(), f"{command.summary}. Sent on "
                                      f"partner.<organisation>.commands; the same command as {command.rest}.")
    found[ACCEPTED] = _schema(ACCEPTED, CommandAccepted, "A partner's command applied (on partner.<organisation>."
                                                         "outcomes).")
    found[REFUSED] = _schema(REFUSED, CommandRefused, "A partner's command refused (on partner.<organisation>."
                                                      "outcomes).")
    return found


def _schema(type_name: str, model: type[BaseModel], description: str) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_BASE_URI + type_name,
            **schema, "description": description}


# -- AsyncAPI -------------------------------------------------------------------------------------------------------


def asyncapi_parts(binding_version: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The inbound and outcomes channels (one pair per organisation: an address parameter), the two operations
    (projects receives commands and replies on the outcomes channel) and their messages, for the AsyncAPI document.
    Message data refer to ``./commands/<type>.schema.json``."""
    parameters = {"organisation": {"description": "The partner organisation's id, as the partner clients file names "
                                                  "it (worcester-college)."}}
    messages: dict[str, Any] = {}
    for type_name, schema in schemas().items():
        is_command = type_name in COMMANDS
        messages[type_name] = {
            "name": type_name,
            "title": schema.get("title", type_name),
            "summary": schema["description"],
            "contentType": CONTENT_TYPE,
            "correlationId": {"location": "$message.payload#/id" if is_command else "$message.payload#/correlationid",
                              "description": "The command's CloudEvent id: its answer carries it as correlationid."},
            "headers": {"type": "object", "properties": {"content-type": {"const": CONTENT_TYPE}}},
            "bindings": {"kafka": {"key": {"type": "string", "description": (
                "The id of the record the command changes (a project id): one record's commands are consumed in the "
                "order sent." if is_command else "The command's CloudEvent id.")}, "bindingVersion": binding_version}},
            "payload": {"allOf": [
                {"$ref": "#/components/schemas/Command" if is_command else "#/components/schemas/Outcome"},
                {"type": "object", "properties": {"type": {"const": type_name},
                                                  "data": {"$ref": f"./commands/{type_name}.schema.json"}}},
            ]},
        }
    commands_channel, outcomes_channel = commands_topic("{organisation}"), outcomes_topic("{organisation}")
    channels = {
        commands_channel: {
            "address": commands_channel, "title": "A partner organisation's commands",
            "description": "Commands the organisation's system sends (write-only for its client's Kafka user, the one "
                           "client the partner clients file grants commands). Each is applied as that client's REST "
                           "call would be, and answered on partner.{organisation}.outcomes. Who sends is the topic's: "
                           "nothing in a record names who acts. Kept 30 days.",
            "parameters": parameters,
            "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in COMMANDS},
            "bindings": {"kafka": {"partitions": 3, "bindingVersion": binding_version}},
        },
        outcomes_channel: {
            "address": outcomes_channel, "title": "The answers to a partner organisation's commands",
            "description": "One answer per command, correlated by its id: accepted (the record and its version) or "
                           "refused (REST's problem body). An answer may arrive twice, the same bytes under the same "
                           "id; a command sent again with an id already answered gets that answer again. Read with "
                           "a consumer group partner.<client id>.*. Kept 30 days.",
            "parameters": parameters,
            "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in (ACCEPTED, REFUSED)},
            "bindings": {"kafka": {"partitions": 3, "bindingVersion": binding_version}},
        },
    }
    operations = {
        "partnerCommands": {
            "action": "receive",
            "title": "Projects applies a partner organisation's commands",
            "channel": {"$ref": f"#/channels/{commands_channel}"},
            "messages": [{"$ref": f"#/channels/{commands_channel}/messages/{name}"} for name in COMMANDS],
            "reply": {"channel": {"$ref": f"#/channels/{outcomes_channel}"},
                      "messages": [{"$ref": f"#/channels/{outcomes_channel}/messages/{name}"}
                                   for name in (ACCEPTED, REFUSED)]},
        },
    }
    return channels, operations, messages


def envelope_schemas() -> dict[str, dict[str, Any]]:
    """The CloudEvent around a command and around its answer (AsyncAPI components)."""
    return {
        "Command": {
            "type": "object",
            "description": "A partner's command: a CloudEvent 1.0 in structured JSON mode. `id` is the partner's, "
                           "unique per command (sent again, the command is answered as the first time and applied "
                           "once); nothing in it says who sends (the topic does).",
            "required": ["specversion", "id", "source", "type", "data"],
            "properties": {
                "specversion": {"const": SPEC_VERSION},
                "id": {"type": "string", "minLength": 1, "maxLength": 200},
                "source": {"type": "string", "description": "The partner's system, e.g. /partners/college-mis."},
                "type": {"type": "string", "enum": sorted(COMMANDS)},
                "time": {"type": "string", "format": "date-time"},
                "datacontenttype": {"const": "application/json"},
                "dataschema": {"type": "string", "format": "uri"},
                "data": {"type": "object"},
            },
        },
        "Outcome": {
            "type": "object",
            "description": "The answer to one command, a CloudEvent 1.0 in structured JSON mode; `correlationid` and "
                           "`subject` are the command's id.",
            "required": ["specversion", "id", "source", "type", "subject", "time", "correlationid", "data"],
            "properties": {
                "specversion": {"const": SPEC_VERSION},
                "id": {"type": "string", "format": "uuid", "description": "The same for every copy of one answer."},
                "source": {"type": "string", "description": "The answering service, e.g. /services/projects."},
                "type": {"type": "string", "enum": [ACCEPTED, REFUSED]},
                "subject": {"type": "string"},
                "time": {"type": "string", "format": "date-time"},
                "datacontenttype": {"const": "application/json"},
                "dataschema": {"type": "string", "format": "uri"},
                "correlationid": {"type": "string"},
                "data": {"type": "object"},
            },
        },
    }
