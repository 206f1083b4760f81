// The editor of one workflow: palette, canvas, text and the selected task's settings,
// with problems, deploy and run. For an app, the text is its workflow file as committed
// (GET /apps/{name}/workflow); for a new workflow, a starter. Unsaved text is a draft in
// localStorage until it is saved.

import "@xyflow/react/dist/style.css";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { describeError } from "../api/client";
import type { FunctionInfo, FunctionsView, WorkflowSource } from "../api/types";
import { useSession } from "../auth/session";
import { Banner } from "../components/Banner";
import { insertOnEdge, insertTask, moveTask, pasteTask, copyTask, deleteTask, type Workflow } from "../graph/edits";
import { warmUpLayout } from "../graph/layoutClient";
import type { FlowEdge } from "../graph/model";
import { pathOf } from "../graph/pointer";
import { parse } from "../graph/textedit";
import { countByTask, placeProblems, type PlacedProblem } from "../graph/problems";
import { appPath } from "../router";
import { Canvas } from "./Canvas";
import { DeployPanel } from "./DeployPanel";
import { dropDraft, loadDraft, saveDraft, STARTER } from "./drafts";
import type { NewTask } from "./dnd";
import { Inspector } from "./Inspector";
import { Palette } from "./Palette";
import { ProblemsList } from "./ProblemsList";
import { TextPane, type TextPaneHandle } from "./TextPane";
import { useValidation } from "./useValidation";
import { useWorkflow } from "./useWorkflow";

interface Loaded {
  source: WorkflowSource | null; // null: a new workflow
  text: string;
  restored: boolean;
}

export function EditorPage(props: { app: string | null }) {
  const { client } = useSession();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(warmUpLayout, []);

  useEffect(() => {
    let current = true;
    const draft = loadDraft(props.app);
    if (!props.app) {
      setLoaded({ source: null, text: draft?.text ?? STARTER, restored: Boolean(draft) });
      return;
    }
    client
      .getWorkflow(props.app)
      .then((source) => {
        if (!current) return;
        const restored = Boolean(draft && draft.text !== source.text);
        setLoaded({ source, text: restored ? draft!.text : source.text, restored });
      })
      .catch((failure) => {
        if (!current) return;
        if (draft) setLoaded({ source: null, text: draft.text, restored: true });
        setError(describeError(failure));
      });
    return () => {
      current = false;
    };
  }, [client, props.app]);

  if (!loaded) {
    return <main className="page">{error ? <Banner kind="error">{error}</Banner> : <p>Loading…</p>}</main>;
  }
  return <Editor app={props.app} loaded={loaded} loadError={error} />;
}

