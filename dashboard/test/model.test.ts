// The graph model on workflows written for the purpose: flow edges, containers, the
// placement of problems, and edits of an inline FlowApp workflow (base /spec/workflow).
import { describe, expect, it } from "vitest";
import {
  copyTask,
  deleteTask,
  insertOnEdge,
  insertTask,
  moveTask,
  pasteTask,
  renameTask,
  replaceTaskDefinition,
  setTaskField,
  taskDefinitionText,
} from "../src/graph/edits";
import { buildGraph, endOf, startOf } from "../src/graph/model";
import { countByTask, placeProblems } from "../src/graph/problems";
import { parse } from "../src/graph/textedit";

const ORDER = `# An order workflow.
document: {dsl: '1.0.3', namespace: shop, name: order, version: '1.0.0'}
do:
  # Is it big?
  - check:
      switch:
        - big:
            when: .amount > 100   # needs approval
            then: approve
        - small:
            then: ship
  - approve:
      set:
        approved: true
  - ship:
      try:
        - send:
            call: courier
      catch:
        errors:
          with: {status: 503}
        do:
          - giveUp:
              raise:
                error: {type: https://example.com/late, status: 500}
      then: end
`;

const graph = () => buildGraph(parse(ORDER));

describe("the graph of a workflow", () => {
  it("names every task by its JSON pointer, nested ones included", () => {
    expect([...graph().tasks.keys()]).toEqual([
      "/do/0/check",
      "/do/1/approve",
      "/do/2/ship",
      "/do/2/ship/try/0/send",
      "/do/2/ship/catch/do/0/giveUp",
    ]);
    expect(graph().tasks.get("/do/2/ship/try/0/send")!.parent).toBe("/do/2/ship");
  });

  it("draws one edge per switch case, labelled with its when", () => {
    const cases = graph().edges.filter((edge) => edge.kind === "case");
    expect(cases.map((edge) => [edge.label, edge.target])).toEqual([
      ["big: .amount > 100", "/do/1/approve"],
      ["small (default)", "/do/2/ship"],
    ]);
  });

  it("draws flow directives as edges: sequence, then end, and none after a raise", () => {
    const edges = graph().edges.map((edge) => `${edge.source} -> ${edge.target} ${edge.kind}`);
    expect(edges).toContain(`${startOf("/do")} -> /do/0/check next`);
    expect(edges).toContain("/do/1/approve -> /do/2/ship next");
    expect(edges).toContain(`/do/2/ship -> ${endOf("/do")} end`);
    expect(edges.filter((edge) => edge.startsWith("/do/2/ship/catch/do/0/giveUp"))).toEqual([]);
  });

  it("puts a problem on the task with the longest pointer prefix", () => {
    const placed = placeProblems(
      [
        { pointer: "/do/0/check/switch/0/big/when", message: "bad jq", line: 8 },
        { pointer: "/do/2/ship/try/0/send/call", message: "unknown function", line: 17 },
        { pointer: "/document", message: "about the workflow", line: 2 },
      ],
      graph(),
      "",
    );
    expect(placed.map((p) => p.task)).toEqual(["/do/0/check", "/do/2/ship/try/0/send", null]);
    expect(countByTask(placed).get("/do/0/check")).toBe(1);
  });

  it("strips the file's base from problems of an inline workflow", () => {
    const placed = placeProblems([{ pointer: "/spec/workflow/do/1/approve/set", message: "x" }], graph(), "/spec/workflow");
    expect(placed[0].task).toBe("/do/1/approve");
  });
});

