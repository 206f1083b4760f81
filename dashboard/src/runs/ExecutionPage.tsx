// The run view of one execution: its workflow's graph coloured per task status, the
// selected task's runs, input, output and error, and a timeline of every task run, with
// one selection (?task=<pointer>) kept in step between the three. It follows the
// execution live (useRun) and offers its actions (RunActions).

import { useEffect, useMemo, useState } from "react";
import { parseDocument, stringify } from "yaml";
import type { Execution, SubWorkflow } from "../api/types";
import { useSession } from "../auth/session";
import { Banner } from "../components/Banner";
import { useAsync } from "../components/useAsync";
import type { TaskKind } from "../graph/kinds";
import { warmUpLayout } from "../graph/layoutClient";
import { buildGraph, type WorkflowGraph } from "../graph/model";
import { appPath, executionPath, Link, setQueryParam, useLocation } from "../router";
import { matchSubWorkflows } from "./children";
import { RunActions } from "./RunActions";
import { inputSchemaOf } from "./schemaForm";
import { RunGraph } from "./RunGraph";
import { executionEnded, iterationsOf, runsByTask, taskStatuses, type NodeStatus } from "./status";
import { ProblemView, TaskPanel } from "./TaskPanel";
import { Timeline } from "./Timeline";
import { useRun } from "./useRun";

const LISTED_RUNS = 500;

