"""Ports: the Protocols between services and the adapters that do I/O."""

from yokeflow.ports.workspace import WorktreeLedger

__all__ = ["WorktreeLedger"]
