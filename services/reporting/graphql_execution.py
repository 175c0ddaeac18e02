"""GraphQL execution with a fast path for objects whose selected fields are all plain leaves.

A roll-up answer is mostly leaves (a project's title, contribution, RAG: ~2,900 of its ~3,100 fields). The general
executor treats each one as a field in its own right: a path, a resolve-info record, argument coercion, then value
completion through the non-null and list checks. For an object whose every selected field is a plain attribute
(strawberry's "basic" field: no resolver, no arguments, no extensions) of a scalar or enum type, or
``__typename``, none of that can change the answer: the value is the attribute, coerced by its type.

``LeafFastExecutor`` completes such objects in one loop, and a list of them (a share's projects) in one loop over
the items, without the completion chain each item otherwise goes through. Anything else, and any leaf that would
be an error (a null in a non-null field, a value its type cannot represent, an exception), goes to the general
executor for that object or list, which reports it exactly as it would have; a plain attribute has no side
effects, so reading it twice is harmless. ``tests/unit/reporting/test_graphql_execution.py`` checks both
executors give the same answers.

A subscription's selection is executed once per update for all the subscribers that would get the same answer
(``SharedEvents``): at 50 subscribers, executing it for each was most of the gateway's cost per delivery.
"""

from __future__ import annotations

import json
import operator
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    VariableNode,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# (response name, read the value from the source or None for ``__typename``, coerce it, may it be null)
_Leaf = tuple[str, Callable[..., Any] | None, Callable[[Any], Any], bool]


def _coercer(type_: Any) -> Callable[[Any], Any]:
    coerce: Callable[[Any], Any] | None = getattr(type_, "coerce_output_value", None)  # graphql-core 3.3
    return coerce if coerce is not None else type_.serialize  # graphql-core 3.2


def _plain_leaf(field: GraphQLField | None, node: Any) -> tuple[Callable[..., Any], Callable[[Any], Any], bool] | None:
    """How to read a field that is a plain attribute of a leaf type, or None when it is anything else."""
    if field is None or field.args or node.arguments or not getattr(field.resolve, "_is_default", False):
        return None
    type_, nullable = field.type, True
    if isinstance(type_, GraphQLNonNull):
        type_, nullable = type_.of_type, False
    if not is_leaf_type(type_):
        return None
    return _reader(field), _coercer(type_), nullable


def _reader(field: GraphQLField) -> Callable[[Any], Any]:
    """What strawberry's basic-field resolver does (the attribute by its Python name, through the schema's default
    resolver), without its three calls per value when that resolver is plain ``getattr``."""
    definition = (field.extensions or {}).get("strawberry-definition")
    if definition is not None and definition.base_resolver is None and definition.default_resolver is getattr:
        return operator.attrgetter(definition.python_name)
    assert field.resolve is not None
    return field.resolve


def _variables_under(node: Node, fragments: Mapping[str, Any], seen: frozenset[str] = frozenset()) -> Iterator[str]:
    """The names of the variables used anywhere in ``node`` (fragments followed once each)."""
    if isinstance(node, VariableNode):
        yield node.name.value
        return
    if isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
        fragment = fragments.get(node.name.value)
        if fragment is not None:
            yield from _variables_under(fragment.selection_set, fragments, seen | {node.name.value})
    for key in node.keys:
        value = getattr(node, key, None)
        for child in value if isinstance(value, tuple | list) else (value,):
            if isinstance(child, Node):
                yield from _variables_under(child, fragments, seen)


def _answer_variables(operation: OperationDefinitionNode, fragments: Mapping[str, Any]) -> frozenset[str]:
    """The variables an event's answer can depend on: those used under the subscribed field, or in a directive on
    it; not its own arguments (``after``, ``kinds``), which choose the events, not what each answer holds."""
    names: set[str] = set()
    for selection in operation.selection_set.selections:
        for directive in selection.directives or ():
            names.update(_variables_under(directive, fragments))
        if isinstance(selection, FieldNode):
            if selection.selection_set is not None:
                names.update(_variables_under(selection.selection_set, fragments))
        elif isinstance(selection, InlineFragmentNode | FragmentSpreadNode | SelectionSetNode):
            names.update(_variables_under(selection, fragments))
    return frozenset(names)


class SharedEvents:
    """Answers to subscription events, shared among the subscribers that would compute the same one.

    An event's answer depends on the event, the document, the variables used under the subscribed field and what
    the caller may see (``graphql_cache.visibility``: the same rule the response cache keys by); subscribers alike
    in all four get the first one's answer (the same object, so the router encodes it once too). Kept for the
    last ``LIMIT`` answers: the subscribers of one update all take it within one pass of the broadcaster."""

    LIMIT = 2_048

    def __init__(self) -> None:
        self._answers: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> Any:
        return self._answers.get(key)

    def put(self, key: tuple[Any, ...], result: Any) -> None:
        self._answers[key] = result
        while len(self._answers) > self.LIMIT:
            self._answers.popitem(last=False)


SHARED_EVENTS = SharedEvents()


