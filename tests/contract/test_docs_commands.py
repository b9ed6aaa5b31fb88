"""Every command the README and docs/ show exists, with the options they give it.

Shell lines in code blocks and inline code that start with ``yokeflow`` are checked against the
command tree of ``yokeflow`` itself: each sub-command must exist (and answer ``--help``), each
option must be one that command has, a choice must be one it accepts, and no more positional
words may be given than it takes. Usage notation is understood: ``[--opt X]``, ``(a | b)``,
``a|b`` (each alternative is checked), ``ARG…``. The quick start's ``helm`` and ``kubectl``
lines must name a chart and manifests that are in the repository (``docker … -f`` a file that is),
``bash FILE`` a script that is.
"""

from __future__ import annotations

import enum
import functools
import itertools
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
import typer.main
from typer.testing import CliRunner

from yokeflow.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
PAGES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "examples").glob("*/README.md")),
]
PENDING: dict[tuple[str, ...], str] = {}
"""Commands the pages name as not written yet (docs/kubernetes-objects.md says so). An entry
must go once its command exists: the check then holds it to its options like any other."""
_SHELL_BLOCKS = {"", "sh", "bash", "shell", "console"}
_SEPARATORS = {"&&", "||", ";", "|"}


@dataclass(frozen=True)
class Shown:
    """One command as a page shows it."""

    where: str
    words: tuple[str, ...]
    notation: bool
    """Inline code in prose or a table (usage notation), not a line of a shell block."""


def _blocks(text: str) -> Iterator[tuple[int, str, list[str]]]:
    for match in re.finditer(r"^```(\w*)[^\n]*\n(.*?)^```", text, re.S | re.M):
        line = text.count("\n", 0, match.start()) + 2
        yield line, match.group(1), match.group(2).splitlines()


def _shell_lines(lines: list[str]) -> Iterator[tuple[int, str]]:
    """Lines with continuations joined and a ``$ `` prompt removed."""
    held, start = "", 0
    for offset, line in enumerate(lines):
        if not held:
            start = offset
        if line.rstrip().endswith("\\"):
            held += line.rstrip()[:-1] + " "
            continue
        yield start, (held + line).strip().removeprefix("$ ")
        held = ""


def shown_commands(page: Path) -> Iterator[Shown]:
    """Every ``yokeflow``, ``helm``, ``kubectl`` and ``bash`` command ``page`` shows."""
    text = page.read_text(encoding="utf-8")
    name = page.relative_to(ROOT) if page.is_relative_to(ROOT) else page
    fenced = set()
    for first, language, lines in _blocks(text):
        fenced.update(range(first - 1, first + len(lines) + 1))
        if language not in _SHELL_BLOCKS:
            continue
        for offset, line in _shell_lines(lines):
            try:
                words = shlex.split(line, comments=True)
            except ValueError:
                continue  # not shell (output shown in a console block)
            command: list[str] = []
            for word in [*words, ";"]:
                if word in _SEPARATORS:
                    if command:
                        yield Shown(f"{name}:{first + offset}", tuple(command), notation=False)
                    command = []
                elif command or not re.match(r"[A-Za-z_][A-Za-z0-9_]*=", word):
                    command.append(word)  # leading VAR=value assignments are not the program
    prose = "\n".join("" if n in fenced else line for n, line in enumerate(text.splitlines(), 1))
    for match in re.finditer(r"`([^`]+)`", prose):
        span = " ".join(match.group(1).replace("\\|", "|").split())  # a span may wrap lines
        if "\n\n" not in match.group(1) and re.match(r"(\.venv/bin/)?yokeflow\s", span):
            number = prose.count("\n", 0, match.start()) + 1
            yield Shown(f"{name}:{number}", tuple(span.split()), notation=True)


def _clean(words: tuple[str, ...], notation: bool) -> list[list[str]]:
    """The command's argument lists: usage brackets removed, each ``a|b`` alternative apart."""
    cleaned = []
    for word in words:
        word = word.rstrip(".…")
        word = word.strip("[]()").rstrip(".…").strip("[]()")
        if word in {"", "|"} and notation:
            continue
        cleaned.append(word.split("|") if "|" in word else [word])
    return [list(variant) for variant in itertools.product(*cleaned)]


def _is_group(command: Any) -> bool:
    return hasattr(command, "list_commands")


def _kind(param: Any) -> str:
    """``option`` or ``argument`` (typer bundles its own click: its classes are private)."""
    return str(param.param_type_name)


def _takes_value(param: Any) -> bool:
    return _kind(param) == "option" and not param.is_flag and not param.count


def _choices(param: Any) -> list[str]:
    """The values an option accepts when its type is an enumeration or a ``Literal``."""
    annotation = param.type_descriptor.annotation
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(member.value) for member in annotation]
    if get_origin(annotation) is Literal:
        return [str(value) for value in get_args(annotation)]
    return []


@functools.cache
def _tree() -> dict[tuple[str, ...], Any]:
    """Every command path of ``yokeflow`` (the root is ``()``) and its command, loaded once."""
    tree: dict[tuple[str, ...], Any] = {}

    def walk(command: Any, path: tuple[str, ...]) -> None:
        tree[path] = command
        if _is_group(command):
            context = typer.Context(command)
            for name in command.list_commands(context):
                walk(command.get_command(context, name), (*path, name))

    walk(typer.main.get_command(app), ())
    return tree


