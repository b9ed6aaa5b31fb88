"""The Model Context Protocol server that gives agents the task tools."""
