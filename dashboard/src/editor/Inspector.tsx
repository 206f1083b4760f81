// The selected task: its name, its settings (a form for its kind, or its raw YAML), the
// common settings (if, then, output), its function (runtime, code, clone command), and
// the actions a keyboard reaches as well as a mouse: move, copy, paste, delete.

import { useEffect, useId, useState } from "react";
import type { FunctionInfo, FunctionsView } from "../api/types";
import {
  copyTask,
  deleteTask,
  moveTask,
  pasteTask,
  renameTask,
  replaceTaskDefinition,
  setTaskField,
  taskDefinitionText,
  type Workflow,
} from "../graph/edits";
import { KIND_LABELS } from "../graph/kinds";
import type { TaskNode, WorkflowGraph } from "../graph/model";
import { joinPointer } from "../graph/pointer";
import { problemsAt, type PlacedProblem } from "../graph/problems";
import { JqField, SelectField, TextField } from "./fields";
import { flowOptions, KindForm } from "./forms";

type Apply = (label: string, change: (w: Workflow) => string | { text: string; pointer?: string | null }) => void;

interface Props {
  task: TaskNode;
  graph: WorkflowGraph;
  workflow: Workflow;
  problems: PlacedProblem[];
  functions: FunctionsView | null;
  clipboard: string | null;
  apply: Apply;
  onCopy(text: string): void;
  onCreateFunction(name: string, runtime: string): Promise<void>;
}

export function Inspector(props: Props) {
  const { task } = props;
  const [tab, setTab] = useState<"form" | "yaml">("form");
  const set = (path: (string | number)[], value: unknown) =>
    props.apply(`set ${path.join(".")} of ${task.name}`, (w) => setTaskField(w, task.id, path, value));
  const field = (path: (string | number)[]) => ({
    value: props.task.definition[path[0] as string] as string | undefined,
    problems: problemsAt(props.problems, joinPointer(task.id, ...path)),
    onCommit: (value: unknown) => set(path, value),
  });
  const list = props.graph.lists.get(task.list)!;
  const call = task.kind === "call" && typeof task.definition.call === "string" ? task.definition.call : null;
  const info = call ? props.functions?.items.find((f) => f.name === call) ?? null : null;

  return (
    <section className="inspector" aria-label={`Task ${task.name}`} data-inspector={task.id}>
      <header>
        <h2>
          {KIND_LABELS[task.kind]} <code>{task.name}</code>
        </h2>
        <code className="pointer">{task.id}</code>
      </header>
      <RenameField
        name={task.name}
        onRename={(name) => props.apply(`rename ${task.name}`, (w) => renameTask(w, task.id, name))}
      />
      <div className="actions" role="group" aria-label="Task actions">
        <button type="button" disabled={task.index === 0} onClick={() => props.apply(`move ${task.name} up`, (w) => moveTask(w, task.id, task.list, task.index - 1))}>
          Move up
        </button>
        <button
          type="button"
          disabled={task.index === list.tasks.length - 1}
          onClick={() => props.apply(`move ${task.name} down`, (w) => moveTask(w, task.id, task.list, task.index + 2))}
        >
          Move down
        </button>
        <button type="button" onClick={() => props.onCopy(copyTask(props.workflow, task.id))}>
          Copy
        </button>
        <button
          type="button"
          disabled={!props.clipboard}
          onClick={() => props.apply("paste", (w) => pasteTask(w, task.list, task.index + 1, props.clipboard!))}
        >
          Paste after
        </button>
        <button type="button" className="danger" onClick={() => props.apply(`delete ${task.name}`, (w) => ({ text: deleteTask(w, task.id), pointer: null }))}>
          Delete
        </button>
      </div>
      {call && info !== undefined && (
        <FunctionPanel name={call} info={info} functions={props.functions} onCreate={props.onCreateFunction} />
      )}
      <div className="tabs" role="tablist" aria-label="Settings view">
        <button type="button" role="tab" aria-selected={tab === "form"} onClick={() => setTab("form")}>
          Settings
        </button>
        <button type="button" role="tab" aria-selected={tab === "yaml"} onClick={() => setTab("yaml")}>
          YAML
        </button>
      </div>
      {tab === "form" ? (
        <div role="tabpanel" aria-label="Settings" className="form">
          <KindForm task={task} graph={props.graph} functions={props.functions?.items ?? []} problems={props.problems} set={set} />
          <fieldset>
            <legend>Flow</legend>
            <JqField label="Run only if" {...field(["if"])} />
            <SelectField label="Then" options={flowOptions(task, props.graph)} {...field(["then"])} />
            <JqField
              label="Output as"
              value={(task.definition.output as Record<string, string> | undefined)?.as}
              problems={problemsAt(props.problems, joinPointer(task.id, "output"))}
              onCommit={(value) => set(["output", "as"], value)}
            />
          </fieldset>
        </div>
      ) : (
        <RawYaml key={task.id + props.workflow.text.length} task={task} workflow={props.workflow} apply={props.apply} />
      )}
    </section>
  );
}

function RenameField(props: { name: string; onRename(name: string): void }) {
  return <TextField label="Name" name="task-name" value={props.name} onCommit={(value) => value && value !== props.name && props.onRename(value)} />;
}

function RawYaml(props: { task: TaskNode; workflow: Workflow; apply: Apply }) {
  const id = useId();
  const original = taskDefinitionText(props.workflow, props.task.id);
  const [text, setText] = useState(original);
  useEffect(() => setText(original), [original]);
  return (
    <div role="tabpanel" aria-label="YAML" className="raw-yaml">
      <label htmlFor={id}>This task's YAML</label>
      <textarea id={id} value={text} rows={12} spellCheck={false} onChange={(event) => setText(event.target.value)} />
      <button
        type="button"
        disabled={text === original}
        onClick={() => props.apply(`edit ${props.task.name} as YAML`, (w) => replaceTaskDefinition(w, props.task.id, text))}
      >
        Apply YAML
      </button>
    </div>
  );
}

function FunctionPanel(props: {
  name: string;
  info: FunctionInfo | null;
  functions: FunctionsView | null;
  onCreate(name: string, runtime: string): Promise<void>;
}) {
  const [runtime, setRuntime] = useState("python");
  const [busy, setBusy] = useState(false);
  const id = useId();
  if (!props.functions) return null;
  const builtin = ["http", "openapi", "grpc", "asyncapi"].includes(props.name);
  if (builtin) return null;
  return (
    <div className="function-panel" data-function={props.name}>
      <h3>Function {props.name}</h3>
      {props.info?.has_code ? (
        <p>
          Runtime <strong>{props.info.runtime}</strong>, code in <code>{props.info.path}</code>.
        </p>
      ) : (
        <>
          <p className="no-code" role="status">
            {props.info?.declared ? "Its folder has no code yet." : "The app has no function of this name yet."}
          </p>
          <label htmlFor={id}>Runtime</label>{" "}
          <select id={id} value={runtime} onChange={(event) => setRuntime(event.target.value)}>
            {props.functions.runtimes.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>{" "}
          <button
            type="button"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              try {
                await props.onCreate(props.name, runtime);
              } finally {
                setBusy(false);
              }
            }}
          >
            Create functions/{props.name} from the template
          </button>
        </>
      )}
      <p className="hint">
        Its code lives in the app's repository: <code>git clone {props.functions.clone_url}</code>
      </p>
    </div>
  );
}
