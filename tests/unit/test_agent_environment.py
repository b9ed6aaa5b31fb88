"""The Claude CLI's environment: credentials or an endpoint, quiet mode, headers, the marker."""

from __future__ import annotations

from pathlib import Path

import pytest

from yokeflow.adapters.claude.environment import agent_environment, is_allowed, session_environment
from yokeflow.adapters.claude.processes import MARKER_VARIABLE
from yokeflow.errors import ConfigError


def _env(environ: dict[str, str], **kwargs: object) -> dict[str, str]:
    args: dict[str, object] = {
        "endpoint": None,
        "cwd": Path("/w/t1"),
        "marker": "m1",
        "is_root": False,
    }
    args.update(kwargs)
    return session_environment(environ, **args)  # type: ignore[arg-type]


def test_without_credentials_or_endpoint_the_error_says_what_to_set() -> None:
    with pytest.raises(ConfigError) as caught:
        _env({})
    message = str(caught.value)
    assert "ANTHROPIC_API_KEY" in message
    assert "CLAUDE_CODE_OAUTH_TOKEN" in message
    assert "model_endpoint" in message


@pytest.mark.parametrize("variable", ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"])
def test_either_credential_is_enough_and_is_not_overridden(variable: str) -> None:
    env = _env({variable: "secret"})
    assert "ANTHROPIC_BASE_URL" not in env
    assert "ANTHROPIC_API_KEY" not in env  # inherited from the parent, never replaced


def test_an_endpoint_needs_no_credentials() -> None:
    env = _env({}, endpoint="http://127.0.0.1:9999/")
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:9999"
    assert env["ANTHROPIC_API_KEY"]
    inherited = _env({"ANTHROPIC_BASE_URL": "http://gw:1"})
    assert inherited["ANTHROPIC_BASE_URL"] == "http://gw:1"


def test_nonessential_traffic_is_off_and_mcp_tools_are_offered_directly() -> None:
    env = _env({"ANTHROPIC_API_KEY": "k"})
    assert env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    assert env["DISABLE_TELEMETRY"] == "1"
    assert env["DISABLE_AUTOUPDATER"] == "1"
    assert env["ENABLE_TOOL_SEARCH"] == "false"


def test_is_sandbox_only_as_root() -> None:
    assert _env({"ANTHROPIC_API_KEY": "k"}, is_root=True)["IS_SANDBOX"] == "1"
    assert "IS_SANDBOX" not in _env({"ANTHROPIC_API_KEY": "k"}, is_root=False)


def test_task_and_cwd_headers_are_added_to_existing_custom_headers() -> None:
    env = _env(
        {"ANTHROPIC_API_KEY": "k", "ANTHROPIC_CUSTOM_HEADERS": "X-Team: a\n"}, task="db-schema"
    )
    assert env["ANTHROPIC_CUSTOM_HEADERS"].splitlines() == [
        "X-Team: a",
        "X-Yokeflow-Task: db-schema",
        "X-Yokeflow-Cwd: /w/t1",
    ]
    assert "X-Yokeflow-Task" not in _env({"ANTHROPIC_API_KEY": "k"})["ANTHROPIC_CUSTOM_HEADERS"]


def test_the_marker_and_retries_are_set() -> None:
    env = _env({"ANTHROPIC_API_KEY": "k"}, max_retries=0)
    assert env[MARKER_VARIABLE] == "m1"
    assert env["CLAUDE_CODE_MAX_RETRIES"] == "0"
    assert "CLAUDE_CODE_MAX_RETRIES" not in _env({"ANTHROPIC_API_KEY": "k"})


def test_agents_inherit_only_the_allow_list_and_the_names_passed() -> None:
    environ = {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "LC_ALL": "C.UTF-8",
        "ANTHROPIC_API_KEY": "key",
        "CLAUDE_CODE_MAX_OUTPUT_TOKENS": "1000",
        "HTTPS_PROXY": "http://proxy:3128",
        "YOKEFLOW_DATABASE_URL": "postgresql://u:secret@db/x",
        "YOKEFLOW_MCP_TOKEN_SECRET": "signing",
        "AWS_SECRET_ACCESS_KEY": "aws",
        "GOPATH": "/go",
        "CLAUDECODE": "1",
    }
    env = agent_environment(environ, {MARKER_VARIABLE: "m1", "ANTHROPIC_BASE_URL": "http://x"})
    assert env == {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "LC_ALL": "C.UTF-8",
        "ANTHROPIC_API_KEY": "key",
        "CLAUDE_CODE_MAX_OUTPUT_TOKENS": "1000",
        "HTTPS_PROXY": "http://proxy:3128",
        MARKER_VARIABLE: "m1",
        "ANTHROPIC_BASE_URL": "http://x",
    }
    passed = agent_environment(environ, {}, pass_through=("GOPATH",))
    assert passed["GOPATH"] == "/go"
    assert "AWS_SECRET_ACCESS_KEY" not in passed


def test_the_sessions_own_variables_win_over_inherited_ones() -> None:
    env = agent_environment({"ANTHROPIC_BASE_URL": "http://old", "PATH": "/a"}, {"PATH": "/b"})
    assert env == {"ANTHROPIC_BASE_URL": "http://old", "PATH": "/b"}


@pytest.mark.parametrize(
    "name", ["YOKEFLOW_DATABASE_URL", "YOKEFLOW_MCP_TOKEN_SECRET", "PGPASSWORD", "DATABASE_URL"]
)
def test_yokeflow_and_database_variables_are_never_allowed(name: str) -> None:
    assert not is_allowed(name)
