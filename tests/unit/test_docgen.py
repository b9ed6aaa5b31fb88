"""The configuration reference is written from the models: types, defaults, bounds, docstrings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic.alias_generators import to_camel

from yokeflow.docgen import configuration_markdown, field_rows, groups
from yokeflow.errors import UndocumentedFieldError
from yokeflow.settings import Settings, env_name, load_settings


class _Inner(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, alias_generator=to_camel)

    pull_policy: Literal["Always", "Never"] = "Never"
    """When to pull."""
    ratio: float = Field(default=0.5, gt=0, le=1)
    """A share | of something."""


class _Outer(BaseModel):
    """The outer model."""

    model_config = ConfigDict(use_attribute_docstrings=True, alias_generator=to_camel)

    inner_part: _Inner = Field(default_factory=_Inner)
    """The inner part, ``nested``."""
    names: list[str] = Field(default_factory=lambda: ["a", "b"], min_length=1)
    """Some names, made by a factory."""
    prices: dict[str, dict[str, float]] = Field(default_factory=dict)
    """Prices
    over two lines."""
    secret: SecretStr | None = None
    """A password."""
    count: int = Field(default=3, ge=1, le=64)
    """How many."""


def _row(path: tuple[str, ...]) -> tuple[str, str, str, str]:
    row = next(r for r in field_rows(_Outer) if r.path == path)
    return row.type, row.default, row.checks, row.description


def test_rows_follow_the_model_with_its_aliases_and_nested_models() -> None:
    paths = [row.path for row in field_rows(_Outer)]
    assert paths == [
        ("innerPart", "pullPolicy"),
        ("innerPart", "ratio"),
        ("names",),
        ("prices",),
        ("secret",),
        ("count",),
    ]
    assert _row(("innerPart", "pullPolicy")) == (
        "`Always` \\| `Never`",
        "`Never`",
        "",
        "When to pull.",
    )
    assert _row(("innerPart", "ratio")) == (
        "number",
        "`0.5`",
        "> 0, ≤ 1",
        "A share | of something.",
    )
    assert _row(("names",)) == (
        "list of strings",
        '`["a", "b"]`',
        "not empty",
        "Some names, made by a factory.",
    )
    assert _row(("prices",)) == (
        "map of string to map of string to number",
        "`{}`",
        "",
        "Prices over two lines.",
    )
    assert _row(("secret",)) == ("string (secret), optional", "unset", "", "A password.")
    assert _row(("count",)) == ("integer", "`3`", "1 to 64", "How many.")


def test_groups_carry_the_field_docstring_of_a_nested_model() -> None:
    assert [(g.path, g.description) for g in groups(_Outer)] == [
        ((), "The outer model."),
        (("innerPart",), "The inner part, `nested`."),
    ]


def test_a_field_without_a_docstring_is_refused_by_name() -> None:
    class Bare(BaseModel):
        model_config = ConfigDict(use_attribute_docstrings=True)

        documented: int = 1
        """Fine."""
        forgotten: int = 2

    with pytest.raises(UndocumentedFieldError, match=r"Bare: field forgotten has no docstring"):
        field_rows(Bare)


def _settings_table_rows(page: str) -> list[list[str]]:
    body = page.split("## Settings", 1)[1].split("## Other environment variables", 1)[0]
    return [
        [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        for line in body.splitlines()
        if line.startswith("| `")
    ]


def test_the_page_lists_every_setting_with_its_variable_default_and_docstring() -> None:
    page = configuration_markdown()
    rows = _settings_table_rows(page)
    expected = [
        (section, name)
        for section, model in Settings.model_fields.items()
        for name in model.annotation.model_fields  # type: ignore[union-attr]
    ]
    assert [r[0] for r in rows] == [f"`{s}.{n}`" for s, n in expected]
    assert [r[1] for r in rows] == [f"`{env_name(s, n)}`" for s, n in expected]
    defaults = Settings()
    by_key = {r[0]: r for r in rows}
    assert by_key["`parallel.max_concurrency`"][2:5] == [
        "integer",
        f"`{defaults.parallel.max_concurrency}`",
        "1 to 64",
    ]
    assert by_key["`cost.budget_limit_usd`"][3] == "unset"
    assert '"sonnet": "claude-sonnet-4-5"' in by_key["`cost.model_ids`"][3]
    for row in rows:
        assert row[5], f"{row[0]} has no meaning"


def test_every_variable_on_the_page_is_one_the_settings_accept(tmp_path: Path) -> None:
    """Each `YOKEFLOW_…` variable of the tables, set to its default, loads without complaint."""
    for row in _settings_table_rows(configuration_markdown()):
        variable, default = row[1].strip("`"), row[3]
        if default == "unset":
            continue
        value = default.strip("`").replace('""', "")
        load_settings(tmp_path, environ={variable: value})


def test_a_given_values_model_is_listed_under_helm_values() -> None:
    page = configuration_markdown(_Outer)
    values = page.split("## Helm values", 1)[1]
    assert (
        "| `innerPart.pullPolicy` | `Always` \\| `Never` | `Never` |  | When to pull. |" in values
    )
    assert "| `count` | integer | `3` | 1 to 64 | How many. |" in values
    assert "once the chart" not in values
