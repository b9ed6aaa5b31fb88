-- Changed dependencies are counted only after the tasks (and epics) they name are locked FOR
-- SHARE: a dependency that becomes done at the same moment either committed before the lock (the
-- count, taken by a later statement with a new snapshot, sees it done) or waits for this
-- transaction (its trigger then finds this task among its dependents). Without the lock a
-- dependency finishing between this statement's snapshot and its commit was counted as unmet and
-- never subtracted (found by the random race test of the counts).
CREATE OR REPLACE FUNCTION yokeflow_task_dependencies_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM tasks WHERE id = ANY (NEW.depends_on) ORDER BY id FOR SHARE;
    PERFORM 1 FROM epics de JOIN epics e ON de.id = ANY (e.depends_on)
    WHERE e.id = NEW.epic_id ORDER BY de.id FOR SHARE OF de;
    NEW.waiting_for := yokeflow_waiting_for(NEW.epic_id, NEW.depends_on, NEW.dependency_type);
    RETURN NEW;
END
$$;
