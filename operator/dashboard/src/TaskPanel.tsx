// A task's panel: state, attempts, model, cost, duration, failure; its transcript (refreshed while
// it runs) and the diff of its branch; retry / cancel / resolve.
import { useCallback, useEffect, useState } from "react";
import { api, ApiError, projectPath, type Session, type Task } from "./api";

interface Detail extends Task {
  sessions: Session[];
}

interface TranscriptPage {
  messages: Record<string, unknown>[];
  offset: number;
  total: number;
}

function describe(message: Record<string, unknown>): string {
  const type = String(message.type ?? "message");
  const content = message.content;
  if (Array.isArray(content)) {
    const parts = content.map((block) => {
      const b = block as Record<string, unknown>;
      if (b.type === "TextBlock") return String(b.text ?? "");
      if (b.type === "ToolUseBlock") return `→ ${String(b.name)} ${JSON.stringify(b.input ?? {}).slice(0, 300)}`;
      if (b.type === "ToolResultBlock") return `← ${JSON.stringify(b.content ?? "").slice(0, 300)}`;
      return String(b.type ?? "");
    });
    return `${type}: ${parts.join(" ")}`;
  }
  if (typeof message.result === "string") return `${type}: ${message.result}`;
  return `${type}: ${JSON.stringify(message).slice(0, 400)}`;
}

export function TaskPanel({ projectId, task, onClose, onChanged }: {
  projectId: number;
  task: Task;
  onClose(): void;
  onChanged(): void;
}) {
  const [detail, setDetail] = useState<Detail | null>(null);
  const [transcript, setTranscript] = useState<TranscriptPage | null>(null);
  const [diff, setDiff] = useState<string>("");
  const [tab, setTab] = useState<"transcript" | "diff">("transcript");
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const found = await api<Detail>(projectPath(projectId, `/tasks/${task.id}`));
      setDetail(found);
      const last = found.sessions[found.sessions.length - 1];
      if (last) {
        try {
          setTranscript(
            await api<TranscriptPage>(projectPath(projectId, `/sessions/${last.id}/transcript?limit=1000`)),
          );
        } catch (e) {
          setTranscript({ messages: [{ type: "note", result: (e as Error).message }], offset: 0, total: 0 });
        }
      } else {
        setTranscript(null);
      }
      try {
        setDiff((await api<{ diff: string }>(projectPath(projectId, `/tasks/${task.id}/diff`))).diff);
      } catch (e) {
        setDiff(e instanceof ApiError && e.status === 404 ? `(${e.message})` : String(e));
      }
    } catch (e) {
      setError((e as Error).message);
    }
  }, [projectId, task.id]);

  // Reload when the task's state changes (live), and every 2 s while it runs.
  useEffect(() => {
    void load();
  }, [load, task.state]);
  useEffect(() => {
    if (task.state !== "running") return;
    const timer = setInterval(() => void load(), 2000);
    return () => clearInterval(timer);
  }, [load, task.state]);

  const act = async (path: string, body?: unknown) => {
    setError(null);
    try {
      await api(projectPath(projectId, path), { method: "POST", body: body ? JSON.stringify(body) : undefined });
      onChanged();
      await load();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const shown = detail ?? { ...task, sessions: [] };
  return (
    <aside className="panel" data-testid="task-panel">
      <header>
        <h2>{task.key}</h2>
        <button onClick={onClose} aria-label="close">×</button>
      </header>
      <p className="title">{task.title}</p>
      <dl>
        <dt>State</dt><dd data-testid="task-state">{task.state}</dd>
        <dt>Attempts</dt><dd>{task.attempts}</dd>
        <dt>Model</dt><dd>{task.model ?? "—"}</dd>
        <dt>Cost</dt><dd>${task.cost_usd}</dd>
        <dt>Duration</dt><dd>{task.duration_seconds != null ? `${task.duration_seconds.toFixed(1)} s` : "—"}</dd>
        <dt>Branch</dt><dd>{task.branch ?? "—"}</dd>
        {task.last_error && (<><dt>Failure</dt><dd className="failure">{task.last_error}</dd></>)}
        <dt>Sessions</dt>
        <dd>{shown.sessions.map((s) => `#${s.id} ${s.kind} ${s.status} (${s.model ?? "?"})`).join("; ") || "none"}</dd>
      </dl>
      <div className="actions">
        {["failed", "blocked", "cancelled"].includes(task.state) && (
          <button onClick={() => void act(`/tasks/${task.id}/retry`)}>Retry</button>
        )}
        {["pending", "queued", "failed", "blocked"].includes(task.state) && (
          <button onClick={() => void act(`/tasks/${task.id}/cancel`)}>Cancel</button>
        )}
        {task.state === "conflict" && (["ours", "theirs", "agent"] as const).map((strategy) => (
          <button key={strategy} onClick={() => void act(`/worktrees/${task.epic_id}/resolve`, { strategy })}>
            Resolve: {strategy}
          </button>
        ))}
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      <nav className="tabs">
        <button className={tab === "transcript" ? "on" : ""} onClick={() => setTab("transcript")}>Transcript</button>
        <button className={tab === "diff" ? "on" : ""} onClick={() => setTab("diff")}>Diff</button>
      </nav>
      {tab === "transcript" ? (
        <ol className="transcript" data-testid="transcript">
          {(transcript?.messages ?? []).map((m, i) => (<li key={i}>{describe(m)}</li>))}
          {!transcript && <li>No session yet.</li>}
        </ol>
      ) : (
        <pre className="diff" data-testid="diff">
          {diff.split("\n").map((line, i) => (
            <span key={i} className={line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : ""}>{line + "\n"}</span>
          ))}
        </pre>
      )}
    </aside>
  );
}
