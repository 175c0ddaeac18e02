"""Query parameters and pack scopes: an unknown parameter or an unknown district or theme group is refused with a
422 naming it, never silently ignored (``district=nowhere`` gave an empty pack, ``theme_group=pstg`` the county's)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Harness

PERIOD = {"from": "2011-04-01", "to": "2013-06-30", "format": "csv", "table": "performance"}


def _pack(h: Harness, **params: Any) -> Any:
    return h.client.get("/reports/scrutiny", params={**PERIOD, **params}, headers=h.headers("scrutiny_member"))


@pytest.mark.parametrize(("params", "field"), [({"district": "nowhere"}, "district"),
                                               ({"themeGroup": "nowhere"}, "themeGroup"),
                                               ({"themeGroup": "worcester"}, "themeGroup"),
                                               ({"theme_group": "pstg"}, "theme_group"),
                                               ({"distrct": "worcester"}, "distrct"),
                                               ({"from": "1300000000"}, "from"),
                                               ({"asOf": "1300000000"}, "asOf")])
def test_an_unknown_scope_or_parameter_of_a_pack_is_refused_naming_it(harness: Harness, params: dict[str, str],
                                                                      field: str) -> None:
    response = _pack(harness, **params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]


def test_a_known_scope_gives_its_pack(harness: Harness) -> None:
    for params in ({"district": "worcester"}, {"themeGroup": "pstg"}, {"district": ["worcester", "wychavon"]}):
        assert _pack(harness, **params).status_code == 200


def test_an_unknown_query_parameter_is_refused_on_every_api(harness: Harness) -> None:
    h = harness
    auditor = h.headers("auditor")
    for path, headers in (("/open-data/decisions.json", {}), ("/priorities/districts/worcester/chapter", auditor),
                          ("/tasking/commitments", auditor), ("/healthz", {})):
        response = h.client.get(path, params={"nonsense": "1"}, headers=headers)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["errors"][0] == {"field": "nonsense", "code": "unknown_parameter",
                                                "message": response.json()["errors"][0]["message"]}
