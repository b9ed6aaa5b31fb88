"""The README's cluster quick start names what the chart and the example really make.

Its `helm install` line is rendered with `helm template` (same release, namespace and `--set`
values, the Prometheus Operator's API offered); then every name the following lines use must be
in the render: the Secrets it creates and their keys are the ones the pods read, the Deployment
it waits for and the Service it port-forwards to (with that port) exist, the dashboards carry the
label it lists them by; the run's Secrets are the ones the example ProjectRun names.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from yokeflow.testing.helm import Helm

pytestmark = pytest.mark.controlplane

ROOT = Path(__file__).resolve().parents[3]


def _quick_start() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## In a cluster: quick start", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:
                commands.append(words)
    return commands


def _option(words: list[str], name: str) -> str | None:
    return words[words.index(name) + 1] if name in words else None


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _nodes(item)


def _reads_secret_key(objects: list[dict[str, Any]], name: str, key: str) -> bool:
    """Whether a pod of the render reads ``key`` of the Secret ``name`` (env or volume)."""
    for node in _nodes(objects):
        reference = node.get("secretKeyRef")
        if isinstance(reference, dict) and (reference.get("name"), reference.get("key")) == (
            name,
            key,
        ):
            return True
        secret = node.get("secret")
        if (
            isinstance(secret, dict)
            and secret.get("secretName") == name
            and key in {item.get("key") for item in secret.get("items", [])}
        ):
            return True
    return False


def _created_secrets(commands: list[list[str]]) -> list[tuple[str | None, str, set[str]]]:
    """(namespace, name, keys) of every `kubectl create secret generic` line."""
    out = []
    for words in commands:
        if words[:1] == ["kubectl"] and "secret" in words and "generic" in words:
            name = words[words.index("generic") + 1]
            keys = {
                re.match(r"--from-literal=([^=]+)=", word).group(1)  # type: ignore[union-attr]
                for word in words
                if word.startswith("--from-literal=")
            }
            out.append((_option(words, "-n"), name, keys))
    return out


def test_the_quick_start_names_what_the_chart_and_the_example_make(helm: Helm) -> None:
    commands = _quick_start()
    [install] = [w for w in commands if w[:2] == ["helm", "install"]]
    release, chart, *options = install[2:]
    namespace = _option(options, "-n")
    assert namespace, "the quick start's helm install names its namespace"
    rendered = helm.run(
        "template", release, str(ROOT / chart), *options,
        "--api-versions", "monitoring.coreos.com/v1",
    )  # fmt: skip
    objects = [doc for doc in yaml.safe_load_all(rendered) if doc]
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}

    chart_secrets = [(n, keys) for ns, n, keys in _created_secrets(commands) if ns == namespace]
    assert chart_secrets, "the quick start creates the chart's Secrets"
    for name, keys in chart_secrets:
        for key in keys:
            read = _reads_secret_key(objects, name, key)
            assert read, f"no pod reads {key} of Secret {name}"

    for words in commands:
        if words[:1] != ["kubectl"]:
            continue
        for word in words:
            kind, _, name = word.partition("/")
            if kind == "deployment":
                assert ("Deployment", name) in names, word
            if kind == "service":
                assert ("Service", name) in names, word
                remote = int(words[words.index(word) + 1].split(":")[1])
                ports = {
                    port["port"]
                    for o in objects
                    if (o["kind"], o["metadata"]["name"]) == ("Service", name)
                    for port in o["spec"]["ports"]
                }
                assert remote in ports, word
        label = _option(words, "-l")
        if label and "configmaps" in words:
            key, _, value = label.partition("=")
            labelled = [
                o for o in objects
                if o["kind"] == "ConfigMap" and o["metadata"].get("labels", {}).get(key) == value
            ]  # fmt: skip
            assert labelled, f"no ConfigMap labelled {label}"

    [apply] = [w for w in commands if w[:2] == ["kubectl", "apply"]]
    run = yaml.safe_load((ROOT / apply[apply.index("-f") + 1]).read_text(encoding="utf-8"))
    run_secrets = {(n, frozenset(k)) for ns, n, k in _created_secrets(commands) if ns is None}
    agent = run["spec"]["agent"]["credentialsSecret"]
    assert (agent["name"], frozenset({agent.get("key", "api-key")})) in run_secrets
    git = run["spec"]["repository"]["credentialsSecret"]["name"]
    assert (git, frozenset({"username", "password"})) in run_secrets
    described = [w for w in commands if w[:3] == ["kubectl", "describe", "projectrun"]]
    assert [w[3] for w in described] == [run["metadata"]["name"]]
