-- YokeFlow claims: the completion trigger of 0030 again.
-- Idempotent: every statement may run again on a database that already has it.
--
-- 0070 made the epic's witness an advisory lock (pg_try_advisory_xact_lock_shared, then a check
-- in a new statement) and counted a task's dependents down in one statement; measured with 50
-- connections completing tasks of one epic at once, on PostgreSQL 15 (server CPU per
-- completion from /proc/<pid>/schedstat, three rounds each after a warm-up, alternated), both
-- cost more than what they replaced: 0030's trigger 664-727 us, one statement for the
-- dependents 737-881 us, that and the advisory witness 812-930 us. This file puts back 0030's
-- function unchanged (the witness is a row lock FOR SHARE SKIP LOCKED again); 0070's
-- yokeflow_complete_and_claim stays.

-- A task became done (or, against the state machine, stopped being done): its dependents' counts,
-- and its epic's completion — decided exactly once, by the change that finishes the last task,
-- without making every completion of an epic wait for the one before it to commit:
-- * another running or failed task of the epic, locked FOR SHARE, is a witness that the epic is
--   not finished; that task cannot become done before this transaction commits, and its own
--   completion will then see this one done. SKIP LOCKED: a task being changed is no witness;
--   waiting_for = 0: no completion needs to change its count, so none waits for this lock.
-- * without a witness, the epic row is locked and its tasks counted in a new statement (a new
--   snapshot, after the lock): of two last completions, the second sees the first done.
CREATE OR REPLACE FUNCTION yokeflow_task_done_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    became_done boolean := NEW.status = 'done';
    delta integer := CASE WHEN NEW.status = 'done' THEN -1 ELSE 1 END;
    epic_flipped boolean := false;
BEGIN
    IF became_done THEN
        PERFORM 1 FROM tasks
        WHERE epic_id = NEW.epic_id AND status IN ('running', 'failed') AND waiting_for = 0
          AND id <> NEW.id
        LIMIT 1 FOR SHARE SKIP LOCKED;
        IF NOT FOUND THEN
            PERFORM 1 FROM epics WHERE id = NEW.epic_id FOR UPDATE;
            UPDATE epics
            SET all_tasks_done = true, status = 'done', completed_at = clock_timestamp()
            WHERE id = NEW.epic_id AND NOT all_tasks_done
              AND NOT EXISTS (SELECT 1 FROM tasks
                              WHERE epic_id = NEW.epic_id AND status <> 'done');
            epic_flipped := FOUND;
        END IF;
    ELSE
        UPDATE epics SET all_tasks_done = false WHERE id = NEW.epic_id AND all_tasks_done;
        epic_flipped := FOUND;
    END IF;
    IF NOT epic_flipped THEN
        -- The common case: only the task's own hard dependents (the GIN index on depends_on).
        PERFORM 1 FROM tasks
        WHERE project_id = NEW.project_id AND dependency_type = 'hard'
          AND depends_on @> ARRAY[NEW.id]
        ORDER BY id FOR UPDATE;
        UPDATE tasks SET waiting_for = waiting_for + delta
        WHERE project_id = NEW.project_id AND dependency_type = 'hard'
          AND depends_on @> ARRAY[NEW.id];
        RETURN NULL;
    END IF;
    -- Once per epic: its hard dependents and every task of the epics depending on the epic,
    -- locked together in id order; a task that is both changes by 2.
    PERFORM 1 FROM tasks t
    WHERE t.id IN (SELECT d.id FROM tasks d
                   WHERE d.project_id = NEW.project_id AND d.dependency_type = 'hard'
                     AND d.depends_on @> ARRAY[NEW.id]
                   UNION
                   SELECT d.id FROM tasks d JOIN epics e ON e.id = d.epic_id
                   WHERE e.project_id = NEW.project_id AND e.depends_on @> ARRAY[NEW.epic_id])
    ORDER BY t.id FOR UPDATE;
    UPDATE tasks t SET waiting_for = t.waiting_for + delta * s.n
    FROM (SELECT x.id, count(*)::integer AS n
          FROM (SELECT d.id FROM tasks d
                WHERE d.project_id = NEW.project_id AND d.dependency_type = 'hard'
                  AND d.depends_on @> ARRAY[NEW.id]
                UNION ALL
                SELECT d.id FROM tasks d JOIN epics e ON e.id = d.epic_id
                WHERE e.project_id = NEW.project_id AND e.depends_on @> ARRAY[NEW.epic_id]) x
          GROUP BY x.id) s
    WHERE t.id = s.id;
    RETURN NULL;
END
$$;
