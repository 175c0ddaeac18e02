"""Open data: a public, read-only feed of decisions and performance, as CSV or JSON, under the Open Government
Licence v3.0 (docs/open-data.md).

No personal data: organisations, bodies, districts and figures only; never a user id, a project manager, a
narrative or evidence. Performance figures of a period appear only once the partnership released that period
(``priorities.PerformanceReleased``, a decision recorded with its actor): approval before public display.
"""

from __future__ import annotations

from services.reporting.declaration import ReadModel
from services.reporting.opendata.graphql import Query
from services.reporting.opendata.projection import project
from services.reporting.opendata.tables import TABLES

READ_MODEL = ReadModel("opendata", TABLES, project, Query)
