"""Errors of the test control plane, part of YokeFlow's one error tree.

::

    PermanentError (yokeflow.errors)
    └── ControlPlaneError         the local control plane cannot do what was asked
        ├── BinariesMissingError  the binaries are not built; the message says how to build them
        ├── AlreadyRunningError   ``up`` found a control plane that is only partly alive
        └── StartupError          a component exited or did not get ready; names it, quotes its log

``python -m yokeflow.testing.controlplane`` prints ``str(error)`` and exits non-zero.
"""

from __future__ import annotations

from yokeflow.errors import PermanentError

__all__ = ["AlreadyRunningError", "BinariesMissingError", "ControlPlaneError", "StartupError"]


class ControlPlaneError(PermanentError):
    """The local test control plane cannot do what was asked; ``str()`` says why."""


class BinariesMissingError(ControlPlaneError):
    """Some control plane binaries are not in the cache; the message names them and the fix."""


class AlreadyRunningError(ControlPlaneError):
    """``up`` found a previous control plane in the same state directory that is partly alive."""


class StartupError(ControlPlaneError):
    """A component exited early or did not become ready in time.

    The message names the component, its log file and the last lines of that log.
    """
