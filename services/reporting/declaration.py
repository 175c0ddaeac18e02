"""What a read model is, said once: its tables (with their indexes, which are temporal, which committees follow) and
its handlers by contract class. The runtime, the rebuild, ``changes`` and the GraphQL schema read this declaration;
nothing else names a read model's tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from services.reporting.rows import Rows
from services.reporting.temporal import in_force_table
from shared.contracts import Fact
from shared.envelope import Envelope

Handler = Callable[[Any, Rows, Envelope], None]
"""``handler(fact, rows, envelope)``: one contract class's effect on a read model's rows."""


class Handlers(Protocol):
    """A read model's projection: a ``functools.singledispatch`` function over the fact's contract class, as the
    eventsourcing library's ``policy.register`` is (``@project.register`` on a handler whose first argument is
    annotated with the contract class, or a union of them). Its base case (any other fact) does nothing."""

    def __call__(self, fact: Fact, rows: Rows, envelope: Envelope, /) -> None: ...

    def dispatch(self, cls: Any) -> Callable[..., None]: ...

    @property
    def registry(self) -> Mapping[Any, Callable[..., None]]: ...


@dataclass(frozen=True)
class Tracked:
    """A table whose entities a committee follows (``changes``): what to call one, and which scope it is in."""

    entity: str
    label: str  # a format string over the row's columns
    districts: tuple[str, ...] = ()  # columns naming the district(s) it concerns; none = county-wide
    groups: tuple[str, ...] = ()  # columns naming the theme group / body it concerns


_IN_FORCE_FROM = "in_force_from TEXT NOT NULL"
_PRIMARY_KEY = ", PRIMARY KEY (id, version)"


@dataclass(frozen=True)
class Table:
    """One table: ``CREATE TABLE name (columns)`` and its indexes, each ``(suffix, "(columns) [WHERE ...]")``,
    named ``<table>_<suffix>``. A temporal table has one row per (id, version), valid from ``valid_from`` to
    ``valid_to``; its current rows are found by an index on the open rows. Its rows keep the second axis too:
    ``in_force_from``, the day the version's event is in force from, and ``own_changes``, the columns that event
    itself set (added here); and it has a twin, ``<table>_in_force``, of the same columns: the entity's in-force
    segments (``services.reporting.temporal``, ``services.reporting.rows``)."""

    name: str
    columns: str
    temporal: bool = False
    indexes: tuple[tuple[str, str], ...] = ()
    tracked: Tracked | None = None

    def __post_init__(self) -> None:
        if self.temporal and (_IN_FORCE_FROM not in self.columns or not self.columns.endswith(_PRIMARY_KEY)):
            raise ValueError(f"temporal table {self.name} keeps no in-force interval (in_force_from) or is not"
                             " keyed by (id, version)")

    @property
    def in_force_name(self) -> str:
        """The table of its in-force segments (temporal tables only)."""
        return in_force_table(self.name)

    def ddl(self) -> list[str]:
        columns = self.columns
        if self.temporal:  # the columns the version's own event set: NULL, all of them (a whole new row)
            columns = columns.replace(_IN_FORCE_FROM, f"{_IN_FORCE_FROM}, own_changes TEXT", 1)
        statements = [f"CREATE TABLE IF NOT EXISTS {self.name} ({columns})"]
        statements += [f"CREATE INDEX IF NOT EXISTS {self.name}_{suffix} ON {self.name} {on}"
                       for suffix, on in self.indexes]
        if self.tracked is not None:  # changes(from, to) looks for the rows that became valid in a period
            statements.append(f"CREATE INDEX IF NOT EXISTS {self.name}_valid_from ON {self.name} (valid_from)")
        if self.temporal:  # the open row of an entity in one step, however many versions it has
            statements.append(f"CREATE INDEX IF NOT EXISTS {self.name}_open ON {self.name} (id)"
                              " WHERE valid_to IS NULL")
            # Its segments: an entity's segment on a day is one probe of (id, in_force_from), open ones apart.
            segments = self.in_force_name
            statements += [
                f"CREATE TABLE IF NOT EXISTS {segments} ({columns.removesuffix(_PRIMARY_KEY)})",
                f"CREATE INDEX IF NOT EXISTS {segments}_day ON {segments} (id, in_force_from)",
                f"CREATE INDEX IF NOT EXISTS {segments}_open ON {segments} (id, in_force_from)"
                " WHERE valid_to IS NULL"]
        return statements


@dataclass(frozen=True)
class ReadModel:
    """A read model: its tables, its projection, and the GraphQL ``Query`` type that serves it."""

    name: str
    tables: tuple[Table, ...]
    project: Handlers
    query: type
    cacheable: bool = True  # its answers depend only on its rows, the arguments, the caller and the date
    _handlers: dict[type, Handler | None] = field(default_factory=dict, compare=False, repr=False)

    def ddl(self) -> list[str]:
        return [statement for table in self.tables for statement in table.ddl()]

    def handler(self, contract: type[Fact]) -> Handler | None:
        """This model's handler of ``contract`` (by its class and bases), or None if it does not follow it."""
        if contract not in self._handlers:
            found = self.project.dispatch(contract)
            self._handlers[contract] = None if found is self.project.registry[object] else found
        return self._handlers[contract]

    @property
    def contracts(self) -> frozenset[type]:
        """The contract classes it registered a handler for."""
        return frozenset(cls for cls in self.project.registry if cls is not object)
