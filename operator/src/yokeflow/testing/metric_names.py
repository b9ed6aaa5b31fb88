"""Every series name YokeFlow exports (what alert rules and dashboards may use), and the names a
PromQL expression mentions: for the tests that cross-check them."""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry

from yokeflow.adapters.prometheus.catalog import ApiFamilies, OperatorFamilies, exposed_names

__all__ = ["exported_names", "yokeflow_names_in"]


def exported_names() -> set[str]:
    api, operator = CollectorRegistry(), CollectorRegistry()
    ApiFamilies(api)
    OperatorFamilies(operator)
    return exposed_names(api) | exposed_names(operator)


def yokeflow_names_in(promql: str) -> set[str]:
    """The ``yokeflow_`` metric names a PromQL expression mentions."""
    return set(re.findall(r"\byokeflow_[a-zA-Z0-9_]+", promql))
