-- YokeFlow claims: the GIN index of tasks.depends_on without its pending list.
-- Idempotent: every statement may run again on a database that already has it.
--
-- Every status change is a new row version of the task (status is indexed), and with
-- fastupdate each version's entries went to the index's pending list, which every lookup of a
-- task's dependents (the trigger of each completion, 0030) then read whole, and which the
-- backend that filled it past gin_pending_list_limit merged into the index while its caller
-- waited. Written straight into the index, a completion took half the server time (measured
-- with bench_claims.py and per-backend CPU time, docs/state.md).
ALTER INDEX tasks_depends_on_idx SET (fastupdate = off);
SELECT gin_clean_pending_list('tasks_depends_on_idx'::regclass);
