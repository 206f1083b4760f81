// One execution kept up to date in a view: followExecution (follow.ts) with its state.
// ``follow(leaving)`` starts again after an action, keeping the runs held.

import { useCallback, useEffect, useRef, useState } from "react";
import type { Execution, TaskRun } from "../api/types";
import { useSession } from "../auth/session";
import { followExecution } from "./follow";

export interface RunState {
  execution: Execution | null;
  runs: TaskRun[];
  error: string | null;
  live: boolean; // a stream is open
}

const sleep = (ms: number) => new Promise<void>((resolve) => window.setTimeout(resolve, ms));

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
      await followExecution(
        client,
        id,
        controller.signal,
        {
          alive: () => mine === generation.current,
          execution: (execution) => setState((s) => ({ ...s, execution })),
          runs: (all) => {
            runs.current = all;
            setState((s) => ({ ...s, runs: all }));
          },
          live: (live) => setState((s) => ({ ...s, live })),
          error: (error) => setState((s) => (s.error === error ? s : { ...s, error })),
          sleep,
          now: () => Date.now(),
        },
        { leaving, held: runs.current },
      );
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
