"""Adapters: every piece of I/O (PostgreSQL, git, the agent SDK, Kubernetes) lives here."""
