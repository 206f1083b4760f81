// The executions: filters (app, status, time range, text in the input) kept in the URL,
// newest first, older pages by the API's cursor, the first page read again every few
// seconds so new executions and changed statuses show up; and a form to start one.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { describeError } from "../api/client";
import type { Execution, Invocation } from "../api/types";
import { useSession } from "../auth/session";
import { Banner } from "../components/Banner";
import { useAsync } from "../components/useAsync";
import { executionPath, Link, navigate, useLocation } from "../router";
import { isNode, parseDocument } from "yaml";
import { pathOf } from "../graph/pointer";
import { InputEditor } from "./InputEditor";
import { mergeExecutions } from "./listing";
import { inputSchemaOf } from "./schemaForm";
import { formatDuration } from "./timeline";

const STATUSES = ["pending", "running", "waiting", "suspended", "completed", "faulted", "cancelled"];
const PAGE = 50;
const REFRESH_MS = 3000;

interface Filters {
  app: string;
  status: string;
  input_contains: string;
  started_after: string; // datetime-local text, local time
  started_before: string;
}

const FILTER_KEYS: (keyof Filters)[] = ["app", "status", "input_contains", "started_after", "started_before"];

function filtersFrom(search: URLSearchParams): Filters {
  const out = {} as Filters;
  for (const key of FILTER_KEYS) out[key] = search.get(key) ?? "";
  return out;
}

function toQuery(filters: Filters): Record<string, string> {
  const query: Record<string, string> = {};
  for (const key of FILTER_KEYS) {
    const value = filters[key].trim();
    if (!value) continue;
    // A datetime-local field is local time without a zone: sent as UTC.
    query[key] = key.startsWith("started_") ? new Date(value).toISOString() : value;
  }
  return query;
}