function Editor(props: { app: string | null; loaded: Loaded; loadError: string | null }) {
  const { client } = useSession();
  const [app, setApp] = useState(props.app);
  const [source, setSource] = useState(props.loaded.source);
  const basePointer = source?.base ?? "";
  const base = useMemo(() => pathOf(basePointer), [basePointer]);
  const state = useWorkflow(props.loaded.text, base);
  const [functions, setFunctions] = useState<FunctionsView | null>(null);
  const [clipboard, setClipboard] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(props.loaded.restored ? "Your unsaved draft was restored." : null);
  const [failure, setFailure] = useState<string | null>(props.loadError);
  const [layoutMs, setLayoutMs] = useState<number | null>(null);
  const textPane = useRef<TextPaneHandle>(null);

  const loadFunctions = useCallback(async () => {
    if (!app) return;
    try {
      setFunctions(await client.functions(app));
    } catch (error) {
      setFailure(describeError(error));
    }
  }, [client, app]);
  useEffect(() => void loadFunctions(), [loadFunctions]);

  // Every change is kept as a draft until it is saved.
  useEffect(() => {
    if (state.text !== (source?.text ?? (app ? null : STARTER))) saveDraft(app, state.text, source?.commit ?? null);
  }, [state.text, app, source]);

  const [validationRound, setValidationRound] = useState(0);
  const validation = useValidation(state.text, !state.parseError, app && source ? { app, file: source.file } : null, validationRound);
  const problems = useMemo(() => placeProblems(validation.problems, state.graph, basePointer), [validation.problems, state.graph, basePointer]);
  const counts = useMemo(() => countByTask(problems), [problems]);
  const functionMap = useMemo(
    () => (functions ? new Map<string, FunctionInfo>(functions.items.map((f) => [f.name, f])) : null),
    [functions],
  );

  const apply = useCallback(
    (label: string, change: (w: Workflow) => string | { text: string; pointer?: string | null }) =>
      state.edit(label, (text) => {
        // The graph shown is the last one that parsed: it is no base for an edit.
        if (parse(text).errors.length) throw new Error("fix the YAML first: it does not parse");
        return change({ text, base });
      }),
    [state, base],
  );

  const addInList = useCallback(
    (list: string, index: number | null, task: NewTask) => {
      const at = index ?? state.graph.lists.get(list)?.tasks.length ?? 0;
      apply(`add ${task.kind}`, (w) => insertTask(w, list, at, task.kind, { functionName: task.functionName }));
    },
    [apply, state.graph],
  );
  const addOnEdge = useCallback(
    (edge: FlowEdge, task: NewTask) => apply(`add ${task.kind}`, (w) => insertOnEdge(w, edge, task.kind, { functionName: task.functionName })),
    [apply],
  );
  const addAfterSelection = useCallback(
    (task: NewTask) => {
      const selected = state.selection ? state.graph.tasks.get(state.selection) : null;
      if (selected) addInList(selected.list, selected.index + 1, task);
      else addInList(state.graph.root, null, task);
    },
    [addInList, state.graph, state.selection],
  );
  const move = useCallback(
    (pointer: string, list: string, index: number | null) => {
      const at = index ?? state.graph.lists.get(list)?.tasks.length ?? 0;
      apply("move", (w) => moveTask(w, pointer, list, at));
    },
    [apply, state.graph],
  );

  const jump = useCallback(
    (problem: PlacedProblem) => {
      if (problem.task) state.select(problem.task);
      if (problem.line) textPane.current?.goToLine(problem.line);
    },
    [state],
  );

  useEditorKeys(state, apply, clipboard, setClipboard, base);
  useTaskInUrl(state.selection, state.select);

  const save = useCallback(async () => {
    if (app && source) {
      const saved = await client.saveWorkflow(app, state.text, source.commit);
      setSource(saved);
      dropDraft(app);
      return app;
    }
    const created = await client.createApp(state.text);
    dropDraft(null);
    setApp(created.name);
    window.history.replaceState(null, "", appPath(created.name));
    setSource(await client.getWorkflow(created.name));
    return created.name;
  }, [app, source, client, state.text]);

  const selected = state.selection ? state.graph.tasks.get(state.selection) ?? null : null;
  const blocked = state.parseError
    ? "Fix the YAML first: it does not parse."
    : problems.length
      ? `Fix the ${problems.length} problem${problems.length > 1 ? "s" : ""} first.`
      : null;

  return (
    <main className="editor" data-app={app ?? ""}>
      <div className="editor-bar">
        <h1>{app ?? "New workflow"}</h1>
        <div role="toolbar" aria-label="Edit">
          <button type="button" onClick={state.undo} disabled={!state.canUndo} aria-keyshortcuts="Control+Z">
            Undo
          </button>
          <button type="button" onClick={state.redo} disabled={!state.canRedo} aria-keyshortcuts="Control+Shift+Z">
            Redo
          </button>
        </div>
        <span className="hint" data-layout-ms={layoutMs ?? ""}>
          {state.graph.tasks.size} tasks{layoutMs !== null ? ` · laid out in ${Math.round(layoutMs)} ms` : ""}
        </span>
      </div>
      {notice && (
        <Banner kind="info">
          {notice}{" "}
          <button type="button" className="link-button" onClick={() => setNotice(null)}>
            Dismiss
          </button>
        </Banner>
      )}
      {failure && <Banner kind="error">{failure}</Banner>}
      {validation.error && <Banner kind="warning">Validation is not available now: {validation.error}</Banner>}
      {state.editError && <Banner kind="error">{state.editError}</Banner>}
      {state.parseError && (
        <Banner kind="error">
          <span data-parse-error>
            The YAML does not parse{state.parseError.line ? ` (line ${state.parseError.line})` : ""}: {state.parseError.message}. The graph shows the last
            version that did.
          </span>
        </Banner>
      )}
      <div className="editor-grid">
        <Palette functions={functions?.items ?? []} onAdd={addAfterSelection} />
        <Canvas
          graph={state.graph}
          stale={Boolean(state.parseError)}
          selection={state.selection}
          problemCounts={counts}
          functions={functionMap}
          onSelect={state.select}
          onAddOnEdge={addOnEdge}
          onAddInList={addInList}
          onMove={move}
          onLayout={(ms) => setLayoutMs(ms)}
        />
        <div className="side">
          <TextPane
            ref={textPane}
            text={state.text}
            problems={problems}
            parseErrorLine={state.parseError?.line ?? null}
            onType={state.type}
            onUndo={state.undo}
            onRedo={state.redo}
          />
          {selected && (
            <Inspector
              task={selected}
              graph={state.graph}
              workflow={{ text: state.text, base }}
              problems={problems}
              functions={functions}
              clipboard={clipboard}
              apply={apply}
              onCopy={setClipboard}
              onCreateFunction={async (name, runtime) => {
                if (!app) return setFailure("Deploy the workflow as an app first; then its functions get folders.");
                const inManifest = source?.file === "flowapp.yaml";
                if (inManifest && state.text !== source?.text) {
                  return setFailure("Save and deploy your changes first: the function is declared in flowapp.yaml, which holds this workflow.");
                }
                try {
                  setFunctions(await client.createFunction(app, name, runtime));
                  const updated = await client.getWorkflow(app);
                  setSource(updated);
                  if (inManifest) state.edit(`declare function ${name}`, () => updated.text);
                  setValidationRound((round) => round + 1);
                  setNotice(`Created functions/${name} (${runtime}) in a commit of ${app}.`);
                } catch (error) {
                  setFailure(describeError(error));
                }
              }}
            />
          )}
        </div>
      </div>
      <div className="editor-bottom">
        <ProblemsList problems={problems} checking={validation.checking} onJump={jump} />
        <DeployPanel app={app} text={state.text} blocked={blocked} save={save} onDeployed={() => void loadFunctions()} />
      </div>
    </main>
  );
}