def _problems_of_yokeflow(args: list[str]) -> Iterator[str]:
    tree = _tree()
    path: tuple[str, ...] = ()
    rest = list(args)
    while _is_group(tree[path]) and rest and not rest[0].startswith("-"):
        if (*path, rest[0]) not in tree:
            if (*path, rest[0]) not in PENDING:
                yield f"`yokeflow {' '.join(path)}` has no command {rest[0]!r}"
            return
        path = (*path, rest.pop(0))
    command = tree[path]
    options = {
        name: param
        for param in command.params
        if _kind(param) == "option"
        for name in (*param.opts, *param.secondary_opts)
    }
    capacity = sum(
        float("inf") if param.nargs < 0 else param.nargs
        for param in command.params
        if _kind(param) == "argument"
    )
    positional = 0
    words = iter(rest)
    for word in words:
        if word == "--help":
            continue
        if word.startswith("-") and word != "-":
            name, _, value = word.partition("=")
            param = options.get(name)
            if param is None:
                yield f"`yokeflow {' '.join(path)}` has no option {name}"
                continue
            if _takes_value(param):
                value = value or next(words, "")
                choices = _choices(param)
                if choices and value.islower() and value not in choices:
                    yield f"`yokeflow {' '.join(path)} {name}` takes one of {list(choices)}"
        elif _is_group(command):
            yield f"`yokeflow {' '.join(path)}` has no command {word!r}"
        else:
            positional += 1
    if positional > capacity:
        yield f"`yokeflow {' '.join(path)}` takes {capacity:g} arguments, {positional} given"
    failure = _help_failure(path)
    if failure:
        yield f"`yokeflow {' '.join(path)} --help` failed: {failure}"


@functools.cache
def _help_failure(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"])
    return "" if result.exit_code == 0 else result.output[-300:]


def _problems_of_files(program: str, args: list[str]) -> Iterator[str]:
    """``helm``/``kubectl``/``docker``/``bash``: the repository files they are given must exist."""
    files = []
    if program == "bash":
        files = args[:1]
    elif program in {"helm", "kubectl", "docker"}:
        words = iter(args)
        for word in words:
            if word in {"-f", "--filename", "--values", "--patch-file"}:
                files.append(next(words, ""))
            elif word.startswith(("charts/", "./charts/")):
                files.append(word.rstrip("/") + "/Chart.yaml")
    for file in files:
        if "://" not in file and not (ROOT / file).exists():
            yield f"`{program}` is given {file}, which is not in the repository"


def _is_yokeflow(program: str) -> bool:
    return program == "yokeflow" or program.endswith("/bin/yokeflow")


def problems(shown: Shown) -> list[str]:
    """What is wrong with one shown command (nothing when it is true to the code)."""
    program, *args = shown.words
    out: list[str] = []
    for variant in _clean(tuple(args), shown.notation):
        if _is_yokeflow(program):
            out.extend(_problems_of_yokeflow(variant))
        else:
            out.extend(_problems_of_files(program, variant))
    return sorted(set(out))


def test_every_command_the_pages_show_exists() -> None:
    checked, found = 0, []
    for page in PAGES:
        for shown in shown_commands(page):
            if _is_yokeflow(shown.words[0]):
                checked += 1
            found.extend(f"{shown.where}: {problem}" for problem in problems(shown))
    assert found == []
    assert checked >= 50


def test_commands_not_written_yet_are_still_missing() -> None:
    """A pending command that exists now must leave :data:`PENDING` (and the page's caveat)."""
    written = [" ".join(path) for path in PENDING if path in _tree()]
    assert written == [], (
        f"now written, drop from PENDING and docs/kubernetes-objects.md: {written}"
    )


@pytest.mark.parametrize(
    ("words", "notation", "expected"),
    [
        (("yokeflow", "frobnicate"), False, "has no command 'frobnicate'"),
        (("yokeflow", "demo", "--turbo"), False, "has no option --turbo"),
        (("yokeflow", "tasks", "frobnicate"), False, "`yokeflow tasks` has no command"),
        (("yokeflow", "run", "--repo", ".", "--turbo"), False, "has no option --turbo"),
        (("yokeflow", "graph", "p.yaml", "--format", "svg"), False, "takes one of"),
        (("yokeflow", "expertise", "show|purge", "DOMAIN"), True, "no command 'purge'"),
        (("yokeflow", "status", "extra"), False, "takes 0 arguments, 1 given"),
        (("kubectl", "apply", "-f", "examples/projectrun/missing.yaml"), False, "not in the"),
        (("helm", "install", "yf", "charts/nothing"), False, "not in the repository"),
    ],
)
def test_the_check_fails_on_what_does_not_exist(
    words: tuple[str, ...], notation: bool, expected: str
) -> None:
    found = problems(Shown("test", words, notation))
    assert any(expected in problem for problem in found), found


def test_a_command_after_variable_assignments_is_checked(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```sh\nYOKEFLOW_COST_BUDGET_LIMIT_USD=1 FOO=2 yokeflow demo --turbo\n```\n")
    [shown] = shown_commands(page)
    assert shown.words == ("yokeflow", "demo", "--turbo")
    assert problems(shown) == ["`yokeflow demo` has no option --turbo"]


def test_usage_notation_is_read_as_usage() -> None:
    usage = (
        "yokeflow run --repo DIR (--spec FILE | --plan FILE | --resume [--retry-failed]) "
        "[--schedule eager|batches] [--budget USD]"
    )
    shown = Shown("test", tuple(usage.split(" ")), notation=True)
    assert problems(shown) == []
    assert problems(Shown("test", ("yokeflow", "retry", "TASK…"), notation=True)) == []
