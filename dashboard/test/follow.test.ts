// Following an execution: pages, the stream, reconnecting, actions.
import { describe, expect, it } from "vitest";
import { ApiError } from "../src/api/client";
import type { Execution, TaskRun, TaskRunPage } from "../src/api/types";
import { followExecution, type FollowClient, type FollowHooks } from "../src/runs/follow";

function run(id: number, status = "completed"): TaskRun {
  return {
    id,
    parent_id: null,
    name: `t${id}`,
    reference: `/do/${id}/t${id}`,
    occurrence: `/do/${id}/t${id}`,
    status,
    input: null,
    output: null,
    error: null,
    attempt: 1,
    started_at: "2024-05-01T12:00:00.000Z",
    ended_at: status === "running" ? null : "2024-05-01T12:00:01.000Z",
    revision: null,
  };
}

function execution(status: string, tasks: TaskRun[] = [], cursor: string | null = null): Execution {
  return {
    id: "e1",
    app: "a",
    revision: "a-00001",
    status,
    input: null,
    output: null,
    error: null,
    started_at: null,
    ended_at: null,
    tasks,
    tasks_next_cursor: cursor,
  };
}

type Event = { event: string; data: string };
const tasks = (...runs: TaskRun[]): Event => ({ event: "tasks", data: JSON.stringify({ items: runs }) });
const changed = (status: string): Event => ({ event: "execution", data: JSON.stringify(execution(status)) });
const end = (status: string): Event => ({ event: "end", data: JSON.stringify({ status }) });

/** A client answering from scripts: executions in turn, pages by cursor, streams in turn
 * (each a list of events, or an error to throw after them). */
function fakeClient(script: { executions: Execution[]; pages?: Record<string, TaskRunPage>; streams?: (Event[] | Error)[] }) {
  const calls = { streams: [] as number[], pages: [] as string[], gets: 0 };
  const client: FollowClient = {
    async getExecution() {
      calls.gets++;
      return script.executions[Math.min(calls.gets, script.executions.length) - 1];
    },
    async taskRuns(_id, cursor) {
      calls.pages.push(cursor);
      return script.pages![cursor];
    },
    async streamExecution(_id, after, onEvent) {
      calls.streams.push(after);
      const next = script.streams!.shift();
      if (!next) throw new Error("no more streams in the script");
      if (next instanceof Error) throw next;
      next.forEach(onEvent);
    },
  };
  return { client, calls };
}

function recorder() {
  const seen = { executions: [] as string[], runs: [] as TaskRun[], live: [] as boolean[], errors: [] as (string | null)[], slept: [] as number[] };
  const hooks: FollowHooks = {
    alive: () => true,
    execution: (e) => seen.executions.push(e.status),
    runs: (runs) => (seen.runs = runs),
    live: (open) => seen.live.push(open),
    error: (message) => seen.errors.push(message),
    sleep: async (ms) => void seen.slept.push(ms),
    now: () => 0,
  };
  return { hooks, seen };
}

describe("following an execution", () => {
  it("reads an ended execution and its other pages, and opens no stream", async () => {
    const { client, calls } = fakeClient({
      executions: [execution("completed", [run(1), run(2)], "2")],
      pages: { "2": { items: [run(3)], next_cursor: "3" }, "3": { items: [run(4)], next_cursor: null } },
    });
    const { hooks, seen } = recorder();
    await followExecution(client, "e1", new AbortController().signal, hooks);
    expect(calls.pages).toEqual(["2", "3"]);
    expect(calls.streams).toEqual([]);
    expect(seen.runs.map((r) => r.id)).toEqual([1, 2, 3, 4]);
    expect(seen.executions).toEqual(["completed"]);
  });

  it("streams a running execution, and reconnects after the last ended run when a stream closes early", async () => {
    const { client, calls } = fakeClient({
      executions: [execution("running", [run(1), run(2, "running")])],
      streams: [
        [tasks(run(2), run(3, "running"))], // closed without `end` (ten minutes, a restart)
        [tasks(run(3)), changed("completed"), end("completed")],
      ],
    });
    const { hooks, seen } = recorder();
    await followExecution(client, "e1", new AbortController().signal, hooks);
    expect(calls.streams).toEqual([1, 2]); // run 2 had not ended; then run 3 had not
    expect(seen.runs.map((r) => [r.id, r.status])).toEqual([
      [1, "completed"],
      [2, "completed"],
      [3, "completed"],
    ]);
    expect(seen.executions).toEqual(["running", "completed"]);
    expect(seen.live).toEqual([true, true, false]);
  });

  it("says so when the stream fails, and tries again after a pause", async () => {
    const { client, calls } = fakeClient({
      executions: [execution("running", [run(1)])],
      streams: [new ApiError(503, { title: "Service Unavailable" }), [changed("completed"), end("completed")]],
    });
    const { hooks, seen } = recorder();
    await followExecution(client, "e1", new AbortController().signal, hooks);
    expect(calls.streams).toEqual([1, 1]);
    expect(seen.errors).toContain("Live updates stopped: Service Unavailable. Trying again…");
    expect(seen.errors[seen.errors.length - 1]).toBeNull();
    expect(seen.slept).toContain(2000);
  });

  it("after an action, reads until the execution leaves the state it was in, then streams", async () => {
    const { client, calls } = fakeClient({
      executions: [execution("faulted", [run(1), run(2, "faulted")]), execution("faulted"), execution("running", [run(1), run(2, "faulted")])],
      streams: [[tasks(run(3)), changed("completed"), end("completed")]],
    });
    const { hooks, seen } = recorder();
    await followExecution(client, "e1", new AbortController().signal, hooks, { leaving: "faulted", held: [run(1)] });
    expect(calls.gets).toBe(3);
    expect(seen.executions).toEqual(["running", "completed"]);
    expect(seen.runs.map((r) => [r.id, r.status])).toEqual([
      [1, "completed"],
      [2, "faulted"],
      [3, "completed"],
    ]);
  });

  it("stops quietly once a newer follow took over", async () => {
    const { client, calls } = fakeClient({ executions: [execution("running", [run(1)])], streams: [] });
    const { hooks, seen } = recorder();
    await followExecution(client, "e1", new AbortController().signal, { ...hooks, alive: () => false });
    expect(calls.streams).toEqual([]);
    expect(seen.executions).toEqual([]);
  });
});
