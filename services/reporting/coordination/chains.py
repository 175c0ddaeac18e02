"""Retasking chains: which taskings one decision split or moved, and the sentence a committee reads for each step
("Worcester 1,200 -> Worcester 1,000 + Wychavon 200, decided by ... on ... because ..."). Pure: rows in, answer out."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from typing import Any, Protocol


class Names(Protocol):
    """How a chain names districts and bodies for a person (``services.reporting.provenance.Provenance``: today's
    names, a retired district by its last)."""

    def district_name(self, district: str) -> str: ...

    def body_name(self, body: str) -> str: ...


def _fmt(raw: str) -> str:
    value = Decimal(raw).normalize()
    return f"{int(value):,}" if value == value.to_integral_value() else f"{value:,f}"


def chain(changes: list[dict[str, Any]], tasking_id: str, names: Names) -> dict[str, Any]:
    """From every assignment change (``tasking_changes`` rows, in the order they were recorded): every tasking
    linked to this one by retasking (its origin and all it was split into), and each decision that changed them,
    as steps "Worcester 1,200 -> Worcester 1,000 + Wychavon 200", named as records name the districts and bodies
    (``names``)."""
    parent = {c["tasking_id"]: c["retasked_from"] for c in changes if c["kind"] == "issued"}
    root = tasking_id
    while parent.get(root):
        root = str(parent[root])
    family = {root}
    grew = True
    while grew:
        before = len(family)
        family |= {child for child, origin in parent.items() if origin in family}
        grew = len(family) > before
    ours = [c for c in changes if c["tasking_id"] in family]
    origin = [c for c in ours if c["kind"] == "issued" and c["tasking_id"] == root]
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for change in ours:
        if change["kind"] == "retasked" or (change["kind"] == "issued" and change["retasked_from"]):
            grouped[change["decision_key"] or f"{change['tasking_id']}:{change['version']}"].append(change)
    steps = [_step(group, names) for group in grouped.values()]
    steps.sort(key=lambda step: (step["decided_on"] or "", step["at"]))
    return {"root": root, "taskings": sorted(family), "origin": origin, "steps": steps}


def _step(group: list[dict[str, Any]], names: Names) -> dict[str, Any]:
    before = [{"tasking_id": c["tasking_id"], "district": c["previous_district"],
               "lead_partner": c["previous_lead_partner"], "share": c["previous_share"],
               "deadline": c["previous_deadline"]} for c in group if c["kind"] == "retasked"]
    after = [{"tasking_id": c["tasking_id"], "district": c["district"], "lead_partner": c["lead_partner"],
              "share": c["share"], "deadline": c["deadline"]}
             for c in sorted(group, key=lambda c: (c["kind"] != "retasked", c["district"]))]  # kept, then new
    first = group[0]
    decision = json.loads(first["decision"]) if first["decision"] else None

    def say(assignments: list[dict[str, Any]]) -> str:
        return " + ".join(f"{names.district_name(a['district'])} {_fmt(a['share'])}" for a in assignments)

    summary = f"{say(before) or '(none)'} -> {say(after)}"
    if decision:
        who = names.body_name(decision["body"])  # a name where a person reads, never the id
        summary += f", decided by {who} on {decision['decided_on']} because {decision['reason']}"
        if decision.get("reference"):
            summary += f" [{decision['reference']}]"
    return {"before": before, "after": after, "decision": first["decision"],
            "decided_on": decision["decided_on"] if decision else None, "summary": summary, "at": first["at"],
            "changed_by": first["changed_by"], "changed_by_organisation": first["changed_by_organisation"],
            "changed_by_role": first["changed_by_role"]}
