-- YokeFlow claims: what a task waits for, kept by the database, so a claim is one index probe.
-- Idempotent: every statement may run again on a database that already has it.
--
-- tasks.waiting_for = the task's hard dependencies that are not done
--                   + the epics its epic depends on that still have a task not done.
-- epics.all_tasks_done = no task of the epic is unfinished (true for an epic without tasks).
--
-- Triggers keep both right under every change of a task's status, dependencies or epic, and of
-- an epic's dependencies, whichever statement makes it, in the transaction that makes it. Only
-- "done" counts, and done is final, so retrying a failed task, re-evaluating a blocked one or
-- releasing a claim changes no count: the task is simply pending again with the count it had.
-- Rows are deleted only with their whole project (ON DELETE CASCADE), so deletes keep no count.
--
-- Locks, always in this order so no two of these transactions deadlock: the changed task; then
-- (a task becoming done) another running or failed task of its epic as a witness, FOR SHARE SKIP
-- LOCKED, or else the epic row; then every task whose count changes, in id order.

ALTER TABLE epics ADD COLUMN IF NOT EXISTS all_tasks_done BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS waiting_for INTEGER NOT NULL DEFAULT 0;

-- What a task waits for, computed from scratch (new rows, changed dependencies, the backfill).
CREATE OR REPLACE FUNCTION yokeflow_waiting_for(p_epic integer, p_depends_on integer[],
                                                p_dependency_type text)
RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT (CASE WHEN p_dependency_type = 'hard' THEN
                (SELECT count(*) FROM tasks d
                 WHERE d.id = ANY (p_depends_on) AND d.status <> 'done')
            ELSE 0 END)::integer
         + (SELECT count(*) FROM epics e JOIN epics de ON de.id = ANY (e.depends_on)
            WHERE e.id = p_epic AND NOT de.all_tasks_done)::integer
$$;

