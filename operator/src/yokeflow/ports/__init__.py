"""Ports: the Protocols between services and the adapters that do I/O."""

from yokeflow.ports.store import Store
from yokeflow.ports.workspace import (
    ConflictResolutionRequest,
    ConflictResolver,
    TaskRef,
    Workspace,
    WorktreeInfo,
    WorktreeLedger,
)

__all__ = [
    "ConflictResolutionRequest",
    "ConflictResolver",
    "Store",
    "TaskRef",
    "Workspace",
    "WorktreeInfo",
    "WorktreeLedger",
]
