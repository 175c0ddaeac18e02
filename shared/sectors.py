"""Sectors: the sections of the UK Standard Industrial Classification of economic activities 2007 (SIC 2007), A to
U. A tasking (and so its share of a target) may name one ("1,200 jobs in one industry"); the roll-up can be asked
by sector."""

from __future__ import annotations

SIC_2007_SECTIONS: dict[str, str] = {
    "A": "Agriculture, forestry and fishing",
    "B": "Mining and quarrying",
    "C": "Manufacturing",
    "D": "Electricity, gas, steam and air conditioning supply",
    "E": "Water supply; sewerage, waste management and remediation activities",
    "F": "Construction",
    "G": "Wholesale and retail trade; repair of motor vehicles and motorcycles",
    "H": "Transportation and storage",
    "I": "Accommodation and food service activities",
    "J": "Information and communication",
    "K": "Financial and insurance activities",
    "L": "Real estate activities",
    "M": "Professional, scientific and technical activities",
    "N": "Administrative and support service activities",
    "O": "Public administration and defence; compulsory social security",
    "P": "Education",
    "Q": "Human health and social work activities",
    "R": "Arts, entertainment and recreation",
    "S": "Other service activities",
    "T": "Activities of households as employers; undifferentiated goods- and services-producing activities of "
         "households for own use",
    "U": "Activities of extraterritorial organisations and bodies",
}
"""Each SIC 2007 section's letter and name."""


def sector_problems(field: str, sector: str | None) -> list[dict[str, str]]:
    """The problem, naming ``field``, when ``sector`` is not a SIC 2007 section letter (None: no sector named)."""
    if sector is None or sector in SIC_2007_SECTIONS:
        return []
    return [{"field": field, "message": f"'{sector}' is not a UK SIC 2007 section: name one of "
                                        f"{', '.join(SIC_2007_SECTIONS)} (e.g. C, {SIC_2007_SECTIONS['C']})."}]


def sector_name(sector: str | None) -> str | None:
    return SIC_2007_SECTIONS.get(sector) if sector else None
