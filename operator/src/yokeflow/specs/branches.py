"""The git branches of a run on its remote: one integration branch, one branch per task.

All of a run's branches live under ``yokeflow/<run>/``, so two runs on one repository never share
a branch and every task's work stays findable by name after the run is gone.
"""

from __future__ import annotations

from yokeflow.core.naming import sanitize_branch_name

__all__ = ["integration_branch", "task_branch"]


def integration_branch(run: str) -> str:
    """Where merge Jobs land the run's work (``yokeflow/<run>/integration``)."""
    return sanitize_branch_name("integration", _prefix(run))


def task_branch(run: str, task: str) -> str:
    """Where the agents of ``task`` push their work (``yokeflow/<run>/task/<task>``)."""
    return sanitize_branch_name(task, f"{_prefix(run)}task/")


def _prefix(run: str) -> str:
    # A run's name is a DNS-1123 subdomain: always a safe path part.
    return f"yokeflow/{run}/"
