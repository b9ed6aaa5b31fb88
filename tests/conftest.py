"""Settings every test shares, and which tests share a worker when the suite runs on several.

Property-based tests judge correctness, not speed: on a shared, loaded machine a generated example
can take longer than hypothesis' default 200 ms deadline, or its data generation can look "too
slow", and the test would fail for reasons unrelated to the code. Speed is measured by the scripts
in ``tests/benchmarks``.

With ``-n N --dist loadgroup`` the suite runs on N pytest-xdist workers. Each
worker is a test session of its own (its own session fixtures, temporary folders, embedded
PostgreSQL, database names), and the tests of one group run on one worker, one after another:

* every test that uses the ``control_plane`` fixture (directly or through ``kubectl``,
  ``process_node``, the operator…) is in the group ``controlplane``: one control plane for the
  whole run (a second one on 2 cores slows both), and what its tests install cluster-wide (CRDs,
  one operator watching every namespace, the process node) never meets a second copy;
* a test marked ``xdist_group(name)`` is in the group ``name``.

pytest-xdist's own ``loadgroup`` tags each test's node id with its group, which pytest 9 no longer
lets a plugin do (the tag is silently lost, and every group is spread over all workers). So each
worker writes which test is in which group to a file in a folder the controller hands it, and the
controller's scheduler reads them when it splits the collection into units of work (after every
worker has collected, so the files are complete).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from xdist.scheduler import LoadGroupScheduling

settings.register_profile("yokeflow", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("yokeflow")

GROUP_OF_FIXTURE = {"control_plane": "controlplane"}
"""Tests using the fixture (anywhere in their closure) are in the group."""

_GROUPS_FOLDER = "yokeflow_groups_folder"
"""The key of the groups' folder in each worker's ``workerinput``."""
_groups_folder = pytest.StashKey[Path]()


def _group(item: pytest.Item) -> str | None:
    names = {
        str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        for mark in item.iter_markers("xdist_group")
    }
    fixtures = getattr(item, "fixturenames", ())
    names.update(group for fixture, group in GROUP_OF_FIXTURE.items() if fixture in fixtures)
    return "_".join(sorted(names)) or None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a worker: write ``{node id: group}`` of the grouped tests for the controller."""
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is None or _GROUPS_FOLDER not in workerinput:
        return
    groups = {item.nodeid: group for item in items if (group := _group(item))}
    target = Path(workerinput[_GROUPS_FOLDER]) / f"{workerinput['workerid']}.json"
    target.write_text(json.dumps(groups), encoding="utf-8")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """On the controller, for each worker it starts: where the worker writes its groups."""
    config: pytest.Config = node.config
    if _groups_folder not in config.stash:
        config.stash[_groups_folder] = Path(tempfile.mkdtemp(prefix="yokeflow-xdist-groups-"))
    node.workerinput[_GROUPS_FOLDER] = str(config.stash[_groups_folder])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadGroupScheduling | None:
    if config.getvalue("dist") != "loadgroup":
        return None
    return _WrittenGroupScheduling(config, log)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _groups_folder in config.stash:
        shutil.rmtree(config.stash[_groups_folder], ignore_errors=True)


class _WrittenGroupScheduling(LoadGroupScheduling):
    """``loadgroup`` scheduling whose groups come from the files the workers wrote."""

    def __init__(self, config: pytest.Config, log: Any) -> None:
        super().__init__(config, log)
        self._groups: dict[str, str] | None = None

    def _split_scope(self, nodeid: str) -> str:
        if self._groups is None:
            # Called only once every worker has finished collecting (and so written its file).
            self._groups = {}
            folder = self.config.stash.get(_groups_folder, None)
            for path in sorted(folder.glob("*.json")) if folder is not None else ():
                self._groups.update(json.loads(path.read_text(encoding="utf-8")))
        return self._groups.get(nodeid) or super()._split_scope(nodeid)
