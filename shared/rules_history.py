"""The partnership's rules as history: the founding rules and the decisions that changed them since, asked "as of
day D" (``shared.decisions.PartnershipRules``), so every decision is judged by the rules in force on its own date.

Pure: the founding rules and the changes come from tasking's ``Partnership`` aggregate (the authority) or from a
service's copy of its public events (``shared.meeting_copy``); until a copy has seen the founding, the partnership
definition's rules stand in for it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from shared.contracts.tasking import PartnershipFounded
from shared.decisions import BodyRule, PartnershipRules, RulesInForce, SchemeOfDelegation


@dataclass(frozen=True)
class QuorumChange:
    """A decision that changed a body's quorum from its date."""

    body: str
    quorum: int
    decided_on: date


class FoundedRules:
    """The founding rules (``PartnershipFounded``), in force from ``founded_on``."""

    def __init__(self, founded_on: date | None, bodies: Iterable[BodyRule],
                 schemes: Iterable[SchemeOfDelegation]) -> None:
        self.founded_on = founded_on
        self._bodies = {b.id: b for b in bodies}
        self._schemes = {s.id: s for s in schemes}

    @classmethod
    def of(cls, founded: PartnershipFounded) -> FoundedRules:
        return cls(founded.founded_on, [BodyRule(b.body, b.name, b.kind, b.quorum) for b in founded.bodies],
                   [SchemeOfDelegation(s.id, s.body, s.role, frozenset(s.decisions), s.name)
                    for s in founded.schemes_of_delegation])

    def as_of(self, day: date) -> RulesInForce | None:
        return self if self.founded_on is None or day >= self.founded_on else None

    def body(self, body_id: str) -> BodyRule | None:
        return self._bodies.get(body_id)

    def scheme(self, scheme_id: str) -> SchemeOfDelegation | None:
        return self._schemes.get(scheme_id)


class _InForce:
    """The rules of one day: the founding ones with the quorums decided by then."""

    def __init__(self, founding: RulesInForce, quorums: dict[str, int]) -> None:
        self._founding = founding
        self._quorums = quorums

    def body(self, body_id: str) -> BodyRule | None:
        found = self._founding.body(body_id)
        if found is None or body_id not in self._quorums:
            return found
        return replace(found, quorum=self._quorums[body_id])

    def scheme(self, scheme_id: str) -> SchemeOfDelegation | None:
        return self._founding.scheme(scheme_id)


class RulesOfRecord:
    """``PartnershipRules`` over the founding rules and the changes recorded since (read afresh on each question:
    a change just recorded counts for the next decision)."""

    def __init__(self, founding: Callable[[], PartnershipRules], changes: Callable[[], Sequence[QuorumChange]]) -> None:
        self._founding = founding
        self._changes = changes

    def as_of(self, day: date) -> RulesInForce | None:
        founding = self._founding().as_of(day)
        if founding is None:
            return None
        quorums: dict[str, int] = {}
        for change in sorted(self._changes(), key=lambda c: c.decided_on):  # stable: recorded order on one date
            if change.decided_on <= day:
                quorums[change.body] = change.quorum
        return _InForce(founding, quorums)
