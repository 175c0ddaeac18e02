"""The read models of the reporting service: adding one is its own package and one line here."""

from __future__ import annotations

from services.reporting import coordination, delivery, opendata, strategy
from services.reporting.declaration import ReadModel

READ_MODELS: tuple[ReadModel, ...] = (
    strategy.READ_MODEL,
    coordination.READ_MODEL,
    delivery.READ_MODEL,
    opendata.READ_MODEL,
)
