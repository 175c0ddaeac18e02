"""Global ids (Relay's Node) over the whole schema, on a read model holding every kind of row (``varied``).

Every object type either is a ``Node`` or is listed in ``VALUES`` with why it has no identity of its own (a client
cache keeps it inside the object that holds it). Every object of every Node type the queries give has an id no
other object has, and ``nodes(ids:)`` gives each back: the same type, the same id. An object read at another
moment has another id, which answers that moment. What a caller's grants do not read (the public, a partner
client) is answered exactly as an id of nothing: null with NOT_FOUND."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLObjectType

from bench.reporting_history import publish
from services.reporting.graphql import schema
from services.reporting.graphql_node import NODE_TYPES, typed_id
from services.reporting.projections import read_model_ddl
from services.reporting.readmodel import ReportingReadModel
from shared.auth import PUBLIC, Grant, Principal, Role
from shared.transport.embedded import EmbeddedTransport
from tests.harness import settings_for
from tests.reporting_histories import project_live, varied

OFFICER = Principal("u-officer", "worcestershire-cc", frozenset({Grant(Role.PARTNERSHIP_OFFICER)}))

VALUES: dict[str, str] = {
    # Parts of another object, meaningful only inside it.
    "Actor": "who made a change, as the change records it",
    "Decision": "the decision an object or event carries, as it carries it",
    "DecidingBody": "a decision's body by name (the body itself is Body, under partnership)",
    "DecisionMeeting": "the meeting a decision names, as the decision names it (the meeting itself is Meeting)",
    "EvidenceFigure": "a figure inside one evidence submission",
    "Assignment": "one share of a retasking step, before or after",
    "RetaskingStep": "one step of a retasking chain",
    "ChangeStep": "one revision inside a Change",
    "InclusionProof": "an event's proof against the latest checkpoint: changes with every checkpoint",
    # Computed answers to a question (their inputs are the question's arguments), not objects that exist.
    "RetaskingChain": "the chain as computed from the tasking asked about",
    "Change": "an entity's change over the period asked about (its id is the entity's own id)",
    "ProgrammeSummary": "counts of a district's projects, computed per query",
    "StatusCount": "a count, computed per query",
    "DistrictWithoutPartnerKind": "a finding of a query for a kind of partner",
    "DistrictCommitment": "a partner's commitment as listed, its key being its organisation (an Organisation)",
    "OverdueMilestone": "a milestone as an overdue list shows it (the milestone is DeliveryMilestone)",
    "ProjectContribution": "a project's share in a roll-up, computed per query",
    "ShareRollup": "a tasking's roll-up, computed per query and date",
    "TargetRollup": "a target's roll-up, computed per query and date",
    "FigurePerformance": "a figure judged at the date asked",
    "Forecast": "an extrapolation at the date asked",
    "ReleasedFigure": "a row of the released open-data table",
    "ReleasedTargetFigure": "a row of the released open-data table of targets, judged at its period's end",
    "Verification": "the result of verifying the logs, computed when asked",
    "ServiceVerification": "one service's part of a Verification",
    "Update": "a live update: an announcement of a change, never refetched (its cursor resumes the feed)",
    "CommandResult": "a mutation's answer",
    "PageInfo": "a connection's page",
    "RagThresholds": "the partnership's thresholds, as in force on the day asked",
    "ProfilePoint": "a point of a target's or share's profile, inside it",
}

EVERYTHING = """{
  partnership { __typename id districts { __typename id } bodies { __typename id } organisations { __typename id }
                schemesOfDelegation { __typename id } }
  objectives { __typename id } targets { __typename id } taskings { __typename id }
  districtPriorities { __typename id } districtChapters { __typename id } evidence { __typename id }
  scsReviews { __typename id } memberships(includeFormer: true) { __typename id } meetings { __typename id }
  agreedActions { __typename id } decisions { __typename id } performanceReleases { __typename id }
  decisionLog(first: 500) { edges { node { __typename id aggregateId } } }
  deliveryProjects { __typename id projectId outcomes { __typename id } milestones { __typename id }
                     progress { __typename id } withdrawnReports { __typename id } interventions { __typename id } }
}"""


UNREACHED = {"PerformanceRelease": "a period counts as released only once its decision resolves to a recorded quorate "
                                   "meeting, which this history does not record"}


def run(model: ReportingReadModel, query: str, variables: dict[str, Any] | None = None,
        principal: Principal = OFFICER) -> Any:
    return asyncio.run(schema.execute(query, variable_values=variables,
                                      context_value={"model": model, "principal": principal}))


def objects(value: Any) -> Iterator[tuple[str, str]]:
    """Every (typename, id) in an answer."""
    if isinstance(value, dict):
        if "__typename" in value and "id" in value:
            yield value["__typename"], value["id"]
        for child in value.values():
            yield from objects(child)
    elif isinstance(value, list):
        for child in value:
            yield from objects(child)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReportingReadModel]:
    tmp: Path = tmp_path_factory.mktemp("global-ids")
    settings = settings_for(data_dir=tmp)
    transport = EmbeddedTransport(tmp / "log.sqlite3")
    publish(varied(), transport, settings.topic_prefix)
    live, _ = project_live(settings, transport, batch_size=200, timeout=0.1)
    yield ReportingReadModel(live, read_model_ddl())
    live.close()
    transport.close()


def test_every_object_type_is_a_node_or_a_value_with_a_reason() -> None:
    graph = schema._schema
    node = graph.type_map["Node"]
    types = {name: t for name, t in graph.type_map.items() if isinstance(t, GraphQLObjectType)
             and not name.startswith("__") and name not in ("Query", "Mutation", "Subscription")
             and not name.endswith(("Connection", "Edge"))}
    nodes = {name for name, t in types.items() if node in t.interfaces}
    assert sorted(set(types) - nodes - set(VALUES)) == [], "neither a Node nor a value with a reason"
    assert sorted(nodes & set(VALUES)) == []
    assert sorted(set(VALUES) - set(types)) == [], "listed but not in the schema"
    assert nodes == set(NODE_TYPES), "every Node type registers how node(id:) reads it"
    assert len(nodes) >= 24


def test_every_id_is_unique_and_comes_back_through_nodes(model: ReportingReadModel) -> None:
    answer = run(model, EVERYTHING)
    assert answer.errors is None, answer.errors
    project = answer.data["deliveryProjects"][0]["projectId"]
    history = run(model, "query($id: ID!) { history(aggregateId: $id) { __typename id } }", {"id": project})
    found = sorted(set(objects(answer.data)) | set(objects(history.data)))
    assert {name for name, _ in found} == set(NODE_TYPES) - set(UNREACHED), "the history reaches every Node type"
    ids = [i for _, i in found]
    assert len(ids) == len(set(ids)), "an id that two objects share"
    for start in range(0, len(found), 100):
        chunk = found[start:start + 100]
        back = run(model, "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
                   {"ids": [i for _, i in chunk]})
        assert back.errors is None, back.errors
        assert [(n["__typename"], n["id"]) for n in back.data["nodes"]] == chunk


def test_an_object_read_at_another_moment_has_an_id_that_answers_that_moment(model: ReportingReadModel) -> None:
    project = run(model, "{ deliveryProjects { projectId } }").data["deliveryProjects"][0]["projectId"]
    query = ("query($id: ID!, $on: Date) { deliveryProject(id: $id, inForceOn: $on) { __typename id projectId "
             "progress { id } outcomes { __typename id actual } } partnership(inForceOn: $on) { districts { id } } }")
    now = run(model, query, {"id": project, "on": None}).data
    then = run(model, query, {"id": project, "on": "2012-06-30"}).data
    assert now["deliveryProject"]["id"] == project and then["deliveryProject"]["id"] != project
    assert then["deliveryProject"]["projectId"] == project
    assert {d["id"] for d in now["partnership"]["districts"]}.isdisjoint(
        {d["id"] for d in then["partnership"]["districts"]})
    outcome = then["deliveryProject"]["outcomes"][0]
    assert outcome["id"] not in {o["id"] for o in now["deliveryProject"]["outcomes"]}
    back = run(model, 'query($id: ID!) { node(id: $id) { __typename id ... on DeliveryOutcome { actual } } }',
               {"id": outcome["id"]})
    assert back.errors is None and back.data["node"] == outcome
    again = run(model, 'query($id: ID!) { node(id: $id) { id ... on DeliveryProject { progress { id } } } }',
                {"id": then["deliveryProject"]["id"]}).data["node"]
    assert again == {"id": then["deliveryProject"]["id"], "progress": then["deliveryProject"]["progress"]}


def _not_found(answer: Any) -> list[str]:
    return [e.extensions.get("code") for e in answer.errors or []]


def test_what_the_caller_may_not_read_is_answered_as_an_id_of_nothing(model: ReportingReadModel) -> None:
    data = run(model, "{ districtPriorities { id } taskings { id } meetings { id } deliveryProjects { id } "
                      "partnership { districts { id } } }").data
    priority, tasking = data["districtPriorities"][0]["id"], data["taskings"][0]["id"]
    meeting, project = data["meetings"][0]["id"], data["deliveryProjects"][0]["id"]
    district = data["partnership"]["districts"][0]["id"]
    nowhere = typed_id("District", "atlantis")
    query = "query($id: ID!) { node(id: $id) { __typename id } }"
    # The public: open data's types, and nothing else, exactly as if it did not exist.
    for visible in (tasking, meeting, district):
        shown = run(model, query, {"id": visible}, PUBLIC)
        assert shown.errors is None and shown.data["node"]["id"] == visible
    hidden = run(model, query, {"id": priority}, PUBLIC)
    absent = run(model, query, {"id": nowhere}, PUBLIC)
    assert hidden.data == absent.data == {"node": None}
    assert _not_found(hidden) == _not_found(absent) == ["NOT_FOUND"]
    assert hidden.errors[0].message.replace(priority, "X") == absent.errors[0].message.replace(nowhere, "X")
    several = run(model, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [tasking, priority, nowhere]},
                  PUBLIC)
    assert several.data == {"nodes": [{"id": tasking}, None, None]}
    assert sorted((e.path, e.extensions["code"]) for e in several.errors) == [
        (["nodes", 1], "NOT_FOUND"), (["nodes", 2], "NOT_FOUND")]
    # Through node the public selects no more than open data publishes.
    for fragment in ("... on Tasking { achieved }", "... on DistrictPriority { title }",
                     "... on Node { ... on Tasking { achieved } }"):
        refused = run(model, "query($id: ID!) { node(id: $id) { id " + fragment + " } }", {"id": tasking}, PUBLIC)
        assert _not_found(refused) == ["FORBIDDEN"] and refused.data == {"node": None}, fragment
    # A partner client reads through node only what its granted queries read.
    partner = Principal("client:college-mis", "worcester-college", frozenset({Grant(Role.PARTNER_OFFICER)}),
                        client_id="college-mis", queries=frozenset({"node", "deliveryProjects"}))
    assert run(model, query, {"id": project}, partner).data["node"]["id"] == project
    refused = run(model, query, {"id": tasking}, partner)
    assert refused.data == {"node": None} and _not_found(refused) == ["NOT_FOUND"]
