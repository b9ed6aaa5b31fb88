"""Command-line values converted without pydantic come out exactly as typer's own conversion.

Every parameter of every command, fed values (numbers written every which way, choices
in other cases, paths that exist, do not, or are folders): where :func:`plain_values.convert`
converts, typer's pydantic conversion gives the equal value of the same type; where it is
unsure, the command falls back to typer's (and its error message).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer._click import Context
from typer._coercion import build_runtime_param

from yokeflow.cli import plain_values
from yokeflow.cli.lazy_group import load
from yokeflow.cli.main import COMMANDS, app


def _parameters() -> list[tuple[str, Any, Any]]:
    out: list[tuple[str, Any, Any]] = []

    def walk(name: str, command: Any) -> None:
        for param in command.params:
            out.append((f"{name} {param.name}", command, param))
        for sub_name, sub in getattr(command, "commands", {}).items():
            walk(f"{name} {sub_name}", sub)

    walk("yokeflow", typer.main.get_command(app))
    for entry in COMMANDS:
        walk(entry.name, load(entry))
    return out


PARAMETERS = _parameters()
HERE = Path(__file__)
VALUES: list[Any] = [
    *["1", "0", "-3", "007", "+5", " 5", "5 ", "1_0", "1024", "1025", "99999999999999999999"],
    *["2.5", "-0.5", "1e3", ".5", "5.", "nan", "inf", "", " ", "-", "a"],
    *["text", "json", "TEXT", "Json", " json", "mermaid", "ascii", "eager", "batches", "merge"],
    *[str(HERE), str(HERE.parent), "/nope/x", "relative/x", "a\0b"],
    *[True, False, 0, 3, 2.5, -1, Path("relative"), HERE],
]


def test_a_plain_conversion_is_typers() -> None:
    compared = 0
    for name, command, param in PARAMETERS:
        ctx = Context(command)
        descriptor = param.type_descriptor
        runtime = build_runtime_param(descriptor)
        for value in VALUES:
            converted = plain_values.convert(descriptor, value, ctx)
            if converted is plain_values.UNSURE:
                continue
            try:
                expected = runtime._coerce_value(value, param=param, ctx=ctx)
            except Exception as exc:  # typer's BadParameter, or what it lets by
                pytest.fail(f"{name} {value!r}: typer refuses ({exc}), converted to {converted!r}")
            assert (type(converted), converted) == (type(expected), expected), (name, value)
            compared += 1
    assert compared > 500  # the plain path is the usual one


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("simulate concurrency", "8", 8),
        ("graph format", "mermaid", "mermaid"),
        ("graph plan", str(HERE), HERE),
        ("graph epic", "db", "db"),
    ],
)
def test_the_usual_values_are_converted_plainly(name: str, value: str, expected: Any) -> None:
    _, command, param = next(p for p in PARAMETERS if p[0] == name)
    converted = plain_values.convert(param.type_descriptor, value, Context(command))
    assert converted == expected


def test_an_out_of_range_value_keeps_typers_message(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from yokeflow.cli.main import main

    monkeypatch.setattr(sys, "argv", ["yokeflow", "simulate", str(HERE), "--concurrency", "0"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert "--concurrency" in capsys.readouterr().err


def test_graph_does_not_import_pydantic(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "name: p\nepics:\n  - key: e\n    name: E\n    tasks:\n      - {key: t, title: T}\n",
        encoding="utf-8",
    )
    code = (
        "import sys\n"
        "from yokeflow.cli.main import main\n"
        f"sys.argv = ['yokeflow', 'graph', {str(plan)!r}, '--format', 'json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('pydantic' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert '"task_order": [\n    "t"\n  ]' in done.stdout
    assert done.stderr.strip() == "False"
