"""What the ``public`` role may select in GraphQL: exactly what open data publishes (``services.reporting.opendata``).

The public web pages (``web``) read the same schema as everyone, as ``shared.auth.PUBLIC``. Which queries it may
run is ``shared.auth.PUBLIC_QUERIES``; this says which fields of their answers it may select, type by type. A field
not listed is refused with FORBIDDEN before anything is resolved: a person (``Actor.userId``), a figure of a period
not yet released (``Tasking.achieved`` is the live sum), a narrative or evidence. New fields stay private until
someone decides to publish them here. ``tests/unit/reporting/test_public_role.py`` walks the schema as the public.
"""

from __future__ import annotations

from collections.abc import Iterable

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
)

_DECIDED = {"decision", "validFrom", "validTo", "version", "status", "statusReason", "changedBy"}

PUBLIC_FIELDS: dict[str, frozenset[str]] = {name: frozenset(fields) for name, fields in {
    "Query": {"partnership", "districts", "themeGroups", "objectives", "objectiveTree", "targets", "taskings",
              "decisions", "memberships", "meetings", "performanceReleases", "releasedPerformance",
              "releasedTargetPerformance", "node", "nodes"},
    # node(id:) answers the public only objects of the types above (``graphql_node``), and their fields as listed.
    "Node": {"id"},
    # A retired district by its last name and date (``formerDistricts``): the public pages name its old records.
    "Partnership": {"id", "partnershipId", "name", "maxAgreedPrioritiesPerDistrict", "units", "districts",
                    "formerDistricts", "themeGroups", "bodies", "organisations"},
    "District": {"id", "districtId", "name", "partnership", "quorum", "retiredOn"},
    "Body": {"id", "bodyId", "kind", "name", "quorum"},
    "Organisation": {"id", "organisationId", "name", "kind", "countyWide"},
    # Who acted is published as their organisation and role, never the person (open data's ``organisation``).
    "Actor": {"organisation", "role"},
    "Decision": {"body", "decidedOn", "reason", "meetingId", "reference", "meetingTitle", "meetingHeldOn",
                 "bodyName"},
    "Objective": {"id", "objectiveId", "title", "level", "strategy", "parentId", "children", "targets", *_DECIDED},
    "Target": {"id", "targetId", "objectiveId", "metric", "unit", "baselineValue", "baselineDate", "targetValue",
               "deadline", "dataSource", "ownerOrganisation", *_DECIDED},
    # Not ``achieved``: the live sum of every report, released or not.
    "Tasking": {"id", "taskingId", "targetId", "themeGroup", "district", "share", "unit", "deadline", "leadPartner",
                "commissioningLevel", "retaskedFrom", *_DECIDED},
    "Membership": {"id", "body", "bodyKind", "organisation", "nominatedBy", "isMember", "reason", "changedBy",
                   "validFrom", "validTo"},
    "Meeting": {"id", "body", "heldOn", "present", "title", "recordedBy", "quorum", "quorumAsMinuted"},
    "DecisionTaken": {"id", "subject", "version", "eventType", "body", "decidedOn", "reason", "meetingId", "reference",
                      "recordedBy", "recordedAt", "meetingTitle", "meetingHeldOn", "bodyName"},
    "PerformanceRelease": {"id", "startsOn", "endsOn", "releasedAt", "body", "decidedOn", "reason", "reference"},
    "ReleasedFigure": {"periodStart", "periodEnd", "projectTitle", "district", "leadPartner", "reportedOn", "metric",
                       "unit", "actual", "targetValue", "targetDate", "rag", "correction", "numerator",
                       "denominator", "status", "stale",
                       "direction", "forecast", "forecastAt", "forecastMethod"},
    "ReleasedTargetFigure": {"periodStart", "periodEnd", "metric", "unit", "kind", "district", "goal", "deadline",
                             "actual", "expected", "rag", "shortfallPercent", "latestReportedOn", "status", "stale",
                             "direction", "forecast", "forecastAt", "forecastMethod"},
}.items()}


def refused_fields(parent: GraphQLObjectType | GraphQLInterfaceType, selection: SelectionSetNode | None,
                   fragments: dict[str, FragmentDefinitionNode], schema_types: dict[str, GraphQLNamedType],
                   seen: frozenset[str] = frozenset()) -> Iterable[str]:
    """Every ``Type.field`` the selection asks for that the public may not see (fragments followed once each). Under
    an interface (``node``'s ``Node``) its own fields are checked as the interface's, and a fragment's as its type's;
    a fragment on a type the public reads nothing of is refused as soon as it selects anything."""
    if selection is None:
        return
    for node in selection.selections:
        if isinstance(node, FieldNode):
            name = node.name.value
            if name.startswith("__"):
                continue
            if name not in PUBLIC_FIELDS.get(parent.name, frozenset()):
                yield f"{parent.name}.{name}"
                continue
            child = get_named_type(parent.fields[name].type) if name in parent.fields else None
            if isinstance(child, GraphQLObjectType | GraphQLInterfaceType):
                yield from refused_fields(child, node.selection_set, fragments, schema_types, seen)
        elif isinstance(node, InlineFragmentNode):
            condition = schema_types.get(node.type_condition.name.value) if node.type_condition else parent
            if isinstance(condition, GraphQLObjectType | GraphQLInterfaceType):
                yield from refused_fields(condition, node.selection_set, fragments, schema_types, seen)
        elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
            fragment = fragments.get(node.name.value)
            if fragment is not None:
                condition = schema_types.get(fragment.type_condition.name.value)
                if isinstance(condition, GraphQLObjectType | GraphQLInterfaceType):
                    yield from refused_fields(condition, fragment.selection_set, fragments, schema_types,
                                              seen | {node.name.value})
