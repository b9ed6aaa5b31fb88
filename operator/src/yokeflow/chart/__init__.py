"""The Helm chart's generated parts: its values model, ``values.yaml``, ``values.schema.json``,
the CRD copy and the RBAC template (``charts/yokeflow``).

Pure: each function returns a file's text; ``yokeflow generate`` writes them.
"""

from __future__ import annotations

from yokeflow.chart.files import chart_files
from yokeflow.chart.values import ChartValues

__all__ = ["ChartValues", "chart_files"]
