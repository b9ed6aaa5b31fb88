"""The one settings object, built once at an entry point and passed down.

Sources, strongest first: keyword arguments (command-line flags), ``YOKEFLOW_*`` environment
variables, the project's ``.yokeflow.yaml``, then defaults. Every field maps 1:1 to an
environment variable: ``YOKEFLOW_<SECTION>_<FIELD>`` (``YOKEFLOW_PARALLEL_MAX_CONCURRENCY=4``);
lists and mappings are given as JSON. An unknown key or a bad value is a
:class:`~yokeflow.errors.ConfigError` that names it and where it came from.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from yokeflow import __version__, strict_yaml
from yokeflow.errors import ConfigError

__all__ = [
    "DOMAINS",
    "AgentSettings",
    "CostSettings",
    "DatabaseSettings",
    "LearningSettings",
    "OperatorSettings",
    "ParallelSettings",
    "PodToleration",
    "Settings",
    "effective_values",
    "env_name",
    "load_settings",
    "masked_url",
    "setting_sources",
]

CONFIG_FILE = ".yokeflow.yaml"
ENV_PREFIX = "YOKEFLOW_"
DOMAINS = ("database", "api", "frontend", "testing", "security", "deployment", "general")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class ParallelSettings(_Section):
    """How tasks run side by side."""

    enabled: bool = True
    """Run independent tasks in parallel; false runs one task at a time."""
    max_concurrency: int = Field(default=3, ge=1, le=64)
    """At most this many agents at once (each local agent needs ~200 MB)."""
    schedule: Literal["eager", "batches"] = "eager"
    """``eager`` starts a task as soon as its dependencies are merged; ``batches`` waits for each Kahn level."""
    worktree_dir: str = ".worktrees"
    """Where task worktrees are created, relative to the repository (git-ignored)."""
    merge_strategy: Literal["merge", "squash"] = "merge"
    """How a finished task branch lands on the integration branch."""
    fail_fast: bool = False
    """Stop launching tasks after the first failure (otherwise only its dependents are blocked)."""
    conflict_resolution: Literal["agent", "ours", "theirs", "manual"] = "agent"
    """How a predicted merge conflict is resolved: an agent session, one side, or by a person."""
    retry_backoff_seconds: float = Field(default=5.0, ge=0)
    """Wait before retrying a failed task; doubled on every further attempt."""

    @property
    def agents(self) -> int:
        """How many agents may run at once: ``max_concurrency``, or 1 when not parallel."""
        return self.max_concurrency if self.enabled else 1


class LearningSettings(_Section):
    """Expertise carried from one session to the next."""

    enabled: bool = True
    """Extract lessons after every session and give them to the next ones."""
    expertise_max_lines: int = Field(default=1000, ge=10, le=100_000)
    """The cap on one domain's expertise file."""
    self_improve_interval: int = Field(default=5, ge=0)
    """Rescan the codebase for a domain's files every N sessions of that domain (0: never)."""
    domains: list[str] = Field(default_factory=lambda: list(DOMAINS), min_length=1)
    """The expertise domains tasks are classified into."""
    prompt_token_budget: int = Field(default=600, ge=0, le=20_000)
    """At most this many tokens (≈ 4 characters each) of lessons go into one task prompt."""
    stale_after_days: int = Field(default=30, ge=1)
    """Failure lessons older than this are pruned when a domain is validated."""


