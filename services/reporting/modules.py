"""The reporting modules, one per upstream context; each has ``DDL``, ``HANDLERS`` and a GraphQL ``Query``."""

from __future__ import annotations

from types import ModuleType

from services.reporting import audit, coordination, delivery, opendata, strategy

READ_MODELS: tuple[ModuleType, ...] = (strategy, coordination, delivery, audit, opendata)
