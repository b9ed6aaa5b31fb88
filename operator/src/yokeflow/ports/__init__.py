"""Ports: the Protocols between services and the adapters that do I/O."""

from yokeflow.ports.agent import AgentRequest, AgentResult, AgentRunner, CostRecorder
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
    "AgentRequest",
    "AgentResult",
    "AgentRunner",
    "ConflictResolutionRequest",
    "ConflictResolver",
    "CostRecorder",
    "Store",
    "TaskRef",
    "Workspace",
    "WorktreeInfo",
    "WorktreeLedger",
]
