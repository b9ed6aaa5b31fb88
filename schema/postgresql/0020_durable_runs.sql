-- YokeFlow state, part 4: durable runs — leases of running sessions, budget reservations,
-- the attempts a task was given back, and whether a task expects to change files.
-- Idempotent: every statement may run again on a database that already has it.

-- One row per running session (a task attempt, or a conflict resolution), saved before the
-- session starts and dropped once its end is collected. A lease whose owner died marks a
-- session to end (by its handle: a process marker locally, a Job name in a cluster) and a task
-- to release.
CREATE TABLE IF NOT EXISTS session_leases (
    project_id    INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    task_id       INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    kind          VARCHAR(20) NOT NULL DEFAULT 'task'
                  CONSTRAINT session_leases_kind_check CHECK (kind IN ('task', 'resolution')),
    task_key      TEXT NOT NULL,
    attempt       INTEGER NOT NULL DEFAULT 1,
    owner         TEXT NOT NULL,
    handle        TEXT NOT NULL,
    host          TEXT NOT NULL DEFAULT '',
    process_group INTEGER,
    model         TEXT NOT NULL DEFAULT '',
    started_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, task_id, kind)
);

-- Money held for sessions about to run; spend itself is agent_costs (the one source of truth).
CREATE TABLE IF NOT EXISTS budget_reservations (
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    amount_usd NUMERIC(14, 6) NOT NULL,
    owner      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, key)
);

-- `yokeflow retry` gives a failed task new attempts: attempts counted against the limit are
-- attempts - attempts_base (attempts itself stays the task's whole history).
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS attempts_base INTEGER NOT NULL DEFAULT 0;

-- A task that is meant to change nothing (a check, an investigation): its session is not a
-- failed attempt for lack of changes.
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS expects_changes BOOLEAN NOT NULL DEFAULT TRUE;
