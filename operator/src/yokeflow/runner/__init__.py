"""The task runner: what a task Job (or a local worker) runs for one task, end to end."""
