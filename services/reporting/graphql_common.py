"""GraphQL parts every reporting module shares: actor, decision, the permission check, the read-model handle,
errors with codes, cursor connections and per-request dataloaders."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.dataloader import DataLoader
from strawberry.permission import BasePermission
from strawberry.types import Info

from services.reporting.listing import Listing, page_bounds, window
from services.reporting.readmodel import ReportingReadModel
from shared.readstore import ReadStore

K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")


class IsAuthenticated(BasePermission):
    message = "Authentication required: send a bearer token."
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.get("principal")
        if principal is not None and info.path.prev is None and not principal.may_query(info.field_name):
            # A partner system runs only the queries its client is granted (shared.auth.PartnerClient.queries).
            if principal.is_public:
                raise GatewayError(f"The public may not run the query {info.field_name}: it is not open data.",
                                   "FORBIDDEN")
            raise GatewayError(f"Your client is not granted the query {info.field_name}.", "FORBIDDEN")
        if principal is not None and principal.is_public and info.path.prev is None:
            _check_public_selection(info)
        return principal is not None


def _check_public_selection(info: Info) -> None:
    """The public selects only what open data publishes (``services.reporting.public``): checked at the root field,
    before anything resolves, so an unpublished field refuses the query rather than coming back empty."""
    from graphql import SelectionSetNode

    from services.reporting.public import refused_fields

    raw = info._raw_info
    # The root field itself as a selection of Query, so that its name is checked with everything under it.
    refused = sorted(set(refused_fields(raw.parent_type, SelectionSetNode(selections=tuple(raw.field_nodes)),
                                        raw.fragments, raw.schema.type_map)))
    if refused:
        raise GatewayError(f"Not open data, so not for the public: {', '.join(refused)}.", "FORBIDDEN",
                           fields=refused)


@strawberry.type(description="Who made a change: their role and organisation, and their name while they are not "
                             "erased. userId is the person's pseudonym (never the identity provider's subject).")
class Actor:
    user_id: str
    organisation: str
    role: str

    @strawberry.field(description="The person's name, while they are not erased (null: erased, or not named).")
    def name(self, info: Info) -> str | None:
        return read_model(info).people.name_of(self.user_id)


@strawberry.type(description="A body of the partnership by its name.")
class DecidingBody:
    id: strawberry.ID
    name: str


@strawberry.type(description="The meeting a decision was taken at, as its body's minute book records it.")
class DecisionMeeting:
    title: str
    held_on: date
    minute_reference: str | None = strawberry.field(description="The decision's reference in the minutes.")
    body: DecidingBody
    quorum: str = strawberry.field(default="attendance recorded", description=(
        "How the meeting's quorum is evidenced: 'quorum as minuted (<the meeting's minute reference>)' for a "
        "historic meeting whose attendance was never minuted, else 'attendance recorded'."))
    quorum_as_minuted: str | None = strawberry.field(default=None, description=(
        "The minute reference a historic meeting's quorum rests on, when its attendance was never minuted."))


@strawberry.type(description="Which body decided, when and why: at a meeting of that body, or under a scheme of "
                             "delegation.")
class Decision:
    body: str = strawberry.field(description="The deciding body's id (bodyName and meeting name it).")
    decided_on: date
    reason: str
    meeting_id: str | None = strawberry.field(description="The meeting's id (meeting gives its title and date).")
    reference: str | None
    raw: strawberry.Private[dict[str, Any]]

    @strawberry.field(description="The deciding body by its name.")
    def body_name(self, info: Info) -> str:
        return read_model(info).provenance.body_name(self.body)

    @strawberry.field(description="The meeting it was taken at, by title, date and minute reference; null under a "
                                  "scheme of delegation, or when the decision does not resolve to a recorded "
                                  "quorate meeting of its body.")
    def meeting(self, info: Info) -> DecisionMeeting | None:
        shown = read_model(info).provenance.meeting(self.raw)
        if shown is None:
            return None
        return DecisionMeeting(title=shown.title, held_on=shown.held_on, minute_reference=self.reference,
                               body=DecidingBody(id=strawberry.ID(shown.body), name=shown.body_name),
                               quorum=shown.quorum, quorum_as_minuted=shown.quorum_as_minuted)

    @strawberry.field(description="The title of the meeting it was taken at (null as for meeting).")
    def meeting_title(self, info: Info) -> str | None:
        shown = read_model(info).provenance.meeting(self.raw)
        return shown.title if shown else None

    @strawberry.field(description="The date of the meeting it was taken at (null as for meeting).")
    def meeting_held_on(self, info: Info) -> date | None:
        shown = read_model(info).provenance.meeting(self.raw)
        return shown.held_on if shown else None

    @strawberry.field(description="The scheme of delegation it was taken under, by its name; null at a meeting.")
    def delegated_under(self, info: Info) -> str | None:
        return read_model(info).provenance.scheme_name(self.raw.get("delegation"))

    @strawberry.field(description="Whether it resolves: a body of the partnership on its date, at a meeting of that "
                                  "body recorded as held that day and quorate by that day's members (or under a "
                                  "scheme of delegation for that body). `problems` says why not.")
    def resolves(self, info: Info) -> bool:
        return read_model(info).provenance.resolves(self.raw)

    @strawberry.field(description="Why it does not resolve (empty when it does).")
    def problems(self, info: Info) -> list[str]:
        return read_model(info).provenance.problems(self.raw)


def decision_from(raw: str | dict[str, Any] | None) -> Decision | None:
    if not raw:
        return None
    values = json.loads(raw) if isinstance(raw, str) else raw
    return Decision(body=values["body"], decided_on=date.fromisoformat(values["decided_on"]),
                    reason=values["reason"], meeting_id=values.get("meeting_id"), reference=values.get("reference"),
                    raw=values)


IN_FORCE_ON = Annotated[date | None, strawberry.argument(
    description="In force on this day: as decisions dated by then left it, whenever entered (with asOf: as then "
                "recorded).")]
"""The ``inForceOn`` argument every query field that takes ``asOf`` takes too (``services.reporting.temporal``)."""


def moment(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


def read_model(info: Info) -> ReportingReadModel:
    model: ReportingReadModel = info.context["model"]
    return model


# -- errors with codes -------------------------------------------------------------------------------------------


class GatewayError(GraphQLError):
    """A refusal the client can act on, with a machine-readable ``extensions.code`` (e.g. BAD_USER_INPUT)."""

    def __init__(self, message: str, code: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": code, **extensions})


def bad_input(message: str, argument: str | None = None) -> GatewayError:
    return GatewayError(message, "BAD_USER_INPUT", **({"argument": argument} if argument else {}))


# -- cursor connections ------------------------------------------------------------------------------------------

DEFAULT_PAGE = 50
MAX_PAGE = 500

T = TypeVar("T")


@strawberry.type(description="Where a page ends and whether more follow (Relay cursor connections).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="One page of a list: edges with opaque cursors; pass pageInfo.endCursor as `after`.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], int]]

    @strawberry.field(description="How many items the whole list has (with the filters, not only this page's).")
    def total_count(self) -> int:
        return self.count()

    @strawberry.field(description="The nodes of this page, without their cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def encode_cursor(key: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key), default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, argument: str = "after") -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as error:
        raise bad_input(f"`{argument}` is not a cursor this API gave out", argument) from error
    if not isinstance(value, list):
        raise bad_input(f"`{argument}` is not a cursor this API gave out", argument)
    return value


def page_size(first: int | None, argument: str = "first") -> int:
    if first is None:
        return DEFAULT_PAGE
    if first < 0 or first > MAX_PAGE:
        raise bad_input(f"`{argument}` must be between 0 and {MAX_PAGE}", argument)
    return first


FIRST = Annotated[int | None, strawberry.argument(
    description=f"At most this many, from the start (or from `after`); default {DEFAULT_PAGE}, at most {MAX_PAGE}.")]
AFTER = Annotated[str | None, strawberry.argument(description="Only those after this cursor (an edge's cursor, or "
                                                              "pageInfo.endCursor).")]
LAST = Annotated[int | None, strawberry.argument(
    description=f"At most this many, from the end (or up to `before`), at most {MAX_PAGE}; not with `first`.")]
BEFORE = Annotated[str | None, strawberry.argument(description="Only those before this cursor (an edge's cursor, or "
                                                               "pageInfo.startCursor).")]
"""The Relay connection arguments every connection field takes (forward: first/after, backward: last/before)."""


def _comparable(key: Sequence[Any]) -> list[Any]:
    # None sorts first, and keys round-trip through JSON: compare them in one normal form.
    return [(0, "") if part is None else (1, part) for part in key]


def _normal(key: Sequence[Any]) -> list[Any]:
    return _comparable(json.loads(json.dumps(list(key), default=str)))


def _edge_index(keys: Sequence[list[Any]], cursor: str, argument: str, inclusive: bool) -> int:
    """The index of the first row after the cursor's key (``inclusive``: at or after it)."""
    bound = decode_cursor(cursor, argument)
    if keys and len(bound) != len(keys[0]):
        raise bad_input(f"`{argument}` is a cursor of another list", argument)
    normal = _comparable(bound)
    try:
        return next((i for i, k in enumerate(keys) if (k >= normal if inclusive else k > normal)), len(keys))
    except TypeError:  # a cursor whose parts are not of this list's kinds (a string where a date was, ...)
        raise bad_input(f"`{argument}` is a cursor of another list", argument) from None


