"""Settings every test shares.

Property-based tests judge correctness, not speed: on a shared, loaded machine a generated example
can take longer than hypothesis' default 200 ms deadline, or its data generation can look "too
slow", and the test would fail for reasons unrelated to the code. Speed is measured by the scripts
in ``tests/benchmarks``.
"""

from hypothesis import HealthCheck, settings

settings.register_profile("yokeflow", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("yokeflow")
