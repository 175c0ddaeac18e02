"""A renderer of the kustomize subset deploy/k8s uses: the fallback for a machine without the real kustomize.

The tests render the overlays with the real kustomize (``tools.deploytools``, from the Go module proxy) and check
that this renderer gives the same resources (``test_the_fallback_renderer_agrees_with_the_real_kustomize``), so it
cannot drift. Anything outside the subset is refused, so a manifest cannot silently use a feature this renderer
would get wrong.

Supported fields of a Kustomization: ``resources`` (files and directories with a kustomization.yaml),
``namespace``, ``labels`` (pairs, ``includeSelectors: false``), ``images`` (name -> newName and newTag or
digest) and ``patches`` given inline as RFC 6902 JSON patches with a ``target`` of ``kind`` and/or ``name`` (a
regular expression matched against the whole name, as kustomize does).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

Resource = dict[str, Any]
SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "labels", "images", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume",
                  "StorageClass", "IngressClass", "PriorityClass"}


class Unsupported(ValueError):
    """The kustomization uses something outside the subset."""


def build(directory: Path) -> list[Resource]:
    """The resources ``kustomize build directory`` would print (order aside)."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED
    if unknown:
        raise Unsupported(f"{directory}: unsupported kustomization fields {sorted(unknown)}")
    resources: list[Resource] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            resources += build(path)
        else:
            resources += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    for patch in kustomization.get("patches", []):
        _patch(resources, patch, directory)
    if namespace := kustomization.get("namespace"):
        for resource in resources:
            if resource["kind"] not in CLUSTER_SCOPED:
                resource["metadata"]["namespace"] = namespace
    for label in kustomization.get("labels", []):
        if label.get("includeSelectors") or label.get("includeTemplates") or set(label) - {"pairs", "includeSelectors"}:
            raise Unsupported(f"{directory}: only labels with includeSelectors: false are supported")
        for resource in resources:
            resource["metadata"].setdefault("labels", {}).update(label["pairs"])
    for image in kustomization.get("images", []):
        for resource in resources:
            _retag(resource, image)
    return resources


def _patch(resources: list[Resource], patch: dict[str, Any], directory: Path) -> None:
    if set(patch) != {"target", "patch"} or set(patch["target"]) - {"kind", "name"}:
        raise Unsupported(f"{directory}: only inline JSON patches with a kind/name target are supported")
    operations = yaml.safe_load(patch["patch"])
    if not isinstance(operations, list):
        raise Unsupported(f"{directory}: a patch must be a JSON patch (a list of operations)")
    target = patch["target"]
    matched = [r for r in resources
               if ("kind" not in target or r["kind"] == target["kind"])
               and ("name" not in target or re.fullmatch(target["name"], r["metadata"]["name"]))]
    if not matched:
        raise ValueError(f"{directory}: patch target {target} matches nothing")
    for resource in matched:
        for operation in operations:
            _apply(resource, operation)


def _pointer(path: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in path.lstrip("/").split("/")]


def _apply(document: Resource, operation: dict[str, Any]) -> None:
    *parents, last = _pointer(operation["path"])
    node: Any = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    op = operation["op"]
    value = copy.deepcopy(operation.get("value"))
    if isinstance(node, list):
        index = len(node) if last == "-" else int(last)
        if op == "add":
            node.insert(index, value)
        elif op == "replace":
            node[index] = value
        elif op == "remove":
            del node[index]
        else:
            raise Unsupported(f"JSON patch op {op!r}")
        return
    if op == "add":
        node[last] = value
    elif op == "replace":
        if last not in node:
            raise KeyError(f"replace of a missing field: {operation['path']}")
        node[last] = value
    elif op == "remove":
        del node[last]
    else:
        raise Unsupported(f"JSON patch op {op!r}")


def _retag(node: Any, image: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                for container in value:
                    name = re.split(r"[:@]", container.get("image", ""), maxsplit=1)[0]
                    if name == image["name"]:
                        pin = f"@{image['digest']}" if "digest" in image else f":{image['newTag']}"
                        container["image"] = f"{image.get('newName', name)}{pin}"
            else:
                _retag(value, image)
    elif isinstance(node, list):
        for item in node:
            _retag(item, image)
