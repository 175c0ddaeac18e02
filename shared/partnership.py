"""The partnership definition: its districts, organisations, bodies and rules' parameters, loaded from a file."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

DEFAULT_FILE = Path(__file__).with_name("worcestershire.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class District(_Strict):
    id: str
    name: str
    partnership: str
    quorum: int = Field(3, ge=1)


class Organisation(_Strict):
    id: str
    name: str
    kind: str
    county_wide: bool = False


class Body(_Strict):
    id: str
    kind: str
    name: str
    quorum: int = Field(3, ge=1)


class RagThresholds(_Strict):
    green_within_percent: float = Field(10, gt=0)
    amber_within_percent: float = Field(25, gt=0)


class PartnershipDefinition(_Strict):
    """A county partnership, e.g. the Worcestershire Partnership."""

    id: str
    name: str
    max_agreed_priorities_per_district: int = Field(5, ge=1)
    units: list[str]
    rag: RagThresholds = RagThresholds()
    bodies: list[Body]
    districts: list[District]
    organisations: list[Organisation]

    def district(self, district_id: str) -> District | None:
        return next((d for d in self.districts if d.id == district_id), None)

    def organisation(self, organisation_id: str) -> Organisation | None:
        return next((o for o in self.organisations if o.id == organisation_id), None)

    def body(self, body_id: str) -> Body | None:
        return next((b for b in self.bodies if b.id == body_id), None)


@cache
def load(path: Path | None = None) -> PartnershipDefinition:
    with (path or DEFAULT_FILE).open() as handle:
        return PartnershipDefinition.model_validate(yaml.safe_load(handle))