class CostSettings(_Section):
    """Spending: the budget and how models are chosen."""

    budget_limit_usd: float | None = Field(default=None, gt=0)
    """One budget for a whole run, shared by all its agents; unset means no limit."""
    optimization_enabled: bool = True
    """Choose Haiku / Sonnet / Opus per task; false runs every task on ``default_model``."""
    default_model: str = "claude-sonnet-4-5"
    """The model used when no rule chooses another."""
    model_overrides: dict[str, str] = Field(default_factory=dict)
    """Task type → model id or tier (``haiku``, ``sonnet``, ``opus``), applied before the complexity-based choice."""
    priority_overrides: dict[str, str] = Field(default_factory=dict)
    """Epic priority (as text, e.g. ``"0"``) → model id or tier; applied after task-type overrides."""
    model_ids: dict[str, str] = Field(
        default_factory=lambda: {
            "haiku": "claude-haiku-4-5",
            "sonnet": "claude-sonnet-4-5",
            "opus": "claude-opus-4-5",
        }
    )
    """Tier → the exact model id sessions of that tier run on."""
    pricing: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {
            "haiku": {"input": 1.0, "output": 5.0},
            "sonnet": {"input": 3.0, "output": 15.0},
            "opus": {"input": 5.0, "output": 25.0},
        }
    )
    """Tier → dollars per million input and output tokens."""
    cache_write_multiplier: float = Field(default=1.25, ge=0)
    """Writing the prompt cache costs this times the input price."""
    cache_read_multiplier: float = Field(default=0.1, ge=0)
    """Reading the prompt cache costs this times the input price."""
    approaching_fraction: float = Field(default=0.8, gt=0, le=1)
    """Once spent plus reserved reaches this share of the budget, choices move one tier down."""
    haiku_below: float = Field(default=0.30, ge=0, le=1)
    """Tasks whose complexity score is below this run on Haiku."""
    opus_from: float = Field(default=0.60, ge=0, le=1)
    """Tasks whose complexity score is at least this run on Opus (Sonnet in between)."""

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> CostSettings:
        if self.haiku_below > self.opus_from:
            raise ValueError(
                f"haiku_below ({self.haiku_below:g}) is above opus_from ({self.opus_from:g});"
                " Haiku is for scores below opus_from"
            )
        return self


class DatabaseSettings(_Section):
    """Where state lives."""

    url: SecretStr | None = None
    """A PostgreSQL URL; unset starts the embedded PostgreSQL server."""
    data_dir: Path | None = None
    """The embedded server's data folder (default: the user's data directory)."""
    pool_min_size: int = Field(default=1, ge=0)
    """Connections kept open."""
    pool_max_size: int = Field(default=10, ge=1)
    """At most this many connections."""

    @model_validator(mode="after")
    def _pool_ordered(self) -> DatabaseSettings:
        if self.pool_min_size > self.pool_max_size:
            raise ValueError(
                f"pool_min_size ({self.pool_min_size}) is above pool_max_size"
                f" ({self.pool_max_size})"
            )
        return self


class AgentSettings(_Section):
    """How one agent session runs."""

    model_endpoint: str | None = None
    """An Anthropic Messages API base URL (e.g. the scripted model server); unset uses Anthropic's."""
    max_turns: int = Field(default=60, ge=1)
    """A session ends after this many model turns."""
    timeout_seconds: float = Field(default=1800, gt=0)
    """A session is stopped (and its process reaped) after this long."""
    max_attempts: int = Field(default=2, ge=1, le=10)
    """A failed task is retried until it has run this many times."""
    verify_command: str | None = None
    """A shell command run in the worktree after a session to verify it (e.g. the tests)."""
    pass_environment: list[str] = Field(default_factory=list)
    """Names of further environment variables agents inherit (e.g. ``["GOPATH"]``). Agents
    otherwise see only an allow-list: the system's basics, the model's credentials and the CLI's
    settings; YokeFlow's own variables (the database URL, the token secret) are never passed."""

    @field_validator("pass_environment")
    @classmethod
    def _no_yokeflow_secrets(cls, names: list[str]) -> list[str]:
        refused = [n for n in names if n.upper().startswith(ENV_PREFIX)]
        if refused:
            raise ValueError(f"YokeFlow's own variables are never passed to agents: {refused}")
        return names


class PodToleration(_Section):
    """One toleration of the operator's task and merge pods (as in a Pod spec)."""

    key: str | None = None
    """The taint key it matches; unset with ``Exists`` matches every taint."""
    operator: Literal["Exists", "Equal"] = "Equal"
    """``Equal`` matches ``value``; ``Exists`` any value."""
    value: str | None = None
    """The taint value ``Equal`` matches."""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    """The taint effect it matches; unset matches every effect."""


