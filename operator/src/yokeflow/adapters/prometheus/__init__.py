"""Prometheus: the metric families of the API and the operator (one catalog), and what they
measure on disk."""
