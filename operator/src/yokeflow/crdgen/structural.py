"""Pydantic's JSON Schema rewritten as a Kubernetes structural schema.

The API server refuses what pydantic emits by default: ``$ref``/``$defs``, ``{"type": "null"}``
branches, ``additionalProperties: false`` beside ``properties``, ``const``, numeric
``exclusiveMinimum``, unions of types. :func:`structural_schema` inlines references, turns an
optional field's null branch into an absent field, keeps every description (they are what
``kubectl explain`` prints) and refuses what has no structural form, naming the path.
:func:`structural_problems` walks a schema and lists what would make the API server refuse it;
tests use it on every generated CRD.

Pure: dictionaries in, dictionaries out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from yokeflow.errors import CrdGenerationError

__all__ = ["clean_description", "structural_problems", "structural_schema"]

Schema = dict[str, Any]

# Keys that carry no validation and that the API server either refuses or would only store.
_DROPPED = frozenset(
    {"title", "examples", "$schema", "discriminator", "readOnly", "writeOnly", "deprecated"}
)
# Keys a structural schema may hold (apiextensions.k8s.io/v1 JSONSchemaProps, minus the ones
# structural schemas forbid: $ref, definitions, dependencies, additionalItems, patternProperties).
_ALLOWED = frozenset(
    {
        "type",
        "format",
        "description",
        "default",
        "enum",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "uniqueItems",
        "multipleOf",
        "maxProperties",
        "minProperties",
        "required",
        "items",
        "properties",
        "additionalProperties",
        "anyOf",
        "allOf",
        "oneOf",
        "not",
        "nullable",
        "example",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-embedded-resource",
        "x-kubernetes-int-or-string",
        "x-kubernetes-list-map-keys",
        "x-kubernetes-list-type",
        "x-kubernetes-map-type",
        "x-kubernetes-validations",
    }
)


def structural_schema(schema: Mapping[str, Any]) -> Schema:
    """The structural equivalent of a pydantic JSON Schema (``model_json_schema(by_alias=True)``).

    Raises :class:`~yokeflow.errors.CrdGenerationError` for a construct with no structural form
    (a union of two object types, a tuple, an unresolvable reference).
    """
    defs: Mapping[str, Any] = schema.get("$defs", {})
    root = {k: v for k, v in schema.items() if k != "$defs"}
    return _convert(root, defs, "")


def clean_description(text: str) -> str:
    """A docstring as ``kubectl explain`` should show it: paragraphs joined, ``code`` in single
    backticks."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip())]
    return "\n\n".join(p.replace("``", "`") for p in paragraphs if p)


def _convert(node: Mapping[str, Any], defs: Mapping[str, Any], path: str) -> Schema:
    if "$ref" in node:
        target = _resolve(node["$ref"], defs, path)
        merged = dict(_convert(target, defs, path))
        # The field's own keys (its description, default) win over the referenced model's.
        merged.update(_convert({k: v for k, v in node.items() if k != "$ref"}, defs, path))
        return merged
    if "allOf" in node and len(node["allOf"]) == 1:
        inner = _convert(node["allOf"][0], defs, path)
        return {**inner, **_convert({k: v for k, v in node.items() if k != "allOf"}, defs, path)}
    out: Schema = {}
    for key, value in node.items():
        if key in _DROPPED:
            continue
        if key == "anyOf":
            out.update(_union(value, defs, path, node))
        elif key == "const":
            out["enum"] = [value]
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            out[key] = True
        elif key == "properties":
            required = set(node.get("required", ()))
            out[key] = {
                name: _property(sub, name in required, defs, f"{path}.{name}")
                for name, sub in value.items()
            }
        elif key == "items":
            if not isinstance(value, Mapping):
                raise CrdGenerationError(f"{path or '<root>'}: tuple items have no structural form")
            out[key] = _convert(value, defs, f"{path}[]")
        elif key == "additionalProperties":
            if value is False:
                continue  # the structural default: unknown fields are pruned (or refused)
            if value is True:
                raise CrdGenerationError(
                    f"{path or '<root>'}: a free-form map needs x-kubernetes-preserve-unknown-fields"
                )
            out[key] = _convert(value, defs, f"{path}.*")
        elif key == "description":
            out[key] = clean_description(value)
        elif key == "default" and value is None:
            continue
        elif key == "prefixItems":
            raise CrdGenerationError(f"{path or '<root>'}: tuples have no structural form")
        elif key == "uniqueItems":
            continue  # refused by the API server; list types say it ("set", "map")
        else:
            if key not in _ALLOWED:
                raise CrdGenerationError(f"{path or '<root>'}: {key!r} is not allowed in a CRD")
            out[key] = value
    if "properties" in out:
        out.setdefault("type", "object")
    if out.get("type") in ("number", "integer") and isinstance(out.get("default"), str):
        out["default"] = _number(out["default"], path)
    return _ordered(out)


