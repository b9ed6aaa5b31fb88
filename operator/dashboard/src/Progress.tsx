// Progress: tasks merged of all, batches, running agents with model and elapsed time, the cost
// accumulator with its trend, and budget usage.
import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { BatchProgress, Task } from "./api";

export interface CostPoint {
  at: number;
  total: number;
}

function CostChart({ points }: { points: CostPoint[] }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  useEffect(() => {
    if (!box.current) return;
    chart.current = new uPlot(
      {
        width: 260,
        height: 80,
        legend: { show: false },
        scales: { x: { time: false } },
        axes: [{ show: false }, { size: 40 }],
        series: [{}, { stroke: "#2563eb", width: 2 }],
      },
      [[], []],
      box.current,
    );
    return () => chart.current?.destroy();
  }, []);
  useEffect(() => {
    chart.current?.setData([points.map((p) => p.at), points.map((p) => p.total)]);
  }, [points]);
  return <div ref={box} className="cost-chart" />;
}

function elapsed(task: Task, now: number): string {
  if (!task.started_at) return "";
  const seconds = Math.max(0, (now - Date.parse(task.started_at)) / 1000);
  return `${seconds.toFixed(0)} s`;
}

export function Progress({ tasks, batches, cost, budget, points, running, eta }: {
  tasks: Task[];
  batches: BatchProgress[];
  cost: string;
  budget: string | null;
  points: CostPoint[];
  running: Task[];
  eta: number | null | undefined;
}) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const merged = tasks.filter((t) => t.state === "merged").length;
  const share = tasks.length ? (100 * merged) / tasks.length : 0;
  const done = batches.filter((b) => b.status === "done").length;
  const used = budget ? (100 * Number(cost)) / Number(budget) : null;
  return (
    <section className="progress" data-testid="progress">
      <div>
        <div className="bar" title={`${merged} of ${tasks.length} merged`}>
          <div style={{ width: `${share}%` }} />
        </div>
        <p data-testid="merged-count">{merged}/{tasks.length} merged · batches {done}/{batches.length}</p>
        <p data-testid="eta">ETA {eta != null ? `~${Math.round(eta)} s` : "—"}</p>
      </div>
      <div>
        <strong>Agents</strong>
        <ul className="agents" data-testid="agents">
          {running.map((t) => (<li key={t.id}>{t.key} · {t.model ?? "?"} · {elapsed(t, now)}</li>))}
          {running.length === 0 && <li>none running</li>}
        </ul>
      </div>
      <div>
        <strong>Cost ${cost}</strong>
        {used !== null && <span> · budget {used.toFixed(0)}% of ${budget}</span>}
        <CostChart points={points} />
      </div>
    </section>
  );
}
