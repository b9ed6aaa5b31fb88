"""Every command answers --help with a description; the command set and its listing are pinned."""

from __future__ import annotations

import inspect
import subprocess
import sys
from typing import Any

import typer.main
from typer.testing import CliRunner

from yokeflow.cli.lazy_group import LazyGroup
from yokeflow.cli.main import COMMANDS, app


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path, each sub-command loaded as running it would load it."""
    out = [prefix]
    if hasattr(group, "list_commands"):
        ctx = typer.Context(group)
        for name in group.list_commands(ctx):
            out.extend(_commands(group.get_command(ctx, name), (*prefix, name)))
    return out


def test_every_command_has_help() -> None:
    root = typer.main.get_command(app)
    runner = CliRunner()
    paths = _commands(root)
    assert ("graph",) in paths
    assert ("config", "show") in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output
        command = root
        for name in path:
            command = command.get_command(typer.Context(command), name)
        assert (command.help or "").strip(), f"`yokeflow {' '.join(path)}` has no help text"


def test_the_listing_shows_each_command_with_its_own_help() -> None:
    """The root --help is drawn from the table; each line must be the command's own help."""
    root = typer.main.get_command(app)
    assert isinstance(root, LazyGroup)
    ctx = typer.Context(root)
    for entry in COMMANDS:
        command = root.get_command(ctx, entry.name)
        assert command is not None, entry.name
        first = inspect.cleandoc(command.help or "").split("\n\n")[0]
        assert entry.help == first, f"COMMANDS says {entry.help!r}, `{entry.name}` says {first!r}"
    assert root.list_commands(ctx) == [e.name for e in COMMANDS]
    assert len({e.name for e in COMMANDS}) == len(COMMANDS)


def test_root_help_lists_every_command_without_importing_them() -> None:
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from yokeflow.cli.main import app\n"
        "result = CliRunner().invoke(app, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(result.output)\n"
        "print('LOADED', sorted(m for m in sys.modules if m.endswith('_cmd')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    listing, loaded = done.stdout.rsplit("LOADED", 1)
    assert loaded.strip() == "[]", f"--help imported command modules: {loaded.strip()}"
    for entry in COMMANDS:
        assert f" {entry.name} " in listing, entry.name
        assert entry.help.split()[0] in listing


def test_help_is_plain_text_and_never_imports_rich() -> None:
    """rich (typer's boxed help) costs more than the rest of ``--help``: help is drawn plain."""
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from yokeflow.cli.main import app\n"
        "for args in (['--help'], ['graph', '--help'], ['tasks', '--help']):\n"
        "    result = CliRunner().invoke(app, args)\n"
        "    assert result.exit_code == 0, result.output\n"
        "    print(result.output)\n"
        "print('RICH', 'rich' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    shown, rich = done.stdout.rsplit("RICH", 1)
    assert rich.strip() == "False"
    assert "╭" not in shown
    # A listed sub-command shows its whole first paragraph, not click's first 45 characters.
    for line in shown.splitlines():
        assert line.startswith("Usage:") or not line.rstrip().endswith("..."), line


def test_a_command_loads_only_its_own_module() -> None:
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from yokeflow.cli.main import app\n"
        "result = CliRunner().invoke(app, ['graph', '--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in sys.modules if m.endswith('_cmd')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "['yokeflow.cli.graph_cmd']"


def test_unknown_command_is_refused() -> None:
    result = CliRunner().invoke(app, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output


def _loaded(root: Any, path: tuple[str, ...]) -> Any:
    command = root
    for name in path:
        command = command.get_command(typer.Context(command), name)
    return command


def test_one_meaning_per_short_flag() -> None:
    root = typer.main.get_command(app)
    meanings: dict[str, set[str]] = {}
    for path in _commands(root):
        for param in getattr(_loaded(root, path), "params", []):
            opts = [*getattr(param, "opts", []), *getattr(param, "secondary_opts", [])]
            longs = [o for o in opts if o.startswith("--")]
            for short in (o for o in opts if len(o) == 2 and o.startswith("-")):
                meanings.setdefault(short, set()).update(longs[:1])
    assert meanings["-f"] == {"--format"}
    assert {k: v for k, v in meanings.items() if len(v) > 1} == {}


def test_no_json_flag_and_no_value_marker_on_flags() -> None:
    """Data is printed with --format text|json; an on/off flag shows no <bool> value."""
    root = typer.main.get_command(app)
    runner = CliRunner()
    for path in _commands(root):
        command = _loaded(root, path)
        names = {o for p in getattr(command, "params", []) for o in getattr(p, "opts", [])}
        assert "--json" not in names, f"`yokeflow {' '.join(path)}` has --json: use --format"
        if not path:
            continue
        shown = runner.invoke(app, [*path, "--help"]).output
        flags = [
            line
            for line in shown.splitlines()
            if "<bool>" in line and "--help" not in line  # click's own --help option
        ]
        assert flags == [], f"`yokeflow {' '.join(path)} --help`: {flags}"
        assert "--install-completion" not in shown, path


def test_format_json_is_offered_where_data_is_printed() -> None:
    root = typer.main.get_command(app)
    printing = [("config", "show"), ("costs",), ("simulate",), ("graph",), ("run",), ("demo",),
                ("status",), ("projects", "list"), ("batches",), ("expertise", "list"),
                ("tasks", "list"), ("tasks", "show"), ("tasks", "transcript"),
                ("dependencies", "show"), ("dependencies", "validate"), ("dependencies", "set"),
                ("worktrees", "list"), ("worktrees", "merge"), ("worktrees", "conflicts"),
                ("worktrees", "resolve")]  # fmt: skip
    for path in printing:
        params = {o for p in _loaded(root, path).params for o in p.opts}
        assert "--format" in params, path


def test_every_command_shows_an_example_that_uses_its_own_options() -> None:
    from yokeflow.cli.examples import EXAMPLES

    root = typer.main.get_command(app)
    runner = CliRunner()
    assert "Example: yokeflow" in runner.invoke(app, ["--help"]).output
    leaves = [p for p in _commands(root) if p and not hasattr(_loaded(root, p), "list_commands")]
    for path in leaves:
        name = " ".join(path)
        assert name in EXAMPLES, f"`yokeflow {name}` has no example"
        example = EXAMPLES[name]
        assert example.startswith(f"yokeflow {name}"), example
        shown = " ".join(runner.invoke(app, [*path, "--help"]).output.split())
        assert f"Example: {example}" in shown, name
        options = {o for p in _loaded(root, path).params for o in p.opts}
        used = {w for w in example.split() if w.startswith("-")}
        assert used <= options, f"{example}: {used - options} are not options of {name}"
    assert set(EXAMPLES) == {" ".join(p) for p in leaves}
    groups = [p for p in _commands(root) if p and hasattr(_loaded(root, p), "list_commands")]
    assert groups
    for path in groups:  # a group shows one of its sub-commands' examples
        shown = " ".join(runner.invoke(app, [*path, "--help"]).output.split())
        assert f"Example: yokeflow {' '.join(path)} " in shown, path
