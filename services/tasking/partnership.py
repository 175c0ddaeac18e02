"""The partnership's rules as tasking's ``Partnership`` aggregate: founded once from the partnership definition (the
YAML) into an empty store, changed after that by decisions (``QuorumChanged``, ``DistrictAdded``, ...), and asked
"as of day D" by the decision rule (``shared.rules_history``). A definition that differs from the founded state is
reported at start-up, never applied: the record, not the file, says what the rules are."""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.contracts import Actor, Decision
from shared.contracts import tasking as contracts
from shared.contracts.tasking import BodyQuorum, DelegationScheme, DistrictName, PartnershipFounded
from shared.decisions import DecisionKind, DistrictRule
from shared.errors import InvalidCommand
from shared.eventstore import AccountableAggregate, CommandContext
from shared.partnership import PartnershipDefinition
from shared.rules_history import DistrictAddition, FoundedRules, RuleChange, RulesState, change_of, in_force

SYSTEM = Actor("system:partnership-definition", "system", "system")
"""Who founds the partnership's record: the deployment's definition file, not a person."""


def founding_of(definition: PartnershipDefinition) -> dict[str, Any]:
    """The founding event's fields, from the partnership definition."""
    bodies = [BodyQuorum(b.id, b.kind, b.name, b.quorum) for b in definition.bodies]
    bodies += [BodyQuorum(d.id, "district_partnership", d.partnership, d.quorum) for d in definition.districts]
    return dict(partnership=definition.id, founded_on=definition.founded_on, bodies=bodies,
                districts=[d.id for d in definition.districts],
                schemes_of_delegation=[DelegationScheme(s.id, s.body, s.role, list(s.decisions), s.name)
                                       for s in definition.schemes_of_delegation],
                green_within_percent=definition.rag.green_within_percent,
                amber_within_percent=definition.rag.amber_within_percent,
                max_agreed_priorities_per_district=definition.max_agreed_priorities_per_district,
                district_names=[DistrictName(d.id, d.name) for d in definition.districts])


