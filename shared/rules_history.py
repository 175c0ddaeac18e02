"""The partnership's rules as history: the founding rules and the decisions that changed them since, asked "as of
day D" (``shared.decisions.PartnershipRules``), so every decision is judged by the rules in force on its own date.

Pure: the founding rules and the changes come from tasking's ``Partnership`` aggregate (the authority) or from a
service's copy of its public events (``shared.meeting_copy``); until a copy has seen the founding, the partnership
definition's rules stand in for it. ``change_of`` is the one place a rule-changing event becomes a change."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Protocol

from shared.contracts import Fact
from shared.contracts.tasking import (
    DelegationScheme,
    DistrictAdded,
    DistrictRenamed,
    DistrictRetired,
    PartnershipFounded,
    PriorityLimitChanged,
    QuorumChanged,
    RagThresholdsChanged,
    SchemesOfDelegationChanged,
)
from shared.decisions import BodyRule, DistrictRule, RagRule, SchemeOfDelegation

DISTRICT_PARTNERSHIP = "district_partnership"


@dataclass(frozen=True)
class RulesState:
    """The partnership's rules as they stood on one day (``RulesInForce``)."""

    bodies: dict[str, BodyRule]
    districts: dict[str, DistrictRule]
    schemes: dict[str, SchemeOfDelegation]
    rag: RagRule
    priority_limit: int

    def body(self, body_id: str) -> BodyRule | None:
        return self.bodies.get(body_id)

    def scheme(self, scheme_id: str) -> SchemeOfDelegation | None:
        return self.schemes.get(scheme_id)

    def district(self, district_id: str) -> DistrictRule | None:
        return self.districts.get(district_id)

    def all_bodies(self) -> list[BodyRule]:
        return list(self.bodies.values())

    def all_districts(self) -> list[DistrictRule]:
        return list(self.districts.values())

    def all_schemes(self) -> list[SchemeOfDelegation]:
        return list(self.schemes.values())


# -- the changes a decision can make, from its date -----------------------------------------------------------------


class RuleChange(Protocol):
    """A change of the rules, in force from its decision's date."""

    @property
    def decided_on(self) -> date: ...

    def applied_to(self, rules: RulesState) -> RulesState: ...


@dataclass(frozen=True)
class QuorumChange:
    """A decision that changed a body's quorum from its date."""

    body: str
    quorum: int
    decided_on: date

    def applied_to(self, rules: RulesState) -> RulesState:
        found = rules.bodies.get(self.body)
        if found is None:
            return rules
        return replace(rules, bodies={**rules.bodies, self.body: replace(found, quorum=self.quorum)})


@dataclass(frozen=True)
class DistrictAddition:
    """A decision that added a district and its district partnership from its date."""

    district: DistrictRule
    quorum: int
    decided_on: date

    def applied_to(self, rules: RulesState) -> RulesState:
        body = BodyRule(self.district.id, self.district.partnership, DISTRICT_PARTNERSHIP, self.quorum)
        return replace(rules, bodies={**rules.bodies, body.id: body},
                       districts={**rules.districts, self.district.id: self.district})


@dataclass(frozen=True)
class DistrictRenaming:
    """A decision that renamed a district or its district partnership from its date."""

    district: str
    name: str
    partnership: str
    decided_on: date

    def applied_to(self, rules: RulesState) -> RulesState:
        found = rules.districts.get(self.district)
        if found is None:
            return rules
        bodies = dict(rules.bodies)
        if (body := bodies.get(self.district)) is not None:
            bodies[self.district] = replace(body, name=self.partnership)
        return replace(rules, bodies=bodies, districts={
            **rules.districts, self.district: replace(found, name=self.name, partnership=self.partnership)})


@dataclass(frozen=True)
class DistrictRetirement:
    """A decision that retired a district (and its district partnership, and that body's schemes) from its date."""

    district: str
    decided_on: date

    def applied_to(self, rules: RulesState) -> RulesState:
        return replace(rules, bodies={k: v for k, v in rules.bodies.items() if k != self.district},
                       districts={k: v for k, v in rules.districts.items() if k != self.district},
                       schemes={k: v for k, v in rules.schemes.items() if v.body != self.district})


