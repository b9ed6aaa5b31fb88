"""The commands of ``python -m todo``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from todo.cli import build_parser
from todo.persist import load, save
from todo.query import filter_todos
from todo.sort import sort_todos
from todo.stats import stats


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    store = load(args.file)
    if args.command == "add":
        item = store.add(args.title, args.priority)
        save(store, args.file)
        print(f"added #{item.id}: {item.title}")
    elif args.command == "list":
        done = True if args.done else False if args.open else None
        for item in sort_todos(filter_todos(store.all(), done=done, text=args.text)):
            print(f"[{'x' if item.done else ' '}] #{item.id} (p{item.priority}) {item.title}")
    elif args.command == "done":
        try:
            item = store.complete(args.id)
        except KeyError as exc:
            print(exc.args[0], file=sys.stderr)
            return 1
        save(store, args.file)
        print(f"done #{item.id}: {item.title}")
    elif args.command == "report":
        result = stats(store.all())
        print(f"{result.total} todos, {result.done} done ({result.share_done:.0%})")
    return 0
