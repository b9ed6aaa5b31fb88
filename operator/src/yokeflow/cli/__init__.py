"""The `yokeflow` command line."""
