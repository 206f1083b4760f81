// What the canvas and the forms do to a workflow, as patches of its YAML text
// (textedit.ts): add, delete, move, rename, copy/paste a task, set one of its settings,
// or replace its whole definition from the raw YAML tab. Each returns the new text;
// the caller re-reads the graph from it, so the text stays the one source of truth.

import { stringify } from "yaml";
import { newTaskDefinition, type TaskKind } from "./kinds";
import { buildGraph, namesIn, uniqueName, type FlowEdge, type WorkflowGraph } from "./model";
import { isWithin, joinPointer, pathOf, splitPointer } from "./pointer";
import {
  EditError,
  insertItem,
  insertItemText,
  itemText,
  parse,
  reindent,
  removeItem,
  renameKey,
  renderItem,
  replaceItemText,
  setAt,
  valueText,
  type Path,
} from "./textedit";

export { EditError };

export interface Workflow {
  text: string;
  base: Path; // where the workflow is in the file: [] or ["spec", "workflow"]
}

const graphOf = (w: Workflow): WorkflowGraph => buildGraph(parse(w.text), w.base);

function itemPath(w: Workflow, pointer: string): { list: Path; index: number; name: string } {
  const tokens = pathOf(pointer);
  const name = String(tokens[tokens.length - 1]);
  const index = Number(tokens[tokens.length - 2]);
  return { list: [...w.base, ...tokens.slice(0, -2)], index, name };
}

function listPath(w: Workflow, listPointer: string): Path {
  return [...w.base, ...pathOf(listPointer)];
}

function requireTask(graph: WorkflowGraph, pointer: string) {
  const task = graph.tasks.get(pointer);
  if (!task) throw new EditError(`no task at ${pointer}`);
  return task;
}

/** Add a task of ``kind`` at ``index`` of the list; returns the text and its pointer. */
export function insertTask(
  w: Workflow,
  listPointer: string,
  index: number,
  kind: TaskKind,
  options: { name?: string; functionName?: string } = {},
): { text: string; pointer: string } {
  const graph = graphOf(w);
  const name = uniqueName(options.name ?? defaultName(kind, options.functionName), namesIn(graph, listPointer));
  const text = insertItem(w.text, listPath(w, listPointer), index, { [name]: newTaskDefinition(kind, options.functionName) });
  return { text, pointer: joinPointer(listPointer, index, name) };
}

function defaultName(kind: TaskKind, functionName?: string): string {
  if (kind === "call" && functionName) return functionName;
  return { call: "callHttp", set: "setValues", switch: "choose", for: "forEach", fork: "parallel", try: "tryIt", do: "steps", wait: "pause", listen: "listenFor", emit: "emitEvent", raise: "fail", run: "runIt", unknown: "task" }[kind];
}

/** "+" on an edge (or a drop onto it): the new task goes between the edge's ends. A
 * `then` (or a switch case's `then`) that made the edge now names the new task, which
 * takes over the directive, so the flow still reaches the old target through it. */
export function insertOnEdge(
  w: Workflow,
  edge: FlowEdge,
  kind: TaskKind,
  options: { functionName?: string } = {},
): { text: string; pointer: string } {
  const graph = graphOf(w);
  const inserted = insertTask(w, edge.list, edge.insertAt, kind, options);
  const source = graph.tasks.get(edge.source);
  if (!source || edge.kind === "next" || edge.kind === "branch") return inserted;
  const name = splitPointer(inserted.pointer).pop()!;
  const sourcePath = [...w.base, ...pathOf(source.id)];
  let text = inserted.text;
  const directive =
    edge.kind === "case"
      ? ((Object.values((source.definition.switch as Record<string, Record<string, unknown>>[])[edge.caseIndex!])[0] ?? {}).then)
      : source.definition.then;
  const newPath = [...listPath(w, edge.list), edge.insertAt, name];
  if (directive !== undefined && directive !== "continue") text = setAt(text, [...newPath, "then"], directive);
  if (edge.kind === "case") {
    const caseName = Object.keys((source.definition.switch as Record<string, unknown>[])[edge.caseIndex!])[0];
    text = setAt(text, [...sourcePath, "switch", edge.caseIndex!, caseName, "then"], name);
  } else {
    text = setAt(text, [...sourcePath, "then"], name);
  }
  return { text, pointer: inserted.pointer };
}

export function deleteTask(w: Workflow, pointer: string): string {
  requireTask(graphOf(w), pointer);
  const { list, index } = itemPath(w, pointer);
  return removeItem(w.text, list, index);
}

/** Move a task to ``index`` of ``targetList`` (an index among the items as they are
 * before the move). Its text moves with its comments; a name taken there gets a suffix. */
