"""The Helm chart's generated values are the model's, and the chart installs this release."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import yaml
from pydantic import BaseModel

import yokeflow
from yokeflow.chart import ChartValues
from yokeflow.chart.values import CONFIG_EXCLUDED, config_defaults

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "yokeflow"


def test_values_yaml_holds_the_models_defaults_each_commented() -> None:
    text = (CHART / "values.yaml").read_text()
    assert yaml.safe_load(text) == ChartValues().model_dump(mode="json", by_alias=True)

    def described(model: type[BaseModel]) -> Iterator[str]:
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no docstring"
            yield field.description
            if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                yield from described(field.annotation)

    comments = " ".join(line.strip().lstrip("# ") for line in text.splitlines() if "#" in line)
    for description in described(ChartValues):
        assert " ".join(description.replace("``", "`").split())[:60] in comments


def test_the_settings_under_config_are_all_but_the_excluded_ones() -> None:
    config = config_defaults()
    schema = json.loads((CHART / "values.schema.json").read_text())
    sections = schema["properties"]["config"]["properties"]
    for section, fields in config.items():
        assert set(sections[section]["properties"]) == set(fields)
        for name in fields:
            assert sections[section]["properties"][name].get("description"), f"{section}.{name}"
    assert all(name.split(".")[1] not in config[name.split(".")[0]] for name in CONFIG_EXCLUDED)


def test_the_schema_has_no_refs_and_forbids_unknown_keys() -> None:
    text = (CHART / "values.schema.json").read_text()
    assert "$ref" not in text
    assert "$defs" not in text
    schema = json.loads(text)
    assert schema["additionalProperties"] is False
    assert schema["properties"]["operator"]["additionalProperties"] is False


def test_the_chart_installs_this_release() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["appVersion"] == yokeflow.__version__
    assert chart["name"] == "yokeflow"


def test_the_operators_default_agent_image_is_the_charts_of_this_release() -> None:
    from yokeflow.chart.values import AGENT_IMAGE
    from yokeflow.settings import OperatorSettings

    assert OperatorSettings().agent_image == f"{AGENT_IMAGE}:{yokeflow.__version__}"
