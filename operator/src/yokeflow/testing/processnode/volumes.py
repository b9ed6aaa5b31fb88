"""A pod's volumes as local folders, and the path mapping that stands in for mounts.

The process node has no mount namespaces: each volume is a folder under the pod's directory and
every path a container names (command, arguments, environment values, working directory) that
lies under one of its mount paths is rewritten to the matching local folder. A container therefore
sees ``/workspace/src`` as ``<pod dir>/volumes/workspace/src``. Secrets and ConfigMaps are written
out as files, one per key (or per ``items`` entry), with their modes.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "PathMap",
    "PodSources",
    "UnsupportedPodError",
    "materialize_volumes",
    "path_map_for",
]

Fetch = Callable[[str, str], Awaitable[dict[str, Any] | None]]
"""Reads a namespaced object: ``fetch("secrets", name)`` → the object, or None if absent."""


class UnsupportedPodError(Exception):
    """The pod asks for something the process node cannot do; the message says what."""


@dataclass(frozen=True)
class PathMap:
    """Container paths (mount paths) and the local folders that stand in for them."""

    entries: tuple[tuple[str, str], ...]

    def rewrite(self, text: str) -> str:
        """``text`` with every mapped path replaced by its local folder (longest path first).

        One pass: a replacement is never rewritten again (a pod folder under ``/tmp`` stays
        itself when the pod mounts a volume at ``/tmp``)."""
        if not self.entries:
            return text
        locals_by_path = dict(self.entries)
        alternatives = "|".join(re.escape(path) for path, _ in self.entries)
        pattern = re.compile(r"(?<![\w.\-/])(" + alternatives + r")(?=/|$|[^\w.\-])")
        return pattern.sub(functools.partial(_replacement, locals_by_path), text)


def _replacement(locals_by_path: Mapping[str, str], match: re.Match[str]) -> str:
    return locals_by_path[match.group(1)]


def path_map_for(
    container: Mapping[str, Any], volume_dirs: Mapping[str, Path], extra: Mapping[str, Path]
) -> PathMap:
    """The mapping of one container: its volume mounts (with ``subPath``) plus ``extra`` paths."""
    entries: dict[str, str] = {key: str(value) for key, value in extra.items()}
    for mount in container.get("volumeMounts", []):
        name = mount["name"]
        if name not in volume_dirs:
            raise UnsupportedPodError(f"volume mount {name!r} names no volume of the pod")
        local = volume_dirs[name] / mount.get("subPath", "")
        local.mkdir(parents=True, exist_ok=True)
        entries[mount["mountPath"].rstrip("/") or "/"] = str(local)
    ordered = sorted(entries.items(), key=lambda item: len(item[0]), reverse=True)
    return PathMap(tuple(ordered))


@dataclass(frozen=True)
class PodSources:
    """What a kubelet writes into a pod's volumes besides Secrets and ConfigMaps."""

    token: Callable[[Mapping[str, Any]], Awaitable[str]]
    """A ``serviceAccountToken`` projection → a token of the pod's service account."""
    field: Callable[[str], str]
    """A downward API field path (``metadata.namespace``) → its value."""


async def materialize_volumes(
    volumes: Sequence[Mapping[str, Any]],
    root: Path,
    fetch: Fetch,
    sources: PodSources | None = None,
) -> dict[str, Path]:
    """Create a folder per volume under ``root`` and fill Secret/ConfigMap/projected volumes.

    With ``sources``, projected service-account tokens and downward API items are written too
    (the volume Kubernetes adds to a pod that mounts its service account's token); without,
    they are left out."""
    folders: dict[str, Path] = {}
    for volume in volumes:
        folder = root / volume["name"]
        folder.mkdir(parents=True, exist_ok=True)
        folders[volume["name"]] = folder
        if "emptyDir" in volume or "ephemeral" in volume:
            continue
        if "secret" in volume:
            source = volume["secret"]
            await _write_source(folder, "secrets", source.get("secretName", ""), source, fetch)
        elif "configMap" in volume:
            source = volume["configMap"]
            await _write_source(folder, "configmaps", source.get("name", ""), source, fetch)
        elif "projected" in volume:
            for part in volume["projected"].get("sources", []):
                if "secret" in part:
                    source = part["secret"]
                    await _write_source(folder, "secrets", source.get("name", ""), source, fetch)
                elif "configMap" in part:
                    source = part["configMap"]
                    await _write_source(folder, "configmaps", source.get("name", ""), source, fetch)
                elif sources is not None and "serviceAccountToken" in part:
                    source = part["serviceAccountToken"]
                    _write_file(folder / source["path"], await sources.token(source), 0o644)
                elif sources is not None and "downwardAPI" in part:
                    for item in part["downwardAPI"].get("items", []):
                        if "fieldRef" not in item:
                            raise UnsupportedPodError(
                                f"volume {volume['name']!r}: only fieldRef downward API items run"
                            )
                        value = sources.field(item["fieldRef"]["fieldPath"])
                        _write_file(folder / item["path"], value, int(item.get("mode", 0o644)))
        else:
            kinds = sorted(set(volume) - {"name"})
            raise UnsupportedPodError(
                f"volume {volume['name']!r} is of a kind the process node does not run ({', '.join(kinds)})"
            )
    return folders


async def _write_source(
    folder: Path, resource: str, name: str, source: Mapping[str, Any], fetch: Fetch
) -> None:
    found = await fetch(resource, name)
    if found is None:
        if source.get("optional"):
            return
        raise UnsupportedPodError(f"{resource[:-1]} {name!r} is missing")
    files = _decoded(resource, found)
    default_mode = int(source.get("defaultMode", 0o644))
    items = source.get("items")
    chosen = (
        [(item["key"], item["path"], int(item.get("mode", default_mode))) for item in items]
        if items
        else [(key, key, default_mode) for key in files]
    )
    for key, relative, mode in chosen:
        if key not in files:
            if source.get("optional"):
                continue
            raise UnsupportedPodError(f"{resource[:-1]} {name!r} has no key {key!r}")
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[key])
        target.chmod(mode)


def _write_file(target: Path, text: str, mode: int) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    target.chmod(mode)


def _decoded(resource: str, found: Mapping[str, Any]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    if resource == "secrets":
        for key, value in (found.get("data") or {}).items():
            files[key] = base64.b64decode(value)
        for key, value in (found.get("stringData") or {}).items():
            files[key] = str(value).encode()
    else:
        for key, value in (found.get("data") or {}).items():
            files[key] = str(value).encode()
        for key, value in (found.get("binaryData") or {}).items():
            files[key] = base64.b64decode(value)
    return files


def decoded_values(resource: str, found: Mapping[str, Any]) -> dict[str, str]:
    """The keys of a Secret or ConfigMap as text (for environment variables)."""
    return {
        key: value.decode("utf-8", errors="replace")
        for key, value in _decoded(resource, found).items()
    }
