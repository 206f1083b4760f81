// The graph of a workflow, read from its YAML Document (the source of truth).
//
//   text --parseDocument--> Document --buildGraph--> tasks (by JSON Pointer), task lists,
//   flow edges (sequence, `then`, switch cases, fork branches, exit/end/continue)
//
// Nothing here changes the document; edits are in edits.ts and patch the text. Every
// task list gets a start and an end terminal, so that flow directives are edges:
// `then: exit` goes to its list's end, `then: end` to the workflow's end.

import { isMap, isScalar, isSeq, type Document, type Node as YamlNode, type YAMLMap, type YAMLSeq } from "yaml";
import { CONTAINER_KINDS, kindOf, summarize, type TaskKind } from "./kinds";
import { joinPointer } from "./pointer";

export type ListRole = "do" | "try" | "catch" | "branches";

export interface TaskNode {
  id: string; // the task's JSON Pointer in the workflow document
  name: string;
  kind: TaskKind;
  list: string; // pointer of the task list holding it
  index: number;
  parent: string | null; // the container task around it, null at the top
  depth: number;
  summary: string;
  lists: string[]; // the task lists inside it (containers)
  definition: Record<string, unknown>;
  /** Offsets in the text: the entry ("- name: ...") from its key to its end. */
  range: [number, number];
}

export interface TaskList {
  pointer: string;
  owner: string | null; // the task whose list this is; null for the workflow's `do`
  role: ListRole;
  tasks: string[];
}

export type EdgeKind = "next" | "then" | "case" | "exit" | "end" | "branch";

export interface FlowEdge {
  id: string;
  source: string;
  target: string;
  kind: EdgeKind;
  label?: string;
  /** Where "+" on this edge inserts: the list and the index in it. */
  list: string;
  insertAt: number;
  /** For a switch case: its index in the switch (so "+" can re-point its `then`). */
  caseIndex?: number;
}

export interface WorkflowGraph {
  /** Where the workflow is in the YAML file: [] or ["spec", "workflow"]. */
  base: (string | number)[];
  root: string; // "/do"
  tasks: Map<string, TaskNode>;
  lists: Map<string, TaskList>;
  edges: FlowEdge[];
}

export const startOf = (list: string) => `start:${list}`;
export const endOf = (list: string) => `end:${list}`;
export const isTerminal = (id: string) => id.startsWith("start:") || id.startsWith("end:");

export function buildGraph(doc: Document, base: (string | number)[] = []): WorkflowGraph {
  const graph: WorkflowGraph = { base, root: "/do", tasks: new Map(), lists: new Map(), edges: [] };
  const workflow = base.length ? doc.getIn(base, true) : doc.contents;
  const root = isMap(workflow) ? (workflow as YAMLMap).get("do", true) : null;
  readList(graph, isSeq(root) ? (root as YAMLSeq) : null, "/do", null, "do", 0);
  return graph;
}

function readList(
  graph: WorkflowGraph,
  seq: YAMLSeq | null,
  pointer: string,
  owner: string | null,
  role: ListRole,
  depth: number,
): void {
  const list: TaskList = { pointer, owner, role, tasks: [] };
  graph.lists.set(pointer, list);
  const items = seq?.items ?? [];
  items.forEach((item, index) => {
    const task = readTask(graph, item as YamlNode, pointer, index, owner, depth);
    if (task) list.tasks.push(task.id);
  });
  addListEdges(graph, list);
}

function readTask(
  graph: WorkflowGraph,
  item: YamlNode,
  list: string,
  index: number,
  parent: string | null,
  depth: number,
): TaskNode | null {
  if (!isMap(item) || item.items.length === 0) return null;
  const pair = item.items[0];
  const name = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
  const value = pair.value as YamlNode | null;
  const definition = (isMap(value) ? value.toJSON() : {}) as Record<string, unknown>;
  const kind = kindOf(definition);
  const id = joinPointer(list, index, name);
  const start = (pair.key as YamlNode | null)?.range?.[0] ?? item.range?.[0] ?? 0;
  const end = value?.range?.[2] ?? item.range?.[2] ?? start;
  const task: TaskNode = {
    id,
    name,
    kind,
    list,
    index,
    parent,
    depth,
    summary: safeSummary(kind, definition),
    lists: [],
    definition,
    range: [start, end],
  };
  graph.tasks.set(id, task);
  if (CONTAINER_KINDS.has(kind) && isMap(value)) readChildLists(graph, task, value as YAMLMap);
  return task;
}

