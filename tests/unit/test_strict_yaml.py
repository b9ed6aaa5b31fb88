"""The strict YAML reader (yokeflow.strict_yaml): the same values as ``yaml.safe_load``, but duplicates and depth refused."""

from __future__ import annotations

import datetime

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from yokeflow import strict_yaml

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.dates()
)
documents = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.integers(), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(documents, st.booleans())
def test_same_values_as_safe_load(value: object, flow: bool) -> None:
    text = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True)
    assert strict_yaml.load(text) == yaml.safe_load(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# only a comment\n",
        "a: &x {b: 1}\nc: *x\nd:\n  <<: *x\n  e: 2\n",
        "<<: [{a: 1}, {a: 2, b: 3}]\na: 0\n",
        "- yes\n- ~\n- 2020-01-01\n- !!str 3\n- '1'\n- .inf\n- 0x1F\n- !!binary aGk=\n",
        "? a\n: b\n",
        "--- {a: 1}\n...\n",
    ],
)
def test_yaml_features_a_plan_may_use(text: str) -> None:
    assert strict_yaml.load(text) == yaml.safe_load(text)


def test_dates_stay_dates() -> None:
    assert strict_yaml.load("d: 2026-12-03") == {"d": datetime.date(2026, 12, 3)}


@pytest.mark.parametrize(
    ("text", "problem", "line"),
    [
        ("a: 1\nb: 2\na: 3\n", "duplicate key 'a'", 3),
        ("x:\n  - {k: 1, k: 2}\n", "duplicate key 'k'", 2),
        ("1: a\n1: b\n", "duplicate key 1", 2),
        ("a: " + "[" * 101 + "]" * 101, "nested more than 100 levels deep", 1),
        ("a: 1\n---\nb: 2\n", "a second one", 2),
        ("? [a]\n: b\n", "cannot be a key", 1),
        ("a: !!python/object:os.system x\n", "unsupported tag", 1),
        ("s: !!set {a, b}\n", "unsupported tag", 1),
        ("a: *nowhere\n", "undefined alias", 1),
        ("a: [unclosed\n", "expected ',' or ']'", 2),
        ("a: 1\nb: x\x01\n", "unacceptable character #x0001", 2),
    ],
)
def test_refusals_carry_the_line(text: str, problem: str, line: int) -> None:
    with pytest.raises(yaml.MarkedYAMLError) as info:
        strict_yaml.load(text)
    assert problem in str(info.value)
    assert info.value.problem_mark is not None
    assert info.value.problem_mark.line + 1 == line
    assert "\n" not in (info.value.problem or ""), "one line, so that an error is one sentence"


def test_depth_limit_is_exact_and_adjustable() -> None:
    assert strict_yaml.load("[" * 100 + "]" * 100) is not None
    with pytest.raises(yaml.MarkedYAMLError):
        strict_yaml.load("[" * 5 + "]" * 5, max_depth=4)


def test_nesting_far_beyond_any_stack_is_refused_without_crashing() -> None:
    # libyaml's own composer recurses in C and kills the process at this depth
    with pytest.raises(yaml.MarkedYAMLError, match="nested more than"):
        strict_yaml.load("a: " + "[" * 1_000_000 + "]" * 1_000_000)
    with pytest.raises(yaml.MarkedYAMLError, match="nested more than"):
        strict_yaml.load("- " * 5000 + "x\n")
