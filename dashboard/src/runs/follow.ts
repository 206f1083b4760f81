// Following one execution, without React (useRun.ts gives it state):
//
//   read it (the first page of task runs) -> the other pages (drawn together, or every
//   second while they come) -> its stream of changes until `end`
//
// A stream that closes without `end` (after ten minutes, a server restart) is opened
// again after the newest run whose predecessors all ended; one that fails is tried
// again after a pause, saying so. After an action (retry, resume) the execution is read
// until it leaves the state it was in (``leaving``), then streamed.

import { describeError } from "../api/client";
import type { Execution, TaskRun, TaskRunPage } from "../api/types";
import { executionEnded, mergeRuns, resumeAfter } from "./status";

export const PAGE = 1000; // task runs per request (the API's largest page)

export interface FollowClient {
  getExecution(id: string): Promise<Execution>;
  taskRuns(id: string, cursor: string, limit: number): Promise<TaskRunPage>;
  streamExecution(
    id: string,
    after: number,
    onEvent: (event: { event: string; data: string }) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

export interface FollowHooks {
  /** False once a newer follow started or the view went away: stop quietly. */
  alive(): boolean;
  execution(execution: Execution): void;
  /** Every run held so far, in id order. */
  runs(runs: TaskRun[]): void;
  live(open: boolean): void;
  error(message: string | null): void;
  sleep(ms: number): Promise<void>;
  now(): number;
}

export async function followExecution(
  client: FollowClient,
  id: string,
  signal: AbortSignal,
  hooks: FollowHooks,
  options: { leaving?: string; held?: TaskRun[] } = {},
): Promise<void> {
  let held = options.held ?? [];
  const add = (fresh: TaskRun[]) => {
    held = mergeRuns(held, fresh);
    hooks.runs(held);
  };
  try {
    let execution = await client.getExecution(id);
    // An action was asked for: the engine applies it soon after its answer.
    const deadline = hooks.now() + 15_000;
    while (options.leaving && execution.status === options.leaving && hooks.now() < deadline) {
      await hooks.sleep(250);
      if (!hooks.alive()) return;
      execution = await client.getExecution(id);
    }
    if (!hooks.alive()) return;
    const { tasks = [], ...rest } = execution;
    hooks.execution(rest);
    hooks.error(null);
    add(tasks);
    // Each drawing lays the whole timeline out again: pages are drawn together.
    let pending: TaskRun[] = [];
    let drawn = hooks.now();
    for (let cursor = execution.tasks_next_cursor ?? null; cursor; ) {
      const page = await client.taskRuns(id, cursor, PAGE);
      if (!hooks.alive()) return;
      pending = pending.concat(page.items);
      cursor = page.next_cursor;
      if (!cursor || hooks.now() - drawn > 1000) {
        add(pending);
        pending = [];
        drawn = hooks.now();
      }
    }
    let status = execution.status;
    while (hooks.alive() && !executionEnded(status)) {
      let ended = false;
      hooks.live(true);
      try {
        await client.streamExecution(
          id,
          resumeAfter(held),
          (event) => {
            if (!hooks.alive()) return;
            if (event.event === "tasks") {
              add((JSON.parse(event.data) as { items: TaskRun[] }).items);
              hooks.error(null);
            } else if (event.event === "execution") {
              const changed = JSON.parse(event.data) as Execution;
              status = changed.status;
              hooks.execution(changed);
              hooks.error(null);
            } else if (event.event === "end") {
              ended = true;
              status = (JSON.parse(event.data) as { status: string }).status;
            }
          },
          signal,
        );
      } catch (failure) {
        if ((failure as Error).name === "AbortError" || !hooks.alive()) return;
        hooks.error(`Live updates stopped: ${describeError(failure)}. Trying again…`);
        await hooks.sleep(2000);
      }
      if (ended || !hooks.alive()) break;
      await hooks.sleep(300);
    }
    if (hooks.alive()) hooks.live(false);
  } catch (failure) {
    if ((failure as Error).name === "AbortError" || !hooks.alive()) return;
    hooks.error(describeError(failure));
    hooks.live(false);
  }
}
