"""The shipped prompts: each renders, each variable is required, and the content the issue and
the spec's epic 00 ask for is there."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from yokeflow.adapters.prompt_files import load_prompts
from yokeflow.core.hygiene import STANDARD_GITIGNORE
from yokeflow.core.prompts import PROMPTS
from yokeflow.errors import PromptError
from yokeflow.resources import resource_dir

TASK = {"key": "api-todos", "title": "Todo endpoints", "description": "GET and POST /todos."}

VARIABLES: dict[str, dict[str, Any]] = {
    "planning": {
        "project_name": "todo",
        "spec": "A todo app with an API and a web UI.",
        "task_minutes": 30,
        "output": "mcp",
        "plan_path": "plan.yaml",
    },
    "task": {
        "project_name": "todo",
        "task": TASK,
        "epic": {"key": "api", "name": "API"},
        "dependencies": [{"key": "db-schema", "title": "Create the schema"}],
        "worktree": {
            "path": "/repo/.worktrees/api-todos",
            "branch": "task/api-todos",
            "base_branch": "main",
        },
        "expertise": "- run `pytest -q` (db-schema)",
        "domain": "api",
        "verification": ["pytest -q"],
        "mcp_tools": True,
    },
    "merge_resolution": {
        "project_name": "todo",
        "branch": "task/api-todos",
        "target_branch": "main",
        "task": TASK,
        "worktree_path": "/repo/.worktrees/_integration",
        "conflicts": ["api/app.py"],
        "verification": ["pytest -q"],
    },
    "expertise_extraction": {
        "project_name": "todo",
        "domain": "api",
        "current_expertise": "- use httpx (api-a)",
        "current_lines": 1,
        "max_lines": 1000,
        "task": TASK,
        "succeeded": True,
        "failures": ["Bash `pytest` failed: ImportError, fixed by adding __init__.py"],
        "files": ["api/app.py"],
        "tool_patterns": ["Write, then Bash pytest"],
    },
}


@pytest.fixture(scope="module")
def templates():
    return load_prompts()


def test_the_shipped_prompts_are_exactly_the_known_ones(templates) -> None:
    assert templates.names() == sorted(PROMPTS)
    assert set(VARIABLES) == set(PROMPTS)


@pytest.mark.parametrize("name", PROMPTS)
def test_every_prompt_renders(templates, name: str) -> None:
    text = templates.render(name, VARIABLES[name])
    assert text.endswith("\n")
    assert "{{" not in text
    assert "{%" not in text
    assert len(text) > 400


@pytest.mark.parametrize(("name", "variable"), [(n, v) for n in PROMPTS for v in VARIABLES[n]])
def test_every_variable_is_required(templates, name: str, variable: str) -> None:
    given = {k: v for k, v in VARIABLES[name].items() if k != variable}
    if name == "planning" and variable == "plan_path":
        # plan_path is only read when the plan is written to a file.
        given["output"] = "file"
    with pytest.raises(PromptError, match=f"'{variable}' is undefined"):
        templates.render(name, given)


@pytest.mark.parametrize("name", ["planning", "task"])
def test_planning_and_task_prompts_ask_for_gitignore_first_and_the_init_guard(
    templates, name: str
) -> None:
    text = templates.render(name, VARIABLES[name])
    for entry in STANDARD_GITIGNORE:
        assert f"\n{entry}\n" in text, entry
    assert "before** any `npm install`" in text
    assert "if [ ! -f .gitignore ]; then" in text
    assert "init.sh" in text


def test_planning_prompt_teaches_dependencies(templates) -> None:
    text = templates.render("planning", VARIABLES["planning"])
    assert "depends_on" in text
    assert "Database schema before the data-access layer" in text
    assert "API endpoints before the UI" in text
    assert "A todo app with an API and a web UI." in text
    assert "create_task" in text
    as_file = templates.render("planning", {**VARIABLES["planning"], "output": "file"})
    assert "Write the plan as YAML to `plan.yaml`" in as_file


def test_task_prompt_has_the_task_worktree_expertise_checklist_and_verification(templates) -> None:
    text = templates.render("task", VARIABLES["task"])
    assert "# Your task: Todo endpoints (`api-todos`)" in text
    assert "GET and POST /todos." in text
    assert "`db-schema`: Create the schema" in text
    assert "git worktree** at `/repo/.worktrees/api-todos` on branch `task/api-todos`" in text
    assert "- run `pytest -q` (db-schema)" in text
    assert "## Pre-commit checklist" in text
    assert "git rm -r --cached node_modules" in text
    assert "- `pytest -q`" in text
    assert "update_task_status" in text
    bare = templates.render(
        "task",
        {
            **VARIABLES["task"],
            "expertise": "",
            "verification": [],
            "dependencies": [],
            "mcp_tools": False,
        },
    )
    assert "Expertise from earlier sessions" not in bare
    assert "Write or update tests" in bare
    assert "update_task_status" not in bare


def test_merge_and_expertise_prompts_name_their_inputs(templates) -> None:
    merge = templates.render("merge_resolution", VARIABLES["merge_resolution"])
    assert "- `api/app.py`" in merge
    assert "do not commit" in merge
    expertise = templates.render("expertise_extraction", VARIABLES["expertise_extraction"])
    assert "1 of at most 1000 lines" in expertise
    assert "ImportError" in expertise
    assert "- `api/app.py`" in expertise


def test_the_prompts_folder_ships_in_the_wheel() -> None:
    folder = resource_dir("prompts")
    root = Path(__file__).resolve().parents[2]
    with (root / "pyproject.toml").open("rb") as f:
        pyproject = tomllib.load(f)
    force = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert force["prompts"] == "yokeflow/_data/prompts"
    assert sorted(p.name for p in folder.glob("*.md.j2") if not p.name.startswith("_")) == sorted(
        f"{n}.md.j2" for n in PROMPTS
    )
