"""Coordination read model (from ``tasking.events``), as of any time: taskings by district, theme group, target and
status; retasking chains; decisions by body and date; memberships and commitments; meetings; agreed actions."""

from __future__ import annotations

from services.reporting.coordination.graphql import Query
from services.reporting.coordination.projection import project
from services.reporting.coordination.tables import TABLES
from services.reporting.declaration import ReadModel

READ_MODEL = ReadModel("coordination", TABLES, project, Query)
