-- YokeFlow tasks: the model a plan pins on a task.
-- Idempotent: every statement may run again on a database that already has it.
--
-- tasks.model is the model of the task's last attempt; pinned_model is what the plan asked for
-- (`model:` on the task: a tier name or a model id), which every attempt of the task's own
-- sessions uses over the cost-based choice. NULL: no pin.
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS pinned_model TEXT;
