"""The generated Kubernetes files: only generated CRDs under crds/, structural, parseable RBAC."""

from __future__ import annotations

from pathlib import Path

import yaml

from yokeflow.crdgen import crd_files, structural_problems

ROOT = Path(__file__).resolve().parents[2]


def test_crds_holds_exactly_the_generated_definitions() -> None:
    on_disk = {f"crds/{p.name}" for p in (ROOT / "crds").iterdir()}
    assert on_disk == set(crd_files())


def test_every_crd_on_disk_is_structural_with_a_status_subresource() -> None:
    for relative in crd_files():
        crd = yaml.safe_load((ROOT / relative).read_text())
        (version,) = crd["spec"]["versions"]
        assert version["subresources"] == {"status": {}}
        assert structural_problems(version["schema"]["openAPIV3Schema"]) == []


def test_the_rbac_manifest_parses_into_its_three_objects() -> None:
    documents = list(yaml.safe_load_all((ROOT / "deploy/rbac/operator.yaml").read_text()))
    assert [d["kind"] for d in documents] == ["ServiceAccount", "ClusterRole", "ClusterRoleBinding"]
