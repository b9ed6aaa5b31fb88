"""Ports: the Protocols between services and the adapters that do I/O."""
