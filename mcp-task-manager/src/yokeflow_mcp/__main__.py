"""``python -m yokeflow_mcp serve ...`` — the same as ``yokeflow mcp serve ...``, started faster."""

from __future__ import annotations

from yokeflow.cli.mcp_cmd import main

if __name__ == "__main__":
    main()
