"""The images (images/): their Dockerfiles pass hadolint and our rules, and each image's entry
command works when run from the wheel installed in a clean virtual environment — what the
images run, without a container engine."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from yokeflow.testing.wheel import InstalledWheel, repository_root

ROOT = repository_root()
IMAGES = ROOT / "images"
IMAGE_FOLDERS = ("operator", "agent")
_EXACT_TAG = re.compile(r"[\w./-]+:\d+\.\d+\.\d+(-[\w.-]+)?")
"""An image pinned to an exact release (``python:3.12.12-slim-bookworm``), never ``latest``."""


def _dockerfiles() -> list[Path]:
    return sorted(IMAGES.glob("*/Dockerfile"))


@pytest.mark.parametrize("dockerfile", _dockerfiles(), ids=lambda p: p.parent.name)
def test_hadolint_accepts_the_dockerfile(dockerfile: Path) -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    done = subprocess.run(
        [str(hadolint), "--no-color", "--failure-threshold", "info", str(dockerfile)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_image_is_multi_stage_pinned_non_root_and_installs_the_one_wheel() -> None:
    assert sorted(p.parent.name for p in _dockerfiles()) == ["agent", "operator", "wheel"]
    for dockerfile in _dockerfiles():
        stages = re.findall(r"^FROM\s+(\S+)", dockerfile.read_text(), re.MULTILINE)
        assert len(stages) >= 2, f"{dockerfile}: not multi-stage"
        for image in stages:
            assert image == "scratch" or _EXACT_TAG.fullmatch(image), (
                f"{dockerfile}: {image} is not pinned to an exact version"
            )
    for name in IMAGE_FOLDERS:
        text = (IMAGES / name / "Dockerfile").read_text()
        final = text[text.rindex("\nFROM ") :]
        assert re.search(r"^USER 10001:10001$", final, re.MULTILINE), f"{name}: not uid 10001"
        assert "COPY --from=wheel /dist/ /dist/" in text
        assert "pip install --no-cache-dir /dist/yokeflow-*.whl" in text
        assert 'ENTRYPOINT ["yokeflow"]' in final
    agent = (IMAGES / "agent" / "Dockerfile").read_text()
    assert "git openssh-client ca-certificates" in agent
    wheel = (IMAGES / "wheel" / "Dockerfile").read_text()
    assert re.search(r"^FROM node:\S+ AS dashboard$", wheel, re.MULTILINE)
    assert "npm ci" in wheel
    assert "COPY --from=dashboard" in wheel
    bake = (IMAGES / "docker-bake.hcl").read_text()
    assert bake.count('contexts   = { wheel = "target:wheel" }') == 2


def test_the_wheel_carries_the_dashboard_prompts_and_mcp_server(
    installed_wheel: InstalledWheel,
) -> None:
    names = zipfile.ZipFile(installed_wheel.wheel).namelist()
    assert "yokeflow/web/static/index.html" in names
    assert any(n.startswith("yokeflow/_data/prompts/") for n in names)
    assert any(n.startswith("yokeflow_mcp/") for n in names)
    assert not any(n.startswith(("tests/", "yokeflow/tests/")) for n in names)  # ours stay out


def _run(wheel: InstalledWheel, *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=120, check=False, cwd=cwd,
        env={"PATH": f"{wheel.bin_dir}:/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8"},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("yokeflow", "operator", "--help"), "--metrics-port"),  # the operator image's CMD
        (("yokeflow", "api", "--help"), "--token-file"),  # the chart's API Deployment
        (("yokeflow", "runner", "--help"), "task"),  # the agent image's Jobs
    ],
)
def test_each_entry_command_runs_from_the_clean_environment(
    installed_wheel: InstalledWheel, tmp_path: Path, argv: tuple[str, ...], expected: str
) -> None:
    done = _run(installed_wheel, str(installed_wheel.bin_dir / argv[0]), *argv[1:], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout


def test_the_agent_images_claude_code_cli_runs(
    installed_wheel: InstalledWheel, tmp_path: Path
) -> None:
    (cli,) = installed_wheel.venv.glob(
        "lib/python3*/site-packages/claude_agent_sdk/_bundled/claude"
    )
    done = _run(installed_wheel, str(cli), "--version", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert re.search(r"\d+\.\d+\.\d+", done.stdout)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except urllib.error.URLError:
        return 0, ""  # not listening yet


@pytest.mark.postgres
@pytest.mark.parametrize("pg_server", ["pg15"], indirect=True)
def test_the_api_from_the_wheel_answers_its_probes_and_serves_the_dashboard(
    installed_wheel: InstalledWheel, pg_empty_database_url: str, tmp_path: Path
) -> None:
    token = "an-api-token-of-the-test-0123"
    (tmp_path / "token").write_text(token)
    port = _free_port()
    log = (tmp_path / "api.log").open("wb")
    process = subprocess.Popen(
        [str(installed_wheel.yokeflow), "api", "--host=127.0.0.1", f"--port={port}",
         f"--token-file={tmp_path / 'token'}", f"--database-url={pg_empty_database_url}"],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
        env={"PATH": f"{installed_wheel.bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)},
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while _get(f"{base}/readyz")[0] != 200:
            assert process.poll() is None, (tmp_path / "api.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "api.log").read_text()
            time.sleep(0.2)
        assert _get(f"{base}/healthz")[0] == 200
        assert _get(f"{base}/api/projects")[0] == 401
        status, page = _get(f"{base}/", token)
        assert status == 200
        assert "<html" in page.lower()
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        log.close()
    assert code == 0, (tmp_path / "api.log").read_text()
