"""The strategy: objectives of the Sustainable Community Strategy and of the county strategies under it."""

from __future__ import annotations

from uuid import UUID

from shared.contracts import Actor, Decision
from shared.contracts.priorities import ObjectiveAdded, StrategyLevel
from shared.errors import InvalidCommand
from shared.eventstore import AccountableAggregate, CommandContext

MAX_TITLE = 300


class Objective(AccountableAggregate):
    """A statement in the SCS ("a skilled and prosperous economy") or in a county strategy under an SCS objective."""

    class Added(AccountableAggregate.Created, ObjectiveAdded):
        pass

    def __init__(self, *, title: str, level: StrategyLevel, strategy: str, parent_id: UUID | None,
                 actor: Actor, correlation_id: str, decision: Decision | None) -> None:
        self.title = title
        self.level = StrategyLevel(level)
        self.strategy = strategy
        self.parent_id = parent_id
        self.added_by = actor
        self.decision = decision

    @classmethod
    def add(cls, context: CommandContext, *, title: str, level: StrategyLevel, strategy: str,
            parent: Objective | None = None, decision: Decision | None = None) -> Objective:
        """Add an objective; a county-strategy objective sits under an SCS objective, an SCS objective under none."""
        problems: list[dict[str, str]] = []
        title = title.strip()
        strategy = strategy.strip()
        if not title:
            problems.append({"field": "title", "message": "An objective needs a statement."})
        elif len(title) > MAX_TITLE:
            problems.append({"field": "title", "message": f"Keep the statement under {MAX_TITLE} characters."})
        if not strategy:
            problems.append({"field": "strategy", "message": "Name the strategy the objective belongs to."})
        if level is StrategyLevel.SCS and parent is not None:
            problems.append({"field": "parent_id", "message": "An SCS objective is the top of the tree: no parent."})
        if level is StrategyLevel.COUNTY_STRATEGY:
            if parent is None:
                problems.append({"field": "parent_id",
                                 "message": "A county-strategy objective must sit under an SCS objective."})
            elif parent.level is not StrategyLevel.SCS:
                problems.append({"field": "parent_id", "message": "The parent must be an SCS objective."})
        if problems:
            raise InvalidCommand("The objective cannot be added: " + " ".join(p["message"] for p in problems),
                                 problems)
        return cls._create(
            cls.Added,
            actor=context.actor,
            correlation_id=context.correlation_id,
            decision=decision,
            title=title,
            level=level,
            strategy=strategy,
            parent_id=None if parent is None else parent.id,
        )
