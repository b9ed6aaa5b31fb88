"""Generated files on disk match their generators (run `yokeflow generate` to refresh)."""

from __future__ import annotations

import json
from pathlib import Path

from yokeflow.core.plan import parse_plan
from yokeflow.generated import GENERATED, stale_files

ROOT = Path(__file__).resolve().parents[2]


def test_no_generated_file_is_stale() -> None:
    assert GENERATED
    assert stale_files(ROOT) == []


def test_the_plan_schema_accepts_the_examples_shape() -> None:
    schema = json.loads((ROOT / "schema/plan.schema.json").read_text())
    assert schema["required"] == ["name", "epics"]
    assert schema["$defs"]["Task"]["properties"]["dependency_type"]["enum"] == ["hard", "soft"]
    assert (
        "Unique across the whole plan."
        in schema["$defs"]["Task"]["properties"]["key"]["description"]
    )


def test_every_example_plan_parses() -> None:
    plans = sorted((ROOT / "examples/plans").glob("*.yaml"))
    assert len(plans) >= 2
    for path in plans:
        parse_plan(path.read_text(), str(path))
