"""The class is closed: generated malformed plans and settings never end in a traceback.

Hypothesis mutates a valid plan (wrong types, huge and non-finite numbers, missing and unknown
fields, duplicate keys, deep nesting, cut-off text, stray bytes) and a valid settings file and
environment, and feeds them to the real ``yokeflow`` entry point in this process. Every run ends
in exit 0, or exit 2 with one line per problem on stderr and no traceback. Bounded to run in a
few seconds in CI.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from yokeflow.cli.main import main

VALID_PLAN: dict[str, Any] = {
    "name": "shop",
    "epics": [
        {
            "key": "db",
            "name": "Database",
            "priority": 1,
            "tasks": [
                {"key": "schema", "title": "Schema", "estimate_minutes": 10},
                {"key": "seed", "title": "Seed", "depends_on": ["schema"], "type": "database"},
            ],
        },
        {
            "key": "api",
            "name": "API",
            "depends_on": ["db"],
            "tasks": [
                {
                    "key": "orders",
                    "title": "Orders",
                    "depends_on": [{"key": "seed", "type": "soft"}],
                    "priority": 2,
                }
            ],
        },
    ],
}
VALID_SETTINGS: dict[str, Any] = {
    "parallel": {"max_concurrency": 4, "schedule": "eager"},
    "cost": {"haiku_below": 0.3, "opus_from": 0.6, "model_overrides": {"test": "haiku"}},
    "database": {"pool_min_size": 1, "pool_max_size": 5},
    "learning": {"domains": ["database", "api"]},
}
PLAN_FIELDS = ["name", "key", "title", "epics", "tasks", "depends_on", "priority"]
SETTING_VARS = [
    "YOKEFLOW_PARALLEL_MAX_CONCURRENCY",
    "YOKEFLOW_COST_HAIKU_BELOW",
    "YOKEFLOW_COST_OPUS_FROM",
    "YOKEFLOW_COST_MODEL_OVERRIDES",
    "YOKEFLOW_LEARNING_DOMAINS",
    "YOKEFLOW_DATABASE_POOL_MIN_SIZE",
    "YOKEFLOW_AGENT_MAX_TURNS",
    "YOKEFLOW_PARALEL_MAX_CONCURRENCY",
    "YOKEFLOW_COSTS_DEFAULT_MODEL",
]

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", " ", "\x00", "\u202e", "a" * 300, "1e308", "-0", "yes", "~"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _mutate(data: Any, path: tuple[Any, ...], action: str, new: Any) -> Any:
    if not path:
        return new if action == "replace" else data
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "replace":
        parent[last] = new
    elif action == "delete":
        del parent[last]
    elif action == "nest":
        parent[last] = [[[[[[[[parent[last]]]]]]]]] * 3
    elif action == "extra" and isinstance(parent, dict):
        parent[f"{last}x"] = new
    return data


@st.composite
def malformed_plans(draw: st.DrawFn) -> bytes:
    data = json.loads(json.dumps(VALID_PLAN))
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(data))
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "delete", "nest", "extra"]))
        data = _mutate(data, path, action, draw(junk))
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    damage = draw(st.sampled_from(["none", "cut", "duplicate", "bytes", "deep", "tabs"]))
    raw = text.encode("utf-8")
    if damage == "cut":
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif damage == "duplicate":
        field = draw(st.sampled_from(PLAN_FIELDS))
        line = next((ln for ln in text.splitlines() if ln.strip().startswith(f"{field}:")), "")
        if line:
            raw = text.replace(line, f"{line}\n{line}", 1).encode("utf-8")
    elif damage == "bytes":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[at:]
    elif damage == "deep":
        depth = draw(st.integers(90, 3000))
        raw += b"extra: " + b"[" * depth + b"]" * depth + b"\n"
    elif damage == "tabs":
        raw = raw.replace(b"  ", b"\t", 1)
    return raw


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = {k: v for k, v in os.environ.items() if k.startswith("YOKEFLOW_")}
    for key in saved:
        del os.environ[key]
    os.environ.update(env)
    try:
        yield
    finally:
        for key in [k for k in os.environ if k.startswith("YOKEFLOW_")]:
            del os.environ[key]
        os.environ.update(saved)


def invoke(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run the ``yokeflow`` console entry point in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    old_argv, old_cwd = sys.argv, Path.cwd()
    sys.argv = ["yokeflow", *args]
    code: Any = 0
    try:
        os.chdir(cwd)
        with (
            _environment(env or {}),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                main()
            except SystemExit as exc:
                code = exc.code
    finally:
        sys.argv = old_argv
        os.chdir(old_cwd)
    return (code if isinstance(code, int) else 1), out.getvalue(), err.getvalue()


def assert_clean(code: int, stdout: str, stderr: str, fmt: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert code in (0, 2), (code, stderr)
    event(f"exit {code}" + (f": {stderr.split(': ')[-1][:30]}" if code else ""))
    if code == 0:
        if fmt == "json":
            json.loads(stdout, parse_constant=lambda c: pytest.fail(f"printed {c}"))
        return
    lines = stderr.strip().splitlines()
    assert lines, "exit 2 with nothing said"
    if lines[0].startswith("error: "):
        assert len(lines) == 1, stderr  # one sentence naming the file, field or value
    else:  # graph problems: one sentence each
        assert all(ln.startswith(("cycle: ", "unknown dependency: ")) for ln in lines), stderr


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    plan=malformed_plans(),
    command=st.sampled_from(["graph", "simulate"]),
    fmt=st.sampled_from(["json", "text"]),
    suffix=st.sampled_from([".yaml", ".json"]),
)
def test_malformed_plans_never_end_in_a_traceback(
    tmp_path: Path, plan: bytes, command: str, fmt: str, suffix: str
) -> None:
    path = tmp_path / f"plan{suffix}"
    if suffix == ".json":
        with contextlib.suppress(Exception):  # text that is not YAML stays as it is
            plan = json.dumps(yaml.safe_load(plan)).encode("utf-8")
    path.write_bytes(plan)
    args = [
        command,
        str(path),
        "--format",
        fmt if command == "simulate" or fmt == "json" else "ascii",
    ]
    assert_clean(*invoke(args, tmp_path), fmt)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    section=st.sampled_from(sorted(VALID_SETTINGS)),
    field=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=16),
    value=junk,
    env_var=st.one_of(st.none(), st.sampled_from(SETTING_VARS)),
    env_value=st.one_of(
        st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=20),
        st.sampled_from(
            [
                "[",
                "{}",
                "[[[[[[[[[[]]]]]]]]]]",
                "-1",
                "1e999",
                "nan",
                '{"a": 1}',
                "0.5",
                "4",
                '["api"]',
            ]
        ),
    ),
    change=st.sampled_from(["none", "known", "unknown"]),
    raw=st.one_of(st.none(), st.none(), st.binary(max_size=40)),
)
def test_malformed_settings_never_end_in_a_traceback(
    tmp_path: Path,
    section: str,
    field: str,
    value: Any,
    env_var: str | None,
    env_value: str,
    change: str,
    raw: bytes | None,
) -> None:
    data = json.loads(json.dumps(VALID_SETTINGS))
    if change != "none":
        data[section][next(iter(data[section])) if change == "known" else field] = value
    content = raw if raw is not None else yaml.safe_dump(data).encode("utf-8")
    (tmp_path / ".yokeflow.yaml").write_bytes(content)
    env = {env_var: env_value} if env_var else {}
    for fmt in ("text", "json"):
        code, out, err = invoke(["config", "show", "--format", fmt], tmp_path, env)
        assert_clean(code, out, err, fmt)
