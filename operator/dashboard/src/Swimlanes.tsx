// The swimlanes: a column per epic, a row per task (ordered by dependency level), status colours,
// arrows for hard dependencies. Positions come from the plan itself; no layout engine.
import { useEffect, useMemo } from "react";
import {
  Background,
  Controls,
  type Edge,
  type Node,
  ReactFlow,
} from "@xyflow/react";
import type { BoardState, Epic, Task } from "./api";

export const STATE_COLOURS: Record<BoardState, string> = {
  pending: "#e5e7eb",
  queued: "#bfdbfe",
  running: "#fde047",
  merging: "#a5f3fc",
  merged: "#86efac",
  failed: "#fca5a5",
  blocked: "#f87171",
  conflict: "#f0abfc",
  cancelled: "#d1d5db",
};

const COLUMN = 240;
const ROW = 64;

function levels(tasks: Task[]): Map<number, number> {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const level = new Map<number, number>();
  const visit = (task: Task, seen: Set<number>): number => {
    const known = level.get(task.id);
    if (known !== undefined) return known;
    if (seen.has(task.id)) return 0; // a cycle: the API reports it elsewhere
    seen.add(task.id);
    let deepest = -1;
    for (const dep of task.hard_dependencies) {
      const other = byId.get(dep);
      if (other) deepest = Math.max(deepest, visit(other, seen));
    }
    level.set(task.id, deepest + 1);
    return deepest + 1;
  };
  for (const task of tasks) visit(task, new Set());
  return level;
}

interface Props {
  epics: Epic[];
  tasks: Task[];
  collapsed: Set<number>;
  selected: number | null;
  onSelect(task: Task): void;
  onToggleEpic(epic: Epic): void;
}

export function Swimlanes({ epics, tasks, collapsed, selected, onSelect, onToggleEpic }: Props) {
  const { nodes, edges } = useMemo(() => {
    const level = levels(tasks);
    const nodes: Node[] = [];
    const visible = new Set<number>();
    epics.forEach((epic, column) => {
      const own = tasks
        .filter((t) => t.epic_id === epic.id)
        .sort((a, b) => (level.get(a.id)! - level.get(b.id)!) || a.position - b.position);
      const merged = own.filter((t) => t.state === "merged").length;
      const hidden = collapsed.has(epic.id);
      nodes.push({
        id: `epic-${epic.id}`,
        position: { x: column * COLUMN, y: 0 },
        data: { label: `${hidden ? "▸" : "▾"} ${epic.name || epic.key} (${merged}/${own.length})` },
        className: "epic-node",
        selectable: false,
        draggable: false,
        connectable: false,
        style: { width: COLUMN - 30 },
        type: "input",
      });
      if (hidden) return;
      own.forEach((task, row) => {
        visible.add(task.id);
        nodes.push({
          id: `task-${task.id}`,
          position: { x: column * COLUMN, y: (row + 1) * ROW + 10 },
          data: { label: task.key },
          className: `task-node state-${task.state}${selected === task.id ? " selected-task" : ""}`,
          draggable: false,
          connectable: false,
          style: {
            width: COLUMN - 30,
            background: STATE_COLOURS[task.state],
          },
          ariaLabel: `${task.key} ${task.state}`,
        });
      });
    });
    const edges: Edge[] = [];
    for (const task of tasks) {
      if (!visible.has(task.id)) continue;
      for (const dep of task.hard_dependencies) {
        if (!visible.has(dep)) continue;
        edges.push({
          id: `${dep}-${task.id}`,
          source: `task-${dep}`,
          target: `task-${task.id}`,
          markerEnd: { type: "arrowclosed" as never },
          style: { stroke: "#6b7280" },
        });
      }
    }
    return { nodes, edges };
  }, [epics, tasks, collapsed, selected]);

  const byNode = useMemo(() => new Map(tasks.map((t) => [`task-${t.id}`, t])), [tasks]);
  const byEpic = useMemo(() => new Map(epics.map((e) => [`epic-${e.id}`, e])), [epics]);
  return (
    <div className="swimlanes" data-testid="swimlanes">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        fitView
        minZoom={0.05}
        maxZoom={2}
        nodesDraggable={false}
        nodesConnectable={false}
        onNodeClick={(_, node) => {
          const task = byNode.get(node.id);
          if (task) onSelect(task);
          const epic = byEpic.get(node.id);
          if (epic) onToggleEpic(epic);
        }}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls showInteractive={false} />
        <RenderedMarker count={nodes.length} />
      </ReactFlow>
    </div>
  );
}

// Marks the page once every node is drawn with its size (what the 500-task benchmark waits for).
function RenderedMarker({ count }: { count: number }) {
  useEffect(() => {
    if (count === 0) return;
    let frame = 0;
    const check = () => {
      const drawn = document.querySelectorAll<HTMLElement>(".react-flow__node");
      const sized = Array.from(drawn).every((n) => n.offsetWidth > 0);
      if (drawn.length >= count && sized) {
        document.body.dataset.rendered = String(count);
        (window as unknown as { yokeflowRenderedAt?: number }).yokeflowRenderedAt ??=
          performance.now();
      } else {
        frame = requestAnimationFrame(check);
      }
    };
    frame = requestAnimationFrame(check);
    return () => cancelAnimationFrame(frame);
  }, [count]);
  return null;
}
