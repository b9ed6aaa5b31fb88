"""Real git repositories in temporary folders, and worktree managers over them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from yokeflow.adapters.git import WorkspaceOptions, WorktreeManager
from yokeflow.testing.fake_ledger import InMemoryWorktreeLedger
from yokeflow.testing.git_repos import make_repository


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    return make_repository(tmp_path / "repo")


ManagerFactory = Callable[..., WorktreeManager]


@pytest.fixture
def make_manager(repository: Path) -> ManagerFactory:
    ledger = InMemoryWorktreeLedger()

    def build(**kwargs: object) -> WorktreeManager:
        options = kwargs.pop("options", None) or WorkspaceOptions()
        return WorktreeManager(
            repository,
            kwargs.pop("ledger", ledger),  # type: ignore[arg-type]
            project_id=1,
            options=options,  # type: ignore[arg-type]
            **kwargs,  # type: ignore[arg-type]
        )

    return build


@pytest.fixture
async def manager(make_manager: ManagerFactory) -> AsyncIterator[WorktreeManager]:
    built = make_manager()
    await built.initialize()
    return built
