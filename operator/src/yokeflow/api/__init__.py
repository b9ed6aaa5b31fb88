"""The custom resources' API: one package per version, each a set of pydantic models.

The models are the contract of the Kubernetes API: ``yokeflow generate`` turns them into the
CustomResourceDefinitions under ``crds/`` (see :mod:`yokeflow.crdgen`), their attribute
docstrings become what ``kubectl explain`` prints, and the operator reads and writes objects only
through them. Pure: no I/O, no Kubernetes client.
"""
