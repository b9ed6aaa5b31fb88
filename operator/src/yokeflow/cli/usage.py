"""Command-line usage errors (a bad option or value, a missing argument) as one sentence."""

from __future__ import annotations

from typing import Any

__all__ = ["usage_problem"]


def usage_problem(exc: Any) -> str:
    """A command-line usage error as one sentence, pointing at the command's ``--help``.

    typer vendors click, so its exceptions are only known by their attributes here.
    """
    format_message = getattr(exc, "format_message", None)
    text = format_message() if callable(format_message) else str(exc)
    message = " ".join(str(text).split()).replace("Value error, ", "")
    ctx = getattr(exc, "ctx", None)
    where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    return f"{message}{where}"