export function ExecutionsPage() {
  const { client } = useSession();
  const { search } = useLocation();
  // useLocation gives a new URLSearchParams each render: the filters change with its text.
  const searchText = search.toString();
  const applied = useMemo(() => filtersFrom(new URLSearchParams(searchText)), [searchText]);
  const [draft, setDraft] = useState<Filters>(applied);
  useEffect(() => setDraft(applied), [applied]);
  const apps = useAsync(() => client.listApps(), [client]);

  const [items, setItems] = useState<Execution[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  // ?limit= sets the page size (1-1000), e.g. for a short list to page through.
  const pageSize = Math.min(Math.max(Number(search.get("limit")) || PAGE, 1), 1000);
  const query = useMemo(() => ({ ...toQuery(applied), limit: pageSize }), [applied, pageSize]);

  const loadFirst = useCallback(
    async (merge: boolean) => {
      try {
        const page = await client.listExecutions(query);
        setItems((held) => (merge ? mergeExecutions(held, page.items, "top") : page.items));
        if (!merge) setCursor(page.next_cursor);
        setError(null);
      } catch (failure) {
        setError(describeError(failure));
      } finally {
        setLoading(false);
      }
    },
    [client, query],
  );
  useEffect(() => {
    setLoading(true);
    void loadFirst(false);
    const timer = window.setInterval(() => {
      if (document.visibilityState === "visible") void loadFirst(true);
    }, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [loadFirst]);

  async function loadOlder() {
    if (!cursor) return;
    try {
      const page = await client.listExecutions({ ...query, cursor });
      setItems((held) => mergeExecutions(held, page.items, "bottom"));
      setCursor(page.next_cursor);
    } catch (failure) {
      setError(describeError(failure));
    }
  }

  function apply(filters: Filters) {
    const params = new URLSearchParams();
    for (const key of FILTER_KEYS) if (filters[key].trim()) params.set(key, filters[key].trim());
    if (search.get("limit")) params.set("limit", search.get("limit")!);
    const text = params.toString();
    navigate(`/executions${text ? `?${text}` : ""}`, { replace: true });
  }

  const appNames = apps.value?.items.map((app) => app.name) ?? [];
  const field = (key: keyof Filters) => ({
    value: draft[key],
    onChange: (event: { target: { value: string } }) => setDraft({ ...draft, [key]: event.target.value }),
  });

  return (
    <main className="page executions-page">
      <h1>Executions</h1>
      <StartForm apps={appNames} initialApp={applied.app} onStarted={() => void loadFirst(true)} />
      <form
        className="filters"
        aria-label="Filter executions"
        onSubmit={(event) => {
          event.preventDefault();
          apply(draft);
        }}
      >
        <label>
          App
          <select name="app" {...field("app")}>
            <option value="">all apps</option>
            {appNames.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select name="status" {...field("status")}>
            <option value="">any status</option>
            {STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </label>
        <label>
          Input contains
          <input type="search" name="input_contains" maxLength={200} placeholder='e.g. "order":"A-17"' {...field("input_contains")} />
        </label>
        <label>
          Started after
          <input type="datetime-local" name="started_after" step="1" {...field("started_after")} />
        </label>
        <label>
          Started before
          <input type="datetime-local" name="started_before" step="1" {...field("started_before")} />
        </label>
        <button type="submit" className="primary">
          Filter
        </button>
        <button
          type="button"
          onClick={() => apply({ app: "", status: "", input_contains: "", started_after: "", started_before: "" })}
        >
          Clear
        </button>
      </form>
      {error && <Banner kind="error">{error}</Banner>}
      {!loading && items.length === 0 && !error && <p>No executions match.</p>}
      {items.length > 0 && (
        <table className="table executions" aria-label="Executions">
          <thead>
            <tr>
              <th scope="col">Execution</th>
              <th scope="col">App</th>
              <th scope="col">Revision</th>
              <th scope="col">Status</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
              <th scope="col">Input</th>
            </tr>
          </thead>
          <tbody>
            {items.map((execution) => (
              <tr key={execution.id} data-execution={execution.id} data-status={execution.status}>
                <td>
                  <Link to={executionPath(execution.id)}>{execution.id}</Link>
                </td>
                <td>{execution.app ?? "—"}</td>
                <td>{execution.revision ?? "—"}</td>
                <td data-status={execution.status}>
                  <span className={`status-chip status-${execution.status}`}>{execution.status}</span>
                </td>
                <td>{execution.started_at}</td>
                <td>{durationOf(execution)}</td>
                <td className="input-cell">
                  <code>{preview(execution.input)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" onClick={() => void loadOlder()}>
          Older executions
        </button>
      )}
    </main>
  );
}

function durationOf(execution: Execution): string {
  if (!execution.started_at || !execution.ended_at) return "";
  return formatDuration(Date.parse(execution.ended_at) - Date.parse(execution.started_at));
}

function preview(value: unknown): string {
  const text = JSON.stringify(value ?? null);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** Start an execution of an app: JSON input, waiting for its result (sync) or not. */
export function StartForm(props: { apps: string[]; initialApp?: string; onStarted?(id: string): void }) {
  const { client } = useSession();
  const [app, setApp] = useState(props.initialApp ?? "");
  const [input, setInput] = useState("{}");
  const [mode, setMode] = useState<"sync" | "async">("sync");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<Invocation | null>(null);
  const chosen = useRef(false);
  // The app's workflow as committed: its input schema, if any, builds the input's form.
  const schema = useAsync(async () => {
    if (!app) return null;
    const source = await client.getWorkflow(app);
    const document = parseDocument(source.text);
    const workflow = source.base ? document.getIn(pathOf(source.base)) : document.toJS();
    return inputSchemaOf(isNode(workflow) ? workflow.toJSON() : workflow);
  }, [client, app]);
  useEffect(() => {
    if (!chosen.current && !app && props.apps.length) setApp(props.initialApp || props.apps[0]);
  }, [props.apps, props.initialApp, app]);

  async function start() {
    setError(null);
    setResult(null);
    let value: unknown;
    try {
      value = JSON.parse(input || "null");
    } catch (failure) {
      setError(`The input is not JSON: ${(failure as Error).message}`);
      return;
    }
    if (!app) {
      setError("Choose an app to start.");
      return;
    }
    setBusy(true);
    try {
      const started = await client.invoke(app, value, mode === "sync" ? 30 : undefined);
      setResult(started);
      props.onStarted?.(started.id);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <details className="start-form run-form" open={props.apps.length > 0 && !!props.initialApp}>
      <summary>Start an execution</summary>
      <div className="start-grid">
        <label>
          App
          <select
            name="start-app"
            value={app}
            onChange={(event) => {
              chosen.current = true;
              setApp(event.target.value);
            }}
          >
            {props.apps.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <InputEditor id="start-input" label="Input" value={input} onChange={setInput} schema={schema.value ?? null} />
        <fieldset>
          <legend>Run</legend>
          <label>
            <input type="radio" name="mode" value="sync" checked={mode === "sync"} onChange={() => setMode("sync")} /> wait for
            the result (up to 30 s)
          </label>
          <label>
            <input type="radio" name="mode" value="async" checked={mode === "async"} onChange={() => setMode("async")} /> start
            and go on
          </label>
        </fieldset>
        <button type="button" className="primary" onClick={() => void start()} disabled={busy || !props.apps.length}>
          {busy ? "Starting…" : "Start"}
        </button>
      </div>
      {!props.apps.length && <p className="hint">No apps yet: deploy one first.</p>}
      {error && <Banner kind="error">{error}</Banner>}
      {result && (
        <div className="run-result" data-execution={result.id} data-status={result.status}>
          <p>
            Execution <Link to={executionPath(result.id)}>{result.id}</Link>: <strong>{result.status}</strong>
          </p>
          {result.output !== undefined && <pre className="json">{JSON.stringify(result.output, null, 2)}</pre>}
          {result.error && <pre className="json">{JSON.stringify(result.error, null, 2)}</pre>}
        </div>
      )}
    </details>
  );
}
