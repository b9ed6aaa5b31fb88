"""What the API's routes work with, built once by the composition root (:mod:`.app`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi import Path as PathParam

from yokeflow.ports.learning import LearningStore
from yokeflow.ports.review import DiffReader, TranscriptReader
from yokeflow.ports.runs import RunControl
from yokeflow.ports.store import Store
from yokeflow.services.epic_worktrees import WorkspaceOpener
from yokeflow.settings import Settings
from yokeflow.web.event_log import EventLog
from yokeflow.web.metrics import Metrics

__all__ = ["Deps", "Id", "WebDeps", "get_deps"]


@dataclass
class WebDeps:
    store: Store
    learning: LearningStore
    settings: Settings
    token: str
    events: EventLog
    metrics: Metrics
    transcripts: TranscriptReader
    diffs: DiffReader
    runs: RunControl | None = None
    """Starts runs in this process; None: this API only watches and steers the store."""
    workspaces: WorkspaceOpener | None = None
    """Opens a project's repository for merges and resolutions; None: not on this machine."""
    static_dir: Path | None = None
    """The built dashboard (None: not built; the API works without it)."""


def get_deps(request: Request) -> WebDeps:
    deps: WebDeps = request.app.state.deps
    return deps


Deps = Annotated[WebDeps, Depends(get_deps)]
Id = Annotated[int, PathParam(ge=1, le=2_147_483_647, description="A database id.")]
"""A path id: a positive 32-bit integer (what the database's ids are)."""
