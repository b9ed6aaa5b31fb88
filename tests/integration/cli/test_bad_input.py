"""Every bad input a new user tried ends in one sentence naming the file, field or value, exit 2.

Each case runs the installed ``yokeflow`` console script, as a user would: no traceback, nothing
accepted silently, one line on stderr.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

YOKEFLOW = shutil.which("yokeflow", path=str(Path(sys.executable).parent)) or "yokeflow"
TASKS = "name: x\nepics:\n- key: a\n  name: A\n  tasks:\n"


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("YOKEFLOW_")}
    environ.update(env or {})
    return subprocess.run(
        [YOKEFLOW, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
        env=environ,
    )


def refused(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    """The one line of a refusal (exit 2, no traceback), checked to contain ``expected``."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error: "), line
    for text in expected:
        assert text in line, line
    return line


def plan_file(tmp_path: Path, text: str, name: str = "plan.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_deeply_nested_plan(tmp_path: Path) -> None:
    deep = plan_file(tmp_path, TASKS + "  - key: t\n    title: " + "[" * 5000 + "]" * 5000 + "\n")
    refused(run("graph", deep), deep, "line 7", "nested more than 100 levels deep")
    flow = plan_file(tmp_path, "name: x\nepics: " + "[" * 200_000 + "]" * 200_000, "flow.yaml")
    refused(run("simulate", flow), flow, "nested more than")
    as_json = plan_file(tmp_path, '{"name": "x", "epics": ' + "[" * 100_000 + "]" * 100_000 + "}")
    as_json_path = Path(as_json).rename(tmp_path / "plan.json")
    refused(run("graph", str(as_json_path)), "plan.json", "nested too deeply")


def test_simulate_on_a_plan_with_no_tasks(tmp_path: Path) -> None:
    empty = plan_file(tmp_path, TASKS.replace("tasks:\n", "tasks: []\n"))
    refused(run("simulate", empty), empty, "has no tasks")
    refused(run("simulate", empty, "--format", "json"), empty, "has no tasks")


def test_graph_of_a_device_or_a_binary_file_is_refused_quickly(tmp_path: Path) -> None:
    refused(run("graph", "/dev/urandom"), "/dev/urandom", "binary")
    refused(run("graph", "/dev/zero"), "/dev/zero", "binary")
    blob = tmp_path / "blob.yaml"
    blob.write_bytes(bytes(range(256)) * 4)
    refused(run("graph", str(blob)), str(blob), "binary")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\u00e9\n".encode("latin-1"))
    refused(run("graph", str(latin)), str(latin), "not UTF-8")


def test_a_plan_over_the_size_limit(tmp_path: Path) -> None:
    from yokeflow.cli.planfile import MAX_PLAN_BYTES

    big = tmp_path / "big.yaml"
    with big.open("w") as handle:
        handle.write(TASKS)
        handle.write("#" * (MAX_PLAN_BYTES + 10))
    refused(run("graph", str(big)), str(big), "larger than 64 MB")


def test_a_duplicate_key_is_refused_not_silently_dropped(tmp_path: Path) -> None:
    # the second depends_on used to replace the first and hide a dependency
    dup = plan_file(
        tmp_path,
        TASKS + "  - key: t\n    title: T\n    depends_on: [u]\n    depends_on: []\n"
        "  - key: u\n    title: U\n",
    )
    refused(run("graph", dup), dup, "line 9", "duplicate key 'depends_on'")
    as_json = tmp_path / "dup.json"
    as_json.write_text('{"name": "x", "name": "y", "epics": []}')
    refused(run("graph", str(as_json)), str(as_json), "duplicate key 'name'")


@pytest.mark.parametrize(
    ("estimate", "problem"),
    [
        (".inf", "finite number, got inf"),
        ("-.inf", "finite number"),
        (".nan", "finite number"),
        ("1e308", "less than or equal to 1000000"),
        ("0", "greater than 0"),
    ],
)
def test_estimates_that_are_not_a_sensible_number(
    tmp_path: Path, estimate: str, problem: str
) -> None:
    path = plan_file(
        tmp_path, TASKS + f"  - key: t\n    title: T\n    estimate_minutes: {estimate}\n"
    )
    refused(run("graph", path, "--format", "json"), path, "estimate_minutes", problem)
    refused(run("simulate", path, "--format", "json"), path, "estimate_minutes", problem)


def test_json_output_is_json_at_the_largest_estimates(tmp_path: Path) -> None:
    tasks = "".join(
        f"  - key: t{i}\n    title: T\n    estimate_minutes: 1000000\n" for i in range(50)
    )
    path = plan_file(tmp_path, TASKS + tasks)
    for command in ("graph", "simulate"):
        result = run(command, path, "--format", "json")
        assert result.returncode == 0, result.stderr
        assert "Infinity" not in result.stdout
        assert "NaN" not in result.stdout
        json.loads(result.stdout, parse_constant=_not_json)


def _not_json(constant: str) -> None:
    pytest.fail(f"printed {constant}, which is not JSON")


@pytest.mark.parametrize("priority", ["100000000000000000000000000000", "-2147483649", "1e29"])
def test_a_priority_outside_the_database_column(tmp_path: Path, priority: str) -> None:
    path = plan_file(tmp_path, TASKS + f"  - key: t\n    title: T\n    priority: {priority}\n")
    refused(run("graph", path), path, "epics[0].tasks[0].priority", priority)


def test_the_largest_priority_the_database_holds_is_accepted(tmp_path: Path) -> None:
    path = plan_file(
        tmp_path,
        TASKS.replace("  tasks:", "  priority: -2147483648\n  tasks:")
        + "  - key: t\n    title: T\n    priority: 2147483647\n",
    )
    assert run("graph", path).returncode == 0


def test_an_epic_that_depends_on_itself_is_an_epic_cycle(tmp_path: Path) -> None:
    path = plan_file(
        tmp_path,
        TASKS.replace("  tasks:", "  depends_on: [a]\n  tasks:") + "  - {key: t, title: T}\n",
    )
    line = refused(run("graph", path), path, "epics[0]", "epic 'a' depends on itself")
    assert "t -> t" not in line
    two = plan_file(
        tmp_path,
        "name: x\nepics:\n- {key: a, name: A, depends_on: [b], tasks: [{key: t, title: T}]}\n"
        "- {key: b, name: B, depends_on: [a], tasks: [{key: u, title: U}]}\n",
        "two.yaml",
    )
    refused(run("simulate", two), two, "epic cycle: a -> b -> a")


def test_an_empty_project_name(tmp_path: Path) -> None:
    path = plan_file(tmp_path, TASKS + "  - {key: t, title: T}\n")
    refused(run("plan", "--repo", str(tmp_path), "--plan", path, "--name", ""), "--name", "empty")
    refused(run("run", "--repo", str(tmp_path), "--plan", path, "--name", "  "), "--name", "empty")


def test_demo_workdir_that_is_a_file_or_cannot_be_created(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    refused(run("demo", "--workdir", str(a_file), cwd=tmp_path), str(a_file), "is a file")
    below = a_file / "sub"
    refused(run("demo", "--workdir", str(below), cwd=tmp_path), str(below), "cannot create it")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (bytes(range(256)), "a binary file"),
        (b"cost: " + b"[" * 100_000 + b"]" * 100_000, "nested more than"),
        (b"cost: {haiku_below: 0.1}\ncost: {}\n", "duplicate key 'cost'"),
        ("parallel: {worktree_dir: caf\u00e9}".encode("latin-1"), "not UTF-8"),
    ],
)
def test_a_bad_settings_file(tmp_path: Path, content: bytes, problem: str) -> None:
    (tmp_path / ".yokeflow.yaml").write_bytes(content)
    refused(run("config", "show", cwd=tmp_path), ".yokeflow.yaml", problem)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"YOKEFLOW_LEARNING_DOMAINS": "[" * 20_000 + "]" * 20_000}, "nested too deeply"),
        ({"YOKEFLOW_COST_HAIKU_BELOW": "0.9"}, "haiku_below (0.9) is above opus_from (0.6)"),
        ({"YOKEFLOW_DATABASE_POOL_MIN_SIZE": "20"}, "pool_min_size (20) is above pool_max_size"),
        ({"YOKEFLOW_PARALEL_MAX_CONCURRENCY": "4"}, "YOKEFLOW_PARALLEL_MAX_CONCURRENCY"),
        ({"YOKEFLOW_DB_URL": "postgresql://x"}, "unknown settings section 'db'"),
        ({"YOKEFLOW_PARALLEL_MAX_CONCURENCY": "4"}, "unknown setting"),
    ],
)
def test_bad_settings_in_the_environment(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    refused(run("config", "show", cwd=tmp_path, env=env), next(iter(env)), expected)


def test_contradicting_settings_in_the_file_name_their_source(tmp_path: Path) -> None:
    (tmp_path / ".yokeflow.yaml").write_text("cost:\n  haiku_below: 0.7\n  opus_from: 0.5\n")
    refused(
        run("config", "show", cwd=tmp_path),
        "contradicting settings in cost",
        "cost.haiku_below from",
        ".yokeflow.yaml",
    )


def test_other_yokeflow_variables_are_not_settings(tmp_path: Path) -> None:
    env = {"YOKEFLOW_MCP_TOKEN_SECRET": "x" * 20, "YOKEFLOW_TASK_ID": "3"}
    assert run("config", "show", cwd=tmp_path, env=env).returncode == 0


@pytest.mark.parametrize("ttl", ["-5", "0", "nan", "inf"])
def test_a_token_ttl_that_is_not_positive(ttl: str) -> None:
    refused(run("mcp", "token", "--project", "p", "--ttl", ttl), "--ttl", "positive")


def test_usage_errors_are_one_line_too() -> None:
    refused(run("graph", "--format", "xml", "p.yaml"), "--format", "yokeflow graph --help")
    refused(run("graph"), "Missing argument")
    refused(run("simulate", "-c", "0", "p.yaml"), "--concurrency")


def test_a_model_pinned_on_a_task_that_names_no_tier_or_claude_model(tmp_path: Path) -> None:
    yaml_plan = plan_file(tmp_path, TASKS + "  - key: t\n    title: T\n    model: gpt-4\n")
    refused(run("graph", yaml_plan), yaml_plan, "line 8", "task 't'", "model 'gpt-4'")
    json_plan = plan_file(
        tmp_path,
        '{"name": "x", "epics": [{"key": "a", "name": "A", "tasks": '
        '[{"key": "t", "title": "T", "model": "opuss"}]}]}',
        "plan.json",
    )
    refused(run("graph", json_plan), json_plan, "task 't'", "model 'opuss'")
