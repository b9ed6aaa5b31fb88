"""The Kubernetes operator: kopf handlers for ProjectRun (and, later, TaskBatch), kept thin.

``registry.build_registry()`` registers every handler on a fresh ``kopf.OperatorRegistry``
(importing this package registers nothing); ``main.run_operator`` is the composition root that
builds the dependencies, puts them in kopf's memo and runs kopf.
"""
