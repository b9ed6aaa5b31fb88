"""The pages stay true to the code: the layer picture, the index, links, environment variables."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from yokeflow.settings import Settings, env_name

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
SOURCES = [
    *sorted((ROOT / "operator/src").rglob("*.py")),
    *sorted((ROOT / "mcp-task-manager/src").rglob("*.py")),
]


def _layers_in_pyproject() -> list[set[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    return [{part.strip().strip("()") for part in layer.split("|")} for layer in contract["layers"]]


def _layers_in_picture() -> list[set[str]]:
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Layers", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.S)
    assert block, "docs/architecture.md: no layer picture under ## Layers"
    layers = []
    for line in block.group(1).splitlines():
        names = re.split(r"\s{2,}", line.strip())[0]
        layers.append(
            {
                name if name.startswith("yokeflow") else f"yokeflow.{name}"
                for name in (part.strip() for part in names.split("|"))
            }
        )
    return layers


def test_the_layer_picture_is_the_import_contract() -> None:
    assert _layers_in_picture() == _layers_in_pyproject()


def _links(page: Path) -> list[tuple[str, str]]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    text = re.sub(r"`[^`]*`", "", text)  # code (a regular expression) is not a link
    return re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)", text)


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.*)$", text, re.M)
    }


def test_every_relative_link_and_anchor_resolves() -> None:
    broken = []
    for page in PAGES:
        for target, anchor in _links(page):
            if "://" in target or target.startswith("mailto:"):
                continue
            path = (page.parent / target).resolve() if target else page
            if not path.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
                broken.append(f"{page.relative_to(ROOT)}: {target}#{anchor}")
    assert broken == []


def test_the_index_lists_every_page() -> None:
    index = DOCS / "README.md"
    linked = {target for target, _ in _links(index)}
    pages = {page.name for page in DOCS.glob("*.md") if page != index}
    assert pages - linked == set(), "docs/README.md does not link these pages"
    readme = {target for target, _ in _links(ROOT / "README.md")}
    assert "docs/README.md" in readme


_NOT_VARIABLES = {"YOKEFLOW_PARALEL_MAX_CONCURRENCY"}
"""Shown on purpose as what is refused (a misspelt section)."""


def test_every_variable_the_pages_name_is_read_somewhere() -> None:
    """A `YOKEFLOW_…` or `ANTHROPIC_…` variable on a page is a setting or appears in the code."""
    settings = {
        env_name(section, name)
        for section, field in Settings.model_fields.items()
        for name in field.annotation.model_fields  # type: ignore[union-attr]
    }
    code = "\n".join(path.read_text(encoding="utf-8") for path in SOURCES)
    unknown = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for variable in sorted(
            set(re.findall(r"\b(?:YOKEFLOW|ANTHROPIC)_[A-Z0-9_]*[A-Z0-9]", text))
        ):
            if variable in settings or variable in _NOT_VARIABLES:
                continue
            if f'"{variable}"' not in code and f"'{variable}'" not in code:
                unknown.append(f"{page.relative_to(ROOT)}: {variable}")
    assert unknown == []


def test_the_helm_values_are_those_of_the_charts_values_file() -> None:
    """Every value the page lists is in charts/yokeflow/values.yaml, and every key there is listed."""
    chart = yaml.safe_load((ROOT / "charts/yokeflow/values.yaml").read_text(encoding="utf-8"))
    page = (ROOT / "docs/configuration.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `([A-Za-z.]+)` \|", page.split("## Helm values", 1)[1], re.M)
    assert "config" in listed
    for path in listed:
        node = chart
        for key in path.split("."):
            assert isinstance(node, dict), f"{path} is not in values.yaml"
            assert key in node, f"{path} is not in values.yaml"
            node = node[key]
    assert {path.split(".")[0] for path in listed} == set(chart)
    assert "not taken there: `database.url`" in page


def test_the_readmes_two_commands_are_what_ci_and_set_up_run() -> None:
    """The main job and the test command, as the README shows them, exist; CI runs the latter."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Set-up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert [block.strip() for block in blocks] == [
        "bash scripts/setup.sh && .venv/bin/yokeflow demo",
        "bash scripts/test.sh",
    ]
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8").splitlines()
    assert ci[-1] == "bash scripts/test.sh", "CI must end with exactly the README's test command"
    assert "bash scripts/setup.sh" in ci


def test_every_metric_the_pages_name_is_in_the_code() -> None:
    """A `yokeflow_…` name on a page (a metric, a module) is one the code or the chart holds."""
    chart = ROOT / "charts/yokeflow"
    known = "\n".join(
        [
            *(path.read_text(encoding="utf-8") for path in SOURCES),
            *(path.read_text(encoding="utf-8") for path in chart.rglob("*") if path.is_file()),
        ]
    )
    unknown = []
    for page in PAGES:
        for name in sorted(set(re.findall(r"\byokeflow_[a-z_]*[a-z]\b", page.read_text()))):
            family = re.sub(r"_(total|bucket|sum|count)$", "", name)
            if name not in known and family not in known:
                unknown.append(f"{page.relative_to(ROOT)}: {name}")
    assert unknown == []