describe("edits keep the rest of the text as written", () => {
  const w = { text: ORDER, base: [] };

  it("renames a task and the thens that named it", () => {
    const { text, pointer } = renameTask(w, "/do/1/approve", "review");
    expect(pointer).toBe("/do/1/review");
    expect(text).toContain("then: review");
    expect(text).toContain("when: .amount > 100   # needs approval");
    expect(text.replace(/review/g, "approve")).toBe(ORDER);
  });

  it("inserts on a switch case edge: the case now names the new task, which goes on", () => {
    const edge = graph().edges.find((e) => e.kind === "case" && e.target === "/do/1/approve")!;
    const { text, pointer } = insertOnEdge(w, edge, "set");
    const after = buildGraph(parse(text));
    const inserted = after.tasks.get(pointer)!;
    expect(inserted.index).toBe(1);
    expect(inserted.definition.then).toBe("approve");
    const big = (after.tasks.get("/do/0/check")!.definition.switch as Record<string, { then: string }>[])[0].big;
    expect(big.then).toBe(inserted.name);
    expect(text).toContain("# Is it big?");
  });

  it("moves a task into another list with its comments, and back", () => {
    const moved = moveTask(w, "/do/1/approve", "/do/2/ship/try", 1);
    expect(moved.pointer).toBe("/do/1/ship/try/1/approve");
    const after = buildGraph(parse(moved.text));
    expect(after.tasks.get(moved.pointer)!.parent).toBe("/do/1/ship");
    const back = moveTask({ text: moved.text, base: [] }, moved.pointer, "/do", 1);
    expect(back.text).toBe(ORDER);
  });

  it("copies and pastes a task under a free name", () => {
    const clip = copyTask(w, "/do/1/approve");
    const pasted = pasteTask(w, "/do", 2, clip);
    expect(pasted.pointer).toBe("/do/2/approve2");
    expect(buildGraph(parse(pasted.text)).tasks.get(pasted.pointer)!.definition).toEqual({ set: { approved: true } });
  });

  it("sets and removes fields in a flow mapping", () => {
    const text = setTaskField(w, "/do/2/ship/catch/do/0/giveUp", ["raise", "error", "title"], "Late");
    expect(buildGraph(parse(text)).tasks.get("/do/2/ship/catch/do/0/giveUp")!.definition).toEqual({
      raise: { error: { type: "https://example.com/late", status: 500, title: "Late" } },
    });
  });

  it("replaces a definition from the raw YAML tab, keeping its comments", () => {
    const raw = taskDefinitionText(w, "/do/1/approve");
    expect(raw).toBe("set:\n  approved: true\n");
    const text = replaceTaskDefinition(w, "/do/1/approve", "# reviewed by hand\nset:\n  approved: false\n");
    expect(text).toContain("      # reviewed by hand\n      set:\n        approved: false\n");
    expect(text).toContain("  # Is it big?");
  });

  it("deletes the only task of a list, leaving an empty list", () => {
    const text = deleteTask(w, "/do/2/ship/try/0/send");
    expect(buildGraph(parse(text)).lists.get("/do/2/ship/try")!.tasks).toEqual([]);
    expect(parse(text).errors).toEqual([]);
  });

  it("edits an inline FlowApp workflow under /spec/workflow", () => {
    const flowapp = `apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: append-display, namespace: default}
spec:
  workflow:                       # a Serverless Workflow 1.0 document
    document: {dsl: '1.0.3', namespace: default, name: append-display, version: '1.0.0'}
    do:
      # A function receives its \`with\` as data.
      - append:  {call: append, with: {message: '\${ .message }', suffix: "!"}}
      - display: {call: display}
`;
    const base = ["spec", "workflow"];
    const added = insertTask({ text: flowapp, base }, "/do", 2, "call", { functionName: "notify" });
    expect(added.pointer).toBe("/do/2/notify");
    expect(added.text).toContain("      - display: {call: display}\n      - notify:\n          call: notify\n");
    const edited = setTaskField({ text: added.text, base }, "/do/0/append", ["with", "suffix"], "?");
    expect(edited).toContain("# A function receives its `with` as data.");
    expect(buildGraph(parse(edited), base).tasks.get("/do/0/append")!.definition).toEqual({
      call: "append",
      with: { message: "${ .message }", suffix: "?" },
    });
  });
});

describe("an empty list", () => {
  it("gets its first task as a block, and becomes [] again when it is deleted", () => {
    const text = "document: {dsl: '1.0.3', namespace: d, name: n, version: '1.0.0'}\n# tasks\ndo: []\n";
    const added = insertTask({ text, base: [] }, "/do", 0, "set");
    expect(added.text).toBe(
      "document: {dsl: '1.0.3', namespace: d, name: n, version: '1.0.0'}\n# tasks\ndo:\n  - setValues:\n      set:\n        value: ${ . }\n",
    );
    const second = insertTask({ text: added.text, base: [] }, "/do", 1, "wait");
    expect(second.text).toContain("  - setValues:\n      set:\n        value: ${ . }\n  - pause:\n      wait: PT1S\n");
    expect(deleteTask({ text: added.text, base: [] }, added.pointer)).toBe(text);
  });
});
