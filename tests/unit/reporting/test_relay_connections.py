"""The gateway's connections against the rules of the Relay cursor connections specification, checked over the
whole schema: every type whose name ends in Connection has ``edges`` (a list of edge types) and ``pageInfo:
PageInfo!``; every edge type ``node`` (not a list) and ``cursor`` (a non-null scalar); PageInfo has non-null
``hasPreviousPage``/``hasNextPage`` and ``startCursor``/``endCursor`` (nullable: an empty page has none); every field
returning a connection pages both ways (``first: Int``, ``after: String``, ``last: Int``, ``before: String``); and
``Node`` is the interface with ``id: ID!`` that ``node(id:)`` and ``nodes(ids:)`` return."""

from __future__ import annotations

from graphql import (
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
    get_nullable_type,
)

from services.reporting.graphql import schema

GRAPH = schema._schema


def _connections() -> dict[str, GraphQLObjectType]:
    return {name: type_ for name, type_ in GRAPH.type_map.items()
            if name.endswith("Connection") and isinstance(type_, GraphQLObjectType)}


def test_every_connection_type_has_edges_and_page_info() -> None:
    connections = _connections()
    assert len(connections) >= 5, sorted(connections)
    for name, connection in connections.items():
        edges = connection.fields["edges"].type
        assert isinstance(get_nullable_type(edges), GraphQLList), name
        edge = get_named_type(edges)
        assert isinstance(edge, GraphQLObjectType) and edge.name.endswith("Edge"), name
        node = edge.fields["node"].type
        assert not isinstance(get_nullable_type(node), GraphQLList), edge.name
        cursor = edge.fields["cursor"].type
        assert isinstance(cursor, GraphQLNonNull) and isinstance(cursor.of_type, GraphQLScalarType), edge.name
        page_info = connection.fields["pageInfo"].type
        assert isinstance(page_info, GraphQLNonNull) and get_named_type(page_info).name == "PageInfo", name


def test_page_info_has_the_fields_the_specification_requires() -> None:
    page_info = GRAPH.type_map["PageInfo"]
    assert isinstance(page_info, GraphQLObjectType)
    for name in ("hasPreviousPage", "hasNextPage"):
        type_ = page_info.fields[name].type
        assert isinstance(type_, GraphQLNonNull) and get_named_type(type_).name == "Boolean", name
    for name in ("startCursor", "endCursor"):
        assert get_named_type(page_info.fields[name].type).name == "String", name


def test_every_field_returning_a_connection_pages_forward_and_backward() -> None:
    connections = set(_connections())
    returning = [(type_.name, field_name, field) for type_ in GRAPH.type_map.values()
                 if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__")
                 for field_name, field in type_.fields.items() if get_named_type(field.type).name in connections]
    assert returning
    for owner, name, field in returning:
        assert get_named_type(field.args["first"].type).name == "Int", (owner, name)
        assert get_named_type(field.args["after"].type).name == "String", (owner, name)
        assert get_named_type(field.args["last"].type).name == "Int", (owner, name)
        assert get_named_type(field.args["before"].type).name == "String", (owner, name)


def test_node_is_the_interface_node_and_nodes_return() -> None:
    node = GRAPH.type_map["Node"]
    assert isinstance(node, GraphQLInterfaceType)
    assert str(node.fields["id"].type) == "ID!"
    query = GRAPH.query_type
    assert query is not None
    assert str(query.fields["node"].type) == "Node" and str(query.fields["node"].args["id"].type) == "ID!"
    assert str(query.fields["nodes"].type) == "[Node]!" and str(query.fields["nodes"].args["ids"].type) == "[ID!]!"
    assert node in GRAPH.get_implementations(node).objects[0].interfaces
