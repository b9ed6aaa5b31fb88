"""Projects, whole plans and epics in PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from yokeflow.adapters.postgres import rows
from yokeflow.core.graph import GraphEpic, GraphTask, graph_from_plan, resolve
from yokeflow.core.plan import Plan
from yokeflow.core.records import Epic, Project, ProjectPlan
from yokeflow.errors import NotFoundError, PlanError

__all__ = ["ProjectQueries"]


class ProjectQueries:
    """The ``projects`` and ``epics`` part of the store, and storing a plan in one transaction."""

    _pool: Any

    async def create_project(
        self,
        name: str,
        *,
        description: str = "",
        spec: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Project:
        row = await self._pool.fetchrow(
            "INSERT INTO projects (name, description, spec, metadata) VALUES ($1, $2, $3, $4)"
            " RETURNING *",
            name,
            description,
            spec,
            dict(metadata or {}),
        )
        return rows.project(row)

    async def get_project(self, project_id: int) -> Project | None:
        row = await self._pool.fetchrow("SELECT * FROM projects WHERE id = $1", project_id)
        return None if row is None else rows.project(row)

    async def get_project_by_name(self, name: str) -> Project | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM projects WHERE name = $1 ORDER BY id DESC LIMIT 1", name
        )
        return None if row is None else rows.project(row)

    async def list_projects(self) -> list[Project]:
        return [
            rows.project(r) for r in await self._pool.fetch("SELECT * FROM projects ORDER BY id")
        ]

    async def delete_project(self, project_id: int) -> None:
        # Every table that names a project deletes its rows with it (ON DELETE CASCADE).
        deleted = await self._pool.fetchval(
            "DELETE FROM projects WHERE id = $1 RETURNING id", project_id
        )
        if deleted is None:
            raise NotFoundError(f"project {project_id} does not exist")

    async def update_project_metadata(
        self, project_id: int, metadata: Mapping[str, Any]
    ) -> Project:
        row = await self._pool.fetchrow(
            "UPDATE projects SET metadata = metadata || $2, updated_at = now() WHERE id = $1"
            " RETURNING *",
            project_id,
            dict(metadata),
        )
        if row is None:
            raise NotFoundError(f"project {project_id} does not exist")
        return rows.project(row)

    async def clear_plan(self, project_id: int) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM tasks WHERE project_id = $1", project_id)
            await conn.execute("DELETE FROM epics WHERE project_id = $1", project_id)

    async def create_plan(
        self,
        plan: Plan,
        *,
        spec: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> ProjectPlan:
        problems = graph_from_plan(plan).problems()
        if problems:
            raise PlanError(plan.name, "", "; ".join(problems))
        async with self._pool.acquire() as conn, conn.transaction():
            project = rows.project(
                await conn.fetchrow(
                    "INSERT INTO projects (name, description, spec, metadata)"
                    " VALUES ($1, $2, $3, $4) RETURNING *",
                    plan.name,
                    plan.description,
                    spec,
                    dict(metadata or {}),
                )
            )
            epic_rows = await conn.fetch(
                """
                INSERT INTO epics (project_id, key, name, description, priority, position)
                SELECT $1, u.key, u.name, u.description, u.priority, u.position
                FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::int[])
                     WITH ORDINALITY AS u(key, name, description, priority, position, ord)
                ORDER BY u.ord
                RETURNING id, key
                """,
                project.id,
                [e.key for e in plan.epics],
                [e.name for e in plan.epics],
                [e.description for e in plan.epics],
                [e.priority for e in plan.epics],
                list(range(len(plan.epics))),
            )
            epic_ids = {r["key"]: r["id"] for r in epic_rows}
            await conn.executemany(
                "UPDATE epics SET depends_on = $2 WHERE id = $1",
                [
                    (epic_ids[e.key], [epic_ids[d] for d in e.depends_on])
                    for e in plan.epics
                    if e.depends_on
                ],
            )
            pairs = plan.tasks()
            task_rows = await conn.fetch(
                """
                INSERT INTO tasks (project_id, epic_id, key, title, description, priority,
                                   position, estimate_minutes, task_type, expects_changes,
                                   pinned_model)
                SELECT $1, u.epic_id, u.key, u.title, u.description, u.priority, u.position,
                       u.estimate, u.task_type, u.expects_changes, u.pinned_model
                FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[],
                            $8::float8[], $9::text[], $10::bool[], $11::text[])
                     WITH ORDINALITY AS u(epic_id, key, title, description, priority, position,
                                          estimate, task_type, expects_changes, pinned_model,
                                          ord)
                ORDER BY u.ord
                RETURNING id, key
                """,
                project.id,
                [epic_ids[e.key] for e, _ in pairs],
                [t.key for _, t in pairs],
                [t.title for _, t in pairs],
                [t.description for _, t in pairs],
                [t.priority for _, t in pairs],
                list(range(len(pairs))),
                [t.estimate_minutes for _, t in pairs],
                [t.type for _, t in pairs],
                [t.expects_changes for _, t in pairs],
                [t.model for _, t in pairs],
            )
            task_ids = {r["key"]: r["id"] for r in task_rows}
            updates = []
            for _, task in pairs:
                deps = task.dependencies()
                if not deps:
                    continue
                hard = [task_ids[d.key] for d in deps if d.type == "hard"]
                soft = [task_ids[d.key] for d in deps if d.type == "soft"]
                if hard:
                    updates.append((task_ids[task.key], hard, "hard", soft))
                else:
                    updates.append((task_ids[task.key], soft, "soft", []))
            await conn.executemany(
                "UPDATE tasks SET depends_on = $2, dependency_type = $3, soft_depends_on = $4"
                " WHERE id = $1",
                updates,
            )
            epics = [
                rows.epic(r)
                for r in await conn.fetch(
                    "SELECT * FROM epics WHERE project_id = $1 ORDER BY position, id", project.id
                )
            ]
            tasks = [
                rows.task(r)
                for r in await conn.fetch(
                    "SELECT * FROM tasks WHERE project_id = $1 ORDER BY position, id", project.id
                )
            ]
        # Fresh statistics keep the claim query on its indexes from the first claim on.
        await self._pool.execute("ANALYZE tasks, epics")
        return ProjectPlan(project=project, epics=tuple(epics), tasks=tuple(tasks))

    async def create_epic(
        self,
        project_id: int,
        key: str,
        name: str,
        *,
        description: str = "",
        priority: int = 0,
        depends_on: Sequence[int] = (),
    ) -> Epic:
        async with self._pool.acquire() as conn, conn.transaction():
            await _check_epics(conn, project_id, depends_on)
            row = await conn.fetchrow(
                """
                INSERT INTO epics (project_id, key, name, description, priority, position,
                                   depends_on)
                VALUES ($1, $2, $3, $4, $5,
                        (SELECT count(*) FROM epics WHERE project_id = $1), $6)
                RETURNING *
                """,
                project_id,
                key,
                name,
                description,
                priority,
                list(depends_on),
            )
        return rows.epic(row)

    async def get_epic(self, epic_id: int) -> Epic | None:
        row = await self._pool.fetchrow("SELECT * FROM epics WHERE id = $1", epic_id)
        return None if row is None else rows.epic(row)

    async def list_epics(self, project_id: int) -> list[Epic]:
        found = await self._pool.fetch(
            "SELECT * FROM epics WHERE project_id = $1 ORDER BY position, id", project_id
        )
        return [rows.epic(r) for r in found]

    async def set_epic_dependencies(self, epic_id: int, depends_on: Sequence[int]) -> Epic:
        async with self._pool.acquire() as conn, conn.transaction():
            current = await conn.fetchrow("SELECT * FROM epics WHERE id = $1 FOR UPDATE", epic_id)
            if current is None:
                raise NotFoundError(f"epic {epic_id} does not exist")
            if epic_id in depends_on:
                raise PlanError(
                    f"epic {current['key']}", "depends_on", "an epic cannot depend on itself"
                )
            await _check_epics(conn, current["project_id"], depends_on)
            await _refuse_epic_cycles(conn, current["project_id"], epic_id, depends_on)
            row = await conn.fetchrow(
                "UPDATE epics SET depends_on = $2 WHERE id = $1 RETURNING *",
                epic_id,
                list(depends_on),
            )
        return rows.epic(row)


async def _check_epics(conn: Any, project_id: int, epic_ids: Sequence[int]) -> None:
    if not epic_ids:
        return
    found = await conn.fetch(
        "SELECT id FROM epics WHERE project_id = $1 AND id = ANY($2::int[])",
        project_id,
        list(epic_ids),
    )
    missing = set(epic_ids) - {r["id"] for r in found}
    if missing:
        raise NotFoundError(
            f"project {project_id} has no epic {', '.join(str(i) for i in sorted(missing))}"
        )


async def _refuse_epic_cycles(
    conn: Any, project_id: int, epic_id: int, depends_on: Sequence[int]
) -> None:
    """Refuse epic dependencies that would close a cycle with the tasks' own dependencies."""
    # The project row lock serializes every dependency edit of the project (as for tasks).
    await conn.execute("SELECT 1 FROM projects WHERE id = $1 FOR UPDATE", project_id)
    task_rows = await conn.fetch(
        "SELECT id, key, epic_id, depends_on, dependency_type FROM tasks WHERE project_id = $1",
        project_id,
    )
    epic_rows = await conn.fetch(
        "SELECT id, depends_on FROM epics WHERE project_id = $1", project_id
    )
    keys = {r["id"]: r["key"] for r in task_rows}
    tasks = [
        GraphTask(
            key=r["key"],
            epic=str(r["epic_id"]),
            depends_on=tuple(keys[i] for i in r["depends_on"] if i in keys)
            if r["dependency_type"] == "hard"
            else (),
        )
        for r in task_rows
    ]
    epics = [
        GraphEpic(
            key=str(r["id"]),
            depends_on=tuple(
                str(d) for d in (depends_on if r["id"] == epic_id else r["depends_on"])
            ),
        )
        for r in epic_rows
    ]
    cycles = resolve(tasks, epics).circular_deps
    if cycles:
        shown = " -> ".join((*cycles[0], cycles[0][0]))
        raise PlanError(
            f"epic {epic_id}", "depends_on", f"the dependencies would form a cycle: {shown}"
        )