@dataclass(frozen=True)
class SchemesChange:
    """A decision that replaced a body's schemes of delegation from its date."""

    body: str
    schemes: tuple[SchemeOfDelegation, ...]
    decided_on: date

    def applied_to(self, rules: RulesState) -> RulesState:
        kept = {k: v for k, v in rules.schemes.items() if v.body != self.body}
        return replace(rules, schemes={**kept, **{s.id: s for s in self.schemes}})


@dataclass(frozen=True)
class RagChange:
    """A decision that changed the RAG thresholds from its date."""

    rag: RagRule
    decided_on: date

    def applied_to(self, rules: RulesState) -> RulesState:
        return replace(rules, rag=self.rag)


@dataclass(frozen=True)
class PriorityLimitChange:
    """A decision that changed the limit on agreed priorities in one district from its date."""

    limit: int
    decided_on: date

    def applied_to(self, rules: RulesState) -> RulesState:
        return replace(rules, priority_limit=self.limit)


def scheme_rule(scheme: DelegationScheme) -> SchemeOfDelegation:
    return SchemeOfDelegation(scheme.id, scheme.body, scheme.role, frozenset(scheme.decisions), scheme.name)


RULE_CHANGES: tuple[type[Fact], ...] = (QuorumChanged, DistrictAdded, DistrictRenamed, DistrictRetired,
                                        SchemesOfDelegationChanged, RagThresholdsChanged, PriorityLimitChanged)
"""The events that change the partnership's rules after its founding (each under a decision)."""


def change_of(fact: object) -> RuleChange | None:
    """The change a published event makes to the rules, from its decision's date (None: not a rule change)."""
    if not isinstance(fact, RULE_CHANGES) or fact.decision is None:
        return None
    on = fact.decision.decided_on
    if isinstance(fact, QuorumChanged):
        return QuorumChange(fact.body, fact.quorum, on)
    if isinstance(fact, DistrictAdded):
        return DistrictAddition(DistrictRule(fact.district, fact.name, fact.partnership), fact.quorum, on)
    if isinstance(fact, DistrictRenamed):
        return DistrictRenaming(fact.district, fact.name, fact.partnership, on)
    if isinstance(fact, DistrictRetired):
        return DistrictRetirement(fact.district, on)
    if isinstance(fact, SchemesOfDelegationChanged):
        return SchemesChange(fact.body, tuple(scheme_rule(s) for s in fact.schemes), on)
    if isinstance(fact, RagThresholdsChanged):
        return RagChange(RagRule(fact.green_within_percent, fact.amber_within_percent), on)
    if isinstance(fact, PriorityLimitChanged):
        return PriorityLimitChange(fact.max_agreed_priorities_per_district, on)
    return None




# -- the founding, and the rules through time ------------------------------------------------------------------------


@dataclass
class FoundedRules:
    """The founding rules (``PartnershipFounded``, or the definition standing in for it), in force from
    ``founded_on``."""

    founded_on: date | None
    state: RulesState
    changes: list[RuleChange] = field(default_factory=list)

    @classmethod
    def of(cls, founded: PartnershipFounded, names: dict[str, str] | None = None) -> FoundedRules:
        """``names``: the districts' names where the founding does not carry them (recorded before it did)."""
        named = {n.district: n.name for n in founded.district_names or ()} or dict(names or {})
        bodies = {b.body: BodyRule(b.body, b.name, b.kind, b.quorum) for b in founded.bodies}
        districts = {d: DistrictRule(d, named.get(d, d), bodies[d].name if d in bodies else d)
                     for d in founded.districts}
        return cls(founded.founded_on, RulesState(
            bodies=bodies, districts=districts, schemes={s.id: scheme_rule(s) for s in founded.schemes_of_delegation},
            rag=RagRule(founded.green_within_percent, founded.amber_within_percent),
            priority_limit=founded.max_agreed_priorities_per_district))

    @classmethod
    def from_parts(cls, founded_on: date | None, bodies: Iterable[BodyRule], districts: Iterable[DistrictRule],
                   schemes: Iterable[SchemeOfDelegation], rag: RagRule, priority_limit: int) -> FoundedRules:
        return cls(founded_on, RulesState({b.id: b for b in bodies}, {d.id: d for d in districts},
                                          {s.id: s for s in schemes}, rag, priority_limit))

    def as_of(self, day: date) -> RulesState | None:
        return self.state if self.founded_on is None or day >= self.founded_on else None

    def body(self, body_id: str) -> BodyRule | None:
        return self.state.body(body_id)

    def scheme(self, scheme_id: str) -> SchemeOfDelegation | None:
        return self.state.scheme(scheme_id)


