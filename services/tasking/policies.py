"""Reactions to upstream events: the targets tasking knows (``known_targets``), kept from ``priorities.events``."""

from __future__ import annotations

from services.tasking.application import TaskingApplication
from services.tasking.known_targets import KnownTargets
from shared.consumer import ConsumerRunner
from shared.settings import Settings
from shared.transport import Transport


def consumers(app: TaskingApplication, settings: Settings, transport: Transport) -> list[ConsumerRunner]:
    return [ConsumerRunner("tasking", app.local, transport, settings.topic("priorities.events"), KnownTargets(),
                           dead_letter_topic=settings.topic("tasking.dlq"), batch_size=settings.consumer_batch_size)]
