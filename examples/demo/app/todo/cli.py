"""The command-line parser of ``python -m todo``."""

from __future__ import annotations

import argparse
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="todo", description="A small to-do list.")
    parser.add_argument("--file", type=Path, default=Path("todos.json"), help="where the list is kept")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add a todo")
    add.add_argument("title")
    add.add_argument("--priority", type=int, choices=(1, 2, 3), default=2)
    show = commands.add_parser("list", help="list todos")
    show.add_argument("--done", action="store_true", help="only done items")
    show.add_argument("--open", action="store_true", help="only open items")
    show.add_argument("--text", default="", help="only titles containing this")
    done = commands.add_parser("done", help="mark a todo done")
    done.add_argument("id", type=int)
    commands.add_parser("report", help="print statistics")
    return parser
