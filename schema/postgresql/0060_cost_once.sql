-- YokeFlow costs: a session's cost is recorded once.
-- Idempotent: every statement may run again on a database that already has it.
--
-- A session's cost can be reported more than once: a runner repeats its report after an answer
-- it never got (the task manager crashed between recording it and answering), the operator
-- records what a Job's termination message names when the runner's report looks lost, and a
-- resumed run records what a lost session had spent. Recording is keyed by the session: the
-- first row of a session stands and every later one is refused by this index (the store's
-- insert does nothing then). Rows without a session (a conflict resolution's spend) are not
-- keyed. Rows written twice before this index existed are dropped, the first one kept.
DELETE FROM agent_costs AS later
USING agent_costs AS first
WHERE later.session_id IS NOT NULL
  AND later.session_id = first.session_id
  AND later.id > first.id;

CREATE UNIQUE INDEX IF NOT EXISTS agent_costs_once_per_session
    ON agent_costs (session_id) WHERE session_id IS NOT NULL;