function readChildLists(graph: WorkflowGraph, task: TaskNode, value: YAMLMap): void {
  const children: [YamlNode | null, string, ListRole][] = [];
  if (task.kind === "do" || task.kind === "for") children.push([value.get("do", true) as YamlNode, "/do", "do"]);
  if (task.kind === "fork") {
    const fork = value.get("fork", true);
    children.push([isMap(fork) ? (fork.get("branches", true) as YamlNode) : null, "/fork/branches", "branches"]);
  }
  if (task.kind === "try") {
    children.push([value.get("try", true) as YamlNode, "/try", "try"]);
    const catchNode = value.get("catch", true);
    if (isMap(catchNode) && catchNode.has("do")) {
      children.push([catchNode.get("do", true) as YamlNode, "/catch/do", "catch"]);
    }
  }
  for (const [node, suffix, role] of children) {
    const pointer = task.id + suffix;
    task.lists.push(pointer);
    readList(graph, isSeq(node) ? (node as YAMLSeq) : null, pointer, task.id, role, task.depth + 1);
  }
}

function safeSummary(kind: TaskKind, definition: Record<string, unknown>): string {
  try {
    return summarize(kind, definition);
  } catch {
    return "";
  }
}

// --- flow ----------------------------------------------------------------------------

function addListEdges(graph: WorkflowGraph, list: TaskList): void {
  const tasks = list.tasks.map((id) => graph.tasks.get(id)!);
  const add = (edge: Omit<FlowEdge, "id">) =>
    graph.edges.push({ ...edge, id: `${edge.source}->${edge.target}#${edge.kind}${edge.caseIndex ?? ""}` });
  if (list.role === "branches") {
    for (const task of tasks) {
      add({ source: startOf(list.pointer), target: task.id, kind: "branch", list: list.pointer, insertAt: task.index });
      add({ source: task.id, target: endOf(list.pointer), kind: "branch", list: list.pointer, insertAt: task.index + 1 });
    }
    if (tasks.length === 0) add({ source: startOf(list.pointer), target: endOf(list.pointer), kind: "next", list: list.pointer, insertAt: 0 });
    return;
  }
  add({
    source: startOf(list.pointer),
    target: tasks[0]?.id ?? endOf(list.pointer),
    kind: "next",
    list: list.pointer,
    insertAt: 0,
  });
  tasks.forEach((task, index) => {
    const after = { list: list.pointer, insertAt: index + 1 };
    if (task.kind === "raise") return; // it faults: nothing follows it in this list
    if (task.kind === "switch") {
      const cases = Array.isArray(task.definition.switch) ? (task.definition.switch as unknown[]) : [];
      let hasDefault = false;
      cases.forEach((entry, caseIndex) => {
        const [caseName, caseValue] = Object.entries((entry ?? {}) as Record<string, unknown>)[0] ?? ["?", {}];
        const spec = (caseValue ?? {}) as Record<string, unknown>;
        if (spec.when === undefined) hasDefault = true;
        const target = resolve(graph, tasks, index, spec.then, list.pointer);
        if (target) {
          const label = spec.when === undefined ? `${caseName} (default)` : `${caseName}: ${String(spec.when)}`;
          add({ source: task.id, target: target.id, kind: "case", label, caseIndex, ...after });
        }
      });
      if (hasDefault) return;
    }
    const target = resolve(graph, tasks, index, task.definition.then, list.pointer);
    if (target) add({ source: task.id, target: target.id, kind: target.kind, label: target.label, ...after });
  });
}

function resolve(
  graph: WorkflowGraph,
  tasks: TaskNode[],
  index: number,
  directive: unknown,
  list: string,
): { id: string; kind: EdgeKind; label?: string } | null {
  const next = tasks[index + 1]?.id ?? endOf(list);
  if (directive === undefined || directive === null) return { id: next, kind: "next" };
  if (directive === "continue") return { id: next, kind: "then", label: "continue" };
  if (directive === "exit") return { id: endOf(list), kind: "exit", label: "exit" };
  if (directive === "end") return { id: endOf(graph.root), kind: "end", label: "end" };
  const named = tasks.find((task) => task.name === directive);
  return named ? { id: named.id, kind: "then", label: `then ${named.name}` } : null;
}

/** The tasks in document order (depth first), containers before their children. */
export function tasksInOrder(graph: WorkflowGraph): TaskNode[] {
  const out: TaskNode[] = [];
  const visit = (pointer: string) => {
    for (const id of graph.lists.get(pointer)?.tasks ?? []) {
      const task = graph.tasks.get(id)!;
      out.push(task);
      task.lists.forEach(visit);
    }
  };
  visit(graph.root);
  return out;
}

/** Names used in a list (for unique names when adding or pasting). */
export function namesIn(graph: WorkflowGraph, list: string): Set<string> {
  return new Set((graph.lists.get(list)?.tasks ?? []).map((id) => graph.tasks.get(id)!.name));
}

export function uniqueName(wanted: string, taken: Set<string>): string {
  if (!taken.has(wanted)) return wanted;
  for (let n = 2; ; n++) if (!taken.has(`${wanted}${n}`)) return `${wanted}${n}`;
}