def paginate(rows: Sequence[R], key: Callable[[R], Sequence[Any]], node: Callable[[R], T],
             first: int | None, after: str | None, last: int | None = None,
             before: str | None = None) -> Connection[T]:
    """A page of ``rows`` (already in ``key`` order), by the Relay cursor connections specification: the rows after
    ``after`` and before ``before`` (keyset paging: a page does not shift when rows are added before it), then the
    ``first`` of them, or the ``last`` (default: the first ``DEFAULT_PAGE``). hasPreviousPage/hasNextPage say whether
    any row of the list precedes/follows the page (the specification lets a server say so for ``after``/``before``
    too). ``first`` and ``last`` together are refused: the specification calls that confusing, and no client needs
    it."""
    if first is not None and last is not None:
        raise bad_input("Pass `first` (with `after`) to page forward or `last` (with `before`) to page backward, "
                        "not both", "last")
    keys = [_normal(key(row)) for row in rows] if after is not None or before is not None else []
    after_at = None if after is None else _edge_index(keys, after, "after", inclusive=False)
    before_at = None if before is None else _edge_index(keys, before, "before", inclusive=True)
    first, last = _sizes(first, last)
    start, end = page_bounds(len(rows), after_at, before_at, first, last)
    return _connection([Edge(cursor=encode_cursor(key(row)), node=node(row)) for row in rows[start:end]],
                       has_previous=start > 0, has_next=end < len(rows), count=lambda: len(rows))


