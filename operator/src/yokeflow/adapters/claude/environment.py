"""The environment of a Claude Code CLI process: credentials, endpoint, headers, quiet mode.

Agents are untrusted code runners: their CLI, its shells and its MCP servers see an allow-listed
environment (:func:`agent_environment`) — the system's basics, the model's credentials and the
CLI's own settings — never YokeFlow's database URL, its token-signing secret or anything else the
YokeFlow process happens to hold. Further names are passed only when the user lists them
(``agent.pass_environment``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from yokeflow.adapters.claude.processes import MARKER_VARIABLE
from yokeflow.errors import ConfigError

__all__ = [
    "ALLOWED_PREFIXES",
    "ALLOWED_VARIABLES",
    "CREDENTIAL_VARIABLES",
    "agent_environment",
    "is_allowed",
    "session_environment",
]

CREDENTIAL_VARIABLES = ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN")

ALLOWED_VARIABLES = frozenset(
    {
        # the system's basics: where programs are, who and where the user is, language, terminal
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TERM", "COLORTERM",
        "TZ", "TMPDIR", "PWD",
        # the way out: proxies and the certificates of a company's TLS-inspecting gateway
        "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
        "http_proxy", "https_proxy", "no_proxy", "all_proxy",
        "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE",
        # who commits: an agent's commits carry the user's identity
        "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL",
        # the CLI's own settings
        "CLAUDE_CONFIG_DIR", "DISABLE_TELEMETRY", "DISABLE_ERROR_REPORTING", "DISABLE_AUTOUPDATER",
        "ENABLE_TOOL_SEARCH", "IS_SANDBOX",
    }
)  # fmt: skip
"""Variables an agent's processes inherit from YokeFlow's environment."""

ALLOWED_PREFIXES = ("LC_", "XDG_", "ANTHROPIC_", "CLAUDE_CODE_", "CLAUDE_AGENT_SDK_")
"""Families of variables inherited as well: locale, user folders, the model API (credentials,
endpoint, headers), the CLI's and the SDK's own settings."""
_OFFLINE_KEY = "yokeflow-scripted"

# Keep the CLI from reaching anything but the model endpoint: no telemetry, error reports,
# update checks, feature flags or other "nonessential" calls (these machines have no internet,
# and in a cluster egress is the model API only).
_QUIET = {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_AUTOUPDATER": "1",
    "CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY": "1",
    "CLAUDE_CODE_DISABLE_TERMINAL_TITLE": "1",
    # Offer MCP tools directly rather than through ToolSearch: our task tools are few, and the
    # model then needs no extra turn to find them.
    "ENABLE_TOOL_SEARCH": "false",
}


def is_allowed(name: str, pass_through: Iterable[str] = ()) -> bool:
    """Whether an agent inherits the variable ``name`` (``pass_through``: names the user added)."""
    return name in ALLOWED_VARIABLES or name.startswith(ALLOWED_PREFIXES) or name in pass_through


def agent_environment(
    environ: Mapping[str, str], session: Mapping[str, str], pass_through: Iterable[str] = ()
) -> dict[str, str]:
    """The whole environment of an agent's CLI: the allowed part of ``environ``, then ``session``
    (the variables of :func:`session_environment` and the request's own, which win)."""
    extra = frozenset(pass_through)
    inherited = {k: v for k, v in environ.items() if is_allowed(k, extra)}
    return {**inherited, **session}


def session_environment(
    environ: Mapping[str, str],
    *,
    endpoint: str | None,
    cwd: Path,
    marker: str,
    task: str | None = None,
    max_retries: int | None = None,
    is_root: bool | None = None,
) -> dict[str, str]:
    """The variables to set for one session's CLI (merged over the inherited environment).

    ``environ`` is the environment credentials are read from. With an ``endpoint`` (the scripted
    model server, a gateway) any key will do; without one, ``ANTHROPIC_API_KEY`` or
    ``CLAUDE_CODE_OAUTH_TOKEN`` must be set — otherwise a :class:`ConfigError` says so.
    """
    env = dict(_QUIET)
    endpoint = endpoint or environ.get("ANTHROPIC_BASE_URL") or None
    has_credentials = any(environ.get(name) for name in CREDENTIAL_VARIABLES)
    if endpoint:
        env["ANTHROPIC_BASE_URL"] = endpoint.rstrip("/")
        if not has_credentials:
            env["ANTHROPIC_API_KEY"] = _OFFLINE_KEY
    elif not has_credentials:
        raise ConfigError(
            "no model credentials: set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN, "
            "or point agent.model_endpoint (YOKEFLOW_AGENT_MODEL_ENDPOINT) at a Messages API "
            "endpoint such as the scripted model server"
        )
    if is_root if is_root is not None else os.geteuid() == 0:
        # The CLI refuses to skip permission prompts as root unless told it is sandboxed.
        env["IS_SANDBOX"] = "1"
    headers = [h for h in environ.get("ANTHROPIC_CUSTOM_HEADERS", "").splitlines() if h.strip()]
    if task:
        headers.append(f"X-Yokeflow-Task: {task}")
    headers.append(f"X-Yokeflow-Cwd: {cwd}")
    env["ANTHROPIC_CUSTOM_HEADERS"] = "\n".join(headers)
    if max_retries is not None:
        env["CLAUDE_CODE_MAX_RETRIES"] = str(max_retries)
    env[MARKER_VARIABLE] = marker
    return env
