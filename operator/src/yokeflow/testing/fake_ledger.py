"""The worktree ledger's fake: the in-memory ledger of :mod:`yokeflow.adapters.git.memory_ledger`
(a merge Job's pod uses the same one)."""

from __future__ import annotations

from yokeflow.adapters.git.memory_ledger import InMemoryWorktreeLedger

__all__ = ["InMemoryWorktreeLedger"]