/** ``?task=<pointer>`` in the address: selects that task when the page opens, and
 * follows the selection (replacing the history entry: selecting is not navigating). */
function useTaskInUrl(selection: string | null, select: (pointer: string | null) => void) {
  useEffect(() => {
    const opened = new URLSearchParams(window.location.search).get("task");
    if (opened) select(opened);
  }, [select]);
  useEffect(() => {
    const url = new URL(window.location.href);
    if (selection) url.searchParams.set("task", selection);
    else url.searchParams.delete("task");
    window.history.replaceState(null, "", url.pathname + url.search);
  }, [selection]);
}

/** Undo/redo, copy/paste and delete from the keyboard, when the focus is not in a field
 * (the text editor and the form fields handle their own keys). */
function useEditorKeys(
  state: ReturnType<typeof useWorkflow>,
  apply: (label: string, change: (w: Workflow) => string | { text: string; pointer?: string | null }) => void,
  clipboard: string | null,
  setClipboard: (text: string) => void,
  base: (string | number)[],
) {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement;
      if (target.closest("input, textarea, select, .cm-editor")) return;
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      const selected = state.selection ? state.graph.tasks.get(state.selection) : null;
      if (mod && key === "z") {
        event.preventDefault();
        if (event.shiftKey) state.redo();
        else state.undo();
      } else if (mod && key === "y") {
        event.preventDefault();
        state.redo();
      } else if (mod && key === "c" && selected) {
        setClipboard(copyTask({ text: state.text, base }, selected.id));
      } else if (mod && key === "v" && clipboard) {
        const list = selected?.list ?? state.graph.root;
        const index = selected ? selected.index + 1 : (state.graph.lists.get(list)?.tasks.length ?? 0);
        apply("paste", (w) => pasteTask(w, list, index, clipboard));
      } else if ((event.key === "Delete" || event.key === "Backspace") && selected) {
        apply(`delete ${selected.name}`, (w) => ({ text: deleteTask(w, selected.id), pointer: null }));
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [state, apply, clipboard, setClipboard, base]);
}
