// The project's WebSocket: a snapshot, then numbered events; after a drop it reconnects with the
// last number it saw, so the server replays what was missed (or sends a fresh snapshot).
import type { Snapshot } from "./api";

export interface RunEvent {
  kind: string;
  task?: string;
  at: number;
  [field: string]: unknown;
}

export interface LiveHandlers {
  snapshot(data: Snapshot): void;
  event(event: RunEvent, seq: number): void;
  connected(state: boolean): void;
}

export function connectLive(projectId: number, handlers: LiveHandlers): () => void {
  let seq: number | null = null;
  let epoch: string | null = null;
  let socket: WebSocket | null = null;
  let closed = false;
  let retry = 500;

  const open = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const resume = seq !== null && epoch ? `?after=${seq}&epoch=${epoch}` : "";
    socket = new WebSocket(`${scheme}://${location.host}/api/ws/${projectId}${resume}`);
    socket.onopen = () => {
      retry = 500;
      handlers.connected(true);
    };
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data as string);
      if (data.type === "snapshot") {
        epoch = data.epoch;
        seq = data.seq;
        handlers.snapshot(data.snapshot as Snapshot);
      } else if (data.type === "resumed") {
        epoch = data.epoch;
        seq = data.seq;
      } else if (data.type === "event") {
        if (seq === null || data.seq > seq) {
          seq = data.seq;
          handlers.event(data.event as RunEvent, data.seq);
        }
      }
    };
    socket.onclose = () => {
      handlers.connected(false);
      if (!closed) {
        setTimeout(open, retry);
        retry = Math.min(retry * 2, 5000);
      }
    };
  };
  open();
  return () => {
    closed = true;
    socket?.close();
  };
}
