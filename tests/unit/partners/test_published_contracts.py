"""The committed contracts under contracts/ are exactly what the code generates (CI fails when one is stale)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from services.partners.contracts import render

COMMITTED = Path(__file__).resolve().parents[3] / "contracts"


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return render()


def test_every_committed_contract_is_up_to_date(generated: dict[str, str]) -> None:
    committed = {str(p.relative_to(COMMITTED)): p.read_text() for p in COMMITTED.rglob("*")
                 if p.is_file() and p.suffix in {".json", ".yaml", ".graphql"}}
    stale = sorted(name for name in generated.keys() & committed.keys() if generated[name] != committed[name])
    missing = sorted(generated.keys() - committed.keys())
    extra = sorted(committed.keys() - generated.keys())
    problems = [f"stale: contracts/{n}" for n in stale] + [f"not committed: contracts/{n}" for n in missing] + \
               [f"no longer generated: contracts/{n}" for n in extra]
    assert not problems, ("The published contracts differ from the code; run `make contracts` and commit "
                          "contracts/:\n  " + "\n  ".join(problems))


def test_every_event_schema_is_a_valid_json_schema(generated: dict[str, str]) -> None:
    for name, content in generated.items():
        if name.startswith(("events/", "commands/")):
            jsonschema.Draft202012Validator.check_schema(json.loads(content))


def test_the_asyncapi_document_names_every_topic_key_and_message(generated: dict[str, str]) -> None:
    document = yaml.safe_load(generated["asyncapi.yaml"])
    assert document["asyncapi"].startswith("3.")
    assert {"priorities.events", "tasking.events", "projects.events"} <= set(document["channels"])
    messages = document["components"]["messages"]
    events = {n.removeprefix("events/").removesuffix(".schema.json") for n in generated if n.startswith("events/")}
    commands = {n.removeprefix("commands/").removesuffix(".schema.json") for n in generated
                if n.startswith("commands/")}
    assert commands == {"projects.ReportProgress.v1", "projects.CorrectReport.v1", "projects.WithdrawReport.v1",
                        "projects.AchieveMilestone.v1", "projects.RecordRisk.v1", "projects.CommitResources.v1",
                        "partner.CommandAccepted.v1", "partner.CommandRefused.v1"}
    assert set(messages) == events | commands
    for topic, channel in document["channels"].items():
        assert channel["address"] == topic
        inbound = topic.startswith("partner.")  # partner.{organisation}.commands and .outcomes
        assert inbound == ("parameters" in channel) and (not inbound or "{organisation}" in topic)
        for name, ref in channel["messages"].items():
            assert ref["$ref"] == f"#/components/messages/{name}"
            message = messages[name]
            if not inbound:
                assert message["bindings"]["kafka"]["key"]["format"] == "uuid"
            data_ref = message["payload"]["allOf"][1]["properties"]["data"]["$ref"]
            assert data_ref == f"./{'commands' if inbound else 'events'}/{name}.schema.json"
    reply = document["operations"]["partnerCommands"]["reply"]
    assert reply["channel"]["$ref"] == "#/channels/partner.{organisation}.outcomes"
    for operation in document["operations"].values():
        channel = operation["channel"]["$ref"].removeprefix("#/channels/")
        for ref in operation["messages"]:
            assert ref["$ref"].startswith(f"#/channels/{channel}/messages/")


def test_each_service_has_its_openapi_document_and_the_gateway_its_sdl(generated: dict[str, str]) -> None:
    for service in ("priorities", "tasking", "projects", "reporting"):
        document = json.loads(generated[f"openapi/{service}.json"])
        assert document["openapi"].startswith("3.") and document["paths"]
    assert "type Query" in generated["schema.graphql"]