def in_force(founding: FoundedRules, changes: Sequence[RuleChange], day: date) -> RulesState | None:
    """The rules in force on ``day``: the founding with every change decided by then, in order of decision date
    (changes decided on one date in the order they were recorded)."""
    state = founding.as_of(day)
    if state is None:
        return None
    for change in sorted(changes, key=lambda c: c.decided_on):  # sorted() is stable: recorded order on one date
        if change.decided_on <= day:
            state = change.applied_to(state)
    return state


@dataclass(frozen=True)
class DistrictOfRecord:
    """A district as records name it on a day: by its name then, or, retired by then, by its last name (and its
    district partnership's), with the day it was retired."""

    id: str
    name: str
    partnership: str
    retired_on: date | None = None


def districts_of_record(founding: FoundedRules, changes: Sequence[RuleChange], day: date
                        ) -> dict[str, DistrictOfRecord]:
    """Every district the partnership had by ``day`` (the founding's, and those added by decisions dated by then),
    by its name on ``day``; one retired by then by the name it had when retired. An id names one district for ever,
    so a page naming a record of a retired district still finds its name here. Before the founding: the founding's
    districts (a reader still wants their names)."""
    state = founding.as_of(day) or founding.state
    retired: dict[str, DistrictOfRecord] = {}
    for change in sorted(changes, key=lambda c: c.decided_on):  # as ``in_force``: stable, recorded order on a date
        if change.decided_on > day:
            continue
        after = change.applied_to(state)
        for gone in state.all_districts():
            if gone.id not in after.districts:
                retired[gone.id] = DistrictOfRecord(gone.id, gone.name, gone.partnership, change.decided_on)
        state = after
    return {**retired, **{d.id: DistrictOfRecord(d.id, d.name, d.partnership) for d in state.all_districts()}}


class RulesOfRecord:
    """``PartnershipRules`` over the founding rules and the changes recorded since (read afresh on each question:
    a change just recorded counts for the next decision)."""

    def __init__(self, founding: Callable[[], FoundedRules], changes: Callable[[], Sequence[RuleChange]]) -> None:
        self._read: Callable[[], tuple[FoundedRules, Sequence[RuleChange]]] = lambda: (founding(), changes())

    @classmethod
    def reading(cls, read: Callable[[], tuple[FoundedRules, Sequence[RuleChange]]]) -> RulesOfRecord:
        """From one read of both (a copy that reads them together)."""
        made = cls.__new__(cls)
        made._read = read
        return made

    def as_of(self, day: date) -> RulesState | None:
        return in_force(*self._read(), day)

    def as_of_or_founding(self, day: date) -> RulesState:
        """The rules on ``day``; before the founding, the founding rules (a date before the partnership existed
        asks nothing of them, but a reader still wants its districts' names)."""
        founding, changes = self._read()
        return in_force(founding, changes, day) or founding.state

    def districts_of_record(self, day: date) -> dict[str, DistrictOfRecord]:
        """Every district the rules had by ``day``, retired ones too (``districts_of_record``)."""
        return districts_of_record(*self._read(), day)

    def body_name(self, body: str, day: date) -> str | None:
        """A body by its name on ``day``; a district partnership retired by then by its last name (None: not a body
        the partnership had by then)."""
        founding, changes = self._read()
        found = (in_force(founding, changes, day) or founding.state).body(body)
        if found is not None:
            return found.name
        district = districts_of_record(founding, changes, day).get(body)
        return district.partnership if district is not None else None

