// The settings form of each task kind. A field is a path inside the task's definition;
// committing it patches that path in the YAML text (setTaskField).

import type { FunctionInfo } from "../api/types";
import type { TaskNode, WorkflowGraph } from "../graph/model";
import { joinPointer } from "../graph/pointer";
import { problemsAt, type PlacedProblem } from "../graph/problems";
import type { Path } from "../graph/textedit";
import { CheckField, DurationField, JqField, NumberField, SelectField, TextField, YamlField } from "./fields";

export interface FormProps {
  task: TaskNode;
  graph: WorkflowGraph;
  functions: FunctionInfo[];
  problems: PlacedProblem[];
  set(path: Path, value: unknown): void;
}

const BUILTIN_CALLS = ["http", "openapi", "grpc", "asyncapi"];

function get(value: unknown, path: Path): unknown {
  return path.reduce<unknown>((node, key) => (node && typeof node === "object" ? (node as Record<string | number, unknown>)[key] : undefined), value);
}

function at(props: FormProps, path: Path) {
  return {
    value: get(props.task.definition, path) as never,
    problems: problemsAt(props.problems, joinPointer(props.task.id, ...path)),
    onCommit: (value: unknown) => props.set(path, value),
  };
}

function str(props: FormProps, path: Path) {
  const field = at(props, path);
  const value = get(props.task.definition, path);
  return { ...field, value: value === undefined ? undefined : typeof value === "string" ? value : JSON.stringify(value) };
}

export function flowOptions(task: TaskNode, graph: WorkflowGraph) {
  const siblings = (graph.lists.get(task.list)?.tasks ?? []).map((id) => graph.tasks.get(id)!.name).filter((name) => name !== task.name);
  return [
    { value: "", label: "next task (default)" },
    { value: "continue", label: "continue" },
    { value: "exit", label: "exit (leave this list)" },
    { value: "end", label: "end (the workflow ends)" },
    ...siblings.map((name) => ({ value: name, label: `then ${name}` })),
  ];
}

export function KindForm(props: FormProps) {
  switch (props.task.kind) {
    case "call":
      return <CallForm {...props} />;
    case "set":
      return <YamlField label="Values to set" hint="a mapping; values may be ${ jq }" {...at(props, ["set"])} />;
    case "switch":
      return <SwitchForm {...props} />;
    case "for":
      return (
        <>
          <TextField label="Each item is named" {...str(props, ["for", "each"])} />
          <JqField label="In (the collection)" {...str(props, ["for", "in"])} />
          <TextField label="Index is named" {...str(props, ["for", "at"])} />
          <JqField label="While" {...str(props, ["while"])} />
        </>
      );
    case "fork":
      return <CheckField label="Compete (the first branch to finish wins)" {...at(props, ["fork", "compete"])} />;
    case "try":
      return <TryForm {...props} />;
    case "wait":
      return <DurationField label="Wait for" {...at(props, ["wait"])} />;
    case "listen":
      return <TextField label="Event type (to one)" {...str(props, ["listen", "to", "one", "with", "type"])} />;
    case "emit":
      return (
        <>
          <TextField label="Event type" {...str(props, ["emit", "event", "with", "type"])} />
          <TextField label="Event source" {...str(props, ["emit", "event", "with", "source"])} />
          <YamlField label="Event data" {...at(props, ["emit", "event", "with", "data"])} />
        </>
      );
    case "raise":
      return (
        <>
          <TextField label="Error type (URI)" {...str(props, ["raise", "error", "type"])} />
          <NumberField label="Error status" {...at(props, ["raise", "error", "status"])} />
          <TextField label="Error title" {...str(props, ["raise", "error", "title"])} />
          <TextField label="Error detail" {...str(props, ["raise", "error", "detail"])} />
        </>
      );
    case "run":
      return (
        <>
          <TextField label="Shell command" {...str(props, ["run", "shell", "command"])} />
          <TextField label="Sub-workflow name" {...str(props, ["run", "workflow", "name"])} />
        </>
      );
    default:
      return <p className="hint">This task's kind is not known: edit it in the YAML tab.</p>;
  }
}

