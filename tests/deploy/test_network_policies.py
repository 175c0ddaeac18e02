"""The NetworkPolicies, evaluated as Kubernetes does: every path between the namespace's pods that they allow is
exactly one a workload needs (a service to its own PostgreSQL and to Kafka, the gateway to the REST APIs it
forwards to), and nothing else; the outside reaches only the web tier.

The operators' pods are stood in by their documented labels: CloudNativePG instances carry ``cnpg.io/cluster``,
Strimzi's Kafka pods ``strimzi.io/cluster`` and ``strimzi.io/kind: Kafka``. Traffic into the Kafka pods is
admitted by the policies Strimzi generates from each listener (``networkPolicyPeers``), checked here on the
listener itself.
"""

from __future__ import annotations

from itertools import product
from typing import Any

import pytest

from tests.deploy.rendering import OVERLAYS, Resource, of_kind

EVENT_SERVICES = ("priorities", "tasking", "projects")
SERVICES = (*EVENT_SERVICES, "reporting")
KAFKA = "kafka"
Pod = dict[str, str]


def _pods(overlay: str) -> dict[str, tuple[Pod, set[int]]]:
    """Each pod kind of the namespace: its labels and the ports it listens on."""
    pods: dict[str, tuple[Pod, set[int]]] = {}
    for name, deployment in of_kind(overlay, "Deployment").items():
        template = deployment["spec"]["template"]
        ports = {p["containerPort"] for c in template["spec"]["containers"] for p in c.get("ports", [])}
        pods[name] = (template["metadata"]["labels"], ports)
    for cluster in of_kind(overlay, "Cluster"):
        pods[cluster] = ({"cnpg.io/cluster": cluster, "cnpg.io/podRole": "instance"}, {5432, 8000, 9187})
    [kafka] = of_kind(overlay, "Kafka")
    pods[KAFKA] = ({"strimzi.io/cluster": kafka, "strimzi.io/kind": "Kafka", "strimzi.io/name": f"{kafka}-kafka"},
                   {9090, 9091, 9093, 9094})
    return pods


def _selects(selector: dict[str, Any], labels: Pod) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        present, value = expression["key"] in labels, labels.get(expression["key"])
        operator = expression["operator"]
        if (operator == "Exists" and not present) or (operator == "DoesNotExist" and present) or \
                (operator == "In" and value not in expression["values"]) or \
                (operator == "NotIn" and value in expression["values"]):
            return False
    return True


def _peer_is_pod(peer: dict[str, Any], labels: Pod) -> bool:
    """A peer that names a pod of this namespace (no namespaceSelector, no ipBlock) and selects ``labels``."""
    return set(peer) == {"podSelector"} and _selects(peer["podSelector"], labels)


def _port_matches(rule: dict[str, Any], port: int) -> bool:
    return "ports" not in rule or any(p.get("protocol", "TCP") == "TCP" and p["port"] == port for p in rule["ports"])


def _allows(policies: list[Resource], direction: str, this: Pod, other: Pod, port: int) -> bool:
    """Whether the policies selecting ``this`` let traffic on ``port`` go to/come from ``other``."""
    key, peers = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    for policy in policies:
        spec = policy["spec"]
        if direction not in spec["policyTypes"] or not _selects(spec["podSelector"], this):
            continue
        for rule in spec.get(key, []):
            if _port_matches(rule, port) and (peers not in rule or  # no peers: every destination/source
                                              any(_peer_is_pod(p, other) for p in rule[peers])):
                return True
    return False


def _kafka_listener_admits(overlay: str, labels: Pod, port: int) -> bool:
    [kafka] = of_kind(overlay, "Kafka").values()
    for listener in kafka["spec"]["kafka"]["listeners"]:
        if listener["port"] == port and listener["type"] == "internal":
            return any(_peer_is_pod(peer, labels) for peer in listener.get("networkPolicyPeers", []))
    return False


def _allowed_paths(overlay: str) -> set[tuple[str, str, int]]:
    policies = list(of_kind(overlay, "NetworkPolicy").values())
    pods = _pods(overlay)
    paths = set()
    for (source, (source_labels, _)), (target, (target_labels, ports)) in product(pods.items(), pods.items()):
        for port in ports:
            if source == target and source != KAFKA and not source.endswith("-db"):
                continue  # replicas of one Deployment do not talk to each other
            out = _allows(policies, "Egress", source_labels, target_labels, port)
            into = (_kafka_listener_admits(overlay, source_labels, port) if target == KAFKA and source != KAFKA
                    else True if target == KAFKA  # Strimzi's generated policies cover its own pods' traffic
                    else _allows(policies, "Ingress", target_labels, source_labels, port))
            if out and into:
                paths.add((source, target, port))
    return paths


def _needed_paths() -> set[tuple[str, str, int]]:
    needed = {(f"{s}-{p}", f"{s}-db", 5432) for s in EVENT_SERVICES for p in ("web", "worker")}
    needed |= {("reporting-worker", "reporting-db", 5432), ("gateway", "reporting-db", 5432)}
    needed |= {(f"{s}-{p}", KAFKA, 9093) for s in EVENT_SERVICES for p in ("web", "worker")}
    needed |= {("reporting-worker", KAFKA, 9093), ("gateway", KAFKA, 9093)}
    needed |= {("gateway", f"{s}-web", 8000) for s in EVENT_SERVICES}
    needed |= {(f"{s}-db", f"{s}-db", port) for s in (*SERVICES, "people") for port in (5432, 8000)}  # replication
    # The people vault (pseudonyms, keys of sealed text): every service's and reporting's pods.
    needed |= {(f"{s}-{p}", "people-db", 5432) for s in EVENT_SERVICES for p in ("web", "worker")}
    needed |= {("reporting-worker", "people-db", 5432), ("gateway", "people-db", 5432)}
    needed |= {(KAFKA, KAFKA, port) for port in (9090, 9091, 9093, 9094)}
    return needed


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_namespace_denies_everything_it_does_not_allow(overlay: str) -> None:
    policy = of_kind(overlay, "NetworkPolicy")["default-deny"]["spec"]
    assert policy == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_workload_reaches_only_what_it_talks_to(overlay: str) -> None:
    allowed, needed = _allowed_paths(overlay), _needed_paths()
    assert needed - allowed == set(), "needed but blocked"
    assert allowed - needed == set(), "allowed but not needed"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_web_tier_is_reached_from_the_ingress_controller_and_every_pod_resolves_names(overlay: str) -> None:
    policies = list(of_kind(overlay, "NetworkPolicy").values())
    ingress_controller = {"kubernetes.io/metadata.name": "ingress-nginx"}
    reached = set()
    for name, (labels, ports) in _pods(overlay).items():
        for policy, port in product(policies, ports):
            spec = policy["spec"]
            if "Ingress" in spec["policyTypes"] and _selects(spec["podSelector"], labels):
                for rule in spec.get("ingress", []):
                    if _port_matches(rule, port) and any(
                            set(peer) == {"namespaceSelector"} and _selects(peer["namespaceSelector"],
                                                                          ingress_controller)
                            for peer in rule.get("from", [])):
                        reached.add(name)
    assert reached == {f"{s}-web" for s in EVENT_SERVICES} | {"gateway"}
    dns = of_kind(overlay, "NetworkPolicy")["allow-dns"]["spec"]
    assert dns["podSelector"] == {} and dns["policyTypes"] == ["Egress"]
    [rule] = dns["egress"]
    assert {(p["protocol"], p["port"]) for p in rule["ports"]} == {("UDP", 53), ("TCP", 53)}
    [peer] = rule["to"]
    assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}