class Partnership(AccountableAggregate):
    """The partnership's rules through time: the founding state and every decision that changed them. Each change
    is checked against the rules in force on its decision's date (a back-dated decision changes the past)."""

    class Founded(AccountableAggregate.Created, PartnershipFounded):
        pass

    class _RuleChanged(AccountableAggregate.Event):
        def apply(self, aggregate: Any) -> None:
            change = change_of(self)
            assert change is not None
            aggregate.changes.append(change)

    class QuorumChanged(_RuleChanged, contracts.QuorumChanged):
        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.quorums[self.body] = self.quorum

    class DistrictAdded(_RuleChanged, contracts.DistrictAdded):
        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.quorums[self.district] = self.quorum

    class DistrictRenamed(_RuleChanged, contracts.DistrictRenamed):
        pass

    class DistrictRetired(_RuleChanged, contracts.DistrictRetired):
        pass

    class SchemesOfDelegationChanged(_RuleChanged, contracts.SchemesOfDelegationChanged):
        pass

    class RagThresholdsChanged(_RuleChanged, contracts.RagThresholdsChanged):
        pass

    class PriorityLimitChanged(_RuleChanged, contracts.PriorityLimitChanged):
        pass

    def __init__(self, *, actor: Actor, correlation_id: str, decision: Decision | None, partnership: str,
                 founded_on: date | None, bodies: list[BodyQuorum], districts: list[str],
                 schemes_of_delegation: list[DelegationScheme], green_within_percent: float,
                 amber_within_percent: float, max_agreed_priorities_per_district: int,
                 district_names: list[DistrictName] | None = None) -> None:
        self.founding = PartnershipFounded(
            actor=actor, correlation_id=correlation_id, decision=decision, partnership=partnership,
            founded_on=founded_on, bodies=list(bodies), districts=list(districts),
            schemes_of_delegation=list(schemes_of_delegation), green_within_percent=green_within_percent,
            amber_within_percent=amber_within_percent,
            max_agreed_priorities_per_district=max_agreed_priorities_per_district,
            district_names=None if district_names is None else list(district_names))
        self.changes: list[RuleChange] = []
        self.quorums = {b.body: b.quorum for b in self.founding.bodies}

    @classmethod
    def found(cls, definition: PartnershipDefinition, *, id: Any) -> Partnership:
        return cls._create(cls.Founded, id=id, actor=SYSTEM, correlation_id=f"founding:{definition.id}",
                           decision=None, **founding_of(definition))

    @property
    def rules(self) -> FoundedRules:
        return FoundedRules.of(self.founding)

    def founded_rules(self, names: dict[str, str] | None = None) -> FoundedRules:
        """The founding rules; ``names``: the districts' names where the founding predates carrying them."""
        return FoundedRules.of(self.founding, names)

    def on(self, day: date) -> RulesState:
        """The rules in force on ``day`` (the founding ones for a day before it: nothing is judged then)."""
        return in_force(self.rules, self.changes, day) or self.rules.state

    def change_quorum(self, context: CommandContext, *, body: str, quorum: int, decision: Decision) -> None:
        found = self.on(decision.decided_on).body(body)
        if found is None:
            raise InvalidCommand(f"'{body}' was not a body of the partnership on {decision.decided_on.isoformat()}.",
                                 [{"field": "body", "message": "Unknown body."}])
        if quorum < 1:
            raise InvalidCommand("A quorum is at least one member.", [{"field": "quorum", "message": "At least 1."}])
        if quorum == found.quorum:
            raise InvalidCommand(f"The quorum of {found.name} is already {quorum}.",
                                 [{"field": "quorum", "message": "Unchanged."}])
        self._happened(Partnership.QuorumChanged, context, decision=decision, body=body, quorum=quorum,
                       previous_quorum=found.quorum)

    def add_district(self, context: CommandContext, *, district: str, name: str, partnership: str, quorum: int,
                     decision: Decision) -> None:
        rules = self.on(decision.decided_on)
        ever = {d for d in self.founding.districts} | {b.body for b in self.founding.bodies} | {
            c.district.id for c in self.changes if isinstance(c, DistrictAddition)}
        if district in ever or rules.body(district) is not None:
            # An id names one district for ever: records keep naming it, so a retired one is not reused.
            raise InvalidCommand(f"'{district}' already names a district or body of the partnership.",
                                 [{"field": "district", "message": "Already used."}])
        if quorum < 1:
            raise InvalidCommand("A quorum is at least one member.", [{"field": "quorum", "message": "At least 1."}])
        _named(name, partnership)
        self._happened(Partnership.DistrictAdded, context, decision=decision, district=district, name=name,
                       partnership=partnership, quorum=quorum)

    def rename_district(self, context: CommandContext, *, district: str, name: str, partnership: str,
                        decision: Decision) -> None:
        found = self._district_on(district, decision.decided_on)
        _named(name, partnership)
        if (name, partnership) == (found.name, found.partnership):
            raise InvalidCommand(f"{found.name} is already so named.", [{"field": "name", "message": "Unchanged."}])
        self._happened(Partnership.DistrictRenamed, context, decision=decision, district=district, name=name,
                       partnership=partnership, previous_name=found.name, previous_partnership=found.partnership)

    def retire_district(self, context: CommandContext, *, district: str, decision: Decision) -> None:
        found = self._district_on(district, decision.decided_on)
        self._happened(Partnership.DistrictRetired, context, decision=decision, district=district, name=found.name)

    def change_schemes(self, context: CommandContext, *, body: str, schemes: list[DelegationScheme],
                       decision: Decision) -> None:
        rules = self.on(decision.decided_on)
        if rules.body(body) is None:
            raise InvalidCommand(f"'{body}' was not a body of the partnership on {decision.decided_on.isoformat()}.",
                                 [{"field": "body", "message": "Unknown body."}])
        kinds = {kind.value for kind in DecisionKind}
        others = {s.id for s in rules.all_schemes() if s.body != body}
        ids = [s.id for s in schemes]
        for index, scheme in enumerate(schemes):
            where = f"schemes[{index}]"
            if scheme.body != body:
                raise InvalidCommand(f"The scheme '{scheme.id}' delegates for '{scheme.body}', not for '{body}'.",
                                     [{"field": f"{where}.body", "message": f"Must be {body}."}])
            if scheme.id in others or ids.count(scheme.id) > 1:
                raise InvalidCommand(f"The scheme id '{scheme.id}' is already used.",
                                     [{"field": f"{where}.id", "message": "Already used."}])
            unknown = sorted(set(scheme.decisions) - kinds)
            if unknown or not scheme.decisions:
                raise InvalidCommand(f"The scheme '{scheme.id}' names no decision or unknown ones: {unknown}.",
                                     [{"field": f"{where}.decisions", "message": "Known kinds of decision."}])
        previous = [DelegationScheme(s.id, s.body, s.role, sorted(s.decisions), s.name)
                    for s in rules.all_schemes() if s.body == body]
        if sorted(map(_scheme_key, previous)) == sorted(map(_scheme_key, schemes)):
            raise InvalidCommand(f"The schemes of '{body}' are already these.",
                                 [{"field": "schemes", "message": "Unchanged."}])
        self._happened(Partnership.SchemesOfDelegationChanged, context, decision=decision, body=body,
                       schemes=list(schemes), previous_schemes=previous)

    def change_rag_thresholds(self, context: CommandContext, *, green_within_percent: float,
                              amber_within_percent: float, decision: Decision) -> None:
        was = self.on(decision.decided_on).rag
        if not 0 < green_within_percent <= amber_within_percent <= 100:
            raise InvalidCommand("RAG thresholds: 0 < green_within_percent <= amber_within_percent <= 100.",
                                 [{"field": "amber_within_percent", "message": "At least the green threshold."}])
        if (green_within_percent, amber_within_percent) == (was.green_within_percent, was.amber_within_percent):
            raise InvalidCommand("The RAG thresholds are already these.",
                                 [{"field": "green_within_percent", "message": "Unchanged."}])
        self._happened(Partnership.RagThresholdsChanged, context, decision=decision,
                       green_within_percent=green_within_percent, amber_within_percent=amber_within_percent,
                       previous_green_within_percent=was.green_within_percent,
                       previous_amber_within_percent=was.amber_within_percent)

    def change_priority_limit(self, context: CommandContext, *, limit: int, decision: Decision) -> None:
        was = self.on(decision.decided_on).priority_limit
        if limit < 1:
            raise InvalidCommand("The limit is at least one agreed priority.",
                                 [{"field": "max_agreed_priorities_per_district", "message": "At least 1."}])
        if limit == was:
            raise InvalidCommand(f"The limit on agreed priorities is already {limit}.",
                                 [{"field": "max_agreed_priorities_per_district", "message": "Unchanged."}])
        self._happened(Partnership.PriorityLimitChanged, context, decision=decision,
                       max_agreed_priorities_per_district=limit, previous_max_agreed_priorities_per_district=was)

    def _district_on(self, district: str, day: date) -> DistrictRule:
        found = self.on(day).district(district)
        if found is None:
            raise InvalidCommand(f"'{district}' was not a district of the partnership on {day.isoformat()}.",
                                 [{"field": "district", "message": "Unknown district."}])
        return found


