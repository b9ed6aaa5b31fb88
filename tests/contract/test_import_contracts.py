"""The import contracts bite: a forbidden import in a copy of the tree fails `lint-imports`.

Each case copies the sources and ``pyproject.toml`` to a temporary folder, adds one import that a
contract forbids, and runs the real ``lint-imports`` on the copy: it must fail and name the
contract. The unchanged copy passes, so each failure is the added import's doing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import yokeflow
import yokeflow_mcp

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

LAYERS = "Layers: entry points -> services | adapters -> ports -> core -> errors"
PURE_CORE = "The pure core does no I/O"
MCP_PORTS = "The MCP tools reach the store through ports only"


def _copy_tree(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", "_data")
    for source in ("operator/src", "mcp-task-manager/src"):
        shutil.copytree(ROOT / source, target / source, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(tree / "operator/src"), str(tree / "mcp-task-manager/src")]
    )
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _add_import(tree: Path, module: str, line: str) -> None:
    root = "mcp-task-manager/src" if module.startswith("yokeflow_mcp") else "operator/src"
    path = tree / root / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = tree / root / module.replace(".", "/") / "__init__.py"
    text = path.read_text(encoding="utf-8")
    anchor = "from __future__ import annotations\n"
    assert anchor in text, path
    path.write_text(text.replace(anchor, anchor + line + "\n", 1), encoding="utf-8")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy_tree(tmp_path_factory.mktemp("pristine"))


def test_the_copied_tree_keeps_every_contract(pristine: Path) -> None:
    done = _lint(pristine)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
    # The copy was analysed, not the installed tree.
    assert "Analyzed" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("yokeflow.core.graph", "import subprocess", PURE_CORE),
        ("yokeflow.core.schedule", "import os", PURE_CORE),
        ("yokeflow.core.budget", "import time", PURE_CORE),
        ("yokeflow.core.plan", "import threading", PURE_CORE),
        ("yokeflow.ports.agent", "import asyncio", PURE_CORE),
        ("yokeflow.ports.store", "import socket", PURE_CORE),
        ("yokeflow.core.records", "from yokeflow.settings import Settings", LAYERS),
        ("yokeflow.errors", "from yokeflow.core import graph", LAYERS),
        ("yokeflow.settings", "from yokeflow.ports import store", LAYERS),
        ("yokeflow.services.costs", "import yokeflow_mcp.tokens", LAYERS),
        ("yokeflow_mcp.tokens", "from yokeflow.local import engine", LAYERS),
        ("yokeflow_mcp.toolbox", "from yokeflow.adapters.postgres import store", MCP_PORTS),
    ],
)
def test_a_forbidden_import_fails_lint_imports(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    tree = _copy_tree(tmp_path)
    _add_import(tree, module, line)
    done = _lint(tree)
    assert done.returncode != 0, done.stdout
    assert f"{contract} BROKEN" in done.stdout, done.stdout
    assert module in done.stdout


def _layer_names(layer: str) -> set[str]:
    names = set()
    for part in layer.replace(":", "|").split("|"):
        names.add(part.strip().strip("()"))
    return names


def test_every_top_level_module_sits_in_a_layer() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")
    named = set().union(*(_layer_names(layer) for layer in layers["layers"]))
    for package in (yokeflow, yokeflow_mcp):
        folder = Path(package.__file__).parent
        if package is yokeflow_mcp:
            assert package.__name__ in named
            continue
        children = {
            f"{package.__name__}.{p.stem if p.is_file() else p.name}"
            for p in folder.iterdir()
            if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()
        }
        assert children, folder
        assert children <= named, f"not in any layer: {sorted(children - named)}"