export function ExecutionPage(props: { id: string }) {
  const { client } = useSession();
  const { search } = useLocation();
  // ELK's worker starts while the execution and its workflow are read.
  useEffect(() => warmUpLayout(), []);
  const selection = search.get("task");
  const run = useRun(props.id);
  const execution = run.execution;
  const status = execution?.status ?? "";
  const ended = executionEnded(status);

  const workflow = useAsync(
    () => client.executionWorkflow(props.id),
    // A retry may move the execution to a newer revision, with its own workflow.
    [client, props.id, execution?.revision ?? null],
  );
  const graph = useMemo<WorkflowGraph | null>(() => {
    if (!workflow.value) return null;
    return buildGraph(parseDocument(stringify(workflow.value.document)));
  }, [workflow.value]);
  const inputSchema = useMemo(() => inputSchemaOf(workflow.value?.document), [workflow.value]);
  const hasRunTasks = useMemo(() => !!graph && [...graph.tasks.values()].some((t) => t.kind === "run"), [graph]);
  const children = useAsync<{ items: SubWorkflow[] }>(
    () => (hasRunTasks ? client.subWorkflows(props.id) : Promise.resolve({ items: [] })),
    [client, props.id, hasRunTasks, status],
  );

  const [picked, setPicked] = useState<Map<string, number>>(new Map());
  const [selectedRun, setSelectedRun] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    setNow(Date.now());
    if (ended) return;
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [ended, run.runs]);

  const kinds = useMemo(() => {
    const out = new Map<string, TaskKind>();
    for (const task of graph?.tasks.values() ?? []) out.set(task.id, task.kind);
    return out;
  }, [graph]);
  const byTask = useMemo(() => runsByTask(run.runs, picked), [run.runs, picked]);
  const statuses = useMemo(() => taskStatuses(kinds, byTask, status), [kinds, byTask, status]);
  const runCounts = useMemo(() => new Map([...byTask].map(([task, runs]) => [task, runs.length])), [byTask]);
  const loopIterations = useMemo(() => {
    const out = new Map<string, number[]>();
    for (const [pointer, kind] of kinds) {
      if (kind === "for" || kind === "listen") out.set(pointer, iterationsOf(run.runs, pointer));
    }
    return out;
  }, [kinds, run.runs]);
  const subWorkflows = useMemo(
    () => matchSubWorkflows(graph, children.value?.items ?? [], runsByTask(run.runs)),
    [graph, children.value, run.runs],
  );
  const timelineRuns = useMemo(() => [...byTask.values()].flat(), [byTask]);

  const select = (pointer: string | null, runId: number | null = null) => {
    setSelectedRun(runId);
    setQueryParam("task", pointer);
  };
  const pick = (loop: string, iteration: number | null) =>
    setPicked((current) => {
      const next = new Map(current);
      if (iteration === null) next.delete(loop);
      else next.set(loop, iteration);
      return next;
    });

  const selectedTask = selection && graph ? (graph.tasks.get(selection) ?? null) : null;
  const selectedStatus: NodeStatus = selection ? (statuses.get(selection) ?? (byTask.get(selection)?.length ? "completed" : "pending")) : "pending";

  return (
    <main className="page run-view">
      <header className="run-header">
        <h1>Execution {props.id}</h1>
        {execution && <Summary execution={execution} live={run.live} />}
      </header>
      {run.error && <Banner kind="error">{run.error}</Banner>}
      {execution && status === "pending" && <Banner kind="info">This execution has not started yet: it is waiting for an engine to pick it up.</Banner>}
      {execution && (
        <RunActions
          execution={execution}
          inputSchema={inputSchema}
          onChanged={(leaving) => void run.follow(leaving)}
        />
      )}
      {execution?.error && (
        <details className="execution-error" open={!selection}>
          <summary>The execution faulted: {execution.error.title ?? execution.error.type}</summary>
          <ProblemView problem={execution.error as Record<string, unknown>} />
        </details>
      )}
      {workflow.error && <Banner kind="warning">The workflow of this execution cannot be drawn: {workflow.error}</Banner>}
      <div className="run-grid">
        {graph ? (
          <RunGraph
            graph={graph}
            statuses={statuses}
            runCounts={runCounts}
            selection={selection}
            loopIterations={loopIterations}
            picked={picked}
            onPick={pick}
            subWorkflows={subWorkflows}
            onSelect={(pointer) => select(pointer)}
          />
        ) : (
          <div className="canvas run-canvas placeholder">{workflow.loading ? "Loading the workflow…" : ""}</div>
        )}
        <div className="run-side">
          {selection ? (
            <TaskPanel
              key={selection}
              app={execution?.app ?? null}
              executionId={props.id}
              executionStatus={status}
              task={selectedTask}
              pointer={selection}
              status={selectedStatus}
              runs={byTask.get(selection) ?? []}
              selectedRun={selectedRun}
              onSelectRun={setSelectedRun}
              subWorkflows={subWorkflows.get(selection) ?? []}
              now={now}
            />
          ) : (
            <section className="task-panel" aria-label="Selected task">
              <p className="hint">Select a task on the graph or the timeline to see its input, output, error and runs.</p>
              {execution && (
                <>
                  <h2>Input</h2>
                  <pre className="json" aria-label="Execution input" tabIndex={0}>{JSON.stringify(execution.input, null, 2)}</pre>
                  <h2>Output</h2>
                  <pre className="json" aria-label="Output" tabIndex={0}>{JSON.stringify(execution.output, null, 2)}</pre>
                </>
              )}
            </section>
          )}
        </div>
      </div>
      <Timeline runs={timelineRuns} now={now} selectedTask={selection} selectedRun={selectedRun} onSelect={(task, id) => select(task, id)} />
      <details className="run-table">
        <summary>
          Task runs ({run.runs.length}
          {execution?.task_count && execution.task_count > run.runs.length ? ` of ${execution.task_count}` : ""})
        </summary>
        <ol className="task-runs">
          {run.runs.slice(0, LISTED_RUNS).map((taskRun) => (
            <li key={taskRun.id} data-task={taskRun.reference} data-status={taskRun.status}>
              <button type="button" className="link-button" onClick={() => select(taskRun.reference, taskRun.id)}>
                <code>{taskRun.occurrence}</code>
              </button>{" "}
              {taskRun.status}
              {taskRun.attempt > 1 ? ` (attempt ${taskRun.attempt})` : ""}
            </li>
          ))}
        </ol>
        {run.runs.length > LISTED_RUNS && <p className="hint">The first {LISTED_RUNS} are listed; the timeline shows them all.</p>}
      </details>
    </main>
  );
}

function Summary(props: { execution: Execution; live: boolean }) {
  const e = props.execution;
  return (
    <p className="run-summary">
      {e.app ? (
        <>
          App <Link to={appPath(e.app)}>{e.app}</Link>
          {e.revision ? `, revision ${e.revision}` : ""}:{" "}
        </>
      ) : (
        "A plain workflow: "
      )}
      <strong className="execution-status" data-status={e.status}>
        {e.status}
      </strong>
      {props.live && <span className="live" title="Updates as it runs"> · live</span>}
      {e.started_at && <span className="hint"> · started {e.started_at}</span>}
      {e.ended_at && <span className="hint"> · ended {e.ended_at}</span>}
      {e.rerun_of && (
        <>
          {" "}
          · re-run of <Link to={executionPath(e.rerun_of)}>{e.rerun_of}</Link>
        </>
      )}
      {e.parent_id && (
        <>
          {" "}
          · started by <Link to={executionPath(e.parent_id)}>{e.parent_id}</Link>
        </>
      )}
    </p>
  );
}
