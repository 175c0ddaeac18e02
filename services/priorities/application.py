"""Use cases of the priorities service on its event store."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.priorities.domain import Objective
from shared.contracts import Decision
from shared.contracts.priorities import StrategyLevel
from shared.errors import InvalidCommand
from shared.eventstore import CommandContext, ServiceApplication


class PrioritiesApplication(ServiceApplication):
    service = "priorities"

    def add_objective(self, context: CommandContext, *, title: str, level: StrategyLevel, strategy: str,
                      parent_id: UUID | None = None, decision: Decision | None = None) -> Objective:
        parent: Objective | None = None
        if parent_id is not None:
            try:
                found: object = self.repository.get(parent_id)
            except AggregateNotFoundError:
                raise InvalidCommand(
                    f"No objective {parent_id} exists to sit under.",
                    [{"field": "parent_id", "message": "No such objective."}],
                ) from None
            if not isinstance(found, Objective):
                raise InvalidCommand("The parent is not an objective.",
                                     [{"field": "parent_id", "message": "Not an objective."}])
            parent = found
        objective = Objective.add(context, title=title, level=level, strategy=strategy, parent=parent,
                                  decision=decision)
        self.save(objective)
        return objective

    def objective(self, objective_id: UUID) -> Objective:
        found: object = self.repository.get(objective_id)
        if not isinstance(found, Objective):
            raise AggregateNotFoundError(objective_id)
        return found
