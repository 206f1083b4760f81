// One execution kept up to date: read once (the first page of task runs), the other
// pages read after, then its stream of changes (Server-Sent Events) until it ends. A
// stream that closes without `end` (after ten minutes, a server restart) is opened
// again from the newest run whose predecessors all ended. After an action (retry,
// resume) the execution is read again until it leaves the state it was in, then streamed.

import { useCallback, useEffect, useRef, useState } from "react";
import { describeError } from "../api/client";
import type { Execution, TaskRun } from "../api/types";
import { useSession } from "../auth/session";
import { executionEnded, mergeRuns, resumeAfter } from "./status";

export interface RunState {
  execution: Execution | null;
  runs: TaskRun[];
  error: string | null;
  live: boolean; // a stream is open
}

const PAGE = 1000; // task runs per request (the API's largest page)
const sleep = (ms: number) => new Promise((resolve) => window.setTimeout(resolve, ms));

export function useRun(id: string) {
  const { client } = useSession();
  const [state, setState] = useState<RunState>({ execution: null, runs: [], error: null, live: false });
  const runs = useRef<TaskRun[]>([]);
  const generation = useRef(0);
  const abort = useRef<AbortController | null>(null);

  const follow = useCallback(
    async (leaving?: string) => {
      const mine = ++generation.current;
      abort.current?.abort();
      const controller = new AbortController();
      abort.current = controller;
      const alive = () => mine === generation.current;
      const addRuns = (fresh: TaskRun[]) => {
        runs.current = mergeRuns(runs.current, fresh);
        return runs.current;
      };
      try {
        let execution = await client.getExecution(id);
        // An action was asked for: the engine applies it soon after its answer.
        const deadline = Date.now() + 15_000;
        while (leaving && execution.status === leaving && Date.now() < deadline) {
          await sleep(250);
          if (!alive()) return;
          execution = await client.getExecution(id);
        }
        if (!alive()) return;
        const { tasks = [], ...rest } = execution;
        setState((s) => ({ ...s, execution: rest, runs: addRuns(tasks), error: null }));
        // The other pages are drawn together (or every second while they come): each
        // drawing lays out the whole timeline again.
        let pending: TaskRun[] = [];
        let drawn = Date.now();
        for (let cursor = execution.tasks_next_cursor ?? null; cursor && alive(); ) {
          const page = await client.taskRuns(id, cursor, PAGE);
          if (!alive()) return;
          pending = pending.concat(page.items);
          cursor = page.next_cursor;
          if (!cursor || Date.now() - drawn > 1000) {
            const fresh = pending;
            pending = [];
            drawn = Date.now();
            setState((s) => ({ ...s, runs: addRuns(fresh) }));
          }
        }
        let status = execution.status;
        while (alive() && !executionEnded(status)) {
          let ended = false;
          setState((s) => ({ ...s, live: true }));
          try {
            await client.streamExecution(
              id,
              resumeAfter(runs.current),
              (event) => {
                if (!alive()) return;
                if (event.event === "tasks") {
                  const items = (JSON.parse(event.data) as { items: TaskRun[] }).items;
                  setState((s) => ({ ...s, runs: addRuns(items), error: null }));
                } else if (event.event === "execution") {
                  const changed = JSON.parse(event.data) as Execution;
                  status = changed.status;
                  setState((s) => ({ ...s, execution: changed, error: null }));
                } else if (event.event === "end") {
                  ended = true;
                  status = (JSON.parse(event.data) as { status: string }).status;
                }
              },
              controller.signal,
            );
          } catch (failure) {
            if ((failure as Error).name === "AbortError" || !alive()) return;
            setState((s) => ({ ...s, error: `Live updates stopped: ${describeError(failure)}. Trying again…` }));
            await sleep(2000);
          }
          if (ended || !alive()) break;
          await sleep(300);
        }
        if (alive()) setState((s) => ({ ...s, live: false }));
      } catch (failure) {
        if ((failure as Error).name === "AbortError" || !alive()) return;
        setState((s) => ({ ...s, error: describeError(failure), live: false }));
      }
    },
    [client, id],
  );

  useEffect(() => {
    runs.current = [];
    void follow();
    return () => {
      generation.current++;
      abort.current?.abort();
    };
  }, [follow]);

  return { ...state, follow };
}
