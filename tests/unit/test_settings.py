"""Settings: flags > environment > .yokeflow.yaml > defaults, with sources and named errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from yokeflow.errors import ConfigError
from yokeflow.settings import effective_values, load_settings, masked_url, setting_sources


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={})
    assert settings.parallel.max_concurrency == 3
    assert settings.parallel.schedule == "eager"
    assert settings.learning.expertise_max_lines == 1000
    assert settings.database.url is None
    assert set(setting_sources(tmp_path, {}).values()) == {"default"}


def test_precedence_and_sources(tmp_path: Path) -> None:
    (tmp_path / ".yokeflow.yaml").write_text(
        "parallel:\n  max_concurrency: 5\n  schedule: batches\ncost:\n  budget_limit_usd: 2.5\n"
    )
    env = {
        "YOKEFLOW_PARALLEL_MAX_CONCURRENCY": "7",
        "YOKEFLOW_DATABASE_URL": "postgresql://u:secret@h/db",
    }
    flags = {"parallel": {"schedule": "eager"}}
    settings = load_settings(tmp_path, environ=env, overrides=flags)
    assert settings.parallel.max_concurrency == 7
    assert settings.parallel.schedule == "eager"
    assert settings.cost.budget_limit_usd == 2.5
    sources = setting_sources(tmp_path, env, flags)
    assert sources["parallel.max_concurrency"] == "env YOKEFLOW_PARALLEL_MAX_CONCURRENCY"
    assert sources["parallel.schedule"] == "flag"
    assert sources["cost.budget_limit_usd"] == str(tmp_path / ".yokeflow.yaml")
    assert sources["agent.max_turns"] == "default"
    assert effective_values(settings)["database.url"] == "********"


def test_lists_and_mappings_come_as_json(tmp_path: Path) -> None:
    env = {
        "YOKEFLOW_COST_MODEL_OVERRIDES": '{"schema": "claude-opus-4-5"}',
        "YOKEFLOW_LEARNING_DOMAINS": '["api"]',
    }
    settings = load_settings(tmp_path, environ=env)
    assert settings.cost.model_overrides == {"schema": "claude-opus-4-5"}
    assert settings.learning.domains == ["api"]


@pytest.mark.parametrize(
    ("env", "file", "message"),
    [
        (
            {"YOKEFLOW_PARALLEL_MAX_CONCURENCY": "4"},
            None,
            "unknown setting in environment variable YOKEFLOW_PARALLEL_MAX_CONCURENCY",
        ),
        (
            {"YOKEFLOW_PARALLEL_MAX_CONCURRENCY": "0"},
            None,
            "bad value for parallel.max_concurrency (from env YOKEFLOW_PARALLEL_MAX_CONCURRENCY)",
        ),
        ({"YOKEFLOW_PARALLEL_SCHEDULE": "fastest"}, None, "bad value for parallel.schedule"),
        (
            {"YOKEFLOW_LEARNING_DOMAINS": "api"},
            None,
            "bad value for learning.domains (from env YOKEFLOW_LEARNING_DOMAINS): expected JSON",
        ),
        ({}, "paralel:\n  enabled: true\n", "unknown section 'paralel'"),
        ({}, "parallel:\n  max_workers: 2\n", "unknown key parallel.max_workers"),
        (
            {},
            "parallel:\n  max_concurrency: lots\n",
            "bad value for parallel.max_concurrency (from ",
        ),
        ({}, "parallel: [1, 2\n", "invalid YAML"),
    ],
)
def test_unknown_keys_and_bad_values_are_named(
    tmp_path: Path, env: dict[str, str], file: str | None, message: str
) -> None:
    if file is not None:
        (tmp_path / ".yokeflow.yaml").write_text(file)
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, environ=env)
    assert message in str(info.value)


def test_unrelated_environment_is_ignored(tmp_path: Path) -> None:
    assert load_settings(
        tmp_path, environ={"YOKEFLOW_TEST_PG15_URL": "x", "PATH": "/bin"}
    ).parallel.enabled


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pa:ss@gw.example/v1", "https://user:********@gw.example/v1"),
        ("https://gw/v1?api_key=abc&region=eu", "https://gw/v1?api_key=********&region=eu"),
        ("https://gw/v1?Token=abc", "https://gw/v1?Token=********"),
        ("postgresql://u:pw@[::1]:5432/db", "postgresql://u:********@[::1]:5432/db"),
        ("http://127.0.0.1:9999", "http://127.0.0.1:9999"),
        ("https://user@host/", "https://user@host/"),
        ("claude-sonnet-4-5", "claude-sonnet-4-5"),
        ("uv run pytest -q", "uv run pytest -q"),
    ],
)
def test_credentials_in_urls_are_masked(url: str, shown: str) -> None:
    assert masked_url(url) == shown


def test_config_show_masks_a_model_endpoints_credentials(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from yokeflow.cli.main import app

    environ = {"YOKEFLOW_AGENT_MODEL_ENDPOINT": "https://bob:hunter2@gateway.example/v1"}
    settings = load_settings(tmp_path, environ=environ)
    assert settings.agent.model_endpoint == environ["YOKEFLOW_AGENT_MODEL_ENDPOINT"]
    assert effective_values(settings)["agent.model_endpoint"] == (
        "https://bob:********@gateway.example/v1"
    )
    for args in (["config", "show", "-p", str(tmp_path)], ["config", "show", "--format", "json"]):
        shown = CliRunner().invoke(app, args, env=environ)
        assert shown.exit_code == 0, shown.output
        assert "gateway.example" in shown.output
        assert "hunter2" not in shown.output
