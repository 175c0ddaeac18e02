"""Priorities' upstream copy: the meetings and memberships of ``tasking.events`` its decisions stand on.

Strategy decisions (agreeing priorities, setting targets, SCS reviews, releases) are taken at meetings tasking
records; priorities keeps its own copy (``shared.meeting_copy``). Beside it, the shares tasked of each target
(``services.priorities.tasked``), so a target is never revised below them; nothing else of tasking's is read.
"""

from __future__ import annotations

from services.priorities.application import PrioritiesApplication
from services.priorities.tasked import tasked_consumer
from shared.consumer import ConsumerRunner
from shared.meeting_copy import meetings_consumer
from shared.settings import Settings
from shared.transport import Transport


def consumers(app: PrioritiesApplication, settings: Settings, transport: Transport) -> list[ConsumerRunner]:
    return [meetings_consumer("priorities", app.local, settings, transport),
            tasked_consumer(app.tasked, settings, transport)]
