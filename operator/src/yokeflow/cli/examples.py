"""One example per command, shown at the end of its ``--help`` (a contract test pins that each
command has one, and that each example names only options the command has)."""

from __future__ import annotations

from typing import Any

__all__ = ["EXAMPLES", "add_examples"]

EXAMPLES: dict[str, str] = {
    "graph": "yokeflow graph plan.yaml --format mermaid --epic api",
    "migrate": "yokeflow migrate --database-url postgresql://user@db/yokeflow",
    "generate": "yokeflow generate --check",
    "simulate": "yokeflow simulate plan.yaml --concurrency 4 --schedule batches",
    "costs": "yokeflow costs --format json",
    "run": "yokeflow run --plan plan.yaml --max-concurrency 4 --budget 20",
    "plan": "yokeflow plan --spec spec.md --name shop",
    "status": "yokeflow status --project shop --format json",
    "logs": "yokeflow logs db-schema --follow",
    "cancel": "yokeflow cancel --project shop",
    "retry": "yokeflow retry db-schema api-orders",
    "demo": "yokeflow demo --workdir /tmp/yokeflow-demo --max-concurrency 4",
    "config show": "yokeflow config show --format json",
    "db start": "yokeflow db start --data-dir ~/.local/share/yokeflow/pg",
    "db stop": "yokeflow db stop",
    "db status": "yokeflow db status",
    "db url": "yokeflow db url",
    "scripted-model serve": "yokeflow scripted-model serve --scenario scenario.yaml --port 8765",
    "scripted-model check": "yokeflow scripted-model check scenario.yaml",
    "runner task": "yokeflow runner task --project shop --task db-schema --worktree .worktrees/t1",
    "runner merge": (
        "yokeflow runner merge --repository /workspace/repo --integration-branch main"
        " --task db-schema=yokeflow/shop/db-schema --strategy merge"
    ),
    "runner plan": (
        "yokeflow runner plan --project shop --spec spec.md --worktree . --mcp-config mcp.json"
    ),
    "runner hygiene": "yokeflow runner hygiene . --fix",
    "operator": "yokeflow operator --namespace yokeflow --verbose",
    "mcp serve": "yokeflow mcp serve --stdio --project shop --task db-schema",
    "mcp token": "yokeflow mcp token --project shop --task db-schema --ttl 3600",
    "expertise list": "yokeflow expertise list --format json",
    "expertise show": "yokeflow expertise show database",
    "expertise validate": "yokeflow expertise validate database",
    "expertise improve": "yokeflow expertise improve api",
    "expertise edit": "yokeflow expertise edit database --file database.md",
    "expertise history": "yokeflow expertise history database",
    "api": "yokeflow api --port 8787 --token-file token.txt",
    "projects list": "yokeflow projects list --format json",
    "projects delete": "yokeflow projects delete --project shop --yes",
    "batches": "yokeflow batches --project shop",
    "tasks list": "yokeflow tasks list --project shop",
    "tasks show": "yokeflow tasks show db-schema",
    "tasks diff": "yokeflow tasks diff db-schema",
    "tasks transcript": "yokeflow tasks transcript 12 --limit 50",
    "tasks cancel": "yokeflow tasks cancel db-schema",
    "dependencies show": "yokeflow dependencies show --project shop",
    "dependencies validate": "yokeflow dependencies validate",
    "dependencies set": "yokeflow dependencies set api-orders --on db-schema --type hard",
    "worktrees list": "yokeflow worktrees list --epic api",
    "worktrees merge": "yokeflow worktrees merge api",
    "worktrees conflicts": "yokeflow worktrees conflicts api",
    "worktrees resolve": "yokeflow worktrees resolve api --strategy ours",
    "worktrees remove": "yokeflow worktrees remove api",
}
"""Command path (sub-commands joined by a space) → one command line a user could type."""


def add_examples(command: Any, path: str) -> None:
    """Set ``Example: …`` as the epilog of ``command`` (at ``path``) and of its sub-commands.

    A group shows the example of its first sub-command that has one.
    """
    subs = getattr(command, "commands", {})
    example = EXAMPLES.get(path) or next(
        (EXAMPLES[f"{path} {name}"] for name in subs if f"{path} {name}" in EXAMPLES), None
    )
    if example is not None and not getattr(command, "epilog", None):
        # "\b": click keeps the paragraph as written, so a long example is never broken inside
        # an option name (it would be, at a hyphen) and can be copied whole.
        command.epilog = f"\b\nExample: {example}"
    for name, sub in subs.items():
        add_examples(sub, f"{path} {name}".strip())
