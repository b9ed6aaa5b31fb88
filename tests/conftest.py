"""Settings every test shares, and how the suite is spread over worker processes.

Property-based tests judge correctness, not speed: on a shared, loaded machine a generated example
can take longer than hypothesis' default 200 ms deadline, or its data generation can look "too
slow", and the test would fail for reasons unrelated to the code. Speed is measured by the scripts
in ``tests/benchmarks``.

``scripts/test.sh`` runs the suite on several pytest-xdist workers with ``--dist loadgroup``: each
worker is a test session of its own (its own session fixtures, temporary folders, embedded
PostgreSQL and database names), and tests that share one heavy thing run on one worker, in turn:

* every test that uses the ``control_plane`` fixture (directly or through ``kubectl``,
  ``process_node``, the operator…) is in the ``controlplane`` group: one control plane for the
  whole run, and the cluster-wide things its tests install (CRDs, one operator watching every
  namespace, the process node) never meet a second copy;
* tests marked ``xdist_group("postgres-connections")`` open about fifty connections each; in one
  group they never run at once against PostgreSQL 15's 100.
"""

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("yokeflow", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("yokeflow")

CONTROL_PLANE_GROUP = "controlplane"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the control plane's tests in one group, first (the longest unit of work starts first)."""
    for item in items:
        if "control_plane" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group(CONTROL_PLANE_GROUP))
