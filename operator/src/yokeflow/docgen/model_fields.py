"""The documented fields of a pydantic model, one row each: path, type, default, checks, meaning.

Read from the model's JSON Schema (what pydantic validates: types, enums, bounds) and from an
instance built with no arguments (defaults, including those made by a ``default_factory``, which
the JSON Schema leaves out). Nested models are walked into; a mapping or list of models is one
row. A field without a description is an :class:`~yokeflow.errors.UndocumentedFieldError`: the
model's docstrings are the documentation, so every field needs one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from yokeflow.errors import UndocumentedFieldError

__all__ = ["FieldRow", "Group", "field_rows", "groups", "markdown_text"]


@dataclass(frozen=True, slots=True)
class FieldRow:
    """One field of a model, ready for a reference table (texts are Markdown)."""

    path: tuple[str, ...]
    """The keys from the model's root to the field (aliases when the model has them)."""
    type: str
    default: str
    checks: str
    """The bounds and rules a value must meet, empty when there are none."""
    description: str


@dataclass(frozen=True, slots=True)
class Group:
    """A nested model: the fields under ``path`` (empty for the root) and what they are for."""

    path: tuple[str, ...]
    description: str


def field_rows(model: type[BaseModel]) -> list[FieldRow]:
    """Every leaf field of ``model`` and of the models nested in it, in declaration order."""
    schema = model.model_json_schema(by_alias=True)
    defaults = model().model_dump(mode="json", by_alias=True)
    rows = []
    for path, node, nested in _walk(schema, schema, ()):
        if nested:
            continue
        description = node.get("description")
        if not description:
            raise UndocumentedFieldError(
                f"{model.__name__}: field {'.'.join(path)} has no docstring to document it with"
            )
        rows.append(
            FieldRow(
                path=path,
                type=_type(schema, node),
                default=_default(_lookup(defaults, path)),
                checks=_checks(node),
                description=markdown_text(description),
            )
        )
    return rows


def groups(model: type[BaseModel]) -> list[Group]:
    """The root and every nested model of ``model``, with its description (its docstring)."""
    schema = model.model_json_schema(by_alias=True)
    out = [Group((), markdown_text(schema.get("description", "")))]
    for path, node, nested in _walk(schema, schema, ()):
        if nested:
            out.append(Group(path, markdown_text(node.get("description", ""))))
    return out


def markdown_text(text: str) -> str:
    """A docstring as one Markdown line: whitespace collapsed, ``literal`` as `literal`."""
    return re.sub(r"``(.+?)``", r"`\1`", " ".join(text.split()))


def _walk(
    root: Mapping[str, Any], node: Mapping[str, Any], path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], Mapping[str, Any], bool]]:
    """(path, node, is a nested model) for every property under ``node``, depth first.

    A property's own description (its field docstring) wins over the nested model's docstring.
    """
    for name, prop in node.get("properties", {}).items():
        target = _resolve(root, prop)
        merged = {**target, **{k: v for k, v in prop.items() if k != "$ref"}}
        here = (*path, name)
        if "properties" in target:
            yield here, merged, True
            yield from _walk(root, target, here)
        else:
            yield here, merged, False


def _resolve(root: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    name = ref.rsplit("/", 1)[-1]
    return _resolve(root, root["$defs"][name])


def _lookup(values: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        values = values[key]
    return values


def _type(root: Mapping[str, Any], node: Mapping[str, Any]) -> str:
    node = _resolve(root, node)
    variants = node.get("anyOf")
    if variants:
        kinds = [_type(root, v) for v in variants if v.get("type") != "null"]
        optional = len(kinds) < len(variants)
        return " or ".join(kinds) + (", optional" if optional else "")
    if "enum" in node:
        return " \\| ".join(f"`{value}`" for value in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    kind = node.get("type", "object")
    if kind == "array":
        return f"list of {_plural(_type(root, node.get('items', {})))}"
    if kind == "object":
        extra = node.get("additionalProperties")
        if isinstance(extra, Mapping):
            return f"map of string to {_type(root, extra)}"
        return "object"
    if node.get("format") == "password":
        return "string (secret)"
    if node.get("format") == "path":
        return "path"
    return str(kind)


def _plural(kind: str) -> str:
    return f"{kind}s" if re.fullmatch(r"[a-z]+", kind) else kind


def _default(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, str):
        return f"`{value}`" if value else '`""`'
    text = json.dumps(value, separators=(", ", ": "), ensure_ascii=False)
    return f"`{text}`".replace("|", "\\|")


def _checks(node: Mapping[str, Any]) -> str:
    for variant in node.get("anyOf", ()):
        if variant.get("type") != "null":
            node = {**variant, **node}
    checks = []
    low = _bound(node, "minimum", "≥") or _bound(node, "exclusiveMinimum", ">")
    high = _bound(node, "maximum", "≤") or _bound(node, "exclusiveMaximum", "<")
    if low.startswith("≥") and high.startswith("≤"):
        checks.append(f"{low[2:]} to {high[2:]}")
    else:
        checks.extend(bound for bound in (low, high) if bound)
    for key, noun in (("minLength", "characters"), ("minItems", "items")):
        if node.get(key) == 1:
            checks.append("not empty")
        elif key in node:
            checks.append(f"at least {node[key]} {noun}")
    for key, text in (
        ("maxLength", "at most {} characters"),
        ("maxItems", "at most {} items"),
        ("pattern", "matches `{}`"),
    ):
        if key in node:
            checks.append(text.format(node[key]))
    return ", ".join(checks).replace("|", "\\|")


def _bound(node: Mapping[str, Any], key: str, sign: str) -> str:
    value = node.get(key)
    return "" if value is None else f"{sign} {_number(value)}"


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"
