"""An agent session that resolves a merge conflict in the integration worktree.

The merge queue hands it a :class:`~yokeflow.ports.workspace.ConflictResolutionRequest` when the
conflict policy is ``agent``; the session edits the conflicted files (keeping both intents) and
returns, and the queue then checks that no marker is left and concludes the merge itself. The
session's cost is recorded like any other, under the operation ``merge``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from yokeflow.core.prompts import PromptTemplates
from yokeflow.core.records import Project
from yokeflow.errors import PermanentError
from yokeflow.ports.agent import AgentRequest, AgentRunner, CostRecorder
from yokeflow.ports.workspace import ConflictResolutionRequest

__all__ = ["AgentConflictResolver"]


@dataclass
class AgentConflictResolver:
    """Callable as a ``ConflictResolver``."""

    agent: AgentRunner
    prompts: PromptTemplates
    project: Project
    model: str
    costs: CostRecorder
    max_turns: int = 30
    timeout_seconds: float = 900.0
    transcripts: Path | None = None
    verification: tuple[str, ...] = ()
    task_keys: Mapping[int, str] = field(default_factory=dict)
    """Task id → key, to name the task to the agent and the scripted model."""

    async def __call__(self, request: ConflictResolutionRequest) -> None:
        key = self.task_keys.get(request.task.task_id, Path(request.task_branch).name)
        prompt = self.prompts.render(
            "merge_resolution",
            {
                "project_name": self.project.name,
                "branch": request.task_branch,
                "target_branch": request.integration_branch,
                "worktree_path": request.worktree,
                "conflicts": [c.path for c in request.conflicts],
                "task": {
                    "key": key,
                    "title": request.task.title,
                    "description": request.task.description,
                },
                "verification": list(self.verification),
            },
        )
        prompt += (
            "\n## What landed meanwhile\n\n"
            f"{request.integration_log or '(nothing)'}\n\n## The task's commits\n\n{request.task_log}\n"
        )
        result = await self.agent.run(
            AgentRequest(
                prompt=prompt,
                cwd=Path(request.worktree),
                model=self.model,
                max_turns=self.max_turns,
                timeout_seconds=self.timeout_seconds,
                task=f"{key}:resolve",
                transcript_path=None
                if self.transcripts is None
                else self.transcripts / f"{key}-resolve.jsonl",
            )
        )
        await self.costs.record_agent_cost(
            self.project.id,
            model=result.model,
            cost_usd=result.total_cost_usd,
            task_id=request.task.task_id,
            operation="merge",
            input_tokens=result.usage.input,
            output_tokens=result.usage.output,
            cache_read_tokens=result.usage.cache_read,
            cache_creation_tokens=result.usage.cache_creation,
        )
        if not result.success:
            raise PermanentError(
                f"the conflict resolution session failed: {result.error or result.end}"
            )
