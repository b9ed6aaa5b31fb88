"""Real git repositories in temporary folders, and worktree managers over them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from yokeflow.adapters.git import StepHook, WorkspaceOptions, WorktreeManager
from yokeflow.ports import ConflictResolver
from yokeflow.testing.fake_ledger import InMemoryWorktreeLedger
from yokeflow.testing.git_repos import make_repository


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    return make_repository(tmp_path / "repo")


ManagerFactory = Callable[..., WorktreeManager]


@pytest.fixture
def make_manager(repository: Path) -> ManagerFactory:
    ledger = InMemoryWorktreeLedger()

    def build(
        *,
        ledger: InMemoryWorktreeLedger = ledger,
        options: WorkspaceOptions | None = None,
        resolver: ConflictResolver | None = None,
        on_step: StepHook | None = None,
    ) -> WorktreeManager:
        return WorktreeManager(
            repository,
            ledger,
            project_id=1,
            options=options or WorkspaceOptions(),
            resolver=resolver,
            on_step=on_step,
        )

    return build


@pytest.fixture
async def manager(make_manager: ManagerFactory) -> WorktreeManager:
    built = make_manager()
    await built.initialize()
    return built
