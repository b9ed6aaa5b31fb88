// Expertise viewer and editor: domains, lessons with provenance, validation, history; a person's
// edit of the markdown is saved as a new version.
import { useCallback, useEffect, useState } from "react";
import { api, projectPath } from "./api";

interface DomainRow { domain: string; version: number; lines: number; validated_at: string | null }
interface Lesson { kind: string; text: string; provenance?: Record<string, unknown> }
interface DomainDetail { domain: string; version: number; validated_at: string | null; markdown: string; lessons: Lesson[] }
interface Update { version: number | null; change_type: string; summary: string; created_at: string | null }

export function Expertise({ projectId }: { projectId: number }) {
  const [known, setKnown] = useState<string[]>([]);
  const [rows, setRows] = useState<DomainRow[]>([]);
  const [domain, setDomain] = useState<string | null>(null);
  const [detail, setDetail] = useState<DomainDetail | null>(null);
  const [text, setText] = useState("");
  const [history, setHistory] = useState<Update[]>([]);
  const [message, setMessage] = useState<string | null>(null);

  const loadList = useCallback(async () => {
    const list = await api<{ known_domains: string[]; domains: DomainRow[] }>(projectPath(projectId, "/expertise"));
    setKnown(list.known_domains);
    setRows(list.domains);
  }, [projectId]);

  const loadDomain = useCallback(async (name: string) => {
    const found = await api<DomainDetail>(projectPath(projectId, `/expertise/${name}`));
    setDetail(found);
    setText(found.markdown);
    setHistory(await api<Update[]>(projectPath(projectId, `/expertise/${name}/history`)));
  }, [projectId]);

  useEffect(() => { void loadList(); }, [loadList]);
  useEffect(() => { if (domain) void loadDomain(domain); }, [domain, loadDomain]);

  const run = async (what: "save" | "validate" | "improve") => {
    if (!domain) return;
    setMessage(null);
    try {
      const result = await api<{ version: number; summary: string }>(
        projectPath(projectId, `/expertise/${domain}${what === "save" ? "" : `/${what}`}`),
        what === "save" ? { method: "PUT", body: JSON.stringify({ markdown: text }) } : { method: "POST" },
      );
      setMessage(`Saved version ${result.version}: ${result.summary}`);
      await loadDomain(domain);
      await loadList();
    } catch (e) {
      setMessage((e as Error).message);
    }
  };

  return (
    <section className="expertise" data-testid="expertise">
      <nav>
        {known.map((name) => {
          const row = rows.find((r) => r.domain === name);
          return (
            <button key={name} className={name === domain ? "on" : ""} onClick={() => setDomain(name)}>
              {name}{row ? ` v${row.version} · ${row.lines} lines` : ""}
            </button>
          );
        })}
      </nav>
      {domain && detail && (
        <div className="domain">
          <h3>{domain} <small>version {detail.version}{detail.validated_at ? `, validated ${detail.validated_at}` : ", never validated"}</small></h3>
          <ul className="lessons">
            {detail.lessons.map((l, i) => (
              <li key={i}><em>{l.kind}</em> {l.text}{l.provenance && Object.keys(l.provenance).length ? ` — ${JSON.stringify(l.provenance)}` : ""}</li>
            ))}
          </ul>
          <textarea data-testid="expertise-editor" value={text} onChange={(e) => setText(e.target.value)} rows={16} />
          <div className="actions">
            <button onClick={() => void run("save")}>Save</button>
            <button onClick={() => void run("validate")}>Validate</button>
            <button onClick={() => void run("improve")}>Improve</button>
          </div>
          {message && <p role="status" data-testid="expertise-message">{message}</p>}
          <h4>History</h4>
          <ol className="history">
            {history.map((h, i) => (<li key={i}>v{h.version ?? "?"} {h.change_type}: {h.summary}</li>))}
          </ol>
        </div>
      )}
    </section>
  );
}
