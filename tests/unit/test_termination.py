"""yokeflow.core.termination: a report always fits Kubernetes' termination message."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yokeflow.core.termination import TERMINATION_MESSAGE_LIMIT, fit_report, read_report


def _task_report(error: str, files: int = 3) -> dict[str, Any]:
    return {
        "task": "api-auth",
        "success": False,
        "stage": "verification",
        "error": error,
        "session": {
            "model": "claude-sonnet-4-5",
            "final_text": "x" * 10_000,
            "files_modified": [f"src/file_{i}.py" for i in range(files)],
        },
        "verification": [{"command": "pytest", "output": "F" * 4000, "passed": False}],
        "commit": "c" * 40,
        "base_commit": "b" * 40,
        "cost_usd": "0.123456",
        "cost_recorded": True,
        "session_id": 12,
    }


def test_a_small_report_is_kept_whole_and_readable() -> None:
    report = {"task": "t", "success": True, "cost_usd": "0.1"}
    text = fit_report(report)
    assert json.loads(text) == report
    assert "\n" in text  # indented for people reading a pod's log


def test_a_huge_error_is_cut_on_purpose_and_the_decision_fields_survive() -> None:
    report = _task_report("E" * 1_000_000, files=5000)

    text = fit_report(report)

    assert len(text.encode()) <= TERMINATION_MESSAGE_LIMIT
    data = json.loads(text)
    assert data["truncated"] is True
    assert data["success"] is False
    assert data["cost_usd"] == "0.123456"
    assert data["commit"] == "c" * 40
    assert data["error"].startswith("EEEE")
    assert data["error"].endswith("(1000000 characters)")


def test_multibyte_text_is_counted_in_bytes() -> None:
    text = fit_report(_task_report("é€😀" * 50_000))
    assert len(text.encode("utf-8")) <= TERMINATION_MESSAGE_LIMIT
    assert json.loads(text)["success"] is False


@settings(max_examples=15, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=40),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=1500),
            lambda inner: st.lists(inner, max_size=30) | st.dictionaries(st.text(), inner),
            max_leaves=30,
        ),
        max_size=30,
    )
)
def test_any_report_fits_and_stays_json(report: dict[str, Any]) -> None:
    text = fit_report({**report, "success": True})
    assert len(text.encode("utf-8")) <= TERMINATION_MESSAGE_LIMIT
    assert json.loads(text)["success"] is True


def test_a_merge_report_keeps_every_merged_key_before_its_details() -> None:
    keys = [f"task-{i:03d}" for i in range(200)]
    report = {
        "success": True,
        "pushed": True,
        "integration_commit": "a" * 40,
        "merged": keys,
        "conflicts": [{"key": "late", "files": ["README.md"]}],
        "error": None,
        "tasks": [{"task": k, "status": "merged", "commit": "b" * 40} for k in keys],
    }

    data = json.loads(fit_report(report))

    assert data["truncated"] is True
    assert data["merged"] == keys
    assert data["conflicts"] == [{"key": "late", "files": ["README.md"]}]
    assert data["integration_commit"] == "a" * 40


@pytest.mark.parametrize(
    ("message", "required", "expected"),
    [
        (None, None, None),
        ("", None, None),
        ('{"success": true, "commit": "abc"', None, None),  # cut: no report at all
        ("[1, 2]", None, None),
        ("Error: the container was killed", None, None),
        ('{"merged": []}', "success", None),
        ('{"merged": []}', None, {"merged": []}),
        ('{"success": false, "error": "x"}', "success", {"success": False, "error": "x"}),
    ],
)
def test_a_report_is_read_only_from_a_whole_json_object(
    message: str | None, required: str | None, expected: dict[str, object] | None
) -> None:
    assert read_report(message, required=required) == expected


def test_a_fitted_report_reads_back_with_its_essential_fields() -> None:
    report = {"success": True, "commit": "c" * 40, "log": "x" * 10_000}
    read = read_report(fit_report(report))
    assert read is not None
    assert read["success"] is True
    assert read["commit"] == "c" * 40
    assert read["truncated"] is True
