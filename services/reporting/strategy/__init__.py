"""Strategy read model (from ``priorities.events``), as of any time: the objectives tree with its SMART targets,
district chapters and priorities, local evidence and SCS reviews."""

from __future__ import annotations

from services.reporting.declaration import ReadModel
from services.reporting.strategy.graphql import Query
from services.reporting.strategy.projection import project
from services.reporting.strategy.tables import TABLES

READ_MODEL = ReadModel("strategy", TABLES, project, Query)
