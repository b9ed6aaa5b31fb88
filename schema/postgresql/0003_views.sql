-- YokeFlow state, part 3: views for dashboards and the API.
-- CREATE OR REPLACE keeps this idempotent; a later migration that changes a view's columns
-- drops it first.

CREATE OR REPLACE VIEW v_project_costs AS
SELECT c.project_id,
       c.model,
       c.operation,
       count(*)                      AS calls,
       count(DISTINCT c.session_id)  AS sessions,
       sum(c.input_tokens)           AS input_tokens,
       sum(c.output_tokens)          AS output_tokens,
       sum(c.cache_read_tokens)      AS cache_read_tokens,
       sum(c.cache_creation_tokens)  AS cache_creation_tokens,
       sum(c.cost_usd)               AS cost_usd,
       min(c.recorded_at)            AS first_recorded_at,
       max(c.recorded_at)            AS last_recorded_at
FROM agent_costs c
GROUP BY c.project_id, c.model, c.operation;

CREATE OR REPLACE VIEW v_parallel_progress AS
SELECT b.id AS batch_id,
       b.project_id,
       b.batch_number,
       b.status,
       cardinality(b.task_ids)                                       AS total,
       count(t.id) FILTER (WHERE t.status = 'done')                  AS done,
       count(t.id) FILTER (WHERE t.status = 'running')               AS running,
       count(t.id) FILTER (WHERE t.status = 'failed')                AS failed,
       count(t.id) FILTER (WHERE t.status IN ('pending', 'blocked')) AS pending,
       b.created_at,
       b.started_at,
       b.completed_at
FROM parallel_batches b
LEFT JOIN tasks t ON t.id = ANY (b.task_ids)
GROUP BY b.id;

CREATE OR REPLACE VIEW v_worktree_status AS
SELECT w.id AS worktree_id,
       w.project_id,
       w.branch_name,
       w.worktree_path,
       w.status,
       w.base_commit,
       w.merge_commit,
       jsonb_array_length(w.conflicts) AS conflict_count,
       COALESCE(w.epic_id, t.epic_id) AS epic_id,
       e.key    AS epic_key,
       e.name   AS epic_name,
       e.status AS epic_status,
       w.task_id,
       t.key    AS task_key,
       t.title  AS task_title,
       t.status AS task_status,
       w.created_at,
       w.updated_at,
       w.merged_at
FROM worktrees w
LEFT JOIN tasks t ON t.id = w.task_id
LEFT JOIN epics e ON e.id = COALESCE(w.epic_id, t.epic_id);
