"""Records as the agents see them: plain JSON objects, dependencies named by task key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yokeflow.core.records import Epic, Project, Session, Task, Test

__all__ = ["epic_view", "project_view", "session_view", "task_view", "verification_view"]


def _keys(ids: tuple[int, ...], keys: Mapping[int, str]) -> list[str]:
    return [keys.get(i, str(i)) for i in ids]


def task_view(
    task: Task, task_keys: Mapping[int, str], epic_keys: Mapping[int, str]
) -> dict[str, Any]:
    """A task with its hard and soft dependencies as keys."""
    return {
        "id": task.id,
        "key": task.key,
        "title": task.title,
        "description": task.description,
        "status": task.status.value,
        "epic": epic_keys.get(task.epic_id, str(task.epic_id)),
        "epic_id": task.epic_id,
        "priority": task.priority,
        "estimate_minutes": task.estimate_minutes,
        "task_type": task.task_type,
        "depends_on": _keys(task.hard_dependencies, task_keys),
        "soft_depends_on": _keys(task.soft_dependencies, task_keys),
        "attempts": task.attempts,
        "claimed_by": task.claimed_by,
        "last_error": task.last_error,
        "model": task.model,
        "pinned_model": task.pinned_model,
    }


def epic_view(epic: Epic, epic_keys: Mapping[int, str]) -> dict[str, Any]:
    return {
        "id": epic.id,
        "key": epic.key,
        "name": epic.name,
        "description": epic.description,
        "priority": epic.priority,
        "status": epic.status.value,
        "depends_on": _keys(epic.depends_on, epic_keys),
    }


def verification_view(test: Test, task_key: str) -> dict[str, Any]:
    return {
        "id": test.id,
        "task": task_key,
        "category": test.category,
        "description": test.description,
        "steps": list(test.steps),
        "status": test.status.value,
        "result": test.result,
    }


def session_view(session: Session, task_keys: Mapping[int, str]) -> dict[str, Any]:
    return {
        "id": session.id,
        "task": None if session.task_id is None else task_keys.get(session.task_id),
        "kind": session.kind,
        "status": session.status.value,
        "model": session.model,
        "summary": session.summary,
        "error": session.error,
        "started_at": None if session.started_at is None else session.started_at.isoformat(),
        "ended_at": None if session.ended_at is None else session.ended_at.isoformat(),
    }


def project_view(project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "completed": bool(project.metadata.get("completed", False)),
    }