-- Add p_delta to the count of every task of the epics that depend on p_epic, in id order.
CREATE OR REPLACE FUNCTION yokeflow_shift_epic_dependents(p_epic integer, p_delta integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM tasks t JOIN epics e ON e.id = t.epic_id
    WHERE e.project_id = (SELECT project_id FROM epics WHERE id = p_epic)
      AND e.depends_on @> ARRAY[p_epic]
    ORDER BY t.id FOR UPDATE OF t;
    UPDATE tasks t SET waiting_for = t.waiting_for + p_delta
    FROM epics e
    WHERE e.id = t.epic_id AND e.project_id = (SELECT project_id FROM epics WHERE id = p_epic)
      AND e.depends_on @> ARRAY[p_epic];
END
$$;

-- Backfill of a database migrated before this file (a no-op on a fresh or up-to-date one).
UPDATE epics e
SET all_tasks_done = NOT EXISTS (
        SELECT 1 FROM tasks t WHERE t.epic_id = e.id AND t.status <> 'done')
WHERE all_tasks_done IS DISTINCT FROM NOT EXISTS (
        SELECT 1 FROM tasks t WHERE t.epic_id = e.id AND t.status <> 'done');
UPDATE tasks t
SET waiting_for = yokeflow_waiting_for(t.epic_id, t.depends_on, t.dependency_type)
WHERE waiting_for <> yokeflow_waiting_for(t.epic_id, t.depends_on, t.dependency_type);

-- A new task: its own count; the first unfinished task of a finished epic makes the tasks of the
-- epics depending on it wait again.
CREATE OR REPLACE FUNCTION yokeflow_task_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.waiting_for := yokeflow_waiting_for(NEW.epic_id, NEW.depends_on, NEW.dependency_type);
    IF NEW.status <> 'done' THEN
        UPDATE epics SET all_tasks_done = false WHERE id = NEW.epic_id AND all_tasks_done;
        IF FOUND THEN
            PERFORM yokeflow_shift_epic_dependents(NEW.epic_id, 1);
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER tasks_inserted_waiting_for
    BEFORE INSERT ON tasks FOR EACH ROW EXECUTE FUNCTION yokeflow_task_inserted();

-- Changed dependencies (or a task moved to another epic): count again.
CREATE OR REPLACE FUNCTION yokeflow_task_dependencies_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.waiting_for := yokeflow_waiting_for(NEW.epic_id, NEW.depends_on, NEW.dependency_type);
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER tasks_dependencies_waiting_for
    BEFORE UPDATE OF depends_on, dependency_type, epic_id ON tasks FOR EACH ROW
    WHEN (OLD.depends_on IS DISTINCT FROM NEW.depends_on
          OR OLD.dependency_type IS DISTINCT FROM NEW.dependency_type
          OR OLD.epic_id IS DISTINCT FROM NEW.epic_id)
    EXECUTE FUNCTION yokeflow_task_dependencies_changed();

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

CREATE OR REPLACE TRIGGER tasks_done_waiting_for
    AFTER UPDATE OF status ON tasks FOR EACH ROW
    WHEN ((OLD.status = 'done') IS DISTINCT FROM (NEW.status = 'done'))
    EXECUTE FUNCTION yokeflow_task_done_changed();

-- An epic's dependencies changed: count its tasks again.
CREATE OR REPLACE FUNCTION yokeflow_epic_dependencies_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM tasks WHERE epic_id = NEW.id ORDER BY id FOR UPDATE;
    UPDATE tasks
    SET waiting_for = yokeflow_waiting_for(epic_id, depends_on, dependency_type)
    WHERE epic_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER epics_dependencies_waiting_for
    AFTER UPDATE OF depends_on ON epics FOR EACH ROW
    WHEN (OLD.depends_on IS DISTINCT FROM NEW.depends_on)
    EXECUTE FUNCTION yokeflow_epic_dependencies_changed();

-- The claim: the first ready task in claim order, straight off this index (replaces the
-- pending-only index of 0001, which made every claim test each pending task's dependencies).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_indexes
                   WHERE indexname = 'tasks_ready_idx' AND indexdef LIKE '%waiting_for%') THEN
        DROP INDEX IF EXISTS tasks_ready_idx;
        CREATE INDEX tasks_ready_idx ON tasks (project_id, priority, position, id)
            WHERE status = 'pending' AND waiting_for = 0;
    END IF;
END
$$;

-- One status change in one round trip: lock the task, change it when its status is one of
-- p_from (the state machine's, checked by the caller) and, for running, nothing is waited for;
-- the triggers above do the rest. Returns nothing for an unknown task, the unchanged row with
-- changed = false for a refused change (the caller says why), and whether this change
-- finished the task's epic.
CREATE OR REPLACE FUNCTION yokeflow_change_task_status(p_task integer, p_status text,
                                                       p_from text[], p_error text)
RETURNS TABLE (task tasks, previous text, changed boolean, epic_completed boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    cur tasks;
    upd tasks;
    epic_was_done boolean;
BEGIN
    SELECT * INTO cur FROM tasks WHERE id = p_task FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF NOT (cur.status = ANY (p_from)) OR (p_status = 'running' AND cur.waiting_for > 0) THEN
        RETURN QUERY SELECT cur, cur.status::text, false, false;
        RETURN;
    END IF;
    SELECT status = 'done' INTO epic_was_done FROM epics WHERE id = cur.epic_id;
    UPDATE tasks
    SET status = p_status,
        last_error = CASE WHEN p_status IN ('failed', 'blocked', 'cancelled') THEN p_error
                          WHEN p_status IN ('running', 'done') THEN NULL
                          ELSE last_error END,
        attempts = attempts + CASE WHEN p_status = 'running' THEN 1 ELSE 0 END,
        started_at = CASE WHEN p_status = 'running' THEN clock_timestamp() ELSE started_at END,
        completed_at = CASE WHEN p_status = 'done' THEN clock_timestamp() ELSE completed_at END,
        claimed_by = CASE WHEN p_status = 'pending' THEN NULL ELSE claimed_by END,
        updated_at = clock_timestamp()
    WHERE id = p_task
    RETURNING * INTO upd;
    IF p_status = 'running' THEN
        UPDATE epics SET status = 'running' WHERE id = upd.epic_id AND status = 'pending';
    END IF;
    RETURN QUERY
        SELECT upd, cur.status::text, true,
               NOT epic_was_done AND p_status = 'done'
               AND (SELECT e.status = 'done' FROM epics e WHERE e.id = upd.epic_id);
END
$$;
