// The selected task of a run view: its runs (attempts, with their reasons), and for the
// run picked among them its input, output and error (the RFC 7807 fields), and the log
// lines its function wrote during this execution.

import { useEffect, useState } from "react";
import { describeError } from "../api/client";
import type { LogLine, ProblemDocument, TaskRun } from "../api/types";
import { useSession } from "../auth/session";
import { KIND_LABELS } from "../graph/kinds";
import type { TaskNode } from "../graph/model";
import { executionPath, Link } from "../router";
import { runStatus, type NodeStatus } from "./status";
import { formatDuration } from "./timeline";

const BUILTIN_CALLS = new Set(["http", "openapi", "grpc", "asyncapi", "a2a", "mcp"]);

function Json(props: { value: unknown; label: string }) {
  return (
    <pre className="json" aria-label={props.label} tabIndex={0}>
      {props.value === undefined ? "—" : JSON.stringify(props.value, null, 2)}
    </pre>
  );
}

export function ProblemView(props: { problem: ProblemDocument & Record<string, unknown> }) {
  const p = props.problem;
  const fields: [string, unknown][] = [
    ["type", p.type],
    ["title", p.title],
    ["status", p.status],
    ["detail", p.detail],
    ["instance", p.instance],
  ];
  const extra = Object.entries(p).filter(([key]) => !["type", "title", "status", "detail", "instance"].includes(key));
  return (
    <dl className="problem-fields" data-error-type={String(p.type ?? "")}>
      {fields
        .filter(([, value]) => value !== undefined && value !== null && value !== "")
        .map(([key, value]) => (
          <div key={key}>
            <dt>{key}</dt>
            <dd data-field={key}>{String(value)}</dd>
          </div>
        ))}
      {extra.map(([key, value]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd data-field={key}>{typeof value === "string" ? value : JSON.stringify(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

function duration(run: TaskRun, now: number): string {
  if (!run.started_at) return "";
  const end = run.ended_at ? Date.parse(run.ended_at) : now;
  return formatDuration(end - Date.parse(run.started_at));
}

export function TaskPanel(props: {
  app: string | null;
  executionId: string;
  executionStatus: string;
  task: TaskNode | null;
  pointer: string;
  status: NodeStatus;
  runs: TaskRun[];
  selectedRun: number | null;
  onSelectRun(run: number): void;
  subWorkflows: string[];
  now: number;
}) {
  const { task, runs } = props;
  const run = runs.find((r) => r.id === props.selectedRun) ?? runs[runs.length - 1] ?? null;
  const call = task?.kind === "call" && typeof task.definition.call === "string" ? task.definition.call : null;
  const fn = call && !BUILTIN_CALLS.has(call) && !call.includes("@") && !call.includes("://") ? call : null;
  return (
    <section className="task-panel" aria-label="Selected task" data-panel-task={props.pointer}>
      <header>
        <h2>
          {task ? `${KIND_LABELS[task.kind]} ${task.name}` : props.pointer}{" "}
          <span className={`status-chip status-${props.status}`} data-status={props.status}>
            {props.status}
          </span>
        </h2>
        <code className="pointer">{props.pointer}</code>
      </header>
      {props.subWorkflows.length > 0 && (
        <p>
          Sub-workflows:{" "}
          {props.subWorkflows.map((id) => (
            <Link key={id} to={executionPath(id)}>
              {id}
            </Link>
          ))}
        </p>
      )}
      {runs.length === 0 && <p>This task has not run{props.executionStatus === "completed" ? " (its branch was not taken)" : " yet"}.</p>}
      {runs.length > 0 && (
        <>
          <h3>Runs</h3>
          <ol className="attempts">
            {runs.map((r) => (
              <li key={r.id}>
                <button
                  type="button"
                  className={`attempt status-${r.status}${run?.id === r.id ? " selected" : ""}`}
                  aria-pressed={run?.id === r.id}
                  data-run={r.id}
                  data-status={r.status}
                  onClick={() => props.onSelectRun(r.id)}
                >
                  <span>
                    #{r.id} attempt {r.attempt}: {runStatus(r, task?.kind ?? null, props.executionStatus)}
                  </span>
                  <span className="hint">
                    {duration(r, props.now)}
                    {r.revision ? ` · ${r.revision}` : ""}
                    {r.occurrence !== r.reference ? ` · ${r.occurrence}` : ""}
                  </span>
                  {r.error && <span className="reason">{r.error.title || r.error.type}{r.error.detail ? `: ${r.error.detail}` : ""}</span>}
                </button>
              </li>
            ))}
          </ol>
        </>
      )}
      {run && (
        <div className="run-detail" data-run={run.id}>
          {run.error && (
            <>
              <h3>Error</h3>
              <ProblemView problem={run.error as ProblemDocument & Record<string, unknown>} />
            </>
          )}
          <h3>Input</h3>
          <Json value={run.input} label="Task input" />
          <h3>Output</h3>
          <Json value={run.status === "completed" || run.status === "skipped" ? run.output : undefined} label="Task output" />
        </div>
      )}
      {fn && props.app && runs.length > 0 && (
        <FunctionLog app={props.app} fn={fn} execution={props.executionId} refresh={runs.length + (run?.status ?? "")} />
      )}
    </section>
  );
}

function FunctionLog(props: { app: string; fn: string; execution: string; refresh: string | number }) {
  const { client } = useSession();
  const [lines, setLines] = useState<LogLine[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    client
      .logs(props.app, { function: props.fn, execution: props.execution, limit: 200 })
      .then((page) => current && setLines(page.items))
      .catch((failure) => current && setError(describeError(failure)));
    return () => {
      current = false;
    };
  }, [client, props.app, props.fn, props.execution, props.refresh]);
  return (
    <>
      <h3>Log of {props.fn}</h3>
      {error && <p className="hint">The log cannot be read: {error}</p>}
      {lines && lines.length === 0 && <p className="hint">No log lines for this execution.</p>}
      {lines && lines.length > 0 && (
        <pre className="function-log" aria-label={`Log of ${props.fn}`} tabIndex={0}>
          {lines.map((line) => `${line.time} ${line.stream === "stderr" ? "!" : " "} ${line.message}`).join("\n")}
        </pre>
      )}
    </>
  );
}
