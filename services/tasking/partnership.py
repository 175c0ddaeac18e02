"""The partnership's rules as tasking's ``Partnership`` aggregate: founded once from the partnership definition (the
YAML) into an empty store, changed after that by decisions (``QuorumChanged``), and asked "as of day D" by the
decision rule (``shared.rules_history``). A definition that differs from the founded state is reported at start-up,
never applied: the record, not the file, says what the rules are."""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.contracts import Actor, Decision
from shared.contracts import tasking as contracts
from shared.contracts.tasking import BodyQuorum, DelegationScheme, PartnershipFounded
from shared.errors import InvalidCommand
from shared.eventstore import AccountableAggregate, CommandContext
from shared.partnership import PartnershipDefinition
from shared.rules_history import FoundedRules, QuorumChange

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
                max_agreed_priorities_per_district=definition.max_agreed_priorities_per_district)


class Partnership(AccountableAggregate):
    """The partnership's rules through time: the founding state and every decision that changed them."""

    class Founded(AccountableAggregate.Created, PartnershipFounded):
        pass

    class QuorumChanged(AccountableAggregate.Event, contracts.QuorumChanged):
        def apply(self, aggregate: Any) -> None:
            assert self.decision is not None
            aggregate.changes.append(QuorumChange(self.body, self.quorum, self.decision.decided_on))
            aggregate.quorums[self.body] = self.quorum

    def __init__(self, *, actor: Actor, correlation_id: str, decision: Decision | None, partnership: str,
                 founded_on: date | None, bodies: list[BodyQuorum], districts: list[str],
                 schemes_of_delegation: list[DelegationScheme], green_within_percent: float,
                 amber_within_percent: float, max_agreed_priorities_per_district: int) -> None:
        self.founding = PartnershipFounded(
            actor=actor, correlation_id=correlation_id, decision=decision, partnership=partnership,
            founded_on=founded_on, bodies=list(bodies), districts=list(districts),
            schemes_of_delegation=list(schemes_of_delegation), green_within_percent=green_within_percent,
            amber_within_percent=amber_within_percent,
            max_agreed_priorities_per_district=max_agreed_priorities_per_district)
        self.changes: list[QuorumChange] = []
        self.quorums = {b.body: b.quorum for b in self.founding.bodies}

    @classmethod
    def found(cls, definition: PartnershipDefinition, *, id: Any) -> Partnership:
        return cls._create(cls.Founded, id=id, actor=SYSTEM, correlation_id=f"founding:{definition.id}",
                           decision=None, **founding_of(definition))

    @property
    def rules(self) -> FoundedRules:
        return FoundedRules.of(self.founding)

    def change_quorum(self, context: CommandContext, *, body: str, quorum: int, decision: Decision) -> None:
        if body not in self.quorums:
            raise InvalidCommand(f"'{body}' is not a body of the partnership.",
                                 [{"field": "body", "message": "Unknown body."}])
        if quorum < 1:
            raise InvalidCommand("A quorum is at least one member.", [{"field": "quorum", "message": "At least 1."}])
        if quorum == self.quorums[body]:
            raise InvalidCommand(f"The quorum of '{body}' is already {quorum}.",
                                 [{"field": "quorum", "message": "Unchanged."}])
        self._happened(Partnership.QuorumChanged, context, decision=decision, body=body, quorum=quorum,
                       previous_quorum=self.quorums[body])


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
        elif getattr(founded, name) != value:
            said.append(f"{name}: {value!r} in the definition, {getattr(founded, name)!r} founded")
    return said