def _number(text: str, path: str) -> int | float:
    """A number written as text: pydantic writes a ``Decimal`` default as a string, which the API
    server refuses as the default of a ``number``."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CrdGenerationError(f"{path or '<root>'}: default {text!r} is not a number") from None
    return int(value) if value == value.to_integral_value() else float(value)


_FIRST = ("description", "type", "format", "default", "enum")


def _ordered(node: Schema) -> Schema:
    """Readable key order in the generated YAML: what a field is, then how it is checked."""
    first = [k for k in _FIRST if k in node]
    rest = sorted(k for k in node if k not in _FIRST and k not in ("properties", "items"))
    last = [k for k in ("items", "properties") if k in node]
    return {k: node[k] for k in (*first, *rest, *last)}


def _union(
    branches: list[Mapping[str, Any]], defs: Mapping[str, Any], path: str, node: Mapping[str, Any]
) -> Schema:
    # An optional field's null branch is dropped, not turned into `nullable: true`: the API server
    # then prunes an explicit null, so `text: null` means "unset" as it does in the model, and CEL's
    # has() stays true only for a value.
    non_null = [b for b in branches if b.get("type") != "null"]
    if node.get("x-kubernetes-int-or-string"):
        return {"anyOf": [_convert(b, defs, path) for b in non_null]}
    if len(non_null) != 1:
        kinds = ", ".join(str(b.get("type", b.get("$ref", "?"))) for b in non_null)
        raise CrdGenerationError(f"{path or '<root>'}: a union of {kinds} has no structural form")
    return _convert(non_null[0], defs, path)


def _property(raw: Mapping[str, Any], required: bool, defs: Mapping[str, Any], path: str) -> Schema:
    """One field. An optional object field without a default in the JSON Schema (a pydantic
    ``default_factory`` of a model whose fields all have defaults) defaults to ``{}``, so the API
    server fills in — and ``kubectl get -o yaml`` shows — its inner defaults, as pydantic would."""
    out = _convert(raw, defs, path)
    if (
        not required
        and "default" not in raw
        and out.get("type") == "object"
        and "properties" in out
        and not out.get("required")
    ):
        out = _ordered({**out, "default": {}})
    return out


def _resolve(ref: str, defs: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    prefix = "#/$defs/"
    name = ref[len(prefix) :] if ref.startswith(prefix) else None
    if name is None or name not in defs:
        raise CrdGenerationError(f"{path or '<root>'}: cannot resolve {ref!r}")
    target: Mapping[str, Any] = defs[name]
    return target


def structural_problems(schema: Mapping[str, Any], path: str = "") -> list[str]:
    """Why the API server would refuse ``schema`` as a structural schema; empty when it is one."""
    where = path or "<root>"
    problems: list[str] = []
    for key in schema:
        if key not in _ALLOWED:
            problems.append(f"{where}: {key!r} is not allowed")
    kind = schema.get("type")
    if kind == "null":
        problems.append(f"{where}: type null")
    if schema.get("x-kubernetes-int-or-string"):
        branches = schema.get("anyOf", [])
        if [b.get("type") for b in branches] not in ([], ["integer", "string"]):
            problems.append(f"{where}: int-or-string with branches other than integer, string")
    elif "anyOf" in schema or "oneOf" in schema:
        problems.append(f"{where}: a union outside int-or-string")
    elif not kind and not schema.get("x-kubernetes-preserve-unknown-fields"):
        problems.append(f"{where}: no type")
    if "properties" in schema and "additionalProperties" in schema:
        problems.append(f"{where}: additionalProperties beside properties")
    if schema.get("uniqueItems"):
        problems.append(f"{where}: uniqueItems: true")
    if "description" in schema and not isinstance(schema["description"], str):
        problems.append(f"{where}: description is not text")
    for name, sub in schema.get("properties", {}).items():
        problems.extend(structural_problems(sub, f"{path}.{name}"))
    if isinstance(schema.get("items"), Mapping):
        problems.extend(structural_problems(schema["items"], f"{path}[]"))
    elif kind == "array":
        problems.append(f"{where}: an array without items")
    if isinstance(schema.get("additionalProperties"), Mapping):
        problems.extend(structural_problems(schema["additionalProperties"], f"{path}.*"))
    return problems