function CallForm(props: FormProps) {
  const call = String(props.task.definition.call ?? "");
  const suggestions = [...props.functions.map((f) => f.name), ...BUILTIN_CALLS];
  return (
    <>
      <TextField
        label="Function"
        name="call"
        hint="one of the app's functions, a new function's name, or http, openapi …"
        suggestions={suggestions}
        {...str(props, ["call"])}
      />
      {call === "http" ? (
        <>
          <SelectField
            label="Method"
            options={["get", "post", "put", "patch", "delete"].map((m) => ({ value: m, label: m.toUpperCase() }))}
            {...str(props, ["with", "method"])}
          />
          <TextField label="Endpoint" {...str(props, ["with", "endpoint"])} />
          <YamlField label="Body" {...at(props, ["with", "body"])} />
        </>
      ) : (
        <YamlField label="Arguments (with)" hint="a mapping; omit to pass the task's input" {...at(props, ["with"])} />
      )}
    </>
  );
}

function SwitchForm(props: FormProps) {
  const cases = Array.isArray(props.task.definition.switch) ? (props.task.definition.switch as Record<string, Record<string, unknown>>[]) : [];
  const options = flowOptions(props.task, props.graph);
  return (
    <fieldset className="cases">
      <legend>Cases (the first whose `when` holds is taken)</legend>
      {cases.map((entry, index) => {
        const name = Object.keys(entry ?? {})[0] ?? `case${index}`;
        return (
          <div className="case" key={`${index}-${name}`} data-case={name}>
            <strong>{name}</strong>
            <JqField label={`When (${name})`} hint="empty: the default case" {...str(props, ["switch", index, name, "when"])} />
            <SelectField label={`Then (${name})`} options={options} {...str(props, ["switch", index, name, "then"])} />
            <button type="button" onClick={() => props.set(["switch"], cases.filter((_, i) => i !== index))}>
              Remove case {name}
            </button>
          </div>
        );
      })}
      <button
        type="button"
        onClick={() => {
          const taken = new Set(cases.map((entry) => Object.keys(entry ?? {})[0]));
          let n = cases.length + 1;
          while (taken.has(`case${n}`)) n++;
          props.set(["switch", cases.length], { [`case${n}`]: { when: ". != null", then: "continue" } });
        }}
      >
        Add a case
      </button>
    </fieldset>
  );
}

function TryForm(props: FormProps) {
  const backoff = get(props.task.definition, ["catch", "retry", "backoff"]);
  const backoffKind = backoff && typeof backoff === "object" ? Object.keys(backoff)[0] : "";
  return (
    <>
      <NumberField label="Catch errors with status" {...at(props, ["catch", "errors", "with", "status"])} />
      <TextField label="Catch errors of type (URI)" {...str(props, ["catch", "errors", "with", "type"])} />
      <TextField label="The error is named" {...str(props, ["catch", "as"])} />
      <JqField label="Catch when" {...str(props, ["catch", "when"])} />
      <fieldset>
        <legend>Retry policy</legend>
        <DurationField label="Retry delay" {...at(props, ["catch", "retry", "delay"])} />
        <SelectField
          label="Backoff"
          options={[
            { value: "", label: "none" },
            { value: "constant", label: "constant" },
            { value: "linear", label: "linear" },
            { value: "exponential", label: "exponential" },
          ]}
          value={backoffKind}
          problems={problemsAt(props.problems, joinPointer(props.task.id, "catch", "retry", "backoff"))}
          onCommit={(kind) => props.set(["catch", "retry", "backoff"], kind ? { [kind]: {} } : undefined)}
        />
        <NumberField label="Retry at most (attempts)" {...at(props, ["catch", "retry", "limit", "attempt", "count"])} />
      </fieldset>
    </>
  );
}
