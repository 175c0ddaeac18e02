"""The published OpenAPI documents name the servers the deployment really has and say how every operation is
secured and refused."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from services.partners.openapi import ENVIRONMENTS

ROOT = Path(__file__).resolve().parents[3]
OPENAPI = ROOT / "contracts" / "openapi"


def _ingress_host(overlay: str) -> str:
    kustomization = yaml.safe_load((ROOT / "deploy" / "k8s" / "overlays" / overlay / "kustomization.yaml").read_text())
    for patch in kustomization.get("patches", []):
        if patch.get("target", {}).get("kind") == "Ingress":
            for op in yaml.safe_load(patch["patch"]):
                if op["path"] == "/spec/rules/0/host":
                    return str(op["value"])
    raise AssertionError(f"no ingress host in the {overlay} overlay")


def test_the_servers_are_the_overlays_ingress_hosts() -> None:
    origins = [origin for origin, _, _ in ENVIRONMENTS]
    assert f"https://{_ingress_host('prod')}" in origins
    assert f"https://{_ingress_host('dev')}" in origins


def test_every_operation_declares_its_security_and_its_refusals() -> None:
    for path in sorted(OPENAPI.glob("*.json")):
        document = json.loads(path.read_text())
        assert document["servers"], path.name
        for route, operations in document["paths"].items():
            for method, operation in operations.items():
                assert "security" in operation, (path.name, method, route)
                responses = operation["responses"]
                if route == "/graphql":
                    assert "400" in responses
                    continue
                assert "503" in responses, (path.name, method, route)
                if operation["security"] == [{"bearer": []}]:
                    assert {"401", "403", "422"} <= responses.keys(), (path.name, method, route)
                if method == "post" and route != "/oauth/token":
                    assert "409" in responses, (path.name, method, route)