class OperatorSettings(_Section):
    """How the Kubernetes operator (``yokeflow operator``) runs."""

    namespaces: list[str] = Field(default_factory=list)
    """Namespaces whose ProjectRuns it serves; empty serves the whole cluster."""
    kubeconfig: Path | None = None
    """A kubeconfig file to reach the API server; unset uses the pod's service account."""
    liveness_port: int = Field(default=8080, ge=0, le=65535)
    """Port of the ``/healthz`` liveness endpoint; 0 serves none."""
    metrics_port: int = Field(default=8081, ge=0, le=65535)
    """Port of the operator's Prometheus ``/metrics`` (docs/monitoring.md); 0 serves none."""
    watch_server_timeout_seconds: int = Field(default=300, ge=10)
    """The API server ends each watch after this long and it is started again (watches can go
    silent without it)."""
    watch_client_timeout_seconds: int = Field(default=330, ge=10)
    """The operator gives up on a watch request that has not ended after this long."""
    resync_seconds: float = Field(default=10.0, gt=0)
    """Each ProjectRun is reconciled at least this often, even when nothing changed."""
    job_creations_per_second: float = Field(default=50.0, gt=0)
    """Client-side limit on Job creation (the API server's 429 Retry-After is honoured too)."""
    job_creation_burst: int = Field(default=100, ge=1)
    """Jobs that may be created at once after a quiet spell."""
    launch_concurrency: int = Field(default=32, ge=1, le=256)
    """Task starts of one run's pass under way at once (each: store writes, its token Secret,
    its Job — still paced by the Job creation limit), and ended Jobs recorded at once."""
    merge_jobs_per_run: int = Field(default=4, ge=1, le=32)
    """Merge Jobs of one run that may run at once: a finished task's merge starts without waiting
    for the merge before it (their pushes race and the loser merges again on the new tip); 1
    merges strictly one Job after another."""
    owner: str = Field(default="yokeflow-operator", min_length=1, max_length=200)
    """The owner id of every run this operator drives (one replica): a restarted operator is the
    same owner, so it keeps the Jobs its predecessor started instead of waiting them out."""
    agent_image: str = f"ghcr.io/yokeflow/yokeflow-agent:{__version__}"
    """The image of task and merge Jobs when a run names none (``images/agent``: it holds ``git``
    and ``yokeflow``); the Helm chart sets it from its ``agentImage`` value."""
    mcp_port: int = Field(default=8090, ge=0, le=65535)
    """Port the operator serves the MCP task manager on (HTTP, for agent pods); 0 picks a free one."""
    mcp_url: str | None = None
    """The MCP task manager's base URL as agent pods reach it (a Service in front of the
    operator; ``/mcp`` is added); unset: ``http://<the pod's IP>:<mcp_port>``."""
    mcp_signing_key: SecretStr | None = None
    """The key that signs agents' task tokens (from a Secret), so tokens outlive an operator
    restart; unset makes one per process (running agents lose their tools when it restarts)."""
    pod_node_selector: dict[str, str] = Field(default_factory=dict)
    """Node labels every task and merge pod must match (a node pool for agents); empty: any."""
    pod_tolerations: list[PodToleration] = Field(default_factory=list)
    """Tolerations of every task and merge pod (JSON), for nodes tainted for agents."""
    model_api_key_secret: str | None = None
    """``secret-name/key`` of the model API key for runs that name none."""
    agent_network_policy: bool = True
    """Give each run a NetworkPolicy (owned by the ProjectRun) that lets its pods reach DNS, the
    model endpoint, the MCP task manager and the run's git remote, and nothing else. It is
    enforced only where the cluster's network plugin enforces NetworkPolicies."""
    egress_model_cidr: str = "0.0.0.0/0"
    """Addresses agent pods may reach the model endpoint at (on its URL's port) when its host is
    a name (a NetworkPolicy cannot name hosts); an IP address in the URL is used as it is."""
    egress_git_cidr: str = "0.0.0.0/0"
    """Addresses agent pods may reach the run's git remote at (on its URL's port) when its host
    is a name; an IP address in the URL is used as it is."""
    egress_mcp_cidr: str = "0.0.0.0/0"
    """Addresses agent pods may reach the MCP task manager at (on its URL's port) when its host
    is a name and ``egress_mcp_pod_labels`` is empty."""
    egress_mcp_pod_labels: dict[str, str] = Field(default_factory=dict)
    """Labels of the operator's pods (the MCP task manager), which agent pods may then reach
    instead of ``egress_mcp_cidr``; empty: by address."""
    egress_mcp_namespace: str | None = None
    """The namespace of the pods ``egress_mcp_pod_labels`` names; unset: the run's own."""

    @field_validator("egress_model_cidr", "egress_git_cidr", "egress_mcp_cidr")
    @classmethod
    def _a_cidr(cls, value: str) -> str:
        ipaddress.ip_network(value, strict=False)  # a ValueError says what is wrong
        return value


