// The API's answers as the dashboard reads them, and one fetch helper. The token travels in
// the HTTP-only cookie set when the dashboard was opened with ?token=…; nothing else is needed.

export type BoardState =
  | "pending" | "queued" | "running" | "merging" | "merged"
  | "failed" | "blocked" | "conflict" | "cancelled";

export interface Task {
  id: number;
  key: string;
  title: string;
  description: string;
  epic_id: number;
  epic_key: string;
  status: string;
  state: BoardState;
  model: string | null;
  attempts: number;
  last_error: string | null;
  cost_usd: string;
  duration_seconds: number | null;
  branch: string | null;
  worktree_status: string | null;
  hard_dependencies: number[];
  started_at: string | null;
  completed_at: string | null;
  position: number;
}

export interface Epic {
  id: number;
  key: string;
  name: string;
  position: number;
}

export interface Session {
  id: number;
  kind: string;
  status: string;
  model: string | null;
  started_at: string | null;
  ended_at: string | null;
  error: string | null;
}

export interface Status {
  project: string;
  project_id: number;
  tasks: Record<string, number>;
  batches: number;
  cost_usd: string;
  cancel_requested: boolean;
  active: boolean;
  eta_seconds?: number | null;
}

export interface BatchProgress {
  batch_number: number;
  status: string;
  total: number;
  done: number;
  running: number;
  failed: number;
  pending: number;
}

export interface Snapshot {
  project: { id: number; name: string };
  status: Status;
  epics: Epic[];
  tasks: Task[];
  batches: BatchProgress[];
}

export interface Project {
  id: number;
  name: string;
  status: Status;
}

export class ApiError extends Error {
  status: number;
  constructor(status: number, detail: string) {
    super(detail);
    this.status = status;
  }
}

export async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(path, {
    credentials: "same-origin",
    ...init,
    headers: { "Content-Type": "application/json", ...(init?.headers ?? {}) },
  });
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const problem = (await response.json()) as { detail?: string };
      if (problem.detail) detail = problem.detail;
    } catch {
      // not a problem document
    }
    throw new ApiError(response.status, detail);
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const projectPath = (id: number, rest = "") => `/api/projects/${id}${rest}`;
