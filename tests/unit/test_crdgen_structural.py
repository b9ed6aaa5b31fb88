"""Pydantic JSON Schema → Kubernetes structural schema (yokeflow.crdgen.structural)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from yokeflow.api.v1alpha1.base import Usd
from yokeflow.crdgen import crd_manifests, structural_problems, structural_schema
from yokeflow.errors import CrdGenerationError


class _Inner(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    size: int = Field(default=1, gt=0)
    """How many."""


class _Outer(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    inner: _Inner = Field(default_factory=_Inner)
    """An inner object.

    Its second paragraph uses ``code``."""
    maybe: _Inner | None = None
    """Perhaps."""
    kind: Literal["only"] = "only"
    names: dict[str, int] = Field(default_factory=dict)


def test_references_are_inlined_with_the_fields_own_description() -> None:
    schema = structural_schema(_Outer.model_json_schema())

    inner = schema["properties"]["inner"]
    assert "$ref" not in str(schema)
    assert "$defs" not in schema
    assert inner["type"] == "object"
    assert inner["description"] == "An inner object.\n\nIts second paragraph uses `code`."
    assert inner["properties"]["size"]["description"] == "How many."


def test_an_optional_field_loses_its_null_branch_and_its_null_default() -> None:
    maybe = structural_schema(_Outer.model_json_schema())["properties"]["maybe"]

    assert maybe["type"] == "object"
    assert "anyOf" not in maybe
    assert "nullable" not in maybe
    assert "default" not in maybe


def test_an_optional_object_of_defaults_defaults_to_empty_but_a_nullable_one_does_not() -> None:
    props = structural_schema(_Outer.model_json_schema())["properties"]

    assert props["inner"]["default"] == {}
    assert "default" not in props["maybe"]


def test_const_and_exclusive_bounds_take_their_openapi_v3_form() -> None:
    schema = structural_schema(_Outer.model_json_schema())

    assert schema["properties"]["kind"]["enum"] == ["only"]
    size = schema["properties"]["inner"]["properties"]["size"]
    assert size["minimum"] == 0
    assert size["exclusiveMinimum"] is True


def test_additional_properties_false_is_dropped_but_a_map_keeps_its_value_schema() -> None:
    schema = structural_schema(_Outer.model_json_schema())

    assert "additionalProperties" not in schema
    assert schema["properties"]["names"]["additionalProperties"] == {"type": "integer"}


def test_titles_are_dropped_and_keys_come_in_a_readable_order() -> None:
    schema = structural_schema(_Outer.model_json_schema())

    assert "title" not in str(schema)
    assert list(schema["properties"]["inner"])[:3] == ["description", "type", "default"]


class _Union(BaseModel):
    value: int | list[int]


class _Tuple(BaseModel):
    pair: tuple[int, str]


class _FreeForm(BaseModel):
    anything: dict[str, Any]


@pytest.mark.parametrize(
    ("model", "words"),
    [
        (_Union, ".value: a union of integer, array"),
        (_Tuple, ".pair: tuples have no structural form"),
        (_FreeForm, ".anything: a free-form map"),
    ],
)
def test_a_construct_without_a_structural_form_is_refused_by_path(
    model: type[BaseModel], words: str
) -> None:
    with pytest.raises(CrdGenerationError, match=words):
        structural_schema(model.model_json_schema())


def test_an_unresolvable_reference_is_refused() -> None:
    with pytest.raises(CrdGenerationError, match="cannot resolve"):
        structural_schema({"properties": {"x": {"$ref": "#/$defs/Missing"}}})


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        (
            {"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}},
            ".a: '$ref' is not allowed",
        ),
        ({"type": "null"}, "<root>: type null"),
        (
            {"type": "object", "properties": {}, "additionalProperties": False},
            "additionalProperties beside properties",
        ),
        ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, "a union outside int-or-string"),
        ({"type": "array"}, "an array without items"),
        ({"type": "array", "items": {"type": "string"}, "uniqueItems": True}, "uniqueItems"),
        ({"properties": {"a": {"description": "no type"}}, "type": "object"}, ".a: no type"),
        ({"type": "string", "title": "T"}, "'title' is not allowed"),
    ],
)
def test_the_structural_walk_names_each_problem(schema: dict[str, Any], problem: str) -> None:
    problems = structural_problems(schema)
    assert any(problem in p for p in problems), problems


def test_every_generated_crd_is_structural_and_documents_every_field() -> None:
    crds = crd_manifests()
    assert [c["spec"]["names"]["kind"] for c in crds] == ["ProjectRun", "TaskBatch"]
    for crd in crds:
        schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        assert structural_problems(schema) == []
        undocumented = _undocumented(schema["properties"]["spec"], ".spec") + _undocumented(
            schema["properties"]["status"], ".status"
        )
        assert undocumented == [], f"{crd['metadata']['name']}: fields without a description"


def _undocumented(node: dict[str, Any], path: str) -> list[str]:
    missing = [] if node.get("description") else [path]
    for name, sub in node.get("properties", {}).items():
        missing += _undocumented(sub, f"{path}.{name}")
    if "items" in node and "properties" in node["items"]:
        for name, sub in node["items"]["properties"].items():
            missing += _undocumented(sub, f"{path}[].{name}")
    return missing


class _Money(BaseModel):
    spent: Usd = Decimal("1.50")
    count: Usd = Decimal(0)


def test_a_decimal_default_becomes_a_json_number() -> None:
    # pydantic writes Decimal defaults as strings; the API server refuses them for a number.
    props = structural_schema(_Money.model_json_schema())["properties"]

    assert props["spent"]["default"] == 1.5
    assert props["count"]["default"] == 0
    assert isinstance(props["count"]["default"], int)


def test_every_money_default_in_the_crds_is_a_number() -> None:
    defaults = [
        (path, node["default"])
        for crd in crd_manifests()
        for path, node in _walk(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"], "")
        if node.get("type") in ("number", "integer") and "default" in node
    ]
    assert defaults
    assert all(isinstance(value, int | float) for _, value in defaults), defaults


def _walk(node: dict[str, Any], path: str) -> list[tuple[str, dict[str, Any]]]:
    found = [(path, node)]
    for name, sub in node.get("properties", {}).items():
        found += _walk(sub, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        found += _walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        found += _walk(node["additionalProperties"], f"{path}.*")
    return found
