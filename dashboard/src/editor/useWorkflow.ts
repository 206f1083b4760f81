// The editor's state: the YAML text (the source of truth) with its undo history, the
// graph read from it (the last good one while the text does not parse), and the
// selected task. Canvas edits come in as functions from text to text.

import { useCallback, useMemo, useRef, useState } from "react";
import { buildGraph, type WorkflowGraph } from "../graph/model";
import { parse } from "../graph/textedit";
import * as h from "./history";

export interface ParseError {
  message: string;
  line: number | null;
}

export interface WorkflowState {
  text: string;
  graph: WorkflowGraph;
  parseError: ParseError | null;
  selection: string | null;
  canUndo: boolean;
  canRedo: boolean;
  editError: string | null;
  /** A change typed in the text editor. */
  type(text: string): void;
  /** A change from the canvas or a form: ``edit`` maps the text to the new text (and
   * optionally the task to select after it). */
  edit(label: string, edit: (text: string) => string | { text: string; pointer?: string | null }): void;
  select(pointer: string | null): void;
  undo(): void;
  redo(): void;
  reset(text: string): void;
}

function read(text: string, base: (string | number)[], last: WorkflowGraph | null): { graph: WorkflowGraph; error: ParseError | null } {
  const doc = parse(text);
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line ?? null;
    const message = first.message.split("\n")[0];
    return { graph: last ?? buildGraph(parse("do: []"), []), error: { message, line } };
  }
  return { graph: buildGraph(doc, base), error: null };
}

export function useWorkflow(initial: string, base: (string | number)[]): WorkflowState {
  const [history, setHistory] = useState(() => h.start(initial));
  const [editError, setEditError] = useState<string | null>(null);
  const lastGood = useRef<WorkflowGraph | null>(null);
  const text = history.present.text;
  const { graph, error } = useMemo(() => read(text, base, lastGood.current), [text, base]);
  if (!error) lastGood.current = graph;
  const selection = history.present.selection && graph.tasks.has(history.present.selection) ? history.present.selection : null;


  // The newest history, for edits made before React renders again (two in one handler).
  const latest = useRef(history);
  latest.current = history;
  const commit = useCallback((next: h.History) => {
    latest.current = next;
    setHistory(next);
  }, []);

  const edit = useCallback<WorkflowState["edit"]>(
    (label, change) => {
      const current = latest.current;
      let result: ReturnType<typeof change>;
      try {
        result = change(current.present.text);
      } catch (failure) {
        if (!(failure instanceof Error)) throw failure;
        setEditError(`${label}: ${failure.message}`);
        return;
      }
      const next = typeof result === "string" ? { text: result, pointer: undefined } : result;
      const selected = next.pointer === undefined ? current.present.selection : next.pointer;
      setEditError(null);
      commit(h.record(current, { text: next.text, selection: selected, label }));
    },
    [commit],
  );

  const type = useCallback(
    (next: string) => {
      const current = latest.current;
      setEditError(null);
      commit(h.record(current, { text: next, selection: current.present.selection, label: "typing" }, { typing: true }));
    },
    [commit],
  );

  const select = useCallback((pointer: string | null) => {
    setHistory((current) => ({ ...current, present: { ...current.present, selection: pointer } }));
  }, []);

  return {
    text,
    graph,
    parseError: error,
    selection,
    canUndo: history.past.length > 0,
    canRedo: history.future.length > 0,
    editError,
    type,
    edit,
    select,
    undo: useCallback(() => setHistory(h.undo), []),
    redo: useCallback(() => setHistory(h.redo), []),
    reset: useCallback((next: string) => setHistory(h.start(next)), []),
  };
}
