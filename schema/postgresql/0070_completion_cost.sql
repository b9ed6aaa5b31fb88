-- YokeFlow claims: a cheaper completion, and a completion that claims the next task.
-- Idempotent: every statement may run again on a database that already has it.
--
-- The epic's witness (0030) is now an advisory lock, not a row lock. A task becoming done holds
-- the exclusive transaction lock (YOKEFLOW_WITNESS_LOCK, its id) until it commits; another
-- completion of the epic takes the shared lock of a running or failed task of the epic with
-- pg_try_advisory_xact_lock_shared (never waits: a task being completed is no witness) and then,
-- in a new statement (a new snapshot, after the lock), checks that the task is still not done.
-- That task cannot become done before this transaction commits (its completion waits for the
-- exclusive lock), and its own completion then sees this one done: the epic is decided exactly
-- once, as before. The row lock FOR SHARE it replaces wrote the witness's row (a WAL record per
-- completion, and a MultiXact whenever two completions chose the same witness, as most did).
--
-- A task's dependents are counted down by one statement (locked in id order inside it) instead of
-- a lock statement and an update statement: one lookup of the dependents index, not two.
--
-- Lock order, unchanged otherwise: the changed task (its row, then its advisory lock); then the
-- witness (never waits) or the epic row; then every task whose count changes, in id order.

CREATE OR REPLACE FUNCTION yokeflow_task_done_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- pg_advisory_xact_lock(int, int): its own key space, apart from the single-key locks.
    witness_class constant integer := 1498105431;  -- "YKFW"
    became_done boolean := NEW.status = 'done';
    delta integer := CASE WHEN NEW.status = 'done' THEN -1 ELSE 1 END;
    epic_flipped boolean := false;
    witness integer;
BEGIN
    IF became_done THEN
        PERFORM pg_advisory_xact_lock(witness_class, NEW.id);
        SELECT id INTO witness FROM tasks
        WHERE epic_id = NEW.epic_id AND status IN ('running', 'failed') AND waiting_for = 0
          AND id <> NEW.id AND pg_try_advisory_xact_lock_shared(witness_class, id)
        LIMIT 1;
        IF witness IS NOT NULL THEN
            PERFORM 1 FROM tasks WHERE id = witness AND status <> 'done';
        END IF;
        IF witness IS NULL OR NOT FOUND THEN
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
        UPDATE tasks SET waiting_for = waiting_for + delta
        WHERE id IN (SELECT id FROM tasks
                     WHERE project_id = NEW.project_id AND dependency_type = 'hard'
                       AND depends_on @> ARRAY[NEW.id]
                     ORDER BY id FOR UPDATE);
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

-- A completion and the next claim in one transaction, one round trip, one commit: the task
-- becomes done as yokeflow_change_task_status(p_task, 'done', p_from, NULL) makes it (the first
-- row: the task, its previous status, whether it changed, whether its epic completed); when it
-- did, the first ready task of its project in claim order is taken for p_worker exactly as the
-- claim statement of adapters/postgres/tasks.py takes it, in a new statement — so a dependent
-- this completion made ready can be the one claimed — and is the second row (previous NULL).
CREATE OR REPLACE FUNCTION yokeflow_complete_and_claim(p_task integer, p_from text[],
                                                       p_worker text)
RETURNS TABLE (task tasks, previous text, changed boolean, epic_completed boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    done record;
    next tasks;
BEGIN
    SELECT c.task, c.previous, c.changed, c.epic_completed INTO done
    FROM yokeflow_change_task_status(p_task, 'done', p_from, NULL) AS c;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT done.task, done.previous, done.changed, done.epic_completed;
    IF NOT done.changed THEN
        RETURN;
    END IF;
    WITH claimed AS (
        UPDATE tasks
        SET status = 'running', attempts = attempts + 1, claimed_by = p_worker,
            last_error = NULL, started_at = clock_timestamp(), updated_at = clock_timestamp()
        WHERE id = (SELECT id FROM tasks
                    WHERE project_id = (done.task).project_id AND status = 'pending'
                      AND waiting_for = 0
                    ORDER BY priority, position, id
                    LIMIT 1
                    FOR UPDATE SKIP LOCKED)
        RETURNING *
    ), started AS (
        UPDATE epics SET status = 'running'
        WHERE id = (SELECT epic_id FROM claimed) AND status = 'pending'
    )
    SELECT * INTO next FROM claimed;
    IF FOUND THEN
        RETURN QUERY SELECT next, NULL::text, true, false;
    END IF;
END
$$;
