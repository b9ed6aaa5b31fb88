"""The scripted model server: the Anthropic Messages API answered from a scenario file.

It lets the real Claude Code CLI run offline: point ``ANTHROPIC_BASE_URL`` at it. The scenario
format and the matching rules are in :mod:`yokeflow.core.scenario`.
"""

from yokeflow.adapters.scripted_model.app import ScriptedModel, build_app
from yokeflow.adapters.scripted_model.recording import RecordedRequest, RequestLog
from yokeflow.adapters.scripted_model.server import ScriptedModelServer, load_scenario, serve

__all__ = [
    "RecordedRequest",
    "RequestLog",
    "ScriptedModel",
    "ScriptedModelServer",
    "build_app",
    "load_scenario",
    "serve",
]
