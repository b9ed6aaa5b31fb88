// The dashboard: pick a project, then its swimlanes (live), progress, a task's panel, expertise
// and costs. State comes from the WebSocket's snapshot; each event updates it at once and asks
// the API for the tasks' authoritative states (merging, conflict… live in the store).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, projectPath, type Epic, type Project, type Snapshot, type Task } from "./api";
import { connectLive, type RunEvent } from "./live";
import { Swimlanes } from "./Swimlanes";
import { TaskPanel } from "./TaskPanel";
import { Progress, type CostPoint } from "./Progress";
import { Expertise } from "./Expertise";
import { Costs } from "./Costs";

type Tab = "board" | "expertise" | "costs";

function route(): { project: number | null; tab: Tab } {
  const match = /^#\/projects\/(\d+)(?:\/(board|expertise|costs))?/.exec(location.hash);
  return { project: match ? Number(match[1]) : null, tab: (match?.[2] as Tab) ?? "board" };
}

function ProjectList() {
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<Project[]>("/api/projects").then(setProjects, (e: Error) => setError(e.message));
  }, []);
  if (error) return <p className="error">{error}</p>;
  if (!projects) return <p>Loading…</p>;
  if (projects.length === 0) return <p>No projects yet: start one with <code>yokeflow run</code>.</p>;
  return (
    <ul className="projects" data-testid="projects">
      {projects.map((p) => (
        <li key={p.id}>
          <a href={`#/projects/${p.id}`}>{p.name}</a>{" "}
          {Object.entries(p.status.tasks).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ")}
          {" · "}${p.status.cost_usd}{p.status.active ? " · running" : ""}
        </li>
      ))}
    </ul>
  );
}

function applyEvent(tasks: Task[], event: RunEvent): Task[] {
  const key = event.task;
  if (!key) return tasks;
  let state: Task["state"] | null = null;
  if (event.kind === "task_start") state = "running";
  else if (event.kind === "task_complete") state = event.success ? "merging" : "failed";
  else if (event.kind === "merge") {
    state = event.status === "merged" || event.status === "already_merged" ? "merged" : "conflict";
  }
  if (!state) return tasks;
  return tasks.map((t) =>
    t.key === key
      ? { ...t, state, model: typeof event.model === "string" ? event.model : t.model }
      : t,
  );
}

function ProjectView({ id, tab }: { id: number; tab: Tab }) {
  const [snapshot, setSnapshot] = useState<Snapshot | null>(null);
  const [tasks, setTasks] = useState<Task[]>([]);
  const [connected, setConnected] = useState(false);
  const [selected, setSelected] = useState<number | null>(null);
  const [collapsed, setCollapsed] = useState<Set<number>>(new Set());
  const [points, setPoints] = useState<CostPoint[]>([]);
  const [version, setVersion] = useState(0);
  const [budget, setBudget] = useState<string | null>(null);
  const [finished, setFinished] = useState<string | null>(null);
  const refresh = useRef<number | null>(null);

  const reload = useCallback(() => {
    if (refresh.current !== null) clearTimeout(refresh.current);
    refresh.current = window.setTimeout(async () => {
      refresh.current = null;
      const [fresh, status] = await Promise.all([
        api<Task[]>(projectPath(id, "/tasks")),
        api<Project>(projectPath(id)),
      ]);
      setTasks(fresh);
      setSnapshot((s) => (s ? { ...s, status: status.status } : s));
      setVersion((v) => v + 1);
    }, 250);
  }, [id]);

  useEffect(() => {
    api<{ budget_limit_usd: string | null }>(projectPath(id, "/costs")).then(
      (c) => setBudget(c.budget_limit_usd),
      () => setBudget(null),
    );
    return connectLive(id, {
      snapshot(data) {
        setSnapshot(data);
        setTasks(data.tasks);
      },
      event(event) {
        setTasks((current) => applyEvent(current, event));
        if (event.kind === "cost_update") {
          setPoints((p) => [...p, { at: event.at, total: Number(event.total_usd) }]);
        }
        if (event.kind === "run_finished") setFinished(`${String(event.outcome)}: ${String(event.reason)}`);
        if (event.kind === "task_start") setFinished(null);
        reload();
      },
      connected: setConnected,
    });
  }, [id, reload]);

  const epics: Epic[] = snapshot?.epics ?? [];
  const chosen = useMemo(() => tasks.find((t) => t.id === selected) ?? null, [tasks, selected]);
  const running = tasks.filter((t) => t.state === "running");
  if (!snapshot) return <p>Connecting…</p>;
  return (
    <div className="project">
      <header className="top">
        <h1><a href="#/">YokeFlow</a> · {snapshot.project.name}</h1>
        <nav className="tabs">
          {(["board", "expertise", "costs"] as Tab[]).map((t) => (
            <a key={t} className={t === tab ? "on" : ""} href={`#/projects/${id}/${t}`}>{t}</a>
          ))}
        </nav>
        <span className={connected ? "live on" : "live"} data-testid="live">{connected ? "live" : "reconnecting…"}</span>
        {snapshot.status.active && (
          <button onClick={() => void api(projectPath(id, "/parallel/cancel"), { method: "POST" })}>Cancel run</button>
        )}
      </header>
      {finished && <p className="finished" data-testid="finished">Run {finished}</p>}
      <Progress
        tasks={tasks}
        batches={snapshot.batches}
        cost={snapshot.status.cost_usd}
        budget={budget}
        points={points}
        running={running}
        eta={snapshot.status.eta_seconds}
      />
      {tab === "board" && (
        <div className="board">
          <Swimlanes
            epics={epics}
            tasks={tasks}
            collapsed={collapsed}
            selected={selected}
            onSelect={(t) => setSelected(t.id)}
            onToggleEpic={(e) =>
              setCollapsed((c) => {
                const next = new Set(c);
                if (next.has(e.id)) next.delete(e.id);
                else next.add(e.id);
                return next;
              })
            }
          />
          {chosen && (
            <TaskPanel projectId={id} task={chosen} onClose={() => setSelected(null)} onChanged={reload} />
          )}
        </div>
      )}
      {tab === "expertise" && <Expertise projectId={id} />}
      {tab === "costs" && <Costs projectId={id} version={version} />}
    </div>
  );
}

export function App() {
  const [where, setWhere] = useState(route());
  useEffect(() => {
    const onHash = () => setWhere(route());
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  if (where.project === null) {
    return (
      <div className="home">
        <h1>YokeFlow</h1>
        <ProjectList />
      </div>
    );
  }
  return <ProjectView key={where.project} id={where.project} tab={where.tab} />;
}
