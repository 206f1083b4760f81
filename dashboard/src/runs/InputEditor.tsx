// An execution's input: JSON text, or a form built from the workflow's `input.schema`
// when it describes an object of properties. The JSON text is what is sent; the form
// rewrites it property by property, so switching between the two loses nothing.

import { useEffect, useMemo, useState } from "react";
import { fieldsOf, fieldText, fieldValue, missingRequired, withProperty, type InputField } from "./schemaForm";

export function InputEditor(props: {
  id: string;
  label: string;
  value: string;
  onChange(text: string): void;
  schema: Record<string, unknown> | null;
}) {
  const fields = useMemo(() => fieldsOf(props.schema), [props.schema]);
  const [mode, setMode] = useState<"form" | "json">(fields ? "form" : "json");
  useEffect(() => setMode(fields ? "form" : "json"), [fields]);
  const missing = fields ? missingRequired(fields, props.value) : [];
  return (
    <div className="input-editor" data-input-mode={mode}>
      <div className="input-editor-head">
        <span id={`${props.id}-label`} className="input-label">
          {props.label}
        </span>
        {fields && (
          <span role="group" aria-label={`${props.label}: edit as`} className="input-modes">
            <button type="button" aria-pressed={mode === "form"} onClick={() => setMode("form")}>
              Form
            </button>
            <button type="button" aria-pressed={mode === "json"} onClick={() => setMode("json")}>
              JSON
            </button>
          </span>
        )}
      </div>
      {mode === "json" || !fields ? (
        <textarea
          id={props.id}
          aria-labelledby={`${props.id}-label`}
          rows={5}
          value={props.value}
          onChange={(event) => props.onChange(event.target.value)}
          spellCheck={false}
        />
      ) : (
        <SchemaFields id={props.id} fields={fields} value={props.value} onChange={props.onChange} />
      )}
      {missing.length > 0 && <p className="hint">Required by the workflow's input schema: {missing.join(", ")}</p>}
    </div>
  );
}

function SchemaFields(props: { id: string; fields: InputField[]; value: string; onChange(text: string): void }) {
  const current = useMemo(() => {
    try {
      const parsed = JSON.parse(props.value || "{}");
      return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }, [props.value]);
  const [texts, setTexts] = useState<Record<string, string>>(() =>
    Object.fromEntries(props.fields.map((f) => [f.name, fieldText(f, current[f.name])])),
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const change = (field: InputField, text: string) => {
    setTexts((t) => ({ ...t, [field.name]: text }));
    try {
      const value = fieldValue(field, text);
      setErrors((e) => ({ ...e, [field.name]: "" }));
      props.onChange(withProperty(props.value, field.name, value));
    } catch (failure) {
      setErrors((e) => ({ ...e, [field.name]: (failure as Error).message }));
    }
  };
  return (
    <div className="schema-fields" role="group" aria-labelledby={`${props.id}-label`}>
      {props.fields.map((field) => {
        const id = `${props.id}-${field.name}`;
        const text = texts[field.name] ?? "";
        const label = `${field.name}${field.required ? " (required)" : ""}`;
        return (
          <div key={field.name} className="field" data-input-field={field.name}>
            {field.kind === "boolean" ? (
              <label className="field check">
                <input
                  type="checkbox"
                  checked={text === "true"}
                  onChange={(event) => change(field, event.target.checked ? "true" : "false")}
                />
                {label}
              </label>
            ) : (
              <>
                <label htmlFor={id}>{label}</label>
                {field.kind === "enum" ? (
                  <select id={id} value={text} onChange={(event) => change(field, event.target.value)}>
                    <option value="">—</option>
                    {(field.options ?? []).map((option) => (
                      <option key={JSON.stringify(option)} value={JSON.stringify(option)}>
                        {typeof option === "string" ? option : JSON.stringify(option)}
                      </option>
                    ))}
                  </select>
                ) : field.kind === "json" ? (
                  <textarea id={id} rows={2} value={text} onChange={(event) => change(field, event.target.value)} spellCheck={false} />
                ) : (
                  <input
                    id={id}
                    type="text"
                    inputMode={field.kind === "string" ? undefined : "decimal"}
                    value={text}
                    aria-invalid={!!errors[field.name]}
                    onChange={(event) => change(field, event.target.value)}
                  />
                )}
              </>
            )}
            {field.description && <span className="hint">{field.description}</span>}
            {errors[field.name] && <span className="field-problems">{errors[field.name]}</span>}
          </div>
        );
      })}
    </div>
  );
}