class Settings(BaseSettings):
    """All of YokeFlow's settings."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="forbid",
        frozen=True,
    )

    parallel: ParallelSettings = Field(default_factory=ParallelSettings)
    learning: LearningSettings = Field(default_factory=LearningSettings)
    cost: CostSettings = Field(default_factory=CostSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    operator: OperatorSettings = Field(default_factory=OperatorSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings() merges flags > environment > file itself, so that it can say where
        # each value came from and name unknown keys; the merged values arrive as init data.
        return (init_settings,)


_SECTIONS: dict[str, type[_Section]] = {
    name: field.annotation  # type: ignore[misc]
    for name, field in Settings.model_fields.items()
}


def _fields() -> Iterator[tuple[str, str]]:
    for section, model in _SECTIONS.items():
        for name in model.model_fields:
            yield section, name


def env_name(section: str, name: str) -> str:
    """The environment variable of a setting: ``YOKEFLOW_<SECTION>_<FIELD>``."""
    return f"{ENV_PREFIX}{section}_{name}".upper()


MAX_FILE_BYTES = 1024 * 1024
"""A settings file is a few hundred bytes; reading stops here."""


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: larger than 1 MB, too big for a settings file")
    if b"\0" in raw:
        raise ConfigError(f"{path}: a binary file, expected YAML settings")
    try:
        data = strict_yaml.load(raw.decode("utf-8"), max_depth=8)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start + 1})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}:{where}: invalid YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections ({', '.join(_SECTIONS)})")
    for section, values in data.items():
        if section not in _SECTIONS:
            raise ConfigError(
                f"{path}: unknown section {section!r} (known: {', '.join(_SECTIONS)})"
            )
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: section {section!r} must be a mapping")
        for key in values:
            if key not in _SECTIONS[section].model_fields:
                known = ", ".join(_SECTIONS[section].model_fields)
                raise ConfigError(f"{path}: unknown key {section}.{key} (known: {known})")
    return data


def _check_env(environ: Mapping[str, str]) -> None:
    """Refuse a ``YOKEFLOW_`` variable that is meant as a setting but names none.

    Other ``YOKEFLOW_`` variables exist (``YOKEFLOW_MCP_TOKEN_SECRET``, the agent's
    ``YOKEFLOW_TASK_ID``…), so a variable counts as a setting when its section is one of ours, or
    when what follows a misspelt section is one of our field names, or the section is one letter
    or two away from one of ours (``YOKEFLOW_PARALEL_MAX_CONCURRENCY``).
    """
    known = {env_name(s, n) for s, n in _fields()}
    fields = {n for _, n in _fields()}
    for var, value in environ.items():
        upper = var.upper()
        if not upper.startswith(ENV_PREFIX):
            continue
        if upper in known:
            _check_env_text(var, value)
            continue
        section, _, rest = upper[len(ENV_PREFIX) :].partition("_")
        if section.lower() in _SECTIONS:
            raise ConfigError(
                f"unknown setting in environment variable {var}"
                f" (known in {section.lower()}: {', '.join(_SECTIONS[section.lower()].model_fields)})"
            )
        near = difflib.get_close_matches(section.lower(), list(_SECTIONS), n=1, cutoff=0.75)
        if near or rest.lower() in fields:
            hint = f" (did you mean {ENV_PREFIX}{near[0].upper()}_{rest}?)" if near else ""
            raise ConfigError(
                f"unknown settings section {section.lower()!r} in environment variable {var}"
                f"{hint}; sections: {', '.join(_SECTIONS)}"
            )


def _check_env_text(var: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(f"environment variable {var} is not UTF-8 text") from None


def setting_sources(
    project_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, str]:
    """Where each setting's effective value comes from: ``flag``, ``env VAR``, the file, or ``default``."""
    env = os.environ if environ is None else environ
    path = (project_dir or Path.cwd()) / CONFIG_FILE
    file_data = _read_file(path) if path.is_file() else {}
    out: dict[str, str] = {}
    upper_env = {k.upper() for k in env}
    for section, name in _fields():
        if overrides and name in overrides.get(section, {}):
            out[f"{section}.{name}"] = "flag"
        elif env_name(section, name) in upper_env:
            out[f"{section}.{name}"] = f"env {env_name(section, name)}"
        elif name in file_data.get(section, {}):
            out[f"{section}.{name}"] = str(path)
        else:
            out[f"{section}.{name}"] = "default"
    return out


