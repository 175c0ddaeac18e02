"""The delivery read model's tables: projects with their outcomes, milestones, progress and interventions, and the
model's own narrow copies of targets and taskings (``delivery_targets``, ``delivery_taskings``), so that the
roll-up depends on event contracts only, not on other read models' tables."""

from __future__ import annotations

from services.reporting.declaration import Table, Tracked

_TEMPORAL = "valid_from TEXT NOT NULL, valid_to TEXT, in_force_from TEXT NOT NULL, PRIMARY KEY (id, version)"
# An entity's row as of any moment in one index probe (see ``queries.as_of_rows``), however many versions it has.
_AS_OF = ("as_of", "(id, valid_from)")

TARGETS = Table(
    "delivery_targets",
    "id TEXT NOT NULL, version INTEGER NOT NULL, metric TEXT NOT NULL, unit TEXT NOT NULL,"
    " target_value TEXT NOT NULL, deadline TEXT NOT NULL, status TEXT NOT NULL, baseline_value TEXT NOT NULL,"
    " baseline_date TEXT NOT NULL, profile TEXT, intervals TEXT, " + _TEMPORAL,
    temporal=True, indexes=(_AS_OF,))
"""``profile``: the target's profile as JSON ``[[date, value], ...]`` (``TargetProfiled``), NULL: the straight line;
``intervals``: its reporting intervals as JSON ``[[in_force_from, interval], ...]`` (``TargetReportingIntervalSet``),
NULL: quarterly throughout."""
TASKINGS = Table(
    "delivery_taskings",
    "id TEXT NOT NULL, version INTEGER NOT NULL, target_id TEXT NOT NULL, district TEXT NOT NULL,"
    " lead_partner TEXT NOT NULL, share TEXT NOT NULL, unit TEXT NOT NULL, deadline TEXT NOT NULL,"
    " status TEXT NOT NULL, counts_against_target INTEGER NOT NULL, sector TEXT, profile TEXT, " + _TEMPORAL,
    temporal=True, indexes=(_AS_OF,))
"""``profile``: the share's profile as JSON ``[[date, value], ...]`` (``ShareProfiled``); NULL: none."""
ALLOCATIONS = Table(
    "delivery_allocations",
    "id TEXT NOT NULL, version INTEGER NOT NULL, over_by TEXT, tasked TEXT NOT NULL, improvement TEXT NOT NULL, "
    + _TEMPORAL, temporal=True, indexes=(_AS_OF,))
"""Per target (``id``: the target's id; ``version``: its allocation's), what tasking recorded: ``over_by`` the shares
exceed its improvement (``TargetOverAllocated``), NULL once cleared (``TargetOverAllocationCleared``)."""
PROJECTS = Table(
    "delivery_projects",
    "id TEXT NOT NULL, version INTEGER NOT NULL, programme_id TEXT NOT NULL, district TEXT NOT NULL,"
    " title TEXT NOT NULL, lead_partner TEXT NOT NULL, project_manager TEXT NOT NULL, status TEXT NOT NULL,"
    " rag TEXT, derived_rag TEXT, rag_override_reason TEXT, direction TEXT, shortfall_percent TEXT,"
    " last_reported_on TEXT, flagged TEXT, interventions INTEGER NOT NULL, committed_gbp TEXT NOT NULL,"
    " committed_staff_days TEXT NOT NULL, outcome_achieved TEXT, lessons TEXT, opened_at TEXT NOT NULL, " + _TEMPORAL,
    temporal=True, indexes=(("current", "(valid_to, district)"), _AS_OF),
    tracked=Tracked("project", "{title}", districts=("district",)))
