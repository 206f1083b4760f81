// YAML -> graph -> YAML on the specification's 66 examples: reading the graph changes
// nothing, and an edit made through the graph, then undone through the graph, gives
// back the very same text (comments, key order, quoting and blank lines included).
import { describe, expect, it } from "vitest";
import { deleteTask, insertTask, moveTask, renameTask, setTaskField } from "../src/graph/edits";
import { buildGraph, tasksInOrder } from "../src/graph/model";
import { pathOf } from "../src/graph/pointer";
import { parse } from "../src/graph/textedit";
import { examples } from "./examples";

const all = examples();

describe("the specification's examples", () => {
  it("are all here", () => {
    expect(all).toHaveLength(66);
  });

  it.each(all)("$name: every task is a node named by its pointer", ({ text }) => {
    const doc = parse(text);
    const graph = buildGraph(doc);
    const data = doc.toJSON();
    expect(graph.tasks.size).toBeGreaterThan(0);
    for (const task of tasksInOrder(graph)) {
      const entry = pathOf(task.id).slice(0, -1).reduce((node: any, key) => node[key], data);
      expect(Object.keys(entry)).toEqual([task.name]);
      expect(text.slice(task.range[0], task.range[1])).toContain(task.name);
    }
  });

  it.each(all)("$name: a task added then deleted leaves the text as it was", ({ text }) => {
    const w = { text, base: [] };
    const size = buildGraph(parse(text)).lists.get("/do")!.tasks.length;
    const added = insertTask(w, "/do", size, "set");
    const graph = buildGraph(parse(added.text));
    expect(graph.tasks.get(added.pointer)?.kind).toBe("set");
    expect(parse(added.text).errors).toEqual([]);
    expect(deleteTask({ text: added.text, base: [] }, added.pointer)).toBe(text);
  });

  it.each(all)("$name: a task renamed and renamed back leaves the text as it was", ({ text }) => {
    const graph = buildGraph(parse(text));
    const first = graph.tasks.get(graph.lists.get("/do")!.tasks[0])!;
    const renamed = renameTask({ text, base: [] }, first.id, "renamedTask");
    expect(buildGraph(parse(renamed.text)).tasks.get(renamed.pointer)?.name).toBe("renamedTask");
    expect(renameTask({ text: renamed.text, base: [] }, renamed.pointer, first.name).text).toBe(text);
  });

  it.each(all)("$name: a setting set then removed leaves the text as it was", ({ text }) => {
    const graph = buildGraph(parse(text));
    const last = tasksInOrder(graph).pop()!;
    if ("metadata" in last.definition) return;
    const edited = setTaskField({ text, base: [] }, last.id, ["metadata"], { note: "drawn" });
    expect(parse(edited).toJSON()).toBeTruthy();
    expect(buildGraph(parse(edited)).tasks.get(last.id)!.definition.metadata).toEqual({ note: "drawn" });
    expect(setTaskField({ text: edited, base: [] }, last.id, ["metadata"], undefined)).toBe(text);
  });

  it.each(all.filter(({ text }) => buildGraph(parse(text)).lists.get("/do")!.tasks.length >= 2))(
    "$name: the first task moved to the end and back leaves the text as it was",
    ({ text }) => {
      const graph = buildGraph(parse(text));
      const list = graph.lists.get("/do")!.tasks;
      const moved = moveTask({ text, base: [] }, list[0], "/do", list.length);
      const after = buildGraph(parse(moved.text));
      expect(after.lists.get("/do")!.tasks.at(-1)).toBe(moved.pointer);
      expect(moveTask({ text: moved.text, base: [] }, moved.pointer, "/do", 0).text.trimEnd()).toBe(text.trimEnd());
    },
  );
});
