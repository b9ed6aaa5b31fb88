"""Pure builders of the Kubernetes objects the operator creates: task, merge and planning Jobs,
the agent NetworkPolicy, TaskBatches, and the operator's RBAC.

Like CloudNativePG's ``pkg/specs``: each builder takes the API models and plain values (names,
commits, images, times) and returns the object as a plain, precisely typed dictionary, ready for
the Kubernetes client. No I/O, no clock, no randomness: the same inputs give the same object, so a
restarted operator rebuilds exactly what it created before.
"""