export function moveTask(w: Workflow, pointer: string, targetList: string, index: number): { text: string; pointer: string } {
  const graph = graphOf(w);
  const task = requireTask(graph, pointer);
  if (isWithin(targetList, pointer)) throw new EditError("a task cannot be moved into itself");
  const source = itemPath(w, pointer);
  const block = itemText(w.text, source.list, source.index);
  let target = targetList;
  let at = index;
  if (task.list === targetList && index > task.index) at -= 1;
  // Removing the item shifts the indexes of later siblings, and of lists inside them.
  const prefix = task.list + "/";
  if (targetList.startsWith(prefix)) {
    const [siblingIndex, ...rest] = targetList.slice(prefix.length).split("/");
    if (Number(siblingIndex) > task.index) target = prefix + [Number(siblingIndex) - 1, ...rest].join("/");
  }
  const names = task.list === targetList ? new Set<string>() : namesIn(graph, targetList);
  let text = removeItem(w.text, source.list, source.index);
  text = insertItemText(text, listPath(w, target), at, block.text, block.column);
  let name = task.name;
  if (names.has(name)) {
    name = uniqueName(name, names);
    text = renameKey(text, [...listPath(w, target), at, task.name], name);
  }
  return { text, pointer: joinPointer(target, at, name) };
}

/** Rename a task, and every `then` of its list that named it. */
export function renameTask(w: Workflow, pointer: string, newName: string): { text: string; pointer: string } {
  const graph = graphOf(w);
  const task = requireTask(graph, pointer);
  if (!newName.trim()) throw new EditError("a task needs a name");
  if (newName !== task.name && namesIn(graph, task.list).has(newName)) {
    throw new EditError(`this list has a task named ${newName} already`);
  }
  const { list, index } = itemPath(w, pointer);
  let text = renameKey(w.text, [...list, index, task.name], newName);
  for (const id of graph.lists.get(task.list)!.tasks) {
    const sibling = graph.tasks.get(id)!;
    const siblingName = sibling.id === pointer ? newName : sibling.name;
    const path = [...list, sibling.index, siblingName];
    if (sibling.definition.then === task.name) text = setAt(text, [...path, "then"], newName);
    if (sibling.kind === "switch" && Array.isArray(sibling.definition.switch)) {
      (sibling.definition.switch as Record<string, Record<string, unknown>>[]).forEach((entry, caseIndex) => {
        const [caseName, spec] = Object.entries(entry ?? {})[0] ?? [];
        if (caseName && spec?.then === task.name) text = setAt(text, [...path, "switch", caseIndex, caseName, "then"], newName);
      });
    }
  }
  return { text, pointer: joinPointer(task.list, task.index, newName) };
}

/** Set (or, with undefined, remove) a setting of a task: ``field`` is a path inside its
 * definition, e.g. ["call"], ["with", "message"], ["catch", "retry"]. */
export function setTaskField(w: Workflow, pointer: string, field: Path, value: unknown): string {
  requireTask(graphOf(w), pointer);
  return setAt(w.text, [...w.base, ...pathOf(pointer), ...field], value);
}

/** The task's definition as YAML text of its own (the raw YAML tab). */
export function taskDefinitionText(w: Workflow, pointer: string): string {
  return valueText(w.text, [...w.base, ...pathOf(pointer)]);
}

/** Replace the task's definition with YAML text (from the raw tab), kept as written. */
export function replaceTaskDefinition(w: Workflow, pointer: string, yamlText: string): string {
  const graph = graphOf(w);
  const task = requireTask(graph, pointer);
  const parsed = parse(yamlText);
  if (parsed.errors.length) throw new EditError(parsed.errors[0].message);
  const value = parsed.toJSON();
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new EditError("a task's definition is a mapping");
  const { list, index } = itemPath(w, pointer);
  const item = itemText(w.text, list, index);
  const body = reindent(yamlText.trimEnd() + "\n", item.column + 4);
  const replacement = " ".repeat(item.column) + "- " + renderKey(task.name) + ":\n" + body;
  return replaceItemText(w.text, list, index, replacement);
}

function renderKey(name: string): string {
  return stringify(name).trimEnd();
}

/** The task as text for the clipboard: "- name: ..." at column 0. */
export function copyTask(w: Workflow, pointer: string): string {
  const { list, index } = itemPath(w, pointer);
  const item = itemText(w.text, list, index);
  return reindent(item.text, -item.column);
}

/** Paste a copied task at ``index`` of a list (renamed if its name is taken there). */
export function pasteTask(w: Workflow, listPointer: string, index: number, clipboard: string): { text: string; pointer: string } {
  const parsed = parse(clipboard).toJSON() as unknown;
  const entry = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!entry || typeof entry !== "object" || Object.keys(entry).length !== 1) {
    throw new EditError("the clipboard does not hold a task");
  }
  const name = Object.keys(entry)[0];
  const graph = graphOf(w);
  const fresh = uniqueName(name, namesIn(graph, listPointer));
  const body = Array.isArray(parsed) ? clipboard : renderItem(entry, 0);
  let text = insertItemText(w.text, listPath(w, listPointer), index, body, 0);
  if (fresh !== name) text = renameKey(text, [...listPath(w, listPointer), index, name], fresh);
  return { text, pointer: joinPointer(listPointer, index, fresh) };
}
