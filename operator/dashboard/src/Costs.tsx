// The cost dashboard: spend by model and by task type, success rates, the forecast of the rest.
import { useEffect, useState } from "react";
import { api, projectPath } from "./api";

interface CostReport {
  total_usd: string;
  budget_limit_usd: string | null;
  by_model: { model: string | null; sessions: number; input_tokens: number; output_tokens: number; cost_usd: string }[];
  by_task_type: { task_type: string | null; sessions: number; cost_usd: string }[];
  success_rates: { model: string; task_type: string | null; attempts: number; successes: number; success_rate: number }[];
  forecast: { remaining_tasks: number; total_usd: string; by_tier: { tier: string; tasks: number; cost_per_task_usd: string; measured: boolean; total_usd: string }[] };
}

export function Costs({ projectId, version }: { projectId: number; version: number }) {
  const [report, setReport] = useState<CostReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<CostReport>(projectPath(projectId, "/costs")).then(setReport, (e: Error) => setError(e.message));
  }, [projectId, version]);
  if (error) return <p className="error">{error}</p>;
  if (!report) return <p>Loading…</p>;
  return (
    <section className="costs" data-testid="costs">
      <h3>Spent ${report.total_usd}{report.budget_limit_usd ? ` of $${report.budget_limit_usd}` : ""}</h3>
      <table>
        <thead><tr><th>Model</th><th>Sessions</th><th>In</th><th>Out</th><th>Cost</th></tr></thead>
        <tbody>{report.by_model.map((m) => (
          <tr key={m.model ?? "?"}><td>{m.model}</td><td>{m.sessions}</td><td>{m.input_tokens}</td><td>{m.output_tokens}</td><td>${m.cost_usd}</td></tr>
        ))}</tbody>
      </table>
      <table>
        <thead><tr><th>Task type</th><th>Sessions</th><th>Cost</th></tr></thead>
        <tbody>{report.by_task_type.map((t) => (
          <tr key={t.task_type ?? "none"}><td>{t.task_type ?? "(none)"}</td><td>{t.sessions}</td><td>${t.cost_usd}</td></tr>
        ))}</tbody>
      </table>
      <h4>Forecast: {report.forecast.remaining_tasks} tasks left ≈ ${report.forecast.total_usd}</h4>
      <ul>{report.forecast.by_tier.map((t) => (
        <li key={t.tier}>{t.tier}: {t.tasks} × ${t.cost_per_task_usd} ({t.measured ? "measured" : "typical"}) = ${t.total_usd}</li>
      ))}</ul>
    </section>
  );
}
