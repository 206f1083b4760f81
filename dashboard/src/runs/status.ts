// A run view's colours: each task of the workflow gets one status from its task runs.
//
//   task runs (many per task: retry attempts, a retried execution, loop iterations)
//     --latest run per occurrence--> run statuses --combine--> the node's status
//
// A task with no run is `pending` (drawn, not run yet). Loop iterations are told apart
// by their occurrence (/do/0/each[3]/do/0/charge); an iteration picker narrows the runs
// to one iteration of a loop. Pure functions, no React.

import type { TaskRun } from "../api/types";
import type { TaskKind } from "../graph/kinds";
import { isWithin, splitPointer } from "../graph/pointer";

export type NodeStatus = "pending" | "running" | "waiting" | "completed" | "faulted" | "cancelled" | "skipped";

export const NODE_STATUSES: NodeStatus[] = ["pending", "running", "waiting", "completed", "faulted", "cancelled", "skipped"];

const ENDED = new Set(["completed", "faulted", "cancelled"]);
/** Tasks that wait for time or for events while they run. */
const WAITING_KINDS = new Set<TaskKind>(["wait", "listen"]);

export function executionEnded(status: string | undefined | null): boolean {
  return !!status && ENDED.has(status);
}

/** One run's status as a node shows it. */
export function runStatus(run: Pick<TaskRun, "status">, kind: TaskKind | null, executionStatus: string): NodeStatus {
  switch (run.status) {
    case "running":
      // The execution ended while this run was open: it will not finish now.
      if (executionEnded(executionStatus)) return "cancelled";
      if (kind && WAITING_KINDS.has(kind)) return "waiting";
      return "running";
    case "waiting":
    case "completed":
    case "faulted":
    case "cancelled":
    case "skipped":
      return run.status;
    default:
      return "pending";
  }
}

// What a node shows when its occurrences differ: anything still going on first, then a
// failure, then what ended well.
const PRECEDENCE: NodeStatus[] = ["running", "waiting", "faulted", "cancelled", "completed", "skipped", "pending"];

export function combine(statuses: Iterable<NodeStatus>): NodeStatus {
  let best = PRECEDENCE.length - 1;
  for (const status of statuses) best = Math.min(best, PRECEDENCE.indexOf(status));
  return PRECEDENCE[best];
}

/** The iteration of ``loop`` (a task's pointer) that ``run`` ran in; null when the run is
 * not inside the loop (the loop's own run included). */
export function iterationIn(run: Pick<TaskRun, "reference" | "occurrence">, loop: string): number | null {
  if (run.reference === loop || !isWithin(run.reference, loop)) return null;
  const at = splitPointer(loop).length - 1;
  const token = splitPointer(run.occurrence)[at] ?? "";
  const match = /\[(\d+)\]$/.exec(token);
  return match ? Number(match[1]) : null;
}

/** Iterations picked per loop (its pointer -> iteration index). */
export type Iterations = ReadonlyMap<string, number>;

/** ``run`` belongs to the picked iteration of every loop around it. */
export function inIterations(run: Pick<TaskRun, "reference" | "occurrence">, iterations: Iterations): boolean {
  for (const [loop, picked] of iterations) {
    const iteration = iterationIn(run, loop);
    if (iteration !== null && iteration !== picked) return false;
  }
  return true;
}

/** The iterations of ``loop`` that have runs, in order. */
export function iterationsOf(runs: Iterable<TaskRun>, loop: string): number[] {
  const seen = new Set<number>();
  for (const run of runs) {
    const iteration = iterationIn(run, loop);
    if (iteration !== null) seen.add(iteration);
  }
  return [...seen].sort((a, b) => a - b);
}

/** Runs grouped by task pointer, each group in id order (the order they started). */
export function runsByTask(runs: Iterable<TaskRun>, iterations: Iterations = new Map()): Map<string, TaskRun[]> {
  const out = new Map<string, TaskRun[]>();
  for (const run of runs) {
    if (!inIterations(run, iterations)) continue;
    const list = out.get(run.reference);
    if (list) list.push(run);
    else out.set(run.reference, [run]);
  }
  for (const list of out.values()) list.sort((a, b) => a.id - b.id);
  return out;
}

/** The status of each task (by pointer) in ``kinds``, from its runs: the latest run of
 * each occurrence counts (an earlier attempt's fault is history once a retry
 * completed), and occurrences combine. Tasks without runs are ``pending``. */
export function taskStatuses(
  kinds: ReadonlyMap<string, TaskKind>,
  byTask: ReadonlyMap<string, TaskRun[]>,
  executionStatus: string,
): Map<string, NodeStatus> {
  const out = new Map<string, NodeStatus>();
  for (const [pointer, kind] of kinds) {
    const runs = byTask.get(pointer);
    if (!runs?.length) {
      out.set(pointer, "pending");
      continue;
    }
    const latest = new Map<string, TaskRun>();
    for (const run of runs) {
      const held = latest.get(run.occurrence);
      if (!held || run.id > held.id) latest.set(run.occurrence, run);
    }
    out.set(pointer, combine([...latest.values()].map((run) => runStatus(run, kind, executionStatus))));
  }
  return out;
}

/** The run a panel shows first for a task: its latest. */
export function latestRun(runs: readonly TaskRun[] | undefined): TaskRun | null {
  if (!runs?.length) return null;
  return runs.reduce((a, b) => (b.id > a.id ? b : a));
}

/** Merge fresh runs (a stream's batch, a page) into those held, by id; newest wins. */
export function mergeRuns(held: readonly TaskRun[], fresh: readonly TaskRun[]): TaskRun[] {
  if (!fresh.length) return held as TaskRun[];
  const byId = new Map(held.map((run) => [run.id, run]));
  for (const run of fresh) byId.set(run.id, run);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** Where a stream reconnects: the highest id below which every held run has ended
 * (runs above it may still change, so they are sent again). */
export function resumeAfter(runs: readonly TaskRun[]): number {
  let after = 0;
  for (const run of [...runs].sort((a, b) => a.id - b.id)) {
    if (run.status === "running" || run.ended_at === null) break;
    after = run.id;
  }
  return after;
}
