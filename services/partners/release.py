"""The next contract release: which event contracts it publishes, which never-published versions it drops, and the
draft of its change notice (``partnership contracts --release-plan``).

Partners get event contracts in releases, not one version a week: a contract added since the last release is
declared for the next one (``@contract(SERVICE, version=n, release=CONTRACT_RELEASE + 1)``) and stays unreleased,
and free to change, until ``CONTRACT_RELEASE`` is raised (docs/partners.md, "Contract releases").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from shared.contracts import CONTRACT_RELEASE, RELEASE_DATES, SCHEMA_CHANGES, all_contracts, release_of
from shared.contracts.publication import is_public
from shared.envelope import ENVELOPE_CHANGES, PUBLIC_EVENTS_ONLY_IN_RELEASE


@dataclass(frozen=True)
class NewVersion:
    """A new version of an event partners already have: ``supersedes`` is served (upcast) until it is retired."""

    type_name: str
    supersedes: str


@dataclass(frozen=True)
class ReleasePlan:
    """What raising ``CONTRACT_RELEASE`` to ``release`` would publish."""

    release: int
    new_events: tuple[str, ...]
    """First versions of events partners have never had."""
    new_versions: tuple[NewVersion, ...]
    dropped: tuple[str, ...]
    """Versions declared for this release and superseded within it: never published, so the release removes them
    (the version before them upcasts past them)."""
    problems: tuple[str, ...]
    """What must be put right before the release (empty when it can ship)."""
    withdrawn: tuple[str, ...] = ()
    """Released types the release stops publishing (internal events, from the release that publishes public ones
    only)."""
    envelope: tuple[str, ...] = ()
    """Changes to the envelope every event travels in."""
    schemas: tuple[str, ...] = ()
    """Changes to every event schema at once (``shared.contracts.SCHEMA_CHANGES``), not a new version each."""

    @property
    def empty(self) -> bool:
        return not (self.new_events or self.new_versions or self.withdrawn or self.envelope or self.schemas)


def _split(type_name: str) -> tuple[str, int]:
    event, version = type_name.rsplit(".v", 1)
    return event, int(version)


def release_plan() -> ReleasePlan:
    """The plan of the next release from the declared contracts."""
    versions: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for type_name, cls in all_contracts():
        event, version = _split(type_name)
        versions[event].append((version, release_of(cls), type_name))
    new_events: list[str] = []
    new_versions: list[NewVersion] = []
    dropped: list[str] = []
    problems: list[str] = []
    for event, declared in sorted(versions.items()):
        declared.sort()
        released = [name for _, release, name in declared if release <= CONTRACT_RELEASE]
        unreleased = [name for _, release, name in declared if release > CONTRACT_RELEASE]
        releases = [release for _, release, _ in declared]
        if releases != sorted(releases):
            problems.append(f"{event}: a version is released after a later one "
                            f"({', '.join(f'{n} in release {r}' for _, r, n in declared)})")
        if not unreleased:
            continue
        newest, *intermediate = reversed(unreleased)
        dropped.extend(reversed(intermediate))
        if released:
            new_versions.append(NewVersion(newest, released[-1]))
        else:
            new_events.append(newest)
    release = CONTRACT_RELEASE + 1
    withdrawn = tuple(type_name for type_name, cls in all_contracts()
                      if release == PUBLIC_EVENTS_ONLY_IN_RELEASE and release_of(cls) < release and not is_public(cls))
    return ReleasePlan(release, tuple(new_events), tuple(new_versions), tuple(dropped), tuple(problems), withdrawn,
                       ENVELOPE_CHANGES.get(release, ()), SCHEMA_CHANGES.get(release, ()))


def notice_draft(plan: ReleasePlan) -> str:
    """The skeleton of the change notice for docs/partners.md; the maintainer writes the migration in words."""
    dates = RELEASE_DATES.get(plan.release)  # set in shared.contracts when the release is shipped
    served_from, until = (dates.served_from.isoformat(), dates.superseded_until.isoformat()) if dates else (
        "<date>", "<date>")
    lines = [f"### Contract release {plan.release}", "",
             f"Served from: {served_from}. Superseded versions are served (upcast on our side) until: {until}.", ""]
    if plan.new_events:
        lines += ["New events:", ""] + [f"- `{name}`: <what it says happened, who consumes it>"
                                        for name in plan.new_events] + [""]
    if plan.new_versions:
        lines += ["New versions (the old one is listed as superseded; how to migrate):", ""]
        lines += [f"- `{entry.type_name}` supersedes `{entry.supersedes}`: <what changed, how to migrate>"
                  for entry in plan.new_versions] + [""]
    if plan.envelope:
        lines += ["The envelope:", ""] + [f"- {change}" for change in plan.envelope] + [""]
    if plan.schemas:
        lines += ["Every event schema:", ""] + [f"- {change}" for change in plan.schemas] + [""]
    if plan.withdrawn:
        lines += ["No longer published (internal events):", ""] + [f"- `{name}`" for name in plan.withdrawn] + [""]
    if plan.dropped:
        lines += ["Dropped before publication (never on a partner topic; delete their contracts and point the "
                  "version before them past them with `next_version`):", ""]
        lines += [f"- `{name}`" for name in plan.dropped] + [""]
    if plan.problems:
        lines += ["To put right before the release:", ""] + [f"- {problem}" for problem in plan.problems] + [""]
    if plan.empty:
        lines += [f"Nothing is declared for release {plan.release} yet.", ""]
    return "\n".join(lines)
