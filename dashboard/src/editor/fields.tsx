// Form fields of the task settings. Each commits on Enter or when it loses focus, so a
// field edit is one undoable step; problems the server found at the field's pointer
// are shown under it (jq syntax included: the server compiles every expression).

import { useEffect, useId, useState } from "react";
import { parse as parseYaml, stringify } from "yaml";
import type { PlacedProblem } from "../graph/problems";

interface FieldProps<T> {
  label: string;
  value: T | undefined;
  onCommit(value: T | undefined): void;
  problems?: PlacedProblem[];
  hint?: string;
}

function Problems(props: { id: string; problems?: PlacedProblem[]; local?: string | null }) {
  const messages = [...(props.local ? [props.local] : []), ...(props.problems ?? []).map((p) => p.message)];
  if (!messages.length) return null;
  return (
    <ul className="field-problems" id={props.id} role="alert">
      {messages.map((message, index) => (
        <li key={index}>{message}</li>
      ))}
    </ul>
  );
}

export function TextField(
  props: FieldProps<string> & { check?: (value: string) => string | null; multiline?: boolean; name?: string; suggestions?: string[] },
) {
  const id = useId();
  const shown = props.value === undefined ? "" : String(props.value);
  const [draft, setDraft] = useState(shown);
  useEffect(() => setDraft(shown), [shown]);
  const local = draft && props.check ? props.check(draft) : null;
  const commit = () => {
    if (draft === shown) return;
    props.onCommit(draft === "" ? undefined : draft);
  };
  const common = {
    id,
    name: props.name,
    value: draft,
    "aria-invalid": Boolean(local || props.problems?.length) || undefined,
    "aria-describedby": `${id}-problems`,
    onChange: (event: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => setDraft(event.target.value),
    onBlur: commit,
  };
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      {props.multiline ? (
        <textarea {...common} rows={3} spellCheck={false} />
      ) : (
        <input
          {...common}
          type="text"
          spellCheck={false}
          list={props.suggestions ? `${id}-suggestions` : undefined}
          onKeyDown={(event) => event.key === "Enter" && commit()}
        />
      )}
      {props.suggestions && (
        <datalist id={`${id}-suggestions`}>
          {props.suggestions.map((value) => (
            <option key={value} value={value} />
          ))}
        </datalist>
      )}
      {props.hint && <span className="hint">{props.hint}</span>}
      <Problems id={`${id}-problems`} problems={props.problems} local={local} />
    </div>
  );
}

/** A jq expression: bare (as in `when`, `if`, `for.in`) or `${ ... }` in any other field. */
export function JqField(props: FieldProps<string>) {
  return <TextField {...props} check={jqShape} hint={props.hint ?? "a jq expression"} />;
}

function jqShape(value: string): string | null {
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth--;
    if (depth < 0) return "a closing bracket has no opening one";
  }
  if (quoted) return "a string is not closed";
  if (depth > 0) return "a bracket is not closed";
  return null;
}

const ISO_DURATION = /^P(?!$)(\d+(\.\d+)?D)?(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$/;

/** A duration: ISO 8601 (PT30S) or the DSL's object ({seconds: 30}). */
export function DurationField(props: FieldProps<unknown>) {
  const text = typeof props.value === "string" ? props.value : props.value === undefined ? "" : stringify(props.value, { collectionStyle: "flow" }).trim();
  return (
    <TextField
      label={props.label}
      value={text}
      problems={props.problems}
      hint="ISO 8601, e.g. PT30S, or {seconds: 30}"
      check={(value) => (ISO_DURATION.test(value) || /^\{.*\}$/.test(value) ? null : "not an ISO 8601 duration (e.g. PT1M30S)")}
      onCommit={(value) => props.onCommit(value === undefined ? undefined : value.startsWith("{") ? parseYaml(value) : value)}
    />
  );
}

export function NumberField(props: FieldProps<number>) {
  return (
    <TextField
      label={props.label}
      value={props.value === undefined ? undefined : String(props.value)}
      problems={props.problems}
      check={(value) => (Number.isFinite(Number(value)) ? null : "not a number")}
      onCommit={(value) => props.onCommit(value === undefined ? undefined : Number(value))}
    />
  );
}

/** Any YAML value (a mapping of arguments, a `set` body ...). */
export function YamlField(props: FieldProps<unknown>) {
  const text = props.value === undefined ? "" : stringify(props.value, { lineWidth: 0 }).trimEnd();
  let local: string | null = null;
  return (
    <TextField
      label={props.label}
      value={text}
      multiline
      problems={props.problems}
      hint={props.hint ?? "YAML"}
      check={(value) => {
        try {
          parseYaml(value);
          local = null;
        } catch (error) {
          local = (error as Error).message.split("\n")[0];
        }
        return local;
      }}
      onCommit={(value) => {
        if (value === undefined) return props.onCommit(undefined);
        try {
          props.onCommit(parseYaml(value));
        } catch {
          // shown under the field; nothing is written
        }
      }}
    />
  );
}

export function SelectField(props: FieldProps<string> & { options: { value: string; label: string }[] }) {
  const id = useId();
  const value = props.value ?? "";
  const options = props.options.some((o) => o.value === value) ? props.options : [{ value, label: value || "(none)" }, ...props.options];
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <select id={id} value={value} onChange={(event) => props.onCommit(event.target.value || undefined)} aria-describedby={`${id}-problems`}>
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      <Problems id={`${id}-problems`} problems={props.problems} />
    </div>
  );
}

export function CheckField(props: FieldProps<boolean>) {
  const id = useId();
  return (
    <div className="field check">
      <input id={id} type="checkbox" checked={Boolean(props.value)} onChange={(event) => props.onCommit(event.target.checked || undefined)} />
      <label htmlFor={id}>{props.label}</label>
    </div>
  );
}
