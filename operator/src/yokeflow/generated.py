"""Every generated file in the repository, and the function that produces it.

Generated files are never edited by hand: ``yokeflow generate`` rewrites them and
``yokeflow generate --check`` (run by a contract test) fails when one on disk is stale.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from yokeflow.chart import ChartValues, chart_files
from yokeflow.core.plan import plan_json_schema
from yokeflow.crdgen import crd_files, reference_file
from yokeflow.docgen import configuration_markdown
from yokeflow.specs.argocd import argocd_cm_yaml
from yokeflow.specs.dashboards import DASHBOARDS, dashboard_files
from yokeflow.specs.rbac import rbac_markdown, rbac_yaml

__all__ = ["GENERATED", "render_all", "stale_files"]


def _json(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _mcp_tools() -> str:
    # Imported on use: the MCP stack is slow to import and most commands never need it.
    from yokeflow_mcp.snapshot import tool_snapshot

    return _json(tool_snapshot())


def _demo_scenario() -> str:
    from yokeflow.local.demo_files import demo_scenario_text

    return demo_scenario_text()


def _openapi() -> str:
    # Imported on use: FastAPI is slow to import and only the API needs it.
    from yokeflow.web.app import build_app

    return _json(build_app().openapi())


def _dashboard_file(path: str) -> Callable[[], str]:
    return lambda: dashboard_files()[path]


def _crd_file(path: str) -> Callable[[], str]:
    return lambda: crd_files()[path]


def _chart_file(path: str) -> Callable[[], str]:
    return lambda: chart_files()[path]


GENERATED: dict[str, Callable[[], str]] = {
    "schema/plan.schema.json": lambda: _json(plan_json_schema()),
    "mcp-task-manager/tools.snapshot.json": _mcp_tools,
    "examples/demo/scenario.yaml": _demo_scenario,
    "docs/api/openapi.json": _openapi,
    **{path: _crd_file(path) for path in crd_files()},
    "docs/crds.md": reference_file,
    "docs/configuration.md": lambda: configuration_markdown(ChartValues, settings_value="config"),
    "deploy/rbac/operator.yaml": rbac_yaml,
    "docs/rbac.md": rbac_markdown,
    "examples/argocd/argocd-cm.yaml": argocd_cm_yaml,
    **{path: _chart_file(path) for path in chart_files()},
    **{path: _dashboard_file(path) for path in dashboard_files(DASHBOARDS)},
}
"""Repository-relative path → a function returning the file's exact content."""


def render_all(root: Path) -> list[Path]:
    """Write every generated file under ``root``; returns the paths that changed."""
    changed = []
    for relative, produce in GENERATED.items():
        path = root / relative
        content = produce()
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            changed.append(path)
    return changed


def stale_files(root: Path) -> list[str]:
    """Repository-relative paths whose content on disk differs from what the generator produces."""
    return [
        relative
        for relative, produce in GENERATED.items()
        if not (root / relative).is_file()
        or (root / relative).read_text(encoding="utf-8") != produce()
    ]
