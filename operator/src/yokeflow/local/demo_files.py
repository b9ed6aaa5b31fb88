"""The demo's files: its spec, plan and app, and the scripted model's script generated from them.

``examples/demo/`` holds a small app spec, its plan (12 tasks over 4 epics), the code each task's
agent writes (``app/``, ``variants/``, mapped by ``work.yaml``) and ``start/`` (the sample
repository's first commit). :func:`demo_scenario` turns these into the scenario the scripted
model server replays — planning through the MCP task tools, then each task writing its files,
running the tests, committing and reporting, and one merge-conflict resolution — so the demo
runs the real CLI, real git and real PostgreSQL with no network. ``examples/demo/scenario.yaml``
is generated (``yokeflow generate``) and checked for staleness.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from yokeflow.core.plan import Plan, parse_plan
from yokeflow.resources import resource_dir

__all__ = ["DEMO_VERIFY", "demo_dir", "demo_plan", "demo_scenario", "demo_scenario_text"]

DEMO_VERIFY = "python3 -m unittest discover -s tests -q"
"""The demo repository's tests: run by each task's agent, after each session and after each merge."""
_MCP = "mcp__yokeflow__"
_SECONDS_PER_ESTIMATED_MINUTE = 1.0


def demo_dir() -> Path:
    return resource_dir("examples") / "demo"


def demo_plan(root: Path | None = None) -> Plan:
    path = (root or demo_dir()) / "plan.yaml"
    return parse_plan(path.read_text(encoding="utf-8"), str(path))


def _files(root: Path, entries: list[str]) -> list[tuple[str, str]]:
    out = []
    for entry in entries:
        target, _, source = entry.partition("=")
        out.append((target, (root / (source or f"app/{target}")).read_text(encoding="utf-8")))
    return out


def _write(target: str, content: str) -> dict[str, Any]:
    return {"tool": "Write", "input": {"file_path": "{cwd}/" + target, "content": content}}


def _read(target: str) -> dict[str, Any]:
    return {"tool": "Read", "input": {"file_path": "{cwd}/" + target}}


def demo_scenario(root: Path | None = None) -> dict[str, Any]:
    """The scenario of the demo, as data."""
    root = root or demo_dir()
    plan = demo_plan(root)
    work: dict[str, list[str]] = yaml.safe_load((root / "work.yaml").read_text(encoding="utf-8"))
    planning: list[dict[str, Any]] = []
    for epic in plan.epics:
        planning.append(
            {
                "tool": _MCP + "create_epic",
                "input": {
                    "key": epic.key,
                    "name": epic.name,
                    "description": epic.description,
                    "priority": epic.priority,
                    "depends_on": list(epic.depends_on),
                },
            }
        )
    for epic, task in plan.tasks():
        planning.append(
            {
                "tool": _MCP + "create_task",
                "input": {
                    "epic": epic.key,
                    "key": task.key,
                    "title": task.title,
                    "description": task.description,
                    "depends_on": [d.key for d in task.dependencies()],
                    "estimate_minutes": task.estimate_minutes,
                    "task_type": task.type,
                },
            }
        )
    planning.append({"tool": _MCP + "validate_dependencies", "input": {}})
    planning.append({"text": f"Planned {len(plan.tasks())} tasks in {len(plan.epics)} epics."})
    rules: list[dict[str, Any]] = [
        {
            "match": "You are the planning agent of YokeFlow",
            "delay_seconds": 0.05,
            "usage": {"input_tokens": 6000, "output_tokens": 400},
            "turns": planning,
        }
    ]
    # Claude Code's Write tool refuses to overwrite a file the session has not read: a task
    # reads the files that its worktree already has (the start files and its dependencies').
    start = {str(p.relative_to(root / "start")) for p in (root / "start").rglob("*") if p.is_file()}
    deps = {
        task.key: [d.key for d in task.dependencies() if d.type == "hard"]
        for _, task in plan.tasks()
    }

    def present(key: str) -> set[str]:
        out = set(start)
        for dep in deps[key]:
            out |= {e.partition("=")[0] for e in work[dep]} | present(dep)
        return out

    for number, (_, task) in enumerate(plan.tasks()):
        files = _files(root, work[task.key])
        existing = present(task.key)
        turns: list[dict[str, Any]] = [{"tool": _MCP + "start_task", "input": {}}]
        for target, content in files:
            if target in existing:
                turns.append(_read(target))
            turns.append(_write(target, content))
        turns.append({"tool": "Bash", "input": {"command": DEMO_VERIFY + " 2>&1 | tail -3"}})
        turns.append(
            {
                "tool": "Bash",
                "input": {"command": f"git add -A && git commit -qm '{task.key}: {task.title}'"},
            }
        )
        turns.append({"tool": _MCP + "update_task_status", "input": {"status": "done"}})
        turns.append({"text": f"{task.title}: done, tests pass, committed."})
        seconds = task.estimate_minutes * _SECONDS_PER_ESTIMATED_MINUTE
        rules.append(
            {
                "task": task.key,
                "delay_seconds": round(seconds / len(turns), 3),
                # Token counts vary by task, as real sessions do; the CLI prices them per model.
                "usage": {"input_tokens": 3000 + 450 * number, "output_tokens": 250 + 40 * number},
                "turns": turns,
            }
        )
    resolved = _files(root, work["resolve"])
    rules.append(
        {
            "match": "You are resolving a merge conflict",
            "delay_seconds": 0.2,
            "usage": {"input_tokens": 4000, "output_tokens": 300},
            "turns": [
                *(
                    turn
                    for target, content in resolved
                    for turn in (_read(target), _write(target, content))
                ),
                {"text": "Kept both sections: usage and features."},
            ],
        }
    )
    return {"default": [{"text": "Nothing to do."}], "rules": rules}


def demo_scenario_text(root: Path | None = None) -> str:
    """``examples/demo/scenario.yaml``."""
    header = "# Generated by `yokeflow generate` from plan.yaml, work.yaml and the demo's files.\n"
    return header + yaml.safe_dump(
        demo_scenario(root), sort_keys=False, width=100, allow_unicode=True
    )
