// A run view's statuses: from task runs (attempts, retries, loop iterations) to the one
// status each node shows.
import { describe, expect, it } from "vitest";
import type { TaskRun } from "../src/api/types";
import type { TaskKind } from "../src/graph/kinds";
import { buildGraph } from "../src/graph/model";
import { parse } from "../src/graph/textedit";
import {
  combine,
  inIterations,
  iterationIn,
  iterationsOf,
  latestRun,
  mergeRuns,
  resumeAfter,
  runStatus,
  runsByTask,
  taskStatuses,
} from "../src/runs/status";

let nextId = 1;
function run(reference: string, status: string, extra: Partial<TaskRun> = {}): TaskRun {
  return {
    id: nextId++,
    parent_id: null,
    name: reference.split("/").pop()!,
    reference,
    occurrence: reference,
    status,
    input: null,
    output: null,
    error: null,
    attempt: 1,
    started_at: "2024-05-01T12:00:00.000Z",
    ended_at: status === "running" ? null : "2024-05-01T12:00:01.000Z",
    revision: null,
    ...extra,
  };
}

const WORKFLOW = `document: {dsl: '1.0.0', namespace: t, name: w, version: '1.0.0'}
do:
  - count:
      call: count
  - each:
      for: {each: item, in: .items}
      do:
        - charge:
            call: charge
  - pause:
      wait: PT1H
  - tag:
      set: {done: true}
`;

function kindsOf(text: string): Map<string, TaskKind> {
  const graph = buildGraph(parse(text));
  return new Map([...graph.tasks.values()].map((task) => [task.id, task.kind]));
}

describe("run status", () => {
  it("maps each run status; a running wait or listen is waiting; a run left open by an ended execution is cancelled", () => {
    expect(runStatus({ status: "completed" }, "call", "running")).toBe("completed");
    expect(runStatus({ status: "faulted" }, "call", "faulted")).toBe("faulted");
    expect(runStatus({ status: "skipped" }, "set", "completed")).toBe("skipped");
    expect(runStatus({ status: "running" }, "call", "running")).toBe("running");
    expect(runStatus({ status: "running" }, "wait", "waiting")).toBe("waiting");
    expect(runStatus({ status: "running" }, "listen", "running")).toBe("waiting");
    expect(runStatus({ status: "running" }, "call", "cancelled")).toBe("cancelled");
    expect(runStatus({ status: "something new" }, "call", "running")).toBe("pending");
  });

  it("combines occurrences: work in progress first, then a fault, then what ended well", () => {
    expect(combine(["completed", "running", "faulted"])).toBe("running");
    expect(combine(["completed", "faulted"])).toBe("faulted");
    expect(combine(["skipped", "completed"])).toBe("completed");
    expect(combine(["skipped"])).toBe("skipped");
    expect(combine([])).toBe("pending");
  });

  it("gives every task of the workflow a status: tasks not run yet are pending", () => {
    const kinds = kindsOf(WORKFLOW);
    const runs = [run("/do/0/count", "completed"), run("/do/1/each", "running")];
    const statuses = taskStatuses(kinds, runsByTask(runs), "running");
    expect(Object.fromEntries(statuses)).toEqual({
      "/do/0/count": "completed",
      "/do/1/each": "running",
      "/do/1/each/do/0/charge": "pending",
      "/do/2/pause": "pending",
      "/do/3/tag": "pending",
    });
  });

  it("counts the latest run of an occurrence: a fault retried to completion is completed", () => {
    const kinds = kindsOf(WORKFLOW);
    const runs = [
      run("/do/0/count", "completed"),
      run("/do/3/tag", "faulted"),
      run("/do/3/tag", "completed", { attempt: 1 }),
    ];
    const statuses = taskStatuses(kinds, runsByTask(runs), "completed");
    expect(statuses.get("/do/3/tag")).toBe("completed");
    expect(latestRun(runsByTask(runs).get("/do/3/tag"))!.status).toBe("completed");
    // The fault alone (before the retry) shows faulted.
    expect(taskStatuses(kinds, runsByTask(runs.slice(0, 2)), "faulted").get("/do/3/tag")).toBe("faulted");
  });

  it("tells loop iterations apart by their occurrence and narrows to the picked one", () => {
    const loop = "/do/1/each";
    const charge = "/do/1/each/do/0/charge";
    const runs = [
      run(loop, "completed"),
      run(charge, "completed", { occurrence: "/do/1/each[0]/do/0/charge" }),
      run(charge, "faulted", { occurrence: "/do/1/each[1]/do/0/charge" }),
      run(charge, "completed", { occurrence: "/do/1/each[2]/do/0/charge" }),
    ];
    expect(iterationIn(runs[0], loop)).toBeNull();
    expect(iterationIn(runs[2], loop)).toBe(1);
    expect(iterationIn(run("/do/0/count", "completed"), loop)).toBeNull();
    expect(iterationsOf(runs, loop)).toEqual([0, 1, 2]);
    const kinds = kindsOf(WORKFLOW);
    expect(taskStatuses(kinds, runsByTask(runs), "faulted").get(charge)).toBe("faulted");
    const second = new Map([[loop, 2]]);
    expect(inIterations(runs[2], second)).toBe(false);
    expect(inIterations(runs[0], second)).toBe(true); // the loop's own run stays
    expect(taskStatuses(kinds, runsByTask(runs, second), "faulted").get(charge)).toBe("completed");
    expect(runsByTask(runs, second).get(charge)!.map((r) => r.occurrence)).toEqual(["/do/1/each[2]/do/0/charge"]);
  });

  it("nested loops: each loop's picked iteration applies at its own depth", () => {
    const inner = "/do/0/outer/do/0/inner";
    const task = "/do/0/outer/do/0/inner/do/0/x";
    const a = run(task, "completed", { occurrence: "/do/0/outer[1]/do/0/inner[0]/do/0/x" });
    const b = run(task, "completed", { occurrence: "/do/0/outer[0]/do/0/inner[1]/do/0/x" });
    expect(iterationIn(a, "/do/0/outer")).toBe(1);
    expect(iterationIn(a, inner)).toBe(0);
    expect(runsByTask([a, b], new Map([["/do/0/outer", 1]])).get(task)).toEqual([a]);
    expect(runsByTask([a, b], new Map([[inner, 1]])).get(task)).toEqual([b]);
  });

  it("merges streamed runs by id and resumes after the last run whose predecessors all ended", () => {
    const first = run("/do/0/count", "completed");
    const second = run("/do/1/each", "running");
    const third = run("/do/2/pause", "completed");
    const held = mergeRuns([], [third, first, second]);
    expect(held.map((r) => r.id)).toEqual([first.id, second.id, third.id]);
    expect(resumeAfter(held)).toBe(first.id);
    const ended = { ...second, status: "completed", ended_at: "2024-05-01T12:00:02.000Z" };
    const merged = mergeRuns(held, [ended]);
    expect(merged.find((r) => r.id === second.id)!.status).toBe("completed");
    expect(resumeAfter(merged)).toBe(third.id);
    expect(resumeAfter([])).toBe(0);
  });
});