def _named(name: str, partnership: str) -> None:
    for field, value in (("name", name), ("partnership", partnership)):
        if not value.strip():
            raise InvalidCommand(f"A district needs its {field}.", [{"field": field, "message": "Required."}])


def _scheme_key(scheme: DelegationScheme) -> tuple[str, str, str, tuple[str, ...], str]:
    return scheme.id, scheme.body, scheme.role, tuple(sorted(scheme.decisions)), scheme.name


def differences(definition: PartnershipDefinition, partnership: Partnership) -> list[str]:
    """Where the definition differs from the partnership's founded state: each said in a sentence (reported at
    start-up; the record stands, and a change is a decision)."""
    wanted, founded = founding_of(definition), partnership.founding
    said: list[str] = []
    for name, value in wanted.items():
        if name == "bodies":
            known = {b.body: b for b in founded.bodies}
            for body in value:
                was = known.get(body.body)
                if was is None:
                    said.append(f"body {body.body} is in the definition but not in the record")
                elif was.quorum != body.quorum:
                    said.append(f"body {body.body}: quorum {body.quorum} in the definition, {was.quorum} founded"
                                f" (now {partnership.quorums.get(body.body)})")
            said += [f"body {b} is in the record but not in the definition"
                     for b in sorted(set(known) - {b.body for b in value})]
        elif name == "district_names" and founded.district_names is None:
            continue  # founded before the founding carried the names: nothing recorded to differ from
        elif getattr(founded, name) != value:
            said.append(f"{name}: {value!r} in the definition, {getattr(founded, name)!r} founded")
    return said