class LeafFastExecutor(StrawberryGraphQLCoreExecutionContext):
    """The schema's executor (see the module doc): objects of plain leaves are completed in one loop, and a
    subscription event's answer is shared with the subscribers that would get the same (``SharedEvents``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The executor memoises each object type's collected sub-fields, so every item of a list shares one
        # grouped field set: one plan per grouped field set, kept with it (its id alone could be reused).
        self._plans: dict[int, tuple[object, list[_Leaf] | None]] = {}
        self._event_key: tuple[Any, ...] | None = None

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        if isinstance(executor, LeafFastExecutor):
            executor._event_key = self._shared_key(payload)
        return executor

    def _shared_key(self, payload: Any) -> tuple[Any, ...] | None:
        """The key of this subscriber's answer to ``payload``, or None when it is not shared."""
        event = getattr(payload, "shared_key", None)
        location = self.operation.loc
        if event is None or location is None:
            return None
        if not hasattr(self, "_answer_key"):
            from services.reporting.graphql_cache import visibility

            principal = (self.context_value or {}).get("principal") if isinstance(self.context_value, dict) else None
            if principal is None:
                self._answer_key: tuple[Any, ...] | None = None
            else:
                used = _answer_variables(self.operation, self.fragments)
                given = self.variable_values
                coerced: Mapping[str, Any] = getattr(given, "coerced", None) or {}  # VariableValues (graphql-core 3.3)
                variables = {name: value for name, value in coerced.items() if name in used}
                self._answer_key = (location.source.body, self.operation.name.value if self.operation.name else None,
                                    json.dumps(variables, sort_keys=True, default=str),
                                    json.dumps(visibility(principal), sort_keys=True, default=str))
        return None if self._answer_key is None else (*self._answer_key, event)

    def execute_operation(self, serially: bool | None = None) -> Any:
        key = self._event_key
        if key is None:
            return super().execute_operation(serially)
        found = SHARED_EVENTS.get(key)
        if found is not None:
            return found
        result = super().execute_operation(serially)
        if self.is_awaitable(result):
            return self._keep(key, result)
        if not getattr(result, "errors", None):
            SHARED_EVENTS.put(key, result)
        return result

    async def _keep(self, key: tuple[Any, ...], pending: Any) -> Any:
        result = await pending
        if not result.errors:
            SHARED_EVENTS.put(key, result)
        return result

    def _plan(self, parent_type: GraphQLObjectType,
              grouped_field_set: Mapping[str, Sequence[Any]]) -> list[_Leaf] | None:
        known = self._plans.get(id(grouped_field_set))
        if known is not None and known[0] is grouped_field_set:
            return known[1]
        plan: list[_Leaf] | None = []
        middleware = getattr(self, "middleware_manager", None)
        if middleware is not None and middleware.middlewares:
            plan = None  # a middleware must see every field
        for response_name, details in grouped_field_set.items():
            if plan is None:
                break
            node = getattr(details[0], "node", details[0])  # FieldDetails (3.3) or FieldNode (3.2)
            name = node.name.value
            if name == "__typename" and not node.arguments:
                plan.append((response_name, None, str, False))
                continue
            leaf = _plain_leaf(parent_type.fields.get(name), node)
            if leaf is None:
                plan = None
            else:
                plan.append((response_name, *leaf))
        self._plans[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any, path: Any,
                       grouped_field_set: Any, *rest: Any) -> Any:
        plan = self._plan(parent_type, grouped_field_set) if grouped_field_set else None
        if plan is not None:
            results = _complete_leaves(plan, parent_type, source_value)
            if results is not None:
                return results
        return super().execute_fields(parent_type, source_value, path, grouped_field_set, *rest)

    def complete_list_value(self, return_type: GraphQLList[Any], field_details_list: Any, info: Any, path: Any,
                            result: Any, *rest: Any) -> Any:
        """A list of objects of plain leaves (a share's projects): each item completed by the same loop, without
        the per-item completion chain; any other list, or any item that needs it, goes the general way."""
        completed = self._complete_leaf_objects(return_type, field_details_list, path, result)
        if completed is not None:
            return completed
        return super().complete_list_value(return_type, field_details_list, info, path, result, *rest)

    def _complete_leaf_objects(self, return_type: GraphQLList[Any], field_details_list: Any, path: Any,
                               result: Any) -> list[Any] | None:
        item_type, nullable = return_type.of_type, True
        if isinstance(item_type, GraphQLNonNull):
            item_type, nullable = item_type.of_type, False
        if not isinstance(item_type, GraphQLObjectType) or item_type.is_type_of is not None:
            return None
        if not isinstance(result, list | tuple):
            return None
        streamed = getattr(self, "get_stream_usage", None)
        if streamed is not None and streamed(field_details_list, path):
            return None
        collected = self.collect_subfields(item_type, field_details_list)
        grouped_field_set, deferred = collected[0], collected[1]  # (fields, @defer usages, ...) in graphql-core 3.3
        if deferred or not grouped_field_set:
            return None
        plan = self._plan(item_type, grouped_field_set)
        if plan is None:
            return None
        completed: list[Any] = []
        for item in result:
            if item is None:
                if not nullable:
                    return None
                completed.append(None)
                continue
            values = _complete_leaves(plan, item_type, item)
            if values is None:
                return None
            completed.append(values)
        return completed


def _complete_leaves(plan: list[_Leaf], parent_type: GraphQLObjectType, source: Any) -> dict[str, Any] | None:
    """The object's answer, or None when some field needs the general executor (to report an error)."""
    results: dict[str, Any] = {}
    try:
        for response_name, read, coerce, nullable in plan:
            if read is None:
                results[response_name] = parent_type.name
                continue
            value = read(source)
            if value is None or value is Undefined:
                if not nullable:
                    return None
                results[response_name] = None
                continue
            if isinstance(value, Exception):
                return None
            coerced = coerce(value)
            if coerced is None or coerced is Undefined:
                return None
            results[response_name] = coerced
    except Exception:  # the general executor reports it, located at its field
        return None
    return results
