"""Delivery read model (from ``projects.events``, with the targets and taskings they roll up to), as of any time:
programmes per district with RAG counts, projects by status, progress series, interventions, overdue milestones,
and the roll-up of actual against target (``rollup``)."""

from __future__ import annotations

from services.reporting.declaration import ReadModel
from services.reporting.delivery.graphql import Query
from services.reporting.delivery.projection import project
from services.reporting.delivery.tables import TABLES

READ_MODEL = ReadModel("delivery", TABLES, project, Query)
