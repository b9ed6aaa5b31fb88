"""A container's environment as the kubelet would build it: ``envFrom``, then ``env`` in order.

Values come from literals (with ``$(VAR)`` references to earlier variables expanded), Secret and
ConfigMap keys, and the pod's own fields. A missing Secret, ConfigMap or key that is not marked
``optional`` fails the container the way a kubelet does (``CreateContainerConfigError``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from yokeflow.testing.processnode.volumes import Fetch, UnsupportedPodError, decoded_values

__all__ = ["container_environment", "pod_field"]

_REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.\-]*)\)|\$\$")


async def container_environment(
    pod: Mapping[str, Any], container: Mapping[str, Any], fetch: Fetch, pod_ip: str
) -> dict[str, str]:
    """The variables ``container`` of ``pod`` is given (not the process node's own)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        prefix = source.get("prefix", "")
        if "secretRef" in source:
            ref, resource = source["secretRef"], "secrets"
        else:
            ref, resource = source["configMapRef"], "configmaps"
        found = await fetch(resource, ref["name"])
        if found is None:
            if ref.get("optional"):
                continue
            raise UnsupportedPodError(f"{resource[:-1]} {ref['name']!r} is missing")
        env.update({prefix + key: value for key, value in decoded_values(resource, found).items()})
    for variable in container.get("env", []):
        name = variable["name"]
        if "valueFrom" not in variable:
            env[name] = _expand(variable.get("value", ""), env)
            continue
        value = await _value_from(pod, variable["valueFrom"], fetch, pod_ip)
        if value is not None:
            env[name] = value
    return env


async def _value_from(
    pod: Mapping[str, Any], source: Mapping[str, Any], fetch: Fetch, pod_ip: str
) -> str | None:
    for kind, resource in (("secretKeyRef", "secrets"), ("configMapKeyRef", "configmaps")):
        if kind in source:
            ref = source[kind]
            found = await fetch(resource, ref["name"])
            values = decoded_values(resource, found) if found is not None else None
            if values is None or ref["key"] not in values:
                if ref.get("optional"):
                    return None
                what = f"{resource[:-1]} {ref['name']!r}"
                raise UnsupportedPodError(
                    f"{what} is missing" if values is None else f"{what} has no key {ref['key']!r}"
                )
            return values[ref["key"]]
    if "fieldRef" in source:
        return pod_field(pod, source["fieldRef"]["fieldPath"], pod_ip)
    raise UnsupportedPodError(f"environment source {sorted(source)} is not supported")


def pod_field(pod: Mapping[str, Any], path: str, pod_ip: str) -> str:
    """The value of a downward API field path of ``pod`` (``metadata.namespace``…)."""
    metadata = pod.get("metadata", {})
    fields = {
        "metadata.name": metadata.get("name", ""),
        "metadata.namespace": metadata.get("namespace", ""),
        "metadata.uid": metadata.get("uid", ""),
        "spec.nodeName": pod.get("spec", {}).get("nodeName", ""),
        "spec.serviceAccountName": pod.get("spec", {}).get("serviceAccountName", ""),
        "status.podIP": pod_ip,
        "status.hostIP": pod_ip,
    }
    if path in fields:
        return str(fields[path])
    match = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if match:
        return str(metadata.get(match.group(1), {}).get(match.group(2), ""))
    raise UnsupportedPodError(f"field {path!r} cannot be given to a container")


def _expand(value: str, env: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env.get(name, match.group(0))

    return _REFERENCE.sub(replace, value)
