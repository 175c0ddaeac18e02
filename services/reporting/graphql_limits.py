"""What keeps one GraphQL query from exhausting the gateway: a depth limit and a cost limit checked before anything
runs, and one place that gives every error a machine-readable ``extensions.code``.

Cost is the number of objects a query may resolve in the worst case: each object field counts 1, multiplied by the
size of every list above it: a connection's ``first`` (given by a variable, it counts as ``MAX_PAGE``; absent, as
``DEFAULT_PAGE``); an unpaged list counts ``LIST_ESTIMATE``. Scalars are free; introspection is not counted.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.validation import ValidationContext, ValidationRule

from services.reporting.graphql_common import DEFAULT_PAGE, MAX_PAGE
from shared.errors import DomainError

log = logging.getLogger(__name__)

MAX_DEPTH = 10
MAX_COST = 50_000  # the worked example's three-level objectives tree with targets costs ~31,000
LIST_ESTIMATE = 10


def _is_list(type_: GraphQLOutputType) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


class QueryLimits(ValidationRule):
    """Refuses an operation nested deeper than ``MAX_DEPTH`` or costing more than ``MAX_COST`` (see module doc)."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self._fragments = {d.name.value: d for d in context.document.definitions
                           if isinstance(d, FragmentDefinitionNode)}

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        schema = self.context.schema
        root = {OperationType.QUERY: schema.query_type, OperationType.MUTATION: schema.mutation_type,
                OperationType.SUBSCRIPTION: schema.subscription_type}.get(node.operation)
        if root is None:
            return
        name = node.name.value if node.name else "the operation"
        depth, cost = self._measure(node.selection_set, root, 1, frozenset())
        if depth > MAX_DEPTH:
            self.report_error(GraphQLError(
                f"{name} is nested {depth} levels deep; at most {MAX_DEPTH} are allowed. Ask for less at once.",
                node, extensions={"code": "QUERY_TOO_DEEP", "depth": depth, "maxDepth": MAX_DEPTH}))
        elif cost > MAX_COST:
            self.report_error(GraphQLError(
                f"{name} could resolve up to {cost} objects; at most {MAX_COST} are allowed. Page with `first` "
                "and `after`, or ask for fewer nested lists.",
                node, extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "maxCost": MAX_COST}))

    def _measure(self, selections: SelectionSetNode | None, parent: GraphQLObjectType, depth: int,
                 seen: frozenset[str], page: int | None = None) -> tuple[int, int]:
        """(deepest level reached, cost) of a selection set on objects of type ``parent``; ``page`` is the size
        of the lists of a connection (its ``first``)."""
        if selections is None:
            return depth - 1, 0
        deepest, total = depth, 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue
                field = parent.fields.get(selection.name.value)
                if field is None:
                    continue  # the schema's own validation reports unknown fields
                named = get_named_type(field.type)
                if not isinstance(named, GraphQLObjectType):
                    continue  # scalars and enums are free
                first = self._first(selection)
                size = first if first is not None else page if page is not None else LIST_ESTIMATE
                inner = (first if first is not None else DEFAULT_PAGE) if "edges" in named.fields else None
                below, cost = self._measure(selection.selection_set, named, depth + 1, seen, inner)
                deepest = max(deepest, below)
                total += size * (1 + cost) if _is_list(field.type) else 1 + cost
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    found = self.context.schema.get_type(selection.type_condition.name.value)
                    target = found if isinstance(found, GraphQLObjectType) else parent
                below, cost = self._measure(selection.selection_set, target, depth, seen, page)
                deepest, total = max(deepest, below), total + cost
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self._fragments.get(name)
                if fragment is None or name in seen:
                    continue  # unknown or cyclic fragments are reported by the schema's own validation
                found = self.context.schema.get_type(fragment.type_condition.name.value)
                target = found if isinstance(found, GraphQLObjectType) else parent
                below, cost = self._measure(fragment.selection_set, target, depth, seen | {name}, page)
                deepest, total = max(deepest, below), total + cost
        return deepest, total

    @staticmethod
    def _first(node: FieldNode) -> int | None:
        """The field's ``first`` argument (a variable counts as the largest page it may ask for)."""
        for argument in node.arguments or ():
            if argument.name.value == "first":
                if isinstance(argument.value, IntValueNode):
                    return max(int(argument.value.value), 0)
                if isinstance(argument.value, VariableNode):
                    return MAX_PAGE
        return None


_INPUT_MARKERS = ("got invalid value", "Expected value of type", "cannot represent", "Int cannot", "Invalid isoformat",
                  "Value cannot represent", "Expected type")

_STATUS_CODES = {400: "BAD_USER_INPUT", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND",
                 409: "CONFLICT", 422: "BAD_USER_INPUT", 503: "SERVICE_UNAVAILABLE"}


def add_codes(errors: list[GraphQLError]) -> None:
    """Give every error an ``extensions.code``; hide the text of unexpected failures behind an incident id."""
    for error in errors:
        if error.extensions and "code" in error.extensions:
            continue
        original = error.original_error
        if isinstance(original, DomainError):
            code = _STATUS_CODES.get(original.status, "CONFLICT")
        elif original is not None and not isinstance(original, GraphQLError):
            incident = str(uuid.uuid4())
            log.error("unexpected error in a GraphQL resolver", exc_info=original,
                      extra={"incident": incident, "path": error.path})
            error.message = f"Internal error (incident {incident}); it was logged."
            error.extensions = {"code": "INTERNAL_SERVER_ERROR", "incident": incident}
            continue
        elif error.message.startswith("Syntax Error"):
            code = "GRAPHQL_PARSE_FAILED"
        elif any(marker in error.message for marker in _INPUT_MARKERS):
            code = "BAD_USER_INPUT"
        else:
            code = "GRAPHQL_VALIDATION_FAILED"
        error.extensions = {**(error.extensions or {}), "code": code}
