"""``python -m yokeflow_mcp serve ...`` — the same as ``yokeflow mcp serve ...``."""

from __future__ import annotations

import sys

from yokeflow.cli.main import main

if __name__ == "__main__":
    sys.argv = [sys.argv[0], "mcp", *sys.argv[1:]]
    main()
