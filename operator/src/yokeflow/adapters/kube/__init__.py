"""Kubernetes adapters: the one API client, the Job gateway (the cluster's TaskLauncher)."""
