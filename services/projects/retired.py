"""Events the projects service no longer records, kept readable so old stores replay.

A district's programme was an aggregate (``Programme``) that every opening in the district had to update, though it
guarded no rule: openings contended for it. A programme is now derived where it is shown (the projects of a
district: ``ProjectOpened`` names both). Stores written before still hold its events; they resolve here under their
old topics, so the notification log reads end to end, and nothing applies them: no command loads a programme, the
relay passes them over (``shared.contracts.publication.is_retired``) and no read model follows them.
"""

from __future__ import annotations

from typing import Any

from shared.contracts.projects import ProgrammeOpened, ProjectAddedToProgramme
from shared.eventstore import AccountableAggregate

_OLD = "services.projects.domain:Programme"
"""Where the aggregate lived: the topic its stored events name."""


class RetiredProgramme(AccountableAggregate):
    """Only to read the old events: no command creates or changes one."""

    TOPIC = _OLD

    class Created(AccountableAggregate.Created):
        TOPIC = f"{_OLD}.Created"  # never stored (the programme was created by ``Opened``); the library asks for it

    class Opened(AccountableAggregate.Created, ProgrammeOpened):
        TOPIC = f"{_OLD}.Opened"

    class ProjectAdded(AccountableAggregate.Event, ProjectAddedToProgramme):
        TOPIC = f"{_OLD}.ProjectAdded"

        def apply(self, aggregate: Any) -> None:
            """Nothing: the list of a district's projects is derived from ``ProjectOpened``."""

    def __init__(self, **_: Any) -> None:
        """Nothing is kept: the events are read, never applied to a state anyone uses."""
