"""Command-line values converted without pydantic where the conversion is plain.

typer converts every option and argument through a pydantic ``TypeAdapter``: the first value a
command reads imports pydantic and builds an adapter per parameter — about a third of what
``yokeflow graph`` costs on a 10,000-task plan. :func:`plain_values` gives each parameter a
conversion that handles the plain cases itself: a string, a whole or decimal number in range, a
choice spelt as listed, a readable or absent path. Anything else — a value out of range, a
misspelt choice, an unreadable path, a list, a type this module does not know — goes to typer's
own conversion, so that the value it yields and the error it reports stay exactly typer's.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import typer.core
from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param

__all__ = ["UNSURE", "convert", "plain_values"]

UNSURE: Any = object()
"""What :func:`convert` returns when the value is not plain: typer converts it."""
_WHOLE = re.compile(r"-?[0-9]{1,18}").fullmatch
_DECIMAL = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,15})?").fullmatch


def plain_values(command: Any) -> None:
    """Give every parameter of ``command`` (and of its sub-commands) the plain conversion."""
    for param in getattr(command, "params", []):
        _give(param)
    # The --help option is made on first use (and kept): it gets the plain conversion then.
    if "get_help_option" not in vars(command):
        make_help_option = command.get_help_option

        def get_help_option(ctx: Any) -> Any:
            option = make_help_option(ctx)
            _give(option)
            return option

        command.get_help_option = get_help_option
    for sub in getattr(command, "commands", {}).values():
        plain_values(sub)


def _give(param: Any) -> None:
    if isinstance(param, typer.core._TyperParameter) and param._runtime_param is None:
        descriptor = param.type_descriptor
        param._runtime_param = _PlainValue(
            descriptor.parameter_info, descriptor.annotation, descriptor
        )


@dataclass(frozen=True)
class _PlainValue(RuntimeParam):
    """A parameter's conversion: :func:`convert`, else typer's own."""

    descriptor: TypeDescriptor

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        converted = convert(self.descriptor, value, ctx)
        if converted is not UNSURE:
            return converted
        return build_runtime_param(self.descriptor)._coerce_value(value, param=param, ctx=ctx)


def convert(descriptor: TypeDescriptor, value: Any, ctx: Any = None) -> Any:
    """``value`` converted as typer would convert it, or a marker (not None) when unsure."""
    info = descriptor.parameter_info
    annotation = descriptor.annotation
    if descriptor.file_annotation is not None or info.parser is not None:
        return UNSURE
    if annotation is str:
        return value if type(value) is str else UNSURE
    if annotation is bool:
        return value if type(value) is bool else UNSURE
    if annotation is int or annotation is float:
        return _number(annotation, value, info.min, info.max, bool(info.clamp))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _choice(annotation, value, info.case_sensitive, ctx)
    if annotation is Path:
        return _path(value, info)
    return UNSURE


def _number(kind: type[Any], value: Any, low: Any, high: Any, clamp: bool) -> Any:
    if type(value) is str:
        if not (_WHOLE if kind is int else _DECIMAL)(value):
            return UNSURE
        number = kind(value)
    elif type(value) is int or (type(value) is float and kind is float):
        number = kind(value)
    else:
        return UNSURE
    if clamp or (low is not None and number < low) or (high is not None and number > high):
        return UNSURE
    return number


def _choice(kind: type[Enum], value: Any, case_sensitive: bool, ctx: Any) -> Any:
    if isinstance(value, kind):
        return value
    if type(value) is not str or not case_sensitive or getattr(ctx, "token_normalize_func", None):
        return UNSURE
    for member in kind:
        if str(member.value) == value:
            return member
    return UNSURE


def _path(value: Any, info: Any) -> Any:
    plain = (
        info.path_type is None
        and info.file_okay
        and info.dir_okay
        and info.readable
        and not (info.exists or info.writable or info.resolve_path or info.allow_dash)
    )
    if not plain:
        return UNSURE
    if isinstance(value, Path):
        path = value
    elif type(value) is str and value and "\0" not in value:
        path = Path(value)
    else:
        return UNSURE
    try:
        os.stat(path)
    except OSError:
        return path  # absent: the command says what it expected there
    return path if os.access(path, os.R_OK) else UNSURE