OUTCOMES = Table(
    "delivery_outcomes",
    "id TEXT NOT NULL, version INTEGER NOT NULL, project_id TEXT NOT NULL, outcome_id TEXT NOT NULL,"
    " tasking_id TEXT NOT NULL, metric TEXT NOT NULL, unit TEXT NOT NULL, baseline_value TEXT NOT NULL,"
    " baseline_date TEXT NOT NULL, target_value TEXT NOT NULL, target_date TEXT NOT NULL, weight TEXT NOT NULL,"
    " actual TEXT, counting INTEGER NOT NULL, profile TEXT, sector TEXT, parts TEXT, actual_on TEXT, " + _TEMPORAL,
    temporal=True, indexes=(("tasking", "(tasking_id, valid_to)"),
                            ("project", "(project_id) WHERE valid_to IS NULL"), _AS_OF))
MILESTONES = Table(
    "delivery_milestones",
    "id TEXT NOT NULL, version INTEGER NOT NULL, project_id TEXT NOT NULL, milestone_id TEXT NOT NULL,"
    " title TEXT NOT NULL, due_on TEXT NOT NULL, achieved_on TEXT, " + _TEMPORAL,
    temporal=True, indexes=(_AS_OF,))
PROGRESS = Table(
    "delivery_progress",
    "project_id TEXT NOT NULL, version INTEGER NOT NULL, reported_on TEXT NOT NULL, reported_values TEXT NOT NULL,"
    " actuals TEXT NOT NULL, narrative TEXT NOT NULL, rag TEXT NOT NULL, direction TEXT,"
    " shortfall_percent TEXT NOT NULL, correction INTEGER NOT NULL, correction_reason TEXT,"
    " reported_by TEXT NOT NULL, reported_by_organisation TEXT NOT NULL, recorded_at TEXT NOT NULL, parts TEXT,"
    " PRIMARY KEY (project_id, version)")
"""``parts``: each ratio outcome's numerator and denominator standing at the date, JSON ``{outcome_id: [numerator,
denominator]}``; NULL when the project has no ratio outcome (``actuals`` holds their ratio)."""
WITHDRAWALS = Table(
    "delivery_progress_withdrawals",
    "project_id TEXT NOT NULL, version INTEGER NOT NULL, reported_on TEXT NOT NULL, reason TEXT NOT NULL,"
    " corrected_to TEXT, withdrawn_by TEXT NOT NULL, withdrawn_by_organisation TEXT NOT NULL,"
    " recorded_at TEXT NOT NULL, PRIMARY KEY (project_id, version)")
"""Reports withdrawn or corrected as mistakes: a progress row dated ``reported_on`` of the project, recorded before
(``version`` below this one), stands no more from ``recorded_at`` (``corrected_to``: the date of the correction that
superseded it; NULL when withdrawn)."""
INTERVENTIONS = Table(
    "delivery_interventions",
    "project_id TEXT NOT NULL, version INTEGER NOT NULL, district TEXT NOT NULL, kind TEXT NOT NULL,"
    " description TEXT NOT NULL, triggers TEXT NOT NULL, decision TEXT, actor TEXT NOT NULL,"
    " actor_organisation TEXT NOT NULL, recorded_at TEXT NOT NULL, due_on TEXT, owner TEXT,"
    " PRIMARY KEY (project_id, version)")

TABLES = (TARGETS, TASKINGS, ALLOCATIONS, PROJECTS, OUTCOMES, MILESTONES, PROGRESS, WITHDRAWALS, INTERVENTIONS)

OUTCOME_COLUMNS = ("id", "version", "project_id", "outcome_id", "tasking_id", "metric", "unit", "baseline_value",
                   "baseline_date", "target_value", "target_date", "weight", "actual", "counting", "profile",
                   "sector", "parts", "actual_on", "valid_from", "valid_to", "in_force_from")
"""``delivery_outcomes``' columns, in order (an outcome is carried forward without being read first). ``profile``:
the outcome's profile as JSON ``[[date, value], ...]`` (``Project.OutcomeProfiled``); NULL: the straight line.
``sector``: the UK SIC 2007 section the outcome names; NULL: its tasking's. ``parts``: a ratio outcome's numerator and
denominator standing (JSON ``[numerator, denominator]``), its ratio in ``actual``; NULL otherwise. ``actual_on``: the
date of the report ``actual`` is from (what a report dated before it is compared with, ``Latest``); NULL: none."""
