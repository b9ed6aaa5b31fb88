"""Test support shipped with the package: fakes of the ports, local control plane, fixtures."""