def load_settings(
    project_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Build the settings for a project folder (default: the current directory).

    ``overrides`` are command-line values by section, e.g. ``{"parallel": {"max_concurrency": 4}}``.
    """
    env = os.environ if environ is None else environ
    path = (project_dir or Path.cwd()) / CONFIG_FILE
    data = _read_file(path) if path.is_file() else {}
    _check_env(env)
    merged: dict[str, dict[str, Any]] = {s: dict(data.get(s, {})) for s in _SECTIONS}
    for section, name in _fields():
        var = env_name(section, name)
        raw = next((v for k, v in env.items() if k.upper() == var), None)
        if raw is not None and not (overrides and name in overrides.get(section, {})):
            merged[section][name] = _parse_env(var, raw, section, name)
    for section, values in (overrides or {}).items():
        merged[section].update(values)
    sources = setting_sources(project_dir, env, overrides)
    try:
        return Settings.model_validate({k: v for k, v in merged.items() if v})
    except ValidationError as exc:
        raise _config_error(exc, sources) from None


def _config_error(exc: ValidationError, sources: Mapping[str, str]) -> ConfigError:
    """One sentence naming the setting (or the settings that contradict each other) and sources."""
    error = exc.errors(include_url=False)[0]
    loc = [str(p) for p in error["loc"]]
    if error["type"] == "value_error" and len(loc) == 1:  # a rule across fields of one section
        set_here = [f"{k} from {v}" for k, v in sources.items() if k.startswith(f"{loc[0]}.")]
        given = [item for item in set_here if not item.endswith(" from default")]
        return ConfigError(
            f"contradicting settings in {loc[0]}: {error['ctx']['error']}"
            + (f" ({'; '.join(given)})" if given else "")
        )
    key = ".".join(loc[:2])
    shown = repr(error.get("input"))
    got = f", got {shown}" if len(shown) <= 60 and not isinstance(error.get("input"), dict) else ""
    return ConfigError(
        f"bad value for {key} (from {sources.get(key, 'default')}): {error['msg']}{got}"
    )


def _parse_env(var: str, raw: str, section: str, name: str) -> Any:
    """Lists and mappings come as JSON; everything else is left for pydantic to coerce."""
    annotation = str(_SECTIONS[section].model_fields[name].annotation)
    if not annotation.startswith(("list", "dict")):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise ConfigError(
            f"bad value for {section}.{name} (from env {var}): expected JSON"
        ) from None
    except RecursionError:
        raise ConfigError(
            f"bad value for {section}.{name} (from env {var}): JSON nested too deeply"
        ) from None


_MASK = "********"
_SECRET_QUERY_KEYS = ("password", "passwd", "secret", "token", "key", "signature", "sig")


def masked_url(text: str) -> str:
    """``text`` with the credentials a URL may embed masked: the password of its user part
    (``https://user:********@host``) and query values named like secrets (``?api_key=********``).
    Text that is not such a URL comes back unchanged."""
    try:
        parts = urlsplit(text)
        password = parts.password
    except ValueError:
        return text
    if not parts.scheme or not parts.netloc:
        return text
    netloc = parts.netloc
    if password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}:{_MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(any(s in k.lower() for s in _SECRET_QUERY_KEYS) for k, _ in pairs):
            query = urlencode(
                [
                    (k, _MASK if any(s in k.lower() for s in _SECRET_QUERY_KEYS) else v)
                    for k, v in pairs
                ],
                safe="*",
            )
    if netloc == parts.netloc and query == parts.query:
        return text
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def effective_values(settings: Settings) -> dict[str, Any]:
    """Every setting as ``section.field -> value``, secrets masked: secret fields whole, and the
    credentials embedded in a URL (a model endpoint ``https://user:pass@gateway``)."""
    out: dict[str, Any] = {}
    for section, name in _fields():
        value = getattr(getattr(settings, section), name)
        if isinstance(value, SecretStr):
            value = _MASK
        elif isinstance(value, Path):
            value = str(value)
        elif isinstance(value, str):
            value = masked_url(value)
        out[f"{section}.{name}"] = value
    return out
