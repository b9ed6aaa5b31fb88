"""``python -m yokeflow.testing.controlplane``: see ``cli``."""

from yokeflow.testing.controlplane.cli import main

raise SystemExit(main())
