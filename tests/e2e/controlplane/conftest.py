"""Fixtures of the control plane's own end-to-end tests: ``kubectl`` and ``namespace`` come from
tests/e2e/conftest.py."""
