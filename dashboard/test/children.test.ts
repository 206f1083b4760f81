// Sub-workflow executions matched to the `run: workflow` task that started them.
import { describe, expect, it } from "vitest";
import type { SubWorkflow, TaskRun } from "../src/api/types";
import { buildGraph } from "../src/graph/model";
import { parse } from "../src/graph/textedit";
import { matchSubWorkflows } from "../src/runs/children";

const WORKFLOW = `document: {dsl: '1.0.0', namespace: t, name: parent, version: '1.0.0'}
do:
  - first:
      run: {workflow: {namespace: t, name: child, version: '1.0.0'}}
  - other:
      run: {workflow: {namespace: t, name: notify, version: '1.0.0'}}
  - second:
      run: {workflow: {namespace: t, name: child, version: '1.0.0'}}
  - plain:
      set: {x: 1}
`;

const child = (id: string, name: string, started: string, namespace = "t"): SubWorkflow => ({
  id,
  app: "a",
  revision: null,
  status: "completed",
  input: null,
  output: null,
  error: null,
  started_at: started,
  ended_at: started,
  workflow: { namespace, name, version: "1.0.0" },
});

const run = (reference: string, start: string, end: string | null): TaskRun => ({
  id: 1,
  parent_id: null,
  name: reference.split("/").pop()!,
  reference,
  occurrence: reference,
  status: end ? "completed" : "running",
  input: null,
  output: null,
  error: null,
  attempt: 1,
  started_at: start,
  ended_at: end,
  revision: null,
});

describe("sub-workflows", () => {
  const graph = buildGraph(parse(WORKFLOW));

  it("matches each child to the run task naming its workflow, by the run open when it started", () => {
    const runs = new Map([
      ["/do/0/first", [run("/do/0/first", "2024-05-01T12:00:00.000Z", "2024-05-01T12:00:01.000Z")]],
      ["/do/2/second", [run("/do/2/second", "2024-05-01T12:00:02.000Z", null)]],
    ]);
    const children = [
      child("c1", "child", "2024-05-01T12:00:00.100Z"),
      child("h1", "notify", "2024-05-01T12:00:01.500Z"),
      child("c2", "child", "2024-05-01T12:00:02.100Z"),
    ];
    expect(Object.fromEntries(matchSubWorkflows(graph, children, runs))).toEqual({
      "/do/0/first": ["c1"],
      "/do/1/other": ["h1"],
      "/do/2/second": ["c2"],
    });
  });

  it("ignores children of another namespace and works without runs", () => {
    const children = [child("x", "child", "2024-05-01T12:00:00.100Z", "elsewhere"), child("h", "notify", "")];
    expect(Object.fromEntries(matchSubWorkflows(graph, children))).toEqual({ "/do/1/other": ["h"] });
    expect(matchSubWorkflows(null, children).size).toBe(0);
  });
});
