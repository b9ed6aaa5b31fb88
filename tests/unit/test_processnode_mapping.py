"""The process node's stand-ins for mounts and the kubelet's environment rules."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from yokeflow.testing.processnode.containers import image_repository
from yokeflow.testing.processnode.environment import container_environment
from yokeflow.testing.processnode.volumes import (
    UnsupportedPodError,
    materialize_volumes,
    path_map_for,
)

OBJECTS: dict[tuple[str, str], dict[str, Any]] = {
    ("secrets", "creds"): {"data": {"token": base64.b64encode(b"t0k").decode()}},
    ("configmaps", "cfg"): {"data": {"mode": "fast", "a.txt": "A"}},
}


async def fetch(resource: str, name: str) -> dict[str, Any] | None:
    return OBJECTS.get((resource, name))


def test_paths_under_a_mount_are_rewritten_and_others_are_not(tmp_path: Path) -> None:
    container = {
        "volumeMounts": [
            {"name": "work", "mountPath": "/work"},
            {"name": "work", "mountPath": "/work/cache", "subPath": "c"},
        ]
    }
    paths = path_map_for(container, {"work": tmp_path / "w"}, {})

    assert paths.rewrite("/work/src/a.py") == f"{tmp_path}/w/src/a.py"
    assert paths.rewrite("/work/cache/x") == f"{tmp_path}/w/c/x"
    assert (
        paths.rewrite("cd /work && ls /workshop /x/work")
        == f"cd {tmp_path}/w && ls /workshop /x/work"
    )
    assert paths.rewrite("--dir=/work") == f"--dir={tmp_path}/w"


def test_a_replacement_is_never_rewritten_again(tmp_path: Path) -> None:
    # The pod's folders live under /tmp here, and the pod mounts a volume at /tmp.
    pod = Path("/tmp/node/pods/uid")
    container = {"volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]}
    paths = path_map_for(
        container, {"tmp": tmp_path / "tmp"}, {"/dev/termination-log": pod / "termination"}
    )

    assert paths.rewrite("> /dev/termination-log") == f"> {pod}/termination"
    assert paths.rewrite("/tmp/report.json /dev/termination-log") == (
        f"{tmp_path}/tmp/report.json {pod}/termination"
    )


def test_a_mount_of_an_unknown_volume_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedPodError, match="names no volume"):
        path_map_for({"volumeMounts": [{"name": "nope", "mountPath": "/x"}]}, {}, {})


async def test_secret_and_config_map_volumes_become_files(tmp_path: Path) -> None:
    volumes = [
        {"name": "s", "secret": {"secretName": "creds"}},
        {
            "name": "c",
            "configMap": {"name": "cfg", "items": [{"key": "a.txt", "path": "sub/b.txt"}]},
        },
        {"name": "e", "emptyDir": {}},
    ]
    folders = await materialize_volumes(volumes, tmp_path, fetch)

    assert (folders["s"] / "token").read_bytes() == b"t0k"
    assert (folders["c"] / "sub" / "b.txt").read_text() == "A"
    assert not (folders["c"] / "mode").exists()
    assert list(folders["e"].iterdir()) == []


async def test_a_missing_secret_fails_unless_optional(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedPodError, match="secret 'gone' is missing"):
        await materialize_volumes(
            [{"name": "s", "secret": {"secretName": "gone"}}], tmp_path, fetch
        )
    optional = [{"name": "s", "secret": {"secretName": "gone", "optional": True}}]
    assert (await materialize_volumes(optional, tmp_path, fetch))["s"].is_dir()


async def test_environment_follows_kubelet_order_and_references() -> None:
    pod = {
        "metadata": {"name": "p", "namespace": "ns", "labels": {"app": "x"}},
        "spec": {"nodeName": "n"},
    }
    container = {
        "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
        "env": [
            {"name": "A", "value": "one"},
            {"name": "B", "value": "$(A)-two $$(A) $(UNSET)"},
            {"name": "T", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}},
            {"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "L", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {
                "name": "O",
                "valueFrom": {"secretKeyRef": {"name": "gone", "key": "k", "optional": True}},
            },
        ],
    }
    env = await container_environment(pod, container, fetch, "127.0.0.1")

    assert env == {
        "CFG_mode": "fast",
        "CFG_a.txt": "A",
        "A": "one",
        "B": "one-two $(A) $(UNSET)",
        "T": "t0k",
        "N": "ns",
        "L": "x",
    }


async def test_a_missing_key_fails_the_container() -> None:
    container = {
        "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "nope"}}}]
    }
    with pytest.raises(UnsupportedPodError, match="has no key 'nope'"):
        await container_environment({"metadata": {}}, container, fetch, "127.0.0.1")


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        ("ghcr.io/yokeflow/yokeflow-operator:0.1.0", "ghcr.io/yokeflow/yokeflow-operator"),
        ("localhost:5000/a/b@sha256:" + "0" * 64, "localhost:5000/a/b"),
        ("postgres", "postgres"),
        ("registry:5000/postgres:17", "registry:5000/postgres"),
    ],
)
def test_an_image_is_known_by_its_repository(image: str, repository: str) -> None:
    assert image_repository(image) == repository
