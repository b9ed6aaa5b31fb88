"""yokeflow.crdgen.reference: docs/crds.md says what the API server enforces, field by field."""

from __future__ import annotations

from yokeflow.crdgen import crd_manifests, reference_markdown


def test_every_object_of_both_kinds_has_a_section_and_every_field_a_row() -> None:
    crds = crd_manifests()
    text = reference_markdown(crds)

    assert "## ProjectRun" in text
    assert "## TaskBatch" in text
    parallel = text.split("### `ProjectRun.spec.parallel`", 1)[1].split("###", 1)[0]
    for field in ("maxConcurrency", "schedule", "mergeStrategy", "failFast"):
        assert f"| `{field}` |" in parallel
    assert "| `maxConcurrency` | integer | `3` |" in parallel
    assert "≥ 1" in parallel
    assert "one of `eager`, `batches`" in parallel


def test_rules_and_list_keys_are_spelled_out() -> None:
    text = reference_markdown(crd_manifests())

    assert "set exactly one of spec (a text to plan) and plan (an inline plan)" in text
    assert "unique by `key`" in text
    assert "an inline plan holds at most 2000 tasks" in text


def test_a_pipe_inside_a_pattern_does_not_break_the_table() -> None:
    text = reference_markdown(crd_manifests())
    url_row = next(line for line in text.splitlines() if line.startswith("| `url` (required)"))
    # Five cell borders: the pattern's alternatives are escaped.
    assert url_row.replace("\\|", "").count("|") == 5
