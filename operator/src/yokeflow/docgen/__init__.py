"""Reference pages written from models: the configuration reference (``docs/configuration.md``)
from the settings model, and the Helm chart's values when a values model is given.

Pure: models in, Markdown out; ``yokeflow generate`` writes the files and ``--check`` fails when
one on disk is stale.
"""

from __future__ import annotations

from yokeflow.docgen.configuration import configuration_markdown
from yokeflow.docgen.model_fields import FieldRow, Group, field_rows, groups

__all__ = ["FieldRow", "Group", "configuration_markdown", "field_rows", "groups"]
