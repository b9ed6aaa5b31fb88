"""A CustomResourceDefinition on the real API server: structural schema validation, the status
subresource and finalizers behave as the operator will rely on."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from yokeflow.testing.controlplane import Kubectl

pytestmark = pytest.mark.controlplane

GROUP = "e2e.yokeflow.io"
FINALIZER = f"{GROUP}/hold"


def widget_crd() -> dict[str, Any]:
    """A namespaced CRD with a structural schema, a CEL rule and a status subresource."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1alpha1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "required": ["size"],
                                    "properties": {
                                        "size": {"type": "integer", "minimum": 1},
                                        "color": {"type": "string", "enum": ["red", "blue"]},
                                    },
                                    "x-kubernetes-validations": [
                                        {
                                            "rule": "self.size <= 10",
                                            "message": "size must be at most 10 widgets",
                                        }
                                    ],
                                },
                                "status": {
                                    "type": "object",
                                    "properties": {"phase": {"type": "string"}},
                                },
                            },
                        }
                    },
                }
            ],
        },
    }


def widget(name: str, size: int, **extra_metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1alpha1",
        "kind": "Widget",
        "metadata": {"name": name, **extra_metadata},
        "spec": {"size": size, "color": "red"},
    }


@pytest.fixture(scope="module")
def widgets(kubectl: Kubectl) -> Iterator[str]:
    """The Widget CRD, installed and Established for this module; yields its resource name."""
    crd = widget_crd()
    kubectl.apply(crd)
    name = crd["metadata"]["name"]
    kubectl.run("wait", "--for=condition=Established", f"crd/{name}", "--timeout=60s")
    # Discovery of the new resource can lag a moment behind Established.
    deadline = time.monotonic() + 30
    while kubectl.attempt("get", name, "-A").returncode != 0:
        assert time.monotonic() < deadline, f"{name} not served 30s after Established"
        time.sleep(0.2)
    yield name
    kubectl.run("delete", "crd", name, "--timeout=60s")


def test_an_invalid_object_is_rejected_with_the_schemas_message(
    kubectl: Kubectl, namespace: str, widgets: str
) -> None:
    too_big = kubectl.attempt("apply", "-n", namespace, "-f", "-", stdin=_json(widget("big", 11)))
    assert too_big.returncode != 0
    assert "size must be at most 10 widgets" in too_big.stderr

    bad_color = widget("green", 2)
    bad_color["spec"]["color"] = "green"
    rejected = kubectl.attempt("apply", "-n", namespace, "-f", "-", stdin=_json(bad_color))
    assert rejected.returncode != 0
    assert 'spec.color: Unsupported value: "green"' in rejected.stderr

    missing = widget("none", 1)
    del missing["spec"]["size"]
    rejected = kubectl.attempt("apply", "-n", namespace, "-f", "-", stdin=_json(missing))
    assert rejected.returncode != 0
    assert "spec.size: Required value" in rejected.stderr

    assert kubectl.get(widgets, "-n", namespace)["items"] == []


def test_a_status_patch_does_not_change_spec(
    kubectl: Kubectl, namespace: str, widgets: str
) -> None:
    kubectl.apply(widget("w", 3), "-n", namespace)
    before = kubectl.get(widgets, "w", "-n", namespace)

    kubectl.run(
        "patch",
        widgets,
        "w",
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status": {"phase": "Ready"}, "spec": {"size": 9}}',
    )

    after = kubectl.get(widgets, "w", "-n", namespace)
    assert after["status"] == {"phase": "Ready"}
    assert after["spec"] == before["spec"] == {"size": 3, "color": "red"}
    assert after["metadata"]["generation"] == before["metadata"]["generation"]

    # And the main resource ignores status: a spec update through it keeps the status.
    kubectl.run(
        "patch",
        widgets,
        "w",
        "-n",
        namespace,
        "--type=merge",
        "-p",
        '{"spec": {"size": 4}, "status": {"phase": "Lost"}}',
    )
    updated = kubectl.get(widgets, "w", "-n", namespace)
    assert updated["spec"]["size"] == 4
    assert updated["status"] == {"phase": "Ready"}
    assert updated["metadata"]["generation"] == before["metadata"]["generation"] + 1


def test_an_object_with_a_finalizer_stays_until_it_is_removed(
    kubectl: Kubectl, namespace: str, widgets: str
) -> None:
    name = f"held-{uuid.uuid4().hex[:6]}"
    kubectl.apply(widget(name, 2, finalizers=[FINALIZER]), "-n", namespace)

    kubectl.run("delete", widgets, name, "-n", namespace, "--wait=false")

    time.sleep(1.0)  # would be long enough for the API server to remove an unguarded object
    held = kubectl.get(widgets, name, "-n", namespace)
    assert held["metadata"]["deletionTimestamp"]
    assert held["metadata"]["finalizers"] == [FINALIZER]

    kubectl.run(
        "patch",
        widgets,
        name,
        "-n",
        namespace,
        "--type=json",
        "-p",
        '[{"op": "remove", "path": "/metadata/finalizers"}]',
    )
    kubectl.run("wait", "--for=delete", f"{widgets}/{name}", "-n", namespace, "--timeout=30s")
    gone = kubectl.attempt("get", widgets, name, "-n", namespace)
    assert gone.returncode != 0
    assert "NotFound" in gone.stderr


def _json(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest)