def _sizes(first: int | None, last: int | None) -> tuple[int | None, int | None]:
    """A page's size, forward (``first``, by default ``DEFAULT_PAGE``) or backward (``last``): refused out of range."""
    return (None, page_size(last, "last")) if last is not None else (page_size(first), None)


def _connection(edges: list[Edge[T]], *, has_previous: bool, has_next: bool, count: Callable[[], int]
                ) -> Connection[T]:
    return Connection(
        edges=edges, count=count,
        page_info=PageInfo(has_next_page=has_next, has_previous_page=has_previous,
                           start_cursor=edges[0].cursor if edges else None,
                           end_cursor=edges[-1].cursor if edges else None),
    )


def paginate_listing(store: ReadStore, listing: Listing, node: Callable[[dict[str, Any]], T], first: int | None,
                     after: str | None, last: int | None = None, before: str | None = None, *,
                     sealed: bool = False) -> Connection[T]:
    """``paginate`` of the rows of ``listing``, paged in the database (``listing.window``): the same page, cursors,
    counts and refusals, reading only the page's rows. ``sealed``: the rows come with their free text sealed, and
    ``node`` opens the ones it shows."""
    if first is not None and last is not None:
        raise bad_input("Pass `first` (with `after`) to page forward or `last` (with `before`) to page backward, "
                        "not both", "last")
    after_key = None if after is None else _listing_key(listing, after, "after")
    before_key = None if before is None else _listing_key(listing, before, "before")
    first, last = _sizes(first, last)
    found = window(store, listing, after=after_key, before=before_key, first=first, last=last, sealed=sealed)
    return _connection([Edge(cursor=encode_cursor([row[column] for column in listing.key]), node=node(row))
                        for row in found.rows], has_previous=found.has_previous, has_next=found.has_next,
                       count=found.count)


def _listing_key(listing: Listing, cursor: str, argument: str) -> list[Any]:
    bound = decode_cursor(cursor, argument)
    if not listing.of_kinds(bound):
        raise bad_input(f"`{argument}` is a cursor of another list", argument)
    return bound


# -- dataloaders (one set per request) ---------------------------------------------------------------------------


def loader(info: Info, name: str, batch: Callable[[ReadStore, list[K]], Sequence[V]]) -> DataLoader[K, V]:
    """The request's DataLoader called ``name``: every ``load(key)`` of one resolution step becomes one ``batch``
    call (one query for all the keys), so a nested field costs one query per level, not one per parent."""
    loaders: dict[str, DataLoader[Any, Any]] = info.context.setdefault("loaders", {})
    if name not in loaders:
        store = read_model(info).store

        async def load(keys: list[K]) -> Sequence[V]:
            return batch(store, keys)

        loaders[name] = DataLoader(load_fn=load)
    found: DataLoader[K, V] = loaders[name]
    return found
