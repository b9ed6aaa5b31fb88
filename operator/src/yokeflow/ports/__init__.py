"""Ports: the Protocols between services and the adapters that do I/O."""

from yokeflow.ports.agent import AgentRequest, AgentResult, AgentRunner, CostRecorder
from yokeflow.ports.learning import LearningStore, TaskTypeCost
from yokeflow.ports.plan_edits import NewTask, Parking, PlanEdits
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
    "LearningStore",
    "NewTask",
    "Parking",
    "PlanEdits",
    "Store",
    "TaskRef",
    "TaskTypeCost",
    "Workspace",
    "WorktreeInfo",
    "WorktreeLedger",
]
