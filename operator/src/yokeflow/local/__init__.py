"""Local mode: the engine composed in one process on this machine (``yokeflow run`` / ``demo``)."""
